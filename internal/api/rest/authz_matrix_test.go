package rest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/kms"
)

// Principals of the authorization matrix: each built-in role (on every
// key), an identity without grants, and no identity at all.
const (
	asAdmin     = "admin"
	asCustodian = "key-custodian"
	asCrypto    = "crypto-user"
	asAuditor   = "auditor"
	asApprover  = "approver"
	asNone      = "no-grants"
	asAnonymous = "anonymous"
)

var matrixPrincipals = []string{asAdmin, asCustodian, asCrypto, asAuditor, asApprover, asNone, asAnonymous}

// authzMatrix is THE authorization table: for every authenticated route,
// a request and the principals allowed to make it. Everyone else gets 403
// forbidden; anonymous callers get 401 unauthorized. docs/access.md
// carries the same table. Requests are built so that an allowed call
// changes nothing the rest of the matrix depends on (they target a spare
// key, identity or policy, or fail validation after authorization).
var authzMatrix = []struct {
	method, path, body string
	allowed            []string
}{
	{"POST", "/v1/sys/seal", ``, []string{asAdmin}},
	{"POST", "/v1/keys", `{"name":"new-$AS","algorithm":"aes-256-gcm"}`, []string{asCustodian}},
	{"GET", "/v1/keys", ``, []string{asAdmin, asCustodian, asAuditor}},
	{"GET", "/v1/keys/app-1", ``, []string{asAdmin, asCustodian, asCrypto, asAuditor}},
	{"PATCH", "/v1/keys/spare", `{"usage_bound":1000000}`, []string{asCustodian}},
	{"POST", "/v1/keys/spare/rotate", `{}`, []string{asCustodian}},
	{"GET", "/v1/keys/app-1/versions", ``, []string{asAdmin, asCustodian, asCrypto, asAuditor}},
	{"POST", "/v1/keys/spare/import", `{"import_token":"00000000-0000-4000-8000-000000000000","wrapped_material":"AAAA"}`, []string{asCustodian}},
	{"POST", "/v1/keys/spare/export", `{"wrapping_key":"x"}`, []string{asCustodian}},
	{"POST", "/v1/import-tokens", `{"scheme":"ml-kem-768-hpke"}`, []string{asCustodian}},
	{"POST", "/v1/keys/spare/lifecycle", `{"action":"activate"}`, []string{asCustodian}},
	{"POST", "/v1/keys/spare/lifecycle", `{"action":"cancel-destruction"}`, []string{asCustodian}},
	{"POST", "/v1/keys/spare/versions/1/lifecycle", `{"action":"activate"}`, []string{asCustodian}},
	{"POST", "/v1/keys/app-1/encrypt", `{"plaintext":"aGk="}`, []string{asCrypto}},
	{"POST", "/v1/keys/app-1/decrypt", `{"ciphertext":"$CT"}`, []string{asCrypto}},
	{"POST", "/v1/decrypt", `{"ciphertext":"$CT"}`, []string{asCrypto}},
	{"POST", "/v1/keys/app-1/rewrap", `{"ciphertext":"$CT"}`, []string{asCrypto}},
	{"POST", "/v1/keys/app-1/datakey", `{}`, []string{asCrypto}},
	{"POST", "/v1/keys/app-1/datakey-pair", `{"key_spec":"ed25519"}`, []string{asCrypto}},
	{"POST", "/v1/keys/mac-1/mac", `{"data":"aGk="}`, []string{asCrypto}},
	{"POST", "/v1/keys/mac-1/verify-mac", `{"data":"aGk=","mac":"AAAA"}`, []string{asCrypto}},
	{"POST", "/v1/keys/sig-1/sign", `{"message":"aGk="}`, []string{asCrypto}},
	{"POST", "/v1/keys/sig-1/verify", `{"message":"aGk=","signature":"AAAA"}`, []string{asCrypto}},
	{"GET", "/v1/keys/app-1/impact", ``, []string{asAuditor}},
	{"GET", "/v1/keys/sig-1/public-key", ``, []string{asAdmin, asCustodian, asCrypto, asAuditor}},
	{"POST", "/v1/random", `{"bytes":16}`, []string{asCrypto}},
	{"POST", "/v1/identities", `{"name":"made-by-$AS","type":"service"}`, []string{asAdmin}},
	{"GET", "/v1/identities", ``, []string{asAdmin, asAuditor}},
	{"GET", "/v1/identities/spare-identity", ``, []string{asAdmin, asAuditor}},
	{"PATCH", "/v1/identities/spare-identity", `{"owner":"$AS"}`, []string{asAdmin}},
	{"DELETE", "/v1/identities/no-such-identity", ``, []string{asAdmin}},
	{"POST", "/v1/identities/spare-identity/tokens", `{"ttl":"1h"}`, []string{asAdmin}},
	{"POST", "/v1/identities/spare-identity/access-keys", `{}`, []string{asAdmin}},
	{"GET", "/v1/identities/spare-identity/access-keys", ``, []string{asAdmin, asAuditor}},
	{"DELETE", "/v1/access-keys/ARCAAAAAAAAAAAAAAAAA", ``, []string{asAdmin}},
	{"DELETE", "/v1/tokens/tok-no-such-token", ``, []string{asAdmin}},
	{"POST", "/v1/tokens/renew-self", `{}`, []string{asAdmin, asCustodian, asCrypto, asAuditor, asApprover, asNone}},
	{"POST", "/v1/auth/mfa/totp/enroll", `{}`, []string{asAdmin, asCustodian, asCrypto, asAuditor, asApprover, asNone}},
	{"POST", "/v1/auth/mfa/totp/confirm", `{"code":"abcdef"}`, []string{asAdmin, asCustodian, asCrypto, asAuditor, asApprover, asNone}},
	{"POST", "/v1/auth/login", `{"code":"abcdef"}`, []string{asAdmin, asCustodian, asCrypto, asAuditor, asApprover, asNone}},
	{"DELETE", "/v1/identities/no-such-identity/mfa", ``, []string{asAdmin}},
	{"PUT", "/v1/access-policies/spare-policy", `{"statements":[{"effect":"allow","actions":["key:read"]}]}`, []string{asAdmin}},
	{"GET", "/v1/access-policies", ``, []string{asAdmin, asCustodian, asAuditor}},
	{"GET", "/v1/access-policies/spare-policy", ``, []string{asAdmin, asCustodian, asAuditor}},
	{"DELETE", "/v1/access-policies/no-such-policy", ``, []string{asAdmin}},
	{"GET", "/v1/approvals", ``, []string{asAdmin, asCustodian, asAuditor, asApprover}},
	{"GET", "/v1/approvals/00000000-0000-4000-8000-000000000000", ``, []string{asAdmin, asCustodian, asAuditor, asApprover}},
	{"POST", "/v1/approvals/00000000-0000-4000-8000-000000000000/approve", `{}`, []string{asApprover}},
	{"POST", "/v1/approvals/00000000-0000-4000-8000-000000000000/cancel", `{}`, []string{asAdmin, asCustodian}},
	{"GET", "/v1/policy", ``, []string{asAdmin, asCustodian, asAuditor}},
	{"POST", "/v1/policy/reload", `{}`, []string{asAdmin}},
	{"GET", "/v1/policy/check", ``, []string{asAuditor}},
	{"GET", "/v1/reports/key-health", ``, []string{asAuditor}},
	{"GET", "/v1/reports/access-matrix", ``, []string{asAuditor}},
	{"GET", "/v1/audit/public-key", ``, []string{asAuditor}},
	{"POST", "/v1/sys/backup", `{}`, []string{asAdmin}},
	{"POST", "/v1/sys/rekey", `{"shares":1,"threshold":1}`, nil},
	{"POST", "/v1/sys/rotate-root", `{}`, nil},
	{"POST", "/v1/sys/seal/migrate", `{"to":"pkcs11"}`, nil},
	{"POST", "/v1/sys/keyring/rotate", `{}`, nil},
	{"GET", "/v1/sys/keyring", ``, nil},
	{"GET", "/v1/sys/backup/public-key", ``, []string{asAdmin}},
	{"POST", "/v1/audit/hmac", `{"value":"acme"}`, []string{asAuditor}},
	{"GET", "/v1/audit/records", ``, []string{asAuditor}},
	{"POST", "/v1/batch/encrypt", `{"items":[{"key":"app-1","plaintext":"aGk="}]}`, []string{asCrypto}},
	{"POST", "/v1/batch/decrypt", `{"items":[{"ciphertext":"$CT"}]}`, []string{asCrypto}},
	{"POST", "/v1/batch/rewrap", `{"items":[{"key":"app-1","ciphertext":"$CT"}]}`, []string{asCrypto}},
}

// matrixEnv is a dev server with the matrix's keys and one token per
// principal.
type matrixEnv struct {
	*restEnv
	tokens map[string]string
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	t.Helper()
	e := &matrixEnv{restEnv: newDevEnv(t), tokens: map[string]string{}}
	for _, k := range []string{`{"name":"app-1"}`, `{"name":"spare"}`, `{"name":"mac-1","algorithm":"hmac-sha256"}`, `{"name":"sig-1","algorithm":"ed25519"}`} {
		e.post(t, "/v1/keys", k, http.StatusCreated, nil)
	}
	var ct struct{ Ciphertext string }
	e.post(t, "/v1/keys/app-1/encrypt", `{"plaintext":"aGk="}`, http.StatusOK, &ct)
	e.ciphertext = ct.Ciphertext
	e.post(t, "/v1/identities", `{"name":"spare-identity","type":"service"}`, http.StatusCreated, nil)
	if rec := e.serve(http.MethodPut, "/v1/access-policies/spare-policy", "application/json", []byte(`{"statements":[{"effect":"allow","actions":["key:read"]}]}`), true); rec.Code != http.StatusOK {
		t.Fatalf("put access policy: %d %s", rec.Code, rec.Body)
	}
	for _, p := range matrixPrincipals {
		if p == asAnonymous {
			continue
		}
		roles := `[]`
		if p != asNone {
			roles = fmt.Sprintf(`[{"role":%q}]`, p)
		}
		e.post(t, "/v1/identities", fmt.Sprintf(`{"name":"as-%s","type":"human","roles":%s}`, p, roles), http.StatusCreated, nil)
		var tok struct{ Token string }
		e.post(t, "/v1/identities/as-"+p+"/tokens", `{"ttl":"1h"}`, http.StatusCreated, &tok)
		e.tokens[p] = tok.Token
	}
	return e
}

// as sends a request as a principal.
func (e *matrixEnv) as(principal, method, path, body string) (int, kms.Code, string) {
	var b []byte
	if body != "" {
		b = []byte(strings.NewReplacer("$AS", principal, "$CT", e.ciphertext).Replace(body))
	}
	saved := e.token
	e.token = e.tokens[principal]
	rec := e.serve(method, path, "application/json", b, principal != asAnonymous)
	e.token = saved
	code, _ := parseError(rec)
	return rec.Code, code, rec.Body.String()
}

// TestAuthorizationMatrix runs every authenticated endpoint as every
// built-in role, as an identity without grants and without any identity,
// and checks each answer against authzMatrix: allowed principals are never
// refused by access control, the others get 403 forbidden (401 without an
// identity). Batch items are authorised one by one, so their refusals are
// per item.
func TestAuthorizationMatrix(t *testing.T) {
	e := newMatrixEnv(t)
	covered := map[string]bool{}
	for _, row := range authzMatrix {
		route := row.method + " " + row.path
		if row.path == "/v1/sys/seal" {
			covered[row.method+" /v1/sys/seal"] = true
			continue // sealing ends the server: run apart, below
		}
		for _, p := range matrixPrincipals {
			status, code, body := e.as(p, row.method, row.path, row.body)
			want := slices.Contains(row.allowed, p)
			switch {
			case p == asAnonymous:
				if status != http.StatusUnauthorized {
					t.Errorf("%s as %s: %d %s, want 401", route, p, status, body)
				}
			case strings.HasPrefix(row.path, "/v1/batch/") && status == http.StatusOK:
				denied := strings.Contains(body, `"forbidden"`)
				if denied == want {
					t.Errorf("%s as %s: item denied=%v, want allowed=%v: %s", route, p, denied, want, body)
				}
			case want && (code == kms.CodeForbidden || code == kms.CodeUnauthorized):
				t.Errorf("%s as %s: %d %s, want allowed", route, p, status, body)
			case !want && (status != http.StatusForbidden || code != kms.CodeForbidden):
				t.Errorf("%s as %s: %d %s, want 403 forbidden", route, p, status, body)
			}
		}
		covered[routeKey(row.method, row.path)] = true
	}
	// Every authenticated route of the handler is in the table.
	for _, rt := range e.h.Routes() {
		if rt.Auth && !covered[rt.Method+" "+rt.Path] {
			t.Errorf("route %s %s is not in the authorization matrix", rt.Method, rt.Path)
		}
	}
	// Sealing, each principal on a fresh server.
	for _, p := range matrixPrincipals {
		m := newMatrixEnv(t)
		status, _, body := m.as(p, "POST", "/v1/sys/seal", "")
		want := p == asAdmin
		if got := status == http.StatusOK; got != want && p != asAnonymous {
			t.Errorf("POST /v1/sys/seal as %s: %d %s", p, status, body)
		}
		if p == asAnonymous && status != http.StatusUnauthorized {
			t.Errorf("POST /v1/sys/seal as anonymous: %d", status)
		}
	}
	// The denials are audited with their reason.
	n := 0
	for _, line := range strings.Split(e.auditText(t), "\n") {
		if strings.Contains(line, `"outcome":"denied"`) && strings.Contains(line, `"error_code":"forbidden"`) {
			n++
			if !strings.Contains(line, `"deny_reason":"no_matching_allow"`) {
				t.Fatalf("denial without its reason: %s", line)
			}
		}
	}
	if n == 0 {
		t.Fatal("no denial was audited")
	}
}

// routeKey maps a concrete matrix path back to the route pattern it tests.
func routeKey(method, path string) string {
	patterns := map[string]string{
		"/v1/keys/app-1": "/v1/keys/{key}", "/v1/keys/spare": "/v1/keys/{key}",
		"/v1/identities/spare-identity": "/v1/identities/{identity}", "/v1/identities/no-such-identity": "/v1/identities/{identity}",
		"/v1/tokens/tok-no-such-token":         "/v1/tokens/{accessor}",
		"/v1/access-keys/ARCAAAAAAAAAAAAAAAAA": "/v1/access-keys/{id}",
		"/v1/access-policies/spare-policy":     "/v1/access-policies/{name}", "/v1/access-policies/no-such-policy": "/v1/access-policies/{name}",
		"/v1/approvals/00000000-0000-4000-8000-000000000000": "/v1/approvals/{id}",
	}
	if p, ok := patterns[path]; ok {
		return method + " " + p
	}
	for _, prefix := range []string{"/v1/keys/app-1/", "/v1/keys/spare/", "/v1/keys/mac-1/", "/v1/keys/sig-1/", "/v1/identities/spare-identity/", "/v1/identities/no-such-identity/", "/v1/approvals/00000000-0000-4000-8000-000000000000/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			base := "/v1/keys/{key}/"
			switch {
			case strings.HasPrefix(prefix, "/v1/identities/"):
				base = "/v1/identities/{identity}/"
			case strings.HasPrefix(prefix, "/v1/approvals/"):
				base = "/v1/approvals/{id}/"
			}
			rest = strings.Replace(rest, "versions/1/", "versions/{version}/", 1)
			return method + " " + base + rest
		}
	}
	return method + " " + path
}

func (e *restEnv) auditText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
