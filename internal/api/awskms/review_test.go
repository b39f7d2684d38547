package awskms

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
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

// TestDecryptOfRawRSAOAEP: a ciphertext made outside the server with the
// public key GetPublicKey returned (standard RSAES-OAEP-SHA-256, as AWS
// clients make them) decrypts when the key is named, also after the key
// rotated; under another key, or without the key named, it is refused.
func TestDecryptOfRawRSAOAEP(t *testing.T) {
	e := newEnv(t)
	if err := e.svc.PutAccessPolicy(e.rctx, access.Policy{Name: "crypto", Statements: []access.Statement{
		{Effect: access.Allow, Actions: []string{"key:read", "key:encrypt", "key:decrypt"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateIdentity(e.rctx, kms.CreateIdentityRequest{Name: "app", Type: kms.IdentityService, Policies: []string{"crypto"}}); err != nil {
		t.Fatal(err)
	}
	app, err := e.svc.CreateAccessKey(e.rctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	create := func() string {
		var out struct{ KeyMetadata struct{ KeyId string } }
		status, raw := e.sendRaw("TrentService.CreateKey", `{"KeySpec":"RSA_2048","KeyUsage":"ENCRYPT_DECRYPT"}`, nil)
		if status != 200 || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("create: %d %s", status, raw)
		}
		return out.KeyMetadata.KeyId
	}
	key, other := create(), create()
	var pub struct{ PublicKey []byte }
	status, raw := e.sendRaw("TrentService.GetPublicKey", `{"KeyId":"`+key+`"}`, asKey(app))
	if status != 200 || json.Unmarshal(raw, &pub) != nil {
		t.Fatalf("get public key: %d %s", status, raw)
	}
	pk, err := x509.ParsePKIXPublicKey(pub.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pk.(*rsa.PublicKey), []byte("data key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(blob)
	decrypt := func(keyID string) (int, []byte) {
		return e.sendRaw("TrentService.Decrypt", `{"KeyId":"`+keyID+`","CiphertextBlob":"`+b64+`","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}`, asKey(app))
	}
	check := func(what string) {
		t.Helper()
		var out struct{ Plaintext []byte }
		if status, raw := decrypt(key); status != 200 || json.Unmarshal(raw, &out) != nil || string(out.Plaintext) != "data key" {
			t.Fatalf("%s: %d %s", what, status, raw)
		}
	}
	check("decrypt")
	// Encrypt names the kind of key it expects.
	pt := base64.StdEncoding.EncodeToString([]byte("x"))
	if status, out := e.sendRaw("TrentService.Encrypt", `{"KeyId":"`+key+`","Plaintext":"`+pt+`"}`, asKey(app)); status != 400 || !strings.Contains(string(out), "InvalidKeyUsageException") {
		t.Errorf("SYMMETRIC_DEFAULT with an RSA key: %d %s", status, out)
	}
	if status, out := e.sendRaw("TrentService.Encrypt", `{"KeyId":"`+key+`","Plaintext":"`+pt+`","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}`, asKey(app)); status != 200 {
		t.Errorf("RSAES_OAEP_SHA_256 with an RSA key: %d %s", status, out)
	}
	if status, raw := e.sendRaw("TrentService.RotateKeyOnDemand", `{"KeyId":"`+key+`"}`, nil); status != 200 {
		t.Fatalf("rotate: %d %s", status, raw)
	}
	check("decrypt after rotation")
	if status, out := decrypt(other); status != 400 || !strings.Contains(string(out), "InvalidCiphertextException") {
		t.Errorf("under another key: %d %s", status, out)
	}
	if status, out := e.sendRaw("TrentService.Decrypt", `{"CiphertextBlob":"`+b64+`","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}`, asKey(app)); status != 400 || !strings.Contains(string(out), "ValidationException") {
		t.Errorf("without a KeyId: %d %s", status, out)
	}
}

// TestMacAlgorithmIsCheckedOnTheKey: a MacAlgorithm the key does not have
// is refused as InvalidKeyUsageException before any MAC is made, with one
// audit record and no metadata read beside it.
func TestMacAlgorithmIsCheckedOnTheKey(t *testing.T) {
	e := newEnv(t)
	var out struct{ KeyMetadata struct{ KeyId string } }
	status, raw := e.sendRaw("TrentService.CreateKey", `{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}`, nil)
	if status != 200 || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("create: %d %s", status, raw)
	}
	if _, err := e.svc.CreateIdentity(e.rctx, kms.CreateIdentityRequest{Name: "macer", Type: kms.IdentityService, Roles: []access.Binding{{Role: access.RoleCryptoUser}}}); err != nil {
		t.Fatal(err)
	}
	macer, err := e.svc.CreateAccessKey(e.rctx, "macer")
	if err != nil {
		t.Fatal(err)
	}
	msg := base64.StdEncoding.EncodeToString([]byte("message"))
	before := len(e.auditRecords())
	status, res := e.send("TrentService.GenerateMac", `{"KeyId":"`+out.KeyMetadata.KeyId+`","Message":"`+msg+`","MacAlgorithm":"HMAC_SHA_512"}`, asKey(macer), nil)
	if status != 400 || res["__type"] != "InvalidKeyUsageException" {
		t.Fatalf("wrong MacAlgorithm: %d %v", status, res)
	}
	recs := e.auditRecords()[before:]
	if len(recs) != 1 || recs[0].Operation != kms.OpGenerateMAC || recs[0].Outcome == audit.OutcomeAllowed {
		t.Fatalf("audit of the refusal: %+v", recs)
	}
	if status, res := e.send("TrentService.GenerateMac", `{"KeyId":"`+out.KeyMetadata.KeyId+`","Message":"`+msg+`","MacAlgorithm":"HMAC_SHA_256"}`, asKey(macer), nil); status != 200 {
		t.Fatalf("right MacAlgorithm: %d %v", status, res)
	}
}
