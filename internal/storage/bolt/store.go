package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
	// mu guards db: transactions share it, Compact replaces the file under
	// the exclusive lock.
	mu   sync.RWMutex
	db   *bbolt.DB
	path string
	opts *bbolt.Options
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
	bopts := &bbolt.Options{Timeout: timeout, NoSync: opts.NoSync}
	db, err := bbolt.Open(path, 0o600, bopts)
	if err != nil {
		return nil, openError(path, timeout, err)
	}
	return &Store{db: db, path: path, opts: bopts}, nil
}

// Path returns the database file's path as given to Open, for logs and
// diagnostics.
func (s *Store) Path() string { return s.path }

// Close waits for running transactions to finish, then releases the file
// lock and closes the file. Later View, Update and Ping calls fail with
// storage.ErrClosed; closing again is a no-op that returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	s.mu.RLock()
	defer s.mu.RUnlock()
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
	s.mu.RLock()
	defer s.mu.RUnlock()
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

// Compact rewrites the database into a new file holding only live data and
// replaces the old file with it, so that overwritten and deleted values
// (such as crypto-shredded key material) no longer remain in free pages.
// Transactions wait while it runs. Bucket sequences, and so revisions, are
// preserved.
func (s *Store) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: compact: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp := s.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: s.opts.Timeout})
	if err != nil {
		return fmt.Errorf("bolt: compact: open %s: %w", tmp, err)
	}
	if err := bbolt.Compact(dst, s.db, 64<<20); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return mapError("compact", err)
	}
	if err := dst.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("bolt: compact: close %s: %w", tmp, err)
	}
	if err := s.db.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("bolt: compact: close %s: %w", s.path, err)
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		renameErr = syncDir(filepath.Dir(s.path))
	}
	db, err := bbolt.Open(s.path, 0o600, s.opts)
	if err != nil {
		return openError(s.path, s.opts.Timeout, err)
	}
	s.db = db
	if renameErr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("bolt: compact: replace %s: %w", s.path, renameErr)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
