package kms

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/shamir"
	"github.com/arcakms/arca/internal/storage"
)

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// encodedForm is one way a secret could appear in a file.
type encodedForm struct {
	name string
	text []byte
}

// encodedForms lists the forms of secret to look for: raw, hex (both cases),
// and base64 in the standard and URL alphabets. A secret base64-encoded as
// part of a longer value (a JSON []byte field, say) starts at any of three
// bit alignments, so for each alphabet the characters that depend only on
// the secret are taken at each alignment.
func encodedForms(secret []byte) []encodedForm {
	forms := []encodedForm{
		{"raw", secret},
		{"hex", []byte(hex.EncodeToString(secret))},
		{"HEX", bytes.ToUpper([]byte(hex.EncodeToString(secret)))},
		{"base64-std", []byte(base64.StdEncoding.EncodeToString(secret))},
		{"base64-rawurl", []byte(base64.RawURLEncoding.EncodeToString(secret))},
	}
	n := len(secret)
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{{"base64-std", base64.RawStdEncoding}, {"base64-url", base64.RawURLEncoding}} {
		for k := range 3 {
			s := enc.e.EncodeToString(append(make([]byte, k), secret...))
			// Character i encodes bits [6i, 6i+6); the secret holds bits
			// [8k, 8(k+n)).
			lo, hi := (8*k+5)/6, 8*(k+n)/6
			forms = append(forms, encodedForm{fmt.Sprintf("%s@%d", enc.name, k), []byte(s[lo:hi])})
		}
	}
	return forms
}

// assertAbsent reports every form of secret found in data.
func assertAbsent(t *testing.T, file string, data []byte, what string, secret []byte) {
	t.Helper()
	if len(secret) < 16 {
		t.Fatalf("%s: secret of %d bytes is too short to search for reliably", what, len(secret))
	}
	for _, f := range encodedForms(secret) {
		if bytes.Contains(data, f.text) {
			t.Errorf("%s found %s-encoded in the %s", what, f.name, file)
		}
	}
}

// TestEncodedFormsFindEmbeddedSecrets checks the scanner itself: a secret
// embedded at any offset in a longer encoded value is found.
func TestEncodedFormsFindEmbeddedSecrets(t *testing.T) {
	t.Parallel()
	secret := randomBytes(t, 32)
	for off := range 6 {
		blob := append(append(randomBytes(t, off), secret...), randomBytes(t, 7)...)
		for _, enc := range []struct {
			name   string
			encode func([]byte) string
		}{
			{"raw", func(b []byte) string { return string(b) }},
			{"hex", hex.EncodeToString},
			{"std", base64.StdEncoding.EncodeToString},
			{"rawstd", base64.RawStdEncoding.EncodeToString},
			{"url", base64.URLEncoding.EncodeToString},
			{"rawurl", base64.RawURLEncoding.EncodeToString},
		} {
			data := []byte(`{"material":"` + enc.encode(blob) + `"}`)
			found := false
			for _, f := range encodedForms(secret) {
				found = found || bytes.Contains(data, f.text)
			}
			if !found {
				t.Errorf("secret at offset %d of a %s-encoded value not found", off, enc.name)
			}
		}
	}
	for _, f := range encodedForms(secret) {
		if bytes.Contains([]byte(base64.StdEncoding.EncodeToString(randomBytes(t, 64))), f.text) {
			t.Errorf("form %s matched unrelated random data", f.name)
		}
	}
}

// TestKeyMaterialNeverTouchesDiskInPlaintext runs every kind of operation
// that handles secrets, then searches the raw database and audit files for
// each secret: key version material, the root key and the keys derived from
// it, the unseal shares, data keys, plaintexts and the root token.
func TestKeyMaterialNeverTouchesDiskInPlaintext(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(5, 3)

	type secretValue struct {
		what string
		b    []byte
	}
	var secrets []secretValue
	keep := func(what string, b []byte) { secrets = append(secrets, secretValue{what, bytes.Clone(b)}) }

	binding := crypto.Binding{AssociatedData: []byte("row-17"), Context: map[string]string{"tenant": "acme"}}
	var keyIDs []string
	for _, alg := range encryptAlgorithms() {
		k := e.createKey("material-"+string(alg), string(alg))
		keyIDs = append(keyIDs, k.ID)
		for range 2 {
			if _, err := e.svc.RotateKey(e.ctx(), RotateRequest{Key: k.Name}); err != nil {
				t.Fatalf("RotateKey(%s): %v", k.Name, err)
			}
		}
		long := 4096
		if strings.HasPrefix(string(alg), "rsa-oaep-") {
			long = 190 // RSA-OAEP-2048's limit: such keys carry data keys
		}
		plaintexts := [][]byte{
			randomBytes(t, 48),
			[]byte("the launch code is " + hex.EncodeToString(randomBytes(t, 16))),
			randomBytes(t, long),
		}
		for i, pt := range plaintexts {
			keep(fmt.Sprintf("%s plaintext %d", alg, i), pt)
			ct, err := e.svc.Encrypt(e.ctx(), EncryptRequest{Key: k.Name, Plaintext: pt, Binding: binding})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			dec, err := e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: ct.Ciphertext, Binding: binding})
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(dec.Plaintext.Reveal(), pt) {
				t.Fatalf("Decrypt returned other bytes than were encrypted")
			}
			dec.Plaintext.Wipe()
			if _, err := e.svc.Rewrap(e.ctx(), DecryptRequest{Key: k.ID, Ciphertext: ct.Ciphertext, Binding: binding}); err != nil {
				t.Fatalf("Rewrap: %v", err)
			}
		}
		batch := []EncryptRequest{{Key: k.Name, Plaintext: randomBytes(t, 32)}, {Key: k.ID, Plaintext: randomBytes(t, 32)}}
		for i, it := range batch {
			keep(fmt.Sprintf("%s batch plaintext %d", alg, i), it.Plaintext)
		}
		if _, err := e.svc.BatchEncrypt(e.ctx(), batch); err != nil {
			t.Fatalf("BatchEncrypt: %v", err)
		}
		for _, bits := range []int{128, 256} {
			dk, err := e.svc.GenerateDataKey(e.ctx(), DataKeyRequest{Key: k.Name, Bits: bits, Binding: binding})
			if err != nil {
				t.Fatalf("GenerateDataKey(%d): %v", bits, err)
			}
			if dk.Plaintext.Len() != bits/8 {
				t.Fatalf("data key of %d bytes, want %d", dk.Plaintext.Len(), bits/8)
			}
			keep(fmt.Sprintf("%s data key (%d bits)", alg, bits), dk.Plaintext.Reveal())
			dec, err := e.svc.Decrypt(e.ctx(), DecryptRequest{Key: k.Name, Ciphertext: dk.Ciphertext, Binding: binding})
			if err != nil {
				t.Fatalf("Decrypt(data key): %v", err)
			}
			if !bytes.Equal(dec.Plaintext.Reveal(), dk.Plaintext.Reveal()) {
				t.Fatalf("wrapped data key does not decrypt to the returned plaintext")
			}
			dk.Plaintext.Wipe()
			dec.Plaintext.Wipe()
		}
	}

	// (a) Every key version's material, opened from storage with the keyring.
	kr := e.svc.keyring.Load()
	versions := 0
	err := e.store.View(context.Background(), func(tx storage.Tx) error {
		page, err := tx.List(nsKeyVersions, storage.ListOptions{Limit: storage.MaxListLimit})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			var vr versionRecord
			if err := decodeRecord(kr, nsKeyVersions, it.Key, it.Value, &vr); err != nil {
				return err
			}
			m, err := kr.Open(vr.Material, materialAAD(vr.KeyID, vr.Version, vr.Purpose))
			if err != nil {
				return fmt.Errorf("open material of %s: %w", it.Key, err)
			}
			if ks := vr.Algorithm.KeySize(); m.Len() == 0 || (ks != 0 && m.Len() != ks) {
				return fmt.Errorf("material of %s is %d bytes, want %d", it.Key, m.Len(), vr.Algorithm.KeySize())
			}
			keep(fmt.Sprintf("material of %s (%s)", it.Key, vr.Algorithm), m.Reveal())
			m.Wipe()
			versions++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read key versions: %v", err)
	}
	if want := 3 * len(encryptAlgorithms()); versions != want {
		t.Fatalf("found %d key versions in storage, want %d", versions, want)
	}

	// (b) The root key, from three shares; another three give the same key.
	combine := func(texts []string) []byte {
		t.Helper()
		shares := make([]shamir.Share, len(texts))
		for i, txt := range texts {
			if err := shares[i].UnmarshalText([]byte(txt)); err != nil {
				t.Fatalf("parse share: %v", err)
			}
		}
		root, err := shamir.Combine(shares)
		if err != nil {
			t.Fatalf("combine shares: %v", err)
		}
		return root
	}
	root := combine(e.shares[:3])
	if len(root) != 32 {
		t.Fatalf("root key is %d bytes, want 32", len(root))
	}
	if other := combine(e.shares[2:]); !bytes.Equal(root, other) {
		t.Fatal("shares 1-3 and 3-5 reconstruct different root keys")
	}
	keep("root key", root)

	// The keys derived from the root key: the keyring wrapping key, the
	// keyring key it unwraps from the seal configuration, and the record MAC
	// key. The derivation is checked against the live keyring, so a change
	// in package seal fails here instead of silently searching wrong bytes.
	wrap, err := hkdf.Key(sha256.New, root, nil, "arca/v1/root/keyring-wrap", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(wrap)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	enc := e.svc.sealConfig.Load().EncryptedKeyring
	keyringKey, err := gcm.Open(nil, enc[:gcm.NonceSize()], enc[gcm.NonceSize():], []byte("arca/v1/root/keyring"))
	if err != nil {
		t.Fatalf("unwrap the keyring key with the root key: %v", err)
	}
	macKey, err := hkdf.Key(sha256.New, keyringKey, nil, "arca/v1/keyring/record-mac", 32)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, macKey)
	m.Write([]byte{0, 0, 0, 5})
	m.Write([]byte("probe"))
	if !bytes.Equal(m.Sum(nil), kr.MAC([]byte("probe"))) {
		t.Fatal("derived record MAC key does not match the keyring: update the derivation in this test")
	}
	keep("keyring wrapping key", wrap)
	keep("keyring key", keyringKey)
	keep("record MAC key", macKey)
	for i, txt := range e.shares {
		var sh shamir.Share
		if err := sh.UnmarshalText([]byte(txt)); err != nil {
			t.Fatal(err)
		}
		keep(fmt.Sprintf("unseal share %d", i+1), []byte(txt))
		keep(fmt.Sprintf("unseal share %d (Y)", i+1), sh.Y)
	}

	// Close everything so the files are complete, then read them raw.
	e.svc.Close()
	if err := e.audit.Close(); err != nil {
		t.Fatalf("close audit log: %v", err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	db, err := os.ReadFile(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	auditLog, err := os.ReadFile(e.auditPath)
	if err != nil {
		t.Fatal(err)
	}

	// The scan must be able to see what is there: the token hash in the
	// database, the key ids in the audit log.
	sum := sha256.Sum256([]byte(e.rootToken))
	if !bytes.Contains(db, []byte(hex.EncodeToString(sum[:]))) {
		t.Error("the root token's SHA-256 hex is not in the bbolt file: the scan does not see the data")
	}
	for _, id := range keyIDs {
		if !bytes.Contains(auditLog, []byte(id)) {
			t.Errorf("key id %s is not in the audit file: the scan does not see the data", id)
		}
	}

	for _, s := range secrets {
		assertAbsent(t, "bbolt file", db, s.what, s.b)
		assertAbsent(t, "audit file", auditLog, s.what, s.b)
	}
	assertAbsent(t, "bbolt file", db, "root token", []byte(e.rootToken))
	assertAbsent(t, "audit file", auditLog, "root token", []byte(e.rootToken))
	t.Logf("searched %d secrets in %d bytes of database and %d bytes of audit log", len(secrets)+1, len(db), len(auditLog))
}
