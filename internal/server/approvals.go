package server

import (
	"fmt"
	"net/url"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/policy"
)

// approvalRules turns the configured dual-control rules into the
// service's, validated; an invalid rule stops the server from starting.
func approvalRules(cfg []config.Approval) (map[access.Action]kms.ApprovalRule, error) {
	if len(cfg) == 0 {
		return nil, nil
	}
	out := make(map[access.Action]kms.ApprovalRule, len(cfg))
	for _, a := range cfg {
		ttl := 24 * time.Hour
		if a.TTL != "" {
			d, err := policy.ParseDuration(a.TTL)
			if err != nil {
				return nil, fmt.Errorf("server: approvals: %s: ttl: %w", a.Action, err)
			}
			ttl = d
		}
		action := access.Action(a.Action)
		if _, dup := out[action]; dup {
			return nil, fmt.Errorf("server: approvals: %s is configured twice", a.Action)
		}
		out[action] = kms.ApprovalRule{Approvers: a.Approvers, TTL: ttl}
	}
	if err := kms.ValidateApprovalRules(out); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return out, nil
}

// sodRules turns the configured separation-of-duties rules into the
// service's: nil (absent) keeps the built-in rules.
func sodRules(cfg *[]config.SoDRule) ([]access.SoDRule, error) {
	if cfg == nil {
		return nil, nil
	}
	out := []access.SoDRule{}
	for _, r := range *cfg {
		if len(r.Roles) != 2 || !access.IsRole(r.Roles[0]) || !access.IsRole(r.Roles[1]) || r.Roles[0] == r.Roles[1] {
			return nil, fmt.Errorf("server: separation_of_duties: each rule names two different built-in roles (%v), got %v", access.Roles(), r.Roles)
		}
		if r.Reason == "" {
			return nil, fmt.Errorf("server: separation_of_duties: the rule %v needs a reason", r.Roles)
		}
		out = append(out, access.SoDRule{Roles: [2]string{r.Roles[0], r.Roles[1]}, Reason: r.Reason})
	}
	return out, nil
}

// auditSinks builds the configured audit sinks; an invalid one stops the
// server from starting.
func auditSinks(cfg []config.AuditSink) ([]audit.Sink, error) {
	var out []audit.Sink
	for i, c := range cfg {
		switch c.Type {
		case "stdout":
			out = append(out, audit.NewStdoutSink())
		case "syslog":
			if c.Address == "" {
				return nil, fmt.Errorf("server: audit.sinks[%d]: syslog needs an address", i)
			}
			s, err := audit.NewSyslogSink(c.Network, c.Address)
			if err != nil {
				return nil, fmt.Errorf("server: audit.sinks[%d]: %w", i, err)
			}
			out = append(out, s)
		case "webhook":
			u, err := url.Parse(c.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("server: audit.sinks[%d]: webhook needs an http(s) url", i)
			}
			out = append(out, &audit.WebhookSink{URL: c.URL})
		default:
			return nil, fmt.Errorf("server: audit.sinks[%d]: type must be stdout, syslog or webhook, not %q", i, c.Type)
		}
	}
	return out, nil
}
