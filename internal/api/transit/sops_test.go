package transit

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arcakms/arca/internal/access"
)

// sopsBinary finds the sops command: on PATH, else in $(go env GOPATH)/bin,
// where `go install github.com/getsops/sops/v3/cmd/sops@v3.13.3` puts it.
// Without it the test is skipped, unless CI=true, where it must run.
func sopsBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("sops"); err == nil {
		return p
	}
	if gobin, err := exec.LookPath("go"); err == nil {
		out, err := exec.Command(gobin, "env", "GOPATH").Output()
		if err == nil {
			for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
				p := filepath.Join(dir, "bin", "sops")
				if _, err := os.Stat(p); err == nil {
					return p
				}
			}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("sops is not installed: go install github.com/getsops/sops/v3/cmd/sops@v3.13.3")
	}
	t.Skip("sops is not installed (go install github.com/getsops/sops/v3/cmd/sops@v3.13.3)")
	return ""
}

// wire records what a client sends: method, path, and which of the
// headers that matter were present.
type wire struct {
	mu   sync.Mutex
	reqs []string
}

func (w *wire) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var hs []string
		for _, h := range []string{"X-Vault-Token", "X-Vault-Request", "Authorization", "Content-Type"} {
			if v := r.Header.Get(h); v != "" {
				if h == "X-Vault-Request" || h == "Content-Type" {
					h += "=" + v
				}
				hs = append(hs, h)
			}
		}
		w.mu.Lock()
		w.reqs = append(w.reqs, fmt.Sprintf("%s %s [%s] -> %d", r.Method, r.URL.RequestURI(), strings.Join(hs, " "), rec.Code))
		w.mu.Unlock()
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes())
	})
}

// take returns the requests recorded since the last take.
func (w *wire) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.reqs
	w.reqs = nil
	return out
}

// TestSOPS drives the real sops binary against the transit API over
// loopback: it encrypts a YAML file to an Arca key and decrypts it, with
// the token of an identity allowed to use the key; once that token is
// revoked, decryption fails with Vault's permission denied. The requests
// sops makes are pinned: one PUT to encrypt/<key> when encrypting, one to
// decrypt/<key> when decrypting, authenticated by X-Vault-Token.
func TestSOPS(t *testing.T) {
	sops := sopsBinary(t)
	t.Parallel()
	e := newEnv(t, Options{})
	var w wire
	srv := httptest.NewServer(w.wrap(e.h))
	t.Cleanup(srv.Close)
	e.must(t, 200, "PUT", "/v1/transit/keys/sops-key", ``)
	token, accessor := e.login(t, "sops-user", access.Binding{Role: access.RoleCryptoUser, Scope: []string{"key:sops-*"}})

	dir := t.TempDir()
	plain := "database:\n    user: app\n    password: hunter2\napi_keys:\n    - abc123\n    - def456\n"
	if err := os.WriteFile(filepath.Join(dir, "secrets.yaml"), []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(token string, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, sops, args...)
		cmd.Dir = dir
		// A clean environment: no ~/.vault-token, no .sops.yaml, no
		// ambient VAULT_* settings.
		cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "VAULT_ADDR=" + srv.URL, "VAULT_TOKEN=" + token,
			"VAULT_MAX_RETRIES=0"}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	keyURL := srv.URL + "/v1/transit/keys/sops-key"
	enc, stderr, err := run(token, "encrypt", "--hc-vault-transit", keyURL, "secrets.yaml")
	if err != nil {
		t.Fatalf("sops encrypt: %v\n%s", err, stderr)
	}
	calls := w.take()
	t.Logf("sops encrypt made: %q", calls)
	if len(calls) != 1 || !strings.HasPrefix(calls[0], "PUT /v1/transit/encrypt/sops-key [X-Vault-Token") || !strings.HasSuffix(calls[0], "-> 200") {
		t.Errorf("sops encrypt requests %q, want one PUT /v1/transit/encrypt/sops-key with X-Vault-Token", calls)
	}
	if strings.Contains(enc, "hunter2") || !strings.Contains(enc, "hc_vault") || !strings.Contains(enc, "vault:v1:") {
		t.Fatalf("encrypted file:\n%s", enc)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets.enc.yaml"), []byte(enc), 0o600); err != nil {
		t.Fatal(err)
	}

	dec, stderr, err := run(token, "decrypt", "secrets.enc.yaml")
	if err != nil {
		t.Fatalf("sops decrypt: %v\n%s", err, stderr)
	}
	calls = w.take()
	t.Logf("sops decrypt made: %q", calls)
	if len(calls) != 1 || !strings.HasPrefix(calls[0], "PUT /v1/transit/decrypt/sops-key [X-Vault-Token") || !strings.HasSuffix(calls[0], "-> 200") {
		t.Errorf("sops decrypt requests %q", calls)
	}
	var got, want any
	if err := yaml.Unmarshal([]byte(dec), &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(plain), &want); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("round trip:\n%s\nwant:\n%s", dec, plain)
	}

	// The data key sops stored is an Arca ciphertext of the named key:
	// the root token can decrypt it through the REST API too.
	var doc struct {
		Sops struct {
			HCVault []struct {
				Enc string `yaml:"enc"`
			} `yaml:"hc_vault"`
		} `yaml:"sops"`
	}
	if err := yaml.Unmarshal([]byte(enc), &doc); err != nil || len(doc.Sops.HCVault) != 1 {
		t.Fatalf("sops metadata: %v", err)
	}
	arca, err := fromVaultCiphertext(doc.Sops.HCVault[0].Enc)
	if err != nil {
		t.Fatal(err)
	}
	r := sendWith(t, e.rest.URL, "POST", "/v1/keys/sops-key/decrypt", `{"ciphertext":"`+arca+`"}`,
		map[string]string{"Authorization": "Bearer " + e.token, "Content-Type": "application/json"})
	if r.status != 200 {
		t.Errorf("REST decrypt of the sops data key: %d %s", r.status, r.raw)
	}

	if err := e.svc.RevokeToken(e.rootCtx(t), accessor); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = run(token, "decrypt", "secrets.enc.yaml")
	if err == nil {
		t.Fatal("sops decrypted with a revoked token")
	}
	t.Logf("sops with a revoked token: %s", strings.TrimSpace(stderr))
	if !strings.Contains(stderr, "permission denied") {
		t.Errorf("sops error does not say permission denied:\n%s", stderr)
	}
	calls = w.take()
	t.Logf("sops decrypt with a revoked token made: %q", calls)
	if len(calls) != 1 || !strings.HasSuffix(calls[0], "-> 403") {
		t.Errorf("requests %q", calls)
	}
}
