package transit

import (
	gocrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// vars carries values between the steps of a flow: ciphertexts,
// signatures, public keys. "$NAME" in a step's path or body is replaced
// by vars["NAME"].
type vars map[string]string

func (v vars) expand(s string) string {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	// Longest first, so that $CT2 is not read as $CT followed by 2.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for _, k := range names {
		s = strings.ReplaceAll(s, "$"+k, v[k])
	}
	return s
}

// step is one request of a flow and what its answer must be.
type step struct {
	name         string
	method, path string
	body         string
	status       int
	// check inspects a successful answer and may save values in v.
	check func(t *testing.T, r *response, v vars)
}

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// unversioned splits "vault:vN:<base64>" independently of the package's
// parser and returns N and the payload.
func unversioned(t *testing.T, s string) (string, []byte) {
	t.Helper()
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] != "vault" || !strings.HasPrefix(parts[1], "v") {
		t.Fatalf("%q is not vault:vN:<base64>", s)
	}
	b, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("%q: payload: %v", s, err)
	}
	return parts[1], b
}

// wantData checks string-valued data fields.
func wantData(t *testing.T, r *response, fields map[string]any) {
	t.Helper()
	for k, want := range fields {
		if got := r.data()[k]; got != want {
			t.Errorf("data.%s = %#v, want %#v (body %s)", k, got, want, r.raw)
		}
	}
}

func save(name, field string) func(*testing.T, *response, vars) {
	return func(t *testing.T, r *response, v vars) {
		t.Helper()
		s := r.str(field)
		if s == "" {
			t.Fatalf("no %s in %s", field, r.raw)
		}
		v[name] = s
	}
}

func versionsOf(r *response) []string {
	keys, _ := r.data()["keys"].(map[string]any)
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// publicKeyOf returns the public key of version 1 from a key read.
func publicKeyOf(t *testing.T, r *response) any {
	t.Helper()
	keys, _ := r.data()["keys"].(map[string]any)
	v1, _ := keys["1"].(map[string]any)
	text, _ := v1["public_key"].(string)
	if text == "" {
		t.Fatalf("no public key for version 1: %s", r.raw)
	}
	if r.str("type") == "ed25519" {
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			t.Fatalf("ed25519 public key %q: %v", text, err)
		}
		return ed25519.PublicKey(raw)
	}
	blk, _ := pem.Decode([]byte(text))
	if blk == nil {
		t.Fatalf("public key is not PEM: %q", text)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// flow is every endpoint, in order, for one write method: keys of each
// type are created, used, rotated and read, and signatures are checked
// with the public keys the API returns, independently of Arca.
func flow(m string) []step {
	digest := sha256.Sum256([]byte("message"))
	return []step{
		// Keys.
		{"create default type", m, "/v1/transit/keys/aes", `{}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"name": "aes", "type": "aes256-gcm96", "latest_version": 1.0, "min_decryption_version": 1.0,
				"deletion_allowed": false, "supports_encryption": true, "supports_decryption": true, "supports_derivation": true,
				"supports_signing": false, "derived": false, "exportable": false, "arca_algorithm": "aes-256-gcm"})
			if got := versionsOf(r); !slices.Equal(got, []string{"1"}) {
				t.Errorf("keys %v", got)
			}
			if ts, _ := r.data()["keys"].(map[string]any)["1"].(float64); ts < 1e9 {
				t.Errorf("version 1 has no unix creation time: %s", r.raw)
			}
		}},
		{"create chacha20", m, "/v1/transit/keys/chacha", `{"type":"chacha20-poly1305"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"type": "chacha20-poly1305", "arca_algorithm": "chacha20-poly1305"})
		}},
		{"create derived, loose bool", m, "/v1/transit/keys/derived", `{"type":"aes256-gcm96","derived":"true"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"derived": true, "kdf": "hkdf_sha256"})
		}},
		{"create ed25519", m, "/v1/transit/keys/ed", `{"type":"ed25519"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"type": "ed25519", "supports_signing": true, "supports_encryption": false})
		}},
		{"create ecdsa-p256", m, "/v1/transit/keys/ec", `{"type":"ecdsa-p256"}`, 200, nil},
		{"create rsa-2048", m, "/v1/transit/keys/rsa", `{"type":"rsa-2048"}`, 200, nil},
		{"create hmac", m, "/v1/transit/keys/mac", `{"type":"hmac"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"type": "hmac", "arca_algorithm": "hmac-sha256"})
		}},
		{"create hmac 64 bytes", m, "/v1/transit/keys/mac512", `{"type":"hmac","key_size":"64"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"arca_algorithm": "hmac-sha512"})
		}},
		{"create with Arca's algorithm name", m, "/v1/transit/keys/siv", `{"type":"aes-256-siv"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"type": "aes-256-siv"})
		}},
		{"create with rotation period", m, "/v1/transit/keys/rotating", `{"auto_rotate_period":"24h"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"auto_rotate_period": 86400.0})
		}},
		{"create existing: unchanged, warned", m, "/v1/transit/keys/aes", `{"type":"ed25519"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"type": "aes256-gcm96"})
			if w, _ := r.body["warnings"].([]any); len(w) != 1 {
				t.Errorf("warnings %v", r.body["warnings"])
			}
		}},
		{"read", "GET", "/v1/transit/keys/aes", ``, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"name": "aes", "type": "aes256-gcm96"})
			if r.body["mount_type"] != "transit" || r.body["request_id"] == "" {
				t.Errorf("envelope %s", r.raw)
			}
		}},
		{"list", "LIST", "/v1/transit/keys", ``, 200, func(t *testing.T, r *response, v vars) {
			names, _ := r.data()["keys"].([]any)
			if len(names) != 10 || names[0] != "aes" {
				t.Errorf("keys %v", names)
			}
		}},
		{"list with GET ?list=true", "GET", "/v1/transit/keys?list=true", ``, 200, nil},
		{"delete is refused", "DELETE", "/v1/transit/keys/aes", ``, 400, func(t *testing.T, r *response, v vars) {
			if e := r.errs(); len(e) != 1 || !strings.HasPrefix(e[0], "deletion is not allowed") {
				t.Errorf("errors %v", e)
			}
		}},

		// Encryption.
		{"encrypt", m, "/v1/transit/encrypt/aes", `{"plaintext":"` + b64s("hello") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"key_version": 1.0})
			if ver, _ := unversioned(t, r.str("ciphertext")); ver != "v1" {
				t.Errorf("ciphertext %s", r.str("ciphertext"))
			}
			save("CT", "ciphertext")(t, r, v)
		}},
		{"encrypt empty plaintext", m, "/v1/transit/encrypt/aes", `{"plaintext":""}`, 200, save("EMPTY", "ciphertext")},
		{"decrypt", m, "/v1/transit/decrypt/aes", `{"ciphertext":"$CT"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"plaintext": b64s("hello")})
		}},
		{"decrypt empty plaintext", m, "/v1/transit/decrypt/aes", `{"ciphertext":"$EMPTY"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"plaintext": ""})
		}},
		{"encrypt with context and associated data", m, "/v1/transit/encrypt/chacha",
			`{"plaintext":"` + b64s("x") + `","context":"` + b64s("tenant-1") + `","associated_data":"` + b64s("row-7") + `"}`, 200, save("CTX", "ciphertext")},
		{"decrypt needs the context", m, "/v1/transit/decrypt/chacha", `{"ciphertext":"$CTX","associated_data":"` + b64s("row-7") + `"}`, 400, nil},
		{"decrypt needs the associated data", m, "/v1/transit/decrypt/chacha", `{"ciphertext":"$CTX","context":"` + b64s("tenant-1") + `"}`, 400, nil},
		{"decrypt with both", m, "/v1/transit/decrypt/chacha", `{"ciphertext":"$CTX","context":"` + b64s("tenant-1") + `","associated_data":"` + b64s("row-7") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"plaintext": b64s("x")})
		}},
		{"derived key needs a context", m, "/v1/transit/encrypt/derived", `{"plaintext":"` + b64s("x") + `"}`, 400, nil},
		{"derived key with a context", m, "/v1/transit/encrypt/derived", `{"plaintext":"` + b64s("x") + `","context":"` + b64s("a") + `"}`, 200, save("DER", "ciphertext")},
		{"derived key, other context", m, "/v1/transit/decrypt/derived", `{"ciphertext":"$DER","context":"` + b64s("b") + `"}`, 400, nil},
		{"derived key, same context", m, "/v1/transit/decrypt/derived", `{"ciphertext":"$DER","context":"` + b64s("a") + `"}`, 200, nil},
		{"deterministic key", m, "/v1/transit/encrypt/siv", `{"plaintext":"` + b64s("same") + `"}`, 200, save("SIV", "ciphertext")},
		{"deterministic key again", m, "/v1/transit/encrypt/siv", `{"plaintext":"` + b64s("same") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"ciphertext": v["SIV"]})
		}},

		// Rotation, rewrap, configuration.
		{"rotate", m, "/v1/transit/keys/aes/rotate", ``, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"latest_version": 2.0})
			if got := versionsOf(r); !slices.Equal(got, []string{"1", "2"}) {
				t.Errorf("keys %v", got)
			}
		}},
		{"rotate with a null body, as vault write -f sends", m, "/v1/transit/keys/chacha/rotate", `null`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"latest_version": 2.0})
		}},
		{"encrypt after rotation", m, "/v1/transit/encrypt/aes", `{"plaintext":"` + b64s("new") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"key_version": 2.0})
		}},
		{"old ciphertext still decrypts", m, "/v1/transit/decrypt/aes", `{"ciphertext":"$CT"}`, 200, nil},
		{"rewrap", m, "/v1/transit/rewrap/aes", `{"ciphertext":"$CT"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"key_version": 2.0})
			if ver, _ := unversioned(t, r.str("ciphertext")); ver != "v2" {
				t.Errorf("rewrapped %s", r.str("ciphertext"))
			}
			save("CT2", "ciphertext")(t, r, v)
		}},
		{"config min_decryption_version", m, "/v1/transit/keys/aes/config", `{"min_decryption_version":"2"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"min_decryption_version": 2.0})
		}},
		{"version below the minimum", m, "/v1/transit/decrypt/aes", `{"ciphertext":"$CT"}`, 400, nil},
		{"rewrapped ciphertext decrypts", m, "/v1/transit/decrypt/aes", `{"ciphertext":"$CT2"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"plaintext": b64s("hello")})
		}},
		{"config rotation period, seconds", m, "/v1/transit/keys/aes/config", `{"auto_rotate_period":7200}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"auto_rotate_period": 7200.0})
		}},
		{"config deletion_allowed is refused", m, "/v1/transit/keys/aes/config", `{"deletion_allowed":true}`, 400, nil},

		// Data keys.
		{"datakey plaintext", m, "/v1/transit/datakey/plaintext/aes", ``, 200, func(t *testing.T, r *response, v vars) {
			pt, err := base64.StdEncoding.DecodeString(r.str("plaintext"))
			if err != nil || len(pt) != 32 {
				t.Fatalf("plaintext %q: %v", r.str("plaintext"), err)
			}
			v["DKPT"], v["DKCT"] = r.str("plaintext"), r.str("ciphertext")
		}},
		{"datakey decrypts to its plaintext", m, "/v1/transit/decrypt/aes", `{"ciphertext":"$DKCT"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"plaintext": v["DKPT"]})
		}},
		{"datakey 128 bits as a string", m, "/v1/transit/datakey/plaintext/aes", `{"bits":"128"}`, 200, func(t *testing.T, r *response, v vars) {
			if pt, _ := base64.StdEncoding.DecodeString(r.str("plaintext")); len(pt) != 16 {
				t.Errorf("plaintext %q", r.str("plaintext"))
			}
		}},
		{"datakey wrapped", m, "/v1/transit/datakey/wrapped/aes", `{"bits":256}`, 200, func(t *testing.T, r *response, v vars) {
			if _, ok := r.data()["plaintext"]; ok || r.str("ciphertext") == "" {
				t.Errorf("wrapped data key %s", r.raw)
			}
		}},
		{"datakey 512 bits", m, "/v1/transit/datakey/plaintext/aes", `{"bits":512}`, 200, func(t *testing.T, r *response, v vars) {
			if p, _ := base64.StdEncoding.DecodeString(r.str("plaintext")); len(p) != 64 {
				t.Errorf("512-bit data key: %s", r.raw)
			}
		}},
		{"datakey 384 bits is refused", m, "/v1/transit/datakey/wrapped/aes", `{"bits":384}`, 400, nil},

		// HMAC.
		{"hmac", m, "/v1/transit/hmac/mac", `{"input":"` + b64s("data") + `"}`, 200, save("MAC", "hmac")},
		{"hmac with the key's algorithm in the path", m, "/v1/transit/hmac/mac/sha2-256", `{"input":"` + b64s("data") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"hmac": v["MAC"]})
		}},
		{"hmac with another algorithm", m, "/v1/transit/hmac/mac/sha2-512", `{"input":"` + b64s("data") + `"}`, 400, nil},
		{"hmac of a sha2-512 key", m, "/v1/transit/hmac/mac512", `{"input":"` + b64s("data") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			if _, tag := unversioned(t, r.str("hmac")); len(tag) != 64 {
				t.Errorf("HMAC-SHA-512 tag of %d bytes", len(tag))
			}
			save("MAC512", "hmac")(t, r, v)
		}},
		{"hmac of a sha2-512 key, algorithm in the body", m, "/v1/transit/hmac/mac512", `{"input":"` + b64s("data") + `","algorithm":"sha2-512"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"hmac": v["MAC512"]})
		}},
		{"verify hmac", m, "/v1/transit/verify/mac", `{"input":"` + b64s("data") + `","hmac":"$MAC"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"valid": true})
		}},
		{"verify hmac, other input", m, "/v1/transit/verify/mac", `{"input":"` + b64s("datA") + `","hmac":"$MAC"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"valid": false})
		}},
		{"verify hmac under another algorithm", m, "/v1/transit/verify/mac/sha2-384", `{"input":"` + b64s("data") + `","hmac":"$MAC"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"valid": false})
		}},

		// Signatures, checked with the public keys the API returns.
		{"read ed25519", "GET", "/v1/transit/keys/ed", ``, 200, func(t *testing.T, r *response, v vars) {
			v["EDPUB"] = string(publicKeyOf(t, r).(ed25519.PublicKey))
		}},
		{"sign ed25519", m, "/v1/transit/sign/ed", `{"input":"` + b64s("message") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			_, sig := unversioned(t, r.str("signature"))
			if !ed25519.Verify(ed25519.PublicKey(v["EDPUB"]), []byte("message"), sig) {
				t.Error("ed25519 signature does not verify with the public key")
			}
			save("EDSIG", "signature")(t, r, v)
		}},
		{"verify ed25519", m, "/v1/transit/verify/ed", `{"input":"` + b64s("message") + `","signature":"$EDSIG"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"valid": true})
		}},
		{"verify ed25519, other input", m, "/v1/transit/verify/ed", `{"input":"` + b64s("massage") + `","signature":"$EDSIG"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"valid": false})
		}},
		{"read ecdsa", "GET", "/v1/transit/keys/ec", ``, 200, func(t *testing.T, r *response, v vars) {
			pub := publicKeyOf(t, r).(*ecdsa.PublicKey)
			der, _ := x509.MarshalPKIXPublicKey(pub)
			v["ECPUB"] = string(der)
			keys := r.data()["keys"].(map[string]any)
			if name := keys["1"].(map[string]any)["name"]; name != "P-256" {
				t.Errorf("name %v", name)
			}
		}},
		{"sign ecdsa sha2-256", m, "/v1/transit/sign/ec/sha2-256", `{"input":"` + b64s("message") + `"}`, 200, func(t *testing.T, r *response, v vars) {
			_, sig := unversioned(t, r.str("signature"))
			pub, _ := x509.ParsePKIXPublicKey([]byte(v["ECPUB"]))
			if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], sig) {
				t.Error("ECDSA signature does not verify with the public key")
			}
			save("ECSIG", "signature")(t, r, v)
		}},
		{"verify ecdsa prehashed", m, "/v1/transit/verify/ec", `{"input":"` + base64.StdEncoding.EncodeToString(digest[:]) + `","prehashed":true,"signature":"$ECSIG"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"valid": true})
		}},
		{"sign ecdsa sha2-384 is not the key's hash", m, "/v1/transit/sign/ec", `{"input":"` + b64s("message") + `","hash_algorithm":"sha2-384"}`, 400, nil},
		{"sign ecdsa jws is refused", m, "/v1/transit/sign/ec", `{"input":"` + b64s("message") + `","marshaling_algorithm":"jws"}`, 400, nil},
		{"read rsa", "GET", "/v1/transit/keys/rsa", ``, 200, func(t *testing.T, r *response, v vars) {
			der, _ := x509.MarshalPKIXPublicKey(publicKeyOf(t, r).(*rsa.PublicKey))
			v["RSAPUB"] = string(der)
		}},
		{"sign rsa pkcs1v15", m, "/v1/transit/sign/rsa", `{"input":"` + b64s("message") + `","signature_algorithm":"pkcs1v15"}`, 200, func(t *testing.T, r *response, v vars) {
			_, sig := unversioned(t, r.str("signature"))
			pub, _ := x509.ParsePKIXPublicKey([]byte(v["RSAPUB"]))
			if err := rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), gocrypto.SHA256, digest[:], sig); err != nil {
				t.Errorf("PKCS#1 v1.5 signature: %v", err)
			}
		}},
		{"sign rsa pss", m, "/v1/transit/sign/rsa/sha2-256", `{"input":"` + b64s("message") + `","signature_algorithm":"pss","salt_length":"auto"}`, 200, func(t *testing.T, r *response, v vars) {
			_, sig := unversioned(t, r.str("signature"))
			pub, _ := x509.ParsePKIXPublicKey([]byte(v["RSAPUB"]))
			if err := rsa.VerifyPSS(pub.(*rsa.PublicKey), gocrypto.SHA256, digest[:], sig, nil); err != nil {
				t.Errorf("PSS signature: %v", err)
			}
			save("RSASIG", "signature")(t, r, v)
		}},
		{"verify rsa pss", m, "/v1/transit/verify/rsa", `{"input":"` + b64s("message") + `","signature":"$RSASIG"}`, 200, func(t *testing.T, r *response, v vars) {
			wantData(t, r, map[string]any{"valid": true})
		}},
		{"encrypt with a signing key", m, "/v1/transit/encrypt/rsa", `{"plaintext":"` + b64s("x") + `"}`, 400, nil},

		// Random.
		{"random", m, "/v1/transit/random", ``, 200, func(t *testing.T, r *response, v vars) {
			if b, _ := base64.StdEncoding.DecodeString(r.str("random_bytes")); len(b) != 32 {
				t.Errorf("random_bytes %q", r.str("random_bytes"))
			}
		}},
		{"random bytes in the path", m, "/v1/transit/random/16", ``, 200, func(t *testing.T, r *response, v vars) {
			if b, _ := base64.StdEncoding.DecodeString(r.str("random_bytes")); len(b) != 16 {
				t.Errorf("random_bytes %q", r.str("random_bytes"))
			}
		}},
		{"random hex", m, "/v1/transit/random", `{"bytes":"8","format":"hex"}`, 200, func(t *testing.T, r *response, v vars) {
			if b, err := hex.DecodeString(r.str("random_bytes")); err != nil || len(b) != 8 {
				t.Errorf("random_bytes %q", r.str("random_bytes"))
			}
		}},
		{"random source and bytes", m, "/v1/transit/random/platform/4", ``, 200, nil},
		{"random seal source is refused", m, "/v1/transit/random/seal", ``, 400, nil},
		{"random too many bytes", m, "/v1/transit/random/4096", ``, 400, nil},
	}
}

// TestEndpoints runs every endpoint through a real HTTP server, once
// writing with PUT (as Vault clients do) and once with POST.
func TestEndpoints(t *testing.T) {
	t.Parallel()
	for _, m := range []string{http.MethodPut, http.MethodPost} {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Options{})
			v := vars{}
			for _, s := range flow(m) {
				r := e.do(t, s.method, v.expand(s.path), v.expand(s.body))
				if r.status != s.status {
					t.Fatalf("%s: %s %s: %d %s, want %d", s.name, s.method, s.path, r.status, r.raw, s.status)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: Content-Type %q", s.name, ct)
				}
				if s.status >= 400 && len(r.errs()) != 1 {
					t.Errorf("%s: error body %s, want one message in errors", s.name, r.raw)
				}
				if s.check != nil && s.status < 400 {
					t.Run(s.name, func(t *testing.T) { s.check(t, r, v) })
				}
			}
		})
	}
}
