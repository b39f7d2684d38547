package awskms

import (
	"encoding/pem"
	"time"

	"github.com/arcakms/arca/internal/kms"
)

// Bring your own key, the AWS way: CreateKey with Origin EXTERNAL makes a
// key pending import; GetParametersForImport gives an Arca import token
// (RSA-3072 OAEP-SHA-256 + AES-KWP, AWS's RSA_AES_KEY_WRAP_SHA_256);
// ImportKeyMaterial imports the wrapped material as the key's new version
// and enables a key that was pending. Unlike AWS, importing into a key
// that already has material adds a version (rotation by import) rather
// than requiring the same material again.

// importTokenTTL is how long import parameters stay valid, as in AWS.
const importTokenTTL = 24 * time.Hour

func getParametersForImport(c *call, body []byte) (any, error) {
	var in struct {
		KeyID             string `json:"KeyId"`
		WrappingAlgorithm string `json:"WrappingAlgorithm"`
		WrappingKeySpec   string `json:"WrappingKeySpec"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.WrappingAlgorithm != "RSA_AES_KEY_WRAP_SHA_256" || in.WrappingKeySpec != "RSA_3072" {
		return nil, validation("the supported import parameters are WrappingAlgorithm RSA_AES_KEY_WRAP_SHA_256 with WrappingKeySpec RSA_3072")
	}
	k, err := c.getKey(in.KeyID)
	if err != nil {
		return nil, err
	}
	if k.Origin != kms.OriginExternal {
		return nil, unsupported("the key's origin is AWS_KMS: only keys created with Origin EXTERNAL import material")
	}
	tok, err := c.h.svc.CreateImportToken(c.ctx, kms.ImportTokenRequest{Scheme: "rsa-oaep-sha256-aes-kwp", TTL: importTokenTTL})
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode([]byte(tok.PublicKey))
	if block == nil {
		return nil, &apiError{Type: "KMSInternalException", Message: "internal error", Status: 500}
	}
	return map[string]any{"KeyId": c.arn(k.ID), "ImportToken": []byte(tok.ID), "PublicKey": block.Bytes, "ParametersValidTo": epoch(tok.ExpiresAt)}, nil
}

func importKeyMaterial(c *call, body []byte) (any, error) {
	var in struct {
		KeyID                string `json:"KeyId"`
		ImportToken          []byte `json:"ImportToken"`
		EncryptedKeyMaterial []byte `json:"EncryptedKeyMaterial"`
		ExpirationModel      string `json:"ExpirationModel"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ExpirationModel == "KEY_MATERIAL_EXPIRES" {
		return nil, unsupported("imported material does not expire here: use ExpirationModel KEY_MATERIAL_DOES_NOT_EXPIRE and schedule the key's deletion instead")
	}
	if len(in.ImportToken) == 0 || len(in.EncryptedKeyMaterial) == 0 {
		return nil, validation("ImportToken and EncryptedKeyMaterial are required")
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return nil, err
	}
	// The first material of a key pending import enables it, in the same
	// step.
	k, err := c.h.svc.ImportKeyVersion(c.ctx, kms.ImportVersionRequest{Key: ref, ActivatePending: true,
		ImportMaterial: kms.ImportMaterial{Token: string(in.ImportToken), WrappedMaterial: in.EncryptedKeyMaterial}})
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": c.arn(k.ID)}, nil
}
