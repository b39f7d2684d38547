package kmip

import (
	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/kms"
)

// deriveKey makes a new symmetric key from a symmetric base key's material
// (the service's DeriveKey): Derivation Method HKDF (KMIP 2.0) is
// HKDF-SHA256 with the Salt and, as info, the Derivation Data; HMAC is
// HMAC-SHA256 of the Derivation Data under the base key. The hash, if
// named, must be SHA-256. The new key is described by the request's
// attributes, like Create's, and is pre-active. Other methods (PBKDF2,
// Hash, Encrypt, NIST 800-108) are Operation Not Supported.
func (c *call) deriveKey(p ttlv.Item) ([]ttlv.Item, error) {
	ot, err := objectTypeField(p)
	if err != nil {
		return nil, err
	}
	if ot != ttlv.ObjectTypeSymmetricKey {
		return nil, invalidField("DeriveKey makes symmetric keys, not %s objects", ot)
	}
	base, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	if base.public {
		return nil, invalidField("a public key derives no keys")
	}
	mi, ok := p.Find(ttlv.TagDerivationMethod)
	if !ok {
		return nil, missingData("the Derivation Method is required")
	}
	m, ok := mi.Enum()
	if !ok {
		return nil, invalidField("the Derivation Method must be an Enumeration")
	}
	var req kms.DeriveKeyRequest
	switch ttlv.DerivationMethod(m) {
	case ttlv.DerivationMethodHKDF:
		req.Method = kms.DeriveHKDFSHA256
	case ttlv.DerivationMethodHMAC:
		req.Method = kms.DeriveHMACSHA256
	default:
		return nil, opNotSupported("derivation method %s is not supported: Arca derives with HKDF or HMAC over SHA-256", ttlv.DerivationMethod(m))
	}
	if dp, ok := p.Find(ttlv.TagDerivationParameters); ok {
		if h, ok := dp.Find(ttlv.TagCryptographicParameters, ttlv.TagHashingAlgorithm); ok {
			if v, ok := h.Enum(); !ok || ttlv.HashingAlgorithm(v) != ttlv.HashingAlgorithmSHA256 {
				return nil, notSupported("derivation hashes with SHA-256 only")
			}
		}
		// A value of the wrong type would otherwise derive, silently,
		// another key than the one asked for.
		if d, ok := dp.Find(ttlv.TagDerivationData); ok {
			if req.Info, ok = d.Bytes(); !ok {
				return nil, invalidField("the Derivation Data must be a Byte String")
			}
		}
		if s, ok := dp.Find(ttlv.TagSalt); ok {
			if req.Salt, ok = s.Bytes(); !ok {
				return nil, invalidField("the Salt must be a Byte String")
			}
		}
		if _, ok := dp.Find(ttlv.TagIterationCount); ok {
			return nil, notSupported("an Iteration Count applies to PBKDF2, which is not supported")
		}
	}
	ks, err := requestKeySpec(p)
	if err != nil {
		return nil, err
	}
	if ks.alg == 0 {
		return nil, missingData("the Cryptographic Algorithm attribute of the new key is required")
	}
	alg, err := symmetricAlgorithm(ks.alg, ks.bits)
	if err != nil {
		return nil, err
	}
	if err := ks.checkMask(alg, c.v); err != nil {
		return nil, err
	}
	req.Base, req.Key = base.keyID, ks.createRequest(alg, true)
	k, err := c.s.svc.DeriveKey(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(objectRef{keyID: k.ID})}, nil
}
