package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLog writes n records through a real FileLog (concurrently, so that
// group commit batches them) and returns the file's lines.
func writeLog(t *testing.T, path string, n int) [][]byte {
	t.Helper()
	l, err := OpenFile(path, FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &Record{Time: time.Unix(int64(i), 0).UTC(), RequestID: fmt.Sprintf("req-%03d", i), Operation: "key.encrypt", Outcome: OutcomeAllowed}
			if err := l.Write(context.Background(), r); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return lines(t, path)
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func writeLines(t *testing.T, path string, ls [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, append(bytes.Join(ls, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, files ...string) *VerifyReport {
	t.Helper()
	rep, err := Verify(files)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestTheChainDetectsEachKindOfTampering writes a real log and tampers
// with copies of it: each change is reported at the place it was made; the
// untouched log verifies; a reopened log continues the chain.
func TestTheChainDetectsEachKindOfTampering(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	orig := writeLog(t, path, 20)
	if rep := verify(t, path); !rep.OK() || rep.Records != 20 {
		t.Fatalf("untouched log: %+v", rep)
	}
	// Reopening continues the chain.
	more := writeLog(t, path, 5)
	if len(more) != 25 {
		t.Fatalf("%d lines after reopening", len(more))
	}
	if rep := verify(t, path); !rep.OK() || rep.Records != 25 {
		t.Fatalf("log written in two runs: %+v", rep)
	}
	cp := func(name string, change func([][]byte) [][]byte) string {
		ls := make([][]byte, len(orig))
		for i := range orig {
			ls[i] = bytes.Clone(orig[i])
		}
		p := filepath.Join(dir, name)
		writeLines(t, p, change(ls))
		return p
	}
	tests := []struct {
		name   string
		change func([][]byte) [][]byte
		kind   string
		line   int
	}{
		{"field edited", func(ls [][]byte) [][]byte {
			ls[6] = bytes.Replace(ls[6], []byte(`"allowed"`), []byte(`"denied"`), 1)
			return ls
		}, ProblemModified, 7},
		{"record deleted", func(ls [][]byte) [][]byte { return append(ls[:9:9], ls[10:]...) }, ProblemMissing, 10},
		{"two records swapped", func(ls [][]byte) [][]byte {
			ls[3], ls[4] = ls[4], ls[3]
			return ls
		}, ProblemMissing, 4},
		{"record inserted (copied)", func(ls [][]byte) [][]byte {
			return append(ls[:12:12], append([][]byte{ls[5]}, ls[12:]...)...)
		}, ProblemReordered, 13},
		{"line that is not a record", func(ls [][]byte) [][]byte {
			return append(ls[:2:2], append([][]byte{[]byte(`{"time":"x"}`)}, ls[2:]...)...)
		}, ProblemMalformed, 3},
		{"prev rewritten to hide an edit", func(ls [][]byte) [][]byte {
			ls[15] = bytes.Replace(ls[15], []byte(`"key.encrypt"`), []byte(`"key.decrypt"`), 1)
			ls[16] = []byte(strings.Replace(string(ls[16]), `"prev":"`, `"prev":"0`, 1))
			return ls
		}, ProblemModified, 16},
	}
	for _, tt := range tests {
		rep := verify(t, cp(strings.ReplaceAll(tt.name, " ", "-"), tt.change))
		if rep.Problem != tt.kind || rep.Line != tt.line {
			t.Errorf("%s: %+v, want %s at line %d", tt.name, rep, tt.kind, tt.line)
		}
	}
	// A log split across files verifies as one chain, in order only.
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	writeLines(t, a, orig[:8])
	writeLines(t, b, orig[8:])
	if rep := verify(t, a, b); !rep.OK() || rep.Records != 20 {
		t.Fatalf("rotated files: %+v", rep)
	}
	if rep := verify(t, b, a); rep.OK() {
		t.Fatal("files given in the wrong order verified")
	}
}
