package kms

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
)

func TestSigningKeysThroughTheService(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	for _, alg := range []string{"ecdsa-p256", "ed25519", "rsa-2048", "ml-dsa-65"} {
		name := "s-" + alg
		if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: name, Algorithm: alg}); err != nil {
			t.Fatal(err)
		}
		msg := []byte("release v1.2.3")
		s1, err := e.svc.Sign(e.ctx, SignRequest{Key: name, Message: msg})
		if err != nil || s1.KeyVersion != 1 {
			t.Fatalf("%s sign: %+v %v", alg, s1, err)
		}
		verify := func(v uint32, m, sig []byte) bool {
			t.Helper()
			res, err := e.svc.Verify(e.ctx, VerifyRequest{Key: name, KeyVersion: v, Message: m, Signature: sig})
			if err != nil {
				t.Fatalf("%s verify: %v", alg, err)
			}
			return res.Valid
		}
		if !verify(0, msg, s1.Signature) || verify(0, []byte("release v6.6.6"), s1.Signature) {
			t.Fatalf("%s: verification wrong", alg)
		}
		if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: name}); err != nil {
			t.Fatal(err)
		}
		if !verify(1, msg, s1.Signature) || verify(2, msg, s1.Signature) {
			t.Fatalf("%s: old signature must verify under version 1 only", alg)
		}
		pub, err := e.svc.GetPublicKey(e.ctx, name, 1)
		if err != nil || pub.KeyVersion != 1 || len(pub.DER) == 0 || pub.JWK["kty"] == nil {
			t.Fatalf("%s public key: %+v %v", alg, pub, err)
		}
		if alg == "ecdsa-p256" {
			k, err := x509.ParsePKIXPublicKey(pub.DER)
			if err != nil {
				t.Fatal(err)
			}
			d := sha256.Sum256(msg)
			if !ecdsa.VerifyASN1(k.(*ecdsa.PublicKey), d[:], s1.Signature) {
				t.Fatal("the exported public key does not verify the signature outside Arca")
			}
			_, err = e.svc.Sign(e.ctx, SignRequest{Key: name, Message: d[:10], MessageType: crypto.MessageDigest})
			lcWant(t, "digest of the wrong length", err, CodeInvalidArgument)
			if _, err := e.svc.Sign(e.ctx, SignRequest{Key: name, Message: d[:], MessageType: crypto.MessageDigest}); err != nil {
				t.Fatalf("sign digest: %v", err)
			}
		}
		_, err = e.svc.Encrypt(e.ctx, EncryptRequest{Key: name, Plaintext: []byte("x")})
		lcWant(t, alg+" encrypt", err, CodeUnsupportedOperation)
	}
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "aes"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Sign(e.ctx, SignRequest{Key: "aes", Message: []byte("x")})
	lcWant(t, "sign with an AES key", err, CodeUnsupportedOperation)
	_, err = e.svc.Sign(e.ctx, SignRequest{Key: "s-ed25519", Message: make([]byte, 32), MessageType: crypto.MessageDigest})
	lcWant(t, "ed25519 digest", err, CodeInvalidArgument)
	_, err = e.svc.Sign(e.ctx, SignRequest{Key: "s-rsa-2048", Message: []byte("x"), Padding: "oaep"})
	lcWant(t, "bad padding", err, CodeInvalidArgument)
}

func TestDataKeyPairs(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "kek"}); err != nil {
		t.Fatal(err)
	}
	b := crypto.Binding{Context: map[string]string{"service": "payments"}}
	for _, spec := range []string{"ecdsa-p256", "ed25519", "rsa-2048", "ml-dsa-44"} {
		res, err := e.svc.GenerateDataKeyPair(e.ctx, DataKeyPairRequest{Key: "kek", KeySpec: spec, Binding: b})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		// The wrapped private key decrypts to the plaintext one, which signs
		// for the returned public key.
		back, err := e.svc.Decrypt(e.ctx, DecryptRequest{Ciphertext: res.Ciphertext, Binding: b})
		if err != nil || string(back.Plaintext.Reveal()) != string(res.PrivateKey.Reveal()) {
			t.Fatalf("%s: wrapped private key: %v", spec, err)
		}
		alg := crypto.Algorithm(spec)
		vk, err := crypto.NewVersionKey([16]byte{}, 1, alg, res.PrivateKey)
		if err != nil {
			t.Fatalf("%s: private key unusable: %v", spec, err)
		}
		pub, _ := vk.Public()
		if string(pub.DER) != string(res.PublicKey.DER) {
			t.Fatalf("%s: the private key does not match the public key", spec)
		}
	}
	res, err := e.svc.GenerateDataKeyPair(e.ctx, DataKeyPairRequest{Key: "kek", KeySpec: "ed25519", WithoutPlaintext: true})
	if err != nil || res.PrivateKey != nil || res.Ciphertext == "" {
		t.Fatalf("without plaintext: %+v %v", res, err)
	}
	_, err = e.svc.GenerateDataKeyPair(e.ctx, DataKeyPairRequest{Key: "kek", KeySpec: "aes-256-gcm"})
	lcWant(t, "symmetric key spec", err, CodeInvalidArgument)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "signer", Algorithm: "ed25519"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GenerateDataKeyPair(e.ctx, DataKeyPairRequest{Key: "signer", KeySpec: "ed25519"})
	lcWant(t, "signing key as KEK", err, CodeUnsupportedOperation)
}

// TestPublicKeyLifecycle: a pre-active key pair gives its public key (to be
// certified before use) but does not sign; a compromised or suspended one
// gives neither.
func TestPublicKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "pair", Algorithm: "ecdsa-p256", PreActive: true}); err != nil {
		t.Fatal(err)
	}
	if pub, err := e.svc.GetPublicKey(e.ctx, "pair", 0); err != nil || len(pub.DER) == 0 {
		t.Fatalf("public key of a pre-active pair: %+v %v", pub, err)
	}
	_, err := e.svc.Sign(e.ctx, SignRequest{Key: "pair", Message: []byte("x")})
	lcWant(t, "sign with a pre-active pair", err, CodeKeyPreActive)
	_, err = e.svc.Verify(e.ctx, VerifyRequest{Key: "pair", Message: []byte("x"), Signature: []byte("y")})
	lcWant(t, "verify with a pre-active pair", err, CodeKeyPreActive)
	for _, step := range []struct {
		action string
		code   Code
	}{{"activate", ""}, {"suspend", CodeKeySuspended}, {"resume", ""}, {"compromise", CodeKeyCompromised}} {
		if err := e.change("pair", 0, step.action, 0); err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
		_, err := e.svc.GetPublicKey(e.ctx, "pair", 0)
		if step.code == "" {
			if err != nil {
				t.Fatalf("public key after %s: %v", step.action, err)
			}
			continue
		}
		lcWant(t, "public key after "+step.action, err, step.code)
	}

	// Versions below min_decryption_version give no public key either.
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "pair2", Algorithm: "ecdsa-p256"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "pair2"}); err != nil {
		t.Fatal(err)
	}
	two := uint32(2)
	if _, err := e.svc.UpdateKeyPolicy(e.ctx, "pair2", PolicyUpdate{MinDecryptionVersion: &two}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetPublicKey(e.ctx, "pair2", 1)
	lcWant(t, "public key below the minimum version", err, CodeVersionBelowMinimum)
}
