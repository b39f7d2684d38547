package crypto

import (
	"crypto/x509/pkix"
	"encoding/asn1"

	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	circlsign "github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/arcakms/arca/internal/secret"
)

// Signing algorithms (purpose sign).
const (
	ECDSAP256 Algorithm = "ecdsa-p256"
	ECDSAP384 Algorithm = "ecdsa-p384"
	ECDSAP521 Algorithm = "ecdsa-p521"
	Ed25519   Algorithm = "ed25519"
	RSA2048   Algorithm = "rsa-2048"
	RSA3072   Algorithm = "rsa-3072"
	RSA4096   Algorithm = "rsa-4096"
	// ML-DSA (FIPS 204) post-quantum signatures, pure mode (messages, no
	// pre-hash), empty context. Material is the 32-byte FIPS 204 seed.
	MLDSA44 Algorithm = "ml-dsa-44"
	MLDSA65 Algorithm = "ml-dsa-65"
	MLDSA87 Algorithm = "ml-dsa-87"
)

// PurposeSign is the purpose of signing keys.
const PurposeSign Purpose = "sign"

// MessageType says whether a signed message is the message itself or its
// digest under the algorithm's hash.
type MessageType string

// Message types.
const (
	MessageRaw    MessageType = "raw"
	MessageDigest MessageType = "digest"
)

// Padding is the RSA signature scheme.
type Padding string

// RSA signature schemes.
const (
	PaddingPSS      Padding = "pss"
	PaddingPKCS1v15 Padding = "pkcs1v15"
)

// Errors of signing operations, safe to show to callers.
var (
	ErrDigestLength     = errors.New("the digest has the wrong length for the key's hash")
	ErrDigestNotAllowed = errors.New("ed25519 and ML-DSA keys sign messages, not digests")
	ErrBadPadding       = errors.New("padding applies to RSA keys only and must be pss or pkcs1v15")
	ErrBadMessageType   = errors.New("message_type must be raw or digest")
)

// signSpec describes a signing algorithm.
type signSpec struct {
	hash     crypto.Hash // 0 for ed25519 and ML-DSA
	curve    elliptic.Curve
	rsaBits  int
	ed25519  bool
	coordLen int
	// pq is the ML-DSA scheme, with its SubjectPublicKeyInfo OID and JWK name.
	pq    circlsign.Scheme
	pqOID asn1.ObjectIdentifier
	pqJWK string
	// pqSign signs in FIPS 204's hedged (randomised) mode, its default: it
	// resists fault and side-channel attacks that deterministic signing
	// invites.
	pqSign func(sk crypto.Signer, msg []byte) ([]byte, error)
}

// hedged returns the hedged ML-DSA signing function of one parameter set.
func hedged[K any](size int, signTo func(*K, []byte, []byte, bool, []byte) error) func(crypto.Signer, []byte) ([]byte, error) {
	return func(sk crypto.Signer, msg []byte) ([]byte, error) {
		k, ok := any(sk).(*K)
		if !ok {
			return nil, errors.New("not an ML-DSA private key of this parameter set")
		}
		sig := make([]byte, size)
		if err := signTo(k, msg, nil, true, sig); err != nil {
			return nil, err
		}
		return sig, nil
	}
}

var signSpecs = map[Algorithm]signSpec{
	ECDSAP256: {hash: crypto.SHA256, curve: elliptic.P256(), coordLen: 32},
	ECDSAP384: {hash: crypto.SHA384, curve: elliptic.P384(), coordLen: 48},
	ECDSAP521: {hash: crypto.SHA512, curve: elliptic.P521(), coordLen: 66},
	Ed25519:   {ed25519: true},
	RSA2048:   {hash: crypto.SHA256, rsaBits: 2048},
	RSA3072:   {hash: crypto.SHA256, rsaBits: 3072},
	RSA4096:   {hash: crypto.SHA256, rsaBits: 4096},
	MLDSA44: {pq: mldsa44.Scheme(), pqOID: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}, pqJWK: "ML-DSA-44",
		pqSign: hedged(mldsa44.SignatureSize, mldsa44.SignTo)},
	MLDSA65: {pq: mldsa65.Scheme(), pqOID: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}, pqJWK: "ML-DSA-65",
		pqSign: hedged(mldsa65.SignatureSize, mldsa65.SignTo)},
	MLDSA87: {pq: mldsa87.Scheme(), pqOID: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}, pqJWK: "ML-DSA-87",
		pqSign: hedged(mldsa87.SignatureSize, mldsa87.SignTo)},
}

// messageOnly reports whether the algorithm signs whole messages only
// (Ed25519, ML-DSA in pure mode).
func (s signSpec) messageOnly() bool { return s.ed25519 || s.pq != nil }

func init() {
	for a := range signSpecs {
		algorithms[a] = algorithmSpec{purpose: PurposeSign}
	}
}

// generateSigningKey returns a new private key as PKCS#8 DER.
func generateSigningKey(alg Algorithm) (*secret.Bytes, error) {
	spec := signSpecs[alg]
	if spec.pq != nil {
		return secret.Random(spec.pq.SeedSize())
	}
	var priv any
	var err error
	switch {
	case spec.ed25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case spec.curve != nil:
		priv, err = ecdsa.GenerateKey(spec.curve, rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, spec.rsaBits)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode %s key: %w", alg, err)
	}
	return secret.New(der), nil
}

// parseSigningKey parses PKCS#8 material and checks it matches alg.
func parseSigningKey(alg Algorithm, der []byte) (crypto.Signer, error) {
	spec := signSpecs[alg]
	if spec.pq != nil {
		if len(der) != spec.pq.SeedSize() {
			return nil, fmt.Errorf("%s key material must be a %d-byte seed", alg, spec.pq.SeedSize())
		}
		_, sk := spec.pq.DeriveKey(der)
		signer, ok := sk.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s private key is not a signer", alg)
		}
		return signer, nil
	}
	k, err := parsePKCS8(der)
	if err != nil {
		return nil, fmt.Errorf("%s key material is not a PKCS#8 private key", alg)
	}
	switch key := k.(type) {
	case ed25519.PrivateKey:
		if spec.ed25519 {
			return key, nil
		}
	case *ecdsa.PrivateKey:
		if spec.curve != nil && key.Curve == spec.curve {
			return key, nil
		}
	case *rsa.PrivateKey:
		if spec.rsaBits != 0 && key.N.BitLen() == spec.rsaBits {
			return key, nil
		}
	}
	return nil, fmt.Errorf("key material does not match algorithm %s", alg)
}

// hashOf returns the digest to sign for a message of type mt.
func (k *VersionKey) digest(msg []byte, mt MessageType) ([]byte, error) {
	spec := signSpecs[k.algorithm]
	switch mt {
	case MessageRaw, "":
		if spec.messageOnly() {
			return msg, nil
		}
		h := spec.hash.New()
		h.Write(msg)
		return h.Sum(nil), nil
	case MessageDigest:
		if spec.messageOnly() {
			return nil, ErrDigestNotAllowed
		}
		if len(msg) != spec.hash.Size() {
			return nil, ErrDigestLength
		}
		return msg, nil
	}
	return nil, ErrBadMessageType
}

func (k *VersionKey) signerOpts(p Padding) (crypto.SignerOpts, error) {
	spec := signSpecs[k.algorithm]
	switch {
	case spec.messageOnly():
		if p != "" {
			return nil, ErrBadPadding
		}
		return crypto.Hash(0), nil
	case spec.curve != nil:
		if p != "" {
			return nil, ErrBadPadding
		}
		return spec.hash, nil
	case p == PaddingPSS || p == "":
		return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: spec.hash}, nil
	case p == PaddingPKCS1v15:
		return spec.hash, nil
	}
	return nil, ErrBadPadding
}

// Sign signs a message (or its digest) with a signing key version. ECDSA
// signatures are ASN.1 DER; RSA uses PSS (salt length = hash length) unless
// PKCS#1 v1.5 is asked for.
func (k *VersionKey) Sign(msg []byte, mt MessageType, p Padding) ([]byte, error) {
	if k.signer == nil {
		return nil, ErrWrongPurpose
	}
	d, err := k.digest(msg, mt)
	if err != nil {
		return nil, err
	}
	opts, err := k.signerOpts(p)
	if err != nil {
		return nil, err
	}
	if spec := signSpecs[k.algorithm]; spec.pqSign != nil {
		return spec.pqSign(k.signer, d)
	}
	return k.signer.Sign(rand.Reader, d, opts)
}

// Verify checks a signature made by Sign. A wrong signature is (false, nil).
func (k *VersionKey) Verify(msg, sig []byte, mt MessageType, p Padding) (bool, error) {
	if k.signer == nil {
		return false, ErrWrongPurpose
	}
	d, err := k.digest(msg, mt)
	if err != nil {
		return false, err
	}
	if _, err := k.signerOpts(p); err != nil {
		return false, err
	}
	return verifySignature(k.signer.Public(), k.algorithm, d, sig, p), nil
}

// verifySignature checks sig over the digest d (or message for ed25519).
func verifySignature(pub crypto.PublicKey, alg Algorithm, d, sig []byte, p Padding) bool {
	spec := signSpecs[alg]
	switch key := pub.(type) {
	case circlsign.PublicKey:
		return spec.pq != nil && key.Scheme().Name() == spec.pq.Name() && spec.pq.Verify(key, d, sig, nil)
	case ed25519.PublicKey:
		return ed25519.Verify(key, d, sig)
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(key, d, sig)
	case *rsa.PublicKey:
		if p == PaddingPKCS1v15 {
			return rsa.VerifyPKCS1v15(key, spec.hash, d, sig) == nil
		}
		return rsa.VerifyPSS(key, spec.hash, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: spec.hash}) == nil
	}
	return false
}

// PublicKey is a key version's public key in the forms clients use. A
// form without a standard encoding for the algorithm is left empty.
type PublicKey struct {
	DER []byte         // SubjectPublicKeyInfo
	PEM string         // "PUBLIC KEY" PEM of DER
	JWK map[string]any // RFC 7517 JSON Web Key
	// Raw is the algorithm's own encoding, for asymmetric encryption keys:
	// PKCS#1 for RSA, the KEM public key for ML-KEM and X25519+ML-KEM. It
	// is what NewEncrypter takes.
	Raw []byte
}

// Public returns the public key of a signing or asymmetric encryption key
// version.
func (k *VersionKey) Public() (*PublicKey, error) {
	if k.asym != nil {
		return k.asym.public(k.algorithm)
	}
	if k.signer == nil {
		return nil, ErrWrongPurpose
	}
	pub := k.signer.Public()
	b64 := base64.RawURLEncoding.EncodeToString
	if spec := signSpecs[k.algorithm]; spec.pq != nil {
		return pqPublic(spec, pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	if key, ok := pub.(*rsa.PublicKey); ok {
		p, err := rsaPublic(key, "")
		if p != nil {
			p.Raw = nil
		}
		return p, err
	}
	jwk := map[string]any{}
	switch key := pub.(type) {
	case ed25519.PublicKey:
		jwk["kty"], jwk["crv"], jwk["x"] = "OKP", "Ed25519", b64(key)
	case *ecdsa.PublicKey:
		n := signSpecs[k.algorithm].coordLen
		raw, err := key.Bytes() // uncompressed point 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("encode public key: %w", err)
		}
		jwk["kty"], jwk["crv"] = "EC", key.Curve.Params().Name
		jwk["x"], jwk["y"] = b64(raw[1:1+n]), b64(raw[1+n:])
	}
	return &PublicKey{DER: der, PEM: pemPublicKey(der), JWK: jwk}, nil
}

// pqPublic encodes an ML-DSA public key: SubjectPublicKeyInfo with the
// FIPS 204 OID and no parameters (RFC 9881), and the JWK "AKP" form of the
// JOSE ML-DSA draft.
func pqPublic(spec signSpec, pub crypto.PublicKey) (*PublicKey, error) {
	pk, ok := pub.(circlsign.PublicKey)
	if !ok {
		return nil, errors.New("encode public key: not an ML-DSA key")
	}
	raw, err := pk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	der, err := MarshalSPKI(spec.pqOID, raw)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	jwk := map[string]any{"kty": "AKP", "alg": spec.pqJWK, "pub": base64.RawURLEncoding.EncodeToString(raw)}
	return &PublicKey{DER: der, PEM: pemPublicKey(der), JWK: jwk}, nil
}

// MarshalSPKI encodes a SubjectPublicKeyInfo with an algorithm OID without
// parameters, the form of the FIPS 203 and FIPS 204 public keys (RFC 9881,
// RFC 9935), which crypto/x509 does not marshal.
func MarshalSPKI(oid asn1.ObjectIdentifier, raw []byte) ([]byte, error) {
	return asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: oid}, asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)}})
}

// GenerateKeyPair returns a fresh key pair of a signing or asymmetric
// encryption algorithm: the private key as the material Arca stores for such
// keys (PKCS#8 DER, or the seed for ML-DSA and ML-KEM) and the public key. It
// backs data key pairs, whose private key is handed to the caller wrapped
// under a KEK.
func GenerateKeyPair(alg Algorithm) (*secret.Bytes, *PublicKey, error) {
	if p := alg.Purpose(); p != PurposeSign && p != PurposeAsymmetric {
		return nil, nil, fmt.Errorf("key pairs are generated for signing and asymmetric encryption algorithms, not %q", alg)
	}
	priv, err := GenerateMaterial(alg)
	if err != nil {
		return nil, nil, err
	}
	k, err := NewVersionKey([16]byte{}, 1, alg, priv)
	if err != nil {
		priv.Wipe()
		return nil, nil, err
	}
	pub, err := k.Public()
	if err != nil {
		priv.Wipe()
		return nil, nil, err
	}
	return priv, pub, nil
}
