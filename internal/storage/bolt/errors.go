package bolt

import (
	"errors"
	"fmt"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/arcakms/arca/internal/storage"
)

// Errors specific to Open, in addition to the storage sentinels. A stored
// record this package cannot decode (too short for its revision header, or
// revision 0) is reported as storage.ErrCorrupt.
var (
	// ErrLocked means Open could not take the database file's exclusive lock
	// within Options.Timeout, almost always because another process (a
	// running server, or a tool) has the file open.
	ErrLocked = errors.New("bolt: database file is locked by another process")
	// ErrNotDatabase means the file at the path exists but is not a bbolt
	// database, or its header pages are damaged.
	ErrNotDatabase = errors.New("bolt: file is not a valid bbolt database")
)

// openError explains why bbolt.Open failed.
func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s (not released within %s; is another arca process using it?): %w", ErrLocked, path, timeout, err)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return fmt.Errorf("%w: %s: %w", ErrNotDatabase, path, err)
	default:
		return fmt.Errorf("bolt: open %s: %w", path, err)
	}
}

// mapError turns a bbolt error into the storage sentinel it corresponds to,
// or wraps it with the operation that failed.
func mapError(op string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("bolt: %s: %w", op, storage.ErrClosed)
	case errors.Is(err, berrors.ErrTxNotWritable), errors.Is(err, berrors.ErrDatabaseReadOnly):
		return fmt.Errorf("bolt: %s: %w", op, storage.ErrReadOnly)
	default:
		return fmt.Errorf("bolt: %s: %w", op, err)
	}
}
