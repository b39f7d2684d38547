package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Approval is a request under dual control (see docs/access.md).
type Approval struct {
	ID              string         `json:"id"`
	Action          string         `json:"action"`
	Operation       string         `json:"operation"`
	Summary         string         `json:"summary"`
	KeyID           string         `json:"key_id,omitempty"`
	RequestedBy     string         `json:"requested_by"`
	RequestedByName string         `json:"requested_by_name"`
	CreatedAt       time.Time      `json:"created_at"`
	ExpiresAt       time.Time      `json:"expires_at"`
	Required        int            `json:"required"`
	Approvals       []ApprovalVote `json:"approvals"`
	// Status is pending, approved, executed, cancelled or expired.
	Status   string    `json:"status"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	ClosedBy string    `json:"closed_by,omitempty"`
}

// ApprovalVote is one approver's approval.
type ApprovalVote struct {
	By     string    `json:"by"`
	ByName string    `json:"by_name"`
	At     time.Time `json:"at"`
}

// ListApprovals calls GET /v1/approvals (only pending ones if pending).
func (c *Client) ListApprovals(ctx context.Context, pending bool) ([]Approval, error) {
	var q url.Values
	if pending {
		q = url.Values{"status": {"pending"}}
	}
	var out struct {
		Approvals []Approval `json:"approvals"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/approvals", q, true, nil, &out); err != nil {
		return nil, err
	}
	return out.Approvals, nil
}

// GetApproval calls GET /v1/approvals/{id}.
func (c *Client) GetApproval(ctx context.Context, id string) (*Approval, error) {
	var out Approval
	if _, err := c.do(ctx, http.MethodGet, "/v1/approvals/"+url.PathEscape(id), nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Approve calls POST /v1/approvals/{id}/approve.
func (c *Client) Approve(ctx context.Context, id string) (*Approval, error) {
	var out Approval
	if _, err := c.do(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/approve", nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelApproval calls POST /v1/approvals/{id}/cancel.
func (c *Client) CancelApproval(ctx context.Context, id string) (*Approval, error) {
	var out Approval
	if _, err := c.do(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/cancel", nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
