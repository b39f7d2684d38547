package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// testCreateThenGet: Create stores a key at a positive revision (not
// necessarily 1) and Get returns it.
func testCreateThenGet(t *testing.T, s storage.Store) {
	var rev uint64
	update(t, s, func(tx storage.Tx) (err error) {
		rev, err = tx.Create(nsA, "k", []byte("hello"))
		return err
	})
	if rev == 0 {
		t.Fatalf("Create returned revision 0")
	}
	it := mustGet(t, s, nsA, "k")
	if it.Key != "k" || string(it.Value) != "hello" || it.Revision != rev {
		t.Fatalf("Get = {%q %q %d}, want {k hello %d}", it.Key, it.Value, it.Revision, rev)
	}
}

// testCreateExisting: a second Create of a key fails with ErrExists and
// changes nothing, in a later transaction or in the same one.
func testCreateExisting(t *testing.T, s storage.Store) {
	var rev uint64
	update(t, s, func(tx storage.Tx) (err error) {
		rev, err = tx.Create(nsA, "k", []byte("first"))
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
	if string(it.Value) != "first" || it.Revision != rev {
		t.Fatalf("after failed Create: value %q revision %d, want first %d", it.Value, it.Revision, rev)
	}
	wantMissing(t, s, nsA, "same-tx")
}

// testPut: Put creates a missing key at a positive revision and moves it to
// a greater revision on every later write, also when the value is unchanged
// and when several writes share a transaction.
func testPut(t *testing.T, s storage.Store) {
	var last uint64
	for i, v := range []string{"one", "two", "three", "three"} {
		rev := put(t, s, nsA, "k", []byte(v))
		if rev <= last {
			t.Fatalf("Put #%d returned revision %d, want more than %d", i+1, rev, last)
		}
		last = rev
		it := mustGet(t, s, nsA, "k")
		if string(it.Value) != v || it.Revision != rev {
			t.Fatalf("after Put #%d: Get = %q rev %d, want %q rev %d", i+1, it.Value, it.Revision, v, rev)
		}
	}
	update(t, s, func(tx storage.Tx) error {
		for i := range 3 {
			rev, err := tx.Put(nsA, "k", []byte("same tx"))
			if err != nil {
				return err
			}
			if rev <= last {
				t.Errorf("Put #%d in one transaction returned revision %d, want more than %d", i+1, rev, last)
			}
			last = rev
		}
		return nil
	})
	if it := mustGet(t, s, nsA, "k"); it.Revision != last {
		t.Fatalf("after Puts in one transaction: revision %d, want %d", it.Revision, last)
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
	if r2 <= r1 {
		t.Fatalf("CAS returned revision %d after %d, want a greater one", r2, r1)
	}
	if it := mustGet(t, s, nsA, "k"); string(it.Value) != "v2" || it.Revision != r2 {
		t.Fatalf("after CAS: %q rev %d, want v2 rev %d", it.Value, it.Revision, r2)
	}

	_, err = cas("k", "stale", r1)
	wantErr(t, "CAS with a stale revision", err, storage.ErrConflict)
	r3, err := cas("k", "v3", r2)
	if err != nil || r3 <= r2 {
		t.Fatalf("second CAS = revision %d, %v; want more than %d", r3, err, r2)
	}
	_, err = cas("k", "stale", r2)
	wantErr(t, "CAS with the previous revision", err, storage.ErrConflict)
	if it := mustGet(t, s, nsA, "k"); string(it.Value) != "v3" || it.Revision != r3 {
		t.Fatalf("after failed CAS: %q rev %d, want v3 rev %d", it.Value, it.Revision, r3)
	}

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
// deleted key can be created again, at a greater revision.
func testDelete(t *testing.T, s storage.Store) {
	old := put(t, s, nsA, "k", []byte("v"))
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
		if err == nil && rev <= old {
			t.Errorf("re-Create returned revision %d, want more than the deleted record's %d", rev, old)
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

// testRevisionsNeverRepeat: a key deleted and created again, in separate
// transactions or in one, gets a revision greater than any it had, so a
// compare-and-swap with a revision read before the Delete fails with
// ErrConflict; and no two writes in a namespace return the same revision.
func testRevisionsNeverRepeat(t *testing.T, s storage.Store) {
	var revs []uint64 // every revision a committed write returned in nsA
	write := func(fn func(tx storage.Tx) (uint64, error)) uint64 {
		t.Helper()
		var rev uint64
		update(t, s, func(tx storage.Tx) (err error) {
			rev, err = fn(tx)
			return err
		})
		revs = append(revs, rev)
		return rev
	}
	del := func(key string) {
		t.Helper()
		update(t, s, func(tx storage.Tx) error { return tx.Delete(nsA, key) })
	}
	cas := func(key string, rev uint64) error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			_, err := tx.CompareAndSwap(nsA, key, []byte("stale write"), rev)
			return err
		})
	}

	// Create, Delete, Create: the key is the only one in its namespace, so a
	// backend counting from what is stored would start over.
	r1 := write(func(tx storage.Tx) (uint64, error) { return tx.Create(nsA, "k", []byte("first life")) })
	del("k")
	r2 := write(func(tx storage.Tx) (uint64, error) { return tx.Create(nsA, "k", []byte("second life")) })
	if r2 <= r1 {
		t.Fatalf("re-created key got revision %d, want more than its earlier %d", r2, r1)
	}
	wantErr(t, "CAS with the revision from before Delete", cas("k", r1), storage.ErrConflict)

	// The same after several writes of the first life.
	r3 := write(func(tx storage.Tx) (uint64, error) { return tx.Put(nsA, "k", []byte("second life, v2")) })
	r4 := write(func(tx storage.Tx) (uint64, error) {
		return tx.CompareAndSwap(nsA, "k", []byte("second life, v3"), r3)
	})
	del("k")
	r5 := write(func(tx storage.Tx) (uint64, error) { return tx.Put(nsA, "k", []byte("third life")) })
	if !(r1 < r2 && r2 < r3 && r3 < r4 && r4 < r5) {
		t.Fatalf("revisions of k over three lives = %d %d %d %d %d, want strictly increasing", r1, r2, r3, r4, r5)
	}
	for _, old := range []uint64{r1, r2, r3, r4} {
		wantErr(t, fmt.Sprintf("CAS with revision %d from an earlier life", old), cas("k", old), storage.ErrConflict)
	}
	if it := mustGet(t, s, nsA, "k"); string(it.Value) != "third life" || it.Revision != r5 {
		t.Fatalf("after stale CAS: %q rev %d, want third life rev %d", it.Value, it.Revision, r5)
	}

	// Create, Delete and Create in one transaction.
	var in1, in2 uint64
	update(t, s, func(tx storage.Tx) (err error) {
		if in1, err = tx.Create(nsA, "same-tx", []byte("one")); err != nil {
			return err
		}
		if err = tx.Delete(nsA, "same-tx"); err != nil {
			return err
		}
		in2, err = tx.Create(nsA, "same-tx", []byte("two"))
		return err
	})
	revs = append(revs, in1, in2)
	if in2 <= in1 {
		t.Fatalf("key re-created in the same transaction got revision %d after %d", in2, in1)
	}
	wantErr(t, "CAS with the revision deleted in the same transaction", cas("same-tx", in1), storage.ErrConflict)

	// Other keys of the namespace never get a revision already handed out.
	for _, key := range []string{"other", "k2", "same-tx2"} {
		write(func(tx storage.Tx) (uint64, error) { return tx.Create(nsA, key, []byte("v")) })
		write(func(tx storage.Tx) (uint64, error) { return tx.Put(nsA, key, []byte("v2")) })
	}
	seen := map[uint64]bool{}
	for _, r := range revs {
		if r == 0 || seen[r] {
			t.Fatalf("revision %d returned twice or zero in one namespace: %v", r, revs)
		}
		seen[r] = true
	}
}

// testValuesRoundTrip: values are opaque bytes; they may be empty (nil or
// not), hold any byte, and be large.
func testValuesRoundTrip(t *testing.T, s storage.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	large := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 1<<14) // 288 KiB
	records := map[string][]byte{
		"plain":       []byte("value"),
		"nil":         nil,
		"empty":       {},
		"every byte":  all,
		"nul":         {0},
		"invalid utf": []byte("\xff\xfe\xfd"),
		"unicode":     []byte("ünïcødé value"),
		"large":       large,
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

// invalidKeys are keys every backend must refuse with ErrInvalidKey.
var invalidKeys = map[string]string{
	"empty":                        "",
	"MaxKeyLen+1 bytes":            strings.Repeat("k", storage.MaxKeyLen+1),
	"MaxKeyLen+1 bytes, multibyte": "k" + strings.Repeat("é", storage.MaxKeyLen/2),
	"invalid UTF-8":                "\xff",
	"truncated UTF-8":              "a\xc3",
	"UTF-16 surrogate":             "\xed\xa0\x80",
	"NUL inside":                   "a\x00b",
	"only NUL":                     "\x00",
}

// testInvalidKeys: every operation that takes a key refuses an invalid one
// with ErrInvalidKey, in written and unwritten namespaces, and changes
// nothing; List refuses a non-empty Prefix or After that is not valid UTF-8
// or holds NUL.
func testInvalidKeys(t *testing.T, s storage.Store) {
	rev := put(t, s, nsA, "k", []byte("v"))
	for name, key := range invalidKeys {
		for _, ns := range []storage.Namespace{nsA, nsFresh} {
			ops := []struct {
				op string
				fn func(tx storage.Tx) error
			}{
				{"Get", func(tx storage.Tx) error { _, err := tx.Get(ns, key); return err }},
				{"Create", func(tx storage.Tx) error { _, err := tx.Create(ns, key, []byte("x")); return err }},
				{"Put", func(tx storage.Tx) error { _, err := tx.Put(ns, key, []byte("x")); return err }},
				{"CompareAndSwap", func(tx storage.Tx) error {
					_, err := tx.CompareAndSwap(ns, key, []byte("x"), rev)
					return err
				}},
				{"Delete", func(tx storage.Tx) error { return tx.Delete(ns, key) }},
			}
			for _, o := range ops {
				err := s.Update(t.Context(), o.fn)
				wantErr(t, fmt.Sprintf("%s(%s, %s key)", o.op, ns, name), err, storage.ErrInvalidKey)
			}
			err := s.View(t.Context(), ops[0].fn)
			wantErr(t, fmt.Sprintf("Get(%s, %s key) in View", ns, name), err, storage.ErrInvalidKey)
		}
	}
	for _, bad := range []string{"\xff", "a\x00b", "k\xc3"} {
		for _, opts := range []storage.ListOptions{{Prefix: bad}, {After: bad}, {Prefix: "k", After: bad}, {Prefix: bad, After: "k"}} {
			err := s.View(t.Context(), func(tx storage.Tx) error {
				_, err := tx.List(nsA, opts)
				return err
			})
			wantErr(t, fmt.Sprintf("List(Prefix %q, After %q)", opts.Prefix, opts.After), err, storage.ErrInvalidKey)
		}
	}

	page := list(t, s, nsA, storage.ListOptions{Limit: storage.MaxListLimit})
	if len(page.Items) != 1 || page.Items[0].Key != "k" || string(page.Items[0].Value) != "v" || page.Items[0].Revision != rev {
		t.Fatalf("after refused operations the namespace holds %q, want only k at revision %d", keysOf(page), rev)
	}
	if got := keysOf(list(t, s, nsFresh, storage.ListOptions{})); len(got) != 0 {
		t.Fatalf("after refused operations an unwritten namespace lists %q", got)
	}
}

// testKeysAtTheLimits: keys of exactly MaxKeyLen bytes (in 1- to 4-byte
// runes), multi-byte UTF-8 and control characters other than NUL work in
// every operation, and list in byte-wise order.
func testKeysAtTheLimits(t *testing.T, s storage.Store) {
	keys := []string{
		strings.Repeat("m", storage.MaxKeyLen),
		strings.Repeat("é", storage.MaxKeyLen/2),
		strings.Repeat("€", storage.MaxKeyLen/3) + "x",
		strings.Repeat("😀", storage.MaxKeyLen/4),
		"ünïcødé ✓",
		"日本語/キー",
		"\U0010FFFF",
		"\x01",
		"\n\t\r",
		"\x7f",
		"with space",
		"slash/and:colon",
	}
	for i, k := range keys {
		if !storage.ValidKey(k) || (i < 4 && len(k) != storage.MaxKeyLen) {
			t.Fatalf("suite bug: key %.20q should be valid (and the first four MaxKeyLen bytes long)", k)
		}
	}
	revs := map[string]uint64{}
	update(t, s, func(tx storage.Tx) error {
		for _, k := range keys {
			rev, err := tx.Create(nsA, k, []byte(k))
			if err != nil {
				return fmt.Errorf("Create(%d-byte key): %w", len(k), err)
			}
			revs[k] = rev
		}
		return nil
	})
	for _, k := range keys {
		if it := mustGet(t, s, nsA, k); it.Key != k || string(it.Value) != k || it.Revision != revs[k] {
			t.Fatalf("Get(%d-byte key %.20q...) returned a different key, value or revision", len(k), k)
		}
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	page := list(t, s, nsA, storage.ListOptions{})
	wantKeys(t, "List of limit keys", keysOf(page), want)
	for _, it := range page.Items {
		if it.Key != string(it.Value) {
			t.Fatalf("List item %.20q has the value of another key", it.Key)
		}
	}

	// Prefix and After may be keys of MaxKeyLen bytes too.
	long := keys[0]
	wantKeys(t, "List(Prefix long key)", keysOf(list(t, s, nsA, storage.ListOptions{Prefix: long})), []string{long})
	wantKeys(t, "List(Prefix 😀)", keysOf(list(t, s, nsA, storage.ListOptions{Prefix: "😀"})), []string{keys[3]})
	i := slices.Index(want, long)
	wantKeys(t, "List(After long key)", keysOf(list(t, s, nsA, storage.ListOptions{After: long})), want[i+1:])

	update(t, s, func(tx storage.Tx) error {
		for _, k := range keys {
			if _, err := tx.CompareAndSwap(nsA, k, []byte("swapped"), revs[k]); err != nil {
				return fmt.Errorf("CompareAndSwap(%d-byte key): %w", len(k), err)
			}
		}
		return nil
	})
	update(t, s, func(tx storage.Tx) error {
		for _, k := range keys {
			if err := tx.Delete(nsA, k); err != nil {
				return fmt.Errorf("Delete(%d-byte key): %w", len(k), err)
			}
		}
		return nil
	})
	if got := keysOf(list(t, s, nsA, storage.ListOptions{})); len(got) != 0 {
		t.Fatalf("after deleting every key, List = %q", got)
	}
}

// errBoom is the error the suite's transaction functions fail with.
var errBoom = errors.New("storagetest: boom")
