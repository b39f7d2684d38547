package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
)

type auditSearchResponse struct {
	Records       []audit.Record `json:"records"`
	NextPageToken string         `json:"next_page_token,omitzero"`
}

// auditSearch serves GET /v1/audit/records.
func (h *Handler) auditSearch(ctx context.Context, r *http.Request) (int, any, error) {
	q := newQuery(r)
	req := kms.AuditSearchRequest{Filter: audit.Filter{Identity: q.str("identity"), KeyID: q.str("key_id"),
		Operation: q.str("operation"), Outcome: q.str("outcome")}, Limit: q.int("limit"), PageToken: q.str("page_token")}
	for name, dst := range map[string]*time.Time{"from": &req.From, "to": &req.To} {
		if v := q.str(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return 0, nil, reject(kms.CodeInvalidArgument, "%s must be an RFC 3339 time", name)
			}
			*dst = t
		}
	}
	if err := q.done(); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.SearchAudit(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	out := &auditSearchResponse{Records: res.Records, NextPageToken: res.NextPageToken}
	if out.Records == nil {
		out.Records = []audit.Record{}
	}
	return http.StatusOK, out, nil
}
