package rest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/kms"
)

// TestEveryRouteRejectsMalformedBodies sends every POST route of the route
// table each kind of malformed body and checks the documented code and
// status, and that the request changed nothing: the key list and the seal
// status are identical before and after. Authenticated routes get the root
// token, so the body check is what refuses them.
func TestEveryRouteRejectsMalformedBodies(t *testing.T) {
	cases := []struct {
		name        string
		contentType string
		body        func(rt Route) []byte
		code        kms.Code
	}{
		{"not JSON", "application/json", func(Route) []byte { return []byte(`not json`) }, kms.CodeInvalidJSON},
		{"truncated", "application/json", func(Route) []byte { return []byte(`{`) }, kms.CodeInvalidJSON},
		{"binary garbage", "application/json", func(Route) []byte { return []byte("\x00\xff\xfe") }, kms.CodeInvalidJSON},
		{"invalid UTF-8 in a name", "application/json", func(Route) []byte { return []byte("{\"\xff\":1}") }, kms.CodeInvalidJSON},
		{"trailing data", "application/json", func(Route) []byte { return []byte(`{} {}`) }, kms.CodeInvalidJSON},
		{"trailing garbage", "application/json", func(Route) []byte { return []byte(`{}x`) }, kms.CodeInvalidJSON},
		{"unknown field", "application/json", func(Route) []byte { return []byte(`{"no_such_field":1}`) }, kms.CodeUnknownField},
		{"wrong top-level type", "application/json", func(Route) []byte { return []byte(`[]`) }, kms.CodeInvalidJSON},
		{"top-level string", "application/json", func(Route) []byte { return []byte(`"x"`) }, kms.CodeInvalidJSON},
		{"too large", "application/json", func(rt Route) []byte {
			// MaxBody+1 bytes of one valid JSON string.
			return []byte(`"` + strings.Repeat("a", int(rt.MaxBody)-1) + `"`)
		}, kms.CodePayloadTooLarge},
		{"too large, no content type", "", func(rt Route) []byte {
			return []byte(`"` + strings.Repeat("a", int(rt.MaxBody)-1) + `"`)
		}, kms.CodePayloadTooLarge},
		{"wrong content type", "text/plain", func(Route) []byte { return []byte(`{}`) }, kms.CodeUnsupportedMedia},
		{"no content type", "", func(Route) []byte { return []byte(`{}`) }, kms.CodeUnsupportedMedia},
		{"malformed content type", "application/json; charset", func(Route) []byte { return []byte(`{}`) }, kms.CodeUnsupportedMedia},
	}

	env := newDevEnv(t)
	routes := env.h.Routes()
	if len(routes) == 0 {
		t.Fatal("the route table is empty")
	}
	posts := 0
	for _, rt := range routes {
		if rt.Method != http.MethodPost {
			continue
		}
		posts++
		if rt.MaxBody <= 0 {
			t.Errorf("%s %s: MaxBody %d", rt.Method, rt.Path, rt.MaxBody)
			continue
		}
		// Every key-scoped route targets an existing key, so a body that
		// slipped through would act.
		target := fillPath(rt.Path, "alpha")
		t.Run(strings.TrimPrefix(rt.Path, "/"), func(t *testing.T) {
			for _, c := range cases {
				before := env.snapshot(t)
				rec := env.serve(http.MethodPost, target, c.contentType, c.body(rt), rt.Auth)
				wantError(t, c.name, rec, c.code)
				if after := env.snapshot(t); after != before {
					t.Fatalf("%s changed the server's state:\nbefore: %s\nafter:  %s", c.name, before, after)
				}
			}
		})
	}
	if posts == 0 {
		t.Fatal("no POST routes")
	}
}

// TestTopLevelNullIsInvalidJSON is a regression test for a bug: a body
// that is the JSON literal null was decoded as if it were {} (unmarshalling
// null into a struct leaves it untouched), so "null" sealed the server,
// rotated a key or returned a data key. A request body must be a JSON
// object (every request schema in docs/openapi.yaml is type: object, and
// /v1/sys/seal documents "the body is empty or {}"); null is a value of
// the wrong JSON type, which is 400 invalid_json like the array [] is.
func TestTopLevelNullIsInvalidJSON(t *testing.T) {
	for _, rt := range (&Handler{}).Routes() {
		if rt.Method != http.MethodPost {
			continue
		}
		t.Run(strings.TrimPrefix(rt.Path, "/"), func(t *testing.T) {
			env := newDevEnv(t) // fresh: a null that slips through may seal
			before := env.snapshot(t)
			for _, body := range []string{`null`, ` null `} {
				rec := env.serve(http.MethodPost, fillPath(rt.Path, "alpha"), "application/json", []byte(body), rt.Auth)
				wantError(t, fmt.Sprintf("body %q", body), rec, kms.CodeInvalidJSON)
			}
			if after := env.snapshot(t); after != before {
				t.Errorf("a null body changed the server's state:\nbefore: %s\nafter:  %s", before, after)
			}
		})
	}
}

// TestDuplicateMembersAreInvalidJSON checks duplicate member names at any
// depth, on routes whose bodies define the duplicated member.
func TestDuplicateMembersAreInvalidJSON(t *testing.T) {
	env := newDevEnv(t)
	for _, c := range []struct{ path, body string }{
		{"/v1/keys", `{"name":"dup-a","name":"dup-b"}`},
		{"/v1/keys", `{"name":"dup-c","labels":{"a":"1","a":"1"}}`},
		{"/v1/sys/init", `{"shares":3,"shares":3,"threshold":2}`},
		{"/v1/sys/unseal", `{"reset":true,"reset":true}`},
		{"/v1/keys/alpha/encrypt", `{"plaintext":"aGk=","plaintext":"aGk="}`},
		{"/v1/keys/alpha/encrypt", `{"plaintext":"aGk=","context":{"k":"1","k":"2"}}`},
		{"/v1/keys/alpha/decrypt", `{"ciphertext":"$CT","ciphertext":"$CT"}`},
		{"/v1/decrypt", `{"ciphertext":"$CT","context":{"k":"1","\u006b":"2"}}`},
		{"/v1/keys/alpha/rewrap", `{"ciphertext":"$CT","associated_data":"","associated_data":""}`},
		{"/v1/keys/alpha/datakey", `{"bits":128,"bits":256}`},
		{"/v1/random", `{"bytes":1,"bytes":1}`},
		{"/v1/batch/encrypt", `{"items":[{"key":"alpha","plaintext":"aGk=","key":"beta"}]}`},
		{"/v1/batch/decrypt", `{"items":[],"items":[]}`},
		{"/v1/batch/rewrap", `{"items":[{"key":"alpha","ciphertext":"$CT","context":{"k":"","k":""}}]}`},
	} {
		before := env.snapshot(t)
		rec := env.serve(http.MethodPost, c.path, "application/json", []byte(env.expand(c.body)), true)
		wantError(t, c.path+" "+c.body, rec, kms.CodeInvalidJSON)
		if after := env.snapshot(t); after != before {
			t.Fatalf("%s %s changed the server's state", c.path, c.body)
		}
	}
}

// TestMaxBodyIsExact checks that each POST route's limit is exactly
// MaxBody: a body of MaxBody bytes gets past the size check (it is refused
// for some other reason, or accepted), one more byte does not.
func TestMaxBodyIsExact(t *testing.T) {
	env := newDevEnv(t)
	for _, rt := range env.h.Routes() {
		if rt.Method != http.MethodPost {
			continue
		}
		// MaxBody bytes of JSON that no route accepts: an unknown member
		// padded with spaces.
		body := []byte(`{"no_such_field":1}`)
		body = append(body, bytes.Repeat([]byte(" "), int(rt.MaxBody)-len(body))...)
		rec := env.serve(http.MethodPost, fillPath(rt.Path, "alpha"), "application/json", body, rt.Auth)
		wantError(t, rt.Path+" at MaxBody", rec, kms.CodeUnknownField)
		rec = env.serve(http.MethodPost, fillPath(rt.Path, "alpha"), "application/json", append(body, ' '), rt.Auth)
		wantError(t, rt.Path+" at MaxBody+1", rec, kms.CodePayloadTooLarge)
	}
}

// TestNonCanonicalPathsAnswerJSON is a regression test for a bug found by
// FuzzHandler: a path with "//", "/./" or "/../" was answered by
// http.ServeMux's internal 307 redirect instead of the handler's dispatch,
// so the answer was not application/json, had no error shape, and no
// audit record was written. Every response must be JSON and every request
// audited (package doc, docs/openapi.yaml).
func TestNonCanonicalPathsAnswerJSON(t *testing.T) {
	env := newDevEnv(t)
	for _, c := range []struct{ method, target string }{
		{http.MethodPost, "/v1/keys/../sys/init"},
		{http.MethodPost, "/v1//sys/seal"},
		{http.MethodGet, "/v1/./health"},
		{http.MethodGet, "/v1/keys//alpha"},
		{http.MethodGet, "/v1/keys/alpha/"},
	} {
		linesBefore := auditLines(t, env)
		rec := env.serve(c.method, c.target, "", nil, true)
		where := c.method + " " + c.target
		if msg := checkEnvelope(rec); msg != "" {
			t.Errorf("%s: status %d: %s (Location %q)", where, rec.Code, msg, rec.Header().Get("Location"))
		} else if rec.Code < 200 || rec.Code > 299 {
			if _, msg := parseError(rec); msg != "" {
				t.Errorf("%s: status %d: %s", where, rec.Code, msg)
			}
		}
		if got := auditLines(t, env) - linesBefore; got != 1 {
			t.Errorf("%s: %d audit records written, want 1", where, got)
		}
		if env.svc.Status().Sealed {
			t.Fatalf("%s sealed the server", where)
		}
	}
}

// TestInvalidPageTokenIsInvalidArgument is a regression test for a bug
// found by FuzzHandler: a page_token that is valid base64 but decodes to
// bytes that are not a valid storage key (NUL, invalid UTF-8) passed
// kms.decodePageToken and reached storage.Tx.List as After, which refused
// it with storage.ErrInvalidKey: 500 internal instead of
// 400 invalid_argument "invalid page_token".
func TestInvalidPageTokenIsInvalidArgument(t *testing.T) {
	env := newDevEnv(t)
	for _, target := range []string{
		"/v1/keys?page_token=AA",   // "\x00"
		"/v1/keys?page_token=_w",   // "\xff"
		"/v1/keys?page_token=YQBi", // "a\x00b"
		"/v1/keys/alpha/versions?page_token=" + strings.Repeat("_w", 27), // 40 bytes, not UTF-8
		"/v1/keys/alpha/versions?page_token=" + strings.Repeat("A", 54),  // 40 NUL bytes
	} {
		rec := env.serve(http.MethodGet, target, "", nil, true)
		wantError(t, "GET "+target, rec, kms.CodeInvalidArgument)
	}
}

// auditLines counts the records in the environment's audit file. FileLog
// writes each record before the request it belongs to returns.
func auditLines(t *testing.T, env *restEnv) int {
	t.Helper()
	b, err := os.ReadFile(env.audit.Path())
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}
