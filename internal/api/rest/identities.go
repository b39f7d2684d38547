package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/policy"
)

type identityJSON struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Type      string           `json:"type"`
	Owner     string           `json:"owner"`
	Status    string           `json:"status"`
	Roles     []access.Binding `json:"roles"`
	Policies  []string         `json:"policies"`
	Certs     []string         `json:"certificates"`
	CreatedAt time.Time        `json:"created_at"`
	CreatedBy string           `json:"created_by"`
	UpdatedAt time.Time        `json:"updated_at"`
}

func identityOf(i *kms.IdentityInfo) *identityJSON {
	out := &identityJSON{ID: i.ID, Name: i.Name, Type: string(i.Type), Owner: i.Owner, Status: string(i.Status),
		Roles: i.Roles, Policies: i.Policies, Certs: i.Certificates, CreatedAt: i.CreatedAt, CreatedBy: i.CreatedBy, UpdatedAt: i.UpdatedAt}
	if out.Roles == nil {
		out.Roles = []access.Binding{}
	}
	if out.Policies == nil {
		out.Policies = []string{}
	}
	if out.Certs == nil {
		out.Certs = []string{}
	}
	return out
}

type createIdentityRequest struct {
	Name     string           `json:"name"`
	Type     string           `json:"type"`
	Owner    string           `json:"owner"`
	Roles    []access.Binding `json:"roles"`
	Policies []string         `json:"policies"`
	Certs    []string         `json:"certificates"`
}

func (h *Handler) createIdentity(ctx context.Context, r *http.Request) (int, any, error) {
	var req createIdentityRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	info, err := h.svc.CreateIdentity(ctx, kms.CreateIdentityRequest{Name: req.Name, Type: kms.IdentityType(req.Type),
		Owner: req.Owner, Roles: req.Roles, Policies: req.Policies, Certificates: req.Certs})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, identityOf(info), nil
}

func (h *Handler) getIdentity(ctx context.Context, r *http.Request) (int, any, error) {
	info, err := h.svc.GetIdentity(ctx, r.PathValue("identity"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, identityOf(info), nil
}

type identityListResponse struct {
	Identities []*identityJSON `json:"identities"`
}

func (h *Handler) listIdentities(ctx context.Context, _ *http.Request) (int, any, error) {
	list, err := h.svc.ListIdentities(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := &identityListResponse{Identities: []*identityJSON{}}
	for _, i := range list {
		out.Identities = append(out.Identities, identityOf(i))
	}
	return http.StatusOK, out, nil
}

type updateIdentityRequest struct {
	Status   *string           `json:"status"`
	Owner    *string           `json:"owner"`
	Roles    *[]access.Binding `json:"roles"`
	Policies *[]string         `json:"policies"`
	Certs    *[]string         `json:"certificates"`
}

func (h *Handler) updateIdentity(ctx context.Context, r *http.Request) (int, any, error) {
	var req updateIdentityRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	u := kms.UpdateIdentityRequest{Identity: r.PathValue("identity"), Owner: req.Owner, Roles: req.Roles, Policies: req.Policies, Certificates: req.Certs}
	if req.Status != nil {
		st := kms.IdentityStatus(*req.Status)
		u.Status = &st
	}
	info, err := h.svc.UpdateIdentity(ctx, u)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, identityOf(info), nil
}

type deletedResponse struct {
	Deleted bool `json:"deleted"`
}

func (h *Handler) deleteIdentity(ctx context.Context, r *http.Request) (int, any, error) {
	if err := h.svc.DeleteIdentity(ctx, r.PathValue("identity")); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &deletedResponse{Deleted: true}, nil
}

type createTokenRequest struct {
	TTL  string `json:"ttl"`
	Name string `json:"name"`
}

type tokenResponse struct {
	Token      string    `json:"token,omitzero"`
	Accessor   string    `json:"accessor"`
	IdentityID string    `json:"identity_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (h *Handler) createToken(ctx context.Context, r *http.Request) (int, any, error) {
	var req createTokenRequest
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
	tok, err := h.svc.CreateToken(ctx, kms.CreateTokenRequest{Identity: r.PathValue("identity"), TTL: ttl, Name: req.Name})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &tokenResponse{Token: tok.Token, Accessor: tok.Accessor, IdentityID: tok.IdentityID, ExpiresAt: tok.ExpiresAt}, nil
}

func (h *Handler) revokeToken(ctx context.Context, r *http.Request) (int, any, error) {
	if err := h.svc.RevokeToken(ctx, r.PathValue("accessor")); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &deletedResponse{Deleted: true}, nil
}

func (h *Handler) renewToken(ctx context.Context, r *http.Request) (int, any, error) {
	var req struct{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	tok, err := h.svc.RenewToken(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &tokenResponse{Accessor: tok.Accessor, IdentityID: tok.IdentityID, ExpiresAt: tok.ExpiresAt}, nil
}

type accessPolicyRequest struct {
	Description string             `json:"description"`
	Statements  []access.Statement `json:"statements"`
}

func (h *Handler) putAccessPolicy(ctx context.Context, r *http.Request) (int, any, error) {
	var req accessPolicyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	p := access.Policy{Name: r.PathValue("name"), Description: req.Description, Statements: req.Statements}
	if err := h.svc.PutAccessPolicy(ctx, p); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &p, nil
}

func (h *Handler) getAccessPolicy(ctx context.Context, r *http.Request) (int, any, error) {
	p, err := h.svc.GetAccessPolicy(ctx, r.PathValue("name"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}

type accessPolicyListResponse struct {
	Policies []access.Policy `json:"policies"`
}

func (h *Handler) listAccessPolicies(ctx context.Context, _ *http.Request) (int, any, error) {
	list, err := h.svc.ListAccessPolicies(ctx)
	if err != nil {
		return 0, nil, err
	}
	if list == nil {
		list = []access.Policy{}
	}
	return http.StatusOK, &accessPolicyListResponse{Policies: list}, nil
}

func (h *Handler) deleteAccessPolicy(ctx context.Context, r *http.Request) (int, any, error) {
	if err := h.svc.DeleteAccessPolicy(ctx, r.PathValue("name")); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &deletedResponse{Deleted: true}, nil
}
