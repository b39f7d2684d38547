package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/config"
)

// node is a real server on an ephemeral loopback port over real files.
type node struct {
	t     *testing.T
	dir   string
	srv   *Server
	url   string
	token string
	http  *http.Client
}

func testConfig(dir string) config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Storage.Path = filepath.Join(dir, "arca.db")
	cfg.Audit.Path = filepath.Join(dir, "audit.log")
	return cfg
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startNode starts a server over the files in dir (created if needed).
func startNode(t *testing.T, dir string) *node {
	t.Helper()
	srv, err := Start(context.Background(), testConfig(dir), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	n := &node{t: t, dir: dir, srv: srv, url: srv.URL(), http: newHTTPClient()}
	t.Cleanup(func() { n.stop() })
	return n
}

// startWith starts a server with cfg over the files in dir, initialises it
// with one share and unseals it; the node holds the root token.
func startWith(t *testing.T, dir string, cfg config.Config, opts Options) *node {
	t.Helper()
	opts.Logger = quietLogger()
	srv, err := Start(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	n := &node{t: t, dir: dir, srv: srv, url: srv.URL(), http: newHTTPClient()}
	t.Cleanup(func() { n.stop() })
	init := n.must(200, "POST", "/v1/sys/init", map[string]int{"shares": 1, "threshold": 1})
	n.token = init.str("root_token")
	n.must(200, "POST", "/v1/sys/unseal", map[string]any{"share": init.body["shares"].([]any)[0]})
	return n
}

// startDev starts a dev-mode server (auto-initialised and unsealed).
func startDev(t *testing.T) *node {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	srv, err := Start(context.Background(), cfg, Options{Dev: true, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("start dev server: %v", err)
	}
	n := &node{t: t, srv: srv, url: srv.URL(), token: srv.RootToken(), http: newHTTPClient()}
	t.Cleanup(func() { n.stop() })
	return n
}

func (n *node) stop() {
	if n.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		n.t.Errorf("shutdown: %v", err)
	}
	n.srv = nil
}

// restart stops the server and starts a new one over the same files.
func (n *node) restart() {
	n.t.Helper()
	n.stop()
	srv, err := Start(context.Background(), testConfig(n.dir), Options{Logger: quietLogger()})
	if err != nil {
		n.t.Fatalf("restart server: %v", err)
	}
	n.srv, n.url = srv, srv.URL()
}

// response is a decoded API response.
type response struct {
	status    int
	requestID string
	raw       []byte
	body      map[string]any
}

// code returns the error code of an error response.
func (r response) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) str(field string) string {
	s, _ := r.body[field].(string)
	return s
}

// call sends a request with a JSON body (a string is sent verbatim) and the
// node's token.
func (n *node) call(method, path string, body any) response {
	n.t.Helper()
	return n.callWith(method, path, n.token, "application/json", body)
}

func (n *node) callWith(method, path, token, contentType string, body any) response {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, n.url+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if rd != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, requestID: resp.Header.Get("X-Request-Id"), raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		n.t.Fatalf("%s %s: response is not JSON (%d): %q", method, path, resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		n.t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	return r
}

// must asserts a status and returns the response.
func (n *node) must(status int, method, path string, body any) response {
	n.t.Helper()
	r := n.call(method, path, body)
	if r.status != status {
		n.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

// wantError asserts an error response's status and code.
func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.code() != code {
		t.Fatalf("got %d %q, want %d %q: %s", r.status, r.code(), status, code, r.raw)
	}
	if msg, _ := r.body["error"].(map[string]any)["message"].(string); msg == "" {
		t.Fatalf("error without message: %s", r.raw)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// initNode initialises a fresh node with 5 shares, threshold 3, unseals it
// with the first three, and sets its token.
func initNode(t *testing.T, n *node) []string {
	t.Helper()
	r := n.must(200, "POST", "/v1/sys/init", map[string]int{"shares": 5, "threshold": 3})
	var shares []string
	for _, s := range r.body["shares"].([]any) {
		shares = append(shares, s.(string))
	}
	n.token = r.str("root_token")
	if len(shares) != 5 || !strings.HasPrefix(n.token, "arca_") {
		t.Fatalf("bad init response: %s", r.raw)
	}
	for _, s := range shares[:3] {
		n.must(200, "POST", "/v1/sys/unseal", map[string]string{"share": s})
	}
	return shares
}

// encrypt encrypts plaintext under key and returns the ciphertext.
func (n *node) encrypt(key, plaintext string, ctx map[string]string) string {
	n.t.Helper()
	body := map[string]any{"plaintext": b64(plaintext)}
	if ctx != nil {
		body["context"] = ctx
	}
	return n.must(200, "POST", "/v1/keys/"+key+"/encrypt", body).str("ciphertext")
}

// decrypt decrypts a ciphertext and returns the plaintext.
func (n *node) decrypt(ct string, ctx map[string]string) string {
	n.t.Helper()
	body := map[string]any{"ciphertext": ct}
	if ctx != nil {
		body["context"] = ctx
	}
	return unb64(n.t, n.must(200, "POST", "/v1/decrypt", body).str("plaintext"))
}

func newHTTPClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
