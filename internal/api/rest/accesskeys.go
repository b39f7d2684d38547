package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/arcakms/arca/internal/kms"
)

// Access keys: the credentials of the AWS-KMS-compatible API (Signature
// Version 4), bound to identities.

type accessKeyJSON struct {
	AccessKeyID string    `json:"access_key_id"`
	IdentityID  string    `json:"identity_id"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	// SecretAccessKey is present only in the response that issues it.
	SecretAccessKey string `json:"secret_access_key,omitempty"`
}

func accessKeyOf(k kms.AccessKey) accessKeyJSON {
	return accessKeyJSON{AccessKeyID: k.ID, IdentityID: k.IdentityID, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy}
}

func (h *Handler) createAccessKey(ctx context.Context, r *http.Request) (int, any, error) {
	if err := decode(r, &struct{}{}); err != nil {
		return 0, nil, err
	}
	k, err := h.svc.CreateAccessKey(ctx, r.PathValue("identity"))
	if err != nil {
		return 0, nil, err
	}
	out := accessKeyOf(k.AccessKey)
	out.SecretAccessKey = k.Secret
	return http.StatusCreated, &out, nil
}

func (h *Handler) listAccessKeys(ctx context.Context, r *http.Request) (int, any, error) {
	keys, err := h.svc.ListAccessKeys(ctx, r.PathValue("identity"))
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		AccessKeys []accessKeyJSON `json:"access_keys"`
	}{AccessKeys: []accessKeyJSON{}}
	for _, k := range keys {
		out.AccessKeys = append(out.AccessKeys, accessKeyOf(k))
	}
	return http.StatusOK, &out, nil
}

func (h *Handler) deleteAccessKey(ctx context.Context, r *http.Request) (int, any, error) {
	if err := h.svc.DeleteAccessKey(ctx, r.PathValue("id")); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &deletedResponse{Deleted: true}, nil
}
