package client

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"
)

// Identity is an application or a person allowed to call Arca.
type Identity struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"` // "service" or "human"
	Owner    string   `json:"owner"`
	Status   string   `json:"status"` // "active" or "disabled"
	Roles    []Role   `json:"roles"`
	Policies []string `json:"policies"`
	// Certificates are the SHA-256 fingerprints of the public keys of the
	// client certificates that authenticate the identity over mTLS.
	Certificates []string  `json:"certificates"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Role grants a built-in role (admin, key-custodian, crypto-user, auditor,
// approver) on a scope of keys: "key:GLOB" or "label:K=V" selectors; an
// empty scope means every key.
type Role struct {
	Role  string   `json:"role"`
	Scope []string `json:"scope,omitempty"`
}

// CreateIdentityRequest is the body of POST /v1/identities.
type CreateIdentityRequest struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Owner    string   `json:"owner,omitempty"`
	Roles    []Role   `json:"roles,omitempty"`
	Policies []string `json:"policies,omitempty"`
	// Certificates binds client certificates (CertificateFingerprint).
	Certificates []string `json:"certificates,omitempty"`
}

// UpdateIdentityRequest is the body of PATCH /v1/identities/{identity};
// nil fields are left unchanged.
type UpdateIdentityRequest struct {
	Status       *string   `json:"status,omitempty"`
	Owner        *string   `json:"owner,omitempty"`
	Roles        *[]Role   `json:"roles,omitempty"`
	Policies     *[]string `json:"policies,omitempty"`
	Certificates *[]string `json:"certificates,omitempty"`
}

// CertificateFingerprint is how Arca names a client certificate's key: the
// hex SHA-256 of its SubjectPublicKeyInfo (unchanged when the certificate
// is renewed for the same key).
func CertificateFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// Token is an issued bearer token; Token itself is only in the response
// that created it.
type Token struct {
	Token      string    `json:"token,omitempty"`
	Accessor   string    `json:"accessor"`
	IdentityID string    `json:"identity_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// AccessPolicy is a named set of statements (see docs/access.md).
type AccessPolicy struct {
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Statements  []PolicyStatement `json:"statements"`
}

// PolicyStatement allows or denies actions on resources under conditions.
type PolicyStatement struct {
	Effect     string         `json:"effect"`
	Actions    []string       `json:"actions"`
	Resources  []string       `json:"resources,omitempty"`
	Conditions map[string]any `json:"conditions,omitempty"`
}

func identityPath(ref, suffix string) string {
	return "/v1/identities/" + url.PathEscape(ref) + suffix
}

// CreateIdentity calls POST /v1/identities.
func (c *Client) CreateIdentity(ctx context.Context, req CreateIdentityRequest) (*Identity, error) {
	var out Identity
	if _, err := c.do(ctx, http.MethodPost, "/v1/identities", nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetIdentity calls GET /v1/identities/{identity} (name or id).
func (c *Client) GetIdentity(ctx context.Context, ref string) (*Identity, error) {
	var out Identity
	if _, err := c.do(ctx, http.MethodGet, identityPath(ref, ""), nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListIdentities calls GET /v1/identities.
func (c *Client) ListIdentities(ctx context.Context) ([]Identity, error) {
	var out struct {
		Identities []Identity `json:"identities"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/identities", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return out.Identities, nil
}

// UpdateIdentity calls PATCH /v1/identities/{identity}.
func (c *Client) UpdateIdentity(ctx context.Context, ref string, req UpdateIdentityRequest) (*Identity, error) {
	var out Identity
	if _, err := c.do(ctx, http.MethodPatch, identityPath(ref, ""), nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteIdentity calls DELETE /v1/identities/{identity}; its tokens go too.
func (c *Client) DeleteIdentity(ctx context.Context, ref string) error {
	_, err := c.do(ctx, http.MethodDelete, identityPath(ref, ""), nil, true, nil, nil)
	return err
}

// CreateToken calls POST /v1/identities/{identity}/tokens; ttl such as
// "30d" ("" for the default).
func (c *Client) CreateToken(ctx context.Context, identity, ttl, name string) (*Token, error) {
	var out Token
	body := map[string]string{}
	if ttl != "" {
		body["ttl"] = ttl
	}
	if name != "" {
		body["name"] = name
	}
	if _, err := c.do(ctx, http.MethodPost, identityPath(identity, "/tokens"), nil, true, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeToken calls DELETE /v1/tokens/{accessor}.
func (c *Client) RevokeToken(ctx context.Context, accessor string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(accessor), nil, true, nil, nil)
	return err
}

// RenewToken calls POST /v1/tokens/renew-self for the client's own token.
func (c *Client) RenewToken(ctx context.Context) (*Token, error) {
	var out Token
	if _, err := c.do(ctx, http.MethodPost, "/v1/tokens/renew-self", nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PutAccessPolicy calls PUT /v1/access-policies/{name}.
func (c *Client) PutAccessPolicy(ctx context.Context, name string, p AccessPolicy) (*AccessPolicy, error) {
	p.Name = ""
	var out AccessPolicy
	if _, err := c.do(ctx, http.MethodPut, "/v1/access-policies/"+url.PathEscape(name), nil, true, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetAccessPolicy calls GET /v1/access-policies/{name}.
func (c *Client) GetAccessPolicy(ctx context.Context, name string) (*AccessPolicy, error) {
	var out AccessPolicy
	if _, err := c.do(ctx, http.MethodGet, "/v1/access-policies/"+url.PathEscape(name), nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAccessPolicies calls GET /v1/access-policies.
func (c *Client) ListAccessPolicies(ctx context.Context) ([]AccessPolicy, error) {
	var out struct {
		Policies []AccessPolicy `json:"policies"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/access-policies", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return out.Policies, nil
}

// DeleteAccessPolicy calls DELETE /v1/access-policies/{name}.
func (c *Client) DeleteAccessPolicy(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/access-policies/"+url.PathEscape(name), nil, true, nil, nil)
	return err
}

// AccessMatrix is what every identity may do (GET /v1/reports/access-matrix):
// grants are "allowed" or "conditional"; actions never allowed are absent.
type AccessMatrix struct {
	GeneratedAt time.Time        `json:"generated_at"`
	Identities  []IdentityAccess `json:"identities"`
}

// IdentityAccess is one identity's row of the access matrix.
type IdentityAccess struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Status string            `json:"status"`
	Server map[string]string `json:"server"`
	Keys   []KeyAccess       `json:"keys"`
}

// KeyAccess is what an identity may do with one key.
type KeyAccess struct {
	KeyID   string            `json:"key_id"`
	Key     string            `json:"key"`
	Actions map[string]string `json:"actions"`
}

// AccessMatrix calls GET /v1/reports/access-matrix.
func (c *Client) AccessMatrix(ctx context.Context) (*AccessMatrix, error) {
	var out AccessMatrix
	if _, err := c.do(ctx, http.MethodGet, "/v1/reports/access-matrix", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
