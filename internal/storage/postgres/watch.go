package postgres

import (
	"context"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/jackc/pgx/v5"

	"github.com/arcakms/arca/internal/storage"
)

// ResyncInterval is how often Watch reports lost even when no notification
// went missing: the safety net under LISTEN/NOTIFY.
const ResyncInterval = 30 * time.Second

// Watch listens, on a connection of its own, for the changes the other
// nodes' Update transactions announce on commit, and reports each to
// changed; this store's own changes are not reported (its process updates
// its caches as it writes). It
// reports lost when it starts listening, after every reconnection (changes
// made while it was disconnected are not replayed), on a "*" notification
// (a transaction that changed too many records to name) and every
// ResyncInterval. It returns when ctx is done.
func (s *Store) Watch(ctx context.Context, changed func(storage.Change), lost func()) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listen(ctx, changed, lost)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen holds one LISTEN connection until it fails or ctx is done.
func (s *Store) listen(ctx context.Context, changed func(storage.Change), lost func()) error {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	conn, err := pgx.ConnectConfig(cctx, s.conn)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	lost() // whatever happened before this point was not heard
	resync := time.Now().Add(ResyncInterval)
	for {
		wctx, cancel := context.WithDeadline(ctx, resync)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if time.Now().Before(resync) {
				return err // the connection failed
			}
			// The safety net: check the connection, then drop everything.
			pctx, cancel := context.WithTimeout(ctx, s.timeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
			lost()
			resync = time.Now().Add(ResyncInterval)
			continue
		}
		var nt notice
		switch {
		case json.Unmarshal([]byte(n.Payload), &nt) != nil:
			lost() // a payload this version does not know
		case nt.Origin == s.origin:
			// This store's own change: the process that made it keeps
			// its caches in step itself, as it does on embedded storage.
		case nt.All:
			lost()
		default:
			for _, p := range nt.Changes {
				changed(storage.Change{NS: storage.Namespace(p[0]), Key: p[1]})
			}
		}
	}
}
