package crypto

import (
	"crypto/cipher"
	"errors"

	"github.com/tink-crypto/tink-go/v2/daead/subtle"
)

// sivAEAD presents tink's AES-SIV (RFC 5297) as a cipher.AEAD with a zero
// nonce size, so deterministic keys share the ciphertext format and the
// key-version code paths of the randomised ones.
type sivAEAD struct{ siv *subtle.AESSIV }

func newSIV(key []byte) (cipher.AEAD, error) {
	// tink keeps a slice of the key it is given and rebuilds its CTR
	// cipher from it on every call: give it its own copy, so that the
	// caller can wipe the material (it does, right after building the key).
	s, err := subtle.NewAESSIV(append([]byte(nil), key...))
	if err != nil {
		return nil, err
	}
	return sivAEAD{siv: s}, nil
}

// sivOverhead is the synthetic IV prepended to the ciphertext.
const sivOverhead = 16

func (sivAEAD) NonceSize() int { return 0 }
func (sivAEAD) Overhead() int  { return sivOverhead }

func (a sivAEAD) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != 0 {
		panic("crypto: AES-SIV takes no nonce")
	}
	ct, err := a.siv.EncryptDeterministically(plaintext, additionalData)
	if err != nil {
		// Only impossible sizes fail (plaintext beyond 2^31 bytes); the
		// service bounds plaintext far below that.
		panic("crypto: AES-SIV encryption failed: " + err.Error())
	}
	return append(dst, ct...)
}

func (a sivAEAD) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != 0 {
		return nil, errors.New("crypto: AES-SIV takes no nonce")
	}
	pt, err := a.siv.DecryptDeterministically(ciphertext, additionalData)
	if err != nil {
		return nil, err
	}
	return append(dst, pt...), nil
}
