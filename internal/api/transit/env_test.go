package transit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/api/rest"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// env is the transit handler, and the REST handler beside it, over one
// real kms.Service with a real bbolt store and a real audit file, served
// on loopback by httptest. No mocks.
type env struct {
	dir   string
	svc   *kms.Service
	h     *Handler
	srv   *httptest.Server
	rest  *httptest.Server
	token string // the root token
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv returns a dev-initialised, unsealed service, closed when the
// test ends. opts.Logger defaults to a discarding one.
func newEnv(tb testing.TB, opts Options) *env {
	tb.Helper()
	e := openEnv(tb, opts)
	var err error
	if e.token, err = e.svc.InitDev(context.Background(), ""); err != nil {
		tb.Fatal(err)
	}
	return e
}

// openEnv returns a service that was never initialised.
func openEnv(tb testing.TB, opts Options) *env {
	tb.Helper()
	dir := tb.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "arca.db"), bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	al, err := audit.OpenFile(filepath.Join(dir, "audit.log"), audit.FileOptions{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := kms.New(context.Background(), kms.Options{Store: st, Audit: al, Logger: discardLogger(), Version: "test"})
	if err != nil {
		tb.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	e := &env{dir: dir, svc: svc, h: New(svc, opts)}
	e.srv = httptest.NewServer(e.h)
	e.rest = httptest.NewServer(rest.New(svc, rest.Options{Logger: discardLogger()}))
	tb.Cleanup(func() {
		e.srv.Close()
		e.rest.Close()
		svc.Close()
		_ = al.Close()
		_ = st.Close()
	})
	return e
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// data returns the envelope's data object.
func (r *response) data() map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

// str returns a string field of data.
func (r *response) str(name string) string {
	s, _ := r.data()[name].(string)
	return s
}

// errs returns Vault's errors list.
func (r *response) errs() []string {
	var out []string
	if l, ok := r.body["errors"].([]any); ok {
		for _, e := range l {
			s, _ := e.(string)
			out = append(out, s)
		}
	}
	return out
}

// items returns data.batch_results.
func (r *response) items() []map[string]any {
	var out []map[string]any
	l, _ := r.data()["batch_results"].([]any)
	for _, it := range l {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

// send sends a request to base with a token in X-Vault-Token (none if
// token is ""), as Vault clients do: no Content-Type.
func send(tb testing.TB, base, method, path, token, body string) *response {
	tb.Helper()
	return sendWith(tb, base, method, path, body, map[string]string{"X-Vault-Token": token})
}

func sendWith(tb testing.TB, base, method, path, body string, headers map[string]string) *response {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	out := &response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		tb.Fatalf("%s %s: body is not a JSON object: %v: %q", method, path, err, raw)
	}
	return out
}

// do calls the transit handler as root.
func (e *env) do(tb testing.TB, method, path, body string) *response {
	tb.Helper()
	return send(tb, e.srv.URL, method, path, e.token, body)
}

// must calls the transit handler as root and fails unless status is want.
func (e *env) must(tb testing.TB, want int, method, path, body string) *response {
	tb.Helper()
	r := e.do(tb, method, path, body)
	if r.status != want {
		tb.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.raw, want)
	}
	return r
}

// rootCtx is the context of a request by the root token, for calling the
// service directly (identities, tokens, sealing).
func (e *env) rootCtx(tb testing.TB) context.Context {
	tb.Helper()
	id, err := e.svc.Authenticate(context.Background(), e.token)
	if err != nil {
		tb.Fatal(err)
	}
	return kms.WithRequest(context.Background(), &kms.Request{ID: "test-" + time.Now().Format("150405.000000000"), Interface: "test", Identity: id})
}

// login creates a service identity with roles and returns a token for it
// and the token's accessor.
func (e *env) login(tb testing.TB, name string, roles ...access.Binding) (string, string) {
	tb.Helper()
	return e.loginWith(tb, name, roles, nil)
}

// loginWith creates a service identity with roles and access policies
// (created first) and returns a token for it and the token's accessor.
func (e *env) loginWith(tb testing.TB, name string, roles []access.Binding, policies []access.Policy) (string, string) {
	tb.Helper()
	ctx := e.rootCtx(tb)
	var names []string
	for _, p := range policies {
		if err := e.svc.PutAccessPolicy(ctx, p); err != nil {
			tb.Fatalf("PutAccessPolicy(%q): %v", p.Name, err)
		}
		names = append(names, p.Name)
	}
	if _, err := e.svc.CreateIdentity(ctx, kms.CreateIdentityRequest{Name: name, Type: kms.IdentityService, Roles: roles, Policies: names}); err != nil {
		tb.Fatalf("CreateIdentity(%q): %v", name, err)
	}
	tok, err := e.svc.CreateToken(ctx, kms.CreateTokenRequest{Identity: name, TTL: time.Hour})
	if err != nil {
		tb.Fatalf("CreateToken(%q): %v", name, err)
	}
	return tok.Token, tok.Accessor
}

// auditRecords reads every record of the audit file.
func (e *env) auditRecords(tb testing.TB) []audit.Record {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(e.dir, "audit.log"))
	if err != nil {
		tb.Fatal(err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("audit line is not a record: %v", err)
		}
		recs = append(recs, r)
	}
	return recs
}

// auditOf returns the records of the request whose id the response
// carries.
func (e *env) auditOf(tb testing.TB, r *response) []audit.Record {
	tb.Helper()
	id := r.header.Get("X-Request-Id")
	if id == "" {
		tb.Fatal("response without X-Request-Id")
	}
	var out []audit.Record
	for _, rec := range e.auditRecords(tb) {
		if rec.RequestID == id {
			out = append(out, rec)
		}
	}
	return out
}
