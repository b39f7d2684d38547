package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// AccessKey is a credential of the AWS-KMS-compatible API (Signature
// Version 4), bound to an identity. SecretAccessKey is set only when the
// key is issued.
type AccessKey struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key,omitempty"`
	IdentityID      string    `json:"identity_id"`
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       string    `json:"created_by"`
}

// CreateAccessKey issues an access key to an identity; its secret is
// returned this once.
func (c *Client) CreateAccessKey(ctx context.Context, identity string) (*AccessKey, error) {
	var out AccessKey
	if _, err := c.do(ctx, http.MethodPost, identityPath(identity, "/access-keys"), nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAccessKeys lists an identity's access keys, without secrets.
func (c *Client) ListAccessKeys(ctx context.Context, identity string) ([]AccessKey, error) {
	var out struct {
		AccessKeys []AccessKey `json:"access_keys"`
	}
	if _, err := c.do(ctx, http.MethodGet, identityPath(identity, "/access-keys"), nil, true, nil, &out); err != nil {
		return nil, err
	}
	return out.AccessKeys, nil
}

// DeleteAccessKey revokes an access key.
func (c *Client) DeleteAccessKey(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/access-keys/"+url.PathEscape(id), nil, true, nil, nil)
	return err
}
