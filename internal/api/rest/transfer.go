package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/policy"
)

// importRequest is key material wrapped under an import token's public key.
type importRequest struct {
	Token           string `json:"import_token"`
	WrappedMaterial []byte `json:"wrapped_material"`
}

func (r *importRequest) material() (*kms.ImportMaterial, error) {
	if r.Token == "" || r.WrappedMaterial == nil {
		return nil, reject(kms.CodeInvalidArgument, "import_token and wrapped_material are required")
	}
	return &kms.ImportMaterial{Token: r.Token, WrappedMaterial: r.WrappedMaterial}, nil
}

// importVersionRequest imports a new primary version; CompromiseVersions
// makes it an emergency rotation.
type importVersionRequest struct {
	importRequest
	CompromiseVersions []uint32 `json:"compromise_versions"`
}

func (h *Handler) importVersion(ctx context.Context, r *http.Request) (int, any, error) {
	var req importVersionRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	im, err := req.material()
	if err != nil {
		return 0, nil, err
	}
	k, err := h.svc.ImportKeyVersion(ctx, kms.ImportVersionRequest{Key: r.PathValue("key"), ImportMaterial: *im, CompromiseVersions: req.CompromiseVersions})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, keyOf(k), nil
}

type importTokenRequest struct {
	Scheme string `json:"scheme"`
	TTL    string `json:"ttl"`
}

type importTokenResponse struct {
	ID        string    `json:"import_token"`
	Scheme    string    `json:"scheme"`
	PublicKey string    `json:"public_key"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (h *Handler) importToken(ctx context.Context, r *http.Request) (int, any, error) {
	var req importTokenRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	var ttl time.Duration
	if req.TTL != "" {
		var err error
		if ttl, err = policy.ParseDuration(req.TTL); err != nil {
			return 0, nil, reject(kms.CodeInvalidArgument, "ttl: %v", err)
		}
	}
	tok, err := h.svc.CreateImportToken(ctx, kms.ImportTokenRequest{Scheme: req.Scheme, TTL: ttl})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &importTokenResponse{ID: tok.ID, Scheme: string(tok.Scheme), PublicKey: tok.PublicKey, ExpiresAt: tok.ExpiresAt}, nil
}

type exportRequest struct {
	Version     uint32 `json:"version"`
	Scheme      string `json:"scheme"`
	WrappingKey string `json:"wrapping_key"`
}

type exportResponse struct {
	KeyID           string `json:"key_id"`
	KeyVersion      uint32 `json:"key_version"`
	Algorithm       string `json:"algorithm"`
	Scheme          string `json:"scheme"`
	WrappedMaterial []byte `json:"wrapped_material"`
}

func (h *Handler) exportKey(ctx context.Context, r *http.Request) (int, any, error) {
	var req exportRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.WrappingKey == "" {
		return 0, nil, reject(kms.CodeInvalidArgument, "wrapping_key (a PEM public key) is required: material is only ever exported wrapped")
	}
	res, err := h.svc.ExportKey(ctx, kms.ExportRequest{Key: r.PathValue("key"), Version: req.Version, Scheme: req.Scheme, WrappingKey: req.WrappingKey})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &exportResponse{KeyID: res.KeyID, KeyVersion: res.KeyVersion, Algorithm: string(res.Algorithm),
		Scheme: string(res.Scheme), WrappedMaterial: res.WrappedMaterial}, nil
}
