package transit

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
)

// FuzzCiphertext checks the transit ciphertext parser: it never panics,
// and what it accepts is canonical (formatting it back gives the input)
// and names the same version as its Arca header.
func FuzzCiphertext(f *testing.F) {
	seed := &crypto.Ciphertext{KeyVersion: 3, Algorithm: crypto.AES256GCM, Nonce: make([]byte, 12), Sealed: make([]byte, 20)}
	text, err := toVaultCiphertext(seed.String())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{text, "vault:v1:", "vault:v0:AAAA", "vault:v1:AAAA", "vault:v4294967296:AA==", "vault:v3:" + strings.Repeat("A", 64), "arca:v1:AAAA", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		arca, err := fromVaultCiphertext(s)
		if err != nil {
			return
		}
		back, err := toVaultCiphertext(arca)
		if err != nil {
			t.Fatalf("accepted %q but cannot format it: %v", s, err)
		}
		if back != s {
			t.Fatalf("not canonical: %q formats back as %q", s, back)
		}
	})
}

// FuzzRequest sends arbitrary bodies to every write route of a live
// handler: it never panics and always answers Vault's shape with a
// status below 500.
func FuzzRequest(f *testing.F) {
	e := newEnv(f, Options{})
	e.must(f, 200, "PUT", "/v1/transit/keys/k", `{}`)
	e.must(f, 200, "PUT", "/v1/transit/keys/m", `{"type":"hmac"}`)
	e.must(f, 200, "PUT", "/v1/transit/keys/s", `{"type":"ed25519"}`)
	ct := e.must(f, 200, "PUT", "/v1/transit/encrypt/k", `{"plaintext":"aGk="}`).str("ciphertext")
	paths := []string{"encrypt/k", "decrypt/k", "rewrap/k", "datakey/plaintext/k", "hmac/m", "verify/m", "sign/s", "verify/s", "random", "keys/k/config"}
	for i, b := range []string{
		`{"plaintext":"aGk=","context":"Yw=="}`, `{"ciphertext":"` + ct + `"}`, `{"batch_input":[{"ciphertext":"` + ct + `"}]}`,
		`{"bits":"128"}`, `{"input":"aGk=","algorithm":"sha2-256"}`, `{"input":"aGk=","hmac":"vault:v1:AAAA"}`,
		`{"input":"aGk=","prehashed":"true","hash_algorithm":"sha2-256"}`, `{"batch_input":[{"input":"aGk=","signature":"vault:v1:AA=="}]}`,
		`{"bytes":"16","format":"hex"}`, `{"min_decryption_version":"1","auto_rotate_period":"0"}`,
	} {
		f.Add(uint8(i), []byte(b))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		p := "/v1/transit/" + paths[int(route)%len(paths)]
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPut, p, bytes.NewReader(body))
		req.Header.Set("X-Vault-Token", e.token)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", p, body, rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: no JSON answer", p)
		}
	})
}
