package access

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Built-in role names.
const (
	RoleAdmin        = "admin"
	RoleKeyCustodian = "key-custodian"
	RoleCryptoUser   = "crypto-user"
	RoleAuditor      = "auditor"
	RoleApprover     = "approver"
)

// roleActions are what each built-in role allows. Key actions apply to the
// binding's scope; the others to the server.
var roleActions = map[string][]Action{
	// Identities, tokens and policies; never key material or cryptography.
	RoleAdmin: {IdentityCreate, IdentityRead, IdentityUpdate, IdentityDelete, TokenCreate, TokenRevoke,
		PolicyRead, PolicyWrite, ApprovalRead, ApprovalCancel, SysSeal, SysBackup, KeyList, KeyRead},
	// The life of keys, never their use.
	RoleKeyCustodian: {KeyCreate, KeyRead, KeyList, KeyUpdate, KeyRotate, KeyLifecycle, KeyDestroy,
		KeyImport, KeyExport, KeyDerive, PolicyRead, ApprovalRead, ApprovalCancel},
	// Cryptography with granted keys only.
	RoleCryptoUser: {KeyRead, KeyEncrypt, KeyDecrypt, KeyRewrap, KeyDataKey, KeyMAC, KeySign, KeyVerify, RandomGenerate},
	// Read-only: the audit trail, reports, metadata and policies.
	RoleAuditor: {AuditRead, ReportRead, KeyRead, KeyList, PolicyRead, IdentityRead, ApprovalRead},
	// Approves pending requests of others.
	RoleApprover: {ApprovalRead, ApprovalGrant},
}

// Roles lists the built-in role names in a stable order.
func Roles() []string {
	return []string{RoleAdmin, RoleKeyCustodian, RoleCryptoUser, RoleAuditor, RoleApprover}
}

// IsRole reports whether name is a built-in role.
func IsRole(name string) bool { _, ok := roleActions[name]; return ok }

// Binding grants a role to an identity on a scope: key selectors as in
// Statement.Resources ("key:billing-*", "label:team=payments"); an empty
// scope means every key.
type Binding struct {
	Role  string   `json:"role"`
	Scope []string `json:"scope,omitempty"`
}

// Policy returns the policy a binding grants: the role's actions, key
// actions limited to the scope.
func (b Binding) Policy() (Policy, error) {
	actions, ok := roleActions[b.Role]
	if !ok {
		return Policy{}, fmt.Errorf("unknown role %q (built-in roles: %s)", b.Role, strings.Join(Roles(), ", "))
	}
	for _, r := range b.Scope {
		if r == "*" {
			continue
		}
		if err := validResource(r); err != nil {
			return Policy{}, fmt.Errorf("role %s: scope: %w", b.Role, err)
		}
	}
	var onKey, server []string
	for _, a := range actions {
		if a.OnKey() {
			onKey = append(onKey, string(a))
		} else {
			server = append(server, string(a))
		}
	}
	scope := b.Scope
	if len(scope) == 0 {
		scope = []string{"key:*"}
	}
	p := Policy{Name: "role:" + b.Role}
	if len(onKey) > 0 {
		p.Statements = append(p.Statements, Statement{Effect: Allow, Actions: onKey, Resources: slices.Clone(scope)})
	}
	if len(server) > 0 {
		p.Statements = append(p.Statements, Statement{Effect: Allow, Actions: server})
	}
	return p, nil
}

// SoDRule forbids one identity to hold two roles on overlapping scopes.
type SoDRule struct {
	Roles  [2]string `json:"roles"`
	Reason string    `json:"reason"`
}

// DefaultSoD are the separation-of-duties constraints in force unless
// configured otherwise.
var DefaultSoD = []SoDRule{
	{[2]string{RoleAdmin, RoleCryptoUser}, "whoever manages identities and policies must not also use keys: they could grant themselves any key"},
	{[2]string{RoleKeyCustodian, RoleCryptoUser}, "whoever manages a key's life must not also decrypt with it"},
	{[2]string{RoleAuditor, RoleAdmin}, "auditors review the work of administrators and must be independent of it"},
	{[2]string{RoleAuditor, RoleKeyCustodian}, "auditors review the work of key custodians and must be independent of it"},
	{[2]string{RoleAuditor, RoleCryptoUser}, "auditors review key use and must be independent of it"},
}

// CheckSoD returns an error explaining the first rule that granting next
// to an identity holding have would break, or nil.
func CheckSoD(rules []SoDRule, have []Binding, next Binding) error {
	for _, h := range have {
		for _, r := range rules {
			if !(r.Roles[0] == h.Role && r.Roles[1] == next.Role) && !(r.Roles[1] == h.Role && r.Roles[0] == next.Role) {
				continue
			}
			hs, ns := reach(h), reach(next)
			if scopesOverlap(hs, ns) {
				return fmt.Errorf("separation of duties: %s and %s cannot be held together on overlapping scopes (%s vs %s): %s",
					h.Role, next.Role, scopeString(hs), scopeString(ns), r.Reason)
			}
		}
	}
	return nil
}

// reach is the scope a binding's power extends to. A role that can write
// policies or identities can grant itself any key, whatever its scope.
func reach(b Binding) []string {
	onKey := false
	for _, a := range roleActions[b.Role] {
		if a == PolicyWrite || a == IdentityCreate || a == IdentityUpdate {
			return nil
		}
		onKey = onKey || a.OnKey()
	}
	if !onKey {
		return nil // a scope limits nothing the role does (approver)
	}
	return b.Scope
}

func scopeString(s []string) string {
	if len(s) == 0 {
		return "every key"
	}
	return strings.Join(s, ",")
}

// scopesOverlap reports whether two scopes may select a common key. It is
// conservative: label selectors overlap any scope (a key can carry any
// label), and key globs overlap when either matches the other.
func scopesOverlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if selectorsOverlap(x, y) {
				return true
			}
		}
	}
	return false
}

func selectorsOverlap(x, y string) bool {
	if x == "*" || y == "*" || strings.HasPrefix(x, "label:") || strings.HasPrefix(y, "label:") {
		return true
	}
	nx, _ := strings.CutPrefix(x, "key:")
	ny, _ := strings.CutPrefix(y, "key:")
	if nx == ny {
		return true
	}
	m1, _ := path.Match(nx, ny)
	m2, _ := path.Match(ny, nx)
	if m1 || m2 {
		return true
	}
	// Two patterns that both contain wildcards ("a-*", "*-b") may share
	// keys even if neither matches the other: count them as overlapping,
	// unless their literal prefixes or suffixes rule it out ("team-a-*" and
	// "team-b-*" share no key).
	if !strings.ContainsAny(nx, "*?[\\") || !strings.ContainsAny(ny, "*?[\\") {
		return false
	}
	px, py := literalPrefix(nx), literalPrefix(ny)
	sx, sy := literalSuffix(nx), literalSuffix(ny)
	return (strings.HasPrefix(px, py) || strings.HasPrefix(py, px)) &&
		(strings.HasSuffix(sx, sy) || strings.HasSuffix(sy, sx))
}

// literalPrefix is the start of a glob that every name it matches begins
// with: the text before its first special character.
func literalPrefix(glob string) string {
	if i := strings.IndexAny(glob, "*?[\\"); i >= 0 {
		return glob[:i]
	}
	return glob
}

// literalSuffix is the end of a glob that every name it matches ends with:
// the text after its last special character (a class's closing "]"
// included).
func literalSuffix(glob string) string {
	if i := strings.LastIndexAny(glob, "*?[]\\"); i >= 0 {
		return glob[i+1:]
	}
	return glob
}
