package server

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestMalformedInputGetsItsCodeAndChangesNothing sends every kind of bad
// input the API must refuse and checks the status, the stable code, and that
// the key set and versions are unchanged afterwards.
func TestMalformedInputGetsItsCodeAndChangesNothing(t *testing.T) {
	t.Parallel()
	n := startDev(t)
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k"})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "other"})
	ct := n.encrypt("k", "hello", nil)
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(ct, "arca:v1:"))
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 0x01
	tampered := "arca:v1:" + base64.RawURLEncoding.EncodeToString(flipped)
	truncated := "arca:v1:" + base64.RawURLEncoding.EncodeToString(raw[:20])
	before := n.must(200, "GET", "/v1/keys", nil).raw

	cases := []struct {
		name         string
		method, path string
		token        string // "" uses the node's token; "-" sends none
		contentType  string // "" uses application/json; "-" sends none
		body         any
		status       int
		code         string
	}{
		{"no token", "POST", "/v1/keys/k/encrypt", "-", "", `{"plaintext":"aGk="}`, 401, "unauthorized"},
		{"unknown token", "POST", "/v1/keys/k/encrypt", "arca_not-a-real-token-at-all", "", `{"plaintext":"aGk="}`, 401, "unauthorized"},
		{"malformed token", "GET", "/v1/keys", "Basic", "", nil, 401, "unauthorized"},
		{"not JSON", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":`, 400, "invalid_json"},
		{"trailing data", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"aGk="} {}`, 400, "invalid_json"},
		{"duplicate field", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"aGk=","plaintext":"aGk="}`, 400, "invalid_json"},
		{"wrong type", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":42}`, 400, "invalid_json"},
		{"array body", "POST", "/v1/keys/k/encrypt", "", "", `["aGk="]`, 400, "invalid_json"},
		{"unknown field", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"aGk=","plaintxt":"x"}`, 400, "unknown_field"},
		{"bad base64 plaintext", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"not base64!"}`, 400, "invalid_base64"},
		{"bad base64 aad", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"aGk=","associated_data":"%%%"}`, 400, "invalid_base64"},
		{"missing plaintext", "POST", "/v1/keys/k/encrypt", "", "", `{}`, 400, "invalid_argument"},
		{"no content type", "POST", "/v1/keys/k/encrypt", "", "-", `{"plaintext":"aGk="}`, 415, "unsupported_media_type"},
		{"text content type", "POST", "/v1/keys/k/encrypt", "", "text/plain", `{"plaintext":"aGk="}`, 415, "unsupported_media_type"},
		{"body too large", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"` + strings.Repeat("A", 200<<10) + `"}`, 413, "payload_too_large"},
		{"plaintext too large", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"` + base64.StdEncoding.EncodeToString(make([]byte, 65<<10)) + `"}`, 400, "invalid_argument"},
		{"unknown key", "POST", "/v1/keys/nope/encrypt", "", "", `{"plaintext":"aGk="}`, 404, "key_not_found"},
		{"unknown key id", "GET", "/v1/keys/6f1c1d4e-0000-4000-8000-000000000000", "", "", nil, 404, "key_not_found"},
		{"huge key name", "GET", "/v1/keys/" + strings.Repeat("x", 5000), "", "", nil, 404, "key_not_found"},
		{"tampered ciphertext", "POST", "/v1/decrypt", "", "", map[string]string{"ciphertext": tampered}, 400, "decryption_failed"},
		{"truncated ciphertext", "POST", "/v1/decrypt", "", "", map[string]string{"ciphertext": truncated}, 400, "invalid_ciphertext"},
		{"foreign ciphertext", "POST", "/v1/decrypt", "", "", map[string]string{"ciphertext": "vault:v1:abcd"}, 400, "invalid_ciphertext"},
		{"ciphertext bad base64", "POST", "/v1/decrypt", "", "", map[string]string{"ciphertext": "arca:v1:***"}, 400, "invalid_ciphertext"},
		{"missing ciphertext", "POST", "/v1/decrypt", "", "", `{}`, 400, "invalid_argument"},
		{"wrong key", "POST", "/v1/keys/other/decrypt", "", "", map[string]string{"ciphertext": ct}, 400, "wrong_key"},
		{"wrong aad", "POST", "/v1/decrypt", "", "", map[string]string{"ciphertext": ct, "associated_data": "eA=="}, 400, "decryption_failed"},
		{"empty context key", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"aGk=","context":{"":"x"}}`, 400, "invalid_argument"},
		{"duplicate context key", "POST", "/v1/keys/k/encrypt", "", "", `{"plaintext":"aGk=","context":{"a":"1","a":"2"}}`, 400, "invalid_json"},
		{"bad key name", "POST", "/v1/keys", "", "", `{"name":"has space"}`, 400, "invalid_argument"},
		{"uuid as name", "POST", "/v1/keys", "", "", `{"name":"6f1c1d4e-0000-4000-8000-000000000000"}`, 400, "invalid_argument"},
		{"long name", "POST", "/v1/keys", "", "", `{"name":"` + strings.Repeat("n", 129) + `"}`, 400, "invalid_argument"},
		{"bad algorithm", "POST", "/v1/keys", "", "", `{"name":"new","algorithm":"des"}`, 400, "invalid_argument"},
		{"bad label", "POST", "/v1/keys", "", "", `{"name":"new","labels":{"Bad Key":"v"}}`, 400, "invalid_argument"},
		{"existing name", "POST", "/v1/keys", "", "", `{"name":"k"}`, 409, "key_exists"},
		{"rotate unknown", "POST", "/v1/keys/nope/rotate", "", "", nil, 404, "key_not_found"},
		{"rotate with body field", "POST", "/v1/keys/k/rotate", "", "", `{"force":true}`, 400, "unknown_field"},
		{"bits", "POST", "/v1/keys/k/datakey", "", "", `{"bits":100}`, 400, "invalid_argument"},
		{"random zero", "POST", "/v1/random", "", "", `{"bytes":0}`, 400, "invalid_argument"},
		{"random huge", "POST", "/v1/random", "", "", `{"bytes":5000}`, 400, "invalid_argument"},
		{"random negative", "POST", "/v1/random", "", "", `{"bytes":-1}`, 400, "invalid_argument"},
		{"random float", "POST", "/v1/random", "", "", `{"bytes":1.5}`, 400, "invalid_json"},
		{"limit zero", "GET", "/v1/keys?limit=0", "", "", nil, 400, "invalid_argument"},
		{"limit huge", "GET", "/v1/keys?limit=5000", "", "", nil, 400, "invalid_argument"},
		{"limit text", "GET", "/v1/keys?limit=ten", "", "", nil, 400, "invalid_argument"},
		{"bad page token", "GET", "/v1/keys?page_token=***", "", "", nil, 400, "invalid_argument"},
		{"unknown query", "GET", "/v1/keys?lmit=3", "", "", nil, 400, "invalid_argument"},
		{"bad label filter", "GET", "/v1/keys?label=nolabel", "", "", nil, 400, "invalid_argument"},
		{"versions bad token", "GET", "/v1/keys/k/versions?page_token=%%", "", "", nil, 400, "invalid_argument"},
		{"duplicate label filter", "GET", "/v1/keys?label=a=1&label=a=2", "", "", nil, 400, "invalid_argument"},
		{"query on POST", "POST", "/v1/keys/k/encrypt?debug=1", "", "", `{"plaintext":"aGk="}`, 400, "invalid_argument"},
		{"batch item without plaintext", "POST", "/v1/batch/encrypt", "", "", `{"items":[{"key":"k"}]}`, 400, "invalid_argument"},
		{"batch item without ciphertext", "POST", "/v1/batch/decrypt", "", "", `{"items":[{"key":"k"}]}`, 400, "invalid_argument"},
		{"batch not an array", "POST", "/v1/batch/encrypt", "", "", `{"items":{"key":"k"}}`, 400, "invalid_json"},
		{"batch unknown item field", "POST", "/v1/batch/encrypt", "", "", `{"items":[{"key":"k","plaintext":"","extra":1}]}`, 400, "unknown_field"},
		{"negative key version in path", "GET", "/v1/keys/k/versions?limit=-1", "", "", nil, 400, "invalid_argument"},
		{"unknown route", "GET", "/v1/nothing", "", "", nil, 404, "not_found"},
		{"wrong method", "DELETE", "/v1/keys/k", "", "", nil, 405, "method_not_allowed"},
		{"share and reset", "POST", "/v1/sys/unseal", "-", "", `{"share":"x","reset":true}`, 400, "invalid_argument"},
		{"init twice", "POST", "/v1/sys/init", "-", "", `{"shares":3,"threshold":2}`, 409, "already_initialized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			switch token {
			case "":
				token = n.token
			case "-":
				token = ""
			}
			ctype := tc.contentType
			switch ctype {
			case "":
				ctype = "application/json"
			case "-":
				ctype = ""
			}
			wantError(t, n.callWith(tc.method, tc.path, token, ctype, tc.body), tc.status, tc.code)
		})
	}
	if after := n.must(200, "GET", "/v1/keys", nil).raw; string(after) != string(before) {
		t.Fatalf("bad input changed the key set:\nbefore %s\nafter  %s", before, after)
	}
	if got := n.decrypt(ct, nil); got != "hello" {
		t.Fatalf("round trip after bad input: %q", got)
	}
}
