package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/kms"
)

func TestApprovalAndSoDConfiguration(t *testing.T) {
	t.Parallel()
	rules, err := approvalRules([]config.Approval{{Action: "key:destroy", Approvers: 2, TTL: "2d"}, {Action: "key:export", Approvers: 1}})
	if err != nil || rules[access.KeyDestroy] != (kms.ApprovalRule{Approvers: 2, TTL: 48 * time.Hour}) || rules[access.KeyExport].TTL != 24*time.Hour {
		t.Fatalf("rules %v %v", rules, err)
	}
	for _, bad := range [][]config.Approval{
		{{Action: "key:encrypt", Approvers: 2}},
		{{Action: "key:destroy", Approvers: 0}},
		{{Action: "key:destroy", Approvers: 2, TTL: "soon"}},
		{{Action: "key:destroy", Approvers: 2}, {Action: "key:destroy", Approvers: 3}},
	} {
		if _, err := approvalRules(bad); err == nil {
			t.Errorf("approvals %v accepted", bad)
		}
	}
	if sod, err := sodRules(nil); err != nil || sod != nil {
		t.Fatalf("absent SoD: %v %v", sod, err)
	}
	if sod, err := sodRules(&[]config.SoDRule{}); err != nil || sod == nil || len(sod) != 0 {
		t.Fatalf("empty SoD: %v %v", sod, err)
	}
	sod, err := sodRules(&[]config.SoDRule{{Roles: []string{"approver", "key-custodian"}, Reason: "custodians do not approve"}})
	if err != nil || len(sod) != 1 || sod[0].Roles != [2]string{"approver", "key-custodian"} {
		t.Fatalf("SoD %v %v", sod, err)
	}
	for _, bad := range []config.SoDRule{{Roles: []string{"approver"}, Reason: "x"}, {Roles: []string{"approver", "root"}, Reason: "x"}, {Roles: []string{"approver", "auditor"}}} {
		if _, err := sodRules(&[]config.SoDRule{bad}); err == nil || !strings.Contains(err.Error(), "separation_of_duties") {
			t.Errorf("SoD rule %v: %v", bad, err)
		}
	}
}

// TestAuditSinksFromConfiguration: a server configured with a webhook sink
// sends it every request's record; invalid sinks stop the server.
func TestAuditSinksFromConfiguration(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b...)
		mu.Unlock()
	}))
	defer hook.Close()
	cfg := testConfig(t.TempDir())
	cfg.Audit.Sinks = []config.AuditSink{{Type: "webhook", URL: hook.URL}}
	srv, err := Start(context.Background(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, srv: srv, url: srv.URL(), http: newHTTPClient()}
	n.must(200, "GET", "/v1/sys/seal-status", nil)
	n.stop()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(string(got), `"operation":"sys.seal_status"`) {
		t.Fatalf("the webhook got %q", got)
	}
	for _, bad := range []config.AuditSink{{Type: "kafka"}, {Type: "syslog"}, {Type: "syslog", Network: "sctp", Address: "x:1"}, {Type: "webhook", URL: "ftp://x"}} {
		if _, err := auditSinks([]config.AuditSink{bad}); err == nil {
			t.Errorf("sink %+v accepted", bad)
		}
	}
}

// TestSinksCarryNoSecrets runs real requests on a dev server whose audit
// trail is copied to a webhook and checks the copy holds no plaintext, data
// key, random bytes, token or context value.
func TestSinksCarryNoSecrets(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b...)
		mu.Unlock()
	}))
	defer hook.Close()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Audit.Sinks = []config.AuditSink{{Type: "webhook", URL: hook.URL}}
	srv, err := Start(context.Background(), cfg, Options{Dev: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, srv: srv, url: srv.URL(), token: srv.RootToken(), http: newHTTPClient()}
	const marker = "SINK-PLAINTEXT-MARKER-93c1"
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k"})
	enc := n.must(200, "POST", "/v1/keys/k/encrypt", map[string]any{"plaintext": b64(marker), "context": map[string]string{"tenant": "SINK-CONTEXT-VALUE-77"}})
	dec := n.must(200, "POST", "/v1/decrypt", map[string]any{"ciphertext": enc.str("ciphertext"), "context": map[string]string{"tenant": "SINK-CONTEXT-VALUE-77"}})
	dk := n.must(200, "POST", "/v1/keys/k/datakey", nil)
	rnd := n.must(200, "POST", "/v1/random", map[string]int{"bytes": 32})
	token := srv.RootToken()
	n.stop()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(string(got), `"operation":"key.encrypt"`) {
		t.Fatalf("the sink got no encrypt record: %q", got)
	}
	for what, secret := range map[string]string{
		"plaintext": marker, "plaintext (base64)": b64(marker), "decrypted": dec.str("plaintext"),
		"data key": dk.str("plaintext"), "random": rnd.str("random"), "token": token, "context value": "SINK-CONTEXT-VALUE-77",
	} {
		if secret == "" {
			t.Errorf("the test has no %s to look for", what)
		}
		if secret != "" && strings.Contains(string(got), secret) {
			t.Errorf("the sink's copy holds the %s", what)
		}
	}
}
