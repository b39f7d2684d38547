package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/arcakms/arca/internal/storage"
)

// DefaultTimeout is how long Open waits for the database file's lock when
// Options.Timeout is not set. It is short so that starting a second server on
// the same file fails promptly instead of hanging.
const DefaultTimeout = time.Second

// Options tunes Open. The zero value is what production uses.
type Options struct {
	// Timeout is how long Open waits for the exclusive lock on the file,
	// which another process may hold. Zero or negative means DefaultTimeout.
	Timeout time.Duration
	// NoSync skips fsync on commit. It makes tests fast and must never be set
	// in production: a crash can then lose or corrupt committed data.
	NoSync bool
}

// Store is a storage.Store backed by one bbolt file. It is safe for concurrent
// use by multiple goroutines.
type Store struct {
	db   *bbolt.DB
	path string
}

var _ storage.Store = (*Store)(nil)

// Open opens the bbolt database at path, creating the file (mode 0600) and
// its parent directory (mode 0700) if they do not exist yet. It holds an
// exclusive lock on the file until Close, so only one process can use it; if
// another holds the lock past opts.Timeout Open fails with ErrLocked. A file
// that exists but is not a bbolt database fails with ErrNotDatabase.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("bolt: open: empty path")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("bolt: open %s: create directory: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if err != nil {
		return nil, openError(path, timeout, err)
	}
	return &Store{db: db, path: path}, nil
}

// Path returns the database file's path as given to Open, for logs and
// diagnostics.
func (s *Store) Path() string { return s.path }

// Close waits for running transactions to finish, then releases the file
// lock and closes the file. Later View, Update and Ping calls fail with
// storage.ErrClosed; closing again is a no-op that returns nil.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", s.path, err)
	}
	return nil
}

// Ping reports whether the store is still open, by starting and discarding a
// read transaction. It fails with storage.ErrClosed after Close.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: ping: %w", err)
	}
	btx, err := s.db.Begin(false)
	if err != nil {
		return mapError("ping", err)
	}
	if err := btx.Rollback(); err != nil {
		return fmt.Errorf("bolt: ping: %w", err)
	}
	return nil
}

// View runs fn in a read-only bbolt transaction. Writes inside fn fail with
// storage.ErrReadOnly. fn's error is returned as is. If ctx is already done,
// View returns its error without running fn.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.run(ctx, false, fn)
}

// Update runs fn in a read-write bbolt transaction and commits it if fn
// returns nil; otherwise, or if fn panics, everything fn wrote is rolled back
// and fn's error is returned as is. Updates run one at a time. If ctx is done
// before fn would start (including while waiting for another Update), Update
// returns ctx's error without running fn. Once fn has returned nil the commit
// is not abandoned for ctx, so a change fn has already audited is made.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.run(ctx, true, fn)
}

// run is the body of View and Update.
func (s *Store) run(ctx context.Context, writable bool, fn func(storage.Tx) error) error {
	op := "view"
	if writable {
		op = "update"
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %s: %w", op, err)
	}
	btx, err := s.db.Begin(writable)
	if err != nil {
		return mapError("begin "+op, err)
	}
	t := &tx{btx: btx}
	// Roll back on every path that does not commit, panics included, so the
	// writer lock is never leaked. After a commit Rollback is a no-op.
	defer func() {
		t.btx = nil
		_ = btx.Rollback()
	}()
	// Begin(true) may have waited for another writer; don't start work the
	// caller no longer wants.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %s: %w", op, err)
	}
	if err := fn(t); err != nil {
		return err
	}
	if !writable {
		return nil
	}
	t.btx = nil
	if err := btx.Commit(); err != nil {
		return mapError("commit", err)
	}
	return nil
}
