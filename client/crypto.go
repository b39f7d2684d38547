package client

import (
	"context"
	"net/http"
)

// EncryptRequest is the body of POST /v1/keys/{key}/encrypt. AssociatedData
// and Context are optional; both are bound to the ciphertext and must be
// presented again to decrypt or rewrap it.
type EncryptRequest struct {
	// Plaintext is at most 48 KiB; it may be empty (nil is sent as empty).
	Plaintext      []byte            `json:"plaintext"`
	AssociatedData []byte            `json:"associated_data,omitempty"`
	Context        map[string]string `json:"context,omitempty"`
}

// EncryptResponse is the result of an encryption.
type EncryptResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	// Ciphertext is the self-describing "arca:v1:..." string.
	Ciphertext string `json:"ciphertext"`
}

// DecryptRequest is the body of the decrypt endpoints; AssociatedData and
// Context must equal those given at encryption.
type DecryptRequest struct {
	Ciphertext     string            `json:"ciphertext"`
	AssociatedData []byte            `json:"associated_data,omitempty"`
	Context        map[string]string `json:"context,omitempty"`
	// AllowCompromised permits decrypting with a compromised key or version
	// (the use is marked in the audit record).
	AllowCompromised bool `json:"allow_compromised,omitempty"`
}

// DecryptResponse is the result of a decryption.
type DecryptResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	Plaintext  []byte `json:"plaintext"`
}

// RewrapRequest is the body of POST /v1/keys/{key}/rewrap; AssociatedData and
// Context must equal those given at encryption and are kept in the new
// ciphertext.
type RewrapRequest struct {
	Ciphertext     string            `json:"ciphertext"`
	AssociatedData []byte            `json:"associated_data,omitempty"`
	Context        map[string]string `json:"context,omitempty"`
	// AllowCompromised permits rewrapping a ciphertext of a compromised key
	// version (the use is marked in the audit record).
	AllowCompromised bool `json:"allow_compromised,omitempty"`
}

// RewrapResponse is the ciphertext re-encrypted under the key's primary
// version.
type RewrapResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	Ciphertext string `json:"ciphertext"`
}

// DataKeyRequest is the body of POST /v1/keys/{key}/datakey.
type DataKeyRequest struct {
	// Bits is 128, 256 or 512; 0 uses the server default (256).
	Bits int `json:"bits,omitempty"`
	// WithoutPlaintext asks for the wrapped data key only.
	WithoutPlaintext bool              `json:"without_plaintext,omitempty"`
	AssociatedData   []byte            `json:"associated_data,omitempty"`
	Context          map[string]string `json:"context,omitempty"`
}

// DataKeyResponse is a fresh data key, wrapped under the key (Ciphertext)
// and, unless WithoutPlaintext was asked, in the clear (Plaintext).
type DataKeyResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	Ciphertext string `json:"ciphertext"`
	Plaintext  []byte `json:"plaintext,omitempty"`
}

// Encrypt calls POST /v1/keys/{key}/encrypt with the key's primary version.
func (c *Client) Encrypt(ctx context.Context, key string, req EncryptRequest) (*EncryptResponse, error) {
	p, err := keyPath(key, "/encrypt")
	if err != nil {
		return nil, err
	}
	if req.Plaintext == nil {
		// The API requires the field; send "" for a nil slice.
		req.Plaintext = []byte{}
	}
	var out EncryptResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Decrypt decrypts a ciphertext. With a key (name or id) it calls
// POST /v1/keys/{key}/decrypt, which fails with CodeWrongKey if the
// ciphertext belongs to another key; with an empty key it calls
// POST /v1/decrypt, where the server finds the key from the ciphertext.
func (c *Client) Decrypt(ctx context.Context, key string, req DecryptRequest) (*DecryptResponse, error) {
	p := "/v1/decrypt"
	if key != "" {
		var err error
		if p, err = keyPath(key, "/decrypt"); err != nil {
			return nil, err
		}
	}
	var out DecryptResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	if out.Plaintext == nil {
		out.Plaintext = []byte{}
	}
	return &out, nil
}

// Rewrap calls POST /v1/keys/{key}/rewrap: the server decrypts the
// ciphertext and encrypts it again under the key's primary version, without
// revealing the plaintext.
func (c *Client) Rewrap(ctx context.Context, key string, req RewrapRequest) (*RewrapResponse, error) {
	p, err := keyPath(key, "/rewrap")
	if err != nil {
		return nil, err
	}
	var out RewrapResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GenerateDataKey calls POST /v1/keys/{key}/datakey, for envelope encryption.
func (c *Client) GenerateDataKey(ctx context.Context, key string, req DataKeyRequest) (*DataKeyResponse, error) {
	p, err := keyPath(key, "/datakey")
	if err != nil {
		return nil, err
	}
	var out DataKeyResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Random calls POST /v1/random and returns n (1–1024) random bytes from the
// server's entropy source.
func (c *Client) Random(ctx context.Context, n int) ([]byte, error) {
	body := struct {
		Bytes int `json:"bytes"`
	}{n}
	var out struct {
		Random []byte `json:"random"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/random", nil, true, body, &out); err != nil {
		return nil, err
	}
	return out.Random, nil
}

// MACResponse is a MAC and the key version that made it.
type MACResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	MAC        []byte `json:"mac"`
}

// VerifyMACRequest is the body of POST /v1/keys/{key}/verify-mac.
// KeyVersion 0 means the primary version.
type VerifyMACRequest struct {
	Data       []byte `json:"data"`
	MAC        []byte `json:"mac"`
	KeyVersion int    `json:"key_version,omitempty"`
}

// VerifyMACResponse says whether the MAC matched.
type VerifyMACResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version"`
	Valid      bool   `json:"valid"`
}

// GenerateMAC calls POST /v1/keys/{key}/mac with an HMAC key.
func (c *Client) GenerateMAC(ctx context.Context, key string, data []byte) (*MACResponse, error) {
	p, err := keyPath(key, "/mac")
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	var out MACResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, struct {
		Data []byte `json:"data"`
	}{data}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VerifyMAC calls POST /v1/keys/{key}/verify-mac. A MAC that does not match
// is reported as Valid false, not as an error.
func (c *Client) VerifyMAC(ctx context.Context, key string, req VerifyMACRequest) (*VerifyMACResponse, error) {
	p, err := keyPath(key, "/verify-mac")
	if err != nil {
		return nil, err
	}
	if req.Data == nil {
		req.Data = []byte{}
	}
	var out VerifyMACResponse
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
