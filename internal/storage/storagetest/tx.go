package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/storage"
)

// testViewIsReadOnly: every write inside View fails with ErrReadOnly and
// changes nothing, for existing keys and for namespaces never written.
func testViewIsReadOnly(t *testing.T, s storage.Store) {
	rev := put(t, s, nsA, "k", []byte("v"))
	view(t, s, func(tx storage.Tx) error {
		_, err := tx.Create(nsA, "new", []byte("x"))
		wantErr(t, "Create in View", err, storage.ErrReadOnly)
		_, err = tx.Create(nsFresh, "new", []byte("x"))
		wantErr(t, "Create in an unwritten namespace in View", err, storage.ErrReadOnly)
		_, err = tx.Put(nsA, "k", []byte("x"))
		wantErr(t, "Put in View", err, storage.ErrReadOnly)
		_, err = tx.Put(nsFresh, "k", []byte("x"))
		wantErr(t, "Put in an unwritten namespace in View", err, storage.ErrReadOnly)
		_, err = tx.CompareAndSwap(nsA, "k", []byte("x"), rev)
		wantErr(t, "CompareAndSwap in View", err, storage.ErrReadOnly)
		wantErr(t, "Delete in View", tx.Delete(nsA, "k"), storage.ErrReadOnly)
		// Reads still work after the failed writes.
		if it, err := tx.Get(nsA, "k"); err != nil || string(it.Value) != "v" {
			t.Errorf("Get in View after failed writes = %q, %v", it.Value, err)
		}
		return nil
	})
	if it := mustGet(t, s, nsA, "k"); string(it.Value) != "v" || it.Revision != rev {
		t.Fatalf("record changed by View: %q rev %d", it.Value, it.Revision)
	}
	wantMissing(t, s, nsA, "new")
	wantMissing(t, s, nsFresh, "new")
	wantMissing(t, s, nsFresh, "k")
}

// testReadYourWrites: reads inside Update see the transaction's own writes.
func testReadYourWrites(t *testing.T, s storage.Store) {
	put(t, s, nsA, "gone", []byte("v"))
	update(t, s, func(tx storage.Tx) error {
		rev, err := tx.Put(nsA, "k", []byte("mine"))
		if err != nil {
			return err
		}
		if it, err := tx.Get(nsA, "k"); err != nil || string(it.Value) != "mine" || it.Revision != rev {
			t.Errorf("Get after Put in the same Update = %q rev %d, %v", it.Value, it.Revision, err)
		}
		if err := tx.Delete(nsA, "gone"); err != nil {
			return err
		}
		if _, err := tx.Get(nsA, "gone"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get after Delete in the same Update = %v, want ErrNotFound", err)
		}
		page, err := tx.List(nsA, storage.ListOptions{})
		if err != nil {
			return err
		}
		if got := keysOf(page); len(got) != 1 || got[0] != "k" {
			t.Errorf("List in the same Update = %q, want [k]", got)
		}
		return nil
	})
}

// testRollback: when fn fails, none of its writes persist (including a
// namespace's first write) and the error comes back unchanged.
func testRollback(t *testing.T, s storage.Store) {
	rev := put(t, s, nsA, "keep", []byte("old"))
	put(t, s, nsA, "victim", []byte("v"))
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		if _, err := tx.Put(nsA, "keep", []byte("new")); err != nil {
			return err
		}
		if _, err := tx.Create(nsA, "created", []byte("x")); err != nil {
			return err
		}
		if _, err := tx.Create(nsFresh, "k", []byte("x")); err != nil {
			return err
		}
		if err := tx.Delete(nsA, "victim"); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want the function's error %v", err, errBoom)
	}
	if it := mustGet(t, s, nsA, "keep"); string(it.Value) != "old" || it.Revision != rev {
		t.Fatalf("rolled-back Put persisted: %q rev %d", it.Value, it.Revision)
	}
	wantMissing(t, s, nsA, "created")
	mustGet(t, s, nsA, "victim")
	if got := keysOf(list(t, s, nsFresh, storage.ListOptions{})); len(got) != 0 {
		t.Fatalf("rolled-back namespace lists %q", got)
	}

	// A wrapped storage error from fn keeps its identity: callers retry on it.
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		return fmt.Errorf("rotate: %w", storage.ErrConflict)
	})
	wantErr(t, "Update returning a wrapped ErrConflict", err, storage.ErrConflict)
}

// testRollbackOnPanic: when fn panics, the panic reaches Update's caller,
// none of fn's writes persist, and the store stays usable: the next Update
// is not blocked by a transaction the panic left open.
func testRollbackOnPanic(t *testing.T, s storage.Store) {
	rev := put(t, s, nsA, "keep", []byte("old"))
	put(t, s, nsA, "victim", []byte("v"))
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_ = s.Update(t.Context(), func(tx storage.Tx) error {
			if _, err := tx.Put(nsA, "keep", []byte("new")); err != nil {
				return err
			}
			if _, err := tx.Create(nsA, "created", []byte("x")); err != nil {
				return err
			}
			if _, err := tx.Create(nsFresh, "k", []byte("x")); err != nil {
				return err
			}
			if err := tx.Delete(nsA, "victim"); err != nil {
				return err
			}
			panic(errBoom)
		})
	}()
	if recovered != errBoom {
		t.Fatalf("Update with a panicking fn: recovered %v, want the panic value %v", recovered, errBoom)
	}

	// A transaction the panic left open would block this Update, and then
	// also the cleanup that closes the store, so an ordinary test failure
	// would hang until the test binary's timeout: crash it with an
	// explanation instead (a panic outside the test's goroutine does not
	// wait for cleanups).
	alarm := time.AfterFunc(10*time.Second, func() {
		panic("storagetest: UpdateRollsBackOnPanic: Update still blocked after 10s; the panicking Update's transaction was not rolled back")
	})
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Put(nsA, "after", []byte("v"))
		return err
	})
	alarm.Stop()
	if err != nil {
		t.Fatalf("Update after the panic: %v", err)
	}

	if it := mustGet(t, s, nsA, "keep"); string(it.Value) != "old" || it.Revision != rev {
		t.Fatalf("Put from the panicking Update persisted: %q rev %d", it.Value, it.Revision)
	}
	wantMissing(t, s, nsA, "created")
	mustGet(t, s, nsA, "victim")
	mustGet(t, s, nsA, "after")
	if got := keysOf(list(t, s, nsFresh, storage.ListOptions{})); len(got) != 0 {
		t.Fatalf("namespace first written by the panicking Update lists %q", got)
	}
}

// testViewError: View returns fn's error unchanged.
func testViewError(t *testing.T, s storage.Store) {
	err := s.View(t.Context(), func(storage.Tx) error { return errBoom })
	wantErr(t, "View returning an error", err, errBoom)
}

// testValuesAreCopies: values given to Create, Put and CompareAndSwap are
// copied, so callers may reuse their buffers at once; values returned by Get
// and List stay unchanged after their transaction ends, across later writes
// (which may move or remap the backend's storage), and changing them does
// not change the store.
func testValuesAreCopies(t *testing.T, s storage.Store) {
	testGivenValuesAreCopied(t, s)
	testReturnedValuesAreCopies(t, s)
}

// testGivenValuesAreCopied: a caller reusing the buffer it passed to a
// write, in the same transaction before the commit or after it, changes
// nothing. The buffers have spare capacity, as from a bytes.Buffer, and
// reuse overwrites all of it, which catches a backend that builds its record
// with append or slices.Insert on the caller's slice.
func testGivenValuesAreCopied(t *testing.T, s storage.Store) {
	buf := func(v string) []byte { return append(make([]byte, 0, 64), v...) }
	reuse := func(b []byte) {
		b = b[:cap(b)]
		for i := range b {
			b[i] = 'X'
		}
	}
	created, putBuf, swapped := buf("created"), buf("put"), buf("swapped")
	revs := map[string]uint64{}
	check := func(get func(key string) (storage.Item, error), when string) {
		t.Helper()
		for key, want := range map[string]string{"created": "created", "put": "put", "swapped": "swapped"} {
			it, err := get(key)
			if err != nil || string(it.Value) != want || it.Revision != revs[key] {
				t.Errorf("%s, %s = %q rev %d, %v; want %q rev %d", when, key, it.Value, it.Revision, err, want, revs[key])
			}
		}
	}
	update(t, s, func(tx storage.Tx) (err error) {
		if revs["created"], err = tx.Create(nsB, "created", created); err != nil {
			return err
		}
		reuse(created)
		if revs["put"], err = tx.Put(nsB, "put", putBuf); err != nil {
			return err
		}
		reuse(putBuf)
		rev, err := tx.Create(nsB, "swapped", []byte("before"))
		if err != nil {
			return err
		}
		if revs["swapped"], err = tx.CompareAndSwap(nsB, "swapped", swapped, rev); err != nil {
			return err
		}
		reuse(swapped)
		check(func(key string) (storage.Item, error) { return tx.Get(nsB, key) }, "in the writing transaction after the caller reused its buffers")
		return nil
	})
	for _, b := range [][]byte{created, putBuf, swapped} {
		reuse(b)
	}
	check(func(key string) (storage.Item, error) { return get(t, s, nsB, key) }, "after the caller reused its buffers")
}

// testReturnedValuesAreCopies: see testValuesAreCopies.
func testReturnedValuesAreCopies(t *testing.T, s storage.Store) {
	// Enough neighbours that the namespace does not fit in a few hundred
	// bytes, which some backends keep in a private buffer rather than in
	// their shared storage.
	pad := bytes.Repeat([]byte{0x11}, 1<<10)
	update(t, s, func(tx storage.Tx) error {
		for i := range 16 {
			if _, err := tx.Put(nsA, fmt.Sprintf("pad-%02d", i), pad); err != nil {
				return err
			}
		}
		return nil
	})
	put(t, s, nsA, "k", []byte("original"))
	var fromGet, fromList, fromUpdate storage.Item
	view(t, s, func(tx storage.Tx) (err error) {
		if fromGet, err = tx.Get(nsA, "k"); err != nil {
			return err
		}
		page, err := tx.List(nsA, storage.ListOptions{Prefix: "k"})
		if err != nil || len(page.Items) != 1 {
			return fmt.Errorf("list: %d items, %v", len(page.Items), err)
		}
		fromList = page.Items[0]
		return nil
	})
	update(t, s, func(tx storage.Tx) (err error) {
		fromUpdate, err = tx.Get(nsA, "k")
		return err
	})

	// Overwrite the record, then write about 2 MiB so that a memory-mapped
	// backend has to grow and remap its file.
	put(t, s, nsA, "k", []byte("changed!"))
	filler := bytes.Repeat([]byte{0xAB}, 32<<10)
	update(t, s, func(tx storage.Tx) error {
		for i := range 64 {
			if _, err := tx.Put(nsB, fmt.Sprintf("filler-%02d", i), filler); err != nil {
				return err
			}
		}
		return nil
	})
	for what, it := range map[string]storage.Item{"Get": fromGet, "List": fromList, "Get in Update": fromUpdate} {
		if string(it.Value) != "original" {
			t.Fatalf("value from %s changed after its transaction to %q", what, it.Value)
		}
	}

	got := mustGet(t, s, nsA, "k")
	got.Value[0] = 'X'
	if again := mustGet(t, s, nsA, "k"); string(again.Value) != "changed!" {
		t.Fatalf("modifying a returned value changed the store: %q", again.Value)
	}
	// Also inside a write transaction, before the commit.
	update(t, s, func(tx storage.Tx) error {
		it, err := tx.Get(nsA, "k")
		if err != nil {
			return err
		}
		it.Value[0] = 'Y'
		page, err := tx.List(nsA, storage.ListOptions{Prefix: "k"})
		if err != nil {
			return err
		}
		page.Items[0].Value[1] = 'Z'
		if again, err := tx.Get(nsA, "k"); err != nil || string(again.Value) != "changed!" {
			t.Errorf("modifying returned values in Update changed the record to %q, %v", again.Value, err)
		}
		return nil
	})
	if again := mustGet(t, s, nsA, "k"); string(again.Value) != "changed!" {
		t.Fatalf("modifying returned values in Update changed the store: %q", again.Value)
	}
}
