package kms

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
)

// keyResource is the access-control view of a key: its name and labels.
func keyResource(r *keyRecord) access.Resource {
	return access.Resource{Key: r.Name, Labels: r.Labels}
}

// authorize decides whether the request's identity may perform action on
// res, with the request's encryption context bctx (for context conditions).
// The root token may do everything. A denial is CodeForbidden; its reason
// (access.Reason) goes into the audit record and the message, never any
// secret.
func (s *Service) authorize(ctx context.Context, t *target, action access.Action, res access.Resource, bctx map[string]string) error {
	req := RequestFrom(ctx)
	id := req.Identity
	if id == nil {
		return errUnauthorized
	}
	if id.DuringOutage && !cryptoActions[action] {
		return Errorf(CodeStorageUnavailable, "the database cannot be reached: during the outage only cryptography with cached keys is served")
	}
	if id.Root {
		return nil
	}
	d := access.Evaluate(id.Policies, access.Request{
		Action: action, Resource: res, Source: sourceAddr(req.Source), Time: s.now(), Context: bctx, MFAAt: id.MFAAt,
	})
	if d.Allowed {
		return nil
	}
	t.denyReason = string(d.Reason)
	what := string(action)
	switch {
	case res.Key != "" && t.alias != "" && (res.Key == t.aliasOf || res.Key == t.alias):
		what += " on alias " + `"` + t.alias + `"`
	case res.Key != "":
		what += " on key " + `"` + res.Key + `"`
	}
	return Errorf(CodeForbidden, "identity %q may not %s: %s", id.IdentityName, what, d.Reason)
}

// may reports, without auditing, whether the request's identity may perform
// action on res (for filtering lists).
func (s *Service) may(ctx context.Context, action access.Action, res access.Resource) bool {
	return s.authorize(ctx, &target{}, action, res, nil) == nil
}

// sourceAddr parses a request's source ("ip:port" or "ip").
func sourceAddr(src string) netip.Addr {
	if host, _, err := net.SplitHostPort(src); err == nil {
		src = host
	}
	a, err := netip.ParseAddr(src)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// effectivePolicies builds an identity's policies: one per role binding,
// then its attached named policies.
func effectivePolicies(rec *identityRecord, named map[string]access.Policy) []access.Policy {
	out := make([]access.Policy, 0, len(rec.Roles)+len(rec.Policies))
	for _, b := range rec.Roles {
		if p, err := b.Policy(); err == nil {
			out = append(out, p)
		}
	}
	for _, n := range rec.Policies {
		if p, ok := named[n]; ok {
			out = append(out, p)
		}
	}
	return out
}

// resolveFor resolves a key reference for an operation performing action.
// A key that does not exist is reported as not found only to callers who
// could perform the action on a key of that name; others get the same
// refusal as for an existing key they may not use, so that no one learns
// which key names exist outside their grants.
//
// A reference "alias/NAME" names the key alias NAME points to or, when
// there is no such alias, the key named NAME (see [AliasPrefix]).
func (s *Service) resolveFor(ctx context.Context, kr *seal.Keyring, ref string, t *target, action access.Action) (*cachedKey, error) {
	if name, ok := strings.CutPrefix(ref, AliasPrefix); ok {
		return s.resolveAlias(ctx, kr, name, t, action)
	}
	ck, err := s.resolve(ctx, kr, ref)
	return ck, s.maskNotFound(ctx, t, err, ref, action)
}

// maskNotFound turns key_not_found into the caller's access refusal when
// the caller may not perform action on a key named ref.
func (s *Service) maskNotFound(ctx context.Context, t *target, err error, ref string, action access.Action) error {
	if CodeOf(err) != CodeKeyNotFound {
		return err
	}
	if aerr := s.authorize(ctx, t, action, access.Resource{Key: ref}, nil); aerr != nil {
		return aerr
	}
	return err
}
