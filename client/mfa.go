package client

import (
	"context"
	"net/http"
	"time"
)

// TOTPEnrolment is a new TOTP secret for an authenticator app, shown once.
type TOTPEnrolment struct {
	URL    string `json:"otpauth_url"`
	Secret string `json:"secret"`
}

// Session is a short-lived token marked as having passed MFA.
type Session struct {
	Token     string    `json:"token"`
	Accessor  string    `json:"accessor"`
	ExpiresAt time.Time `json:"expires_at"`
}

// EnrollTOTP calls POST /v1/auth/mfa/totp/enroll for the caller (a human
// identity).
func (c *Client) EnrollTOTP(ctx context.Context) (*TOTPEnrolment, error) {
	var out TOTPEnrolment
	if _, err := c.do(ctx, http.MethodPost, "/v1/auth/mfa/totp/enroll", nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConfirmTOTP calls POST /v1/auth/mfa/totp/confirm with a first code.
func (c *Client) ConfirmTOTP(ctx context.Context, code string) error {
	_, err := c.do(ctx, http.MethodPost, "/v1/auth/mfa/totp/confirm", nil, true, map[string]string{"code": code}, nil)
	return err
}

// Login calls POST /v1/auth/login: the client's token and a TOTP code give
// a session token that satisfies policies requiring MFA.
func (c *Client) Login(ctx context.Context, code string) (*Session, error) {
	var out Session
	if _, err := c.do(ctx, http.MethodPost, "/v1/auth/login", nil, true, map[string]string{"code": code}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResetTOTP calls DELETE /v1/identities/{identity}/mfa.
func (c *Client) ResetTOTP(ctx context.Context, identity string) error {
	_, err := c.do(ctx, http.MethodDelete, identityPath(identity, "/mfa"), nil, true, nil, nil)
	return err
}
