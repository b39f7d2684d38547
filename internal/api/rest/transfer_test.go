package rest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/keywrap"
	"github.com/arcakms/arca/internal/kms"
)

// post sends a JSON body with the root token and decodes a 2xx response
// into out; it fails the test unless the status is want.
func (e *restEnv) post(t *testing.T, path, body string, want int, out any) {
	t.Helper()
	rec := e.serve(http.MethodPost, path, "application/json", []byte(body), true)
	if rec.Code != want {
		t.Fatalf("POST %s %s: %d %s, want %d", path, body, rec.Code, rec.Body, want)
	}
	if msg := checkEnvelope(rec); msg != "" {
		t.Fatalf("POST %s: %s", path, msg)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
}

// wantError sends a request and checks its error code and status.
func (e *restEnv) wantError(t *testing.T, method, path, body string, want kms.Code) {
	t.Helper()
	before := e.snapshot(t)
	rec := e.serve(method, path, "application/json", []byte(body), true)
	code, msg := parseError(rec)
	if msg != "" || code != want {
		t.Fatalf("%s %s %.80s: %d %s (%s), want code %s", method, path, body, rec.Code, rec.Body, msg, want)
	}
	if after := e.snapshot(t); after != before {
		t.Fatalf("%s %s: a refused request changed state:\n%s\n%s", method, path, before, after)
	}
}

// TestImportExportOverHTTP drives BYOK import, import of a new version,
// export and their refusals through the REST handler: status codes, error
// codes and response shapes as documented.
func TestImportExportOverHTTP(t *testing.T) {
	e := newDevEnv(t)
	var tok struct {
		ID        string `json:"import_token"`
		Scheme    string `json:"scheme"`
		PublicKey string `json:"public_key"`
		ExpiresAt string `json:"expires_at"`
	}
	e.post(t, "/v1/import-tokens", `{"scheme":"ml-kem-768-hpke","ttl":"10m"}`, http.StatusCreated, &tok)
	if tok.Scheme != "ml-kem-768-hpke" || tok.ExpiresAt == "" || !strings.HasPrefix(tok.PublicKey, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("import token %+v", tok)
	}
	material := make([]byte, 32)
	for i := range material {
		material[i] = byte(i)
	}
	wrapped, err := keywrap.Wrap(keywrap.MLKEM768HPKE, tok.PublicKey, material)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(wrapped)
	var key struct {
		ID         string `json:"id"`
		Origin     string `json:"origin"`
		Exportable bool   `json:"exportable"`
		Primary    uint32 `json:"primary_version"`
	}
	e.post(t, "/v1/keys", fmt.Sprintf(`{"name":"byok","algorithm":"hmac-sha256","exportable":true,"import":{"import_token":%q,"wrapped_material":%q}}`, tok.ID, b64), http.StatusCreated, &key)
	if key.Origin != "external" || !key.Exportable || key.Primary != 1 {
		t.Fatalf("imported key %+v", key)
	}
	// Reusing the token: 404 import_token_not_found, nothing created.
	e.wantError(t, http.MethodPost, "/v1/keys", fmt.Sprintf(`{"name":"again","algorithm":"hmac-sha256","import":{"import_token":%q,"wrapped_material":%q}}`, tok.ID, b64), kms.CodeImportTokenNotFound)
	e.wantError(t, http.MethodPost, "/v1/keys/byok/import", fmt.Sprintf(`{"import_token":%q,"wrapped_material":%q}`, tok.ID, b64), kms.CodeImportTokenNotFound)
	// Missing fields, a non-external key, garbage wrapped material.
	e.wantError(t, http.MethodPost, "/v1/keys/byok/import", `{}`, kms.CodeInvalidArgument)
	e.wantError(t, http.MethodPost, "/v1/keys", `{"name":"x","import":{}}`, kms.CodeInvalidArgument)
	e.post(t, "/v1/import-tokens", `{}`, http.StatusCreated, &tok)
	if tok.Scheme != "rsa-oaep-sha256-aes-kwp" {
		t.Fatalf("default scheme %q", tok.Scheme)
	}
	e.wantError(t, http.MethodPost, "/v1/keys/alpha/import", fmt.Sprintf(`{"import_token":%q,"wrapped_material":"AAAA"}`, tok.ID), kms.CodeUnsupportedOperation)
	e.wantError(t, http.MethodPost, "/v1/keys/byok/import", fmt.Sprintf(`{"import_token":%q,"wrapped_material":"AAAA"}`, tok.ID), kms.CodeInvalidImport)
	// The failed attempts did not spend the token.
	material[0] ^= 0xff
	wrapped2, err := keywrap.Wrap(keywrap.RSAAESKeyWrap, tok.PublicKey, material)
	if err != nil {
		t.Fatal(err)
	}
	e.post(t, "/v1/keys/byok/import", fmt.Sprintf(`{"import_token":%q,"wrapped_material":%q}`, tok.ID, base64.StdEncoding.EncodeToString(wrapped2)), http.StatusOK, &key)
	if key.Primary != 2 {
		t.Fatalf("after import: %+v", key)
	}
	// Rotation of an external key is by import only; rotation_period is refused.
	e.wantError(t, http.MethodPost, "/v1/keys/byok/rotate", `{}`, kms.CodeUnsupportedOperation)
	e.wantError(t, http.MethodPatch, "/v1/keys/byok", `{"rotation_period":"30d"}`, kms.CodeInvalidArgument)
	// Exportability is fixed at creation.
	e.wantError(t, http.MethodPatch, "/v1/keys/alpha", `{"exportable":true}`, kms.CodeUnknownField)

	// Export: wrapped to a caller key, never in clear.
	priv, pub, err := keywrap.GenerateKey(keywrap.MLKEM768HPKE)
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		KeyID      string `json:"key_id"`
		KeyVersion uint32 `json:"key_version"`
		Algorithm  string `json:"algorithm"`
		Scheme     string `json:"scheme"`
		Wrapped    []byte `json:"wrapped_material"`
	}
	e.post(t, "/v1/keys/byok/export", fmt.Sprintf(`{"version":2,"scheme":"ml-kem-768-hpke","wrapping_key":%q}`, pub), http.StatusOK, &x)
	got, err := keywrap.Unwrap(keywrap.MLKEM768HPKE, priv, x.Wrapped)
	if err != nil || string(got.Reveal()) != string(material) || x.KeyVersion != 2 || x.Algorithm != "hmac-sha256" || x.KeyID != key.ID {
		t.Fatalf("export %+v: %v", x, err)
	}
	e.wantError(t, http.MethodPost, "/v1/keys/alpha/export", fmt.Sprintf(`{"scheme":"ml-kem-768-hpke","wrapping_key":%q}`, pub), kms.CodeKeyNotExportable)
	e.wantError(t, http.MethodPost, "/v1/keys/byok/export", `{}`, kms.CodeInvalidArgument)
	e.wantError(t, http.MethodPost, "/v1/keys/byok/export", fmt.Sprintf(`{"wrapping_key":%q}`, pub), kms.CodeInvalidArgument) // ML-KEM key, RSA scheme
	e.wantError(t, http.MethodPost, "/v1/keys/byok/export", `{"wrapping_key":"x","plaintext":true}`, kms.CodeUnknownField)
	e.wantError(t, http.MethodPost, "/v1/import-tokens", `{"ttl":"48h"}`, kms.CodeInvalidArgument)
	e.wantError(t, http.MethodPost, "/v1/import-tokens", `{"scheme":"none"}`, kms.CodeInvalidArgument)
	e.wantError(t, http.MethodPost, "/v1/keys/nope/export", fmt.Sprintf(`{"wrapping_key":%q}`, pub), kms.CodeKeyNotFound)
}

// TestAsymmetricPublicKeyForms checks the public-key response of the
// asymmetric encryption keys: algorithm and raw always, PEM/DER only where a
// standard encoding exists.
func TestAsymmetricPublicKeyForms(t *testing.T) {
	e := newDevEnv(t)
	for _, tc := range []struct {
		alg           string
		pem, der, jwk bool
	}{
		{"ml-kem-768", true, true, false},
		{"x25519-ml-kem-768", false, false, false},
		{"rsa-oaep-2048", true, true, true},
	} {
		e.post(t, "/v1/keys", fmt.Sprintf(`{"name":"pk-%s","algorithm":%q}`, tc.alg, tc.alg), http.StatusCreated, nil)
		rec := e.serve(http.MethodGet, "/v1/keys/pk-"+tc.alg+"/public-key", "", nil, true)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.alg, rec.Code, rec.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		_, hasPEM := m["pem"]
		_, hasDER := m["der"]
		_, hasJWK := m["jwk"]
		if m["algorithm"] != tc.alg || m["raw"] == nil || hasPEM != tc.pem || hasDER != tc.der || hasJWK != tc.jwk {
			t.Fatalf("%s public key: %s", tc.alg, rec.Body)
		}
	}
	e.wantError(t, http.MethodGet, "/v1/keys/alpha/public-key", "", kms.CodeUnsupportedOperation)
}

// TestNoRouteRevealsTheMaterialOfAKey imports a non-exportable key with
// known material and calls every route of the API on it (each key route
// with an empty and with a plausible body, export with every scheme and
// version), then checks that no response holds the material in any
// encoding, and that export was refused each time.
func TestNoRouteRevealsTheMaterialOfAKey(t *testing.T) {
	e := newDevEnv(t)
	material := []byte("0123456789abcdef0123456789ABCDEF") // 32 bytes, hmac-sha256
	var tok struct {
		ID        string `json:"import_token"`
		PublicKey string `json:"public_key"`
	}
	e.post(t, "/v1/import-tokens", `{"scheme":"ml-kem-768-hpke"}`, http.StatusCreated, &tok)
	wrapped, err := keywrap.Wrap(keywrap.MLKEM768HPKE, tok.PublicKey, material)
	if err != nil {
		t.Fatal(err)
	}
	e.post(t, "/v1/keys", fmt.Sprintf(`{"name":"locked","algorithm":"hmac-sha256","import":{"import_token":%q,"wrapped_material":%q}}`,
		tok.ID, base64.StdEncoding.EncodeToString(wrapped)), http.StatusCreated, nil)

	forms := map[string]string{
		"raw":       string(material),
		"base64":    base64.StdEncoding.EncodeToString(material),
		"base64url": base64.RawURLEncoding.EncodeToString(material),
		"hex":       fmt.Sprintf("%x", material),
	}
	check := func(what string, body []byte) {
		t.Helper()
		for form, s := range forms {
			if strings.Contains(string(body), s) {
				t.Fatalf("%s: the response holds the key material (%s)", what, form)
			}
		}
	}
	_, rsaPub, err := keywrap.GenerateKey(keywrap.RSAAESKeyWrap)
	if err != nil {
		t.Fatal(err)
	}
	_, kemPub, err := keywrap.GenerateKey(keywrap.MLKEM768HPKE)
	if err != nil {
		t.Fatal(err)
	}
	exports := 0
	for _, rt := range e.h.Routes() {
		if strings.HasPrefix(rt.Path, "/v1/sys/") {
			continue // seal/init/unseal act on the server, not on keys
		}
		path := strings.NewReplacer("{key}", "locked", "{version}", "1").Replace(rt.Path)
		bodies := []string{"", `{}`}
		switch {
		case strings.HasSuffix(rt.Path, "/export"):
			bodies = nil
			for _, v := range []string{"", `"version":1,`, `"version":2,`} {
				bodies = append(bodies,
					fmt.Sprintf(`{%s"wrapping_key":%q}`, v, rsaPub),
					fmt.Sprintf(`{%s"scheme":"ml-kem-768-hpke","wrapping_key":%q}`, v, kemPub))
			}
		case strings.HasSuffix(rt.Path, "/mac"):
			bodies = append(bodies, `{"data":"eA=="}`)
		case strings.HasSuffix(rt.Path, "/datakey"), strings.HasSuffix(rt.Path, "/datakey-pair"), strings.HasSuffix(rt.Path, "/encrypt"):
			bodies = append(bodies, `{"plaintext":"eA==","key_spec":"ed25519"}`)
		}
		for _, b := range bodies {
			if rt.Method == http.MethodGet && b != "" {
				continue
			}
			var body []byte
			if b != "" {
				body = []byte(b)
			}
			rec := e.serve(rt.Method, path, "application/json", body, true)
			check(rt.Method+" "+path+" "+b, rec.Body.Bytes())
			if strings.HasSuffix(rt.Path, "/export") {
				exports++
				if code, msg := parseError(rec); msg != "" || code != kms.CodeKeyNotExportable {
					t.Fatalf("export %s: %d %s", b, rec.Code, rec.Body)
				}
			}
		}
	}
	if exports != 6 {
		t.Fatalf("tried %d exports, want 6", exports)
	}
	log, err := os.ReadFile(filepath.Join(e.dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	check("the audit log", log)
	if n := strings.Count(string(log), `"operation":"key.export"`); n != exports {
		t.Fatalf("the audit log has %d export records, want %d", n, exports)
	}
}
