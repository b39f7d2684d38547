package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// restEnv is the REST handler over a real kms.Service, a real bbolt store
// and a real audit FileLog, all in one private directory. No mocks.
type restEnv struct {
	dir   string
	store *bolt.Store
	audit *audit.FileLog
	svc   *kms.Service
	h     *Handler

	// Set by init (dev initialisation) and seed.
	token      string
	keyID      string // id of key "alpha"
	ciphertext string // "hello" encrypted under "alpha"
}

// discardLogger drops operational logs: the tests provoke errors on purpose.
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openRestEnv opens (or reopens) the store and audit log in dir and builds a
// sealed service and its handler. Callers own close.
func openRestEnv(dir string) (*restEnv, error) {
	st, err := bolt.Open(filepath.Join(dir, "arca.db"), bolt.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	al, err := audit.OpenFile(filepath.Join(dir, "audit.log"), audit.FileOptions{NoSync: true})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	svc, err := kms.New(context.Background(), kms.Options{Store: st, Audit: al, Logger: discardLogger(), Version: "test"})
	if err != nil {
		_ = al.Close()
		_ = st.Close()
		return nil, err
	}
	return &restEnv{dir: dir, store: st, audit: al, svc: svc, h: New(svc, Options{Logger: discardLogger()})}, nil
}

func (e *restEnv) close() {
	e.svc.Close()
	_ = e.audit.Close()
	_ = e.store.Close()
}

// devInit dev-initialises the service (initialised and unsealed).
func (e *restEnv) devInit() error {
	tok, err := e.svc.InitDev(context.Background(), "")
	if err != nil {
		return err
	}
	e.token = tok
	return nil
}

// seedKeys creates a few keys through the API and one valid ciphertext.
func (e *restEnv) seedKeys() error {
	for _, body := range []string{
		`{"name":"alpha"}`,
		`{"name":"beta","algorithm":"chacha20-poly1305","description":"second","labels":{"team":"payments"}}`,
		`{"name":"gamma.v1_x-y","owner":"ops"}`,
	} {
		rec := e.serve(http.MethodPost, "/v1/keys", "application/json", []byte(body), true)
		if rec.Code != http.StatusCreated {
			return fmt.Errorf("create key %s: %d %s", body, rec.Code, rec.Body)
		}
		if strings.Contains(body, `"alpha"`) {
			var k struct{ ID string }
			if err := json.Unmarshal(rec.Body.Bytes(), &k); err != nil {
				return err
			}
			e.keyID = k.ID
		}
	}
	rec := e.serve(http.MethodPost, "/v1/keys/alpha/encrypt", "application/json", []byte(`{"plaintext":"aGVsbG8="}`), true)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("encrypt: %d %s", rec.Code, rec.Body)
	}
	var c struct{ Ciphertext string }
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || c.Ciphertext == "" {
		return fmt.Errorf("encrypt response %s: %v", rec.Body, err)
	}
	e.ciphertext = c.Ciphertext
	return nil
}

// newDevEnv returns an initialised, unsealed environment with seed keys,
// closed when the test ends.
func newDevEnv(tb testing.TB) *restEnv {
	tb.Helper()
	e, err := openRestEnv(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.close)
	if err := e.devInit(); err != nil {
		tb.Fatal(err)
	}
	if err := e.seedKeys(); err != nil {
		tb.Fatal(err)
	}
	return e
}

// expand replaces the placeholders $CT (the valid ciphertext), $KEYID (the
// id of key "alpha") and $TOKEN (the root token) in s. Seed inputs use them
// because those values differ in every process.
func (e *restEnv) expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return strings.NewReplacer("$CT", e.ciphertext, "$KEYID", e.keyID, "$TOKEN", e.token).Replace(s)
}

// serve sends one request straight to the handler. target must be a valid
// request target (httptest.NewRequest panics otherwise).
func (e *restEnv) serve(method, target, contentType string, body []byte, withToken bool) *httptest.ResponseRecorder {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if withToken {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// snapshot is the externally visible state that malformed requests must not
// change: the full key list and the seal status.
func (e *restEnv) snapshot(tb testing.TB) string {
	tb.Helper()
	keys := e.serve(http.MethodGet, "/v1/keys?limit=1000", "", nil, true)
	seal := e.serve(http.MethodGet, "/v1/sys/seal-status", "", nil, false)
	return fmt.Sprintf("keys %d %s\nseal %d %s", keys.Code, keys.Body, seal.Code, seal.Body)
}

// errorResponse is the one error shape of the API.
type errorResponse struct {
	Error struct {
		Code    kms.Code `json:"code"`
		Message string   `json:"message"`
	} `json:"error"`
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// checkEnvelope checks what every response must carry: JSON content type,
// a valid JSON body, the request id and the security headers. It returns a
// description of the first violation, or "".
func checkEnvelope(rec *httptest.ResponseRecorder) string {
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		return fmt.Sprintf("Content-Type %q, want application/json", ct)
	}
	if id := rec.Header().Get("X-Request-Id"); !requestIDPattern.MatchString(id) {
		return fmt.Sprintf("X-Request-Id %q is not 24 hex digits", id)
	}
	if v := rec.Header().Get("Cache-Control"); v != "no-store" {
		return fmt.Sprintf("Cache-Control %q, want no-store", v)
	}
	if v := rec.Header().Get("X-Content-Type-Options"); v != "nosniff" {
		return fmt.Sprintf("X-Content-Type-Options %q, want nosniff", v)
	}
	if !json.Valid(rec.Body.Bytes()) {
		return "body is not valid JSON"
	}
	return ""
}

// parseError decodes an error body strictly and checks it against statusOf.
// It returns the code and a description of the first violation, or "".
func parseError(rec *httptest.ResponseRecorder) (kms.Code, string) {
	var e errorResponse
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return "", fmt.Sprintf("not the error shape: %v", err)
	}
	if e.Error.Code == "" {
		return "", "empty error code"
	}
	if e.Error.Message == "" {
		return e.Error.Code, "empty error message"
	}
	want, ok := statusOf[e.Error.Code]
	if !ok {
		return e.Error.Code, fmt.Sprintf("code %q is not in statusOf", e.Error.Code)
	}
	if rec.Code != want {
		return e.Error.Code, fmt.Sprintf("status %d for code %q, statusOf says %d", rec.Code, e.Error.Code, want)
	}
	return e.Error.Code, ""
}

// wantError fails the test unless rec is a well-formed error with code.
func wantError(tb testing.TB, what string, rec *httptest.ResponseRecorder, code kms.Code) {
	tb.Helper()
	if msg := checkEnvelope(rec); msg != "" {
		tb.Errorf("%s: %s (status %d, body %.300q)", what, msg, rec.Code, rec.Body)
		return
	}
	got, msg := parseError(rec)
	if msg != "" {
		tb.Errorf("%s: %s (status %d, body %.300q)", what, msg, rec.Code, rec.Body)
		return
	}
	if got != code || rec.Code != statusOf[code] {
		tb.Errorf("%s: got %d %s, want %d %s (body %.300q)", what, rec.Code, got, statusOf[code], code, rec.Body)
	}
}

// fillPath puts key into a route pattern's {key} wildcard and version 1
// into any {version} wildcard.
func fillPath(pattern, key string) string {
	return strings.NewReplacer("{key}", key, "{version}", "1").Replace(pattern)
}
