package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/postgres"
	"github.com/arcakms/arca/internal/storage/postgres/pgtest"
	"github.com/arcakms/arca/internal/storage/storagetest"
)

// open opens a store on a fresh schema of the test server.
func open(t *testing.T, opts postgres.Options) *postgres.Store {
	t.Helper()
	if opts.DSN == "" {
		opts.DSN = pgtest.DSN(t)
	}
	if opts.Schema == "" {
		opts.Schema = pgtest.Schema(t)
	}
	s, err := postgres.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, postgres.Options{}) })
}

// TestMigrationsRunOnceAcrossNodes: nodes opening one schema at once apply
// each migration once, and a reopened schema is left as it is.
func TestMigrationsRunOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 3)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), postgres.Options{DSN: dsn, Schema: schema})
			if err != nil {
				t.Error(err)
				return
			}
			stores[i] = s
		}()
	}
	wg.Wait()
	for _, s := range stores {
		if s == nil {
			t.FailNow()
		}
		defer s.Close()
	}
	conn := pgtest.Conn(t, schema)
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM arca_schema").Scan(&n); err != nil || n != postgres.SchemaVersion() {
		t.Fatalf("arca_schema has %d rows (%v), want %d", n, err, postgres.SchemaVersion())
	}
	// A database newer than the binary is refused.
	if _, err := conn.Exec(t.Context(), "INSERT INTO arca_schema (version, name) VALUES (999, 'future')"); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn, Schema: schema}); err == nil {
		t.Fatal("a schema from a newer version was accepted")
	}
}

// TestWritesAcrossNodesSerialise: read-modify-write transactions on three
// stores (three nodes) over one schema never lose an update.
func TestWritesAcrossNodesSerialise(t *testing.T) {
	t.Parallel()
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	nodes := []*postgres.Store{open(t, postgres.Options{DSN: dsn, Schema: schema}), open(t, postgres.Options{DSN: dsn, Schema: schema}), open(t, postgres.Options{DSN: dsn, Schema: schema})}
	if err := nodes[0].Update(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Create("counter", "n", []byte{0})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, s := range nodes {
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Update(context.Background(), func(tx storage.Tx) error {
					it, err := tx.Get("counter", "n")
					if err != nil {
						return err
					}
					_, err = tx.Put("counter", "n", []byte{it.Value[0] + 1}) // no CAS: the lock alone must serialise
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	var got byte
	if err := nodes[2].View(t.Context(), func(tx storage.Tx) error {
		it, err := tx.Get("counter", "n")
		got = it.Value[0]
		return err
	}); err != nil || got != 30 {
		t.Fatalf("counter %d after 30 increments (%v)", got, err)
	}
}

// TestWatchSeesOtherNodesChanges: a change committed on one node reaches
// another node's watcher; a rolled-back one does not.
func TestWatchSeesOtherNodesChanges(t *testing.T) {
	t.Parallel()
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	a, b := open(t, postgres.Options{DSN: dsn, Schema: schema}), open(t, postgres.Options{DSN: dsn, Schema: schema})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changes := make(chan storage.Change, 16)
	lost := make(chan struct{}, 16)
	go b.Watch(ctx, func(c storage.Change) { changes <- c }, func() { lost <- struct{}{} })
	select {
	case <-lost: // listening
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not start")
	}
	_ = a.Update(ctx, func(tx storage.Tx) error {
		_, _ = tx.Put("keys", "rolled-back", []byte("x"))
		return errors.New("roll back")
	})
	if err := a.Update(ctx, func(tx storage.Tx) error {
		if _, err := tx.Put("keys", "k1", []byte("v")); err != nil {
			return err
		}
		_, err := tx.Create("versions", "k1/1", []byte("v"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var got []storage.Change
	for len(got) < 2 {
		select {
		case c := <-changes:
			got = append(got, c)
		case <-time.After(5 * time.Second):
			t.Fatalf("changes seen: %v", got)
		}
	}
	if !slices.Equal(got, []storage.Change{{NS: "keys", Key: "k1"}, {NS: "versions", Key: "k1/1"}}) {
		t.Fatalf("changes %v", got)
	}
}

// TestLeaderElection: of three campaigning nodes exactly one leads; when
// it stops, another takes over.
func TestLeaderElection(t *testing.T) {
	t.Parallel()
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	var leaders []*postgres.Leader
	var cancels []context.CancelFunc
	for range 3 {
		s := open(t, postgres.Options{DSN: dsn, Schema: schema})
		ctx, cancel := context.WithCancel(t.Context())
		cancels = append(cancels, cancel)
		leaders = append(leaders, s.Campaign(ctx, nil))
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	leading := func() []int {
		var out []int
		for i, l := range leaders {
			if l.IsLeader() {
				out = append(out, i)
			}
		}
		return out
	}
	waitOne := func(exclude int) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if l := leading(); len(l) == 1 && l[0] != exclude {
				return l[0]
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("leaders %v", leading())
		return -1
	}
	first := waitOne(-1)
	time.Sleep(2 * postgres.CampaignInterval) // the others keep trying, and fail
	if l := leading(); len(l) != 1 || l[0] != first {
		t.Fatalf("leaders %v, want only %d", l, first)
	}
	cancels[first]()
	<-leaders[first].Done()
	waitOne(first)
}

// TestUnreachableDatabaseFailsFast: with the database's port dead, every
// operation fails within the timeout with ErrUnavailable, and works again
// once it is back.
func TestUnreachableDatabaseFailsFast(t *testing.T) {
	t.Parallel()
	p := pgtest.StartProxy(t)
	s := open(t, postgres.Options{DSN: pgtest.Via(t, p.Addr()), Timeout: 2 * time.Second})
	put := func() error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			_, err := tx.Put("keys", "k", []byte("v"))
			return err
		})
	}
	if err := put(); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	start := time.Now()
	for _, op := range []func() error{put, func() error { return s.Ping(t.Context()) }, func() error {
		return s.View(t.Context(), func(tx storage.Tx) error { _, err := tx.Get("keys", "k"); return err })
	}} {
		if err := op(); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("with the database gone: %v", err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("failing took %v", d)
	}
	p.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for put() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %v", put())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
