package kms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names of access policy management in audit records.
const (
	OpAccessPolicyPut    = "access_policy.put"
	OpAccessPolicyGet    = "access_policy.get"
	OpAccessPolicyList   = "access_policy.list"
	OpAccessPolicyDelete = "access_policy.delete"
)

const nsAccessPolicies storage.Namespace = "access_policies"

// accessPolicyRecord is a stored access policy.
type accessPolicyRecord struct {
	access.Policy
}

// PutAccessPolicy creates or replaces a named access policy. It is
// validated first, so only well-formed policies are ever evaluated; the
// change applies to the next request of every identity it is attached to.
func (s *Service) PutAccessPolicy(ctx context.Context, p access.Policy) (err error) {
	t := &target{resource: p.Name}
	defer func() { err = s.finish(ctx, OpAccessPolicyPut, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.PolicyWrite, access.Resource{}, nil); err != nil {
		return err
	}
	if !namePattern.MatchString(p.Name) {
		return Errorf(CodeInvalidArgument, "name must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit")
	}
	if err := p.Validate(); err != nil {
		return Errorf(CodeInvalidArgument, "%s", err.Error())
	}
	if len(p.Statements) > 100 {
		return Errorf(CodeInvalidArgument, "at most 100 statements")
	}
	body, err := json.Marshal(p)
	if err != nil {
		return internal("encode access policy", err)
	}
	spend, err := s.dualControlIn(ctx, kr, t, gated{action: access.PolicyWrite, op: OpAccessPolicyPut,
		summary: fmt.Sprintf("create or replace access policy %q (SHA-256 %s)", p.Name, hashOf(body)[:16]),
		parts:   []string{"put", p.Name, hashOf(body)}})
	if err != nil {
		return err
	}
	err = s.update(ctx, OpAccessPolicyPut, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		v, err := encodeRecord(kr, nsAccessPolicies, p.Name, accessPolicyRecord{p})
		if err != nil {
			return err
		}
		_, err = tx.Put(nsAccessPolicies, p.Name, v)
		return err
	})
	return storageErrorOrNil("put access policy", err)
}

func storageErrorOrNil(op string, err error) error {
	if err == nil {
		return nil
	}
	return storageError(op, err)
}

// GetAccessPolicy returns a named access policy.
func (s *Service) GetAccessPolicy(ctx context.Context, name string) (p *access.Policy, err error) {
	t := &target{resource: name}
	defer func() {
		if err = s.finish(ctx, OpAccessPolicyGet, t, err); err != nil {
			p = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.PolicyRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	var rec accessPolicyRecord
	err = s.store.View(ctx, func(tx storage.Tx) error {
		if !namePattern.MatchString(name) {
			return storage.ErrNotFound
		}
		_, err := getRecord(tx, kr, nsAccessPolicies, name, &rec)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, Errorf(CodeAccessPolicyNotFound, "access policy %q not found", truncate(name, 140))
	}
	if err != nil {
		return nil, storageError("get access policy", err)
	}
	return &rec.Policy, nil
}

// ListAccessPolicies returns every access policy, by name.
func (s *Service) ListAccessPolicies(ctx context.Context) (out []access.Policy, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpAccessPolicyList, t, err); err != nil {
			out = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.PolicyRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		after := ""
		for {
			page, err := tx.List(nsAccessPolicies, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
			if err != nil {
				return err
			}
			for _, it := range page.Items {
				var rec accessPolicyRecord
				if err := decodeRecord(kr, nsAccessPolicies, it.Key, it.Value, &rec); err != nil {
					return err
				}
				out = append(out, rec.Policy)
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	if err != nil {
		return nil, storageError("list access policies", err)
	}
	return out, nil
}

// DeleteAccessPolicy deletes an access policy that no identity uses.
func (s *Service) DeleteAccessPolicy(ctx context.Context, name string) (err error) {
	t := &target{resource: name}
	defer func() { err = s.finish(ctx, OpAccessPolicyDelete, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.PolicyWrite, access.Resource{}, nil); err != nil {
		return err
	}
	spend, err := s.dualControlIn(ctx, kr, t, gated{action: access.PolicyWrite, op: OpAccessPolicyDelete,
		summary: fmt.Sprintf("delete access policy %q", name), parts: []string{"delete", name}})
	if err != nil {
		return err
	}
	err = s.update(ctx, OpAccessPolicyDelete, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		if !namePattern.MatchString(name) {
			return storage.ErrNotFound
		}
		if _, err := tx.Get(nsAccessPolicies, name); err != nil {
			return err
		}
		users, err := policyUsers(tx, kr, name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return Errorf(CodeConflict, "access policy %q is attached to %d identity(ies), e.g. %q: detach it first", name, len(users), users[0])
		}
		return tx.Delete(nsAccessPolicies, name)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return Errorf(CodeAccessPolicyNotFound, "access policy %q not found", truncate(name, 140))
	}
	return storageErrorOrNil("delete access policy", err)
}

// policyUsers returns the names of identities with the policy attached.
func policyUsers(tx storage.Tx, kr *seal.Keyring, name string) ([]string, error) {
	var out []string
	after := ""
	for {
		page, err := tx.List(nsIdentities, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var rec identityRecord
			if err := decodeRecord(kr, nsIdentities, it.Key, it.Value, &rec); err != nil {
				return nil, err
			}
			if slices.Contains(rec.Policies, name) {
				out = append(out, rec.Name)
			}
		}
		if page.Next == "" {
			return out, nil
		}
		after = page.Next
	}
}
