package transit

import (
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
)

// TestSameDecisionAsREST checks that the service, not the adapter,
// decides: an identity with the crypto-user role on keys "app-*" gets the
// same answer through transit as through the REST API, operation by
// operation, and the denials are audited with the same reason, each
// naming its door.
func TestSameDecisionAsREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ct := map[string]string{}
	for _, k := range []string{"app-1", "other-1"} {
		e.must(t, 200, "PUT", "/v1/transit/keys/"+k, ``)
		ct[k] = e.must(t, 200, "PUT", "/v1/transit/encrypt/"+k, `{"plaintext":"aGk="}`).str("ciphertext")
	}
	e.must(t, 200, "PUT", "/v1/transit/keys/app-sig", `{"type":"ed25519"}`)
	e.must(t, 200, "PUT", "/v1/transit/keys/other-sig", `{"type":"ed25519"}`)
	token, _ := e.login(t, "svc-app", access.Binding{Role: access.RoleCryptoUser, Scope: []string{"key:app-*"}})

	// The REST API takes Arca's own ciphertexts: the transit payload's.
	arcaCT := func(k string) string {
		text, err := fromVaultCiphertext(ct[k])
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	tests := []struct {
		name                              string
		transitMethod, transitPath, tBody string
		restMethod, restPath, restBody    string
		allowed                           bool
		status                            int // both doors' status
	}{
		{"encrypt app-1", "PUT", "/v1/transit/encrypt/app-1", `{"plaintext":"aGk="}`, "POST", "/v1/keys/app-1/encrypt", `{"plaintext":"aGk="}`, true, 200},
		{"encrypt other-1", "PUT", "/v1/transit/encrypt/other-1", `{"plaintext":"aGk="}`, "POST", "/v1/keys/other-1/encrypt", `{"plaintext":"aGk="}`, false, 403},
		{"decrypt app-1", "PUT", "/v1/transit/decrypt/app-1", `{"ciphertext":"` + ct["app-1"] + `"}`, "POST", "/v1/keys/app-1/decrypt", `{"ciphertext":"` + arcaCT("app-1") + `"}`, true, 200},
		{"decrypt other-1", "PUT", "/v1/transit/decrypt/other-1", `{"ciphertext":"` + ct["other-1"] + `"}`, "POST", "/v1/keys/other-1/decrypt", `{"ciphertext":"` + arcaCT("other-1") + `"}`, false, 403},
		{"rewrap other-1", "PUT", "/v1/transit/rewrap/other-1", `{"ciphertext":"` + ct["other-1"] + `"}`, "POST", "/v1/keys/other-1/rewrap", `{"ciphertext":"` + arcaCT("other-1") + `"}`, false, 403},
		{"datakey app-1", "PUT", "/v1/transit/datakey/plaintext/app-1", ``, "POST", "/v1/keys/app-1/datakey", `{}`, true, 200},
		{"datakey other-1", "PUT", "/v1/transit/datakey/wrapped/other-1", ``, "POST", "/v1/keys/other-1/datakey", `{"without_plaintext":true}`, false, 403},
		{"batch encrypt other-1", "PUT", "/v1/transit/encrypt/other-1", `{"batch_input":[{"plaintext":"aGk="}]}`, "POST", "/v1/batch/encrypt", `{"items":[{"key":"other-1","plaintext":"aGk="}]}`, false, 403},
		{"sign app-sig", "PUT", "/v1/transit/sign/app-sig", `{"input":"aGk="}`, "POST", "/v1/keys/app-sig/sign", `{"message":"aGk="}`, true, 200},
		{"sign other-sig", "PUT", "/v1/transit/sign/other-sig", `{"input":"aGk="}`, "POST", "/v1/keys/other-sig/sign", `{"message":"aGk="}`, false, 403},
		{"read app-1", "GET", "/v1/transit/keys/app-1", ``, "GET", "/v1/keys/app-1", ``, true, 200},
		{"read other-1", "GET", "/v1/transit/keys/other-1", ``, "GET", "/v1/keys/other-1", ``, false, 403},
		{"unknown key in scope", "PUT", "/v1/transit/encrypt/app-9", `{"plaintext":"aGk="}`, "POST", "/v1/keys/app-9/encrypt", `{"plaintext":"aGk="}`, false, 404},
		{"unknown key out of scope", "PUT", "/v1/transit/encrypt/other-9", `{"plaintext":"aGk="}`, "POST", "/v1/keys/other-9/encrypt", `{"plaintext":"aGk="}`, false, 403},
		{"create a key", "PUT", "/v1/transit/keys/app-2", ``, "POST", "/v1/keys", `{"name":"app-2"}`, false, 403},
		{"rotate app-1", "PUT", "/v1/transit/keys/app-1/rotate", ``, "POST", "/v1/keys/app-1/rotate", `{}`, false, 403},
		{"list keys", "LIST", "/v1/transit/keys", ``, "GET", "/v1/keys", ``, false, 403},
		{"random", "PUT", "/v1/transit/random/8", ``, "POST", "/v1/random", `{"bytes":8}`, true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := send(t, e.srv.URL, tt.transitMethod, tt.transitPath, token, tt.tBody)
			headers := map[string]string{"Authorization": "Bearer " + token}
			if tt.restBody != "" {
				headers["Content-Type"] = "application/json"
			}
			rr := sendWith(t, e.rest.URL, tt.restMethod, tt.restPath, tt.restBody, headers)
			if rr.status == 201 {
				rr.status = 200
			}
			if tr.status != tt.status || rr.status != tt.status {
				t.Fatalf("transit %d %s; REST %d %s; want both %d", tr.status, tr.raw, rr.status, rr.raw, tt.status)
			}
			if tt.status == 403 {
				if e := tr.errs(); len(e) != 1 || !strings.HasPrefix(e[0], "permission denied: ") {
					t.Errorf("transit denial %s", tr.raw)
				}
				trec, rrec := e.auditOf(t, tr), e.auditOf(t, rr)
				if len(trec) != 1 || len(rrec) != 1 {
					t.Fatalf("audit records: transit %d, REST %d", len(trec), len(rrec))
				}
				a, b := trec[0], rrec[0]
				if a.Interface != "transit" || b.Interface != "rest" || a.Outcome != audit.OutcomeDenied || b.Outcome != audit.OutcomeDenied ||
					a.DenyReason == "" || a.DenyReason != b.DenyReason || a.Operation != b.Operation || a.Identity != b.Identity {
					t.Errorf("audit records differ:\ntransit %+v\nREST    %+v", a, b)
				}
			}
		})
	}
}

// TestContextCondition checks the context mapping end to end: an access
// policy that requires the encryption context vault_context to be the
// base64 of "tenant-1" lets an identity use Vault's context "tenant-1" and
// nothing else, and the audit record carries the context as an HMAC only.
func TestContextCondition(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.must(t, 200, "PUT", "/v1/transit/keys/shared", ``)
	tenant := b64s("tenant-1")
	token, _ := e.loginWith(t, "tenant-app", nil, []access.Policy{{Name: "tenant-1-only", Statements: []access.Statement{{
		Effect: access.Allow, Actions: []string{"key:encrypt", "key:decrypt"}, Resources: []string{"key:shared"},
		Conditions: access.Conditions{Context: map[string][]string{ContextKey: {tenant}}},
	}}}})
	ok := send(t, e.srv.URL, "PUT", "/v1/transit/encrypt/shared", token, `{"plaintext":"aGk=","context":"`+tenant+`"}`)
	if ok.status != 200 {
		t.Fatalf("own tenant: %d %s", ok.status, ok.raw)
	}
	for _, body := range []string{`{"plaintext":"aGk=","context":"` + b64s("tenant-2") + `"}`, `{"plaintext":"aGk="}`} {
		if r := send(t, e.srv.URL, "PUT", "/v1/transit/encrypt/shared", token, body); r.status != 403 {
			t.Errorf("%s: %d %s, want 403", body, r.status, r.raw)
		}
	}
	if r := send(t, e.srv.URL, "PUT", "/v1/transit/decrypt/shared", token, `{"ciphertext":"`+ok.str("ciphertext")+`","context":"`+tenant+`"}`); r.status != 200 {
		t.Errorf("decrypt own tenant: %d %s", r.status, r.raw)
	}
	recs := e.auditOf(t, ok)
	if len(recs) != 1 || len(recs[0].ContextHMAC) != 1 || recs[0].ContextHMAC[ContextKey] == "" || recs[0].ContextHMAC[ContextKey] == tenant {
		t.Errorf("audit context %+v", recs)
	}
}

// TestCreateWithoutRead checks that an identity allowed to create and
// rotate keys but not to read them gets its change made and answered,
// with a warning instead of the versions.
func TestCreateWithoutRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	token, _ := e.loginWith(t, "maker", nil, []access.Policy{{Name: "make-only", Statements: []access.Statement{{
		Effect: access.Allow, Actions: []string{"key:create", "key:rotate"}, Resources: []string{"key:made-*"},
	}}}})
	for _, p := range []string{"/v1/transit/keys/made-1", "/v1/transit/keys/made-1/rotate"} {
		r := send(t, e.srv.URL, "PUT", p, token, ``)
		w, _ := r.body["warnings"].([]any)
		if r.status != 200 || r.str("name") != "made-1" || len(w) != 1 || !strings.Contains(w[0].(string), "permission denied") {
			t.Errorf("%s: %d %s", p, r.status, r.raw)
		}
	}
	if r := e.must(t, 200, "GET", "/v1/transit/keys/made-1", ``); r.data()["latest_version"] != 2.0 {
		t.Errorf("made-1 after rotation: %s", r.raw)
	}
	if r := send(t, e.srv.URL, "GET", "/v1/transit/keys/made-1", token, ``); r.status != 403 {
		t.Errorf("read without key:read: %d", r.status)
	}
}
