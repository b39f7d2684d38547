package storagetest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/arcakms/arca/internal/storage"
)

// testConcurrentCAS: goroutines that each read a counter in one transaction
// and compare-and-swap its increment in another, retrying on ErrConflict,
// lose no update. This is the optimistic-concurrency pattern the service
// uses for key rotation.
func testConcurrentCAS(t *testing.T, s storage.Store) {
	const workers = 16
	put(t, s, nsA, "counter", binary.BigEndian.AppendUint64(nil, 0))

	var conflicts atomic.Int64
	start := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			<-start
			errs <- incrementWithRetry(t.Context(), s, &conflicts)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	it := mustGet(t, s, nsA, "counter")
	if len(it.Value) != 8 {
		t.Fatalf("counter value has %d bytes", len(it.Value))
	}
	if n := binary.BigEndian.Uint64(it.Value); n != workers {
		t.Fatalf("counter = %d after %d concurrent increments (%d conflicts retried)", n, workers, conflicts.Load())
	}
	t.Logf("%d increments, %d conflicts retried", workers, conflicts.Load())
}

// incrementWithRetry adds one to the counter: read, then compare-and-swap,
// starting over whenever another writer got in between.
func incrementWithRetry(ctx context.Context, s storage.Store, conflicts *atomic.Int64) error {
	for attempt := 0; attempt < 1000; attempt++ {
		var it storage.Item
		if err := s.View(ctx, func(tx storage.Tx) (err error) {
			it, err = tx.Get(nsA, "counter")
			return err
		}); err != nil {
			return fmt.Errorf("read counter: %w", err)
		}
		next := binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(it.Value)+1)
		err := s.Update(ctx, func(tx storage.Tx) error {
			_, err := tx.CompareAndSwap(nsA, "counter", next, it.Revision)
			return err
		})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, storage.ErrConflict):
			conflicts.Add(1)
		default:
			return fmt.Errorf("compare-and-swap counter: %w", err)
		}
	}
	return errors.New("counter increment still conflicting after 1000 attempts")
}

// testCancelledContext: View and Update given a context that is already done
// return an error wrapping its cause without running fn.
func testCancelledContext(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	fn := func(tx storage.Tx) error {
		ran = true
		_, err := tx.Put(nsA, "k", []byte("v"))
		return err
	}
	wantErr(t, "View with a cancelled context", s.View(ctx, fn), context.Canceled)
	wantErr(t, "Update with a cancelled context", s.Update(ctx, fn), context.Canceled)
	if ran {
		t.Fatalf("fn ran under a cancelled context")
	}
	wantMissing(t, s, nsA, "k")
	put(t, s, nsA, "k", []byte("v")) // the store is still usable
}

// testClosed: after Close, View, Update and Ping fail with ErrClosed without
// running fn, and a second Close returns nil.
func testClosed(t *testing.T, s storage.Store) {
	put(t, s, nsA, "k", []byte("v"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ran := false
	fn := func(storage.Tx) error { ran = true; return nil }
	wantErr(t, "View after Close", s.View(t.Context(), fn), storage.ErrClosed)
	wantErr(t, "Update after Close", s.Update(t.Context(), fn), storage.ErrClosed)
	wantErr(t, "Ping after Close", s.Ping(t.Context()), storage.ErrClosed)
	if ran {
		t.Fatalf("fn ran on a closed store")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
