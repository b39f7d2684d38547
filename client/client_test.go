package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is one request as the fake server saw it.
type recorded struct {
	Method      string
	Path        string // escaped path
	Query       string
	Auth        string
	ContentType string
	UserAgent   string
	Body        string
}

// fake is a hand-written stand-in for the server: it records requests and
// answers with a programmed status and body. It checks client behaviour
// only, not API semantics.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	status int
	body   string
	header map[string]string
	// respond, when set, overrides status/body.
	respond func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, status: http.StatusOK, body: "{}"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{
			Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
			UserAgent: r.Header.Get("User-Agent"), Body: string(b),
		})
		status, body, respond := f.status, f.body, f.respond
		for k, v := range f.header {
			w.Header().Set(k, v)
		}
		f.mu.Unlock()
		if respond != nil {
			respond(w, r, b)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) reply(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *fake) last() recorded {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		f.t.Fatal("no request received")
	}
	return f.reqs[len(f.reqs)-1]
}

func (f *fake) client(opts ...Option) *Client {
	f.t.Helper()
	c, err := New(f.srv.URL, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// jsonEqual compares two JSON texts structurally.
func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("request body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request body = %s, want %s", got, want)
	}
}

func TestNewValidatesAddress(t *testing.T) {
	good := map[string]string{
		"http://127.0.0.1:8200":          "http://127.0.0.1:8200",
		"https://arca.example.com":       "https://arca.example.com",
		"https://arca.example.com:8200/": "https://arca.example.com:8200",
		"HTTP://[::1]:8200":              "http://[::1]:8200",
		"https://proxy.example/arca/":    "https://proxy.example/arca",
	}
	for addr, want := range good {
		c, err := New(addr)
		if err != nil {
			t.Errorf("New(%q): %v", addr, err)
			continue
		}
		if c.Address() != want {
			t.Errorf("New(%q).Address() = %q, want %q", addr, c.Address(), want)
		}
	}
	bad := []string{
		"", "127.0.0.1:8200", "localhost:8200", "ftp://host", "http://", "http:///path",
		"http://user:hunter2@host:8200", "http://host?x=1", "http://host#frag", "http://host:port",
		"unix:///tmp/sock", "http://host/%zz",
	}
	for _, addr := range bad {
		_, err := New(addr)
		if err == nil {
			t.Errorf("New(%q) succeeded, want error", addr)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) error leaks credentials: %v", addr, err)
		}
	}
}

func TestOptions(t *testing.T) {
	if _, err := New("http://h", WithHTTPClient(&http.Client{}), WithTLSConfig(&tls.Config{})); err == nil {
		t.Error("WithHTTPClient+WithTLSConfig: want error")
	}
	if _, err := New("http://h", WithHTTPClient(nil)); err == nil {
		t.Error("WithHTTPClient(nil): want error")
	}
	if _, err := New("http://h", WithTLSConfig(nil)); err == nil {
		t.Error("WithTLSConfig(nil): want error")
	}
	if _, err := New("http://h", WithUserAgent("")); err == nil {
		t.Error(`WithUserAgent(""): want error`)
	}
	_, err := New("http://h", WithToken("tok-secret\r\nX-Evil: 1"))
	if err == nil {
		t.Fatal("token with CRLF: want error")
	}
	if strings.Contains(err.Error(), "tok-secret") {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestDefaultTransportPoolsConnections(t *testing.T) {
	c, err := New("http://h")
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", c.hc.Transport)
	}
	if tr.MaxIdleConnsPerHost < 256 {
		t.Errorf("MaxIdleConnsPerHost = %d, want >= 256", tr.MaxIdleConnsPerHost)
	}
}

func TestHeaders(t *testing.T) {
	f := newFake(t)
	f.reply(200, `{"initialized":true,"sealed":false,"threshold":3,"shares":5,"progress":0,"version":"0.1.0"}`)
	c := f.client(WithToken("s.tok"), WithUserAgent("arca-bench/1"))

	// Unauthenticated endpoint: no token is sent.
	if _, err := c.SealStatus(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := f.last()
	if r.Auth != "" {
		t.Errorf("seal-status sent Authorization %q", r.Auth)
	}
	if r.ContentType != "" {
		t.Errorf("GET sent Content-Type %q", r.ContentType)
	}
	if r.UserAgent != "arca-bench/1" {
		t.Errorf("User-Agent = %q", r.UserAgent)
	}

	// Authenticated endpoint: bearer token and JSON content type.
	if _, err := c.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = f.last()
	if r.Auth != "Bearer s.tok" {
		t.Errorf("Authorization = %q, want bearer token", r.Auth)
	}
	if r.ContentType != "application/json" {
		t.Errorf("Content-Type = %q", r.ContentType)
	}
	jsonEqual(t, r.Body, `{}`)

	// Default user agent.
	c2 := f.client()
	if _, err := c2.SealStatus(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := f.last(); r.UserAgent != DefaultUserAgent || r.Auth != "" {
		t.Errorf("default client sent UA %q auth %q", r.UserAgent, r.Auth)
	}
}

func TestRequests(t *testing.T) {
	ctx := context.Background()
	keyJSON := `{"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","name":"billing","algorithm":"aes-256-gcm",
		"description":"invoices","labels":{"team":"payments"},"owner":"payments-team","primary_version":2,
		"created_at":"2026-11-23T21:00:00Z","created_by":"root","updated_at":"2026-11-23T21:05:00Z"}`
	wantKey := &Key{
		ID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", Name: "billing", Algorithm: "aes-256-gcm",
		Description: "invoices", Labels: map[string]string{"team": "payments"}, Owner: "payments-team",
		PrimaryVersion: 2, CreatedAt: time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC), CreatedBy: "root",
		UpdatedAt: time.Date(2026, 11, 23, 21, 5, 0, 0, time.UTC),
	}
	statusJSON := `{"initialized":true,"sealed":true,"threshold":3,"shares":5,"progress":1,"version":"0.1.0"}`
	wantStatus := &SealStatus{Initialized: true, Sealed: true, Threshold: 3, Shares: 5, Progress: 1, Version: "0.1.0"}

	tests := []struct {
		name     string
		call     func(c *Client) (any, error)
		status   int
		resp     string
		method   string
		path     string
		query    string
		auth     bool
		body     string // "" means no body
		want     any
		wantCode int
	}{
		{
			name:   "health",
			call:   func(c *Client) (any, error) { return c.Health(ctx) },
			resp:   `{"initialized":true,"sealed":false,"version":"0.1.0"}`,
			method: "GET", path: "/v1/health",
			want: &Health{Initialized: true, Version: "0.1.0"},
		},
		{
			name:   "seal status",
			call:   func(c *Client) (any, error) { return c.SealStatus(ctx) },
			resp:   statusJSON,
			method: "GET", path: "/v1/sys/seal-status",
			want: wantStatus,
		},
		{
			name:   "init",
			call:   func(c *Client) (any, error) { return c.Init(ctx, InitRequest{Shares: 5, Threshold: 3}) },
			resp:   `{"shares":["arca-share-1-a","arca-share-2-b"],"root_token":"arca_root"}`,
			method: "POST", path: "/v1/sys/init", body: `{"shares":5,"threshold":3}`,
			want: &InitResponse{Shares: []string{"arca-share-1-a", "arca-share-2-b"}, RootToken: "arca_root"},
		},
		{
			name:   "unseal",
			call:   func(c *Client) (any, error) { return c.Unseal(ctx, "arca-share-1-a") },
			resp:   statusJSON,
			method: "POST", path: "/v1/sys/unseal", body: `{"share":"arca-share-1-a"}`,
			want: wantStatus,
		},
		{
			name:   "unseal reset",
			call:   func(c *Client) (any, error) { return c.UnsealReset(ctx) },
			resp:   statusJSON,
			method: "POST", path: "/v1/sys/unseal", body: `{"reset":true}`,
			want: wantStatus,
		},
		{
			name:   "seal",
			call:   func(c *Client) (any, error) { return c.Seal(ctx) },
			resp:   statusJSON,
			method: "POST", path: "/v1/sys/seal", auth: true, body: `{}`,
			want: wantStatus,
		},
		{
			name: "create key",
			call: func(c *Client) (any, error) {
				return c.CreateKey(ctx, CreateKeyRequest{Name: "billing", Algorithm: AlgorithmAES256GCM,
					Description: "invoices", Labels: map[string]string{"team": "payments"}, Owner: "payments-team"})
			},
			status: 201, resp: keyJSON,
			method: "POST", path: "/v1/keys", auth: true,
			body: `{"name":"billing","algorithm":"aes-256-gcm","description":"invoices","labels":{"team":"payments"},"owner":"payments-team"}`,
			want: wantKey,
		},
		{
			name: "create key minimal",
			call: func(c *Client) (any, error) {
				return c.CreateKey(ctx, CreateKeyRequest{Name: "billing", Algorithm: AlgorithmChaCha20Poly1305})
			},
			status: 201, resp: keyJSON,
			method: "POST", path: "/v1/keys", auth: true,
			body: `{"name":"billing","algorithm":"chacha20-poly1305"}`,
			want: wantKey,
		},
		{
			name:   "get key",
			call:   func(c *Client) (any, error) { return c.GetKey(ctx, "billing") },
			resp:   keyJSON,
			method: "GET", path: "/v1/keys/billing", auth: true,
			want: wantKey,
		},
		{
			name:   "get key escaped",
			call:   func(c *Client) (any, error) { return c.GetKey(ctx, "a/b c?d%e#f") },
			resp:   keyJSON,
			method: "GET", path: "/v1/keys/a%2Fb%20c%3Fd%25e%23f", auth: true,
			want: wantKey,
		},
		{
			name: "list keys",
			call: func(c *Client) (any, error) {
				return c.ListKeys(ctx, ListKeysOptions{Limit: 10, PageToken: "p/1=",
					Labels: map[string]string{"team": "payments", "env": "prod=eu"}})
			},
			resp:   `{"keys":[` + keyJSON + `],"next_page_token":"p2"}`,
			method: "GET", path: "/v1/keys", auth: true,
			query: "label=env%3Dprod%3Deu&label=team%3Dpayments&limit=10&page_token=p%2F1%3D",
			want:  &ListKeysResponse{Keys: []Key{*wantKey}, NextPageToken: "p2"},
		},
		{
			name:   "list keys defaults",
			call:   func(c *Client) (any, error) { return c.ListKeys(ctx, ListKeysOptions{}) },
			resp:   `{"keys":[],"next_page_token":""}`,
			method: "GET", path: "/v1/keys", auth: true,
			want: &ListKeysResponse{Keys: []Key{}},
		},
		{
			name:   "rotate",
			call:   func(c *Client) (any, error) { return c.RotateKey(ctx, "billing") },
			resp:   keyJSON,
			method: "POST", path: "/v1/keys/billing/rotate", auth: true, body: `{}`,
			want: wantKey,
		},
		{
			name: "versions",
			call: func(c *Client) (any, error) {
				return c.ListVersions(ctx, "billing", ListVersionsOptions{Limit: 2, PageToken: "x"})
			},
			resp: `{"versions":[{"version":1,"algorithm":"aes-256-gcm","created_at":"2026-11-23T21:00:00Z","created_by":"root",
				"provenance":{"generator":"arca","entropy_source":"crypto/rand","server_version":"0.1.0"}}],"next_page_token":""}`,
			method: "GET", path: "/v1/keys/billing/versions", query: "limit=2&page_token=x", auth: true,
			want: &ListVersionsResponse{Versions: []KeyVersion{{Version: 1, Algorithm: "aes-256-gcm",
				CreatedAt: time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC), CreatedBy: "root",
				Provenance: Provenance{Generator: "arca", EntropySource: "crypto/rand", ServerVersion: "0.1.0"}}}},
		},
		{
			name: "encrypt",
			call: func(c *Client) (any, error) {
				return c.Encrypt(ctx, "billing", EncryptRequest{Plaintext: []byte("hello"),
					AssociatedData: []byte("ad"), Context: map[string]string{"tenant": "42"}})
			},
			resp:   `{"key_id":"kid","key_version":2,"ciphertext":"arca:v1:abc"}`,
			method: "POST", path: "/v1/keys/billing/encrypt", auth: true,
			body: `{"plaintext":"aGVsbG8=","associated_data":"YWQ=","context":{"tenant":"42"}}`,
			want: &EncryptResponse{KeyID: "kid", KeyVersion: 2, Ciphertext: "arca:v1:abc"},
		},
		{
			name:   "encrypt empty plaintext",
			call:   func(c *Client) (any, error) { return c.Encrypt(ctx, "billing", EncryptRequest{}) },
			resp:   `{"key_id":"kid","key_version":2,"ciphertext":"arca:v1:abc"}`,
			method: "POST", path: "/v1/keys/billing/encrypt", auth: true,
			body: `{"plaintext":""}`,
			want: &EncryptResponse{KeyID: "kid", KeyVersion: 2, Ciphertext: "arca:v1:abc"},
		},
		{
			name: "decrypt by key",
			call: func(c *Client) (any, error) {
				return c.Decrypt(ctx, "billing", DecryptRequest{Ciphertext: "arca:v1:abc", AssociatedData: []byte("ad")})
			},
			resp:   `{"key_id":"kid","key_version":1,"plaintext":"aGVsbG8="}`,
			method: "POST", path: "/v1/keys/billing/decrypt", auth: true,
			body: `{"ciphertext":"arca:v1:abc","associated_data":"YWQ="}`,
			want: &DecryptResponse{KeyID: "kid", KeyVersion: 1, Plaintext: []byte("hello")},
		},
		{
			name: "decrypt without key",
			call: func(c *Client) (any, error) {
				return c.Decrypt(ctx, "", DecryptRequest{Ciphertext: "arca:v1:abc", Context: map[string]string{"a": "b"}})
			},
			resp:   `{"key_id":"kid","key_version":1,"plaintext":""}`,
			method: "POST", path: "/v1/decrypt", auth: true,
			body: `{"ciphertext":"arca:v1:abc","context":{"a":"b"}}`,
			want: &DecryptResponse{KeyID: "kid", KeyVersion: 1, Plaintext: []byte{}},
		},
		{
			name: "rewrap",
			call: func(c *Client) (any, error) {
				return c.Rewrap(ctx, "billing", RewrapRequest{Ciphertext: "arca:v1:old"})
			},
			resp:   `{"key_id":"kid","key_version":3,"ciphertext":"arca:v1:new"}`,
			method: "POST", path: "/v1/keys/billing/rewrap", auth: true,
			body: `{"ciphertext":"arca:v1:old"}`,
			want: &RewrapResponse{KeyID: "kid", KeyVersion: 3, Ciphertext: "arca:v1:new"},
		},
		{
			name: "datakey",
			call: func(c *Client) (any, error) {
				return c.GenerateDataKey(ctx, "billing", DataKeyRequest{Bits: 128, WithoutPlaintext: true})
			},
			resp:   `{"key_id":"kid","key_version":3,"ciphertext":"arca:v1:dk"}`,
			method: "POST", path: "/v1/keys/billing/datakey", auth: true,
			body: `{"bits":128,"without_plaintext":true}`,
			want: &DataKeyResponse{KeyID: "kid", KeyVersion: 3, Ciphertext: "arca:v1:dk"},
		},
		{
			name: "datakey defaults",
			call: func(c *Client) (any, error) {
				return c.GenerateDataKey(ctx, "billing", DataKeyRequest{})
			},
			resp:   `{"key_id":"kid","key_version":3,"ciphertext":"arca:v1:dk","plaintext":"AAEC"}`,
			method: "POST", path: "/v1/keys/billing/datakey", auth: true,
			body: `{}`,
			want: &DataKeyResponse{KeyID: "kid", KeyVersion: 3, Ciphertext: "arca:v1:dk", Plaintext: []byte{0, 1, 2}},
		},
		{
			name:   "random",
			call:   func(c *Client) (any, error) { return c.Random(ctx, 3) },
			resp:   `{"random":"AAEC"}`,
			method: "POST", path: "/v1/random", auth: true, body: `{"bytes":3}`,
			want: []byte{0, 1, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			status := tt.status
			if status == 0 {
				status = 200
			}
			f.reply(status, tt.resp)
			got, err := tt.call(f.client(WithToken("tok")))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %#v\nwant %#v", got, tt.want)
			}
			r := f.last()
			if r.Method != tt.method || r.Path != tt.path || r.Query != tt.query {
				t.Errorf("request = %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tt.method, tt.path, tt.query)
			}
			if gotAuth := r.Auth == "Bearer tok"; gotAuth != tt.auth {
				t.Errorf("Authorization = %q, want token: %v", r.Auth, tt.auth)
			}
			if tt.body == "" {
				if r.Body != "" {
					t.Errorf("unexpected body %q", r.Body)
				}
			} else {
				if r.ContentType != "application/json" {
					t.Errorf("Content-Type = %q", r.ContentType)
				}
				jsonEqual(t, r.Body, tt.body)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.reply(200, `{"results":[{"key_id":"kid","key_version":1,"ciphertext":"arca:v1:a"},
		{"error":{"code":"key_not_found","message":"key \"nope\" not found"}}]}`)
	c := f.client(WithToken("tok"))

	res, err := c.BatchEncrypt(ctx, []BatchEncryptItem{
		{Key: "billing", Plaintext: []byte("x"), Context: map[string]string{"k": "v"}},
		{Key: "nope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := f.last()
	if r.Method != "POST" || r.Path != "/v1/batch/encrypt" || r.Auth != "Bearer tok" {
		t.Errorf("request %s %s auth %q", r.Method, r.Path, r.Auth)
	}
	jsonEqual(t, r.Body, `{"items":[{"key":"billing","plaintext":"eA==","context":{"k":"v"}},{"key":"nope","plaintext":""}]}`)
	if res[0].Err != nil || res[0].Ciphertext != "arca:v1:a" || res[0].KeyID != "kid" || res[0].KeyVersion != 1 {
		t.Errorf("result 0 = %+v", res[0])
	}
	if res[1].Err == nil || res[1].Err.Code != CodeKeyNotFound || res[1].Err.RequestID != "req-1" || res[1].Err.StatusCode != 0 {
		t.Errorf("result 1 = %+v", res[1])
	}

	f.reply(200, `{"results":[{"key_id":"kid","key_version":1,"plaintext":"eA=="}]}`)
	res, err = c.BatchDecrypt(ctx, []BatchDecryptItem{{Ciphertext: "arca:v1:a", AssociatedData: []byte("ad")}})
	if err != nil {
		t.Fatal(err)
	}
	r = f.last()
	if r.Path != "/v1/batch/decrypt" {
		t.Errorf("path %s", r.Path)
	}
	jsonEqual(t, r.Body, `{"items":[{"ciphertext":"arca:v1:a","associated_data":"YWQ="}]}`)
	if string(res[0].Plaintext) != "x" {
		t.Errorf("plaintext %q", res[0].Plaintext)
	}

	f.reply(200, `{"results":[{"key_id":"kid","key_version":2,"ciphertext":"arca:v1:b"}]}`)
	res, err = c.BatchRewrap(ctx, []BatchRewrapItem{{Key: "billing", Ciphertext: "arca:v1:a"}})
	if err != nil {
		t.Fatal(err)
	}
	r = f.last()
	if r.Path != "/v1/batch/rewrap" {
		t.Errorf("path %s", r.Path)
	}
	jsonEqual(t, r.Body, `{"items":[{"key":"billing","ciphertext":"arca:v1:a"}]}`)
	if res[0].Ciphertext != "arca:v1:b" || res[0].KeyVersion != 2 {
		t.Errorf("rewrap result %+v", res[0])
	}

	// nil batches are sent as empty arrays.
	f.reply(200, `{"results":[]}`)
	if _, err := c.BatchRewrap(ctx, nil); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, f.last().Body, `{"items":[]}`)

	// A result count that does not match is an error.
	f.reply(200, `{"results":[]}`)
	if _, err := c.BatchDecrypt(ctx, []BatchDecryptItem{{Ciphertext: "c"}}); err == nil {
		t.Error("mismatched result count: want error")
	}

	// A failing batch is an *Error.
	f.reply(400, `{"error":{"code":"batch_too_large","message":"too many"}}`)
	_, err = c.BatchDecrypt(ctx, []BatchDecryptItem{{Ciphertext: "c"}})
	if !IsCode(err, CodeBatchTooLarge) {
		t.Errorf("err = %v, want batch_too_large", err)
	}
}

func TestErrorDecoding(t *testing.T) {
	f := newFake(t)
	f.reply(404, `{"error":{"code":"key_not_found","message":"key \"billing\" not found"}}`)
	c := f.client(WithToken("tok"))
	_, err := c.GetKey(context.Background(), "billing")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %T %v, want *Error", err, err)
	}
	want := Error{StatusCode: 404, Code: CodeKeyNotFound, Message: `key "billing" not found`, RequestID: "req-1"}
	if *e != want {
		t.Errorf("err = %+v, want %+v", *e, want)
	}
	if got := e.Error(); got != `arca: key_not_found: key "billing" not found (HTTP 404, request id req-1)` {
		t.Errorf("Error() = %q", got)
	}
	if !IsCode(err, CodeKeyNotFound) || IsCode(err, CodeSealed) {
		t.Error("IsCode mismatch")
	}
	if !IsCode(fmt.Errorf("wrapped: %w", err), CodeKeyNotFound) {
		t.Error("IsCode does not see through wrapping")
	}
	if IsCode(nil, CodeKeyNotFound) || IsCode(errors.New("x"), "") {
		t.Error("IsCode true for a non-*Error")
	}
}

func TestErrorFallback(t *testing.T) {
	for _, tt := range []struct {
		status int
		body   string
	}{
		{502, `<html>bad gateway: your request plaintext=SECRET</html>`},
		{500, `{"error":"string instead of object"}`},
		{503, ``},
		{404, `{"other":1}`},
		{307, ``}, // redirects are not followed
	} {
		f := newFake(t)
		f.reply(tt.status, tt.body)
		f.header = map[string]string{"Location": "/elsewhere"}
		_, err := f.client().SealStatus(context.Background())
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%d %q: err = %v, want *Error", tt.status, tt.body, err)
		}
		if e.StatusCode != tt.status || e.Code != "" || e.RequestID != "req-1" {
			t.Errorf("%d %q: err = %+v", tt.status, tt.body, *e)
		}
		if !strings.Contains(e.Message, fmt.Sprint(tt.status)) || strings.Contains(e.Error(), "SECRET") {
			t.Errorf("%d %q: message %q", tt.status, tt.body, e.Message)
		}
	}
}

func TestSuccessWithBadBody(t *testing.T) {
	f := newFake(t)
	f.reply(200, `not json`)
	if _, err := f.client().SealStatus(context.Background()); err == nil {
		t.Error("want error for undecodable success body")
	}
}

func TestHealthWhenSealed(t *testing.T) {
	f := newFake(t)
	f.reply(503, `{"initialized":true,"sealed":true,"version":"0.1.0"}`)
	h, err := f.client().Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !h.Sealed || !h.Initialized || h.Version != "0.1.0" {
		t.Errorf("health = %+v", h)
	}

	f.reply(503, `{"error":{"code":"audit_unavailable","message":"audit down"}}`)
	if _, err := f.client().Health(context.Background()); !IsCode(err, CodeAuditUnavailable) {
		t.Errorf("err = %v, want audit_unavailable", err)
	}
	f.reply(500, `{"error":{"code":"internal","message":"x"}}`)
	if _, err := f.client().Health(context.Background()); !IsCode(err, CodeInternal) {
		t.Errorf("err = %v, want internal", err)
	}
}

func TestErrorsHideSecrets(t *testing.T) {
	const token, plaintext = "tok-SECRET-1", "PLAINTEXT-SECRET-2"
	f := newFake(t)
	f.reply(400, `{"error":{"code":"invalid_argument","message":"plaintext too large"}}`)
	c := f.client(WithToken(token))
	_, err := c.Encrypt(context.Background(), "billing", EncryptRequest{Plaintext: []byte(plaintext)})
	check := func(err error) {
		t.Helper()
		if err == nil {
			t.Fatal("want error")
		}
		if s := err.Error(); strings.Contains(s, token) || strings.Contains(s, plaintext) {
			t.Errorf("error leaks a secret: %s", s)
		}
	}
	check(err)

	// Transport failure.
	f.srv.Close()
	_, err = c.Encrypt(context.Background(), "billing", EncryptRequest{Plaintext: []byte(plaintext)})
	check(err)
}

func TestContextCancel(t *testing.T) {
	f := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client().SealStatus(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestInvalidKeyArgument(t *testing.T) {
	f := newFake(t)
	c := f.client()
	for _, key := range []string{"", ".", ".."} {
		if _, err := c.GetKey(context.Background(), key); err == nil {
			t.Errorf("GetKey(%q): want error", key)
		}
		if _, err := c.Encrypt(context.Background(), key, EncryptRequest{}); err == nil {
			t.Errorf("Encrypt(%q): want error", key)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != 0 {
		t.Errorf("invalid keys reached the server: %+v", f.reqs)
	}
}

func TestPathPrefix(t *testing.T) {
	f := newFake(t)
	f.reply(200, `{"initialized":true,"sealed":false,"version":"v"}`)
	c, err := New(f.srv.URL + "/arca/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := f.last().Path; p != "/arca/v1/health" {
		t.Errorf("path = %q", p)
	}
}

func TestAllKeysPages(t *testing.T) {
	f := newFake(t)
	f.respond = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("page_token") {
		case "":
			io.WriteString(w, `{"keys":[{"name":"a"},{"name":"b"}],"next_page_token":"t2"}`)
		case "t2":
			io.WriteString(w, `{"keys":[{"name":"c"}],"next_page_token":""}`)
		default:
			w.WriteHeader(400)
		}
	}
	c := f.client(WithToken("tok"))
	var names []string
	for k, err := range c.AllKeys(context.Background(), ListKeysOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("names = %v", names)
	}
	if q := f.last().Query; q != "limit=2&page_token=t2" {
		t.Errorf("last query = %q", q)
	}

	// A server repeating its page token does not loop forever.
	f.respond = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		io.WriteString(w, `{"keys":[{"name":"a"}],"next_page_token":"same"}`)
	}
	var err error
	n := 0
	for _, e := range c.AllKeys(context.Background(), ListKeysOptions{}) {
		if n++; n > 10 {
			t.Fatal("iterator loops")
		}
		err = e
	}
	if err == nil {
		t.Error("want page loop error")
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFake(t)
	f.respond = func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct{ Plaintext []byte }
		if err := json.Unmarshal(body, &req); err != nil {
			w.WriteHeader(400)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"key_id": "k", "key_version": 1, "ciphertext": "ct:" + string(req.Plaintext)})
	}
	c := f.client(WithToken("tok"))
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for j := range 10 {
				pt := fmt.Sprintf("%d-%d", i, j)
				res, err := c.Encrypt(context.Background(), "billing", EncryptRequest{Plaintext: []byte(pt)})
				if err != nil {
					t.Error(err)
					return
				}
				if res.Ciphertext != "ct:"+pt {
					t.Errorf("got %q for %q", res.Ciphertext, pt)
				}
			}
		})
	}
	wg.Wait()
}
