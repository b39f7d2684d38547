package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Algorithm names a key algorithm as it appears in the API and in records.
type Algorithm string

// Symmetric AEAD algorithms.
const (
	AES256GCM        Algorithm = "aes-256-gcm"
	ChaCha20Poly1305 Algorithm = "chacha20-poly1305"
)

// algorithmSpec describes one algorithm: its wire id in ciphertext headers,
// key size and nonce size, and how to build its AEAD.
type algorithmSpec struct {
	id        byte
	keySize   int
	nonceSize int
	newAEAD   func(key []byte) (cipher.AEAD, error)
}

var algorithms = map[Algorithm]algorithmSpec{
	AES256GCM: {id: 1, keySize: 32, nonceSize: 12, newAEAD: func(key []byte) (cipher.AEAD, error) {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(block)
	}},
	ChaCha20Poly1305: {id: 2, keySize: chacha20poly1305.KeySize, nonceSize: chacha20poly1305.NonceSize, newAEAD: chacha20poly1305.New},
}

// Algorithms lists the supported algorithms in a stable order.
func Algorithms() []Algorithm { return []Algorithm{AES256GCM, ChaCha20Poly1305} }

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

func algorithmByID(id byte) (Algorithm, algorithmSpec, bool) {
	for a, s := range algorithms {
		if s.id == id {
			return a, s, true
		}
	}
	return "", algorithmSpec{}, false
}
