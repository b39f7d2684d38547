package storagetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/arcakms/arca/internal/storage"
)

// testGetMissing: a key that was never written is ErrNotFound, whether or not
// its namespace has ever been written.
func testGetMissing(t *testing.T, s storage.Store) {
	wantMissing(t, s, nsFresh, "nope")
	put(t, s, nsA, "present", []byte("v"))
	wantMissing(t, s, nsA, "nope")
	wantMissing(t, s, nsA, "presen")
	wantMissing(t, s, nsA, "present2")
}

// testCreateThenGet: Create starts a key at revision 1 and Get returns it.
func testCreateThenGet(t *testing.T, s storage.Store) {
	update(t, s, func(tx storage.Tx) error {
		rev, err := tx.Create(nsA, "k", []byte("hello"))
		if err != nil {
			return err
		}
		if rev != 1 {
			t.Errorf("Create returned revision %d, want 1", rev)
		}
		return nil
	})
	it := mustGet(t, s, nsA, "k")
	if it.Key != "k" || string(it.Value) != "hello" || it.Revision != 1 {
		t.Fatalf("Get = {%q %q %d}, want {k hello 1}", it.Key, it.Value, it.Revision)
	}
}

// testCreateExisting: a second Create of a key fails with ErrExists and
// changes nothing, in a later transaction or in the same one.
func testCreateExisting(t *testing.T, s storage.Store) {
	update(t, s, func(tx storage.Tx) error {
		_, err := tx.Create(nsA, "k", []byte("first"))
		return err
	})
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Create(nsA, "k", []byte("second"))
		return err
	})
	wantErr(t, "second Create", err, storage.ErrExists)

	err = s.Update(t.Context(), func(tx storage.Tx) error {
		if _, err := tx.Create(nsA, "same-tx", []byte("first")); err != nil {
			t.Errorf("Create: %v", err)
		}
		_, err := tx.Create(nsA, "same-tx", []byte("second"))
		return err
	})
	wantErr(t, "second Create in the same transaction", err, storage.ErrExists)

	it := mustGet(t, s, nsA, "k")
	if string(it.Value) != "first" || it.Revision != 1 {
		t.Fatalf("after failed Create: value %q revision %d, want first 1", it.Value, it.Revision)
	}
}

// testPut: Put creates a missing key at revision 1 and gives every later
// write a new revision.
func testPut(t *testing.T, s storage.Store) {
	seen := map[uint64]bool{}
	for i, v := range []string{"one", "two", "three", "three"} {
		rev := put(t, s, nsA, "k", []byte(v))
		if i == 0 && rev != 1 {
			t.Fatalf("Put of a new key returned revision %d, want 1", rev)
		}
		if rev == 0 || seen[rev] {
			t.Fatalf("Put #%d returned revision %d, seen before or zero (%v)", i+1, rev, seen)
		}
		seen[rev] = true
		it := mustGet(t, s, nsA, "k")
		if string(it.Value) != v || it.Revision != rev {
			t.Fatalf("after Put #%d: Get = %q rev %d, want %q rev %d", i+1, it.Value, it.Revision, v, rev)
		}
	}
}

// testCompareAndSwap: CAS writes only at the current revision, reports a
// stale or wrong revision as ErrConflict and a missing key as ErrNotFound.
func testCompareAndSwap(t *testing.T, s storage.Store) {
	r1 := put(t, s, nsA, "k", []byte("v1"))
	cas := func(key string, value string, rev uint64) (uint64, error) {
		var got uint64
		err := s.Update(t.Context(), func(tx storage.Tx) (err error) {
			got, err = tx.CompareAndSwap(nsA, key, []byte(value), rev)
			return err
		})
		return got, err
	}

	_, err := cas("k", "wrong", r1+100)
	wantErr(t, "CAS with a wrong revision", err, storage.ErrConflict)
	if it := mustGet(t, s, nsA, "k"); string(it.Value) != "v1" || it.Revision != r1 {
		t.Fatalf("failed CAS changed the record: %q rev %d", it.Value, it.Revision)
	}

	r2, err := cas("k", "v2", r1)
	if err != nil {
		t.Fatalf("CAS with the current revision: %v", err)
	}
	if r2 == 0 || r2 == r1 {
		t.Fatalf("CAS returned revision %d after %d, want a new one", r2, r1)
	}
	if it := mustGet(t, s, nsA, "k"); string(it.Value) != "v2" || it.Revision != r2 {
		t.Fatalf("after CAS: %q rev %d, want v2 rev %d", it.Value, it.Revision, r2)
	}

	_, err = cas("k", "stale", r1)
	wantErr(t, "CAS with a stale revision", err, storage.ErrConflict)

	_, err = cas("missing", "v", 1)
	wantErr(t, "CAS on a missing key", err, storage.ErrNotFound)
	_, err = cas("missing", "v", 0)
	wantErr(t, "CAS on a missing key at revision 0", err, storage.ErrNotFound)
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		_, err := tx.CompareAndSwap(nsFresh, "k", []byte("v"), 1)
		return err
	})
	wantErr(t, "CAS in an unwritten namespace", err, storage.ErrNotFound)
	wantMissing(t, s, nsA, "missing")
}

// testDelete: Delete removes a key; deleting a missing key is ErrNotFound; a
// deleted key can be created again.
func testDelete(t *testing.T, s storage.Store) {
	put(t, s, nsA, "k", []byte("v"))
	put(t, s, nsA, "other", []byte("v"))
	del := func(ns storage.Namespace, key string) error {
		return s.Update(t.Context(), func(tx storage.Tx) error { return tx.Delete(ns, key) })
	}
	if err := del(nsA, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, nsA, "k")
	mustGet(t, s, nsA, "other")
	if page := list(t, s, nsA, storage.ListOptions{}); len(page.Items) != 1 || page.Items[0].Key != "other" {
		t.Fatalf("List after Delete = %v, want only other", keysOf(page))
	}

	wantErr(t, "Delete of a deleted key", del(nsA, "k"), storage.ErrNotFound)
	wantErr(t, "Delete of a never-written key", del(nsA, "never"), storage.ErrNotFound)
	wantErr(t, "Delete in an unwritten namespace", del(nsFresh, "k"), storage.ErrNotFound)

	update(t, s, func(tx storage.Tx) error {
		rev, err := tx.Create(nsA, "k", []byte("again"))
		if err == nil && rev == 0 {
			t.Errorf("re-Create returned revision 0")
		}
		return err
	})
	if it := mustGet(t, s, nsA, "k"); string(it.Value) != "again" {
		t.Fatalf("re-created key has value %q", it.Value)
	}
}

// testNamespaces: the same key in different namespaces (including ones whose
// names share a prefix) are different records.
func testNamespaces(t *testing.T, s storage.Store) {
	put(t, s, nsA, "k", []byte("in alpha"))
	put(t, s, nsAB, "k", []byte("in alphabet"))
	put(t, s, nsAB, "only-ab", []byte("x"))
	put(t, s, nsB, "k", []byte("in beta"))

	for ns, want := range map[storage.Namespace]string{nsA: "in alpha", nsAB: "in alphabet", nsB: "in beta"} {
		if it := mustGet(t, s, ns, "k"); string(it.Value) != want {
			t.Fatalf("Get(%s, k) = %q, want %q", ns, it.Value, want)
		}
	}
	wantMissing(t, s, nsA, "only-ab")
	if got := keysOf(list(t, s, nsA, storage.ListOptions{})); len(got) != 1 || got[0] != "k" {
		t.Fatalf("List(alpha) = %q, want [k]", got)
	}
	if got := keysOf(list(t, s, nsFresh, storage.ListOptions{})); len(got) != 0 {
		t.Fatalf("List of an unwritten namespace = %q, want none", got)
	}

	update(t, s, func(tx storage.Tx) error { return tx.Delete(nsA, "k") })
	wantMissing(t, s, nsA, "k")
	mustGet(t, s, nsAB, "k")
	mustGet(t, s, nsB, "k")
}

// testArbitraryBytes: keys and values are opaque bytes. Keys may hold NUL,
// invalid UTF-8 and control characters; values may be empty (nil or not),
// hold any byte, and be large.
func testArbitraryBytes(t *testing.T, s storage.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	large := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 1<<14) // 288 KiB
	records := map[string][]byte{
		"plain":              []byte("value"),
		"with space":         nil,
		"slash/and:colon":    {},
		"nul\x00inside":      all,
		"\x00":               {0},
		"\xff\xfe\xfd":       []byte("invalid utf-8 key"),
		"ünïcødé ✓":          []byte("ünïcødé value"),
		"\n\t\r":             large,
		string(all[1:]):      []byte("key with every non-NUL byte"),
		string(large[:1000]): []byte("long key"),
	}
	update(t, s, func(tx storage.Tx) error {
		for k, v := range records {
			if _, err := tx.Create(nsA, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	for k, v := range records {
		if it := mustGet(t, s, nsA, k); it.Key != k || !bytes.Equal(it.Value, v) {
			t.Fatalf("Get(%q): key %q, %d value bytes; want %d bytes equal to what was stored", k, it.Key, len(it.Value), len(v))
		}
	}
	page := list(t, s, nsA, storage.ListOptions{Limit: storage.MaxListLimit})
	if len(page.Items) != len(records) {
		t.Fatalf("List returned %d items, want %d", len(page.Items), len(records))
	}
	for _, it := range page.Items {
		if v, ok := records[it.Key]; !ok || !bytes.Equal(it.Value, v) {
			t.Fatalf("List item %q does not match what was stored", it.Key)
		}
	}
	if !sortedStrictly(keysOf(page)) {
		t.Fatalf("List order is not byte-wise ascending: %q", keysOf(page))
	}
}

// errBoom is the error the suite's transaction functions fail with.
var errBoom = errors.New("storagetest: boom")
