package rest

import (
	"context"
	"net/http"

	"github.com/arcakms/arca/internal/kms"
)

type macRequest struct {
	Data []byte `json:"data"`
}

type macResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	MAC        []byte `json:"mac"`
}

func (h *Handler) generateMAC(ctx context.Context, r *http.Request) (int, any, error) {
	var req macRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Data == nil {
		return 0, nil, reject(kms.CodeInvalidArgument, "data is required")
	}
	res, err := h.svc.GenerateMAC(ctx, kms.MACRequest{Key: r.PathValue("key"), Data: req.Data})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &macResponse{KeyID: res.KeyID, KeyVersion: res.KeyVersion, MAC: res.MAC}, nil
}

type verifyMACRequest struct {
	Data       []byte `json:"data"`
	MAC        []byte `json:"mac"`
	KeyVersion uint32 `json:"key_version"`
}

type verifyMACResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	Valid      bool   `json:"valid"`
}

func (h *Handler) verifyMAC(ctx context.Context, r *http.Request) (int, any, error) {
	var req verifyMACRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Data == nil || req.MAC == nil {
		return 0, nil, reject(kms.CodeInvalidArgument, "data and mac are required")
	}
	res, err := h.svc.VerifyMAC(ctx, kms.VerifyMACRequest{Key: r.PathValue("key"), KeyVersion: req.KeyVersion, Data: req.Data, MAC: req.MAC})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &verifyMACResponse{KeyID: res.KeyID, KeyVersion: res.KeyVersion, Valid: res.Valid}, nil
}
