package kms

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// lcClock is a settable clock for lifecycle tests.
type lcClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *lcClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *lcClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lcEnv is a dev-initialised service over a real bbolt file and audit log,
// with a fake clock.
type lcEnv struct {
	svc       *Service
	clock     *lcClock
	dbPath    string
	auditPath string
	ctx       context.Context
}

func newLCEnv(t *testing.T) *lcEnv {
	t.Helper()
	dir := t.TempDir()
	e := &lcEnv{clock: &lcClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, dbPath: filepath.Join(dir, "arca.db"), auditPath: filepath.Join(dir, "audit.log")}
	st, err := bolt.Open(e.dbPath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.OpenFile(e.auditPath, audit.FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = New(context.Background(), Options{Store: st, Audit: log, Now: e.clock.Now, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.svc.Close(); _ = log.Close(); _ = st.Close() })
	tok, err := e.svc.InitDev(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.svc.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	e.ctx = WithRequest(context.Background(), &Request{ID: "lc", Interface: "test", Identity: id})
	return e
}

func (e *lcEnv) encrypt(t *testing.T, key, pt string) string {
	t.Helper()
	res, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: key, Plaintext: []byte(pt)})
	if err != nil {
		t.Fatalf("encrypt under %s: %v", key, err)
	}
	return res.Ciphertext
}

func (e *lcEnv) decrypt(ct string, allowCompromised bool) (string, error) {
	res, err := e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: ct, AllowCompromised: allowCompromised})
	if err != nil {
		return "", err
	}
	defer res.Plaintext.Wipe()
	return string(res.Plaintext.Reveal()), nil
}

func (e *lcEnv) change(key string, version uint32, action string, days int) error {
	var err error
	if version == 0 {
		_, err = e.svc.ChangeKeyState(e.ctx, ChangeStateRequest{Key: key, Action: action, WaitingDays: days})
	} else {
		_, err = e.svc.ChangeVersionState(e.ctx, ChangeStateRequest{Key: key, Version: version, Action: action, WaitingDays: days})
	}
	return err
}

func lcWant(t *testing.T, what string, err error, want Code) {
	t.Helper()
	if CodeOf(err) != want {
		t.Fatalf("%s: got %v, want code %q", what, err, want)
	}
}

func TestKeyStatesGateEveryOperation(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	ct := e.encrypt(t, "k", "secret")
	steps := []struct {
		action       string
		encrypt      Code
		decrypt      Code
		decryptAllow Code
	}{
		{"suspend", CodeKeySuspended, CodeKeySuspended, CodeKeySuspended},
		{"resume", "", "", ""},
		{"deactivate", CodeKeyDeactivated, "", ""},
		{"compromise", CodeKeyCompromised, CodeKeyCompromised, ""},
		{"schedule-destruction", CodeKeyDestroyScheduled, "", ""},
		{"cancel-destruction", CodeKeyCompromised, CodeKeyCompromised, ""},
	}
	for _, st := range steps {
		if err := e.change("k", 0, st.action, 0); err != nil {
			t.Fatalf("%s: %v", st.action, err)
		}
		_, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "k", Plaintext: []byte("x")})
		lcWant(t, st.action+": encrypt", err, st.encrypt)
		_, err = e.decrypt(ct, false)
		lcWant(t, st.action+": decrypt", err, st.decrypt)
		got, err := e.decrypt(ct, true)
		lcWant(t, st.action+": decrypt allowing compromised", err, st.decryptAllow)
		if err == nil && got != "secret" {
			t.Fatalf("%s: decrypted %q", st.action, got)
		}
		_, err = e.svc.GenerateDataKey(e.ctx, DataKeyRequest{Key: "k"})
		lcWant(t, st.action+": datakey", err, st.encrypt)
	}
	// Illegal transitions are refused and change nothing.
	for _, a := range []string{"activate", "resume", "deactivate", "compromise", "cancel-destruction"} {
		lcWant(t, "compromised key: "+a, e.change("k", 0, a, 0), CodeIllegalTransition)
	}
	lcWant(t, "destroy by request", e.change("k", 0, "destroy", 0), CodeInvalidArgument)
	lcWant(t, "unknown action", e.change("k", 0, "explode", 0), CodeInvalidArgument)
	lcWant(t, "waiting days out of range", e.change("k", 0, "schedule-destruction", 366), CodeInvalidArgument)
	lcWant(t, "waiting days on another action", e.change("k", 0, "suspend", 3), CodeInvalidArgument)
	_, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "k"})
	lcWant(t, "rotate a compromised key", err, CodeKeyCompromised)

	// The audit record marks the use of a compromised key.
	data, err := os.ReadFile(e.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.CompromisedUse {
			marked++
			if r.Operation != OpDecrypt || r.Outcome != audit.OutcomeAllowed {
				t.Fatalf("compromised use marked on %+v", r)
			}
		}
	}
	if marked != 2 {
		t.Fatalf("%d audit records mark a compromised use, want 2", marked)
	}
}

func TestPreActiveKeyIsUnusableUntilActivated(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	k, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "later", PreActive: true})
	if err != nil || k.State != lifecycle.PreActive {
		t.Fatalf("create pre-active: %+v %v", k, err)
	}
	_, err = e.svc.Encrypt(e.ctx, EncryptRequest{Key: "later", Plaintext: []byte("x")})
	lcWant(t, "encrypt pre-active", err, CodeKeyPreActive)
	if err := e.change("later", 0, "activate", 0); err != nil {
		t.Fatal(err)
	}
	if got, err := e.decrypt(e.encrypt(t, "later", "now"), false); err != nil || got != "now" {
		t.Fatalf("after activation: %q %v", got, err)
	}
}

// materialBlobs returns every stored version's sealed material of a key.
func materialBlobs(t *testing.T, e *lcEnv, keyID string) [][]byte {
	t.Helper()
	kr, err := e.svc.unsealed()
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Release()
	var out [][]byte
	err = e.svc.store.View(context.Background(), func(tx storage.Tx) error {
		page, err := tx.List(nsKeyVersions, storage.ListOptions{Prefix: keyID + "/"})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			var vr versionRecord
			if err := decodeRecord(kr, nsKeyVersions, it.Key, it.Value, &vr); err != nil {
				return err
			}
			out = append(out, vr.Material)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fileHolds(t *testing.T, path string, blob []byte) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range [][]byte{blob, []byte(base64.StdEncoding.EncodeToString(blob)), []byte(base64.RawStdEncoding.EncodeToString(blob))} {
		if len(form) >= 16 && bytes.Contains(data, form) {
			return true
		}
	}
	return false
}

func TestScheduledDestructionShredsTheKeyAtTheDeadline(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	k, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "doomed"})
	if err != nil {
		t.Fatal(err)
	}
	ct1 := e.encrypt(t, "doomed", "one")
	if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "doomed"}); err != nil {
		t.Fatal(err)
	}
	ct2 := e.encrypt(t, "doomed", "two")
	blobs := materialBlobs(t, e, k.ID)
	if len(blobs) != 2 || !fileHolds(t, e.dbPath, blobs[0]) {
		t.Fatalf("expected 2 sealed materials in the file, got %d", len(blobs))
	}

	// An active key cannot be scheduled for destruction directly.
	lcWant(t, "schedule active", e.change("doomed", 0, "schedule-destruction", 1), CodeIllegalTransition)
	if err := e.change("doomed", 0, "deactivate", 0); err != nil {
		t.Fatal(err)
	}
	// Cancel restores the prior state and nothing is destroyed.
	if err := e.change("doomed", 0, "schedule-destruction", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.change("doomed", 0, "cancel-destruction", 0); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(48 * time.Hour)
	if rep, err := e.svc.RunDue(context.Background()); err != nil || rep.DestroyedKeys != 0 {
		t.Fatalf("cancelled destruction ran: %+v %v", rep, err)
	}
	if got, _ := e.svc.GetKey(e.ctx, "doomed"); got.State != lifecycle.Deactivated {
		t.Fatalf("state after cancel: %s", got.State)
	}

	if err := e.change("doomed", 0, "schedule-destruction", 1); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24*time.Hour - time.Second)
	if rep, err := e.svc.RunDue(context.Background()); err != nil || rep.DestroyedKeys != 0 {
		t.Fatalf("destroyed before the deadline: %+v %v", rep, err)
	}
	for _, ct := range []string{ct1, ct2} {
		if _, err := e.decrypt(ct, false); err != nil {
			t.Fatalf("before the deadline the key must still decrypt: %v", err)
		}
	}
	e.clock.Advance(time.Second)
	rep, err := e.svc.RunDue(context.Background())
	if err != nil || rep.DestroyedKeys != 1 {
		t.Fatalf("destruction at the deadline: %+v %v", rep, err)
	}
	for _, ct := range []string{ct1, ct2} {
		_, err := e.decrypt(ct, true)
		lcWant(t, "decrypt after destruction", err, CodeKeyDestroyed)
	}
	got, err := e.svc.GetKey(e.ctx, "doomed")
	if err != nil || got.State != lifecycle.Destroyed || got.DestroyedBy != "scheduler" || got.DestroyedAt.IsZero() || got.Name != "doomed" || got.Algorithm != crypto.AES256GCM {
		t.Fatalf("tombstone: %+v %v", got, err)
	}
	vs, err := e.svc.ListVersions(e.ctx, ListVersionsRequest{Key: "doomed"})
	if err != nil || len(vs.Versions) != 2 || vs.Versions[0].State != lifecycle.Destroyed || vs.Versions[1].State != lifecycle.Destroyed {
		t.Fatalf("version tombstones: %+v %v", vs, err)
	}
	for i, b := range blobs {
		if fileHolds(t, e.dbPath, b) {
			t.Fatalf("sealed material of version %d is still in the bbolt file", i+1)
		}
	}
	if err := e.change("doomed", 0, "cancel-destruction", 0); CodeOf(err) != CodeIllegalTransition {
		t.Fatalf("a destroyed key came back: %v", err)
	}
	data, _ := os.ReadFile(e.auditPath)
	if !strings.Contains(string(data), `"operation":"key.destroy"`) {
		t.Fatal("the destruction is not in the audit log")
	}
}

func TestDestroyingOneVersion(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "v"}); err != nil {
		t.Fatal(err)
	}
	old := e.encrypt(t, "v", "old")
	if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "v"}); err != nil {
		t.Fatal(err)
	}
	cur := e.encrypt(t, "v", "current")
	lcWant(t, "schedule the primary", e.change("v", 2, "schedule-destruction", 1), CodeIllegalTransition)
	if err := e.change("v", 1, "deactivate", 0); err != nil {
		t.Fatal(err)
	}
	if got, err := e.decrypt(old, false); err != nil || got != "old" {
		t.Fatalf("deactivated version decrypts: %q %v", got, err)
	}
	if err := e.change("v", 1, "schedule-destruction", 1); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Hour)
	if rep, err := e.svc.RunDue(context.Background()); err != nil || rep.DestroyedVersions != 1 {
		t.Fatalf("version destruction: %+v %v", rep, err)
	}
	_, err := e.decrypt(old, false)
	lcWant(t, "decrypt destroyed version", err, CodeKeyDestroyed)
	if got, err := e.decrypt(cur, false); err != nil || got != "current" {
		t.Fatalf("other version after destruction: %q %v", got, err)
	}
	// A compromised version refuses decryption unless allowed.
	if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "v"}); err != nil {
		t.Fatal(err)
	}
	if err := e.change("v", 2, "compromise", 0); err != nil {
		t.Fatal(err)
	}
	_, err = e.decrypt(cur, false)
	lcWant(t, "compromised version", err, CodeKeyCompromised)
	if got, err := e.decrypt(cur, true); err != nil || got != "current" {
		t.Fatalf("allowed compromised version: %q %v", got, err)
	}
}
