package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/policy"
)

func (h *Handler) getPolicy(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	doc, err := h.svc.GetPolicy(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, doc, nil
}

func (h *Handler) reloadPolicy(ctx context.Context, r *http.Request) (int, any, error) {
	if err := decode(r, &emptyRequest{}); err != nil {
		return 0, nil, err
	}
	load := h.opts.LoadPolicy
	if load == nil {
		load = func() (*policy.Policy, error) { return policy.Default(), nil }
	}
	doc, err := h.svc.ReloadPolicy(ctx, load)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, doc, nil
}

type nonCompliantJSON struct {
	KeyID      string             `json:"key_id"`
	Name       string             `json:"name"`
	Violations []policy.Violation `json:"violations"`
}

type policyCheckResponse struct {
	Compliant bool               `json:"compliant"`
	Keys      []nonCompliantJSON `json:"keys"`
}

func (h *Handler) policyCheck(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.PolicyCheck(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := &policyCheckResponse{Compliant: len(res) == 0, Keys: make([]nonCompliantJSON, len(res))}
	for i, k := range res {
		out.Keys[i] = nonCompliantJSON{KeyID: k.KeyID, Name: k.Name, Violations: k.Violations}
	}
	return http.StatusOK, out, nil
}

type attentionJSON struct {
	KeyID  string    `json:"key_id"`
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	Due    time.Time `json:"due,omitzero"`
}

type keyHealthResponse struct {
	GeneratedAt          time.Time       `json:"generated_at"`
	Total                int             `json:"total"`
	ByState              map[string]int  `json:"by_state"`
	OverdueRotation      []attentionJSON `json:"overdue_rotation"`
	NearUsageBound       []attentionJSON `json:"near_usage_bound"`
	PastCryptoperiod     []attentionJSON `json:"past_cryptoperiod"`
	ScheduledDestruction []attentionJSON `json:"scheduled_destruction"`
}

func attentionOf(in []kms.KeyAttention) []attentionJSON {
	out := make([]attentionJSON, len(in))
	for i, a := range in {
		out[i] = attentionJSON{KeyID: a.KeyID, Name: a.Name, Reason: a.Reason, Due: a.Due}
	}
	return out
}

func (h *Handler) keyHealth(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	rep, err := h.svc.KeyHealthReport(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := &keyHealthResponse{
		GeneratedAt: rep.GeneratedAt, Total: rep.Total, ByState: map[string]int{},
		OverdueRotation: attentionOf(rep.OverdueRotation), NearUsageBound: attentionOf(rep.NearUsageBound),
		PastCryptoperiod: attentionOf(rep.PastCryptoperiod), ScheduledDestruction: attentionOf(rep.ScheduledDestroyal),
	}
	for _, st := range lifecycle.States() {
		out.ByState[string(st)] = rep.ByState[st]
	}
	return http.StatusOK, out, nil
}
