package kmip

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
)

// TestDeriveKey: DeriveKey with HKDF (2.0) and HMAC (1.4) makes new keys
// whose material, fetched with Get, is the standard derivation of the
// base key's; unsupported methods are Operation Not Supported.
func TestDeriveKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-app", nil, allKeyActions)
	for _, tc := range []struct {
		v      version
		method ttlv.DerivationMethod
		want   func(base []byte) []byte
	}{
		{version{2, 0}, ttlv.DerivationMethodHKDF, func(base []byte) []byte {
			k, _ := hkdf.Key(sha256.New, base, []byte("salt"), "context", 32)
			return k
		}},
		{version{1, 4}, ttlv.DerivationMethodHMAC, func(base []byte) []byte {
			m := hmac.New(sha256.New, base)
			m.Write([]byte("context"))
			return m.Sum(nil)
		}},
	} {
		c := e.dial(cert, tc.v)
		base := c.createAES("")
		c.ok(ttlv.OperationActivate, uid(base))
		params := []ttlv.Item{ttlv.Bytes(ttlv.TagDerivationData, []byte("context"))}
		if tc.method == ttlv.DerivationMethodHKDF {
			params = append(params, ttlv.Bytes(ttlv.TagSalt, []byte("salt")))
		}
		p := c.ok(ttlv.OperationDeriveKey, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey), uid(base),
			ttlv.Enum(ttlv.TagDerivationMethod, tc.method), ttlv.Struct(ttlv.TagDerivationParameters, params...),
			c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), intAttr("Cryptographic Length", 256)))
		derived := text(t, p, ttlv.TagUniqueIdentifier)
		c.ok(ttlv.OperationActivate, uid(derived))
		get := func(id string) []byte {
			g := c.ok(ttlv.OperationGet, uid(id))
			return byteString(t, g, ttlv.TagSymmetricKey, ttlv.TagKeyBlock, ttlv.TagKeyValue, ttlv.TagKeyMaterial)
		}
		if got, want := get(derived), tc.want(get(base)); !bytes.Equal(got, want) {
			t.Errorf("KMIP %s %s: the derived key is not the standard derivation", tc.v, tc.method)
		}
		c.fail(ttlv.ResultReasonOperationNotSupported, ttlv.OperationDeriveKey, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey), uid(base),
			ttlv.Enum(ttlv.TagDerivationMethod, ttlv.DerivationMethodPBKDF2), ttlv.Struct(ttlv.TagDerivationParameters, params...),
			c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), intAttr("Cryptographic Length", 256)))
	}
}
