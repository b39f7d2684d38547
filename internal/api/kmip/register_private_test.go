package kmip

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
)

// privateKeyObject is a Register PrivateKey object holding der in format.
func privateKeyObject(format ttlv.KeyFormatType, der []byte, alg ttlv.CryptographicAlgorithm, bits int32) ttlv.Item {
	return ttlv.Struct(ttlv.TagPrivateKey, keyBlockItem(format, ttlv.Bytes(ttlv.TagKeyMaterial, der), alg, bits))
}

// TestRegisterPrivateKeys registers RSA (PKCS#1), ECDSA (SEC 1) and
// Ed25519 (PKCS#8) private keys at every version: the public half Arca
// reports is the registered key's, the key signs once active, an ECDSA
// signature verifies with Go's verifier and the registered public key,
// and Get returns the same key as PKCS#8. Contradictory or unusable
// registrations are refused and create nothing.
func TestRegisterPrivateKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-registrar", nil, allKeyActions)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	signMask := intAttr("Cryptographic Usage Mask", int32(ttlv.CryptographicUsageMaskSign|ttlv.CryptographicUsageMaskVerify))
	for _, v := range testedVersions {
		t.Run(v.String(), func(t *testing.T) {
			c := e.dial(cert, v)
			c.t = t
			for _, tc := range []struct {
				name   string
				key    interface{ Public() crypto.PublicKey }
				format ttlv.KeyFormatType
				der    []byte
				alg    ttlv.CryptographicAlgorithm
				bits   int32
			}{
				{"rsa", rsaKey, ttlv.KeyFormatTypePKCS1, x509.MarshalPKCS1PrivateKey(rsaKey), ttlv.CryptographicAlgorithmRSA, 2048},
				{"ec", ecKey, ttlv.KeyFormatTypeECPrivateKey, ecDER, ttlv.CryptographicAlgorithmECDSA, 256},
				{"ed", edKey, ttlv.KeyFormatTypePKCS8, edDER, 0, 0},
			} {
				name := "registered-" + tc.name + "-" + v.String()
				p := c.ok(ttlv.OperationRegister, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypePrivateKey),
					c.attrs(nameAttr(name), signMask), privateKeyObject(tc.format, tc.der, tc.alg, tc.bits))
				id := text(t, p, ttlv.TagUniqueIdentifier)

				wantPub, err := x509.MarshalPKIXPublicKey(tc.key.Public())
				if err != nil {
					t.Fatal(err)
				}
				g := c.ok(ttlv.OperationGet, uid(id+PublicSuffix), ttlv.Enum(ttlv.TagKeyFormatType, ttlv.KeyFormatTypeX509))
				if got := byteString(t, g, ttlv.TagPublicKey, ttlv.TagKeyBlock, ttlv.TagKeyValue, ttlv.TagKeyMaterial); !bytes.Equal(got, wantPub) {
					t.Errorf("%s: the public key is not the registered key's", tc.name)
				}

				c.fail(wrongState(v), ttlv.OperationSign, uid(id), ttlv.Bytes(ttlv.TagData, []byte("m")))
				c.ok(ttlv.OperationActivate, uid(id))
				msg := []byte("signed by a registered " + tc.name + " key")
				sig := byteString(t, c.ok(ttlv.OperationSign, uid(id), ttlv.Bytes(ttlv.TagData, msg)), ttlv.TagSignatureData)
				vr := c.ok(ttlv.OperationSignatureVerify, uid(id+PublicSuffix), ttlv.Bytes(ttlv.TagData, msg), ttlv.Bytes(ttlv.TagSignatureData, sig))
				if ttlv.ValidityIndicator(enum(t, vr, ttlv.TagValidityIndicator)) != ttlv.ValidityIndicatorValid {
					t.Errorf("%s: signature invalid", tc.name)
				}
				switch k := tc.key.(type) {
				case *ecdsa.PrivateKey:
					h := sha256.Sum256(msg)
					if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
						t.Errorf("the ECDSA signature does not verify with the registered public key")
					}
				case ed25519.PrivateKey:
					if !ed25519.Verify(k.Public().(ed25519.PublicKey), msg, sig) {
						t.Errorf("the Ed25519 signature does not verify with the registered public key")
					}
				}

				// Registered keys came from outside: they may leave again, as PKCS#8.
				want, err := x509.MarshalPKCS8PrivateKey(tc.key)
				if err != nil {
					t.Fatal(err)
				}
				g = c.ok(ttlv.OperationGet, uid(id))
				if got := byteString(t, g, ttlv.TagPrivateKey, ttlv.TagKeyBlock, ttlv.TagKeyValue, ttlv.TagKeyMaterial); !bytes.Equal(got, want) {
					t.Errorf("%s: Get returned another private key", tc.name)
				}
			}

			refused := []struct {
				name   string
				reason ttlv.ResultReason
				attrs  []outAttr
				obj    ttlv.Item
			}{
				{"encrypt-mask", incompatibleMask(v), []outAttr{intAttr("Cryptographic Usage Mask", int32(ttlv.CryptographicUsageMaskDecrypt))},
					privateKeyObject(ttlv.KeyFormatTypePKCS8, edDER, 0, 0)},
				{"wrong-algorithm", ttlv.ResultReasonInvalidField, nil,
					privateKeyObject(ttlv.KeyFormatTypeECPrivateKey, ecDER, ttlv.CryptographicAlgorithmRSA, 0)},
				{"wrong-length", ttlv.ResultReasonInvalidField, []outAttr{intAttr("Cryptographic Length", 384)},
					privateKeyObject(ttlv.KeyFormatTypeECPrivateKey, ecDER, 0, 0)},
				{"wrong-format", ttlv.ResultReasonInvalidField, nil,
					privateKeyObject(ttlv.KeyFormatTypePKCS1, ecDER, 0, 0)},
				{"garbage", ttlv.ResultReasonInvalidField, nil,
					privateKeyObject(ttlv.KeyFormatTypePKCS8, []byte{0x30, 0x03, 0x02, 0x01, 0x00}, 0, 0)},
				{"transparent", ttlv.ResultReasonKeyFormatTypeNotSupported, nil,
					privateKeyObject(ttlv.KeyFormatTypeTransparentRSAPrivateKey, []byte{1}, 0, 0)},
				{"no-object", ttlv.ResultReasonMissingData, nil, ttlv.Text(ttlv.TagNameValue, "x")},
			}
			for _, r := range refused {
				name := "refused-" + r.name + "-" + v.String()
				c.fail(r.reason, ttlv.OperationRegister, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypePrivateKey),
					c.attrs(append(r.attrs, nameAttr(name))...), r.obj)
				if us := uids(c.ok(ttlv.OperationLocate, c.locateAttrs(nameAttr(name))...)); len(us) != 0 {
					t.Errorf("%s: a refused Register created %v", r.name, us)
				}
			}
		})
	}
}
