package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Algorithm names a key algorithm as it appears in the API and in records.
type Algorithm string

// Symmetric encryption algorithms (purpose encrypt).
const (
	AES256GCM         Algorithm = "aes-256-gcm"
	ChaCha20Poly1305  Algorithm = "chacha20-poly1305"
	XChaCha20Poly1305 Algorithm = "xchacha20-poly1305"
	// AES256SIV is deterministic authenticated encryption (RFC 5297): the
	// same plaintext and binding give the same ciphertext, for equality
	// search. It reveals equality of plaintexts, nothing more.
	AES256SIV Algorithm = "aes-256-siv"
)

// MAC algorithms (purpose mac).
const (
	HMACSHA256 Algorithm = "hmac-sha256"
	HMACSHA384 Algorithm = "hmac-sha384"
	HMACSHA512 Algorithm = "hmac-sha512"
)

// Purpose is what a key's algorithm is for; it is bound to the key's
// material at rest and decides which operations the key allows.
type Purpose string

// Key purposes.
const (
	PurposeEncrypt Purpose = "encrypt"
	PurposeMAC     Purpose = "mac"
)

// algorithmSpec describes one algorithm: its purpose, its wire id in
// ciphertext headers, key size and nonce size, and how to build it.
type algorithmSpec struct {
	purpose   Purpose
	id        byte
	keySize   int
	nonceSize int
	newAEAD   func(key []byte) (cipher.AEAD, error)
	hash      func() hash.Hash
	// sealedMin and sealedMax bound the length of a ciphertext's sealed
	// part beyond the tag-only minimum (0: no bound).
	sealedMin, sealedMax int
}

var algorithms = map[Algorithm]algorithmSpec{
	AES256GCM: {purpose: PurposeEncrypt, id: 1, keySize: 32, nonceSize: 12, newAEAD: func(key []byte) (cipher.AEAD, error) {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(block)
	}},
	ChaCha20Poly1305:  {purpose: PurposeEncrypt, id: 2, keySize: chacha20poly1305.KeySize, nonceSize: chacha20poly1305.NonceSize, newAEAD: chacha20poly1305.New},
	XChaCha20Poly1305: {purpose: PurposeEncrypt, id: 3, keySize: chacha20poly1305.KeySize, nonceSize: chacha20poly1305.NonceSizeX, newAEAD: chacha20poly1305.NewX},
	AES256SIV:         {purpose: PurposeEncrypt, id: 4, keySize: 64, nonceSize: 0, newAEAD: newSIV},
	HMACSHA256:        {purpose: PurposeMAC, keySize: sha256.Size, hash: sha256.New},
	HMACSHA384:        {purpose: PurposeMAC, keySize: sha512.Size384, hash: sha512.New384},
	HMACSHA512:        {purpose: PurposeMAC, keySize: sha512.Size, hash: sha512.New},
}

// Algorithms lists the supported algorithms in a stable order.
func Algorithms() []Algorithm {
	return []Algorithm{
		AES256GCM, ChaCha20Poly1305, XChaCha20Poly1305, AES256SIV, HMACSHA256, HMACSHA384, HMACSHA512,
		ECDSAP256, ECDSAP384, ECDSAP521, Ed25519, RSA2048, RSA3072, RSA4096, MLDSA44, MLDSA65, MLDSA87,
		RSAOAEP2048, RSAOAEP3072, RSAOAEP4096, MLKEM768, MLKEM1024, X25519MLKEM768,
	}
}

// Purpose returns what the algorithm is for ("" for an unknown one).
func (a Algorithm) Purpose() Purpose { return algorithms[a].purpose }

// Encrypts reports whether keys of the algorithm encrypt and decrypt:
// symmetric encryption and asymmetric encryption keys.
func (a Algorithm) Encrypts() bool {
	p := algorithms[a].purpose
	return p == PurposeEncrypt || p == PurposeAsymmetric
}

// Deterministic reports whether encryption under a is deterministic.
func (a Algorithm) Deterministic() bool {
	s := algorithms[a]
	return s.purpose == PurposeEncrypt && s.nonceSize == 0
}

// ParseAlgorithm validates an algorithm name.
func ParseAlgorithm(name string) (Algorithm, error) {
	a := Algorithm(name)
	if _, ok := algorithms[a]; !ok {
		return "", fmt.Errorf("unsupported algorithm %q", name)
	}
	return a, nil
}

// KeySize is the length in bytes of the algorithm's key material.
func (a Algorithm) KeySize() int { return algorithms[a].keySize }

// NonceSize is the length in bytes of the nonce an AEAD algorithm's
// ciphertexts carry (0 for AES-SIV and for algorithms that take none).
func (a Algorithm) NonceSize() int { return algorithms[a].nonceSize }

func algorithmByID(id byte) (Algorithm, algorithmSpec, bool) {
	for a, s := range algorithms {
		if a.Encrypts() && s.id == id {
			return a, s, true
		}
	}
	return "", algorithmSpec{}, false
}
