package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/arcakms/arca/internal/storage"
)

// Defaults for Options.
const (
	DefaultSchema         = "arca"
	DefaultTimeout        = 5 * time.Second
	DefaultConnectTimeout = 3 * time.Second
)

// Options configures Open.
type Options struct {
	// DSN is a PostgreSQL connection string (URL or key=value form).
	DSN string
	// Schema is the PostgreSQL schema holding Arca's tables (default
	// "arca"), created if missing. Deployments (and tests) sharing one
	// database use different schemas.
	Schema string
	// Timeout bounds each transaction (default 5s): past it the operation
	// fails with storage.ErrUnavailable instead of hanging on a database
	// that does not answer.
	Timeout time.Duration
	// MaxConns bounds the connection pool (default: pgx's, 4 per CPU at least).
	MaxConns int32
}

// Store is a storage.Store on PostgreSQL, safe for concurrent use and for
// use by several processes at once.
type Store struct {
	pool    *pgxpool.Pool
	conn    *pgx.ConnConfig // for the dedicated connections of Watch and Leader
	schema  string
	channel string // the pg_notify channel of this schema
	lockID  int64  // the advisory lock writers take
	origin  string // names this store's notifications, so Watch skips them
	timeout time.Duration
	closed  atomic.Bool
}

var (
	_ storage.Store   = (*Store)(nil)
	_ storage.Watcher = (*Store)(nil)
)

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// Open connects to the database, creates the schema if needed and applies
// the migrations this binary has that the database lacks. A database whose
// schema is newer than the binary is refused.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	if !schemaPattern.MatchString(opts.Schema) {
		return nil, fmt.Errorf("postgres: schema %q must be a lowercase identifier of at most 40 characters", opts.Schema)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		// The DSN may hold a password: say what is wrong, not what it is.
		return nil, errors.New("postgres: the DSN does not parse")
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 || cfg.ConnConfig.ConnectTimeout > DefaultConnectTimeout {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "arca"
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, conn: cfg.ConnConfig.Copy(), schema: opts.Schema, channel: "arca_changes_" + opts.Schema,
		lockID: lockID(opts.Schema, "writer"), timeout: opts.Timeout, origin: rand.Text()}
	mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := s.migrate(mctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// lockID names an advisory lock of a schema, so deployments sharing a
// database never contend for each other's locks.
func lockID(schema, purpose string) int64 {
	h := fnv.New64a()
	h.Write([]byte("arca\x00" + schema + "\x00" + purpose))
	return int64(h.Sum64())
}

// Schema returns the PostgreSQL schema the store uses.
func (s *Store) Schema() string { return s.schema }

// Close closes the pool, waiting for connections in use to be returned.
// Later calls fail with storage.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers, within the store's timeout.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: ping: %w", storage.ErrClosed)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return s.mapError(ctx, "ping", err)
	}
	return nil
}

// View runs fn in a REPEATABLE READ, READ ONLY transaction: one snapshot.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.run(ctx, false, fn)
}

// Update runs fn in a READ COMMITTED transaction holding the schema's
// writer lock, and commits it if fn returns nil; otherwise, or if fn
// panics, it rolls back and returns fn's error as is. If ctx is done
// before fn starts (also while waiting for the lock) fn does not run; once
// fn has returned nil the commit is not abandoned for ctx.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.run(ctx, true, fn)
}

func (s *Store) run(ctx context.Context, writable bool, fn func(storage.Tx) error) (err error) {
	op := "view"
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if writable {
		op, opts = "update", pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	}
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	tctx, cancel := context.WithTimeout(ctx, s.timeout)
	if storage.IsLongRunning(ctx) {
		tctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	ptx, err := s.pool.BeginTx(tctx, opts)
	if err != nil {
		return s.mapError(tctx, "begin "+op, err)
	}
	t := &tx{ctx: tctx, ptx: ptx, writable: writable, store: s}
	defer func() {
		t.ptx = nil
		// Rollback after a commit is a no-op; after a failure it frees the
		// connection even if ctx is done.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = ptx.Rollback(rctx)
		rcancel()
	}()
	if writable {
		if _, err := ptx.Exec(tctx, "SELECT pg_advisory_xact_lock($1)", s.lockID); err != nil {
			return s.mapError(tctx, "update: take the writer lock", err)
		}
	}
	if err := fn(t); err != nil {
		return err
	}
	if !writable {
		return nil
	}
	// From here on the change is made regardless of ctx (fn may have
	// audited it), within the timeout.
	commitTimeout := s.timeout
	if storage.IsLongRunning(ctx) {
		commitTimeout = max(s.timeout, 10*time.Minute)
	}
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer ccancel()
	if err := t.notify(cctx); err != nil {
		return s.mapError(cctx, "update: notify", err)
	}
	if err := ptx.Commit(cctx); err != nil {
		return s.mapError(cctx, "commit", err)
	}
	return nil
}

// mapError turns a pgx error into the storage sentinel it corresponds to,
// or wraps it with the operation that failed. Statements never carry record
// values or keys, so neither can appear in the error.
func (s *Store) mapError(ctx context.Context, op string, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrClosed)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, cannot connect now
			pgErr.Code == "53300", // too many connections
			pgErr.Code == "25006": // read-only transaction: a standby
			return fmt.Errorf("postgres: %s: %w: %s", op, storage.ErrUnavailable, pgErr.Code)
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	// Any other failure of these fixed statements is the connection's:
	// refused, reset, timed out, closed.
	if errors.Is(err, context.Canceled) && ctx.Err() == context.Canceled {
		return fmt.Errorf("postgres: %s: %w", op, context.Canceled)
	}
	return fmt.Errorf("postgres: %s: %w: %w", op, storage.ErrUnavailable, err)
}
