// Package storagetest is the conformance suite for storage.Store backends.
//
// A backend's tests call Run with a function that opens an empty store; Run
// then checks, through the storage package's API only, every behaviour the
// contract promises: revisions that never repeat and compare-and-swap, the
// key rules, namespaces, byte-wise ordered and paginated listing, read-only
// transactions and ones rolled back on error or panic, copied values, context
// cancellation and Close. A backend that passes can be swapped for
// another without the service layer noticing.
package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/arcakms/arca/internal/storage"
)

// Namespaces used by the suite: short lowercase identifiers, as the contract
// asks, two of them sharing a prefix to catch backends that encode a
// namespace as a key prefix without a separator.
const (
	nsA     storage.Namespace = "alpha"
	nsAB    storage.Namespace = "alphabet"
	nsB     storage.Namespace = "beta"
	nsFresh storage.Namespace = "fresh" // never written before the check that uses it
)

// Run runs the conformance suite as subtests of t. open is called once per
// subtest and must return a new, empty store. It should register cleanup
// (t.Cleanup) that closes the store; some subtests close it themselves, so
// that cleanup must tolerate a store that is already closed.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Store)
	}{
		{"Ping", testPing},
		{"GetMissing", testGetMissing},
		{"CreateThenGet", testCreateThenGet},
		{"CreateExisting", testCreateExisting},
		{"Put", testPut},
		{"CompareAndSwap", testCompareAndSwap},
		{"Delete", testDelete},
		{"RevisionsNeverRepeat", testRevisionsNeverRepeat},
		{"NamespacesAreIsolated", testNamespaces},
		{"ValuesRoundTrip", testValuesRoundTrip},
		{"InvalidKeysAreRefused", testInvalidKeys},
		{"KeysAtTheLimits", testKeysAtTheLimits},
		{"ListOrder", testListOrder},
		{"ListPrefixAndAfter", testListPrefixAndAfter},
		{"ListPaging", testListPaging},
		{"ListLimitClamping", testListLimit},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"UpdateReadsItsOwnWrites", testReadYourWrites},
		{"UpdateRollsBackOnError", testRollback},
		{"UpdateRollsBackOnPanic", testRollbackOnPanic},
		{"ViewReturnsFnError", testViewError},
		{"ValuesAreCopies", testValuesAreCopies},
		{"ConcurrentCompareAndSwap", testConcurrentCAS},
		{"CancelledContext", testCancelledContext},
		{"Closed", testClosed},
		{"Namespaces", testNamespacesListed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// update runs fn in a write transaction and fails the test on error.
func update(t *testing.T, s storage.Store, fn func(storage.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, s storage.Store, fn func(storage.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// put stores value under key in its own transaction and returns the revision.
func put(t *testing.T, s storage.Store, ns storage.Namespace, key string, value []byte) uint64 {
	t.Helper()
	var rev uint64
	update(t, s, func(tx storage.Tx) (err error) {
		rev, err = tx.Put(ns, key, value)
		return err
	})
	return rev
}

// get reads key in its own transaction, returning the item and the error.
func get(t *testing.T, s storage.Store, ns storage.Namespace, key string) (storage.Item, error) {
	t.Helper()
	var it storage.Item
	var getErr error
	view(t, s, func(tx storage.Tx) error {
		it, getErr = tx.Get(ns, key)
		return nil
	})
	return it, getErr
}

// mustGet reads key and fails the test unless it exists.
func mustGet(t *testing.T, s storage.Store, ns storage.Namespace, key string) storage.Item {
	t.Helper()
	it, err := get(t, s, ns, key)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", ns, key, err)
	}
	return it
}

// wantMissing fails the test unless key is absent.
func wantMissing(t *testing.T, s storage.Store, ns storage.Namespace, key string) {
	t.Helper()
	if _, err := get(t, s, ns, key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(%s, %q) = %v, want ErrNotFound", ns, key, err)
	}
}

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// list returns one page of ns in its own transaction.
func list(t *testing.T, s storage.Store, ns storage.Namespace, opts storage.ListOptions) storage.Page {
	t.Helper()
	var page storage.Page
	view(t, s, func(tx storage.Tx) (err error) {
		page, err = tx.List(ns, opts)
		return err
	})
	return page
}

// listAll follows Next from the start of ns until it is empty, returning
// every key seen and the size of each page.
func listAll(t *testing.T, s storage.Store, ns storage.Namespace, prefix string, limit int) (keys []string, sizes []int) {
	t.Helper()
	after := ""
	for {
		page := list(t, s, ns, storage.ListOptions{Prefix: prefix, After: after, Limit: limit})
		sizes = append(sizes, len(page.Items))
		for _, it := range page.Items {
			keys = append(keys, it.Key)
		}
		if page.Next == "" {
			return keys, sizes
		}
		if len(sizes) > 10000 {
			t.Fatalf("List never returned an empty Next")
		}
		after = page.Next
	}
}

// testPing checks a freshly opened store answers Ping.
func testPing(t *testing.T, s storage.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
