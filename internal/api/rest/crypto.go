package rest

import (
	"context"
	"net/http"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/secret"
)

// binding is the associated data and context common to every operation.
type binding struct {
	AssociatedData []byte            `json:"associated_data"`
	Context        map[string]string `json:"context"`
}

func (b binding) kms() crypto.Binding {
	return crypto.Binding{AssociatedData: b.AssociatedData, Context: b.Context}
}

type encryptRequest struct {
	Plaintext []byte `json:"plaintext"`
	binding
}

type decryptRequest struct {
	Ciphertext string `json:"ciphertext"`
	// AllowCompromised permits decrypting with a compromised key or version.
	AllowCompromised bool `json:"allow_compromised"`
	binding
}

func (req *decryptRequest) kmsRequest(key string) kms.DecryptRequest {
	return kms.DecryptRequest{Key: key, Ciphertext: req.Ciphertext, Binding: req.kms(), AllowCompromised: req.AllowCompromised}
}

type ciphertextResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	Ciphertext string `json:"ciphertext"`
}

type plaintextResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	Plaintext  []byte `json:"plaintext"`
}

func (r *plaintextResponse) wipe() { secret.Zero(r.Plaintext) }

func ciphertextOf(c *kms.CiphertextResult) *ciphertextResponse {
	return &ciphertextResponse{KeyID: c.KeyID, KeyVersion: c.KeyVersion, Ciphertext: c.Ciphertext}
}

func (h *Handler) encrypt(ctx context.Context, r *http.Request) (int, any, error) {
	var req encryptRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Plaintext == nil {
		return 0, nil, reject(kms.CodeInvalidArgument, "plaintext is required")
	}
	res, err := h.svc.Encrypt(ctx, kms.EncryptRequest{Key: r.PathValue("key"), Plaintext: req.Plaintext, Binding: req.kms()})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ciphertextOf(res), nil
}

func (req *decryptRequest) validate() error {
	if req.Ciphertext == "" {
		return reject(kms.CodeInvalidArgument, "ciphertext is required")
	}
	return nil
}

func (h *Handler) decrypt(ctx context.Context, r *http.Request) (int, any, error) {
	var req decryptRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := req.validate(); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.Decrypt(ctx, req.kmsRequest(r.PathValue("key")))
	if err != nil {
		return 0, nil, err
	}
	// The dispatcher wipes the plaintext once the response is written.
	return http.StatusOK, &plaintextResponse{KeyID: res.KeyID, KeyVersion: res.KeyVersion, Plaintext: res.Plaintext.Reveal()}, nil
}

func (h *Handler) rewrap(ctx context.Context, r *http.Request) (int, any, error) {
	var req decryptRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := req.validate(); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.Rewrap(ctx, req.kmsRequest(r.PathValue("key")))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ciphertextOf(res), nil
}

type dataKeyRequest struct {
	Bits             int  `json:"bits"`
	WithoutPlaintext bool `json:"without_plaintext"`
	binding
}

type dataKeyResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	Ciphertext string `json:"ciphertext"`
	Plaintext  []byte `json:"plaintext,omitempty"`
}

func (r *dataKeyResponse) wipe() { secret.Zero(r.Plaintext) }

func (h *Handler) dataKey(ctx context.Context, r *http.Request) (int, any, error) {
	var req dataKeyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.GenerateDataKey(ctx, kms.DataKeyRequest{Key: r.PathValue("key"), Bits: req.Bits, WithoutPlaintext: req.WithoutPlaintext, Binding: req.kms()})
	if err != nil {
		return 0, nil, err
	}
	out := &dataKeyResponse{KeyID: res.KeyID, KeyVersion: res.KeyVersion, Ciphertext: res.Ciphertext}
	if res.Plaintext != nil {
		out.Plaintext = res.Plaintext.Reveal()
	}
	return http.StatusOK, out, nil
}

type randomRequest struct {
	Bytes int `json:"bytes"`
}

type randomResponse struct {
	Random []byte `json:"random"`
}

func (h *Handler) random(ctx context.Context, r *http.Request) (int, any, error) {
	var req randomRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	b, err := h.svc.Random(ctx, req.Bytes)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &randomResponse{Random: b}, nil
}

type dataKeyPairRequest struct {
	KeySpec          string `json:"key_spec"`
	WithoutPlaintext bool   `json:"without_plaintext"`
	binding
}

type dataKeyPairResponse struct {
	KeyID                string `json:"key_id"`
	KeyVersion           uint32 `json:"key_version"`
	KeySpec              string `json:"key_spec"`
	PublicKeyPEM         string `json:"public_key_pem,omitzero"`
	PublicKeyDER         []byte `json:"public_key_der,omitzero"`
	PublicKeyRaw         []byte `json:"public_key_raw,omitzero"`
	PrivateKeyCiphertext string `json:"private_key_ciphertext"`
	PrivateKey           []byte `json:"private_key,omitempty"`
}

func (r *dataKeyPairResponse) wipe() { secret.Zero(r.PrivateKey) }

func (h *Handler) dataKeyPair(ctx context.Context, r *http.Request) (int, any, error) {
	var req dataKeyPairRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.KeySpec == "" {
		return 0, nil, reject(kms.CodeInvalidArgument, "key_spec is required")
	}
	res, err := h.svc.GenerateDataKeyPair(ctx, kms.DataKeyPairRequest{Key: r.PathValue("key"), KeySpec: req.KeySpec, WithoutPlaintext: req.WithoutPlaintext, Binding: req.kms()})
	if err != nil {
		return 0, nil, err
	}
	out := &dataKeyPairResponse{
		KeyID: res.KeyID, KeyVersion: res.KeyVersion, KeySpec: string(res.KeySpec), PublicKeyPEM: res.PublicKey.PEM,
		PublicKeyDER: res.PublicKey.DER, PublicKeyRaw: res.PublicKey.Raw, PrivateKeyCiphertext: res.Ciphertext,
	}
	if res.PrivateKey != nil {
		out.PrivateKey = res.PrivateKey.Reveal()
	}
	return http.StatusOK, out, nil
}
