package crypto

import (
	gocrypto "crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/arcakms/arca/internal/secret"
)

// gcmDevice is AES-256-GCM "elsewhere": Go's own, behind ExternalAEAD.
type gcmDevice struct{ aead cipher.AEAD }

func (d gcmDevice) SealGCM(nonce, pt, ad []byte) ([]byte, error) {
	return d.aead.Seal(nil, nonce, pt, ad), nil
}
func (d gcmDevice) OpenGCM(nonce, ct, ad []byte) ([]byte, error) {
	pt, err := d.aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// TestExternalVersionKeyIsFormatCompatible: a version whose AES-GCM is
// performed elsewhere makes exactly the ciphertexts of a software version
// with the same key, and signs like a software key.
func TestExternalVersionKeyIsFormatCompatible(t *testing.T) {
	var id [16]byte
	rand.Read(id[:])
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	ext, err := NewExternalVersionKey(id, 3, AES256GCM, gcmDevice{gcm}, nil)
	if err != nil {
		t.Fatal(err)
	}
	soft, err := NewVersionKey(id, 3, AES256GCM, secret.New(key))
	if err != nil {
		t.Fatal(err)
	}
	b := Binding{AssociatedData: []byte("ad"), Context: map[string]string{"tenant": "a"}}
	c, err := ext.Seal([]byte("hello"), b)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := soft.Open(c, b); err != nil || string(pt) != "hello" {
		t.Fatalf("software open of an external ciphertext: %v", err)
	}
	c2, _ := soft.Seal([]byte("world"), b)
	if pt, err := ext.Open(c2, b); err != nil || string(pt) != "world" {
		t.Fatalf("external open of a software ciphertext: %v", err)
	}
	if _, err := ext.Open(c2, Binding{}); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("other binding: %v", err)
	}

	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := NewExternalVersionKey(id, 1, ECDSAP256, nil, gocrypto.Signer(priv))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign([]byte("m"), MessageRaw, "")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := signer.Verify([]byte("m"), sig, MessageRaw, ""); !ok || err != nil {
		t.Fatalf("verify: %v %v", ok, err)
	}
	for _, bad := range []struct {
		alg    Algorithm
		aead   ExternalAEAD
		signer gocrypto.Signer
	}{{ChaCha20Poly1305, gcmDevice{gcm}, nil}, {Ed25519, nil, priv}, {HMACSHA256, gcmDevice{gcm}, nil}, {AES256GCM, nil, nil}} {
		if _, err := NewExternalVersionKey(id, 1, bad.alg, bad.aead, bad.signer); err == nil {
			t.Errorf("%s outside the process was accepted", bad.alg)
		}
	}
}
