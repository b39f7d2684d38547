package rest

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"net/http"

	"github.com/arcakms/arca/internal/kms"
)

type auditPublicKeyResponse struct {
	PublicKey []byte `json:"public_key"`
	PEM       string `json:"pem"`
}

func (h *Handler) auditPublicKey(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	pub, err := h.svc.AuditPublicKey(ctx)
	if err != nil {
		return 0, nil, err
	}
	return ed25519KeyResponse(pub)
}

// ed25519KeyResponse answers with an Ed25519 public key, raw and as PEM
// (the keys that verify audit checkpoints and backups).
func ed25519KeyResponse(pub ed25519.PublicKey) (int, any, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return 0, nil, kms.Errorf(kms.CodeInternal, "encode public key")
	}
	return http.StatusOK, &auditPublicKeyResponse{PublicKey: pub, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}, nil
}

type auditHMACRequest struct {
	Value string `json:"value"`
}

type auditHMACResponse struct {
	HMAC string `json:"hmac"`
}

func (h *Handler) auditHMAC(ctx context.Context, r *http.Request) (int, any, error) {
	var req auditHMACRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	sum, err := h.svc.AuditHMAC(ctx, req.Value)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &auditHMACResponse{HMAC: sum}, nil
}
