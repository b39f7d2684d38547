package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

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

// testViewError: View returns fn's error unchanged.
func testViewError(t *testing.T, s storage.Store) {
	err := s.View(t.Context(), func(storage.Tx) error { return errBoom })
	wantErr(t, "View returning an error", err, errBoom)
}

// testValuesAreCopies: values returned by Get and List stay unchanged after
// their transaction ends, across later writes (which may move or remap the
// backend's storage), and changing them does not change the store.
func testValuesAreCopies(t *testing.T, s storage.Store) {
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
}
