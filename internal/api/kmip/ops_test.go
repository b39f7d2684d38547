package kmip

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
)

var testedVersions = []version{{1, 2}, {1, 3}, {1, 4}, {2, 0}}

// wrongState is the Result Reason of a lifecycle refusal in version v.
func wrongState(v version) ttlv.ResultReason {
	if v.atLeast(2, 0) {
		return ttlv.ResultReasonWrongKeyLifecycleState
	}
	return ttlv.ResultReasonIllegalOperation
}

func gcmParams() ttlv.Item {
	return ttlv.Struct(ttlv.TagCryptographicParameters,
		ttlv.Enum(ttlv.TagBlockCipherMode, ttlv.BlockCipherModeGCM),
		ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmAES))
}

// attrMap reads a GetAttributes response into name → value, in either
// version's form.
func attrMap(t testing.TB, v version, p ttlv.Item) map[string]ttlv.Item {
	t.Helper()
	m := map[string]ttlv.Item{}
	if v.atLeast(2, 0) {
		as, ok := p.Find(ttlv.TagAttributes)
		if !ok {
			t.Fatalf("no Attributes in\n%s", p)
		}
		for _, a := range as.Items() {
			m[tagNames[a.Tag()]] = a
		}
		return m
	}
	for _, a := range p.FindAll(ttlv.TagAttribute) {
		n, _ := a.Find(ttlv.TagAttributeName)
		s, _ := n.Text()
		m[s], _ = a.Find(ttlv.TagAttributeValue)
	}
	return m
}

func TestSymmetricKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-app", nil, allKeyActions)
	for _, v := range testedVersions {
		t.Run(v.String(), func(t *testing.T) {
			c := e.dial(cert, v)
			c.t = t
			name := "app-key-" + v.String()
			id := c.createAES(name, textAttr("Object Group", "grp-"+v.String()))

			// KMIP Create gives a Pre-Active key: no encryption yet.
			c.fail(wrongState(v), ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, []byte("too early")))
			got := attrMap(t, v, c.ok(ttlv.OperationGetAttributes, uid(id)))
			if s, _ := got["State"].Enum(); ttlv.State(s) != ttlv.StatePreActive {
				t.Fatalf("state after Create = %v", ttlv.State(s))
			}
			c.ok(ttlv.OperationActivate, uid(id))

			got = attrMap(t, v, c.ok(ttlv.OperationGetAttributes, uid(id)))
			if s, _ := got["State"].Enum(); ttlv.State(s) != ttlv.StateActive {
				t.Errorf("state = %v", ttlv.State(s))
			}
			if a, _ := got["Cryptographic Algorithm"].Enum(); ttlv.CryptographicAlgorithm(a) != ttlv.CryptographicAlgorithmAES {
				t.Errorf("algorithm = %v", a)
			}
			if n, _ := got["Cryptographic Length"].Int(); n != 256 {
				t.Errorf("length = %d", n)
			}
			if n, _ := nameValue(got["Name"]); n != name {
				t.Errorf("name = %q", n)
			}
			if g, _ := got["Object Group"].Text(); g != "grp-"+v.String() {
				t.Errorf("object group = %q", g)
			}
			if u, _ := got["Unique Identifier"].Text(); u != id {
				t.Errorf("unique identifier = %q", u)
			}
			// Asking for one attribute returns just that one.
			var ask ttlv.Item
			if v.atLeast(2, 0) {
				ask = ttlv.Enum(ttlv.TagAttributeReference, uint32(ttlv.TagState))
			} else {
				ask = ttlv.Text(ttlv.TagAttributeName, "State")
			}
			if got := attrMap(t, v, c.ok(ttlv.OperationGetAttributes, uid(id), ask)); len(got) != 1 || got["State"].Type() == 0 {
				t.Errorf("GetAttributes(State) = %v", got)
			}
			list := c.ok(ttlv.OperationGetAttributeList, uid(id))
			if n := len(list.Items()); n < 8 {
				t.Errorf("GetAttributeList lists %d attributes:\n%s", n, list)
			}

			// Locate by name, by group, by type with paging.
			loc := c.ok(ttlv.OperationLocate, c.locateAttrs(nameAttr(name))...)
			if u := text(t, loc, ttlv.TagUniqueIdentifier); u != id {
				t.Errorf("Locate(name) = %s", u)
			}
			loc = c.ok(ttlv.OperationLocate, c.locateAttrs(textAttr("Object Group", "grp-"+v.String()))...)
			if us := uids(loc); !slices.Equal(us, []string{id}) {
				t.Errorf("Locate(group) = %v", us)
			}
			if us := uids(c.ok(ttlv.OperationLocate, c.locateAttrs(nameAttr("no-such-key"))...)); len(us) != 0 {
				t.Errorf("Locate(unknown name) = %v", us)
			}
			page := append(c.locateAttrs(enumAttr("Object Type", ttlv.ObjectTypeSymmetricKey),
				enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES)), ttlv.Int(ttlv.TagMaximumItems, 1))
			if us := uids(c.ok(ttlv.OperationLocate, page...)); len(us) != 1 {
				t.Errorf("Locate(max 1) = %v", us)
			}

			// Get returns the 32 key bytes in Raw format.
			g := c.ok(ttlv.OperationGet, uid(id))
			key := byteString(t, g, ttlv.TagSymmetricKey, ttlv.TagKeyBlock, ttlv.TagKeyValue, ttlv.TagKeyMaterial)
			if len(key) != 32 || ttlv.KeyFormatType(enum(t, g, ttlv.TagSymmetricKey, ttlv.TagKeyBlock, ttlv.TagKeyFormatType)) != ttlv.KeyFormatTypeRaw {
				t.Errorf("Get: %d-byte key", len(key))
			}

			// Encrypt and decrypt, with GCM parameters and, from 1.4, AAD.
			plain := []byte("attack at dawn " + v.String())
			encArgs := []ttlv.Item{uid(id), gcmParams(), ttlv.Bytes(ttlv.TagData, plain)}
			var aad []ttlv.Item
			if v.atLeast(1, 4) {
				aad = []ttlv.Item{ttlv.Bytes(ttlv.TagAuthenticatedEncryptionAdditionalData, []byte("header"))}
			}
			enc := c.ok(ttlv.OperationEncrypt, append(encArgs, aad...)...)
			ct := byteString(t, enc, ttlv.TagData)
			iv := byteString(t, enc, ttlv.TagIVCounterNonce)
			dec := c.ok(ttlv.OperationDecrypt, append([]ttlv.Item{uid(id), gcmParams(), ttlv.Bytes(ttlv.TagData, ct), ttlv.Bytes(ttlv.TagIVCounterNonce, iv)}, aad...)...)
			if pt := byteString(t, dec, ttlv.TagData); !bytes.Equal(pt, plain) {
				t.Errorf("Decrypt = %q", pt)
			}
			if v.atLeast(1, 4) {
				c.fail(ttlv.ResultReasonCryptographicFailure, ttlv.OperationDecrypt, uid(id), ttlv.Bytes(ttlv.TagData, ct),
					ttlv.Bytes(ttlv.TagAuthenticatedEncryptionAdditionalData, []byte("other")))
				tag := ct[len(ct)-16:]
				c.ok(ttlv.OperationDecrypt, append([]ttlv.Item{uid(id), ttlv.Bytes(ttlv.TagData, ct), ttlv.Bytes(ttlv.TagAuthenticatedEncryptionTag, tag)}, aad...)...)
			} else {
				c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, plain),
					ttlv.Bytes(ttlv.TagAuthenticatedEncryptionAdditionalData, []byte("header")))
			}
			c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationDecrypt, uid(id), ttlv.Bytes(ttlv.TagData, ct), ttlv.Bytes(ttlv.TagIVCounterNonce, make([]byte, 12)))
			c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationDecrypt, uid(id), ttlv.Bytes(ttlv.TagData, []byte("not a ciphertext")))
			c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, plain), ttlv.Bytes(ttlv.TagIVCounterNonce, make([]byte, 12)))
			c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, plain),
				ttlv.Struct(ttlv.TagCryptographicParameters, ttlv.Enum(ttlv.TagBlockCipherMode, ttlv.BlockCipherModeCBC)))

			// ReKey keeps the identifier; old ciphertexts still decrypt.
			rk := c.ok(ttlv.OperationReKey, uid(id))
			if u := text(t, rk, ttlv.TagUniqueIdentifier); u != id {
				t.Errorf("ReKey returned %s, want the same %s", u, id)
			}
			enc2 := c.ok(ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, plain))
			if bytes.Equal(byteString(t, enc2, ttlv.TagData)[:22], ct[:22]) {
				t.Error("ciphertext header unchanged after ReKey")
			}
			c.ok(ttlv.OperationDecrypt, append([]ttlv.Item{uid(id), ttlv.Bytes(ttlv.TagData, ct)}, aad...)...)

			// Check: usable for encryption while active.
			c.ok(ttlv.OperationCheck, uid(id), ttlv.Int(ttlv.TagCryptographicUsageMask, int32(ttlv.CryptographicUsageMaskEncrypt)))
			c.fail(map[bool]ttlv.ResultReason{true: ttlv.ResultReasonIncompatibleCryptographicUsageMask, false: ttlv.ResultReasonInvalidField}[v.atLeast(2, 0)],
				ttlv.OperationCheck, uid(id), ttlv.Int(ttlv.TagCryptographicUsageMask, int32(ttlv.CryptographicUsageMaskSign)))

			// Destroy is refused while active; Revoke first.
			c.fail(wrongState(v), ttlv.OperationDestroy, uid(id))
			c.ok(ttlv.OperationRevoke, uid(id), ttlv.Struct(ttlv.TagRevocationReason,
				ttlv.Enum(ttlv.TagRevocationReasonCode, ttlv.RevocationReasonCodeCessationOfOperation)))
			c.fail(wrongState(v), ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, plain))
			c.fail(wrongState(v), ttlv.OperationCheck, uid(id), ttlv.Int(ttlv.TagCryptographicUsageMask, int32(ttlv.CryptographicUsageMaskEncrypt)))
			c.ok(ttlv.OperationDecrypt, append([]ttlv.Item{uid(id), ttlv.Bytes(ttlv.TagData, ct)}, aad...)...)
			c.ok(ttlv.OperationDestroy, uid(id))
			got = attrMap(t, v, c.ok(ttlv.OperationGetAttributes, uid(id)))
			if s, _ := got["State"].Enum(); ttlv.State(s) != ttlv.StateDeactivated {
				t.Errorf("state after Destroy = %v (destruction scheduled)", ttlv.State(s))
			}
			if d, ok := got["Destroy Date"].Time(); !ok || d.Before(time.Now()) {
				t.Errorf("Destroy Date = %v, want the scheduled destruction", d)
			}
			c.fail(wrongState(v), ttlv.OperationDestroy, uid(id))

			// Unknown objects.
			c.fail(ttlv.ResultReasonItemNotFound, ttlv.OperationGet, uid("5e0a8f3c-1111-4222-8333-944455556666"))
			c.fail(ttlv.ResultReasonItemNotFound, ttlv.OperationGetAttributes, uid("not-a-uid"))
			c.fail(ttlv.ResultReasonItemNotFound, ttlv.OperationEncrypt, uid("5e0a8f3c-1111-4222-8333-944455556666"), ttlv.Bytes(ttlv.TagData, plain))
			c.fail(ttlv.ResultReasonMissingData, ttlv.OperationActivate)
			c.fail(ttlv.ResultReasonMissingData, ttlv.OperationDeriveKey, uid(id))

			// AES-128 is refused with a reason.
			r := c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationCreate, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
				c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), intAttr("Cryptographic Length", 128)))
			if !bytes.Contains([]byte(r.message), []byte("128-bit")) {
				t.Errorf("AES-128 refusal says %q", r.message)
			}
			// Names are unique.
			c.fail(ttlv.ResultReasonObjectAlreadyExists, ttlv.OperationCreate, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
				c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), nameAttr(name)))
			// A key without a Name gets one.
			anon := c.createAES("")
			if n, _ := nameValue(attrMap(t, v, c.ok(ttlv.OperationGetAttributes, uid(anon)))["Name"]); len(n) != 21 || n[:5] != "kmip-" {
				t.Errorf("generated name %q", n)
			}
		})
	}
}

// locateAttrs puts attributes in a Locate payload: bare Attribute items
// in 1.x, an Attributes structure in 2.0.
func (c *client) locateAttrs(as ...outAttr) []ttlv.Item {
	if c.v.atLeast(2, 0) {
		return []ttlv.Item{c.attrs(as...)}
	}
	var out []ttlv.Item
	for _, a := range as {
		out = append(out, a.encode(c.v))
	}
	return out
}

func uids(p ttlv.Item) []string {
	var out []string
	for _, it := range p.FindAll(ttlv.TagUniqueIdentifier) {
		s, _ := it.Text()
		out = append(out, s)
	}
	return out
}

func TestRegisterAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-app", nil, allKeyActions)
	for _, v := range testedVersions {
		t.Run(v.String(), func(t *testing.T) {
			c := e.dial(cert, v)
			c.t = t
			material := bytes.Repeat([]byte{0x42}, 32)
			obj := ttlv.Struct(ttlv.TagSymmetricKey, ttlv.Struct(ttlv.TagKeyBlock,
				ttlv.Enum(ttlv.TagKeyFormatType, ttlv.KeyFormatTypeRaw),
				ttlv.Struct(ttlv.TagKeyValue, ttlv.Bytes(ttlv.TagKeyMaterial, material)),
				ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmAES),
				ttlv.Int(ttlv.TagCryptographicLength, 256)))
			p := c.ok(ttlv.OperationRegister, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
				c.attrs(nameAttr("registered-"+v.String()), intAttr("Cryptographic Usage Mask",
					int32(ttlv.CryptographicUsageMaskEncrypt|ttlv.CryptographicUsageMaskDecrypt))), obj)
			id := text(t, p, ttlv.TagUniqueIdentifier)
			// The service treats export as a use of the key, which a
			// pre-active key refuses (KMIP itself would allow it).
			c.fail(wrongState(v), ttlv.OperationGet, uid(id))
			c.ok(ttlv.OperationActivate, uid(id))
			g := c.ok(ttlv.OperationGet, uid(id))
			if got := byteString(t, g, ttlv.TagSymmetricKey, ttlv.TagKeyBlock, ttlv.TagKeyValue, ttlv.TagKeyMaterial); !bytes.Equal(got, material) {
				t.Errorf("Get returned other material")
			}
			g = c.ok(ttlv.OperationGet, uid(id), ttlv.Enum(ttlv.TagKeyFormatType, ttlv.KeyFormatTypeTransparentSymmetricKey))
			if got := byteString(t, g, ttlv.TagSymmetricKey, ttlv.TagKeyBlock, ttlv.TagKeyValue, ttlv.TagKeyMaterial, ttlv.TagKey); !bytes.Equal(got, material) {
				t.Errorf("Get(transparent) returned other material")
			}
			c.fail(ttlv.ResultReasonKeyFormatTypeNotSupported, ttlv.OperationGet, uid(id), ttlv.Enum(ttlv.TagKeyFormatType, ttlv.KeyFormatTypePKCS1))
			enc := c.ok(ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, []byte("x")))
			c.ok(ttlv.OperationDecrypt, uid(id), ttlv.Bytes(ttlv.TagData, byteString(t, enc, ttlv.TagData)))

			// A 16-byte AES key has no Arca algorithm; wrong lengths are refused.
			short := ttlv.Struct(ttlv.TagSymmetricKey, ttlv.Struct(ttlv.TagKeyBlock,
				ttlv.Enum(ttlv.TagKeyFormatType, ttlv.KeyFormatTypeRaw),
				ttlv.Struct(ttlv.TagKeyValue, ttlv.Bytes(ttlv.TagKeyMaterial, material[:16])),
				ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmAES),
				ttlv.Int(ttlv.TagCryptographicLength, 128)))
			c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationRegister, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey), short)
			c.fail(ttlv.ResultReasonFeatureNotSupported, ttlv.OperationRegister, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSecretData))

			// Extractable false: the key never leaves Arca.
			if v.atLeast(2, 0) {
				sealed := c.createAES("sealed-"+v.String(), boolAttr("Extractable", false))
				c.ok(ttlv.OperationActivate, uid(sealed))
				c.fail(ttlv.ResultReasonNotExtractable, ttlv.OperationGet, uid(sealed))
			}
		})
	}
}

func TestKeyPairsSignAndMAC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-signer", nil, allKeyActions)
	for _, v := range []version{{1, 2}, {1, 4}, {2, 0}} {
		t.Run(v.String(), func(t *testing.T) {
			c := e.dial(cert, v)
			c.t = t
			for _, tc := range []struct {
				name  string
				alg   ttlv.CryptographicAlgorithm
				bits  int32
				param ttlv.Item
			}{
				{"rsa", ttlv.CryptographicAlgorithmRSA, 2048, ttlv.Struct(ttlv.TagCryptographicParameters,
					ttlv.Enum(ttlv.TagDigitalSignatureAlgorithm, ttlv.DigitalSignatureAlgorithmSHA256WithRSAEncryption))},
				{"ec", ttlv.CryptographicAlgorithmECDSA, 256, ttlv.Struct(ttlv.TagCryptographicParameters,
					ttlv.Enum(ttlv.TagHashingAlgorithm, ttlv.HashingAlgorithmSHA256))},
			} {
				var common, priv ttlv.Item
				as := []outAttr{enumAttr("Cryptographic Algorithm", tc.alg), intAttr("Cryptographic Length", tc.bits)}
				if v.atLeast(2, 0) {
					common = ttlv.Struct(ttlv.TagCommonAttributes, as[0].encode(v), as[1].encode(v))
					priv = ttlv.Struct(ttlv.TagPrivateKeyAttributes, nameAttr(tc.name+"-"+v.String()).encode(v))
				} else {
					common = ttlv.Struct(ttlv.TagCommonTemplateAttribute, as[0].encode(v), as[1].encode(v))
					priv = ttlv.Struct(ttlv.TagPrivateKeyTemplateAttribute, nameAttr(tc.name+"-"+v.String()).encode(v))
				}
				p := c.ok(ttlv.OperationCreateKeyPair, common, priv)
				privID := text(t, p, ttlv.TagPrivateKeyUniqueIdentifier)
				pubID := text(t, p, ttlv.TagPublicKeyUniqueIdentifier)
				if pubID != privID+PublicSuffix {
					t.Fatalf("public key id %s for private %s", pubID, privID)
				}
				c.fail(wrongState(v), ttlv.OperationSign, uid(privID), ttlv.Bytes(ttlv.TagData, []byte("m")))
				c.ok(ttlv.OperationActivate, uid(privID))
				msg := []byte("message to sign " + tc.name)
				sig := byteString(t, c.ok(ttlv.OperationSign, uid(privID), tc.param, ttlv.Bytes(ttlv.TagData, msg)), ttlv.TagSignatureData)
				vr := c.ok(ttlv.OperationSignatureVerify, uid(pubID), tc.param, ttlv.Bytes(ttlv.TagData, msg), ttlv.Bytes(ttlv.TagSignatureData, sig))
				if ttlv.ValidityIndicator(enum(t, vr, ttlv.TagValidityIndicator)) != ttlv.ValidityIndicatorValid {
					t.Errorf("%s: signature invalid", tc.name)
				}
				vr = c.ok(ttlv.OperationSignatureVerify, uid(pubID), tc.param, ttlv.Bytes(ttlv.TagData, []byte("other")), ttlv.Bytes(ttlv.TagSignatureData, sig))
				if ttlv.ValidityIndicator(enum(t, vr, ttlv.TagValidityIndicator)) != ttlv.ValidityIndicatorInvalid {
					t.Errorf("%s: tampered message verifies", tc.name)
				}
				// The public key, checked with Go's crypto.
				g := c.ok(ttlv.OperationGet, uid(pubID))
				if ttlv.ObjectType(enum(t, g, ttlv.TagObjectType)) != ttlv.ObjectTypePublicKey {
					t.Errorf("Get(public) object type")
				}
				der := byteString(t, g, ttlv.TagPublicKey, ttlv.TagKeyBlock, ttlv.TagKeyValue, ttlv.TagKeyMaterial)
				h := sha256.Sum256(msg)
				switch tc.alg {
				case ttlv.CryptographicAlgorithmRSA:
					pub, err := x509.ParsePKCS1PublicKey(der)
					if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
						t.Errorf("RSA signature does not verify with the PKCS#1 public key: %v", err)
					}
				default:
					pk, err := x509.ParsePKIXPublicKey(der)
					pub, ok := pk.(*ecdsa.PublicKey)
					if err != nil || !ok || !ecdsa.VerifyASN1(pub, h[:], sig) {
						t.Errorf("ECDSA signature does not verify with the SPKI public key: %v", err)
					}
				}
				// Digested data (1.4+).
				if v.atLeast(1, 4) {
					sig := byteString(t, c.ok(ttlv.OperationSign, uid(privID), tc.param, ttlv.Bytes(ttlv.TagDigestedData, h[:])), ttlv.TagSignatureData)
					vr := c.ok(ttlv.OperationSignatureVerify, uid(privID), tc.param, ttlv.Bytes(ttlv.TagData, msg), ttlv.Bytes(ttlv.TagSignatureData, sig))
					if ttlv.ValidityIndicator(enum(t, vr, ttlv.TagValidityIndicator)) != ttlv.ValidityIndicatorValid {
						t.Errorf("%s: digest signature invalid", tc.name)
					}
				}
				// A hash the key does not use is refused, not silently replaced.
				c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationSign, uid(privID), ttlv.Struct(ttlv.TagCryptographicParameters,
					ttlv.Enum(ttlv.TagHashingAlgorithm, ttlv.HashingAlgorithmSHA512)), ttlv.Bytes(ttlv.TagData, msg))
				// Key pairs are not exportable by default.
				c.fail(ttlv.ResultReasonNotExtractable, ttlv.OperationGet, uid(privID))
				got := attrMap(t, v, c.ok(ttlv.OperationGetAttributes, uid(pubID)))
				if ot, _ := got["Object Type"].Enum(); ttlv.ObjectType(ot) != ttlv.ObjectTypePublicKey {
					t.Errorf("public key attributes: object type %v", ot)
				}
				loc := c.ok(ttlv.OperationLocate, c.locateAttrs(nameAttr(tc.name+"-"+v.String()))...)
				if us := uids(loc); !slices.Equal(us, []string{privID, pubID}) {
					t.Errorf("Locate(key pair) = %v", us)
				}
			}

			// HMAC keys.
			p := c.ok(ttlv.OperationCreate, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
				c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmHMACSHA256), nameAttr("mac-"+v.String())))
			id := text(t, p, ttlv.TagUniqueIdentifier)
			c.ok(ttlv.OperationActivate, uid(id))
			params := ttlv.Struct(ttlv.TagCryptographicParameters, ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmHMACSHA256))
			mac := byteString(t, c.ok(ttlv.OperationMAC, uid(id), params, ttlv.Bytes(ttlv.TagData, []byte("data"))), ttlv.TagMACData)
			if len(mac) != 32 {
				t.Errorf("MAC is %d bytes", len(mac))
			}
			vr := c.ok(ttlv.OperationMACVerify, uid(id), params, ttlv.Bytes(ttlv.TagData, []byte("data")), ttlv.Bytes(ttlv.TagMACData, mac))
			if ttlv.ValidityIndicator(enum(t, vr, ttlv.TagValidityIndicator)) != ttlv.ValidityIndicatorValid {
				t.Error("MAC does not verify")
			}
			c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationMAC, uid(id), ttlv.Struct(ttlv.TagCryptographicParameters,
				ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmHMACSHA512)), ttlv.Bytes(ttlv.TagData, []byte("data")))
			c.fail(ttlv.ResultReasonOperationNotSupported, ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, []byte("data")))
		})
	}
}

func TestAttributeChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-app", nil, allKeyActions)

	c := e.dial(cert, version{2, 0})
	id := c.createAES("attrs-2-0")
	when := time.Now().Add(48 * time.Hour).Truncate(time.Second).UTC()
	c.ok(ttlv.OperationSetAttribute, uid(id), ttlv.Struct(ttlv.TagNewAttribute, ttlv.DateTime(ttlv.TagDeactivationDate, when)))
	got := attrMap(t, c.v, c.ok(ttlv.OperationGetAttributes, uid(id)))
	if d, _ := got["Deactivation Date"].Time(); !d.Equal(when) {
		t.Errorf("Deactivation Date = %v, want %v", d, when)
	}
	c.ok(ttlv.OperationModifyAttribute, uid(id), ttlv.Struct(ttlv.TagNewAttribute, ttlv.DateTime(ttlv.TagDeactivationDate, when.Add(time.Hour))))
	c.ok(ttlv.OperationDeleteAttribute, uid(id), ttlv.Enum(ttlv.TagAttributeReference, uint32(ttlv.TagDeactivationDate)))
	if _, ok := attrMap(t, c.v, c.ok(ttlv.OperationGetAttributes, uid(id)))["Deactivation Date"]; ok {
		t.Error("Deactivation Date still set after DeleteAttribute")
	}
	c.fail(ttlv.ResultReasonAttributeReadOnly, ttlv.OperationSetAttribute, uid(id),
		ttlv.Struct(ttlv.TagNewAttribute, ttlv.Struct(ttlv.TagName, ttlv.Text(ttlv.TagNameValue, "renamed"), ttlv.Enum(ttlv.TagNameType, ttlv.NameTypeUninterpretedTextString))))

	c1 := e.dial(cert, version{1, 4})
	id = c1.createAES("attrs-1-4")
	c1.ok(ttlv.OperationAddAttribute, uid(id), ttlv.Struct(ttlv.TagAttribute, ttlv.Text(ttlv.TagAttributeName, "Activation Date"),
		ttlv.DateTime(ttlv.TagAttributeValue, when)))
	c1.ok(ttlv.OperationDeleteAttribute, uid(id), ttlv.Text(ttlv.TagAttributeName, "Activation Date"))
	// Object Group and Description change (the key's label and
	// description); the Name does not.
	c1.ok(ttlv.OperationModifyAttribute, uid(id), ttlv.Struct(ttlv.TagAttribute,
		ttlv.Text(ttlv.TagAttributeName, "Object Group"), ttlv.Text(ttlv.TagAttributeValue, "g")))
	c1.ok(ttlv.OperationAddAttribute, uid(id), ttlv.Struct(ttlv.TagAttribute,
		ttlv.Text(ttlv.TagAttributeName, "Description"), ttlv.Text(ttlv.TagAttributeValue, "rotated yearly")))
	got = attrMap(t, c1.v, c1.ok(ttlv.OperationGetAttributes, uid(id)))
	if g, _ := got["Object Group"].Text(); g != "g" {
		t.Errorf("Object Group = %q, want g", g)
	}
	got = attrMap(t, c1.v, c1.ok(ttlv.OperationGetAttributes, uid(id), ttlv.Text(ttlv.TagAttributeName, "Description")))
	if d, _ := got["Description"].Text(); d != "rotated yearly" {
		t.Errorf("Description = %q", d)
	}
	c1.ok(ttlv.OperationDeleteAttribute, uid(id), ttlv.Text(ttlv.TagAttributeName, "Object Group"))
	if _, ok := attrMap(t, c1.v, c1.ok(ttlv.OperationGetAttributes, uid(id)))["Object Group"]; ok {
		t.Error("Object Group still set after DeleteAttribute")
	}
	c1.fail(ttlv.ResultReasonInvalidField, ttlv.OperationModifyAttribute, uid(id), ttlv.Struct(ttlv.TagAttribute,
		ttlv.Text(ttlv.TagAttributeName, "Object Group"), ttlv.Int(ttlv.TagAttributeValue, 7)))
	c1.fail(ttlv.ResultReasonInvalidField, ttlv.OperationModifyAttribute, uid(id), ttlv.Struct(ttlv.TagAttribute,
		ttlv.Text(ttlv.TagAttributeName, "Cryptographic Length"), ttlv.Int(ttlv.TagAttributeValue, 128)))
}

func TestDiscoverVersionsAndQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-app", nil, allKeyActions)
	c := e.dial(cert, version{1, 2})
	p := c.ok(ttlv.OperationDiscoverVersions)
	var got []version
	for _, pv := range p.FindAll(ttlv.TagProtocolVersion) {
		v, _ := headerVersion(ttlv.Struct(ttlv.TagRequestHeader, pv))
		got = append(got, v)
	}
	if !slices.Equal(got, supportedVersions) {
		t.Errorf("DiscoverVersions = %v", got)
	}
	pv := func(a, b int32) ttlv.Item {
		return ttlv.Struct(ttlv.TagProtocolVersion, ttlv.Int(ttlv.TagProtocolVersionMajor, a), ttlv.Int(ttlv.TagProtocolVersionMinor, b))
	}
	p = c.ok(ttlv.OperationDiscoverVersions, pv(1, 4), pv(1, 1), pv(3, 0))
	if n := len(p.FindAll(ttlv.TagProtocolVersion)); n != 1 {
		t.Errorf("DiscoverVersions(1.4, 1.1, 3.0) lists %d versions:\n%s", n, p)
	}
	// A 1.1 client may discover versions, but nothing else.
	old := e.dial(cert, version{1, 1})
	old.ok(ttlv.OperationDiscoverVersions)
	old.fail(ttlv.ResultReasonInvalidMessage, ttlv.OperationQuery)
	future := e.dial(cert, version{3, 0})
	future.fail(ttlv.ResultReasonUnsupportedProtocolVersion, ttlv.OperationQuery)

	for _, v := range []version{{1, 2}, {2, 0}} {
		c := e.dial(cert, v)
		p = c.ok(ttlv.OperationQuery,
			ttlv.Enum(ttlv.TagQueryFunction, ttlv.QueryFunctionQueryOperations),
			ttlv.Enum(ttlv.TagQueryFunction, ttlv.QueryFunctionQueryObjects),
			ttlv.Enum(ttlv.TagQueryFunction, ttlv.QueryFunctionQueryServerInformation))
		if text(t, p, ttlv.TagVendorIdentification) != "Arca" {
			t.Error("vendor")
		}
		var ops []ttlv.Operation
		for _, it := range p.FindAll(ttlv.TagOperation) {
			o, _ := it.Enum()
			ops = append(ops, ttlv.Operation(o))
		}
		for _, want := range []ttlv.Operation{ttlv.OperationCreate, ttlv.OperationEncrypt, ttlv.OperationLocate, ttlv.OperationCreateKeyPair} {
			if !slices.Contains(ops, want) {
				t.Errorf("%s: Query does not list %s", v, want)
			}
		}
		if slices.Contains(ops, ttlv.OperationSetAttribute) != v.atLeast(2, 0) {
			t.Errorf("%s: SetAttribute listed = %v", v, !v.atLeast(2, 0))
		}
		if len(p.FindAll(ttlv.TagObjectType)) != 3 {
			t.Errorf("%s: object types:\n%s", v, p)
		}
	}
}
