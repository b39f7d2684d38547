package rest

import (
	"context"
	"net/http"
	"strconv"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
)

type signRequest struct {
	Message     []byte `json:"message"`
	MessageType string `json:"message_type"`
	Padding     string `json:"padding"`
}

type signResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	Signature  []byte `json:"signature"`
}

func (h *Handler) sign(ctx context.Context, r *http.Request) (int, any, error) {
	var req signRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Message == nil {
		return 0, nil, reject(kms.CodeInvalidArgument, "message is required")
	}
	res, err := h.svc.Sign(ctx, kms.SignRequest{Key: r.PathValue("key"), Message: req.Message,
		MessageType: crypto.MessageType(req.MessageType), Padding: crypto.Padding(req.Padding)})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &signResponse{KeyID: res.KeyID, KeyVersion: res.KeyVersion, Signature: res.Signature}, nil
}

type verifyRequest struct {
	signRequest
	Signature  []byte `json:"signature"`
	KeyVersion uint32 `json:"key_version"`
}

type verifyResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	Valid      bool   `json:"valid"`
}

func (h *Handler) verify(ctx context.Context, r *http.Request) (int, any, error) {
	var req verifyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Message == nil || req.Signature == nil {
		return 0, nil, reject(kms.CodeInvalidArgument, "message and signature are required")
	}
	res, err := h.svc.Verify(ctx, kms.VerifyRequest{Key: r.PathValue("key"), KeyVersion: req.KeyVersion, Message: req.Message,
		MessageType: crypto.MessageType(req.MessageType), Padding: crypto.Padding(req.Padding), Signature: req.Signature})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &verifyResponse{KeyID: res.KeyID, KeyVersion: res.KeyVersion, Valid: res.Valid}, nil
}

type publicKeyResponse struct {
	KeyID      string         `json:"key_id"`
	KeyVersion uint32         `json:"key_version"`
	Algorithm  string         `json:"algorithm"`
	PEM        string         `json:"pem,omitzero"`
	DER        []byte         `json:"der,omitzero"`
	JWK        map[string]any `json:"jwk,omitzero"`
	Raw        []byte         `json:"raw,omitzero"`
}

func (h *Handler) publicKey(ctx context.Context, r *http.Request) (int, any, error) {
	q := newQuery(r)
	vs := q.str("version")
	if err := q.done(); err != nil {
		return 0, nil, err
	}
	var v uint64
	if vs != "" {
		var err error
		if v, err = strconv.ParseUint(vs, 10, 32); err != nil || v == 0 {
			return 0, nil, reject(kms.CodeInvalidArgument, "version must be a positive integer")
		}
	}
	pub, err := h.svc.GetPublicKey(ctx, r.PathValue("key"), uint32(v))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &publicKeyResponse{KeyID: pub.KeyID, KeyVersion: pub.KeyVersion, Algorithm: string(pub.Algorithm),
		PEM: pub.PEM, DER: pub.DER, JWK: pub.JWK, Raw: pub.Raw}, nil
}
