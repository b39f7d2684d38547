package kmip

import (
	"crypto/subtle"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
)

// cryptoParams is the part of Cryptographic Parameters Arca reads.
type cryptoParams struct {
	mode, padding, hash, alg, dsa uint32
	ivLength, tagLength           int32
	randomIV                      *bool
}

func readParams(p ttlv.Item) (cryptoParams, error) {
	var cp cryptoParams
	s, ok := p.Find(ttlv.TagCryptographicParameters)
	if !ok {
		return cp, nil
	}
	enums := []struct {
		tag  ttlv.Tag
		into *uint32
	}{
		{ttlv.TagBlockCipherMode, &cp.mode}, {ttlv.TagPaddingMethod, &cp.padding}, {ttlv.TagHashingAlgorithm, &cp.hash},
		{ttlv.TagCryptographicAlgorithm, &cp.alg}, {ttlv.TagDigitalSignatureAlgorithm, &cp.dsa},
	}
	for _, e := range enums {
		if it, ok := s.Find(e.tag); ok {
			if *e.into, ok = it.Enum(); !ok {
				return cp, invalidField("%s must be an Enumeration", e.tag)
			}
		}
	}
	for _, n := range []struct {
		tag  ttlv.Tag
		into *int32
	}{{ttlv.TagIVLength, &cp.ivLength}, {ttlv.TagTagLength, &cp.tagLength}} {
		if it, ok := s.Find(n.tag); ok {
			if *n.into, ok = it.Int(); !ok {
				return cp, invalidField("%s must be an Integer", n.tag)
			}
		}
	}
	if it, ok := s.Find(ttlv.TagRandomIV); ok {
		b, ok := it.Bool()
		if !ok {
			return cp, invalidField("RandomIV must be a Boolean")
		}
		cp.randomIV = &b
	}
	for _, tag := range []ttlv.Tag{ttlv.TagKeyRoleType, ttlv.TagMaskGenerator, ttlv.TagPSource, ttlv.TagTrailerField,
		ttlv.TagFixedFieldLength, ttlv.TagInvocationFieldLength, ttlv.TagCounterLength, ttlv.TagInitialCounterValue} {
		if _, ok := s.Find(tag); ok {
			return cp, unsupportedParams("%s is not supported", tag)
		}
	}
	return cp, nil
}

func unsupportedParams(format string, args ...any) error {
	return withReason(ttlv.ResultReasonInvalidField, kms.CodeInvalidArgument, format, args...)
}

// checkAEAD validates the parameters of Encrypt and Decrypt against the
// algorithm of the key (known before Decrypt from the ciphertext header,
// after Encrypt from the result). Arca encrypts with the key's own AEAD:
// AES-256-GCM for AES keys, ChaCha20-Poly1305 and AES-256-SIV for those.
//
// checkRequest is the part of checkAEAD and checkIV that does not depend
// on the key, which Encrypt runs before the service does anything.
func (cp cryptoParams) checkRequest() error {
	switch m := ttlv.BlockCipherMode(cp.mode); {
	case cp.mode != 0 && m != ttlv.BlockCipherModeGCM && m != ttlv.BlockCipherModeAEAD:
		return unsupportedParams("block cipher mode %s is not supported: Arca's symmetric keys are AEADs (use GCM or AEAD)", m)
	case cp.padding != 0 && ttlv.PaddingMethod(cp.padding) != ttlv.PaddingMethodNone:
		return unsupportedParams("AEAD encryption takes no padding")
	case cp.tagLength != 0 && cp.tagLength != 16:
		return unsupportedParams("the authentication tag is 16 bytes")
	case cp.randomIV != nil && !*cp.randomIV:
		return unsupportedParams("Arca generates the IV: RandomIV cannot be false")
	}
	return nil
}

func (cp cryptoParams) checkAEAD(a crypto.Algorithm) error {
	kmipAlg, _, _ := kmipAlgorithm(a)
	switch {
	case cp.alg != 0 && ttlv.CryptographicAlgorithm(cp.alg) != kmipAlg:
		return unsupportedParams("the key is %s, not %s", a, ttlv.CryptographicAlgorithm(cp.alg))
	case cp.mode != 0 && !(ttlv.BlockCipherMode(cp.mode) == ttlv.BlockCipherModeGCM && a == crypto.AES256GCM) &&
		ttlv.BlockCipherMode(cp.mode) != ttlv.BlockCipherModeAEAD:
		return unsupportedParams("block cipher mode %s is not supported: the key is %s (use GCM or AEAD)", ttlv.BlockCipherMode(cp.mode), a)
	case cp.padding != 0 && ttlv.PaddingMethod(cp.padding) != ttlv.PaddingMethodNone:
		return unsupportedParams("AEAD encryption takes no padding")
	case cp.tagLength != 0 && cp.tagLength != 16:
		return unsupportedParams("the authentication tag is 16 bytes")
	}
	return nil
}

// checkIV validates the parameters that concern the IV, which Arca always
// chooses itself.
func (cp cryptoParams) checkIV(nonce []byte) error {
	if cp.randomIV != nil && !*cp.randomIV {
		return unsupportedParams("Arca generates the IV: RandomIV cannot be false")
	}
	if cp.ivLength != 0 && int(cp.ivLength) != 8*len(nonce) && int(cp.ivLength) != len(nonce) {
		return unsupportedParams("the IV of this key is %d bytes", len(nonce))
	}
	return nil
}

// refuseStreaming refuses the multi-part forms of the cryptographic
// operations.
func refuseStreaming(p ttlv.Item) error {
	for _, tag := range []ttlv.Tag{ttlv.TagCorrelationValue, ttlv.TagInitIndicator, ttlv.TagFinalIndicator} {
		if _, ok := p.Find(tag); ok {
			return notSupported("multi-part (streaming) operations are not supported")
		}
	}
	return nil
}

// bytesField reads a required Byte String.
func bytesField(p ttlv.Item, tag ttlv.Tag) ([]byte, error) {
	it, ok := p.Find(tag)
	if !ok {
		return nil, missingData("%s is required", tag)
	}
	b, ok := it.Bytes()
	if !ok {
		return nil, invalidField("%s must be a ByteString", tag)
	}
	return b, nil
}

// additionalData reads Authenticated Encryption Additional Data, which
// exists from KMIP 1.4 on; it becomes the associated data of Arca's
// binding.
func (c *call) additionalData(p ttlv.Item) ([]byte, error) {
	it, ok := p.Find(ttlv.TagAuthenticatedEncryptionAdditionalData)
	if !ok {
		return nil, nil
	}
	if !c.v.atLeast(1, 4) {
		return nil, invalidField("AuthenticatedEncryptionAdditionalData needs KMIP 1.4 or later")
	}
	b, ok := it.Bytes()
	if !ok {
		return nil, invalidField("AuthenticatedEncryptionAdditionalData must be a ByteString")
	}
	return b, nil
}

// encrypt encrypts with the key's primary version (svc.Encrypt). The Data
// returned is the binary form of Arca's self-describing ciphertext
// (docs/ciphertext.md): format version, algorithm, key id, key version,
// nonce, then the sealed data and tag. Decrypt takes it back as is. The
// IV/Counter/Nonce is returned too, for clients that store it, and
// accepted back by Decrypt; the tag is inside Data.
func (c *call) encrypt(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.oneShot(p)
	if err != nil {
		return nil, err
	}
	if err := keyOnly(ref, "Encrypt"); err != nil {
		return nil, err
	}
	data, err := bytesField(p, ttlv.TagData)
	if err != nil {
		return nil, err
	}
	if _, ok := p.Find(ttlv.TagIVCounterNonce); ok {
		return nil, unsupportedParams("Arca generates the IV itself: do not send IVCounterNonce with Encrypt")
	}
	cp, err := readParams(p)
	if err != nil {
		return nil, err
	}
	if err := cp.checkRequest(); err != nil {
		return nil, err
	}
	aad, err := c.additionalData(p)
	if err != nil {
		return nil, err
	}
	// The parameters that depend on the key are checked by the service
	// once it knows the key, before anything is encrypted; the refusal is
	// audited there.
	accept := func(alg crypto.Algorithm) error {
		if err := cp.checkAEAD(alg); err != nil {
			return afterService(err)
		}
		return afterService(cp.checkIV(make([]byte, alg.NonceSize())))
	}
	res, err := c.s.svc.Encrypt(c.ctx, kms.EncryptRequest{Key: ref.keyID, Plaintext: data, Binding: crypto.Binding{AssociatedData: aad}, Accept: accept})
	if err != nil {
		return nil, err
	}
	ct, err := crypto.Parse(res.Ciphertext)
	if err != nil {
		return nil, afterService(withReason(ttlv.ResultReasonGeneralFailure, kms.CodeInternal, "internal error: unreadable ciphertext"))
	}
	bin, err := ct.MarshalBinary()
	if err != nil {
		return nil, afterService(withReason(ttlv.ResultReasonGeneralFailure, kms.CodeInternal, "internal error: unencodable ciphertext"))
	}
	out := []ttlv.Item{uidItem(ref), ttlv.Bytes(ttlv.TagData, bin)}
	if len(ct.Nonce) > 0 {
		out = append(out, ttlv.Bytes(ttlv.TagIVCounterNonce, ct.Nonce))
	}
	return out, nil
}

// decrypt takes the Data Encrypt returned (svc.Decrypt). An IV or an
// authentication tag sent along must be the ones inside the ciphertext.
func (c *call) decrypt(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.oneShot(p)
	if err != nil {
		return nil, err
	}
	if err := keyOnly(ref, "Decrypt"); err != nil {
		return nil, err
	}
	data, err := bytesField(p, ttlv.TagData)
	if err != nil {
		return nil, err
	}
	ct, err := crypto.ParseBinary(data)
	if err != nil {
		return nil, withReason(ttlv.ResultReasonInvalidField, kms.CodeInvalidCiphertext, "Data is not a ciphertext made by Arca's Encrypt")
	}
	cp, err := readParams(p)
	if err != nil {
		return nil, err
	}
	if err := cp.checkAEAD(ct.Algorithm); err != nil {
		return nil, err
	}
	if err := cp.checkIV(ct.Nonce); err != nil {
		return nil, err
	}
	if it, ok := p.Find(ttlv.TagIVCounterNonce); ok {
		iv, ok := it.Bytes()
		if !ok || subtle.ConstantTimeCompare(iv, ct.Nonce) != 1 {
			return nil, invalidField("IVCounterNonce is not the IV of this ciphertext (send the Data returned by Encrypt, and its IV or none)")
		}
	}
	if it, ok := p.Find(ttlv.TagAuthenticatedEncryptionTag); ok {
		tag, ok := it.Bytes()
		if !c.v.atLeast(1, 4) || !ok || ct.Algorithm.Deterministic() || len(ct.Sealed) < 16 ||
			subtle.ConstantTimeCompare(tag, ct.Sealed[len(ct.Sealed)-16:]) != 1 {
			return nil, invalidField("AuthenticatedEncryptionTag is not the tag of this ciphertext (the tag is inside Data; it may be omitted)")
		}
	}
	aad, err := c.additionalData(p)
	if err != nil {
		return nil, err
	}
	res, err := c.s.svc.Decrypt(c.ctx, kms.DecryptRequest{Key: ref.keyID, Ciphertext: ct.String(), Binding: crypto.Binding{AssociatedData: aad}})
	if err != nil {
		return nil, err
	}
	c.wipeLater(res.Plaintext.Wipe)
	return []ttlv.Item{uidItem(ref), ttlv.Bytes(ttlv.TagData, res.Plaintext.Reveal())}, nil
}

// keyHash is the hash each Arca signing algorithm signs with.
var keyHash = map[crypto.Algorithm]ttlv.HashingAlgorithm{
	crypto.RSA2048: ttlv.HashingAlgorithmSHA256, crypto.RSA3072: ttlv.HashingAlgorithmSHA256, crypto.RSA4096: ttlv.HashingAlgorithmSHA256,
	crypto.ECDSAP256: ttlv.HashingAlgorithmSHA256, crypto.ECDSAP384: ttlv.HashingAlgorithmSHA384, crypto.ECDSAP521: ttlv.HashingAlgorithmSHA512,
}

// dsaParams maps a Digital Signature Algorithm to the RSA padding and the
// hash it implies (0: any).
var dsaParams = map[ttlv.DigitalSignatureAlgorithm]struct {
	padding crypto.Padding
	hash    ttlv.HashingAlgorithm
}{
	ttlv.DigitalSignatureAlgorithmSHA256WithRSAEncryption: {crypto.PaddingPKCS1v15, ttlv.HashingAlgorithmSHA256},
	ttlv.DigitalSignatureAlgorithmSHA384WithRSAEncryption: {crypto.PaddingPKCS1v15, ttlv.HashingAlgorithmSHA384},
	ttlv.DigitalSignatureAlgorithmSHA512WithRSAEncryption: {crypto.PaddingPKCS1v15, ttlv.HashingAlgorithmSHA512},
	ttlv.DigitalSignatureAlgorithmRSASSAPSS:               {crypto.PaddingPSS, 0},
	ttlv.DigitalSignatureAlgorithmECDSAWithSHA256:         {"", ttlv.HashingAlgorithmSHA256},
	ttlv.DigitalSignatureAlgorithmECDSAWithSHA384:         {"", ttlv.HashingAlgorithmSHA384},
	ttlv.DigitalSignatureAlgorithmECDSAWithSHA512:         {"", ttlv.HashingAlgorithmSHA512},
}

// signParams turns Cryptographic Parameters into Arca's padding, and
// checks that a hash the client names is the one the key signs with
// (which takes a GetKey, done only when a hash is named).
func (c *call) signParams(p ttlv.Item, ref objectRef) (crypto.Padding, error) {
	cp, err := readParams(p)
	if err != nil {
		return "", err
	}
	var padding crypto.Padding
	hash := ttlv.HashingAlgorithm(cp.hash)
	if cp.dsa != 0 {
		d, ok := dsaParams[ttlv.DigitalSignatureAlgorithm(cp.dsa)]
		if !ok {
			return "", unsupportedParams("digital signature algorithm %s is not supported", ttlv.DigitalSignatureAlgorithm(cp.dsa))
		}
		padding = d.padding
		if d.hash != 0 {
			if hash != 0 && hash != d.hash {
				return "", unsupportedParams("HashingAlgorithm contradicts DigitalSignatureAlgorithm")
			}
			hash = d.hash
		}
	}
	switch ttlv.PaddingMethod(cp.padding) {
	case 0, ttlv.PaddingMethodNone:
	case ttlv.PaddingMethodPSS:
		padding = crypto.PaddingPSS
	case ttlv.PaddingMethodPKCS1v15:
		padding = crypto.PaddingPKCS1v15
	default:
		return "", unsupportedParams("padding method %s is not supported for signatures", ttlv.PaddingMethod(cp.padding))
	}
	if hash != 0 || cp.alg != 0 {
		k, err := c.objectKey(ref)
		if err != nil {
			return "", err
		}
		alg, _, _ := kmipAlgorithm(k.Algorithm)
		if cp.alg != 0 && ttlv.CryptographicAlgorithm(cp.alg) != alg {
			return "", afterService(unsupportedParams("the key is %s, not %s", k.Algorithm, ttlv.CryptographicAlgorithm(cp.alg)))
		}
		if want, ok := keyHash[k.Algorithm]; hash != 0 && (!ok || want != hash) {
			return "", afterService(unsupportedParams("%s keys sign with %s, not %s", k.Algorithm, want, hash))
		}
	}
	return padding, nil
}

// message reads the data to sign or verify: Data (the message) or, from
// KMIP 1.4, Digested Data (its digest under the key's hash).
func (c *call) message(p ttlv.Item) ([]byte, crypto.MessageType, error) {
	if it, ok := p.Find(ttlv.TagDigestedData); ok {
		b, ok := it.Bytes()
		if !ok || !c.v.atLeast(1, 4) {
			return nil, "", invalidField("DigestedData must be a ByteString and needs KMIP 1.4 or later")
		}
		return b, crypto.MessageDigest, nil
	}
	b, err := bytesField(p, ttlv.TagData)
	return b, crypto.MessageRaw, err
}

// sign signs with the key pair's private key (svc.Sign).
func (c *call) sign(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.oneShot(p)
	if err != nil {
		return nil, err
	}
	if ref.public {
		return nil, invalidField("a public key does not sign: use the private key %s", ref.keyID)
	}
	msg, mt, err := c.message(p)
	if err != nil {
		return nil, err
	}
	padding, err := c.signParams(p, ref)
	if err != nil {
		return nil, err
	}
	res, err := c.s.svc.Sign(c.ctx, kms.SignRequest{Key: ref.keyID, Message: msg, MessageType: mt, Padding: padding})
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(ref), ttlv.Bytes(ttlv.TagSignatureData, res.Signature)}, nil
}

// signatureVerify checks a signature with the key pair (svc.Verify); a
// wrong signature is a successful operation answering Invalid.
func (c *call) signatureVerify(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.oneShot(p)
	if err != nil {
		return nil, err
	}
	msg, mt, err := c.message(p)
	if err != nil {
		return nil, err
	}
	sig, err := bytesField(p, ttlv.TagSignatureData)
	if err != nil {
		return nil, err
	}
	padding, err := c.signParams(p, ref)
	if err != nil {
		return nil, err
	}
	res, err := c.s.svc.Verify(c.ctx, kms.VerifyRequest{Key: ref.keyID, Message: msg, MessageType: mt, Padding: padding, Signature: sig})
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(ref), validity(res.Valid)}, nil
}

func validity(ok bool) ttlv.Item {
	if ok {
		return ttlv.Enum(ttlv.TagValidityIndicator, ttlv.ValidityIndicatorValid)
	}
	return ttlv.Enum(ttlv.TagValidityIndicator, ttlv.ValidityIndicatorInvalid)
}

// acceptMAC is the service's check that the key is the HMAC alg names
// (any, if alg is zero), made before any MAC is computed.
func acceptMAC(alg ttlv.CryptographicAlgorithm) func(crypto.Algorithm) error {
	return func(a crypto.Algorithm) error {
		if want, _, _ := kmipAlgorithm(a); alg != 0 && want != alg {
			return afterService(unsupportedParams("the key is %s, not %s", a, alg))
		}
		return nil
	}
}

func macParams(p ttlv.Item) (ttlv.CryptographicAlgorithm, error) {
	cp, err := readParams(p)
	if err != nil {
		return 0, err
	}
	if cp.mode != 0 || cp.padding != 0 || cp.dsa != 0 {
		return 0, unsupportedParams("HMAC keys take no block cipher mode, padding or signature algorithm")
	}
	return ttlv.CryptographicAlgorithm(cp.alg), nil
}

// mac computes an HMAC with the key's primary version (svc.GenerateMAC).
func (c *call) mac(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.oneShot(p)
	if err != nil {
		return nil, err
	}
	data, err := bytesField(p, ttlv.TagData)
	if err != nil {
		return nil, err
	}
	alg, err := macParams(p)
	if err != nil {
		return nil, err
	}
	res, err := c.s.svc.GenerateMAC(c.ctx, kms.MACRequest{Key: ref.keyID, Data: data, Accept: acceptMAC(alg)})
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(ref), ttlv.Bytes(ttlv.TagMACData, res.MAC)}, nil
}

// macVerify checks an HMAC (svc.VerifyMAC), in constant time.
func (c *call) macVerify(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.oneShot(p)
	if err != nil {
		return nil, err
	}
	data, err := bytesField(p, ttlv.TagData)
	if err != nil {
		return nil, err
	}
	tag, err := bytesField(p, ttlv.TagMACData)
	if err != nil {
		return nil, err
	}
	alg, err := macParams(p)
	if err != nil {
		return nil, err
	}
	res, err := c.s.svc.VerifyMAC(c.ctx, kms.VerifyMACRequest{Key: ref.keyID, Data: data, MAC: tag, Accept: acceptMAC(alg)})
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(ref), validity(res.Valid)}, nil
}

// oneShot reads the object of a cryptographic operation done in one
// request (streaming is refused).
func (c *call) oneShot(p ttlv.Item) (objectRef, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return objectRef{}, err
	}
	return ref, refuseStreaming(p)
}
