package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// indexedLog writes n varied records through a FileLog that rotates every
// few kilobytes, so that most of them end up in rotated files indexed by
// sidecars. Every seventh record is a batch over two keys.
func indexedLog(t *testing.T, path string, n int) *FileLog {
	t.Helper()
	l, err := OpenFile(path, FileOptions{NoSync: true, MaxSize: 4000})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := &Record{Time: t0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprint(i),
			Identity: fmt.Sprintf("id-%d", i%3), KeyID: fmt.Sprintf("key-%d", i%5),
			Operation: []string{"key.encrypt", "key.decrypt"}[i%2], Outcome: []string{OutcomeAllowed, OutcomeDenied}[min(i%4, 1)]}
		if i%7 == 0 {
			r.KeyID, r.Operation = "", "batch.encrypt"
			r.BatchKeys = []BatchKey{{KeyID: "key-1", Items: 2}, {KeyID: "key-9", Items: 1}}
		}
		if err := l.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// want lists, newest first, the request ids of the records in files that f
// selects, by reading every record: the answer the index must give.
func want(t *testing.T, files []string, f Filter) []string {
	t.Helper()
	var ids []string
	err := Scan(files, func(r *Record) error {
		keyMatch := f.KeyID == "" || r.KeyID == f.KeyID
		for _, b := range r.BatchKeys {
			keyMatch = keyMatch || (r.KeyID == "" && b.KeyID == f.KeyID)
		}
		if keyMatch && (f.Identity == "" || r.Identity == f.Identity) && (f.Operation == "" || r.Operation == f.Operation) &&
			(f.Outcome == "" || r.Outcome == f.Outcome) && (f.From.IsZero() || !r.Time.Before(f.From)) &&
			(f.To.IsZero() || r.Time.Before(f.To)) {
			ids = append(ids, r.RequestID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ids)
	return ids
}

// pages runs a search page by page and returns the request ids it found.
func pages(t *testing.T, l *FileLog, f Filter, limit int) []string {
	t.Helper()
	var ids []string
	cursor := 0
	for range 1000 {
		recs, next, err := l.Search(f, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > limit {
			t.Fatalf("page of %d over limit %d", len(recs), limit)
		}
		for _, r := range recs {
			ids = append(ids, r.RequestID)
		}
		if next == 0 {
			return ids
		}
		cursor = next
	}
	t.Fatal("search does not end")
	return nil
}

func filters() []Filter {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return []Filter{
		{},
		{Identity: "id-1"},
		{KeyID: "key-1"},
		{KeyID: "key-9"}, // only in batches that used two keys
		{KeyID: "key-4", Operation: "key.decrypt"},
		{Outcome: OutcomeDenied, Identity: "id-2"},
		{From: t0.Add(100 * time.Second), To: t0.Add(250 * time.Second)},
		{KeyID: "key-2", From: t0.Add(300 * time.Second)},
		{Identity: "nobody"},
		{To: t0},
	}
}

func TestSearchAcrossRotatedFilesMatchesAFullScan(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := indexedLog(t, path, 400)
	files, err := l.Files()
	if err != nil || len(files) < 5 {
		t.Fatalf("files %v %v", files, err)
	}
	check := func(l *FileLog, what string) {
		t.Helper()
		for _, f := range filters() {
			w := want(t, files, f)
			for _, limit := range []int{1, 7, 1000} {
				if got := pages(t, l, f, limit); !slices.Equal(got, w) {
					t.Fatalf("%s: filter %+v limit %d: got %d records %v, want %d %v", what, f, limit, len(got), got, len(w), w)
				}
			}
			var each []string
			if err := l.Each(f, func(r *Record) error { each = append(each, r.RequestID); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(each, w) {
				t.Fatalf("%s: Each %+v: got %v, want %v", what, f, each, w)
			}
		}
	}
	check(l, "while open")
	// Memory holds the live file's entries only; the rotated files' are in
	// sidecars.
	l.idx.mu.RLock()
	inMemory, segs := len(l.idx.entries), len(l.idx.segs)
	l.idx.mu.RUnlock()
	if segs != len(files)-1 || inMemory > 60 {
		t.Fatalf("%d segments for %d files, %d entries in memory", segs, len(files), inMemory)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	sidecars, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".audit.log.index", "*.idx"))
	if len(sidecars) != len(files)-1 {
		t.Fatalf("sidecars %v for files %v", sidecars, files)
	}

	// Reopened, the index comes from the sidecars.
	l2, err := OpenFile(path, FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	check(l2, "reopened")
	l2.Close()

	// A damaged, a stale and a missing sidecar are each rebuilt from the log.
	if err := os.WriteFile(sidecars[0], []byte("ARCAIDX1 garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sidecars[1])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-40] ^= 1 // an entry byte: the checksum no longer matches
	if err := os.WriteFile(sidecars[1], b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(sidecars[2]); err != nil {
		t.Fatal(err)
	}
	l3, err := OpenFile(path, FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	check(l3, "sidecars damaged")
	l3.Close()

	// A rotated file removed by retention leaves the search, and its
	// sidecar is cleaned up.
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	files = files[1:]
	l4, err := OpenFile(path, FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l4.Close()
	check(l4, "oldest file removed")
	if _, err := os.Stat(sidecars[0]); !os.IsNotExist(err) {
		t.Fatalf("orphan sidecar kept: %v", err)
	}
}

// TestSearchWhileRotating searches while writers keep rotating the log:
// every page holds records in order, none twice (run with -race).
func TestSearchWhileRotating(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := indexedLog(t, path, 50)
	defer l.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 500 {
			if err := l.Write(context.Background(), &Record{Time: time.Now(), RequestID: fmt.Sprint("w", i), Identity: "id-1", Operation: "key.encrypt", Outcome: OutcomeAllowed}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		recs, _, err := l.Search(Filter{Identity: "id-1"}, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range recs {
			if seen[r.RequestID] || r.Identity != "id-1" {
				t.Fatalf("page %v", recs)
			}
			seen[r.RequestID] = true
		}
	}
	wg.Wait()
}

// BenchmarkSearchVersusScan compares a page of an indexed search with a
// full scan of the same 100,000-record log (rotated every 4 MiB), for a
// filter matching one record in 50.
func BenchmarkSearchVersusScan(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.log")
	l, err := OpenFile(path, FileOptions{NoSync: true, MaxSize: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	t0 := time.Now()
	for i := range 100_000 {
		r := &Record{Time: t0.Add(time.Duration(i) * time.Millisecond), RequestID: fmt.Sprint(i), Identity: fmt.Sprintf("id-%d", i%50),
			KeyID: fmt.Sprintf("key-%d", i%7), Operation: "key.encrypt", Outcome: OutcomeAllowed}
		if err := l.Write(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	files, _ := l.Files()
	f := Filter{Identity: "id-7"}
	b.Run("index/page=100", func(b *testing.B) {
		for b.Loop() {
			if recs, _, err := l.Search(f, 0, 100); err != nil || len(recs) != 100 {
				b.Fatal(len(recs), err)
			}
		}
	})
	b.Run("index/all=2000", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := l.Each(f, func(*Record) error { n++; return nil }); err != nil || n != 2000 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("scan/all=2000", func(b *testing.B) {
		for b.Loop() {
			n := 0
			err := Scan(files, func(r *Record) error {
				if r.Identity == f.Identity {
					n++
				}
				return nil
			})
			if err != nil || n != 2000 {
				b.Fatal(n, err)
			}
		}
	})
}
