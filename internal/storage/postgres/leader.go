package postgres

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// CampaignInterval is how often a follower tries to become the leader, and
// how often the leader checks that its lock connection is alive.
const CampaignInterval = time.Second

// Leader is one node's part in electing the node that does the background
// work that must happen once (scheduled rotation and destruction): the node
// holding a session-level advisory lock of the schema, on a connection of
// its own. If that node dies, its session ends, PostgreSQL releases the lock
// and another node takes it within CampaignInterval.
//
// Leadership can briefly overlap: a leader cut off from the database learns
// it lost the lock only when its next check fails (within CampaignInterval
// plus the store's timeout), while PostgreSQL may already have released it
// to another node. The background work is written for that: each change is
// a compare-and-swap in a writer-locked transaction, so doing it twice
// changes nothing the second time.
type Leader struct {
	leading atomic.Bool
	done    chan struct{}
}

// Campaign starts campaigning until ctx is done. onChange, if not nil, is
// called on every change of leadership.
func (s *Store) Campaign(ctx context.Context, onChange func(leading bool)) *Leader {
	l := &Leader{done: make(chan struct{})}
	set := func(v bool) {
		if l.leading.Swap(v) != v && onChange != nil {
			onChange(v)
		}
	}
	go func() {
		defer close(l.done)
		defer set(false)
		for ctx.Err() == nil {
			s.lead(ctx, set)
			select {
			case <-ctx.Done():
			case <-time.After(CampaignInterval):
			}
		}
	}()
	return l
}

// IsLeader reports whether this node holds the leadership now.
func (l *Leader) IsLeader() bool { return l.leading.Load() }

// Done is closed once campaigning has stopped (and leadership is given up).
func (l *Leader) Done() <-chan struct{} { return l.done }

// lead connects, tries for the lock until it holds it, then holds it while
// the connection lives. It returns on a connection failure or when ctx is
// done, closing the connection, which releases the lock.
func (s *Store) lead(ctx context.Context, set func(bool)) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	conn, err := pgx.ConnectConfig(cctx, s.conn)
	cancel()
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	id := lockID(s.schema, "leader")
	tick := time.NewTicker(CampaignInterval)
	defer tick.Stop()
	held := false
	for {
		qctx, cancel := context.WithTimeout(ctx, s.timeout)
		if held {
			err = conn.Ping(qctx)
		} else {
			err = conn.QueryRow(qctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&held)
		}
		cancel()
		if err != nil {
			set(false)
			return
		}
		set(held)
		select {
		case <-ctx.Done():
			set(false)
			return
		case <-tick.C:
		}
	}
}
