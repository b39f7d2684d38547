package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
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
	rep, err := Verify(files, nil)
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

func signer(key ed25519.PrivateKey) Signer {
	return func(msg []byte) ([]byte, []byte, error) {
		return key.Public().(ed25519.PublicKey), ed25519.Sign(key, msg), nil
	}
}

// TestSignedCheckpoints: checkpoints verify under the audit public key;
// one signed by another key, or verified under another key, is reported; an
// idle checkpoint writes nothing; the records after the last checkpoint
// are counted as unprotected.
func TestSignedCheckpoints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	_, key, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	l, err := OpenFile(path, FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	write := func(n int) {
		for i := range n {
			if err := l.Write(ctx, &Record{RequestID: fmt.Sprint(i), Operation: "key.encrypt", Outcome: OutcomeAllowed}); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(5)
	if err := l.Checkpoint(ctx, signer(key)); err != nil {
		t.Fatal(err)
	}
	if err := l.Checkpoint(ctx, signer(key)); err != nil { // idle: nothing new
		t.Fatal(err)
	}
	write(3)
	if err := l.Checkpoint(ctx, signer(key)); err != nil {
		t.Fatal(err)
	}
	write(2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := verify2(t, pub, path)
	if !rep.OK() || rep.Records != 12 || rep.Checkpoints != 2 || rep.Unprotected != 2 {
		t.Fatalf("intact log: %+v", rep)
	}
	if rep := verify2(t, other.Public().(ed25519.PublicKey), path); rep.Problem != ProblemCheckpoint || rep.Line != 6 {
		t.Fatalf("verified under another key: %+v", rep)
	}
	// A checkpoint re-signed with another key (an attacker rewriting the
	// chain) is reported.
	ls := lines(t, path)
	forged := make([][]byte, len(ls))
	copy(forged, ls)
	var cp struct {
		Seq        uint64     `json:"seq"`
		Prev       string     `json:"prev"`
		Checkpoint checkpoint `json:"checkpoint"`
	}
	if err := json.Unmarshal(ls[9], &cp); err != nil || cp.Checkpoint.Through != 9 {
		t.Fatalf("line 10 is not the second checkpoint: %s", ls[9])
	}
	msg := checkpointMessage(cp.Checkpoint.Through, cp.Checkpoint.Hash, cp.Checkpoint.Time)
	cp.Checkpoint.Signature = ed25519.Sign(other, msg)
	cp.Checkpoint.PublicKey = other.Public().(ed25519.PublicKey)
	body, _ := json.Marshal(struct {
		Checkpoint checkpoint `json:"checkpoint"`
	}{cp.Checkpoint})
	forged[9], _ = chain{seq: cp.Seq - 1, prev: cp.Prev}.next(body)
	p := filepath.Join(dir, "forged.log")
	writeLines(t, p, forged[:10])
	if rep := verify2(t, pub, p); rep.Problem != ProblemCheckpoint || rep.Line != 10 {
		t.Fatalf("forged checkpoint: %+v", rep)
	}
	// Cutting the tail after the last checkpoint leaves a valid chain:
	// the report says how much is not covered by a checkpoint.
	writeLines(t, p, ls[:11])
	if rep := verify2(t, pub, p); !rep.OK() || rep.Unprotected != 1 || rep.Checkpoints != 2 {
		t.Fatalf("truncated tail: %+v", rep)
	}
}

func verify2(t *testing.T, pub ed25519.PublicKey, files ...string) *VerifyReport {
	t.Helper()
	rep, err := Verify(files, pub)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRotationKeepsTheChain: a log rotated by size is several files, named
// after their first record, that verify as one chain in name order.
func TestRotationKeepsTheChain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := OpenFile(path, FileOptions{NoSync: true, MaxSize: 2000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if err := l.Write(context.Background(), &Record{RequestID: fmt.Sprint(i), Operation: "key.encrypt", Outcome: OutcomeAllowed}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rotated, err := filepath.Glob(path + ".*")
	if err != nil || len(rotated) < 3 {
		t.Fatalf("rotated files %v %v", rotated, err)
	}
	files := append(rotated, path) // Glob sorts; the live file is last
	if rep := verify(t, files...); !rep.OK() || rep.Records != 60 {
		t.Fatalf("rotated log: %+v", rep)
	}
	// Leaving out a rotated file in the middle is a gap.
	if rep := verify(t, append(append([]string{}, files[:1]...), files[2:]...)...); rep.Problem != ProblemMissing {
		t.Fatalf("a rotated file left out: %+v", rep)
	}
}
