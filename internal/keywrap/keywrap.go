// Package keywrap carries key material across the server's boundary, for
// import (bring your own key) and export, wrapped under the receiver's
// public key so that it is never in clear in transit or in any log:
//
//   - rsa-oaep-sha256-aes-kwp: a fresh AES-256 key encrypted with RSA-OAEP
//     (SHA-256, MGF1-SHA-256, empty label) under an RSA key of 3072 or 4096
//     bits, followed by the material wrapped with that AES key by AES-KWP
//     (RFC 5649, NIST SP 800-38F). This is the format cloud KMSs accept
//     for imports (AWS RSA_AES_KEY_WRAP_SHA_256, Google RSA_OAEP_*_AES_256),
//     so the usual tooling produces it.
//   - ml-kem-768-hpke: HPKE (RFC 9180, base mode) with the ML-KEM-768 KEM,
//     HKDF-SHA256 and AES-256-GCM, info "arca/v1/keywrap" and no
//     associated data: the encapsulated key followed by the sealed
//     material. It stays confidential against a quantum adversary.
//
// Public keys travel as PEM SubjectPublicKeyInfo ("PUBLIC KEY"); the
// ML-KEM-768 one carries the FIPS 203 OID 2.16.840.1.101.3.4.4.2.
package keywrap

import (
	"bytes"
	"crypto/hpke"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/kwp/subtle"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/secret"
)

// Scheme names a wrapping scheme.
type Scheme string

// Wrapping schemes.
const (
	RSAAESKeyWrap Scheme = "rsa-oaep-sha256-aes-kwp"
	MLKEM768HPKE  Scheme = "ml-kem-768-hpke"
)

// Schemes lists the wrapping schemes in a stable order.
func Schemes() []Scheme { return []Scheme{RSAAESKeyWrap, MLKEM768HPKE} }

// ParseScheme validates a scheme name; "" means the default, RSA.
func ParseScheme(s string) (Scheme, error) {
	switch Scheme(s) {
	case "", RSAAESKeyWrap:
		return RSAAESKeyWrap, nil
	case MLKEM768HPKE:
		return MLKEM768HPKE, nil
	}
	return "", fmt.Errorf("unsupported wrapping scheme %q (want %s or %s)", s, RSAAESKeyWrap, MLKEM768HPKE)
}

// Errors safe to show to callers.
var (
	// ErrUnwrap means wrapped material did not unwrap: altered, or wrapped
	// under another public key. All failures look alike on purpose.
	ErrUnwrap = errors.New("the wrapped material does not unwrap under this wrapping key")
	// ErrPublicKey means a wrapping public key is unusable for its scheme.
	ErrPublicKey = errors.New("the wrapping public key must be a PEM \"PUBLIC KEY\": RSA of 3072 or 4096 bits for rsa-oaep-sha256-aes-kwp, ML-KEM-768 for ml-kem-768-hpke")
)

const (
	hpkeInfo = "arca/v1/keywrap"
	aesKey   = 32
	// MaxMaterial is the largest material wrapped (AES-KWP's limit).
	MaxMaterial = subtle.MaxWrapSize
	// MinMaterial is the smallest material wrapped (AES-KWP's limit).
	MinMaterial = subtle.MinWrapSize
)

var mlkem768OID = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}

// rsaBits are the RSA wrapping key sizes accepted: 128-bit security or more.
func rsaBitsOK(n int) bool { return n == 3072 || n == 4096 }

// GenerateKey returns a fresh wrapping key pair of a scheme: the private
// key (PKCS#8 DER for RSA-3072, the 64-byte ML-KEM seed) and the public key
// as PEM.
func GenerateKey(s Scheme) (*secret.Bytes, string, error) {
	switch s {
	case RSAAESKeyWrap:
		k, err := rsa.GenerateKey(rand.Reader, 3072)
		if err != nil {
			return nil, "", fmt.Errorf("generate wrapping key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, "", fmt.Errorf("encode wrapping key: %w", err)
		}
		pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			return nil, "", fmt.Errorf("encode wrapping key: %w", err)
		}
		return secret.New(der), pemOf(pub), nil
	case MLKEM768HPKE:
		seed, err := secret.Random(64)
		if err != nil {
			return nil, "", err
		}
		k, err := hpke.MLKEM768().NewPrivateKey(seed.Reveal())
		if err != nil {
			seed.Wipe()
			return nil, "", fmt.Errorf("generate wrapping key: %w", err)
		}
		pub, err := mlkemSPKI(k.PublicKey().Bytes())
		if err != nil {
			seed.Wipe()
			return nil, "", err
		}
		return seed, pemOf(pub), nil
	}
	return nil, "", fmt.Errorf("unsupported wrapping scheme %q", s)
}

func pemOf(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func mlkemSPKI(raw []byte) ([]byte, error) {
	der, err := crypto.MarshalSPKI(mlkem768OID, raw)
	if err != nil {
		return nil, fmt.Errorf("encode wrapping key: %w", err)
	}
	return der, nil
}

// parsePublic parses a PEM wrapping public key for s.
func parsePublic(s Scheme, publicPEM string) (any, error) {
	trimmed := bytes.TrimSpace([]byte(publicPEM))
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		return nil, ErrPublicKey // no text before the block: one canonical form
	}
	block, rest := pem.Decode(trimmed)
	if block == nil || block.Type != "PUBLIC KEY" || len(block.Headers) != 0 || len(bytes.TrimSpace(rest)) != 0 {
		return nil, ErrPublicKey
	}
	switch s {
	case RSAAESKeyWrap:
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, ErrPublicKey
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok || !rsaBitsOK(rk.N.BitLen()) {
			return nil, ErrPublicKey
		}
		return rk, nil
	case MLKEM768HPKE:
		var spki struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}
		rest, err := asn1.Unmarshal(block.Bytes, &spki)
		if err != nil || len(rest) != 0 || !spki.Algorithm.Algorithm.Equal(mlkem768OID) ||
			len(spki.Algorithm.Parameters.FullBytes) != 0 || spki.PublicKey.BitLength != 8*len(spki.PublicKey.Bytes) {
			return nil, ErrPublicKey
		}
		pk, err := hpke.MLKEM768().NewPublicKey(spki.PublicKey.Bytes)
		if err != nil {
			return nil, ErrPublicKey
		}
		return pk, nil
	}
	return nil, fmt.Errorf("unsupported wrapping scheme %q", s)
}

// Wrap wraps material under a PEM wrapping public key of scheme s.
func Wrap(s Scheme, publicPEM string, material []byte) ([]byte, error) {
	if len(material) < MinMaterial || len(material) > MaxMaterial {
		return nil, fmt.Errorf("key material must be %d to %d bytes", MinMaterial, MaxMaterial)
	}
	pub, err := parsePublic(s, publicPEM)
	if err != nil {
		return nil, err
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		ephemeral, err := secret.Random(aesKey)
		if err != nil {
			return nil, err
		}
		defer ephemeral.Wipe()
		head, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, k, ephemeral.Reveal(), nil)
		if err != nil {
			return nil, fmt.Errorf("wrap: %w", err)
		}
		kwp, err := subtle.NewKWP(ephemeral.Reveal())
		if err != nil {
			return nil, fmt.Errorf("wrap: %w", err)
		}
		tail, err := kwp.Wrap(material)
		if err != nil {
			return nil, fmt.Errorf("wrap: %w", err)
		}
		return append(head, tail...), nil
	case hpke.PublicKey:
		out, err := hpke.Seal(k, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte(hpkeInfo), material)
		if err != nil {
			return nil, fmt.Errorf("wrap: %w", err)
		}
		return out, nil
	}
	return nil, ErrPublicKey
}

// Unwrap recovers material wrapped for the private key priv of scheme s
// (as GenerateKey returns it). Every failure is ErrUnwrap.
func Unwrap(s Scheme, priv *secret.Bytes, wrapped []byte) (*secret.Bytes, error) {
	switch s {
	case RSAAESKeyWrap:
		k, err := x509.ParsePKCS8PrivateKey(priv.Reveal())
		rk, ok := k.(*rsa.PrivateKey)
		if err != nil || !ok {
			return nil, errors.New("unwrap: the wrapping private key is not an RSA PKCS#8 key")
		}
		n := rk.Size()
		if len(wrapped) < n+8+MinMaterial {
			return nil, ErrUnwrap
		}
		ephemeral, err := crypto.DecryptOAEP(rk, wrapped[:n], nil)
		if err != nil || len(ephemeral) != aesKey {
			return nil, ErrUnwrap
		}
		defer secret.Zero(ephemeral)
		kwp, err := subtle.NewKWP(ephemeral)
		if err != nil {
			return nil, ErrUnwrap
		}
		m, err := kwp.Unwrap(wrapped[n:])
		if err != nil {
			return nil, ErrUnwrap
		}
		return unwrapped(m)
	case MLKEM768HPKE:
		k, err := hpke.MLKEM768().NewPrivateKey(priv.Reveal())
		if err != nil {
			return nil, errors.New("unwrap: the wrapping private key is not an ML-KEM-768 seed")
		}
		m, err := hpke.Open(k, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte(hpkeInfo), wrapped)
		if err != nil {
			return nil, ErrUnwrap
		}
		return unwrapped(m)
	}
	return nil, fmt.Errorf("unsupported wrapping scheme %q", s)
}

// unwrapped returns material that unwrapped, if Wrap would have wrapped it:
// AES-KWP unwraps down to 9 bytes and HPKE to none, and a sender other than
// Wrap can produce either.
func unwrapped(m []byte) (*secret.Bytes, error) {
	if len(m) < MinMaterial || len(m) > MaxMaterial {
		secret.Zero(m)
		return nil, ErrUnwrap
	}
	return secret.New(m), nil
}
