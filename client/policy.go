package client

import (
	"context"
	"net/http"
	"time"
)

// Policy is the crypto policy in force, as the server describes it.
type Policy struct {
	Version    int `json:"version"`
	Algorithms struct {
		Allowed         []string `json:"allowed"`
		MinStrengthBits int      `json:"min_strength_bits"`
	} `json:"algorithms"`
	Cryptoperiod map[string]string `json:"cryptoperiod"`
	Rotation     struct {
		Required  bool   `json:"required"`
		MaxPeriod string `json:"max_period"`
	} `json:"rotation"`
	Labels struct {
		Required      []string            `json:"required"`
		AllowedValues map[string][]string `json:"allowed_values"`
	} `json:"labels"`
}

// Violation is one policy rule a key breaks.
type Violation struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// NonCompliantKey is a key that breaks the policy, and why.
type NonCompliantKey struct {
	KeyID      string      `json:"key_id"`
	Name       string      `json:"name"`
	Violations []Violation `json:"violations"`
}

// PolicyCheck is the result of GET /v1/policy/check.
type PolicyCheck struct {
	Compliant bool              `json:"compliant"`
	Keys      []NonCompliantKey `json:"keys"`
}

// KeyAttention names a key that needs attention and why.
type KeyAttention struct {
	KeyID  string    `json:"key_id"`
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	Due    time.Time `json:"due,omitzero"`
}

// KeyHealth is the report of GET /v1/reports/key-health.
type KeyHealth struct {
	GeneratedAt          time.Time      `json:"generated_at"`
	Total                int            `json:"total"`
	ByState              map[string]int `json:"by_state"`
	OverdueRotation      []KeyAttention `json:"overdue_rotation"`
	NearUsageBound       []KeyAttention `json:"near_usage_bound"`
	PastCryptoperiod     []KeyAttention `json:"past_cryptoperiod"`
	ScheduledDestruction []KeyAttention `json:"scheduled_destruction"`
}

// GetPolicy calls GET /v1/policy.
func (c *Client) GetPolicy(ctx context.Context) (*Policy, error) {
	var out Policy
	if _, err := c.do(ctx, http.MethodGet, "/v1/policy", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReloadPolicy calls POST /v1/policy/reload: the server re-reads its policy file.
func (c *Client) ReloadPolicy(ctx context.Context) (*Policy, error) {
	var out Policy
	if _, err := c.do(ctx, http.MethodPost, "/v1/policy/reload", nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CheckPolicy calls GET /v1/policy/check: every key that breaks the policy.
func (c *Client) CheckPolicy(ctx context.Context) (*PolicyCheck, error) {
	var out PolicyCheck
	if _, err := c.do(ctx, http.MethodGet, "/v1/policy/check", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// KeyHealth calls GET /v1/reports/key-health.
func (c *Client) KeyHealth(ctx context.Context) (*KeyHealth, error) {
	var out KeyHealth
	if _, err := c.do(ctx, http.MethodGet, "/v1/reports/key-health", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
