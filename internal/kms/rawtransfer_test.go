package kms

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/secret"
)

// TestRawImportAndExport: material that reached the server in clear over
// an adapter's channel (KMIP Register) makes a key of external origin, and
// comes back in clear only for exportable keys (KMIP Get), under the same
// checks as wrapped export.
func TestRawImportAndExport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(1, 1)
	material := bytes.Repeat([]byte{7}, 32)
	k, err := e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: "registered", Exportable: true,
		Import: &ImportMaterial{Plaintext: secret.New(bytes.Clone(material))}})
	if err != nil {
		t.Fatal(err)
	}
	if k.Origin != OriginExternal {
		t.Fatalf("origin %q", k.Origin)
	}
	ct := encryptSome(t, e.svc, e.ctx(), "registered")
	got, err := e.svc.ExportKeyMaterial(e.ctx(), RawExportRequest{Key: "registered"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Material.Reveal(), material) || got.KeyVersion != 1 {
		t.Fatalf("exported material differs (version %d)", got.KeyVersion)
	}
	got.Material.Wipe()
	decryptAll(t, e.svc, e.ctx(), []string{ct})

	_, err = e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: "short", Import: &ImportMaterial{Plaintext: secret.New(make([]byte, 16))}})
	wantCode(t, "16-byte aes-256-gcm material", err, CodeInvalidImport)
	e.createKey("sealed-in", "aes-256-gcm")
	_, err = e.svc.ExportKeyMaterial(e.ctx(), RawExportRequest{Key: "sealed-in"})
	wantCode(t, "raw export of a non-exportable key", err, CodeKeyNotExportable)

	recs := readAuditRecords(t, e.auditPath)
	raw := 0
	for _, r := range recs {
		if r.Operation == OpKeyExport && r.Resource == "raw" {
			raw++
			if bytes.Contains([]byte(r.Resource+r.DenyReason), material[:8]) {
				t.Fatal("material in an audit record")
			}
		}
	}
	if raw != 2 {
		t.Fatalf("%d raw export records, want 2 (one allowed, one refused)", raw)
	}
}

// TestPendingImport: a key created pending import has no version and
// refuses use until its first material is imported; then it is a key of
// external origin like any other.
func TestPendingImport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(1, 1)
	k, err := e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: "byok", PendingImport: true})
	if err != nil {
		t.Fatal(err)
	}
	if k.PrimaryVersion != 0 || k.State != "pre-active" || k.Origin != OriginExternal {
		t.Fatalf("pending key: %+v", k)
	}
	_, err = e.svc.Encrypt(e.ctx(), EncryptRequest{Key: "byok", Plaintext: []byte("x")})
	wantCode(t, "encrypt before import", err, CodeKeyPreActive)
	_, err = e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: "both", PendingImport: true, Import: &ImportMaterial{Plaintext: secret.New(make([]byte, 32))}})
	wantCode(t, "pending and imported", err, CodeInvalidArgument)
	if _, err := e.svc.ImportKeyVersion(e.ctx(), ImportVersionRequest{Key: "byok", ImportMaterial: ImportMaterial{Plaintext: secret.New(bytes.Repeat([]byte{9}, 32))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeKeyState(e.ctx(), ChangeStateRequest{Key: "byok", Action: "activate"}); err != nil {
		t.Fatal(err)
	}
	ct := encryptSome(t, e.svc, e.ctx(), "byok")
	decryptAll(t, e.svc, e.ctx(), []string{ct})
	if k, _ := e.svc.GetKey(e.ctx(), "byok"); k.PrimaryVersion != 1 {
		t.Fatalf("after import: %+v", k)
	}
}

// TestDeriveKey: a derived key's first version is HKDF-SHA256 of the base
// version with the salt and info (the same inputs give the same material,
// other info another); only symmetric bases derive, and it takes
// key:derive.
func TestDeriveKey(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	a.createKey("base", "aes-256-gcm")
	derive := func(name, info string) []byte {
		t.Helper()
		k, err := a.svc.DeriveKey(a.ctx(), DeriveKeyRequest{Base: "base", Salt: []byte("salt"), Info: []byte(info),
			Key: CreateKeyRequest{Name: name, Algorithm: "hmac-sha256", Exportable: true}})
		if err != nil {
			t.Fatal(err)
		}
		if k.Algorithm != "hmac-sha256" {
			t.Fatalf("derived key %+v", k)
		}
		raw, err := a.svc.ExportKeyMaterial(a.ctx(), RawExportRequest{Key: name})
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Material.Wipe()
		return bytes.Clone(raw.Material.Reveal())
	}
	m1, m2, m3 := derive("d1", "tenant-a"), derive("d2", "tenant-a"), derive("d3", "tenant-b")
	if !bytes.Equal(m1, m2) || bytes.Equal(m1, m3) || len(m1) != 32 {
		t.Fatal("derivation is not a function of the base, salt and info")
	}
	// The derivations are the standard ones: check against the base's
	// material, computed here.
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "open-base", Exportable: true}); err != nil {
		t.Fatal(err)
	}
	base, err := a.svc.ExportKeyMaterial(a.ctx(), RawExportRequest{Key: "open-base"})
	if err != nil {
		t.Fatal(err)
	}
	wantHKDF, _ := hkdf.Key(sha256.New, base.Material.Reveal(), []byte("s"), "i", 32)
	mac := hmac.New(sha256.New, base.Material.Reveal())
	mac.Write([]byte("i"))
	wantHMAC := mac.Sum(nil)
	for method, want := range map[string][]byte{DeriveHKDFSHA256: wantHKDF, DeriveHMACSHA256: wantHMAC} {
		salt := []byte("s")
		if method == DeriveHMACSHA256 {
			salt = nil
		}
		if _, err := a.svc.DeriveKey(a.ctx(), DeriveKeyRequest{Base: "open-base", Method: method, Salt: salt, Info: []byte("i"),
			Key: CreateKeyRequest{Name: "by-" + method, Exportable: true}}); err != nil {
			t.Fatal(err)
		}
		got, err := a.svc.ExportKeyMaterial(a.ctx(), RawExportRequest{Key: "by-" + method})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Material.Reveal(), want) {
			t.Errorf("%s: derived material differs from the standard computation", method)
		}
	}
	a.createKey("signer", "ed25519")
	_, err = a.svc.DeriveKey(a.ctx(), DeriveKeyRequest{Base: "signer", Key: CreateKeyRequest{Name: "d4"}})
	wantCode(t, "derive from a signing key", err, CodeUnsupportedOperation)
	user := rootCtx(t, a.svc, a.login(t, "user", []access.Binding{role(access.RoleCryptoUser)}))
	_, err = a.svc.DeriveKey(user, DeriveKeyRequest{Base: "base", Key: CreateKeyRequest{Name: "d5"}})
	wantCode(t, "derive as a crypto user", err, CodeForbidden)
}

// TestImportActivatesInOneStep: ActivatePending activates a key pending
// import together with its first material; a caller who may import but
// not change the key's state is refused before anything is imported.
func TestImportActivatesInOneStep(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "byok", PendingImport: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.PutAccessPolicy(a.ctx(), access.Policy{Name: "import-only", Statements: []access.Statement{
		{Effect: access.Allow, Actions: []string{"key:read", "key:import"}},
	}}); err != nil {
		t.Fatal(err)
	}
	importer := rootCtx(t, a.svc, a.login(t, "importer", nil, "import-only"))
	material := func() ImportMaterial { return ImportMaterial{Plaintext: secret.New(bytes.Repeat([]byte{7}, 32))} }
	_, err := a.svc.ImportKeyVersion(importer, ImportVersionRequest{Key: "byok", ActivatePending: true, ImportMaterial: material()})
	wantCode(t, "import and activate without key:lifecycle", err, CodeForbidden)
	if k, _ := a.svc.GetKey(a.ctx(), "byok"); k.PrimaryVersion != 0 || k.State != "pre-active" {
		t.Fatalf("after a refused import: %+v", k)
	}
	k, err := a.svc.ImportKeyVersion(a.ctx(), ImportVersionRequest{Key: "byok", ActivatePending: true, ImportMaterial: material()})
	if err != nil || k.PrimaryVersion != 1 || k.State != "active" {
		t.Fatalf("import and activate: %+v, %v", k, err)
	}
	if _, err := a.svc.Encrypt(a.ctx(), EncryptRequest{Key: "byok", Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
}
