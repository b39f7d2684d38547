package crypto

import (
	"crypto/hpke"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/arcakms/arca/internal/secret"
)

// Asymmetric encryption algorithms (purpose asymmetric-encrypt). Anyone
// holding the public key can encrypt, offline; only the server, holding the
// private key, decrypts. They carry data keys to a recipient.
const (
	// RSA-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017). The plaintext is
	// at most k − 66 bytes (190, 318, 446): enough for data keys.
	RSAOAEP2048 Algorithm = "rsa-oaep-2048"
	RSAOAEP3072 Algorithm = "rsa-oaep-3072"
	RSAOAEP4096 Algorithm = "rsa-oaep-4096"
	// HPKE (RFC 9180, base mode) with the ML-KEM KEMs of FIPS 203,
	// HKDF-SHA256 and AES-256-GCM. Material is the 64-byte seed (d ‖ z).
	MLKEM768  Algorithm = "ml-kem-768"
	MLKEM1024 Algorithm = "ml-kem-1024"
	// X25519MLKEM768 is HPKE with the hybrid MLKEM768-X25519 KEM: its
	// ciphertexts stay confidential while either ML-KEM-768 or X25519
	// holds. Material is the KEM's 32-byte seed.
	X25519MLKEM768 Algorithm = "x25519-ml-kem-768"
)

// PurposeAsymmetric is the purpose of asymmetric encryption keys: the
// encrypt and decrypt operations, and get-public-key.
const PurposeAsymmetric Purpose = "asymmetric-encrypt"

// ErrPlaintextTooLong means the plaintext exceeds what an RSA-OAEP key can
// encrypt directly.
var ErrPlaintextTooLong = errors.New("the plaintext is too long for this RSA-OAEP key (at most modulus size − 66 bytes)")

// hpkeInfo is the HPKE info string of Arca's asymmetric ciphertexts.
const hpkeInfo = "arca/v1/asymmetric-encrypt"

// asymSpec describes an asymmetric encryption algorithm.
type asymSpec struct {
	rsaBits int
	kem     func() hpke.KEM
	seed    int                   // HPKE private key (seed) size
	encSize int                   // size of the KEM's encapsulated key
	oid     asn1.ObjectIdentifier // SubjectPublicKeyInfo OID; nil if none is standard
}

var asymSpecs = map[Algorithm]asymSpec{
	RSAOAEP2048:    {rsaBits: 2048},
	RSAOAEP3072:    {rsaBits: 3072},
	RSAOAEP4096:    {rsaBits: 4096},
	MLKEM768:       {kem: hpke.MLKEM768, seed: 64, encSize: 1088, oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}},
	MLKEM1024:      {kem: hpke.MLKEM1024, seed: 64, encSize: 1568, oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 3}},
	X25519MLKEM768: {kem: hpke.MLKEM768X25519, seed: 32, encSize: 1120},
}

func init() {
	ids := map[Algorithm]byte{RSAOAEP2048: 5, RSAOAEP3072: 6, RSAOAEP4096: 7, MLKEM768: 8, MLKEM1024: 9, X25519MLKEM768: 10}
	for a, spec := range asymSpecs {
		s := algorithmSpec{purpose: PurposeAsymmetric, id: ids[a], sealedMin: spec.rsaBits / 8, sealedMax: spec.rsaBits / 8}
		if spec.kem != nil {
			s.sealedMin, s.sealedMax = spec.encSize+tagSize, 0
		}
		algorithms[a] = s
	}
}

// asymmetricKey is the private half of an asymmetric encryption key
// version: exactly one of its fields is set.
type asymmetricKey struct {
	rsa  *rsa.PrivateKey
	hpke hpke.PrivateKey
}

// generateAsymmetricKey returns fresh material: PKCS#8 DER for RSA, the
// KEM seed for the HPKE algorithms.
func generateAsymmetricKey(alg Algorithm) (*secret.Bytes, error) {
	spec := asymSpecs[alg]
	if spec.kem != nil {
		return secret.Random(spec.seed)
	}
	k, err := rsa.GenerateKey(rand.Reader, spec.rsaBits)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode %s key: %w", alg, err)
	}
	return secret.New(der), nil
}

// parseAsymmetricKey parses material and checks it matches alg.
func parseAsymmetricKey(alg Algorithm, material []byte) (*asymmetricKey, error) {
	spec := asymSpecs[alg]
	if spec.kem != nil {
		if len(material) != spec.seed {
			return nil, fmt.Errorf("%s key material must be a %d-byte seed", alg, spec.seed)
		}
		k, err := spec.kem().NewPrivateKey(material)
		if err != nil {
			return nil, fmt.Errorf("%s key material is invalid", alg)
		}
		return &asymmetricKey{hpke: k}, nil
	}
	k, err := parsePKCS8(material)
	if err != nil {
		return nil, fmt.Errorf("%s key material is not a PKCS#8 private key", alg)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() != spec.rsaBits {
		return nil, fmt.Errorf("key material does not match algorithm %s", alg)
	}
	return &asymmetricKey{rsa: rk}, nil
}

// parsePKCS8 parses a PKCS#8 private key that is exactly one DER value:
// trailing bytes, which x509 tolerates, are refused so that material has
// one canonical form.
func parsePKCS8(der []byte) (any, error) {
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) != 0 {
		return nil, errors.New("not a single DER value")
	}
	return x509.ParsePKCS8PrivateKey(der)
}

// Encrypter encrypts to an asymmetric key version with its public key
// alone: the server uses it for its own keys, and a client can use it
// offline with the key's public key, producing the same ciphertexts.
type Encrypter struct {
	keyID     [16]byte
	version   uint32
	algorithm Algorithm
	rsa       *rsa.PublicKey
	hpke      hpke.PublicKey
}

// NewEncrypter builds an Encrypter from a public key in the form
// PublicKey.Raw gives: PKCS#1 DER for RSA, the KEM's encoding otherwise.
func NewEncrypter(keyID [16]byte, version uint32, alg Algorithm, raw []byte) (*Encrypter, error) {
	spec, ok := asymSpecs[alg]
	if !ok {
		return nil, fmt.Errorf("%q is not an asymmetric encryption algorithm", alg)
	}
	if version == 0 {
		return nil, errors.New("key version must be at least 1")
	}
	e := &Encrypter{keyID: keyID, version: version, algorithm: alg}
	if spec.kem != nil {
		pk, err := spec.kem().NewPublicKey(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid %s public key", alg)
		}
		e.hpke = pk
		return e, nil
	}
	pk, err := x509.ParsePKCS1PublicKey(raw)
	if err != nil || pk.N.BitLen() != spec.rsaBits {
		return nil, fmt.Errorf("invalid %s public key", alg)
	}
	e.rsa = pk
	return e, nil
}

// Seal encrypts plaintext. The header and the binding are bound to the
// ciphertext: as the OAEP label for RSA, as HPKE associated data otherwise.
func (e *Encrypter) Seal(plaintext []byte, b Binding) (*Ciphertext, error) {
	c := &Ciphertext{KeyID: e.keyID, KeyVersion: e.version, Algorithm: e.algorithm}
	ad := additionalData(c.header(), b)
	if e.rsa != nil {
		if len(plaintext) > e.rsa.Size()-2*sha256.Size-2 {
			return nil, ErrPlaintextTooLong
		}
		out, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, e.rsa, plaintext, ad)
		if err != nil {
			return nil, fmt.Errorf("rsa-oaep encrypt: %w", err)
		}
		c.Sealed = out
		return c, nil
	}
	enc, sender, err := hpke.NewSender(e.hpke, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte(hpkeInfo))
	if err != nil {
		return nil, fmt.Errorf("hpke: %w", err)
	}
	sealed, err := sender.Seal(ad, plaintext)
	if err != nil {
		return nil, fmt.Errorf("hpke seal: %w", err)
	}
	c.Sealed = append(enc, sealed...)
	return c, nil
}

// open decrypts c, whose header the caller has matched to this key.
func (a *asymmetricKey) open(alg Algorithm, c *Ciphertext, b Binding) ([]byte, error) {
	ad := additionalData(c.header(), b)
	if a.rsa != nil {
		return DecryptOAEP(a.rsa, c.Sealed, ad)
	}
	n := asymSpecs[alg].encSize
	if len(c.Sealed) < n+tagSize {
		return nil, ErrDecrypt
	}
	r, err := hpke.NewRecipient(c.Sealed[:n], a.hpke, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte(hpkeInfo))
	if err != nil {
		return nil, ErrDecrypt
	}
	pt, err := r.Open(ad, c.Sealed[n:])
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// DecryptOAEP is RSA-OAEP decryption with SHA-256 and MGF1-SHA-256, the one
// RSA decryption Arca performs (key versions and import wrapping). Every
// failure is ErrDecrypt, so no padding oracle distinguishes them.
func DecryptOAEP(k *rsa.PrivateKey, ct, label []byte) ([]byte, error) {
	if len(ct) != k.Size() {
		return nil, ErrDecrypt
	}
	pt, err := rsa.DecryptOAEP(sha256.New(), nil, k, ct, label)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// public returns the public key forms of an asymmetric key version.
func (a *asymmetricKey) public(alg Algorithm) (*PublicKey, error) {
	if a.rsa != nil {
		return rsaPublic(&a.rsa.PublicKey, "RSA-OAEP-256")
	}
	raw := a.hpke.PublicKey().Bytes()
	pk := &PublicKey{Raw: raw}
	if oid := asymSpecs[alg].oid; oid != nil {
		der, err := MarshalSPKI(oid, raw)
		if err != nil {
			return nil, fmt.Errorf("encode public key: %w", err)
		}
		pk.DER, pk.PEM = der, pemPublicKey(der)
	}
	return pk, nil
}

// rsaPublic encodes an RSA public key: SubjectPublicKeyInfo, PKCS#1 as Raw,
// and a JWK with the given "alg" (omitted when empty).
func rsaPublic(k *rsa.PublicKey, jwkAlg string) (*PublicKey, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	if jwkAlg != "" {
		jwk["alg"] = jwkAlg
	}
	return &PublicKey{DER: der, PEM: pemPublicKey(der), JWK: jwk, Raw: x509.MarshalPKCS1PublicKey(k)}, nil
}

func pemPublicKey(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// OpenRawOAEP decrypts a bare RSAES-OAEP ciphertext (SHA-256, MGF1-SHA-256,
// empty label), as anyone holding an rsa-oaep version's public key makes
// with standard tools, outside Arca's ciphertext format. Nothing binds it
// to a key, a version or a context: the caller names the key, and tries
// its versions. A ciphertext that does not open is ErrDecrypt.
func (k *VersionKey) OpenRawOAEP(ct []byte) ([]byte, error) {
	if k.asym == nil || k.asym.rsa == nil {
		return nil, ErrWrongPurpose
	}
	return DecryptOAEP(k.asym.rsa, ct, nil)
}
