package kms

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/keywrap"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage"
)

// opResult is what one use of a key produced, to check later against the
// same version (after rotation) or against exported material.
type opResult struct {
	version    uint32
	ciphertext string // encrypt and asymmetric-encrypt keys
	mac        []byte // mac keys
	signature  []byte // sign keys
}

var (
	transferMsg     = []byte("move this key, not its secrets")
	transferBinding = crypto.Binding{Context: map[string]string{"tenant": "t1"}}
)

// use runs the key's main operation once under its primary version.
func (e *lcEnv) use(t *testing.T, key string, alg crypto.Algorithm) opResult {
	t.Helper()
	switch alg.Purpose() {
	case crypto.PurposeMAC:
		r, err := e.svc.GenerateMAC(e.ctx, MACRequest{Key: key, Data: transferMsg})
		if err != nil {
			t.Fatalf("%s: mac: %v", key, err)
		}
		return opResult{version: r.KeyVersion, mac: r.MAC}
	case crypto.PurposeSign:
		r, err := e.svc.Sign(e.ctx, SignRequest{Key: key, Message: transferMsg})
		if err != nil {
			t.Fatalf("%s: sign: %v", key, err)
		}
		return opResult{version: r.KeyVersion, signature: r.Signature}
	}
	r, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: key, Plaintext: transferMsg, Binding: transferBinding})
	if err != nil {
		t.Fatalf("%s: encrypt: %v", key, err)
	}
	return opResult{version: r.KeyVersion, ciphertext: r.Ciphertext}
}

// check verifies through the service that r still holds for its version.
func (e *lcEnv) check(t *testing.T, key string, r opResult) {
	t.Helper()
	switch {
	case r.mac != nil:
		v, err := e.svc.VerifyMAC(e.ctx, VerifyMACRequest{Key: key, KeyVersion: r.version, Data: transferMsg, MAC: r.mac})
		if err != nil || !v.Valid {
			t.Fatalf("%s v%d: MAC no longer verifies: %+v %v", key, r.version, v, err)
		}
	case r.signature != nil:
		v, err := e.svc.Verify(e.ctx, VerifyRequest{Key: key, KeyVersion: r.version, Message: transferMsg, Signature: r.signature})
		if err != nil || !v.Valid {
			t.Fatalf("%s v%d: signature no longer verifies: %+v %v", key, r.version, v, err)
		}
	default:
		p, err := e.svc.Decrypt(e.ctx, DecryptRequest{Key: key, Ciphertext: r.ciphertext, Binding: transferBinding})
		if err != nil || !bytes.Equal(p.Plaintext.Reveal(), transferMsg) || p.KeyVersion != r.version {
			t.Fatalf("%s v%d: no longer decrypts: %v", key, r.version, err)
		}
	}
}

// matchesMaterial checks, without the server, that material is the key
// version that produced r: it decrypts r's ciphertext, recomputes its MAC or
// verifies its signature.
func matchesMaterial(t *testing.T, keyID string, alg crypto.Algorithm, material []byte, r opResult) {
	t.Helper()
	id := uuid.MustParse(keyID)
	vk, err := crypto.NewVersionKey(id, r.version, alg, secret.New(bytes.Clone(material)))
	if err != nil {
		t.Fatalf("%s: exported material does not build a key: %v", alg, err)
	}
	switch {
	case r.mac != nil:
		m, err := vk.MAC(transferMsg)
		if err != nil || !bytes.Equal(m, r.mac) {
			t.Fatalf("%s: exported material gives another MAC", alg)
		}
	case r.signature != nil:
		if ok, err := vk.Verify(transferMsg, r.signature, crypto.MessageRaw, ""); err != nil || !ok {
			t.Fatalf("%s: exported material does not verify the key's signature: %v", alg, err)
		}
	default:
		c, err := crypto.Parse(r.ciphertext)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := vk.Open(c, transferBinding)
		if err != nil || !bytes.Equal(pt, transferMsg) {
			t.Fatalf("%s: exported material does not decrypt the key's ciphertext: %v", alg, err)
		}
	}
}

// wrappingKeys are the caller's own wrapping key pairs, one per scheme,
// generated once (RSA generation is slow).
var wrappingKeys = sync.OnceValue(func() map[keywrap.Scheme]struct {
	priv *secret.Bytes
	pub  string
} {
	out := map[keywrap.Scheme]struct {
		priv *secret.Bytes
		pub  string
	}{}
	for _, s := range keywrap.Schemes() {
		priv, pub, err := keywrap.GenerateKey(s)
		if err != nil {
			panic(err)
		}
		out[s] = struct {
			priv *secret.Bytes
			pub  string
		}{priv, pub}
	}
	return out
})

// wrapForImport gets an import token of scheme s and wraps material for it.
func (e *lcEnv) wrapForImport(t *testing.T, s keywrap.Scheme, material []byte) *ImportMaterial {
	t.Helper()
	tok, err := e.svc.CreateImportToken(e.ctx, ImportTokenRequest{Scheme: string(s)})
	if err != nil {
		t.Fatalf("import token: %v", err)
	}
	if tok.Scheme != s || !tok.ExpiresAt.After(e.clock.Now()) || !strings.Contains(tok.PublicKey, "BEGIN PUBLIC KEY") {
		t.Fatalf("import token %+v", tok)
	}
	w, err := keywrap.Wrap(s, tok.PublicKey, material)
	if err != nil {
		t.Fatalf("wrap: %v", err)
	}
	return &ImportMaterial{Token: tok.ID, WrappedMaterial: w}
}

// TestEveryKeyTypeRotatesExportsAndImports runs, for every algorithm: create
// an exportable key, use it, rotate, use it again, check the old version's
// result, export both versions wrapped (alternating schemes), check offline
// that the exported material is the version's material, import it as a new
// key of external origin, use that key and check its results against the
// material, rotate it by importing the second version, and check both of
// its versions' results. Imported keys are not exportable.
func TestEveryKeyTypeRotatesExportsAndImports(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	schemes := keywrap.Schemes()
	for i, alg := range crypto.Algorithms() {
		scheme := schemes[i%len(schemes)]
		wk := wrappingKeys()[scheme]
		t.Run(string(alg), func(t *testing.T) {
			src := "src-" + string(alg)
			k, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: src, Algorithm: string(alg), Exportable: true})
			if err != nil {
				t.Fatal(err)
			}
			if k.Origin != OriginArca || !k.Exportable {
				t.Fatalf("created key: origin %q exportable %v", k.Origin, k.Exportable)
			}
			r1 := e.use(t, src, alg)
			if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: src}); err != nil {
				t.Fatal(err)
			}
			r2 := e.use(t, src, alg)
			if r1.version != 1 || r2.version != 2 {
				t.Fatalf("versions %d, %d", r1.version, r2.version)
			}
			e.check(t, src, r1)
			e.check(t, src, r2)

			var material [2][]byte
			for j, r := range []opResult{r1, r2} {
				x, err := e.svc.ExportKey(e.ctx, ExportRequest{Key: src, Version: r.version, Scheme: string(scheme), WrappingKey: wk.pub})
				if err != nil {
					t.Fatalf("export v%d: %v", r.version, err)
				}
				if x.KeyVersion != r.version || x.Algorithm != alg || x.Scheme != scheme || x.KeyID != k.ID {
					t.Fatalf("export result %+v", x)
				}
				m, err := keywrap.Unwrap(scheme, wk.priv, x.WrappedMaterial)
				if err != nil {
					t.Fatalf("unwrap export v%d: %v", r.version, err)
				}
				material[j] = bytes.Clone(m.Reveal())
				matchesMaterial(t, k.ID, alg, material[j], r)
			}
			if bytes.Equal(material[0], material[1]) {
				t.Fatal("rotation kept the material")
			}

			dst := "byok-" + string(alg)
			imp, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: dst, Algorithm: string(alg), Import: e.wrapForImport(t, scheme, material[0])})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if imp.Origin != OriginExternal || imp.Exportable {
				t.Fatalf("imported key: origin %q exportable %v", imp.Origin, imp.Exportable)
			}
			i1 := e.use(t, dst, alg)
			matchesMaterial(t, imp.ID, alg, material[0], i1)
			if r1.mac != nil && !bytes.Equal(i1.mac, r1.mac) {
				t.Fatal("imported HMAC key gives another MAC than its source")
			}
			_, err = e.svc.RotateKey(e.ctx, RotateRequest{Key: dst})
			lcWant(t, "generated rotation of an external key", err, CodeUnsupportedOperation)
			k2, err := e.svc.ImportKeyVersion(e.ctx, ImportVersionRequest{Key: dst, ImportMaterial: *e.wrapForImport(t, scheme, material[1])})
			if err != nil || k2.PrimaryVersion != 2 {
				t.Fatalf("import version: %+v %v", k2, err)
			}
			i2 := e.use(t, dst, alg)
			matchesMaterial(t, imp.ID, alg, material[1], i2)
			e.check(t, dst, i1)
			e.check(t, dst, i2)
			vs, err := e.svc.ListVersions(e.ctx, ListVersionsRequest{Key: dst})
			if err != nil || len(vs.Versions) != 2 || vs.Versions[0].Provenance.Generator != "import" || vs.Versions[1].Provenance.Generator != "import" {
				t.Fatalf("versions of an imported key: %+v %v", vs, err)
			}
			_, err = e.svc.ExportKey(e.ctx, ExportRequest{Key: dst, WrappingKey: wk.pub, Scheme: string(scheme)})
			lcWant(t, "export of a non-exportable key", err, CodeKeyNotExportable)
		})
	}
}

func TestImportTokensAreOneTimeAndExpire(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	m := bytes.Repeat([]byte{7}, 32)
	im := e.wrapForImport(t, keywrap.MLKEM768HPKE, m)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "a", Algorithm: "hmac-sha256", Import: im}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "b", Algorithm: "hmac-sha256", Import: im})
	lcWant(t, "second use of a token", err, CodeImportTokenNotFound)
	_, err = e.svc.ImportKeyVersion(e.ctx, ImportVersionRequest{Key: "a", ImportMaterial: *im})
	lcWant(t, "second use of a token for a version", err, CodeImportTokenNotFound)

	// A failed import does not spend the token: the right material still imports.
	im = e.wrapForImport(t, keywrap.MLKEM768HPKE, m)
	_, err = e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "c", Algorithm: "hmac-sha512", Import: im})
	lcWant(t, "material of the wrong size", err, CodeInvalidImport)
	tampered := *im
	tampered.WrappedMaterial = bytes.Clone(im.WrappedMaterial)
	tampered.WrappedMaterial[len(tampered.WrappedMaterial)-1] ^= 1
	_, err = e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "c", Algorithm: "hmac-sha256", Import: &tampered})
	lcWant(t, "tampered wrapped material", err, CodeInvalidImport)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "c", Algorithm: "hmac-sha256", Import: im}); err != nil {
		t.Fatalf("the token was spent by failed imports: %v", err)
	}

	// Material wrapped for one token does not import under another.
	other := e.wrapForImport(t, keywrap.MLKEM768HPKE, m)
	_, err = e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "d", Algorithm: "hmac-sha256",
		Import: &ImportMaterial{Token: e.wrapForImport(t, keywrap.MLKEM768HPKE, m).Token, WrappedMaterial: other.WrappedMaterial}})
	lcWant(t, "material wrapped for another token", err, CodeInvalidImport)

	im = e.wrapForImport(t, keywrap.RSAAESKeyWrap, m)
	e.clock.Advance(DefaultImportTokenTTL)
	_, err = e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "e", Algorithm: "hmac-sha256", Import: im})
	lcWant(t, "expired token", err, CodeImportTokenNotFound)
	// The scheduler deletes expired tokens with their private keys.
	rep, err := e.svc.RunDue(e.ctx)
	if err != nil || rep.ExpiredImportTokens != 3 {
		t.Fatalf("RunDue: %+v %v, want 3 expired import tokens", rep, err)
	}
	if err := e.svc.store.View(e.ctx, func(tx storage.Tx) error {
		p, err := tx.List(nsImportTokens, storage.ListOptions{})
		if err == nil && len(p.Items) != 0 {
			err = fmt.Errorf("%d import tokens left after expiry", len(p.Items))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "e", Algorithm: "hmac-sha256", Import: &ImportMaterial{Token: "not-a-token", WrappedMaterial: []byte{1}}})
	lcWant(t, "malformed token", err, CodeImportTokenNotFound)
	_, err = e.svc.CreateImportToken(e.ctx, ImportTokenRequest{Scheme: "rsa-pkcs1"})
	lcWant(t, "unknown scheme", err, CodeInvalidArgument)
	_, err = e.svc.CreateImportToken(e.ctx, ImportTokenRequest{TTL: 25 * time.Hour})
	lcWant(t, "ttl too long", err, CodeInvalidArgument)
	_, err = e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "f", Algorithm: "hmac-sha256", Import: e.wrapForImport(t, keywrap.MLKEM768HPKE, m),
		Policy: PolicyUpdate{RotationPeriod: ptr(30 * 24 * time.Hour)}})
	lcWant(t, "scheduled rotation of an imported key", err, CodeInvalidArgument)
	_, err = e.svc.ImportKeyVersion(e.ctx, ImportVersionRequest{Key: e.mustCreate(t, "generated", "hmac-sha256"), ImportMaterial: *e.wrapForImport(t, keywrap.MLKEM768HPKE, m)})
	lcWant(t, "import into a generated key", err, CodeUnsupportedOperation)
}

func (e *lcEnv) mustCreate(t *testing.T, name, alg string) string {
	t.Helper()
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: name, Algorithm: alg}); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestConcurrentImportsSpendATokenOnce races many imports of one token: one
// key is created, every other attempt fails.
func TestConcurrentImportsSpendATokenOnce(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	im := e.wrapForImport(t, keywrap.MLKEM768HPKE, bytes.Repeat([]byte{9}, 32))
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: fmt.Sprintf("race-%d", i), Algorithm: "hmac-sha256", Import: im})
			if err == nil {
				mu.Lock()
				created++
				mu.Unlock()
			} else if c := CodeOf(err); c != CodeImportTokenNotFound && c != CodeConflict {
				t.Errorf("import %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d keys were created from one import token, want 1", created)
	}
}

// TestNonExportableKeysNeverExport tries every way to get material out of a
// key not created exportable: export of each version under each scheme, by
// name and by id, after rotation, with and without a wrapping key. It then
// checks that no response and no audit record holds the material.
func TestNonExportableKeysNeverExport(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	for _, alg := range []string{"aes-256-gcm", "hmac-sha256", "ed25519", "ml-kem-768"} {
		k, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "locked-" + alg, Algorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		if k.Exportable {
			t.Fatal("keys must not be exportable by default")
		}
		if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: k.Name}); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{k.Name, k.ID} {
			for _, s := range keywrap.Schemes() {
				for _, v := range []uint32{0, 1, 2, 3} {
					_, err := e.svc.ExportKey(e.ctx, ExportRequest{Key: ref, Version: v, Scheme: string(s), WrappingKey: wrappingKeys()[s].pub})
					lcWant(t, fmt.Sprintf("export %s v%d %s", ref, v, s), err, CodeKeyNotExportable)
				}
			}
			_, err := e.svc.ExportKey(e.ctx, ExportRequest{Key: ref})
			if CodeOf(err) != CodeKeyNotExportable && CodeOf(err) != CodeInvalidArgument {
				t.Fatalf("export without a wrapping key: %v", err)
			}
		}
	}
	// The audit log records every attempt, and none succeeded.
	n := 0
	for _, r := range readAuditRecords(t, e.auditPath) {
		if r.Operation != OpKeyExport {
			continue
		}
		n++
		if r.Outcome == "allowed" || r.KeyID == "" {
			t.Fatalf("export audit record %+v", r)
		}
	}
	if want := 4 * 2 * (2*4 + 1); n != want {
		t.Fatalf("audit log has %d export records, want %d", n, want)
	}
}

// TestExportRefusesCompromisedAndBadWrappingKeys covers the export checks
// beyond exportability.
func TestExportRefusesCompromisedAndBadWrappingKeys(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "x", Algorithm: "aes-256-gcm", Exportable: true}); err != nil {
		t.Fatal(err)
	}
	rsaPub := wrappingKeys()[keywrap.RSAAESKeyWrap].pub
	_, err := e.svc.ExportKey(e.ctx, ExportRequest{Key: "x", Scheme: string(keywrap.MLKEM768HPKE), WrappingKey: rsaPub})
	lcWant(t, "RSA key for the ML-KEM scheme", err, CodeInvalidArgument)
	_, err = e.svc.ExportKey(e.ctx, ExportRequest{Key: "x", WrappingKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})
	lcWant(t, "garbage wrapping key", err, CodeInvalidArgument)
	_, err = e.svc.ExportKey(e.ctx, ExportRequest{Key: "x", Version: 9, WrappingKey: rsaPub})
	lcWant(t, "missing version", err, CodeKeyVersionNotFound)
	if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "x", CompromiseVersions: []uint32{1}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ExportKey(e.ctx, ExportRequest{Key: "x", Version: 1, WrappingKey: rsaPub})
	lcWant(t, "compromised version", err, CodeKeyCompromised)
	if _, err := e.svc.ExportKey(e.ctx, ExportRequest{Key: "x", Version: 2, WrappingKey: rsaPub}); err != nil {
		t.Fatalf("export of the healthy version: %v", err)
	}
}

// TestImportedKeysAtTheUsageBoundAndEmergencyImport: the server cannot
// rotate a key of external origin, so at its usage bound encryption is
// refused until new material is imported; an import can compromise older
// versions in the same step.
func TestImportedKeysAtTheUsageBoundAndEmergencyImport(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	m1, m2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "ext", Algorithm: "aes-256-gcm",
		Import: e.wrapForImport(t, keywrap.MLKEM768HPKE, m1), Policy: PolicyUpdate{UsageBound: ptr(uint64(10))}}); err != nil {
		t.Fatal(err)
	}
	var first string
	for i := range 10 {
		r, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "ext", Plaintext: []byte("x")})
		if err != nil {
			t.Fatalf("encryption %d: %v", i+1, err)
		}
		if i == 0 {
			first = r.Ciphertext
		}
	}
	_, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "ext", Plaintext: []byte("x")})
	lcWant(t, "encryption past the usage bound", err, CodeUsageBoundReached)
	k, err := e.svc.GetKey(e.ctx, "ext")
	if err != nil || k.PrimaryVersion != 1 {
		t.Fatalf("the server rotated a key of external origin: %+v %v", k, err)
	}
	_, err = e.svc.ImportKeyVersion(e.ctx, ImportVersionRequest{Key: "ext", ImportMaterial: *e.wrapForImport(t, keywrap.MLKEM768HPKE, m2), CompromiseVersions: []uint32{7}})
	lcWant(t, "compromising a version that does not exist", err, CodeInvalidArgument)
	if _, err := e.svc.ImportKeyVersion(e.ctx, ImportVersionRequest{Key: "ext", ImportMaterial: *e.wrapForImport(t, keywrap.MLKEM768HPKE, m2), CompromiseVersions: []uint32{1}}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "ext", Plaintext: []byte("x")}); err != nil || r.KeyVersion != 2 {
		t.Fatalf("encrypt after import: %+v %v", r, err)
	}
	_, err = e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: first})
	lcWant(t, "decrypt under the compromised version", err, CodeKeyCompromised)
	if _, err := e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: first, AllowCompromised: true}); err != nil {
		t.Fatal(err)
	}
}
