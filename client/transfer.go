package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/keywrap"
	"github.com/arcakms/arca/internal/secret"
)

// Wrapping schemes for import and export.
const (
	// SchemeRSAAESKeyWrap is RSA-OAEP-SHA256 of a fresh AES-256 key, then
	// AES-KWP (RFC 5649) of the material: the cloud KMS import format.
	SchemeRSAAESKeyWrap = string(keywrap.RSAAESKeyWrap)
	// SchemeMLKEM768HPKE is HPKE with ML-KEM-768, HKDF-SHA256, AES-256-GCM.
	SchemeMLKEM768HPKE = string(keywrap.MLKEM768HPKE)
)

// ImportTokenRequest is the body of POST /v1/import-tokens.
type ImportTokenRequest struct {
	// Scheme is the wrapping scheme; empty means SchemeRSAAESKeyWrap.
	Scheme string `json:"scheme,omitempty"`
	// TTL such as "1h" (1m–24h; default 1h).
	TTL string `json:"ttl,omitempty"`
}

// ImportToken is a one-time import wrapping public key.
type ImportToken struct {
	ID        string    `json:"import_token"`
	Scheme    string    `json:"scheme"`
	PublicKey string    `json:"public_key"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ImportMaterial is key material wrapped under an import token's public key.
type ImportMaterial struct {
	Token           string `json:"import_token"`
	WrappedMaterial []byte `json:"wrapped_material"`
}

// CreateImportToken calls POST /v1/import-tokens.
func (c *Client) CreateImportToken(ctx context.Context, req ImportTokenRequest) (*ImportToken, error) {
	var out ImportToken
	if _, err := c.do(ctx, http.MethodPost, "/v1/import-tokens", nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WrapForImport wraps key material locally under an import token's public
// key. The material must be in the form the key's algorithm imports (see
// docs/api.md): raw bytes for symmetric and HMAC keys, PKCS#8 DER for RSA,
// ECDSA and Ed25519 keys, the seed for ML-DSA and ML-KEM keys.
func WrapForImport(tok *ImportToken, material []byte) (*ImportMaterial, error) {
	w, err := keywrap.Wrap(keywrap.Scheme(tok.Scheme), tok.PublicKey, material)
	if err != nil {
		return nil, fmt.Errorf("arca: wrap for import: %w", err)
	}
	return &ImportMaterial{Token: tok.ID, WrappedMaterial: w}, nil
}

// ImportKey creates a key from material held by the caller: it fetches an
// import token, wraps the material locally, and creates the key with it.
// The material is never sent in clear. req.Import is set by ImportKey.
func (c *Client) ImportKey(ctx context.Context, req CreateKeyRequest, scheme string, material []byte) (*Key, error) {
	tok, err := c.CreateImportToken(ctx, ImportTokenRequest{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	if req.Import, err = WrapForImport(tok, material); err != nil {
		return nil, err
	}
	return c.CreateKey(ctx, req)
}

// ImportVersionRequest is the body of POST /v1/keys/{key}/import.
type ImportVersionRequest struct {
	ImportMaterial
	// CompromiseVersions marks these older versions compromised in the
	// same step (emergency rotation).
	CompromiseVersions []int `json:"compromise_versions,omitempty"`
}

// ImportKeyVersion calls POST /v1/keys/{key}/import: material wrapped under
// an import token becomes the new primary version of a key of external
// origin.
func (c *Client) ImportKeyVersion(ctx context.Context, key string, req ImportVersionRequest) (*Key, error) {
	p, err := keyPath(key, "/import")
	if err != nil {
		return nil, err
	}
	var out Key
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ExportRequest is the body of POST /v1/keys/{key}/export.
type ExportRequest struct {
	// Version 0 exports the primary version.
	Version int    `json:"version,omitempty"`
	Scheme  string `json:"scheme,omitempty"`
	// WrappingKey is the PEM public key the material is wrapped to: RSA
	// 3072/4096 or ML-KEM-768 (an import token's public key works too).
	WrappingKey string `json:"wrapping_key"`
}

// ExportedKey is a key version's material wrapped to a public key.
type ExportedKey struct {
	KeyID           string `json:"key_id"`
	KeyVersion      int    `json:"key_version"`
	Algorithm       string `json:"algorithm"`
	Scheme          string `json:"scheme"`
	WrappedMaterial []byte `json:"wrapped_material"`
}

// ExportKey calls POST /v1/keys/{key}/export. Only keys created exportable
// export, and only wrapped.
func (c *Client) ExportKey(ctx context.Context, key string, req ExportRequest) (*ExportedKey, error) {
	p, err := keyPath(key, "/export")
	if err != nil {
		return nil, err
	}
	var out ExportedKey
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GenerateWrappingKey returns a fresh wrapping key pair for ExportKey: the
// private key (PKCS#8 DER for RSA, the 64-byte seed for ML-KEM-768), which
// the caller keeps secret, and the PEM public key to send.
func GenerateWrappingKey(scheme string) (private []byte, publicPEM string, err error) {
	s, err := keywrap.ParseScheme(scheme)
	if err != nil {
		return nil, "", err
	}
	priv, pub, err := keywrap.GenerateKey(s)
	if err != nil {
		return nil, "", err
	}
	return priv.Reveal(), pub, nil
}

// UnwrapExport recovers exported material with the wrapping private key of
// GenerateWrappingKey (or any RSA PKCS#8 / ML-KEM-768 seed of the scheme).
func UnwrapExport(e *ExportedKey, private []byte) ([]byte, error) {
	m, err := keywrap.Unwrap(keywrap.Scheme(e.Scheme), secret.New(private), e.WrappedMaterial)
	if err != nil {
		return nil, fmt.Errorf("arca: unwrap export: %w", err)
	}
	return m.Reveal(), nil
}

// SealTo encrypts plaintext offline to an asymmetric encryption key
// version, with only its public key (from GetPublicKey): the result is an
// arca:v1 ciphertext that the server decrypts like one it made itself.
func SealTo(pub *PublicKey, plaintext, associatedData []byte, context map[string]string) (string, error) {
	id, err := uuid.Parse(pub.KeyID)
	if err != nil || pub.KeyVersion <= 0 {
		return "", fmt.Errorf("arca: seal: the public key has no valid key id and version")
	}
	enc, err := crypto.NewEncrypter(id, uint32(pub.KeyVersion), crypto.Algorithm(pub.Algorithm), pub.Raw)
	if err != nil {
		return "", fmt.Errorf("arca: seal: %w", err)
	}
	c, err := enc.Seal(plaintext, crypto.Binding{AssociatedData: associatedData, Context: context})
	if err != nil {
		return "", fmt.Errorf("arca: seal: %w", err)
	}
	return c.String(), nil
}
