package kms

import (
	"testing"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/seal"
)

func TestEveryEncryptAlgorithmThroughTheService(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	for _, alg := range encryptAlgorithms() {
		name := "k-" + string(alg)
		if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: name, Algorithm: string(alg)}); err != nil {
			t.Fatal(err)
		}
		b := crypto.Binding{Context: map[string]string{"tenant": "a"}}
		enc := func() string {
			res, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: name, Plaintext: []byte("same"), Binding: b})
			if err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			return res.Ciphertext
		}
		c1, c2 := enc(), enc()
		if alg.Deterministic() != (c1 == c2) {
			t.Fatalf("%s: deterministic=%v but two encryptions equal=%v", alg, alg.Deterministic(), c1 == c2)
		}
		if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: name}); err != nil {
			t.Fatal(err)
		}
		if c3 := enc(); c3 == c1 {
			t.Fatalf("%s: a new version gave the same ciphertext", alg)
		}
		res, err := e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: c1, Binding: b})
		if err != nil || string(res.Plaintext.Reveal()) != "same" || res.KeyVersion != 1 {
			t.Fatalf("%s: old version: %+v %v", alg, res, err)
		}
		_, err = e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: c1})
		lcWant(t, string(alg)+" without its context", err, CodeDecryptionFailed)
		_, err = e.svc.GenerateMAC(e.ctx, MACRequest{Key: name, Data: []byte("x")})
		lcWant(t, string(alg)+" MAC", err, CodeUnsupportedOperation)
	}
}

func TestMACKeys(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	for alg, size := range map[string]int{"hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64} {
		name := "m-" + alg
		if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: name, Algorithm: alg}); err != nil {
			t.Fatal(err)
		}
		m1, err := e.svc.GenerateMAC(e.ctx, MACRequest{Key: name, Data: []byte("message")})
		if err != nil || len(m1.MAC) != size || m1.KeyVersion != 1 {
			t.Fatalf("%s: %+v %v", alg, m1, err)
		}
		verify := func(v uint32, data string, mac []byte) bool {
			t.Helper()
			res, err := e.svc.VerifyMAC(e.ctx, VerifyMACRequest{Key: name, KeyVersion: v, Data: []byte(data), MAC: mac})
			if err != nil {
				t.Fatalf("%s verify: %v", alg, err)
			}
			return res.Valid
		}
		if !verify(0, "message", m1.MAC) {
			t.Fatalf("%s: own MAC does not verify", alg)
		}
		flipped := append([]byte(nil), m1.MAC...)
		flipped[0] ^= 1
		if verify(0, "message", flipped) || verify(0, "massage", m1.MAC) || verify(0, "message", m1.MAC[:size-1]) {
			t.Fatalf("%s: a wrong MAC verified", alg)
		}
		if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: name}); err != nil {
			t.Fatal(err)
		}
		m2, err := e.svc.GenerateMAC(e.ctx, MACRequest{Key: name, Data: []byte("message")})
		if err != nil || m2.KeyVersion != 2 || string(m2.MAC) == string(m1.MAC) {
			t.Fatalf("%s after rotation: %+v %v", alg, m2, err)
		}
		if !verify(1, "message", m1.MAC) || verify(0, "message", m1.MAC) {
			t.Fatalf("%s: old-version MAC must verify under version 1 only", alg)
		}
		_, err = e.svc.Encrypt(e.ctx, EncryptRequest{Key: name, Plaintext: []byte("x")})
		lcWant(t, alg+" encrypt", err, CodeUnsupportedOperation)
		_, err = e.svc.VerifyMAC(e.ctx, VerifyMACRequest{Key: name, KeyVersion: 9, Data: []byte("x"), MAC: m1.MAC})
		lcWant(t, alg+" unknown version", err, CodeKeyVersionNotFound)
		if err := e.change(name, 0, "suspend", 0); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.GenerateMAC(e.ctx, MACRequest{Key: name, Data: []byte("x")})
		lcWant(t, alg+" suspended", err, CodeKeySuspended)
	}
}

func TestDerivedKeysGiveEachContextItsOwnSubkey(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "tenants", Derived: true}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "dmac", Algorithm: "hmac-sha256", Derived: true})
	lcWant(t, "derived MAC key", err, CodeInvalidArgument)
	acme := crypto.Binding{Context: map[string]string{"tenant": "acme"}}
	globex := crypto.Binding{Context: map[string]string{"tenant": "globex"}}
	enc := func(b crypto.Binding) string {
		t.Helper()
		res, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "tenants", Plaintext: []byte("data"), Binding: b})
		if err != nil {
			t.Fatal(err)
		}
		return res.Ciphertext
	}
	ctA := enc(acme)
	if res, err := e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: ctA, Binding: acme}); err != nil || string(res.Plaintext.Reveal()) != "data" {
		t.Fatalf("own context: %v", err)
	}
	_, err = e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: ctA, Binding: globex})
	lcWant(t, "other tenant's context", err, CodeDecryptionFailed)
	_, err = e.svc.Encrypt(e.ctx, EncryptRequest{Key: "tenants", Plaintext: []byte("x")})
	lcWant(t, "no context", err, CodeInvalidArgument)

	// The subkeys really differ: a subkey for acme cannot open globex's
	// ciphertext even when the context check is taken out of the way.
	ck, _ := e.svc.resolve(e.ctx, e.mustKeyring(t), "tenants")
	ve, err := e.svc.version(e.ctx, e.mustKeyring(t), ck, 1)
	if err != nil {
		t.Fatal(err)
	}
	ka, _ := ve.forContext(ck.id, ck.rec.Algorithm, acme.Context)
	kg, _ := ve.forContext(ck.id, ck.rec.Algorithm, globex.Context)
	c, _ := crypto.Parse(enc(globex))
	if _, err := ka.Open(c, globex); err == nil {
		t.Fatal("acme's subkey opened globex's ciphertext")
	}
	if _, err := kg.Open(c, globex); err != nil {
		t.Fatalf("globex's subkey: %v", err)
	}
	if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "tenants"}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: ctA, Binding: acme}); err != nil || res.KeyVersion != 1 {
		t.Fatalf("old version after rotation: %v", err)
	}
}

func (e *lcEnv) mustKeyring(t *testing.T) *seal.Keyring {
	t.Helper()
	kr := e.svc.keyring.Load()
	if kr == nil {
		t.Fatal("sealed")
	}
	return kr
}
