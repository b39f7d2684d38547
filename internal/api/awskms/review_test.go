package awskms

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
)

// asKey signs a request with another access key.
func asKey(k *kms.IssuedAccessKey) func(*signing) {
	return func(s *signing) { s.id, s.secret = k.ID, k.Secret }
}

// TestRefusedStepsChangeNothing: a ScheduleKeyDeletion the caller may not
// make leaves the key enabled (the disabling and the scheduling are one
// step); an invalid signature is a verification's result, audited once as
// allowed; empty KeyId forms name no key; and a Decrypt naming another
// algorithm than the ciphertext's is refused before the service.
func TestRefusedStepsChangeNothing(t *testing.T) {
	e := newEnv(t)
	rctx := e.rctx
	if err := e.svc.PutAccessPolicy(rctx, access.Policy{Name: "no-destroy", Statements: []access.Statement{
		{Effect: access.Allow, Actions: []string{"key:read", "key:list", "key:lifecycle", "key:encrypt", "key:decrypt", "key:sign", "key:verify"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateIdentity(rctx, kms.CreateIdentityRequest{Name: "operator", Type: kms.IdentityService, Policies: []string{"no-destroy"}}); err != nil {
		t.Fatal(err)
	}
	op, err := e.svc.CreateAccessKey(rctx, "operator")
	if err != nil {
		t.Fatal(err)
	}

	var created struct{ KeyMetadata struct{ KeyId string } }
	status, raw := e.sendRaw("TrentService.CreateKey", `{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}`, nil)
	if status != 200 || json.Unmarshal(raw, &created) != nil {
		t.Fatalf("create signing key: %d %s", status, raw)
	}
	signKey := created.KeyMetadata.KeyId
	status, raw = e.sendRaw("TrentService.CreateKey", `{}`, nil)
	if status != 200 || json.Unmarshal(raw, &created) != nil {
		t.Fatalf("create key: %d %s", status, raw)
	}
	key := created.KeyMetadata.KeyId

	status, out := e.send("TrentService.ScheduleKeyDeletion", `{"KeyId":"`+key+`","PendingWindowInDays":7}`, asKey(op), nil)
	if status != 400 || out["__type"] != "AccessDeniedException" {
		t.Fatalf("refused deletion: %d %v", status, out)
	}
	status, raw = e.sendRaw("TrentService.DescribeKey", `{"KeyId":"`+key+`"}`, nil)
	var desc struct{ KeyMetadata struct{ KeyState string } }
	if status != 200 || json.Unmarshal(raw, &desc) != nil || desc.KeyMetadata.KeyState != "Enabled" {
		t.Fatalf("after a refused deletion the key is %q (%d %s)", desc.KeyMetadata.KeyState, status, raw)
	}

	before := len(e.auditRecords())
	msg := base64.StdEncoding.EncodeToString([]byte("message"))
	sig := base64.StdEncoding.EncodeToString(make([]byte, 72))
	status, out = e.send("TrentService.Verify", `{"KeyId":"`+signKey+`","Message":"`+msg+`","Signature":"`+sig+`","SigningAlgorithm":"ECDSA_SHA_256"}`, asKey(op), nil)
	if status != 400 || out["__type"] != "KMSInvalidSignatureException" {
		t.Fatalf("verify a bad signature: %d %v", status, out)
	}
	verified := 0
	for _, r := range e.auditRecords()[before:] {
		if r.Outcome != audit.OutcomeAllowed {
			t.Errorf("an invalid signature is audited as %s: %+v", r.Outcome, r)
		}
		if r.Operation == kms.OpVerify {
			verified++
		}
	}
	if verified != 1 {
		t.Errorf("%d verifications audited, want 1", verified)
	}

	pt := base64.StdEncoding.EncodeToString([]byte("secret"))
	status, raw = e.sendRaw("TrentService.Encrypt", `{"KeyId":"`+key+`","Plaintext":"`+pt+`"}`, asKey(op))
	var enc struct{ CiphertextBlob string }
	if status != 200 || json.Unmarshal(raw, &enc) != nil {
		t.Fatalf("encrypt: %d %s", status, raw)
	}
	for _, id := range []string{"alias/", "arn:aws:kms:us-east-1:111122223333:key/", "arn:aws:kms:us-east-1:111122223333:alias/", "arn:aws:kms:us-east-1:111122223333:thing/x"} {
		status, out = e.send("TrentService.Decrypt", `{"KeyId":"`+id+`","CiphertextBlob":"`+enc.CiphertextBlob+`"}`, asKey(op), nil)
		if status != 400 || out["__type"] != "NotFoundException" {
			t.Errorf("decrypt with KeyId %q: %d %v", id, status, out)
		}
	}
	status, out = e.send("TrentService.Decrypt", `{"CiphertextBlob":"`+enc.CiphertextBlob+`","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}`, asKey(op), nil)
	if status != 400 || out["__type"] != "InvalidKeyUsageException" {
		t.Errorf("decrypt naming another algorithm: %d %v", status, out)
	}
	status, out = e.send("TrentService.Decrypt", `{"CiphertextBlob":"`+enc.CiphertextBlob+`","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, asKey(op), nil)
	if status != 200 {
		t.Errorf("decrypt naming the right algorithm: %d %v", status, out)
	}
}
