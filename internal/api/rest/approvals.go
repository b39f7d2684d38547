package rest

import (
	"context"
	"net/http"

	"github.com/arcakms/arca/internal/kms"
)

type approvalListResponse struct {
	Approvals []kms.Approval `json:"approvals"`
}

func (h *Handler) listApprovals(ctx context.Context, r *http.Request) (int, any, error) {
	q := newQuery(r)
	status := q.str("status")
	if err := q.done(); err != nil {
		return 0, nil, err
	}
	if status != "" && status != string(kms.ApprovalPending) {
		return 0, nil, reject(kms.CodeInvalidArgument, "status may only be %q", kms.ApprovalPending)
	}
	list, err := h.svc.ListApprovals(ctx, status != "")
	if err != nil {
		return 0, nil, err
	}
	if list == nil {
		list = []kms.Approval{}
	}
	return http.StatusOK, &approvalListResponse{Approvals: list}, nil
}

func (h *Handler) getApproval(ctx context.Context, r *http.Request) (int, any, error) {
	a, err := h.svc.GetApproval(ctx, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a, nil
}

func (h *Handler) grantApproval(ctx context.Context, r *http.Request) (int, any, error) {
	var req struct{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	a, err := h.svc.GrantApproval(ctx, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a, nil
}

func (h *Handler) cancelApproval(ctx context.Context, r *http.Request) (int, any, error) {
	var req struct{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	a, err := h.svc.CancelApproval(ctx, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a, nil
}
