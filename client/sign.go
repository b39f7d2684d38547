package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Signing algorithms accepted by CreateKey.
const (
	AlgorithmECDSAP256 = "ecdsa-p256"
	AlgorithmECDSAP384 = "ecdsa-p384"
	AlgorithmECDSAP521 = "ecdsa-p521"
	AlgorithmEd25519   = "ed25519"
	AlgorithmRSA2048   = "rsa-2048"
	AlgorithmRSA3072   = "rsa-3072"
	AlgorithmRSA4096   = "rsa-4096"
)

// SignRequest is the body of POST /v1/keys/{key}/sign. MessageType is "raw"
// (default) or "digest"; Padding ("pss", the default, or "pkcs1v15")
// applies to RSA keys only.
type SignRequest struct {
	Message     []byte `json:"message"`
	MessageType string `json:"message_type,omitempty"`
	Padding     string `json:"padding,omitempty"`
}

// SignResponse is a signature and the key version that made it.
type SignResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	Signature  []byte `json:"signature"`
}

// VerifyRequest is the body of POST /v1/keys/{key}/verify; KeyVersion 0
// means the primary version.
type VerifyRequest struct {
	Message     []byte `json:"message"`
	MessageType string `json:"message_type,omitempty"`
	Padding     string `json:"padding,omitempty"`
	Signature   []byte `json:"signature"`
	KeyVersion  int    `json:"key_version,omitempty"`
}

// VerifyResponse says whether the signature is valid.
type VerifyResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	Valid      bool   `json:"valid"`
}

// PublicKey is a signing or asymmetric encryption key version's public
// key. Forms without a standard encoding for the algorithm are empty (the
// X25519+ML-KEM hybrid has only Raw).
type PublicKey struct {
	KeyID      string         `json:"key_id"`
	KeyVersion int            `json:"key_version"`
	Algorithm  string         `json:"algorithm"`
	PEM        string         `json:"pem,omitempty"`
	DER        []byte         `json:"der,omitempty"`
	JWK        map[string]any `json:"jwk,omitempty"`
	// Raw is the asymmetric encryption key's own encoding (PKCS#1 for RSA,
	// the KEM public key otherwise); SealTo uses it.
	Raw []byte `json:"raw,omitempty"`
}

// Sign calls POST /v1/keys/{key}/sign.
func (c *Client) Sign(ctx context.Context, key string, req SignRequest) (*SignResponse, error) {
	p, err := keyPath(key, "/sign")
	if err != nil {
		return nil, err
	}
	if req.Message == nil {
		req.Message = []byte{}
	}
	var out SignResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Verify calls POST /v1/keys/{key}/verify. An invalid signature is Valid
// false, not an error.
func (c *Client) Verify(ctx context.Context, key string, req VerifyRequest) (*VerifyResponse, error) {
	p, err := keyPath(key, "/verify")
	if err != nil {
		return nil, err
	}
	if req.Message == nil {
		req.Message = []byte{}
	}
	var out VerifyResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetPublicKey calls GET /v1/keys/{key}/public-key; version 0 means the
// primary version.
func (c *Client) GetPublicKey(ctx context.Context, key string, version int) (*PublicKey, error) {
	p, err := keyPath(key, "/public-key")
	if err != nil {
		return nil, err
	}
	var q url.Values
	if version > 0 {
		q = url.Values{"version": {strconv.Itoa(version)}}
	}
	var out PublicKey
	if _, err := c.do(ctx, http.MethodGet, p, q, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DataKeyPairRequest is the body of POST /v1/keys/{key}/datakey-pair.
// KeySpec is a signing algorithm such as "ecdsa-p256".
type DataKeyPairRequest struct {
	KeySpec          string            `json:"key_spec"`
	WithoutPlaintext bool              `json:"without_plaintext,omitempty"`
	AssociatedData   []byte            `json:"associated_data,omitempty"`
	Context          map[string]string `json:"context,omitempty"`
}

// DataKeyPairResponse is a fresh key pair: the public key in clear, the
// private key encrypted under the KEK and, unless WithoutPlaintext, in clear
// (PKCS#8 DER, or the 32-byte seed for ML-DSA).
type DataKeyPairResponse struct {
	KeyID                string `json:"key_id"`
	KeyVersion           int    `json:"key_version"`
	KeySpec              string `json:"key_spec"`
	PublicKeyPEM         string `json:"public_key_pem,omitempty"`
	PublicKeyDER         []byte `json:"public_key_der,omitempty"`
	PublicKeyRaw         []byte `json:"public_key_raw,omitempty"`
	PrivateKeyCiphertext string `json:"private_key_ciphertext"`
	PrivateKey           []byte `json:"private_key,omitempty"`
}

// GenerateDataKeyPair calls POST /v1/keys/{key}/datakey-pair.
func (c *Client) GenerateDataKeyPair(ctx context.Context, key string, req DataKeyPairRequest) (*DataKeyPairResponse, error) {
	p, err := keyPath(key, "/datakey-pair")
	if err != nil {
		return nil, err
	}
	var out DataKeyPairResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
