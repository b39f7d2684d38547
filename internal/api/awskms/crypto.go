package awskms

import (
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
)

// maxPlaintext is AWS's bound on Encrypt's plaintext.
const maxPlaintext = 4096

// blob is the CiphertextBlob of an Arca ciphertext (its binary form) and
// the AWS encryption algorithm that made it.
func blob(text string) ([]byte, string, error) {
	c, err := crypto.Parse(text)
	if err != nil {
		return nil, "", err
	}
	b, err := c.MarshalBinary()
	return b, encryptionAlgorithm(c.Algorithm), err
}

// ciphertextText parses a CiphertextBlob back into Arca's text form.
func ciphertextText(b []byte) (string, error) {
	if len(b) == 0 {
		return "", validation("CiphertextBlob is required")
	}
	c, err := crypto.ParseBinary(b)
	if err != nil {
		return "", &apiError{Type: "InvalidCiphertextException", Message: "CiphertextBlob is not a ciphertext of this server", Status: 400}
	}
	return c.String(), nil
}

// binding is the Arca binding of an encryption context; an empty map is no
// context.
func binding(ctx map[string]string) crypto.Binding {
	if len(ctx) == 0 {
		return crypto.Binding{}
	}
	return crypto.Binding{Context: ctx}
}

func checkEncryptionAlgorithm(alg string) error {
	switch alg {
	case "", "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256":
		return nil
	}
	return validation("EncryptionAlgorithm " + truncate(alg, 32) + " is not supported")
}

func encrypt(c *call, body []byte) (any, error) {
	var in struct {
		KeyID               string            `json:"KeyId"`
		Plaintext           []byte            `json:"Plaintext"`
		EncryptionContext   map[string]string `json:"EncryptionContext"`
		EncryptionAlgorithm string            `json:"EncryptionAlgorithm"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Plaintext) == 0 || len(in.Plaintext) > maxPlaintext {
		return nil, validation("Plaintext must be 1 to 4096 bytes")
	}
	if err := checkEncryptionAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return nil, err
	}
	// SYMMETRIC_DEFAULT (the default) names a symmetric key, and
	// RSAES_OAEP_SHA_256 an RSA one: the other kind is refused.
	want := crypto.PurposeEncrypt
	if in.EncryptionAlgorithm == "RSAES_OAEP_SHA_256" {
		want = crypto.PurposeAsymmetric
	}
	accept := func(alg crypto.Algorithm) error {
		if alg.Purpose() != want {
			return kms.Errorf(kms.CodeUnsupportedOperation, "the key is an %s key: EncryptionAlgorithm %s does not apply", alg, encryptionAlgorithmName(in.EncryptionAlgorithm))
		}
		return nil
	}
	res, err := c.h.svc.Encrypt(c.ctx, kms.EncryptRequest{Key: ref, Plaintext: in.Plaintext, Binding: binding(in.EncryptionContext), Accept: accept})
	clear(in.Plaintext)
	if err != nil {
		return nil, err
	}
	b, alg, err := blob(res.Ciphertext)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CiphertextBlob": b, "KeyId": c.arn(res.KeyID), "EncryptionAlgorithm": alg}, nil
}

// plaintextOut carries plaintext to the response and wipes it once the
// response is encoded.
type plaintextOut struct {
	KeyID               string `json:"KeyId"`
	Plaintext           []byte `json:"Plaintext"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

func decrypt(c *call, body []byte) (any, error) {
	var in struct {
		KeyID               string            `json:"KeyId"`
		CiphertextBlob      []byte            `json:"CiphertextBlob"`
		EncryptionContext   map[string]string `json:"EncryptionContext"`
		EncryptionAlgorithm string            `json:"EncryptionAlgorithm"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkEncryptionAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if in.EncryptionAlgorithm == "RSAES_OAEP_SHA_256" && rawOAEPSize(len(in.CiphertextBlob)) {
		return c.decryptRawOAEP(in.KeyID, in.CiphertextBlob, in.EncryptionContext)
	}
	text, err := ciphertextText(in.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	ct, err := crypto.Parse(text)
	if err != nil {
		return nil, &apiError{Type: "InvalidCiphertextException", Message: "CiphertextBlob is not a ciphertext of this server", Status: 400}
	}
	alg := encryptionAlgorithm(ct.Algorithm)
	if in.EncryptionAlgorithm != "" && in.EncryptionAlgorithm != alg {
		return nil, &apiError{Type: "InvalidKeyUsageException", Message: "the ciphertext was made with " + alg + ", not " + in.EncryptionAlgorithm, Status: 400}
	}
	ref := ""
	if in.KeyID != "" {
		if ref, err = c.keyRef(in.KeyID); err != nil {
			return nil, err
		}
	}
	res, err := c.h.svc.Decrypt(c.ctx, kms.DecryptRequest{Key: ref, Ciphertext: text, Binding: binding(in.EncryptionContext)})
	if err != nil {
		return nil, err
	}
	defer res.Plaintext.Wipe()
	return &plaintextOut{KeyID: c.arn(res.KeyID), Plaintext: append([]byte(nil), res.Plaintext.Reveal()...), EncryptionAlgorithm: alg}, nil
}

// encryptionAlgorithmName is the EncryptionAlgorithm a request named, or
// its default.
func encryptionAlgorithmName(a string) string {
	if a == "" {
		return "SYMMETRIC_DEFAULT"
	}
	return a
}

// rawOAEPSize reports whether n is the size of a bare RSA-OAEP ciphertext
// of a 2048-, 3072- or 4096-bit key. Arca's own RSA ciphertexts carry a
// header as well, so they never have these sizes.
func rawOAEPSize(n int) bool { return n == 256 || n == 384 || n == 512 }

// decryptRawOAEP decrypts a ciphertext made outside the server with the
// public key of an RSA key (GetPublicKey, then standard RSAES-OAEP with
// SHA-256), which AWS clients send with the key named.
func (c *call) decryptRawOAEP(keyID string, blob []byte, context map[string]string) (any, error) {
	if keyID == "" {
		return nil, validation("KeyId is required to decrypt with an asymmetric key")
	}
	if len(context) > 0 {
		return nil, validation("asymmetric keys take no EncryptionContext")
	}
	ref, err := c.keyRef(keyID)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.DecryptRawOAEP(c.ctx, ref, blob)
	if err != nil {
		return nil, err
	}
	defer res.Plaintext.Wipe()
	return &plaintextOut{KeyID: c.arn(res.KeyID), Plaintext: append([]byte(nil), res.Plaintext.Reveal()...), EncryptionAlgorithm: "RSAES_OAEP_SHA_256"}, nil
}

func reEncrypt(c *call, body []byte) (any, error) {
	var in struct {
		CiphertextBlob               []byte            `json:"CiphertextBlob"`
		SourceEncryptionContext      map[string]string `json:"SourceEncryptionContext"`
		SourceKeyID                  string            `json:"SourceKeyId"`
		DestinationKeyID             string            `json:"DestinationKeyId"`
		DestinationEncryptionContext map[string]string `json:"DestinationEncryptionContext"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	text, err := ciphertextText(in.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	src := ""
	if in.SourceKeyID != "" {
		if src, err = c.keyRef(in.SourceKeyID); err != nil {
			return nil, err
		}
	}
	dst, err := c.keyRef(in.DestinationKeyID)
	if err != nil {
		return nil, err
	}
	// Decrypt under the source, encrypt under the destination: two
	// operations, each authorized and audited on its own key.
	pt, err := c.h.svc.Decrypt(c.ctx, kms.DecryptRequest{Key: src, Ciphertext: text, Binding: binding(in.SourceEncryptionContext)})
	if err != nil {
		return nil, err
	}
	defer pt.Plaintext.Wipe()
	res, err := c.h.svc.Encrypt(c.ctx, kms.EncryptRequest{Key: dst, Plaintext: pt.Plaintext.Reveal(), Binding: binding(in.DestinationEncryptionContext)})
	if err != nil {
		return nil, err
	}
	b, dstAlg, err := blob(res.Ciphertext)
	if err != nil {
		return nil, err
	}
	srcAlg := "SYMMETRIC_DEFAULT"
	if sc, err := crypto.Parse(text); err == nil {
		srcAlg = encryptionAlgorithm(sc.Algorithm)
	}
	return map[string]any{"CiphertextBlob": b, "SourceKeyId": c.arn(pt.KeyID), "KeyId": c.arn(res.KeyID),
		"SourceEncryptionAlgorithm": srcAlg, "DestinationEncryptionAlgorithm": dstAlg}, nil
}

func generateDataKey(c *call, body []byte) (any, error) { return dataKey(c, body, false) }

func generateDataKeyWithoutPlaintext(c *call, body []byte) (any, error) {
	return dataKey(c, body, true)
}

func dataKey(c *call, body []byte, withoutPlaintext bool) (any, error) {
	var in struct {
		KeyID             string            `json:"KeyId"`
		KeySpec           string            `json:"KeySpec"`
		NumberOfBytes     int               `json:"NumberOfBytes"`
		EncryptionContext map[string]string `json:"EncryptionContext"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	bits := 0
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != 0:
		return nil, validation("give KeySpec or NumberOfBytes, not both")
	case in.KeySpec == "AES_256":
		bits = 256
	case in.KeySpec == "AES_128":
		bits = 128
	case in.KeySpec != "":
		return nil, validation("KeySpec must be AES_256 or AES_128")
	case in.NumberOfBytes == 16 || in.NumberOfBytes == 32:
		bits = 8 * in.NumberOfBytes
	case in.NumberOfBytes != 0:
		return nil, validation("NumberOfBytes must be 16 or 32")
	default:
		return nil, validation("KeySpec or NumberOfBytes is required")
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.GenerateDataKey(c.ctx, kms.DataKeyRequest{Key: ref, Bits: bits, WithoutPlaintext: withoutPlaintext, Binding: binding(in.EncryptionContext)})
	if err != nil {
		return nil, err
	}
	defer res.Plaintext.Wipe()
	b, _, err := blob(res.Ciphertext)
	if err != nil {
		return nil, err
	}
	out := response{"CiphertextBlob": b, "KeyId": c.arn(res.KeyID)}
	if !withoutPlaintext {
		out["Plaintext"] = append([]byte(nil), res.Plaintext.Reveal()...)
	}
	return out, nil
}

func generateDataKeyPair(c *call, body []byte) (any, error) { return dataKeyPair(c, body, false) }

func generateDataKeyPairWithoutPlaintext(c *call, body []byte) (any, error) {
	return dataKeyPair(c, body, true)
}

func dataKeyPair(c *call, body []byte, withoutPlaintext bool) (any, error) {
	var in struct {
		KeyID             string            `json:"KeyId"`
		KeyPairSpec       string            `json:"KeyPairSpec"`
		EncryptionContext map[string]string `json:"EncryptionContext"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	alg, ok := keyPairSpecs[in.KeyPairSpec]
	if !ok {
		return nil, validation("KeyPairSpec " + truncate(in.KeyPairSpec, 32) + " is not supported")
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.GenerateDataKeyPair(c.ctx, kms.DataKeyPairRequest{Key: ref, KeySpec: string(alg), WithoutPlaintext: withoutPlaintext, Binding: binding(in.EncryptionContext)})
	if err != nil {
		return nil, err
	}
	defer res.PrivateKey.Wipe()
	b, _, err := blob(res.Ciphertext)
	if err != nil {
		return nil, err
	}
	out := response{"PrivateKeyCiphertextBlob": b, "PublicKey": res.PublicKey.DER, "KeyId": c.arn(res.KeyID), "KeyPairSpec": in.KeyPairSpec}
	if !withoutPlaintext {
		out["PrivateKeyPlaintext"] = append([]byte(nil), res.PrivateKey.Reveal()...)
	}
	return out, nil
}

func generateRandom(c *call, body []byte) (any, error) {
	var in struct {
		NumberOfBytes int `json:"NumberOfBytes"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.NumberOfBytes < 1 || in.NumberOfBytes > 1024 {
		return nil, validation("NumberOfBytes must be 1 to 1024")
	}
	b, err := c.h.svc.Random(c.ctx, in.NumberOfBytes)
	if err != nil {
		return nil, err
	}
	return response{"Plaintext": b}, nil
}

type signInput struct {
	KeyID            string `json:"KeyId"`
	Message          []byte `json:"Message"`
	MessageType      string `json:"MessageType"`
	SigningAlgorithm string `json:"SigningAlgorithm"`
	Signature        []byte `json:"Signature"`
}

// signParams checks a sign or verify request against its key and gives
// Arca's message type and padding.
func (c *call) signParams(in *signInput) (string, crypto.MessageType, crypto.Padding, error) {
	if len(in.Message) == 0 || len(in.Message) > maxPlaintext {
		return "", "", "", validation("Message must be 1 to 4096 bytes")
	}
	mt := crypto.MessageRaw
	switch in.MessageType {
	case "", "RAW":
	case "DIGEST":
		mt = crypto.MessageDigest
	default:
		return "", "", "", validation("MessageType must be RAW or DIGEST")
	}
	k, err := c.getKey(in.KeyID)
	if err != nil {
		return "", "", "", err
	}
	pad, ok := signingAlgorithms[k.Algorithm][in.SigningAlgorithm]
	if !ok {
		return "", "", "", &apiError{Type: "InvalidKeyUsageException", Message: "SigningAlgorithm " + truncate(in.SigningAlgorithm, 40) + " is not valid for this key", Status: 400}
	}
	return k.ID, mt, pad, nil
}

func sign(c *call, body []byte) (any, error) {
	var in signInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, mt, pad, err := c.signParams(&in)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.Sign(c.ctx, kms.SignRequest{Key: id, Message: in.Message, MessageType: mt, Padding: pad})
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": c.arn(res.KeyID), "Signature": res.Signature, "SigningAlgorithm": in.SigningAlgorithm}, nil
}

func verify(c *call, body []byte) (any, error) {
	var in signInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, mt, pad, err := c.signParams(&in)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.Verify(c.ctx, kms.VerifyRequest{Key: id, Message: in.Message, MessageType: mt, Padding: pad, Signature: in.Signature})
	if err != nil {
		return nil, err
	}
	if !res.Valid {
		return nil, &apiError{Type: "KMSInvalidSignatureException", Message: "the signature is not valid", Status: 400, result: true}
	}
	return map[string]any{"KeyId": c.arn(res.KeyID), "SignatureValid": true, "SigningAlgorithm": in.SigningAlgorithm}, nil
}

type macInput struct {
	KeyID        string `json:"KeyId"`
	Message      []byte `json:"Message"`
	MacAlgorithm string `json:"MacAlgorithm"`
	Mac          []byte `json:"Mac"`
}

func (c *call) macKey(in *macInput) (string, func(crypto.Algorithm) error, error) {
	if len(in.Message) == 0 || len(in.Message) > maxPlaintext {
		return "", nil, validation("Message must be 1 to 4096 bytes")
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return "", nil, err
	}
	// The service checks MacAlgorithm on the key before any MAC is made.
	accept := func(alg crypto.Algorithm) error {
		if macAlgorithms[alg] == "" || macAlgorithms[alg] != in.MacAlgorithm {
			return kms.Errorf(kms.CodeUnsupportedOperation, "MacAlgorithm %s is not valid for this key", truncate(in.MacAlgorithm, 40))
		}
		return nil
	}
	return ref, accept, nil
}

func generateMac(c *call, body []byte) (any, error) {
	var in macInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ref, accept, err := c.macKey(&in)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.GenerateMAC(c.ctx, kms.MACRequest{Key: ref, Data: in.Message, Accept: accept})
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": c.arn(res.KeyID), "Mac": res.MAC, "MacAlgorithm": in.MacAlgorithm}, nil
}

func verifyMac(c *call, body []byte) (any, error) {
	var in macInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ref, accept, err := c.macKey(&in)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.VerifyMAC(c.ctx, kms.VerifyMACRequest{Key: ref, Data: in.Message, MAC: in.Mac, Accept: accept})
	if err != nil {
		return nil, err
	}
	if !res.Valid {
		return nil, &apiError{Type: "KMSInvalidMacException", Message: "the MAC is not valid", Status: 400, result: true}
	}
	return map[string]any{"KeyId": c.arn(res.KeyID), "MacValid": true, "MacAlgorithm": in.MacAlgorithm}, nil
}
