package server

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/hsm/hsmtest"
)

// TestPKCS11SealedServer: a server with the PKCS#11 seal is initialised
// without shares, unseals itself after a restart and decrypts what it
// encrypted before; with its token absent it stays sealed and says why.
func TestPKCS11SealedServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := hsmtest.Token(t)
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.Seal = config.Seal{Type: "pkcs11", PKCS11: config.PKCS11{Module: tok.Module, TokenLabel: tok.TokenLabel, PINFile: pinFile}}
	start := func(cfg config.Config) *node {
		t.Helper()
		srv, err := Start(context.Background(), cfg, Options{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		n := &node{t: t, dir: dir, srv: srv, url: srv.URL(), http: newHTTPClient()}
		t.Cleanup(n.stop)
		return n
	}
	n := start(cfg)
	wantError(t, n.call("POST", "/v1/sys/init", map[string]any{"seal": "pkcs11", "shares": 3, "threshold": 2}), 400, "invalid_argument")
	wantError(t, n.call("POST", "/v1/sys/init", map[string]any{"recovery_shares": 3, "recovery_threshold": 2}), 400, "invalid_argument")
	init := n.must(200, "POST", "/v1/sys/init", map[string]any{"seal": "pkcs11", "recovery_shares": 3, "recovery_threshold": 2})
	if shares := init.body["shares"]; shares != nil && len(shares.([]any)) != 0 {
		t.Fatalf("a PKCS#11 init returned unseal shares: %s", init.raw)
	}
	recovery, _ := init.body["recovery_shares"].([]any)
	if len(recovery) != 3 {
		t.Fatalf("a PKCS#11 init with a recovery key: %s", init.raw)
	}
	n.token = init.str("root_token")
	if st := n.must(200, "GET", "/v1/sys/seal-status", nil); st.body["sealed"] != false || st.str("type") != "pkcs11" {
		t.Fatalf("after init: %s", st.raw)
	}
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k"})
	ct := n.must(200, "POST", "/v1/keys/k/encrypt", map[string]string{"plaintext": base64.StdEncoding.EncodeToString([]byte("x"))}).str("ciphertext")
	// A keyring rotation: a key made afterwards is sealed by generation 2.
	if rot := n.must(200, "POST", "/v1/sys/keyring/rotate", map[string]any{}); rot.body["current_generation"] != 2.0 {
		t.Fatalf("keyring rotation: %s", rot.raw)
	}
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k2"})
	ct2 := n.must(200, "POST", "/v1/keys/k2/encrypt", map[string]string{"plaintext": base64.StdEncoding.EncodeToString([]byte("y"))}).str("ciphertext")
	// An HSM-protected key: same API, protection shown.
	if hk := n.must(201, "POST", "/v1/keys", map[string]string{"name": "hk", "protection": "hsm"}); hk.str("protection") != "hsm" {
		t.Fatalf("HSM-protected key: %s", hk.raw)
	}
	ct3 := n.must(200, "POST", "/v1/keys/hk/encrypt", map[string]string{"plaintext": base64.StdEncoding.EncodeToString([]byte("z"))}).str("ciphertext")
	wantError(t, n.call("POST", "/v1/keys", map[string]any{"name": "hx", "protection": "hsm", "exportable": true}), 400, "invalid_argument")
	n.stop()

	n = start(cfg)
	n.token = init.str("root_token")
	n.waitHealthy()
	n.must(200, "POST", "/v1/decrypt", map[string]string{"ciphertext": ct})
	n.must(200, "POST", "/v1/decrypt", map[string]string{"ciphertext": ct2})
	if pt := n.must(200, "POST", "/v1/decrypt", map[string]string{"ciphertext": ct3}); pt.str("plaintext") != base64.StdEncoding.EncodeToString([]byte("z")) {
		t.Fatalf("decrypt under the HSM-protected key after restart: %s", pt.raw)
	}
	if st := n.must(200, "GET", "/v1/sys/keyring", nil); st.body["current_generation"] != 2.0 || len(st.body["generations"].([]any)) != 2 {
		t.Fatalf("keyring after restart: %s", st.raw)
	}
	// Break glass after the restart: two recovery shares make a root token.
	n.token = ""
	n.must(200, "POST", "/v1/sys/generate-root", map[string]any{"share": recovery[2]})
	g := n.must(200, "POST", "/v1/sys/generate-root", map[string]any{"share": recovery[0]})
	n.token = g.str("root_token")
	if n.token == "" {
		t.Fatalf("break glass with recovery shares: %s", g.raw)
	}
	n.must(200, "GET", "/v1/keys/k", nil)
	n.stop()

	absent := cfg
	absent.Seal.PKCS11.TokenLabel = "not-plugged-in"
	n = start(absent)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := n.must(200, "GET", "/v1/sys/seal-status", nil)
		if st.body["sealed"] == true && strings.Contains(st.str("reason"), "not-plugged-in") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("seal status without the token: %s", st.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
