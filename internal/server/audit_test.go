package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/audit"
)

func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line is not JSON: %q", sc.Text())
		}
		if _, ok := r["checkpoint"]; ok {
			continue // a signed checkpoint, not a request's record
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestAuditHasOneLinePerRequestAndNoSecrets(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	var ids []string
	track := func(r response) response { ids = append(ids, r.requestID); return r }

	track(n.must(200, "GET", "/v1/sys/seal-status", nil))
	init := track(n.must(200, "POST", "/v1/sys/init", map[string]int{"shares": 3, "threshold": 2}))
	n.token = init.str("root_token")
	shares := init.body["shares"].([]any)
	for _, s := range shares[:2] {
		track(n.must(200, "POST", "/v1/sys/unseal", map[string]any{"share": s}))
	}
	const marker = "PLAINTEXT-MARKER-7f3a9c"
	track(n.must(201, "POST", "/v1/keys", map[string]string{"name": "audited"}))
	enc := track(n.must(200, "POST", "/v1/keys/audited/encrypt", map[string]any{"plaintext": b64(marker), "context": map[string]string{"user": "CONTEXT-VALUE-51ee"}}))
	track(n.must(200, "POST", "/v1/decrypt", map[string]any{"ciphertext": enc.str("ciphertext"), "context": map[string]string{"user": "CONTEXT-VALUE-51ee"}}))
	dk := track(n.must(200, "POST", "/v1/keys/audited/datakey", nil))
	rnd := track(n.must(200, "POST", "/v1/random", map[string]int{"bytes": 32}))
	track(n.must(200, "POST", "/v1/keys/audited/rotate", nil))
	track(n.must(200, "POST", "/v1/keys/audited/rewrap", map[string]any{"ciphertext": enc.str("ciphertext"), "context": map[string]string{"user": "CONTEXT-VALUE-51ee"}}))
	track(n.must(200, "POST", "/v1/batch/encrypt", map[string]any{"items": []any{map[string]any{"key": "audited", "plaintext": b64(marker)}}}))
	// Denied and failed requests are audited too.
	denied := track(n.callWith("GET", "/v1/keys", "arca_wrong-token-0000000000", "", nil))
	track(n.call("POST", "/v1/keys/audited/encrypt", `{"plaintext":`))
	track(n.call("GET", "/v1/no-such-route", nil))
	track(n.call("POST", "/v1/keys/missing/encrypt", map[string]any{"plaintext": b64(marker)}))
	n.stop()

	recs := readAudit(t, testConfig(n.dir).Audit.Path)
	if len(recs) != len(ids) {
		t.Fatalf("audit has %d records for %d requests", len(recs), len(ids))
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[r["request_id"].(string)]++
		for _, f := range []string{"time", "request_id", "operation", "outcome", "interface"} {
			if r[f] == nil || r[f] == "" {
				t.Fatalf("record without %s: %v", f, r)
			}
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("request %s has %d audit records", id, seen[id])
		}
	}
	byID := map[string]map[string]any{}
	for _, r := range recs {
		byID[r["request_id"].(string)] = r
	}
	if r := byID[denied.requestID]; r["outcome"] != "denied" || r["error_code"] != "unauthorized" {
		t.Fatalf("denied request record: %v", r)
	}
	if r := byID[enc.requestID]; r["outcome"] != "allowed" || r["operation"] != "key.encrypt" || r["key_id"] != enc.str("key_id") || r["key_version"] != 1.0 || r["identity"] == nil {
		t.Fatalf("encrypt record: %v", r)
	}

	data, err := os.ReadFile(testConfig(n.dir).Audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	dek, _ := base64.StdEncoding.DecodeString(dk.str("plaintext"))
	rb, _ := base64.StdEncoding.DecodeString(rnd.str("random"))
	forbidden := map[string][]byte{
		"plaintext":            []byte(marker),
		"plaintext base64":     []byte(b64(marker)),
		"context value":        []byte("CONTEXT-VALUE-51ee"),
		"root token":           []byte(n.token),
		"data key base64":      []byte(dk.str("plaintext")),
		"data key raw":         dek,
		"random bytes base64":  []byte(rnd.str("random")),
		"random bytes raw":     rb,
		"unseal share":         []byte(shares[0].(string)),
		"ciphertext (payload)": []byte(enc.str("ciphertext")),
	}
	for what, b := range forbidden {
		if bytes.Contains(data, b) {
			t.Errorf("audit log contains the %s", what)
		}
	}
}

func TestAuditWriteFailureFailsClosed(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	cfg := testConfig(t.TempDir())
	cfg.Audit.Path = "/dev/full" // every write fails with ENOSPC
	srv, err := Start(context.Background(), cfg, Options{Dev: false, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, srv: srv, url: srv.URL(), http: newHTTPClient()}
	t.Cleanup(n.stop)
	r := n.call("POST", "/v1/sys/init", map[string]int{"shares": 3, "threshold": 2})
	wantError(t, r, 503, "audit_unavailable")
	if _, ok := r.body["root_token"]; ok {
		t.Fatal("a result was returned although it could not be audited")
	}
	if st := srv.Service().Status(); st.Initialized {
		t.Fatal("an initialisation that could not be audited was kept")
	}
	wantError(t, n.call("GET", "/v1/sys/seal-status", nil), 503, "audit_unavailable")
}

// TestShutdownWritesAVerifiableCheckpoint: the server's last act is a
// signed checkpoint that verifies under its audit public key.
func TestShutdownWritesAVerifiableCheckpoint(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	init := n.must(200, "POST", "/v1/sys/init", map[string]int{"shares": 1, "threshold": 1})
	n.token = init.str("root_token")
	n.must(200, "POST", "/v1/sys/unseal", map[string]any{"share": init.body["shares"].([]any)[0]})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k"})
	pk := n.must(200, "GET", "/v1/audit/public-key", nil)
	raw, err := base64.StdEncoding.DecodeString(pk.str("public_key"))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		t.Fatalf("public key %q: %v", pk.str("public_key"), err)
	}
	path := testConfig(n.dir).Audit.Path
	n.stop()
	rep, err := audit.Verify([]string{path}, ed25519.PublicKey(raw))
	if err != nil || !rep.OK() || rep.Checkpoints != 1 || rep.Unprotected != 0 {
		t.Fatalf("verify after shutdown: %+v %v", rep, err)
	}
}

// TestCheckpointsAtTheConfiguredInterval: a running server appends signed
// checkpoints on audit.checkpoint_interval, independently of the scheduler
// (whose interval here is an hour), and only when records were written.
func TestCheckpointsAtTheConfiguredInterval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Audit.CheckpointInterval = time.Second
	n := startWith(t, dir, cfg, Options{SchedulerInterval: time.Hour})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k"})
	checkpoints := func() int {
		b, err := os.ReadFile(cfg.Audit.Path)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(b, []byte(`"checkpoint"`))
	}
	deadline := time.Now().Add(20 * time.Second)
	for checkpoints() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint was written while the server ran")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Nothing new is logged meanwhile, so no further checkpoint is added.
	time.Sleep(2500 * time.Millisecond)
	if c := checkpoints(); c != 1 {
		t.Fatalf("%d checkpoints with nothing logged in between", c)
	}
}
