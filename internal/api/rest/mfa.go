package rest

import (
	"context"
	"net/http"
	"time"
)

type totpEnrolmentResponse struct {
	URL    string `json:"otpauth_url"`
	Secret string `json:"secret"`
}

func (h *Handler) enrollTOTP(ctx context.Context, r *http.Request) (int, any, error) {
	var req struct{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	e, err := h.svc.EnrollTOTP(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &totpEnrolmentResponse{URL: e.URL, Secret: e.Secret}, nil
}

type codeRequest struct {
	Code string `json:"code"`
}

func (h *Handler) confirmTOTP(ctx context.Context, r *http.Request) (int, any, error) {
	var req codeRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := h.svc.ConfirmTOTP(ctx, req.Code); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &struct {
		Confirmed bool `json:"confirmed"`
	}{true}, nil
}

type loginResponse struct {
	Token     string    `json:"token"`
	Accessor  string    `json:"accessor"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (h *Handler) login(ctx context.Context, r *http.Request) (int, any, error) {
	var req codeRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.Login(ctx, req.Code)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &loginResponse{Token: res.Token, Accessor: res.Accessor, ExpiresAt: res.ExpiresAt}, nil
}

func (h *Handler) resetTOTP(ctx context.Context, r *http.Request) (int, any, error) {
	if err := h.svc.ResetTOTP(ctx, r.PathValue("identity")); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &deletedResponse{Deleted: true}, nil
}
