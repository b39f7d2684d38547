package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func readLines(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line is not a record: %q", sc.Text())
		}
		out = append(out, r)
	}
	return out
}

func TestConcurrentWritesAreAllDurableOneLineEach(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "audit.log")
	l, err := OpenFile(path, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := &Record{Time: time.Now(), RequestID: fmt.Sprintf("%d-%d", w, i), Operation: "key.encrypt", Outcome: OutcomeAllowed}
				if err := l.Write(context.Background(), r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// Every acknowledged record is already in the file before Close.
	recs := readLines(t, path)
	if len(recs) != writers*each {
		t.Fatalf("%d records in the file, want %d", len(recs), writers*each)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.RequestID] {
			t.Fatalf("record %s written twice", r.RequestID)
		}
		seen[r.RequestID] = true
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("audit file mode %v, want 0600", st.Mode().Perm())
	}
	if err := l.Write(context.Background(), &Record{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestReopenAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	for i := range 2 {
		l, err := OpenFile(path, FileOptions{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Write(context.Background(), &Record{RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if recs := readLines(t, path); len(recs) != 2 || recs[0].RequestID != "0" || recs[1].RequestID != "1" {
		t.Fatalf("records after reopen: %+v", recs)
	}
}

func TestWriteFailureIsReported(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("/dev/full is required")
		}
		t.Skip("no /dev/full")
	}
	l, err := OpenFile("/dev/full", FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 3 { // every attempt fails; none hangs
		if err := l.Write(context.Background(), &Record{RequestID: "x"}); err == nil {
			t.Fatal("write to a full device succeeded")
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, mode := range []struct {
		name   string
		noSync bool
	}{{"fsync-group-commit", false}, {"nosync", true}} {
		b.Run(mode.name, func(b *testing.B) {
			l, err := OpenFile(filepath.Join(b.TempDir(), "audit.log"), FileOptions{NoSync: mode.noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			r := &Record{Time: time.Now(), RequestID: "0123456789abcdef01234567", Interface: "rest", Operation: "key.encrypt", Outcome: OutcomeAllowed, KeyID: "7da620e8-4345-4b0f-8d81-13d9443bb662", KeyVersion: 1}
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := l.Write(context.Background(), r); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
