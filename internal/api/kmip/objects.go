package kmip

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
)

// PublicSuffix turns a key pair's id into the Unique Identifier of its
// public key: Arca holds a key pair as one key, whose id is the private
// key's Unique Identifier and whose id followed by PublicSuffix is the
// public key's.
const PublicSuffix = ":public"

// objectRef names a KMIP object: an Arca key, or the public half of a
// signing key.
type objectRef struct {
	keyID  string
	public bool
}

func (r objectRef) uid() string {
	if r.public {
		return r.keyID + PublicSuffix
	}
	return r.keyID
}

// parseUID reads a Unique Identifier. Only identifiers this server hands
// out are accepted; anything else is an unknown object.
func parseUID(s string) (objectRef, error) {
	id, public := strings.CutSuffix(s, PublicSuffix)
	if len(id) != 36 {
		return objectRef{}, itemNotFound("no object has Unique Identifier %q", truncate(s, 80))
	}
	if _, err := uuid.Parse(id); err != nil {
		return objectRef{}, itemNotFound("no object has Unique Identifier %q", truncate(s, 80))
	}
	return objectRef{keyID: id, public: public}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// kmipAlgorithm maps an Arca algorithm to the KMIP Cryptographic
// Algorithm and Cryptographic Length (in bits) reported for it; ok is
// false for algorithms KMIP has no enumeration for (ML-DSA, ML-KEM).
func kmipAlgorithm(a crypto.Algorithm) (ttlv.CryptographicAlgorithm, int32, bool) {
	switch a {
	case crypto.AES256GCM:
		return ttlv.CryptographicAlgorithmAES, 256, true
	case crypto.AES256SIV:
		return ttlv.CryptographicAlgorithmAES, 512, true
	case crypto.ChaCha20Poly1305, crypto.XChaCha20Poly1305:
		return ttlv.CryptographicAlgorithmChaCha20Poly1305, 256, true
	case crypto.HMACSHA256:
		return ttlv.CryptographicAlgorithmHMACSHA256, 256, true
	case crypto.HMACSHA384:
		return ttlv.CryptographicAlgorithmHMACSHA384, 384, true
	case crypto.HMACSHA512:
		return ttlv.CryptographicAlgorithmHMACSHA512, 512, true
	case crypto.ECDSAP256:
		return ttlv.CryptographicAlgorithmECDSA, 256, true
	case crypto.ECDSAP384:
		return ttlv.CryptographicAlgorithmECDSA, 384, true
	case crypto.ECDSAP521:
		return ttlv.CryptographicAlgorithmECDSA, 521, true
	case crypto.Ed25519:
		return ttlv.CryptographicAlgorithmEd25519, 256, true
	case crypto.RSA2048, crypto.RSAOAEP2048:
		return ttlv.CryptographicAlgorithmRSA, 2048, true
	case crypto.RSA3072, crypto.RSAOAEP3072:
		return ttlv.CryptographicAlgorithmRSA, 3072, true
	case crypto.RSA4096, crypto.RSAOAEP4096:
		return ttlv.CryptographicAlgorithmRSA, 4096, true
	}
	return 0, 0, false
}

// objectTypeOf is the KMIP Object Type of an Arca key (or of its public
// half).
func objectTypeOf(a crypto.Algorithm, public bool) ttlv.ObjectType {
	switch a.Purpose() {
	case crypto.PurposeEncrypt, crypto.PurposeMAC:
		return ttlv.ObjectTypeSymmetricKey
	}
	if public {
		return ttlv.ObjectTypePublicKey
	}
	return ttlv.ObjectTypePrivateKey
}

// symmetricAlgorithm chooses the Arca algorithm for a KMIP symmetric key
// of algorithm alg and bits bits (0: the algorithm's only size).
func symmetricAlgorithm(alg ttlv.CryptographicAlgorithm, bits int32) (crypto.Algorithm, error) {
	want := func(a crypto.Algorithm, size int32) (crypto.Algorithm, error) {
		if bits != 0 && bits != size {
			return "", invalidField("Arca has no %d-bit %s keys: Cryptographic Length must be %d", bits, alg, size)
		}
		return a, nil
	}
	switch alg {
	case ttlv.CryptographicAlgorithmAES:
		if bits == 128 || bits == 192 {
			return "", invalidField("Arca has no %d-bit AES keys: create AES keys with Cryptographic Length 256 (AES-256-GCM)", bits)
		}
		return want(crypto.AES256GCM, 256)
	case ttlv.CryptographicAlgorithmChaCha20Poly1305, ttlv.CryptographicAlgorithmChaCha20:
		return want(crypto.ChaCha20Poly1305, 256)
	case ttlv.CryptographicAlgorithmHMACSHA256:
		return want(crypto.HMACSHA256, 256)
	case ttlv.CryptographicAlgorithmHMACSHA384:
		return want(crypto.HMACSHA384, 384)
	case ttlv.CryptographicAlgorithmHMACSHA512:
		return want(crypto.HMACSHA512, 512)
	}
	return "", invalidField("symmetric keys of Cryptographic Algorithm %s are not supported: use AES (256), ChaCha20Poly1305 or HMAC-SHA256/384/512", alg)
}

// Recommended Curve values for the curves Arca signs with.
const (
	curveP256 uint32 = 0x07
	curveP384 uint32 = 0x0A
	curveP521 uint32 = 0x0D
)

// pairAlgorithm chooses the Arca signing algorithm for a KMIP key pair.
func pairAlgorithm(alg ttlv.CryptographicAlgorithm, bits int32, curve uint32) (crypto.Algorithm, error) {
	switch alg {
	case ttlv.CryptographicAlgorithmRSA:
		switch bits {
		case 2048:
			return crypto.RSA2048, nil
		case 3072:
			return crypto.RSA3072, nil
		case 4096:
			return crypto.RSA4096, nil
		}
		return "", invalidField("RSA key pairs must have Cryptographic Length 2048, 3072 or 4096, not %d", bits)
	case ttlv.CryptographicAlgorithmECDSA, ttlv.CryptographicAlgorithmEC:
		switch {
		case curve == curveP256 || (curve == 0 && bits == 256):
			return crypto.ECDSAP256, nil
		case curve == curveP384 || (curve == 0 && bits == 384):
			return crypto.ECDSAP384, nil
		case curve == curveP521 || (curve == 0 && bits == 521):
			return crypto.ECDSAP521, nil
		}
		return "", invalidField("EC key pairs must be on P-256, P-384 or P-521 (Recommended Curve or Cryptographic Length 256, 384 or 521)")
	case ttlv.CryptographicAlgorithmEd25519:
		return crypto.Ed25519, nil
	}
	return "", invalidField("key pairs of Cryptographic Algorithm %s are not supported: use RSA, ECDSA (P-256/P-384/P-521) or Ed25519", alg)
}

// keySpec is what Create, Register and CreateKeyPair ask of a new key.
type keySpec struct {
	alg         ttlv.CryptographicAlgorithm
	bits        int32
	mask        ttlv.CryptographicUsageMask
	hasMask     bool
	name        string
	group       string
	description string
	owner       string
	activateAt  time.Time
	extractable *bool
	curve       uint32
}

// parseKeySpec reads the attributes a client may set on a new key. Any
// other attribute is refused rather than silently dropped.
func parseKeySpec(attrs []attr) (keySpec, error) {
	var ks keySpec
	for _, a := range attrs {
		v := a.value
		var ok bool
		switch a.name {
		case "Cryptographic Algorithm":
			var e uint32
			e, ok = v.Enum()
			ks.alg = ttlv.CryptographicAlgorithm(e)
		case "Cryptographic Length":
			ks.bits, ok = v.Int()
			ok = ok && ks.bits > 0
		case "Cryptographic Usage Mask":
			var m int32
			m, ok = v.Int()
			ks.mask, ks.hasMask = ttlv.CryptographicUsageMask(uint32(m)), true
		case "Name":
			if ks.name != "" {
				return ks, invalidField("an Arca key has exactly one Name")
			}
			ks.name, ok = nameValue(v)
		case "Object Group":
			ks.group, ok = v.Text()
		case "Description":
			ks.description, ok = v.Text()
		case "Contact Information":
			ks.owner, ok = v.Text()
		case "Activation Date":
			ks.activateAt, ok = v.Time()
		case "Extractable":
			var b bool
			b, ok = v.Bool()
			ks.extractable = &b
		case "Cryptographic Domain Parameters":
			if c, found := v.Find(ttlv.TagRecommendedCurve); found {
				ks.curve, ok = c.Enum()
			} else {
				ok = true
			}
		case "Operation Policy Name", "Cryptographic Parameters":
			// Arca's access policies, not KMIP operation policies, decide
			// who may do what; cryptographic parameters are given with
			// each operation.
			ok = true
		default:
			return ks, invalidField("attribute %q cannot be set on a new Arca key", truncate(a.name, 64))
		}
		if !ok {
			return ks, invalidField("attribute %q has a value of the wrong type", a.name)
		}
	}
	return ks, nil
}

// requestKeySpec reads the key spec of a request's attributes.
func requestKeySpec(p ttlv.Item) (keySpec, error) {
	attrs, err := requestAttrs(p)
	if err != nil {
		return keySpec{}, err
	}
	return parseKeySpec(attrs)
}

// keyName is the Arca name of a new key: its KMIP Name, or a generated
// one (Arca keys always have a unique name).
func (ks keySpec) keyName() string {
	if ks.name != "" {
		return ks.name
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "kmip-" + hex.EncodeToString(b[:])
}

func (ks keySpec) labels() map[string]string {
	if ks.group == "" {
		return nil
	}
	return map[string]string{GroupLabel: ks.group}
}

// checkMask refuses a usage mask the key's algorithm cannot honour.
func (ks keySpec) checkMask(a crypto.Algorithm, v version) error {
	if !ks.hasMask {
		return nil
	}
	if extra := ks.mask &^ allowedMask(a.Purpose()); extra != 0 {
		return withReason(incompatibleMask(v), kms.CodeInvalidArgument, "%s keys cannot be used for %s", a, extra)
	}
	return nil
}
