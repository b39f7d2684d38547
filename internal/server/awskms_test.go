package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/audit"
)

// awsClient runs the real AWS CLI and boto3 against a server with one
// access key.
type awsClient struct {
	t       *testing.T
	n       *node
	dir     string
	id, sec string
	aws, py string
	lastErr string
}

// needTool finds a client program; without it the test is skipped, except
// under CI=true, where make test installs it.
func needTool(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (Debian package %s); make test installs it", path, pkg)
		}
		t.Skipf("%s is missing (Debian package %s)", path, pkg)
	}
	return path
}

func (n *node) accessKey(identity string) (string, string) {
	r := n.must(201, "POST", "/v1/identities/"+identity+"/access-keys", map[string]any{})
	return r.str("access_key_id"), r.str("secret_access_key")
}

func (c *awsClient) env() []string {
	return []string{
		"HOME=" + c.dir, "PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID=" + c.id, "AWS_SECRET_ACCESS_KEY=" + c.sec,
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(c.dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.dir, "none"),
		"AWS_PAGER=", "AWS_ENDPOINT_URL_KMS=" + c.n.url,
	}
}

// cli runs "aws kms ARGS..." and decodes its JSON output; ok is false if
// the command failed (its stderr is in lastErr).
func (c *awsClient) cli(args ...string) (map[string]any, bool) {
	c.t.Helper()
	cmd := exec.Command(c.aws, append([]string{"kms", "--endpoint-url", c.n.url, "--output", "json"}, args...)...)
	cmd.Env, cmd.Dir = c.env(), c.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	c.lastErr = errb.String()
	if err != nil {
		return nil, false
	}
	m := map[string]any{}
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			c.t.Fatalf("aws %v: %v: %s", args, err, out.String())
		}
	}
	return m, true
}

func (c *awsClient) mustCLI(args ...string) map[string]any {
	c.t.Helper()
	m, ok := c.cli(args...)
	if !ok {
		c.t.Fatalf("aws kms %s: %s", strings.Join(args, " "), c.lastErr)
	}
	return m
}

func (c *awsClient) failCLI(exception string, args ...string) {
	c.t.Helper()
	if _, ok := c.cli(args...); ok || !strings.Contains(c.lastErr, exception) {
		c.t.Fatalf("aws kms %s: want %s, got: %s", strings.Join(args, " "), exception, c.lastErr)
	}
}

// TestAWSKMSWithRealClients drives the AWS-KMS-compatible API with the
// unmodified AWS CLI and boto3 (Signature Version 4, --endpoint-url):
// key management, aliases, tags, rotation, the cryptographic operations
// and the AWS exceptions; and shows that one identity gets the same
// decision and the same audit record through REST and through the AWS API.
func TestAWSKMSWithRealClients(t *testing.T) {
	t.Parallel()
	awsBin := needTool(t, "/usr/bin/aws", "awscli")
	py := needTool(t, "/usr/bin/python3", "python3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("boto3 is missing (Debian package python3-boto3); make test installs it")
		}
		t.Skip("boto3 is missing (Debian package python3-boto3)")
	}
	dir := t.TempDir()
	n := startWith(t, dir, testConfig(dir), Options{})
	n.must(201, "POST", "/v1/identities", map[string]any{"name": "custodian", "type": "service", "roles": []map[string]any{{"role": "key-custodian"}}})
	n.must(201, "POST", "/v1/identities", map[string]any{"name": "app", "type": "service", "roles": []map[string]any{{"role": "crypto-user", "scope": []string{"key:aws-*", "key:app-*"}}}})
	cid, csec := n.accessKey("custodian")
	aid, asec := n.accessKey("app")
	cust := &awsClient{t: t, n: n, dir: dir, id: cid, sec: csec, aws: awsBin, py: py}
	app := &awsClient{t: t, n: n, dir: dir, id: aid, sec: asec, aws: awsBin, py: py}

	// Key management, as the custodian.
	meta := cust.mustCLI("create-key", "--description", "orders", "--tags", "TagKey=team,TagValue=payments")["KeyMetadata"].(map[string]any)
	keyID, arn := meta["KeyId"].(string), meta["Arn"].(string)
	if meta["KeyState"] != "Enabled" || meta["KeySpec"] != "SYMMETRIC_DEFAULT" || !strings.HasPrefix(arn, "arn:aws:kms:eu-west-1:000000000000:key/") {
		t.Fatalf("create-key: %v", meta)
	}
	cust.mustCLI("create-alias", "--alias-name", "alias/orders", "--target-key-id", keyID)
	if d := cust.mustCLI("describe-key", "--key-id", "alias/orders")["KeyMetadata"].(map[string]any); d["KeyId"] != keyID {
		t.Fatalf("describe by alias: %v", d)
	}
	cust.mustCLI("describe-key", "--key-id", arn)
	if a := cust.mustCLI("list-aliases", "--key-id", keyID)["Aliases"].([]any); len(a) != 1 || a[0].(map[string]any)["AliasName"] != "alias/orders" {
		t.Fatalf("list-aliases: %v", a)
	}
	if tags := cust.mustCLI("list-resource-tags", "--key-id", keyID)["Tags"].([]any); len(tags) != 1 {
		t.Fatalf("tags: %v", tags)
	}
	cust.mustCLI("tag-resource", "--key-id", keyID, "--tags", "TagKey=env,TagValue=prod")
	cust.mustCLI("untag-resource", "--key-id", keyID, "--tag-keys", "team")
	if tags := cust.mustCLI("list-resource-tags", "--key-id", keyID)["Tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["TagKey"] != "env" {
		t.Fatalf("tags after tag/untag: %v", tags)
	}
	cust.mustCLI("enable-key-rotation", "--key-id", keyID)
	if st := cust.mustCLI("get-key-rotation-status", "--key-id", keyID); st["KeyRotationEnabled"] != true {
		t.Fatalf("rotation status: %v", st)
	}
	cust.mustCLI("disable-key-rotation", "--key-id", keyID)
	if keys := cust.mustCLI("list-keys")["Keys"].([]any); len(keys) != 1 {
		t.Fatalf("list-keys: %v", keys)
	}

	// Cryptography, as the application: encryption context bound as AAD.
	pt := filepath.Join(dir, "pt")
	if err := os.WriteFile(pt, []byte("card 4111"), 0o600); err != nil {
		t.Fatal(err)
	}
	enc := app.mustCLI("encrypt", "--key-id", "alias/orders", "--plaintext", "fileb://"+pt, "--encryption-context", "tenant=acme")
	if enc["KeyId"] != arn {
		t.Fatalf("encrypt: %v", enc)
	}
	ctFile := filepath.Join(dir, "ct")
	ct, _ := base64.StdEncoding.DecodeString(enc["CiphertextBlob"].(string))
	if err := os.WriteFile(ctFile, ct, 0o600); err != nil {
		t.Fatal(err)
	}
	dec := app.mustCLI("decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", "tenant=acme")
	if got, _ := base64.StdEncoding.DecodeString(dec["Plaintext"].(string)); string(got) != "card 4111" {
		t.Fatalf("decrypt: %v", dec)
	}
	app.failCLI("InvalidCiphertextException", "decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", "tenant=evil")
	app.failCLI("InvalidCiphertextException", "decrypt", "--ciphertext-blob", "fileb://"+ctFile)
	other := cust.mustCLI("create-key")["KeyMetadata"].(map[string]any)["KeyId"].(string)
	app.failCLI("IncorrectKeyException", "decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", "tenant=acme", "--key-id", other)
	app.failCLI("NotFoundException", "encrypt", "--key-id", "alias/aws-missing", "--plaintext", "fileb://"+pt)
	dk := app.mustCLI("generate-data-key", "--key-id", keyID, "--key-spec", "AES_256")
	if p, _ := base64.StdEncoding.DecodeString(dk["Plaintext"].(string)); len(p) != 32 {
		t.Fatalf("generate-data-key: %v", dk)
	}
	if dk := app.mustCLI("generate-data-key-without-plaintext", "--key-id", keyID, "--number-of-bytes", "16"); dk["Plaintext"] != nil {
		t.Fatalf("without plaintext: %v", dk)
	}
	app.mustCLI("re-encrypt", "--ciphertext-blob", "fileb://"+ctFile, "--source-encryption-context", "tenant=acme", "--destination-key-id", other)
	if r, _ := base64.StdEncoding.DecodeString(app.mustCLI("generate-random", "--number-of-bytes", "24")["Plaintext"].(string)); len(r) != 24 {
		t.Fatal("generate-random")
	}

	// Lifecycle: a disabled key refuses, deletion can be cancelled and
	// leaves the key disabled.
	cust.mustCLI("disable-key", "--key-id", keyID)
	app.failCLI("DisabledException", "encrypt", "--key-id", keyID, "--plaintext", "fileb://"+pt)
	cust.mustCLI("enable-key", "--key-id", keyID)
	if del := cust.mustCLI("schedule-key-deletion", "--key-id", keyID, "--pending-window-in-days", "7"); del["KeyState"] != "PendingDeletion" {
		t.Fatalf("schedule-key-deletion: %v", del)
	}
	app.failCLI("KMSInvalidStateException", "encrypt", "--key-id", keyID, "--plaintext", "fileb://"+pt)
	cust.mustCLI("cancel-key-deletion", "--key-id", keyID)
	if d := cust.mustCLI("describe-key", "--key-id", keyID)["KeyMetadata"].(map[string]any); d["KeyState"] != "Disabled" {
		t.Fatalf("after cancel-key-deletion: %v", d["KeyState"])
	}
	cust.mustCLI("enable-key", "--key-id", keyID)

	// Signing, MACs and public keys.
	ecc := cust.mustCLI("create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")["KeyMetadata"].(map[string]any)["KeyId"].(string)
	sig := app.mustCLI("sign", "--key-id", ecc, "--message", "fileb://"+pt, "--signing-algorithm", "ECDSA_SHA_256")
	sigFile := filepath.Join(dir, "sig")
	sb, _ := base64.StdEncoding.DecodeString(sig["Signature"].(string))
	if err := os.WriteFile(sigFile, sb, 0o600); err != nil {
		t.Fatal(err)
	}
	if v := app.mustCLI("verify", "--key-id", ecc, "--message", "fileb://"+pt, "--signature", "fileb://"+sigFile, "--signing-algorithm", "ECDSA_SHA_256"); v["SignatureValid"] != true {
		t.Fatalf("verify: %v", v)
	}
	app.failCLI("KMSInvalidSignatureException", "verify", "--key-id", ecc, "--message", "fileb://"+ctFile, "--signature", "fileb://"+sigFile, "--signing-algorithm", "ECDSA_SHA_256")
	app.failCLI("InvalidKeyUsageException", "sign", "--key-id", ecc, "--message", "fileb://"+pt, "--signing-algorithm", "RSASSA_PSS_SHA_256")
	if pk := app.mustCLI("get-public-key", "--key-id", ecc); pk["KeySpec"] != "ECC_NIST_P256" {
		t.Fatalf("get-public-key: %v", pk)
	}
	hmacKey := cust.mustCLI("create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC")["KeyMetadata"].(map[string]any)["KeyId"].(string)
	mac := app.mustCLI("generate-mac", "--key-id", hmacKey, "--message", "fileb://"+pt, "--mac-algorithm", "HMAC_SHA_256")
	macFile := filepath.Join(dir, "mac")
	mb, _ := base64.StdEncoding.DecodeString(mac["Mac"].(string))
	if err := os.WriteFile(macFile, mb, 0o600); err != nil {
		t.Fatal(err)
	}
	if v := app.mustCLI("verify-mac", "--key-id", hmacKey, "--message", "fileb://"+pt, "--mac", "fileb://"+macFile, "--mac-algorithm", "HMAC_SHA_256"); v["MacValid"] != true {
		t.Fatalf("verify-mac: %v", v)
	}

	// Permissions: the application may not manage keys, nor use keys
	// outside its scope.
	app.failCLI("AccessDeniedException", "create-key")
	n.must(201, "POST", "/v1/keys", map[string]any{"name": "other-1"})
	app.failCLI("AccessDeniedException", "encrypt", "--key-id", "alias/other-1", "--plaintext", "fileb://"+pt)

	// Bad credentials: a wrong secret, an unknown access key.
	bad := &awsClient{t: t, n: n, dir: dir, id: aid, sec: strings.Repeat("x", 40), aws: awsBin}
	bad.failCLI("InvalidSignatureException", "list-keys")
	unknown := &awsClient{t: t, n: n, dir: dir, id: "ARCAAAAAAAAAAAAAAAAA", sec: asec, aws: awsBin}
	unknown.failCLI("UnrecognizedClientException", "list-keys")

	// boto3: rotation on demand (newer than Debian's AWS CLI), rotations,
	// data key pairs, RSA-PSS signatures, the exception names.
	script := filepath.Join(dir, "boto.py")
	if err := os.WriteFile(script, []byte(botoScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script, n.url, cid, csec, aid, asec, keyID)
	cmd.Env = cust.env()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 ok") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}

	// The same identity gets the same decision and the same audit record
	// through REST as through the AWS API.
	tok := n.must(201, "POST", "/v1/identities/app/tokens", map[string]any{}).str("token")
	saved := n.token
	n.token = tok
	wantError(t, n.call("POST", "/v1/keys/other-1/encrypt", map[string]any{"plaintext": b64("x")}), 403, "forbidden")
	n.token = saved
	var restRec, awsRec *audit.Record
	for _, r := range readAuditLog(t, n.srv.AuditPath()) {
		if r.Operation == "key.encrypt" && r.Outcome == audit.OutcomeDenied && r.DenyReason != "" {
			switch r.Interface {
			case "rest":
				restRec = &r
			case "aws-kms":
				awsRec = &r
			}
		}
	}
	if restRec == nil || awsRec == nil {
		t.Fatalf("denied encrypt records: rest %v, aws %v", restRec, awsRec)
	}
	if restRec.KeyID != awsRec.KeyID || restRec.DenyReason != awsRec.DenyReason || restRec.ErrorCode != awsRec.ErrorCode ||
		!strings.HasPrefix(restRec.Identity, "") || restRec.KeyID == "" {
		t.Fatalf("the two doors audited differently:\nrest %+v\naws  %+v", restRec, awsRec)
	}
	if awsRec.AuthMethod != "access-key" || awsRec.Credential != aid || restRec.AuthMethod != "token" {
		t.Fatalf("credentials in records: rest %+v / aws %+v", restRec, awsRec)
	}
}

// readAuditLog reads every record of an audit log file.
func readAuditLog(t *testing.T, path string) []audit.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, line := range bytes.Split(b, []byte("\n")) {
		var r audit.Record
		if len(line) == 0 || json.Unmarshal(line, &r) != nil || r.Operation == "" {
			continue
		}
		out = append(out, r)
	}
	return out
}

const botoScript = `
import sys, json, urllib.request, boto3, botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, cid, csec, aid, asec, key = sys.argv[1:7]
def client(i, s):
    return boto3.client("kms", endpoint_url=url, region_name="eu-west-1", aws_access_key_id=i, aws_secret_access_key=s)
cust, app = client(cid, csec), client(aid, asec)

# Debian's boto3 predates RotateKeyOnDemand and ListKeyRotations: send them
# signed by botocore's own SigV4 signer.
def raw(op, body, i=cid, s=csec):
    req = AWSRequest(method="POST", url=url + "/", data=json.dumps(body),
                     headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService." + op})
    SigV4Auth(Credentials(i, s), "kms", "eu-west-1").add_auth(req)
    r = urllib.request.Request(url + "/", data=req.body, headers=dict(req.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
st, out = raw("RotateKeyOnDemand", {"KeyId": key})
assert st == 200 and out["KeyId"], (st, out)
st, out = raw("ListKeyRotations", {"KeyId": key})
assert st == 200 and len(out["Rotations"]) == 1 and out["Rotations"][0]["RotationType"] == "ON_DEMAND", (st, out)
st, out = raw("RotateKeyOnDemand", {"KeyId": key}, aid, asec)
assert st == 400 and out["__type"] == "AccessDeniedException", (st, out)
st, out = raw("NoSuchOperation", {})
assert st == 400 and out["__type"] == "UnsupportedOperationException", (st, out)
ct = app.encrypt(KeyId="alias/orders", Plaintext=b"hello", EncryptionContext={"a": "b"})["CiphertextBlob"]
assert app.decrypt(CiphertextBlob=ct, EncryptionContext={"a": "b"})["Plaintext"] == b"hello"
ct2 = app.encrypt(KeyId=key, Plaintext=b"no context", EncryptionContext={})["CiphertextBlob"]
assert app.decrypt(CiphertextBlob=ct2)["Plaintext"] == b"no context"
pair = app.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256")
assert pair["PublicKey"] and pair["PrivateKeyPlaintext"] and pair["PrivateKeyCiphertextBlob"]
rsa = cust.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
sig = app.sign(KeyId=rsa, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
assert app.verify(KeyId=rsa, Message=b"m", Signature=sig, SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
try:
    app.describe_key(KeyId="00000000-0000-4000-8000-000000000000")
    raise SystemExit("describe of an unknown key succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] in ("NotFoundException", "AccessDeniedException"), e.response
try:
    client(aid, "x" * 40).list_keys()
    raise SystemExit("a wrong secret was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response

# Bring your own key: a key pending import, the import parameters, the
# material wrapped by AWS's RSA_AES_KEY_WRAP_SHA_256, then the key works.
import os
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
ext = cust.create_key(Origin="EXTERNAL")["KeyMetadata"]
assert ext["KeyState"] == "PendingImport" and ext["Origin"] == "EXTERNAL", ext
params = cust.get_parameters_for_import(KeyId=ext["KeyId"], WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec="RSA_3072")
pub = serialization.load_der_public_key(params["PublicKey"])
material, aes = os.urandom(32), os.urandom(32)
wrapped = pub.encrypt(aes, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)) + aes_key_wrap_with_padding(aes, material)
cust.import_key_material(KeyId=ext["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
assert cust.describe_key(KeyId=ext["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
ct = app.encrypt(KeyId=ext["KeyId"], Plaintext=b"byok")["CiphertextBlob"]
assert app.decrypt(CiphertextBlob=ct)["Plaintext"] == b"byok"
try:
    cust.import_key_material(KeyId=ext["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    raise SystemExit("an import token was used twice")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidImportTokenException", e.response
print("boto3 ok")
`

// sopsPath finds the sops binary (make test installs it into GOPATH/bin).
func sopsPath(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "sops")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("sops"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("sops is missing; make test installs it (go install github.com/getsops/sops/v3/cmd/sops)")
	}
	t.Skip("sops is missing")
	return ""
}

// TestSOPSWithAWSKMS: SOPS encrypts and decrypts a file with an Arca key
// through the AWS-KMS-compatible API (--kms with a key ARN, the endpoint
// from AWS_ENDPOINT_URL_KMS), and a revoked access key can no longer
// decrypt it.
func TestSOPSWithAWSKMS(t *testing.T) {
	t.Parallel()
	sops := sopsPath(t)
	dir := t.TempDir()
	n := startWith(t, dir, testConfig(dir), Options{})
	n.must(201, "POST", "/v1/identities", map[string]any{"name": "sops", "type": "service", "roles": []map[string]any{{"role": "crypto-user", "scope": []string{"key:sops-*"}}}})
	keyID := n.must(201, "POST", "/v1/keys", map[string]any{"name": "sops-key"}).str("id")
	id, sec := n.accessKey("sops")
	c := &awsClient{t: t, n: n, dir: dir, id: id, sec: sec}
	plain := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(plain, []byte("db_password: hunter2\napi_key: s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(sops, args...)
		cmd.Env, cmd.Dir = c.env(), dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			return errb.Bytes(), err
		}
		return out.Bytes(), nil
	}
	arn := "arn:aws:kms:eu-west-1:000000000000:key/" + keyID
	enc, err := run("encrypt", "--kms", arn, plain)
	if err != nil {
		t.Fatalf("sops encrypt: %v: %s", err, enc)
	}
	if bytes.Contains(enc, []byte("hunter2")) || !bytes.Contains(enc, []byte(keyID)) {
		t.Fatalf("encrypted file:\n%s", enc)
	}
	encFile := filepath.Join(dir, "secrets.enc.yaml")
	if err := os.WriteFile(encFile, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	dec, err := run("decrypt", encFile)
	if err != nil || !bytes.Contains(dec, []byte("db_password: hunter2")) {
		t.Fatalf("sops decrypt: %v: %s", err, dec)
	}
	n.must(200, "DELETE", "/v1/access-keys/"+id, nil)
	if out, err := run("decrypt", encFile); err == nil {
		t.Fatalf("decrypt with a revoked access key succeeded: %s", out)
	}
}

// TestSOPSWithTransit: SOPS encrypts and decrypts through the
// Vault-Transit-compatible API on the server's listener (--hc-vault-transit,
// VAULT_TOKEN an Arca token), and a transit mount that would shadow a REST
// path is refused at start.
func TestSOPSWithTransit(t *testing.T) {
	t.Parallel()
	sops := sopsPath(t)
	dir := t.TempDir()
	n := startWith(t, dir, testConfig(dir), Options{})
	n.must(201, "POST", "/v1/keys", map[string]any{"name": "sops-transit"})
	n.must(201, "POST", "/v1/identities", map[string]any{"name": "sops", "type": "service", "roles": []map[string]any{{"role": "crypto-user", "scope": []string{"key:sops-*"}}}})
	tok := n.must(201, "POST", "/v1/identities/sops/tokens", map[string]any{})
	plain := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(plain, []byte("db_password: hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(token string, args ...string) ([]byte, error) {
		cmd := exec.Command(sops, args...)
		cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "VAULT_ADDR=" + n.url, "VAULT_TOKEN=" + token}
		cmd.Dir = dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return errb.Bytes(), err
		}
		return out.Bytes(), nil
	}
	enc, err := run(tok.str("token"), "encrypt", "--hc-vault-transit", n.url+"/v1/transit/keys/sops-transit", plain)
	if err != nil || bytes.Contains(enc, []byte("hunter2")) || !bytes.Contains(enc, []byte("vault:v1:")) {
		t.Fatalf("sops encrypt: %v:\n%s", err, enc)
	}
	encFile := filepath.Join(dir, "secrets.enc.yaml")
	if err := os.WriteFile(encFile, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	if dec, err := run(tok.str("token"), "decrypt", encFile); err != nil || !bytes.Contains(dec, []byte("hunter2")) {
		t.Fatalf("sops decrypt: %v:\n%s", err, dec)
	}
	if out, err := run("arca_not-a-valid-token-000000", "decrypt", encFile); err == nil || !bytes.Contains(out, []byte("permission denied")) {
		t.Fatalf("decrypt with a bad token: %v:\n%s", err, out)
	}

	cfg := testConfig(t.TempDir())
	cfg.Transit.Mounts = []string{"keys"}
	srv, err := Start(context.Background(), cfg, Options{Dev: true, Logger: quietLogger()})
	if err == nil {
		_ = srv.Shutdown(context.Background())
		t.Fatal("a transit mount over /v1/keys/ was accepted")
	}
	if !strings.Contains(err.Error(), "shadow") {
		t.Fatalf("start with a transit mount over /v1/keys/: %v", err)
	}
}
