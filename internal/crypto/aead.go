package crypto

import (
	gocrypto "crypto"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"

	"github.com/arcakms/arca/internal/secret"
)

// ErrDecrypt means authentication failed: the ciphertext was altered, or the
// associated data or context differ from those used to encrypt. It carries no
// further detail on purpose.
var ErrDecrypt = errors.New("message authentication failed")

// ErrWrongKey means the ciphertext names another key or version than the one
// used to open it.
var ErrWrongKey = errors.New("ciphertext was made by another key version")

// Binding is what a ciphertext is bound to besides its header: raw associated
// data and an encryption context. Both must be presented again to decrypt.
type Binding struct {
	// AssociatedData is arbitrary caller bytes.
	AssociatedData []byte
	// Context is an order-independent map of strings.
	Context map[string]string
}

// ErrWrongPurpose means an operation was asked of a key whose algorithm is
// for something else (e.g. encrypt with an HMAC key).
var ErrWrongPurpose = errors.New("the key's algorithm does not support this operation")

// VersionKey is one key version ready for use: its identity and a cached
// AEAD (encrypt keys) or HMAC key (MAC keys). It is safe for concurrent use.
type VersionKey struct {
	keyID     [16]byte
	version   uint32
	algorithm Algorithm
	aead      cipher.AEAD
	mac       *secret.Bytes
	hash      func() hash.Hash
	signer    gocrypto.Signer
	// asym and enc are the private and public halves of an asymmetric
	// encryption key version.
	asym *asymmetricKey
	enc  *Encrypter
	// ext performs AES-GCM, and extMAC HMAC, for a version whose key is
	// held elsewhere.
	ext    ExternalAEAD
	extMAC ExternalMAC
}

// ExternalMAC is the HMAC of a MAC key version computed where the key
// lives, such as an HSM.
type ExternalMAC interface {
	MAC(data []byte) ([]byte, error)
}

// NewExternalMACVersionKey builds an HMAC key version whose key never
// enters this process: mac computes its HMACs, which are exactly those of
// a software version of the algorithm.
func NewExternalMACVersionKey(keyID [16]byte, version uint32, alg Algorithm, mac ExternalMAC) (*VersionKey, error) {
	if version == 0 {
		return nil, errors.New("key version must be at least 1")
	}
	if alg.Purpose() != PurposeMAC || mac == nil {
		return nil, fmt.Errorf("%s cannot be computed outside this process", alg)
	}
	return &VersionKey{keyID: keyID, version: version, algorithm: alg, extMAC: mac}, nil
}

// ExternalAEAD is AES-256-GCM (96-bit nonce, 128-bit tag) performed where
// the key lives, such as an HSM: the caller's nonce, plaintext and
// associated data in, ciphertext || tag out. OpenGCM reports a ciphertext
// that does not authenticate as ErrDecrypt; any other error means the
// device failed.
type ExternalAEAD interface {
	SealGCM(nonce, plaintext, ad []byte) ([]byte, error)
	OpenGCM(nonce, sealed, ad []byte) ([]byte, error)
}

// NewExternalVersionKey builds a key version whose secret never enters
// this process: an aes-256-gcm version whose cipher is aead, or a signing
// version (ECDSA, RSA) whose private key is signer. Its ciphertexts and
// signatures are exactly those of a software version of the algorithm.
func NewExternalVersionKey(keyID [16]byte, version uint32, alg Algorithm, aead ExternalAEAD, signer gocrypto.Signer) (*VersionKey, error) {
	if version == 0 {
		return nil, errors.New("key version must be at least 1")
	}
	k := &VersionKey{keyID: keyID, version: version, algorithm: alg}
	switch {
	case alg == AES256GCM && aead != nil:
		k.ext = aead
	case signer != nil && alg.Purpose() == PurposeSign && !signSpecs[alg].messageOnly():
		k.signer = signer
	default:
		return nil, fmt.Errorf("%s cannot be performed outside this process", alg)
	}
	return k, nil
}

// NewVersionKey builds the AEAD for one key version. The material is only read
// during the call; the caller keeps ownership and should wipe it.
func NewVersionKey(keyID [16]byte, version uint32, alg Algorithm, material *secret.Bytes) (*VersionKey, error) {
	spec, ok := algorithms[alg]
	if !ok {
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	if spec.keySize != 0 && material.Len() != spec.keySize {
		return nil, fmt.Errorf("%s key material must be %d bytes", alg, spec.keySize)
	}
	if version == 0 {
		return nil, errors.New("key version must be at least 1")
	}
	k := &VersionKey{keyID: keyID, version: version, algorithm: alg}
	switch spec.purpose {
	case PurposeSign:
		signer, err := parseSigningKey(alg, material.Reveal())
		if err != nil {
			return nil, err
		}
		k.signer = signer
	case PurposeAsymmetric:
		a, err := parseAsymmetricKey(alg, material.Reveal())
		if err != nil {
			return nil, err
		}
		pub, err := a.public(alg)
		if err != nil {
			return nil, err
		}
		enc, err := NewEncrypter(keyID, version, alg, pub.Raw)
		if err != nil {
			return nil, err
		}
		k.asym, k.enc = a, enc
	case PurposeMAC:
		k.mac, k.hash = material.Clone(), spec.hash
	default:
		aead, err := spec.newAEAD(material.Reveal())
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", alg, err)
		}
		k.aead = aead
	}
	return k, nil
}

// GenerateMaterial returns fresh key material for alg from crypto/rand.
func GenerateMaterial(alg Algorithm) (*secret.Bytes, error) {
	spec, ok := algorithms[alg]
	if !ok {
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	switch spec.purpose {
	case PurposeSign:
		return generateSigningKey(alg)
	case PurposeAsymmetric:
		return generateAsymmetricKey(alg)
	}
	return secret.Random(spec.keySize)
}

// Version returns the key version number.
func (k *VersionKey) Version() uint32 { return k.version }

// Algorithm returns the key version's algorithm.
func (k *VersionKey) Algorithm() Algorithm { return k.algorithm }

// Seal encrypts plaintext under a fresh random nonce and returns the
// ciphertext. The header and the binding are authenticated.
func (k *VersionKey) Seal(plaintext []byte, b Binding) (*Ciphertext, error) {
	if k.enc != nil {
		return k.enc.Seal(plaintext, b)
	}
	if k.aead == nil && k.ext == nil {
		return nil, ErrWrongPurpose
	}
	nonce := make([]byte, algorithms[k.algorithm].nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	c := &Ciphertext{KeyID: k.keyID, KeyVersion: k.version, Algorithm: k.algorithm, Nonce: nonce}
	if k.ext != nil {
		sealed, err := k.ext.SealGCM(nonce, plaintext, additionalData(c.header(), b))
		if err != nil {
			return nil, err
		}
		c.Sealed = sealed
		return c, nil
	}
	c.Sealed = k.aead.Seal(nil, nonce, plaintext, additionalData(c.header(), b))
	return c, nil
}

// Open authenticates and decrypts c. It returns ErrWrongKey if c names another
// key version and ErrDecrypt if authentication fails.
func (k *VersionKey) Open(c *Ciphertext, b Binding) ([]byte, error) {
	if k.aead == nil && k.asym == nil && k.ext == nil {
		return nil, ErrWrongPurpose
	}
	if c.KeyID != k.keyID || c.KeyVersion != k.version || c.Algorithm != k.algorithm {
		return nil, ErrWrongKey
	}
	if k.asym != nil {
		return k.asym.open(k.algorithm, c, b)
	}
	if k.ext != nil {
		if len(c.Nonce) != algorithms[k.algorithm].nonceSize {
			return nil, ErrDecrypt
		}
		return k.ext.OpenGCM(c.Nonce, c.Sealed, additionalData(c.header(), b))
	}
	if len(c.Nonce) != k.aead.NonceSize() {
		return nil, ErrDecrypt
	}
	pt, err := k.aead.Open(nil, c.Nonce, c.Sealed, additionalData(c.header(), b))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// additionalData is the AEAD associated data: the ciphertext header, then the
// length-prefixed associated data, then the context entries sorted by key,
// each length-prefixed. Lengths are 4-byte big-endian.
func additionalData(header []byte, b Binding) []byte {
	n := len(header) + 8 + len(b.AssociatedData)
	for k, v := range b.Context {
		n += 8 + len(k) + len(v)
	}
	ad := make([]byte, 0, n)
	ad = append(ad, header...)
	ad = appendBytes(ad, b.AssociatedData)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(b.Context)))
	keys := make([]string, 0, len(b.Context))
	for k := range b.Context {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ad = appendBytes(ad, []byte(k))
		ad = appendBytes(ad, []byte(b.Context[k]))
	}
	return ad
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// MAC returns the HMAC of data under a MAC key version.
func (k *VersionKey) MAC(data []byte) ([]byte, error) {
	if k.extMAC != nil {
		return k.extMAC.MAC(data)
	}
	if k.mac == nil {
		return nil, ErrWrongPurpose
	}
	m := hmac.New(k.hash, k.mac.Reveal())
	m.Write(data)
	return m.Sum(nil), nil
}

// VerifyMAC reports in constant time whether tag is the HMAC of data.
func (k *VersionKey) VerifyMAC(data, tag []byte) (bool, error) {
	want, err := k.MAC(data)
	if err != nil {
		return false, err
	}
	return hmac.Equal(want, tag), nil
}
