// Package storage defines the persistence contract every Arca backend implements.
//
// A backend is a transactional, ordered key-value store organised in
// namespaces. Values are opaque bytes: everything secret that reaches a backend
// has already been sealed (encrypted or MAC'd) by the layers above, so a
// backend needs no cryptography and cannot leak key material.
//
// The contract is deliberately small so that the embedded bbolt backend and a
// shared SQL backend can both satisfy it, and one conformance suite
// (package storagetest) pins its behaviour for all of them:
//
//   - View and Update run a function inside a read-only or read-write
//     transaction; Update commits only if the function returns nil.
//   - Every item carries a revision that changes on each write, so callers can
//     make optimistic, compare-and-swap updates to a record.
//   - List returns items of a namespace in ascending key order, one page at a
//     time, so large keyspaces never have to be loaded at once.
package storage

import (
	"context"
	"errors"
)

// Namespace groups related records, like a table. Names are short lowercase
// ASCII identifiers chosen by the service layer.
type Namespace string

// Errors returned by every backend. Callers test them with errors.Is; backends
// may wrap them with context.
var (
	// ErrNotFound means the requested key does not exist in the namespace.
	ErrNotFound = errors.New("storage: not found")
	// ErrExists means Create found the key already present.
	ErrExists = errors.New("storage: already exists")
	// ErrConflict means a compare-and-swap found a different revision than expected.
	ErrConflict = errors.New("storage: revision conflict")
	// ErrReadOnly means a write was attempted inside a View transaction.
	ErrReadOnly = errors.New("storage: write in read-only transaction")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("storage: closed")
)

// Item is one stored record.
type Item struct {
	// Key is the record's key within its namespace.
	Key string
	// Value is the opaque stored bytes. Callers must not modify it; backends
	// return a copy that stays valid after the transaction ends.
	Value []byte
	// Revision is a positive number that changes on every write of the key.
	// It starts at 1 when a key is created.
	Revision uint64
}

// ListOptions selects one page of a namespace.
type ListOptions struct {
	// Prefix restricts the listing to keys that start with it.
	Prefix string
	// After starts the page strictly after this key (the previous page's Next).
	After string
	// Limit is the maximum number of items returned; zero or negative means
	// DefaultListLimit, and values above MaxListLimit are clamped.
	Limit int
}

// Page is the result of a List call.
type Page struct {
	// Items are in ascending key order.
	Items []Item
	// Next is the key to pass as After to fetch the following page; it is
	// empty when there are no more items.
	Next string
}

// Page size bounds for List.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Tx is a transaction. A Tx must only be used inside the function passed to
// View or Update, and only from the goroutine running it.
type Tx interface {
	// Get returns the item stored under key, or ErrNotFound.
	Get(ns Namespace, key string) (Item, error)
	// Create stores value under key only if the key does not exist yet and
	// returns the new revision (1); otherwise it returns ErrExists.
	Create(ns Namespace, key string, value []byte) (uint64, error)
	// Put stores value under key unconditionally and returns the new revision.
	Put(ns Namespace, key string, value []byte) (uint64, error)
	// CompareAndSwap stores value under key only if the key's current revision
	// equals rev, and returns the new revision. It returns ErrNotFound if the
	// key does not exist and ErrConflict if the revision differs.
	CompareAndSwap(ns Namespace, key string, value []byte, rev uint64) (uint64, error)
	// Delete removes key. Deleting a missing key returns ErrNotFound.
	Delete(ns Namespace, key string) error
	// List returns one page of the namespace in ascending key order.
	List(ns Namespace, opts ListOptions) (Page, error)
}

// Store is a storage backend.
type Store interface {
	// View runs fn in a read-only transaction. Writes inside it fail with ErrReadOnly.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committing it if fn returns
	// nil and rolling it back otherwise. The error from fn is returned as is.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the backend is reachable and usable.
	Ping(ctx context.Context) error
	// Close releases the backend. Later calls fail with ErrClosed.
	Close() error
}

// ClampLimit turns a caller's requested page size into one within bounds.
func ClampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultListLimit
	case limit > MaxListLimit:
		return MaxListLimit
	default:
		return limit
	}
}
