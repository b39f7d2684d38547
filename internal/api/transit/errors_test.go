package transit

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
)

// seeded returns an environment with keys "a" and "b" (aes256-gcm96),
// "sig" (ed25519), and a ciphertext of "hello" under each of a and b.
func seeded(t *testing.T) (*env, vars) {
	t.Helper()
	e := newEnv(t, Options{})
	v := vars{}
	for _, k := range []string{"a", "b"} {
		e.must(t, 200, "PUT", "/v1/transit/keys/"+k, ``)
		r := e.must(t, 200, "PUT", "/v1/transit/encrypt/"+k, `{"plaintext":"aGVsbG8="}`)
		v["CT_"+strings.ToUpper(k)] = r.str("ciphertext")
	}
	e.must(t, 200, "PUT", "/v1/transit/keys/sig", `{"type":"ed25519"}`)
	return e, v
}

// tamper flips a bit in the last byte of a transit ciphertext's payload
// (the AEAD tag).
func tamper(t *testing.T, ct string) string {
	t.Helper()
	ver, b := unversioned(t, ct)
	b[len(b)-1] ^= 1
	return "vault:" + ver + ":" + base64.StdEncoding.EncodeToString(b)
}

// withPrefix replaces the vault:vN: prefix of a value.
func withPrefix(s, prefix string) string {
	i := strings.LastIndex(s, ":")
	return prefix + s[i+1:]
}

// TestErrors checks refusals: each has Vault's shape, the status Vault
// clients expect, a message naming the problem without echoing input, and
// exactly one audit record naming the transit interface.
func TestErrors(t *testing.T) {
	t.Parallel()
	e, v := seeded(t)
	ctA := v["CT_A"]
	big := strings.Repeat("A", opBody+10)
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"malformed JSON", "PUT", "/v1/transit/encrypt/a", `{"plaintext":`, 400, "not valid JSON"},
		{"not an object", "PUT", "/v1/transit/encrypt/a", `["aGk="]`, 400, "must be a JSON object"},
		{"unknown field", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk=","plain":"x"}`, 400, "unknown field at /plain"},
		{"duplicate field", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk=","plaintext":"aGk="}`, 400, "not valid JSON"},
		{"wrong type", "PUT", "/v1/transit/encrypt/a", `{"plaintext":5}`, 400, "wrong JSON type or value at /plaintext"},
		{"loose int that is not one", "PUT", "/v1/transit/datakey/wrapped/a", `{"bits":"lots"}`, 400, "at /bits"},
		{"bad base64", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"not base64!"}`, 400, "invalid base64 at /plaintext"},
		{"unpadded base64", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk"}`, 400, "invalid base64 at /plaintext"},
		{"base64 with a newline", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aG\nk="}`, 400, "invalid base64 at /plaintext"},
		{"URL-safe base64", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"a-_="}`, 400, "invalid base64 at /plaintext"},
		{"bad base64 in a batch item", "PUT", "/v1/transit/encrypt/a", `{"batch_input":[{"plaintext":"aGk="},{"plaintext":"aGk=","context":"%"}]}`, 400, "invalid base64 at /batch_input/1/context"},
		{"bad base64 input", "PUT", "/v1/transit/sign/sig", `{"input":"???"}`, 400, "invalid base64 at /input"},
		{"missing plaintext", "PUT", "/v1/transit/encrypt/a", `{}`, 400, "missing plaintext"},
		{"nonce is refused", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk=","nonce":"AAAAAAAAAAAAAAAA"}`, 400, "nonce is not supported"},
		{"older key_version is refused", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk=","key_version":1}`, 400, "key_version is not supported"},
		{"convergent encryption is refused", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk=","convergent_encryption":true}`, 400, "convergent_encryption"},
		{"missing ciphertext", "PUT", "/v1/transit/decrypt/a", `{}`, 400, "missing ciphertext"},
		{"ciphertext without prefix", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"` + strings.TrimPrefix(ctA, "vault:v1:") + `"}`, 400, "must start with"},
		{"Arca ciphertext is not a transit one", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"arca:v1:AAAA"}`, 400, "must start with"},
		{"version zero", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"` + withPrefix(ctA, "vault:v0:") + `"}`, 400, "no valid version"},
		{"leading zero", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"` + withPrefix(ctA, "vault:v01:") + `"}`, 400, "no valid version"},
		{"wrong version in the prefix", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"` + withPrefix(ctA, "vault:v2:") + `"}`, 400, "prefix says version 2 but the ciphertext was made by version 1"},
		{"version out of range", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"` + withPrefix(ctA, "vault:v4294967296:") + `"}`, 400, "out of range"},
		{"payload not Arca's", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"vault:v1:` + base64.StdEncoding.EncodeToString([]byte("not a ciphertext")) + `"}`, 400, "not an Arca ciphertext"},
		{"ciphertext of another key", "PUT", "/v1/transit/decrypt/b", `{"ciphertext":"` + ctA + `"}`, 400, `was not made with key "b"`},
		{"rewrap with another key", "PUT", "/v1/transit/rewrap/b", `{"ciphertext":"` + ctA + `"}`, 400, `was not made with key "b"`},
		{"altered ciphertext", "PUT", "/v1/transit/decrypt/a", `{"ciphertext":"` + tamper(t, ctA) + `"}`, 400, "decryption failed"},
		{"unknown key", "PUT", "/v1/transit/encrypt/nope", `{"plaintext":"aGk="}`, 404, `key "nope" not found`},
		{"unknown key read", "GET", "/v1/transit/keys/nope", ``, 404, `not found`},
		{"unknown key type", "PUT", "/v1/transit/keys/c", `{"type":"rot13"}`, 400, `unknown key type "rot13"`},
		{"aes128 is refused", "PUT", "/v1/transit/keys/c", `{"type":"aes128-gcm96"}`, 400, "256-bit"},
		{"key_size for a non-hmac key", "PUT", "/v1/transit/keys/c", `{"type":"aes256-gcm96","key_size":32}`, 400, "key_size applies to hmac keys only"},
		{"hmac key_size Arca has no hash for", "PUT", "/v1/transit/keys/c", `{"type":"hmac","key_size":40}`, 400, "32, 48 or 64"},
		{"plaintext backups are refused", "PUT", "/v1/transit/keys/c", `{"allow_plaintext_backup":true}`, 400, "allow_plaintext_backup"},
		{"invalid key name", "PUT", "/v1/transit/keys/-x", ``, 400, "name must be"},
		{"hmac with an encryption key", "PUT", "/v1/transit/hmac/a", `{"input":"aGk="}`, 400, ""},
		{"unknown hash", "PUT", "/v1/transit/sign/sig/md5", `{"input":"aGk="}`, 400, `algorithm "md5" is not supported`},
		{"hash for ed25519", "PUT", "/v1/transit/sign/sig/sha2-256", `{"input":"aGk="}`, 400, "sign messages, not digests"},
		{"signature and hmac", "PUT", "/v1/transit/verify/sig", `{"input":"aGk=","signature":"vault:v1:AAAA","hmac":"vault:v1:AAAA"}`, 400, "not both"},
		{"neither signature nor hmac", "PUT", "/v1/transit/verify/sig", `{"input":"aGk="}`, 400, "missing signature or hmac"},
		{"prehashed digest of the wrong size", "PUT", "/v1/transit/sign/sig/sha2-256", `{"input":"aGk=","prehashed":true}`, 400, "not a sha2-256 digest"},
		{"bad bool", "PUT", "/v1/transit/sign/sig", `{"input":"aGk=","prehashed":"maybe"}`, 400, "at /prehashed"},
		{"random bytes not a number", "PUT", "/v1/transit/random", `{"bytes":"x"}`, 400, "at /bytes"},
		{"batch with single fields", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk=","batch_input":[{"plaintext":"aGk="}]}`, 400, "batch_input excludes"},
		{"empty batch", "PUT", "/v1/transit/encrypt/a", `{"batch_input":[]}`, 400, "must not be empty"},
		{"batch too large", "PUT", "/v1/transit/encrypt/a", `{"batch_input":[` + strings.Repeat(`{"plaintext":"aGk="},`, 1000) + `{"plaintext":"aGk="}]}`, 400, "at most 1000 items"},
		{"malformed batch item", "PUT", "/v1/transit/decrypt/a", `{"batch_input":[{"ciphertext":"` + ctA + `"},{"ciphertext":"vault:v1:%%"}]}`, 400, "batch_input[1]: ciphertext payload is not valid base64"},
		{"body too large", "PUT", "/v1/transit/encrypt/a", `{"plaintext":"` + big + `"}`, 413, "exceeds"},
		{"unknown query parameter", "PUT", "/v1/transit/encrypt/a?version=2", `{"plaintext":"aGk="}`, 400, `unknown query parameter "version"`},
		{"keys without list", "GET", "/v1/transit/keys", ``, 405, "LIST"},
		{"unknown path under the mount", "PUT", "/v1/transit/export/encryption-key/a", ``, 404, "unsupported path"},
		{"unknown path, deeper", "PUT", "/v1/transit/encrypt/a/b", ``, 404, "unsupported path"},
		{"empty key name", "PUT", "/v1/transit/encrypt/", ``, 404, "unsupported path"},
		{"non-canonical path", "PUT", "/v1/transit/encrypt/../keys/a", ``, 404, "unsupported path"},
		{"other mount", "PUT", "/v1/secret/encrypt/a", ``, 404, "unsupported path"},
		{"method not allowed", "PATCH", "/v1/transit/encrypt/a", ``, 405, "unsupported operation"},
		{"GET on a write path", "GET", "/v1/transit/encrypt/a", ``, 405, "unsupported operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("%d %s, want %d", r.status, r.raw, tt.status)
			}
			errs := r.errs()
			if len(errs) != 1 || !strings.Contains(errs[0], tt.msg) || len(r.body) != 1 {
				t.Fatalf("body %s, want {\"errors\":[\"...%s...\"]}", r.raw, tt.msg)
			}
			if strings.Contains(errs[0], "aGk=") || strings.Contains(errs[0], "AAAAAAAAAAAAAAAA") {
				t.Errorf("message echoes input: %q", errs[0])
			}
			if tt.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			recs := e.auditOf(t, r)
			if len(recs) != 1 {
				t.Fatalf("%d audit records, want 1: %+v", len(recs), recs)
			}
			// Unknown paths and methods are refused before
			// authentication, and audited without an identity.
			anon := tt.msg == "unsupported path" || tt.msg == "unsupported operation"
			if rec := recs[0]; rec.Interface != "transit" || rec.Outcome != audit.OutcomeFailed || (rec.Identity == "") != anon {
				t.Errorf("audit record %+v", rec)
			}
		})
	}
}

// TestAuthentication checks tokens: X-Vault-Token and Bearer both
// authenticate; a missing, unknown or revoked token is Vault's 403
// permission denied, audited as a denial by the transit interface.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	e, _ := seeded(t)
	tok, accessor := e.login(t, "revoked-app")
	if err := e.svc.RevokeToken(e.rootCtx(t), accessor); err != nil {
		t.Fatal(err)
	}
	body := `{"plaintext":"aGk="}`
	ok := []map[string]string{
		{"X-Vault-Token": e.token, "X-Vault-Request": "true"},
		{"Authorization": "Bearer " + e.token},
		{"X-Vault-Token": e.token, "Authorization": "Bearer arca_not-this-one"},
	}
	for _, h := range ok {
		if r := sendWith(t, e.srv.URL, "PUT", "/v1/transit/encrypt/a", body, h); r.status != 200 {
			t.Errorf("headers %v: %d %s", h, r.status, r.raw)
		}
	}
	denied := map[string]map[string]string{
		"no token":           {},
		"unknown token":      {"X-Vault-Token": "arca_" + strings.Repeat("x", 40)},
		"not an Arca token":  {"X-Vault-Token": "hvs.CAESIJ"},
		"revoked token":      {"X-Vault-Token": tok},
		"basic auth":         {"Authorization": "Basic dXNlcjpwYXNz"},
		"bearer, no token":   {"Authorization": "Bearer "},
		"unknown on a read":  {"X-Vault-Token": "arca_unknown"},
		"unknown on a 405":   {"X-Vault-Token": "arca_unknown"},
		"unknown, list keys": {"X-Vault-Token": "arca_unknown"},
	}
	paths := map[string][2]string{
		"unknown on a read":  {"GET", "/v1/transit/keys/a"},
		"unknown, list keys": {"LIST", "/v1/transit/keys"},
	}
	for name, h := range denied {
		t.Run(name, func(t *testing.T) {
			mp := [2]string{"PUT", "/v1/transit/encrypt/a"}
			if p, ok := paths[name]; ok {
				mp = p
			}
			r := sendWith(t, e.srv.URL, mp[0], mp[1], body, h)
			if name == "unknown on a 405" {
				r = sendWith(t, e.srv.URL, "PATCH", "/v1/transit/encrypt/a", body, h)
				if r.status != 405 {
					t.Fatalf("%d %s: the method is checked before the token", r.status, r.raw)
				}
				return
			}
			if r.status != http.StatusForbidden || strings.TrimSpace(r.raw) != `{"errors":["permission denied"]}` {
				t.Fatalf("%d %s, want 403 {\"errors\":[\"permission denied\"]}", r.status, r.raw)
			}
			recs := e.auditOf(t, r)
			if len(recs) != 1 {
				t.Fatalf("%d audit records", len(recs))
			}
			rec := recs[0]
			if rec.Interface != "transit" || rec.Outcome != audit.OutcomeDenied || rec.ErrorCode != string(kms.CodeUnauthorized) || rec.Operation == "" || rec.Source != "127.0.0.1" {
				t.Errorf("audit record %+v", rec)
			}
		})
	}
}

// TestSealed checks that a sealed server answers 503 on every route,
// with or without a token, and that nothing is decrypted.
func TestSealed(t *testing.T) {
	t.Parallel()
	e, v := seeded(t)
	if _, err := e.svc.Seal(e.rootCtx(t)); err != nil {
		t.Fatal(err)
	}
	for _, rt := range e.h.Routes() {
		p := strings.NewReplacer("{name}", "a", "{arg}", "16", "{sub}", "platform").Replace(rt.Pattern)
		for _, token := range []string{e.token, ""} {
			r := send(t, e.srv.URL, rt.Methods[0], "/v1/transit/"+p, token, `{"ciphertext":"`+v["CT_A"]+`"}`)
			if r.status != http.StatusServiceUnavailable || len(r.errs()) != 1 || !strings.Contains(r.errs()[0], "sealed") {
				t.Errorf("%s %s (token %v): %d %s, want 503 sealed", rt.Methods[0], p, token != "", r.status, r.raw)
			}
		}
	}
}

// TestMounts serves custom mounts, one of several segments.
func TestMounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{Mounts: []string{"sops", "team-a/transit"}})
	e.must(t, 200, "PUT", "/v1/sops/keys/k", ``)
	r := e.must(t, 200, "PUT", "/v1/team-a/transit/encrypt/k", `{"plaintext":"aGk="}`)
	e.must(t, 200, "PUT", "/v1/sops/decrypt/k", `{"ciphertext":"`+r.str("ciphertext")+`"}`)
	e.must(t, 404, "PUT", "/v1/transit/encrypt/k", `{"plaintext":"aGk="}`)
	e.must(t, 404, "PUT", "/v1/team-a/encrypt/k", `{"plaintext":"aGk="}`)
	for _, bad := range []string{"", "/transit", "transit/", "a//b", "../x", "sys", "sys/x", "a b", "tr%61nsit"} {
		if ValidateMount(bad) == nil {
			t.Errorf("ValidateMount(%q) accepted it", bad)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("New accepted a mount given twice")
			}
		}()
		New(e.svc, Options{Mounts: []string{"x", "x"}})
	}()
	if got := New(e.svc, Options{}).Mounts(); len(got) != 1 || got[0] != DefaultMount {
		t.Errorf("default mounts %v", got)
	}
}

// TestRoutes pins the route table.
func TestRoutes(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{Logger: discardLogger()})
	var got []string
	for _, rt := range h.Routes() {
		got = append(got, strings.Join(rt.Methods, ",")+" "+rt.Pattern)
	}
	want := []string{
		"LIST,GET keys", "GET keys/{name}", "POST,PUT keys/{name}", "DELETE keys/{name}",
		"POST,PUT keys/{name}/rotate", "POST,PUT keys/{name}/config",
		"POST,PUT encrypt/{name}", "POST,PUT decrypt/{name}", "POST,PUT rewrap/{name}",
		"POST,PUT datakey/plaintext/{name}", "POST,PUT datakey/wrapped/{name}",
		"POST,PUT hmac/{name}", "POST,PUT hmac/{name}/{arg}", "POST,PUT sign/{name}", "POST,PUT sign/{name}/{arg}",
		"POST,PUT verify/{name}", "POST,PUT verify/{name}/{arg}",
		"POST,PUT random", "POST,PUT random/{arg}", "POST,PUT random/{sub}/{arg}",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUninitialised checks that a server never initialised answers 503
// before looking at the token.
func TestUninitialised(t *testing.T) {
	t.Parallel()
	e := openEnv(t, Options{})
	for _, token := range []string{"", "arca_" + strings.Repeat("x", 40)} {
		r := send(t, e.srv.URL, "PUT", "/v1/transit/encrypt/a", token, `{"plaintext":"aGk="}`)
		if r.status != http.StatusServiceUnavailable || len(r.errs()) != 1 {
			t.Errorf("token %v: %d %s, want 503", token != "", r.status, r.raw)
		}
	}
}

// TestVaultHeaders checks the headers of Vault features Arca does not have:
// they are refused, not ignored; X-Vault-Request is accepted.
func TestVaultHeaders(t *testing.T) {
	t.Parallel()
	e, _ := seeded(t)
	for h, want := range map[string]int{"X-Vault-Namespace": 400, "X-Vault-Wrap-TTL": 400, "X-Vault-Request": 200} {
		r := sendWith(t, e.srv.URL, "PUT", "/v1/transit/encrypt/a", `{"plaintext":"aGk="}`, map[string]string{"X-Vault-Token": e.token, h: "5m"})
		if r.status != want {
			t.Errorf("%s: %d %s, want %d", h, r.status, r.raw, want)
		}
	}
}
