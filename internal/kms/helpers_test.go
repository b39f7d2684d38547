package kms

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/arcakms/arca/internal/crypto"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// testEnv is a Service over a real bbolt store and a real audit log, both in
// a private temporary directory.
type testEnv struct {
	tb        testing.TB
	dir       string
	dbPath    string
	auditPath string // empty unless the audit log is a FileLog in dir
	store     *bolt.Store
	audit     audit.Log
	svc       *Service

	// Set by initAndUnseal.
	shares    []string
	rootToken string
	root      *Identity
}

// envConfig tunes newTestEnv. The zero value gives a FileLog without fsync
// in the temporary directory and the default cache size.
type envConfig struct {
	// audit, if set, is used instead of a FileLog in the temporary directory.
	audit audit.Log
	// syncAudit makes the FileLog fsync every batch (production behaviour).
	syncAudit bool
	// auditMaxBatch bounds the FileLog's group commit (1: one fsync per
	// record); zero is the default.
	auditMaxBatch int
	// maxCachedKeys is passed to Options.MaxCachedKeys.
	maxCachedKeys int
	// now is passed to Options.Now.
	now func() time.Time
	// approvals is passed to Options.Approvals.
	approvals map[access.Action]ApprovalRule
}

// quietLogger drops operational logs: tests provoke errors on purpose.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a bbolt store at path and closes it when the test ends.
func openStore(tb testing.TB, path string) *bolt.Store {
	tb.Helper()
	st, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatalf("open bolt store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// openAuditFile opens a FileLog at path and closes it when the test ends.
func openAuditFile(tb testing.TB, path string, sync bool, maxBatch int) *audit.FileLog {
	tb.Helper()
	l, err := audit.OpenFile(path, audit.FileOptions{NoSync: !sync, MaxBatch: maxBatch})
	if err != nil {
		tb.Fatalf("open audit log: %v", err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	return l
}

// newService builds a Service over store and log.
func newService(tb testing.TB, store storage.Store, log audit.Log, cfg envConfig) *Service {
	tb.Helper()
	s, err := New(context.Background(), Options{
		Store: store, Audit: log, Logger: quietLogger(), Now: cfg.now,
		Version: "test", MaxCachedKeys: cfg.maxCachedKeys, Approvals: cfg.approvals,
	})
	if err != nil {
		tb.Fatalf("kms.New: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// newTestEnv builds an uninitialised Service over a fresh store and audit log.
func newTestEnv(tb testing.TB, cfg envConfig) *testEnv {
	tb.Helper()
	dir := tb.TempDir()
	e := &testEnv{tb: tb, dir: dir, dbPath: filepath.Join(dir, "arca.db")}
	e.store = openStore(tb, e.dbPath)
	if cfg.audit != nil {
		e.audit = cfg.audit
	} else {
		e.auditPath = filepath.Join(dir, "audit.log")
		e.audit = openAuditFile(tb, e.auditPath, cfg.syncAudit, cfg.auditMaxBatch)
	}
	e.svc = newService(tb, e.store, e.audit, cfg)
	return e
}

// initAndUnseal initialises the service with shares/threshold, unseals it
// with the first threshold shares and authenticates the root token.
func (e *testEnv) initAndUnseal(shares, threshold int) *InitResult {
	e.tb.Helper()
	res, err := e.svc.Init(anonCtx(), shares, threshold)
	if err != nil {
		e.tb.Fatalf("Init(%d, %d): %v", shares, threshold, err)
	}
	if len(res.Shares) != shares {
		e.tb.Fatalf("Init returned %d shares, want %d", len(res.Shares), shares)
	}
	e.shares, e.rootToken = res.Shares, res.RootToken
	e.unseal(res.Shares[:threshold]...)
	id, err := e.svc.Authenticate(context.Background(), res.RootToken)
	if err != nil {
		e.tb.Fatalf("Authenticate(root token): %v", err)
	}
	if !id.Root {
		e.tb.Fatalf("root token authenticated as non-root identity %+v", id)
	}
	e.root = id
	return res
}

// unseal submits shares and fails the test unless the service ends unsealed.
func (e *testEnv) unseal(shares ...string) {
	e.tb.Helper()
	for i, sh := range shares {
		if _, err := e.svc.Unseal(anonCtx(), sh); err != nil {
			e.tb.Fatalf("Unseal(share %d): %v", i, err)
		}
	}
	if st := e.svc.Status(); st.Sealed {
		e.tb.Fatalf("still sealed after %d shares: %+v", len(shares), st)
	}
}

// ctx returns a context for one request by the root identity.
func (e *testEnv) ctx() context.Context {
	e.tb.Helper()
	if e.root == nil {
		e.tb.Fatal("testEnv.ctx called before initAndUnseal")
	}
	return requestCtx(e.root)
}

// createKey creates a key and fails the test on error.
func (e *testEnv) createKey(name, alg string) *Key {
	e.tb.Helper()
	k, err := e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: name, Algorithm: alg})
	if err != nil {
		e.tb.Fatalf("CreateKey(%q, %q): %v", name, alg, err)
	}
	return k
}

var requestSeq atomic.Uint64

// nextRequestID returns a request id unique within the test binary.
func nextRequestID() string { return fmt.Sprintf("req-%d", requestSeq.Add(1)) }

// requestCtx returns a context carrying a new Request by id (nil: anonymous).
func requestCtx(id *Identity) context.Context {
	return WithRequest(context.Background(), &Request{ID: nextRequestID(), Interface: "test", Identity: id})
}

// anonCtx is a request context without an identity, as for the sys endpoints
// that need none (init, unseal, status).
func anonCtx() context.Context { return requestCtx(nil) }

// wantCode fails the test unless err carries the code want ("" means nil).
func wantCode(tb testing.TB, what string, err error, want Code) {
	tb.Helper()
	if got := CodeOf(err); got != want {
		tb.Errorf("%s: error code %q (err = %v), want %q", what, got, err, want)
	}
}

// readAuditRecords parses every line of a FileLog file.
func readAuditRecords(tb testing.TB, path string) []audit.Record {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatalf("read audit log: %v", err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("audit line %d is not a record: %v: %q", len(recs)+1, err, sc.Text())
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("scan audit log: %v", err)
	}
	return recs
}

// storeSnapshot is every item of the service's namespaces: key → value and
// revision, for comparing the store before and after an operation.
type storeSnapshot map[string]string

func snapshotStore(tb testing.TB, st storage.Store) storeSnapshot {
	tb.Helper()
	snap := storeSnapshot{}
	err := st.View(context.Background(), func(tx storage.Tx) error {
		nss, err := tx.Namespaces()
		if err != nil {
			return err
		}
		for _, ns := range nss {
			after := ""
			for {
				page, err := tx.List(ns, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
				if err != nil {
					return err
				}
				for _, it := range page.Items {
					snap[string(ns)+"\x00"+it.Key] = fmt.Sprintf("%d:%x", it.Revision, it.Value)
				}
				if page.Next == "" {
					break
				}
				after = page.Next
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("snapshot store: %v", err)
	}
	return snap
}

// diff describes how two snapshots differ ("" if they are equal).
func (a storeSnapshot) diff(b storeSnapshot) string {
	var out string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out += fmt.Sprintf("removed %q\n", k)
		} else if v != w {
			out += fmt.Sprintf("changed %q\n", k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out += fmt.Sprintf("added %q\n", k)
		}
	}
	return out
}

// cacheSize returns the number of cached keys and name entries, read under
// the cache's lock.
func cacheSize(s *Service) (byID, names int) {
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	return len(s.keys.byID), len(s.keys.names)
}

// encryptAlgorithms lists the algorithms whose keys encrypt.
func encryptAlgorithms() []crypto.Algorithm {
	var out []crypto.Algorithm
	for _, a := range crypto.Algorithms() {
		if a.Encrypts() {
			out = append(out, a)
		}
	}
	return out
}
