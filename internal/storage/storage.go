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
//   - Every item carries a revision that grows on each write, so callers can
//     make optimistic, compare-and-swap updates to a record. Revisions never
//     repeat within a namespace, even across Delete and Create, so a stale
//     revision can never match a re-created record.
//   - List returns items of a namespace in ascending byte-wise key order, one
//     page at a time, so large keyspaces never have to be loaded at once.
//   - Keys are non-empty, valid UTF-8 without NUL bytes, and at most MaxKeyLen
//     bytes, so that every backend (including SQL text columns) can store them;
//     other keys are refused with ErrInvalidKey.
package storage

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"
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
	// ErrInvalidKey means a key is empty, too long, not valid UTF-8 or holds a NUL byte.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrCorrupt means a backend found a stored record it cannot decode.
	ErrCorrupt = errors.New("storage: corrupt record")
	// ErrUnavailable means a shared backend cannot be reached (or did not
	// answer in time); the operation did not happen and may be retried.
	ErrUnavailable = errors.New("storage: unavailable")
)

// MaxKeyLen is the longest key a backend must accept, in bytes.
const MaxKeyLen = 1024

// ValidKey reports whether key satisfies the key rules of the contract.
// Backends call it before every operation that takes a key.
func ValidKey(key string) bool {
	return key != "" && len(key) <= MaxKeyLen && utf8.ValidString(key) && !strings.ContainsRune(key, 0)
}

// Item is one stored record.
type Item struct {
	// Key is the record's key within its namespace.
	Key string
	// Value is the opaque stored bytes. Callers must not modify it; backends
	// return a copy that stays valid after the transaction ends.
	Value []byte
	// Revision is a positive number that increases on every write of the
	// key. It is unique within the namespace: a key that is deleted and
	// created again gets a revision greater than any it had before.
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
// View or Update, and only from the goroutine running it. Backends copy the
// values they are given and the values they return. Once an operation of an
// Update transaction fails, the caller must return an error from fn (the
// transaction is rolled back); SQL backends cannot continue a failed
// transaction.
type Tx interface {
	// Get returns the item stored under key, or ErrNotFound.
	Get(ns Namespace, key string) (Item, error)
	// Create stores value under key only if the key does not exist yet and
	// returns the new revision; otherwise it returns ErrExists.
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
	// Namespaces returns, in ascending order, every namespace that holds
	// at least one item (a backend may list empty ones too), so that a
	// backup can take everything without a list kept by hand.
	Namespaces() ([]Namespace, error)
}

// Store is a storage backend.
type Store interface {
	// View runs fn in a read-only transaction. Writes inside it fail with ErrReadOnly.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committing it if fn returns
	// nil and rolling it back otherwise (also if fn panics). The error from
	// fn is returned as is. A cancelled context stops Update before fn runs,
	// never between fn and the commit.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the backend is reachable and usable.
	Ping(ctx context.Context) error
	// Close releases the backend. Later View, Update and Ping calls fail
	// with ErrClosed; a second Close returns nil.
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

// Compactor is implemented by backends that can rewrite their storage so
// that deleted or overwritten values no longer linger in free space. The
// service calls it after crypto-shredding key material, so that the erased
// bytes are gone from the backend's files, not merely unreferenced.
type Compactor interface {
	Compact(ctx context.Context) error
}

// Change names one record that a committed transaction wrote or deleted.
type Change struct {
	NS  Namespace
	Key string
}

// Watcher is implemented by shared backends, whose records other processes
// change, so that a node can drop what it cached of them.
type Watcher interface {
	// Watch reports changes committed by any process, until ctx is done:
	// changed for each record written or deleted, and lost whenever changes
	// may have been missed (when watching starts or resumes after a broken
	// connection, and periodically as a safety net), after which the caller
	// must assume that anything may have changed.
	Watch(ctx context.Context, changed func(Change), lost func())
}

// longRunning marks a context whose transactions may take as long as the
// context allows (see LongRunning).
type longRunning struct{}

// LongRunning returns a context whose transactions a backend does not cut
// short with its own per-transaction timeout: for a backup's snapshot or a
// restore, which read or write everything. The context's own deadline and
// cancellation still apply.
func LongRunning(ctx context.Context) context.Context {
	return context.WithValue(ctx, longRunning{}, true)
}

// IsLongRunning reports whether ctx was made by LongRunning.
func IsLongRunning(ctx context.Context) bool {
	v, _ := ctx.Value(longRunning{}).(bool)
	return v
}
