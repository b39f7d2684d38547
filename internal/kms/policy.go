package kms

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/policy"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names of policy and report calls.
const (
	OpPolicyGet    = "policy.get"
	OpPolicyCheck  = "policy.check"
	OpPolicyReload = "policy.reload"
	OpKeyHealth    = "report.key_health"
)

// CodePolicyViolation refuses a key that breaks the crypto policy.
const CodePolicyViolation Code = "policy_violation"

// Policy returns the crypto policy in force.
func (s *Service) Policy() *policy.Policy {
	if p := s.policy.Load(); p != nil {
		return p
	}
	return policy.Default()
}

// SetPolicy replaces the crypto policy in force (on reload). Keys already
// stored are not changed; PolicyCheck reports those that no longer comply.
func (s *Service) SetPolicy(p *policy.Policy) { s.policy.Store(p) }

// GetPolicy returns the policy in force, audited.
func (s *Service) GetPolicy(ctx context.Context) (doc *policy.Document, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpPolicyGet, t, err); err != nil {
			doc = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	kr.Release()
	if err := s.authorize(ctx, t, access.PolicyRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	d := s.Policy().Document()
	return &d, nil
}

// ReloadPolicy re-reads the policy with load and puts it in force if it is
// valid; an invalid file leaves the current policy in force.
func (s *Service) ReloadPolicy(ctx context.Context, load func() (*policy.Policy, error)) (doc *policy.Document, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpPolicyReload, t, err); err != nil {
			doc = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	kr.Release()
	if err := s.authorize(ctx, t, access.PolicyWrite, access.Resource{}, nil); err != nil {
		return nil, err
	}
	p, err := load()
	if err != nil {
		return nil, Errorf(CodeInvalidArgument, "policy not reloaded: %v", err)
	}
	s.SetPolicy(p)
	d := p.Document()
	return &d, nil
}

// ReloadPolicyFromServer reloads the policy on the server's own initiative
// (e.g. SIGHUP), audited as the scheduler identity.
func (s *Service) ReloadPolicyFromServer(ctx context.Context, load func() (*policy.Policy, error)) error {
	_, err := s.ReloadPolicy(s.backgroundRequest(ctx), load)
	return err
}

// policyKey is what the policy judges of a stored key.
func policyKey(r *keyRecord) policy.Key {
	return policy.Key{Name: r.Name, Algorithm: string(r.Algorithm), Labels: r.Labels, RotationPeriod: r.RotationPeriod, PrimarySince: r.PrimarySince}
}

// policyViolation turns violations into the refusal of a create or update.
func policyViolation(vs []policy.Violation) error {
	if len(vs) == 0 {
		return nil
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = fmt.Sprintf("%s: %s", v.Rule, v.Message)
	}
	return Errorf(CodePolicyViolation, "the key breaks the crypto policy: %s", strings.Join(msgs, "; "))
}

// NonCompliantKey is a key that breaks the policy in force, and why.
type NonCompliantKey struct {
	KeyID      string
	Name       string
	Violations []policy.Violation
}

// PolicyCheck lists every key (not destroyed) that breaks the policy in
// force, with every rule it breaks.
func (s *Service) PolicyCheck(ctx context.Context) (res []NonCompliantKey, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpPolicyCheck, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.ReportRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	p, now := s.Policy(), s.now()
	res = []NonCompliantKey{}
	err = s.eachKey(ctx, kr, func(r *keyRecord) error {
		if r.State == lifecycle.Destroyed {
			return nil
		}
		if vs := p.Check(policyKey(r), now); len(vs) > 0 {
			res = append(res, NonCompliantKey{KeyID: r.ID, Name: r.Name, Violations: vs})
		}
		return nil
	})
	if err != nil {
		return nil, storageError("policy check", err)
	}
	return res, nil
}

// eachKey calls fn for every stored key, in id order.
func (s *Service) eachKey(ctx context.Context, kr *seal.Keyring, fn func(*keyRecord) error) error {
	return s.store.View(ctx, func(tx storage.Tx) error {
		after := ""
		for {
			page, err := tx.List(nsKeys, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
			if err != nil {
				return err
			}
			for _, it := range page.Items {
				rec := new(keyRecord)
				if err := decodeRecord(kr, nsKeys, it.Key, it.Value, rec); err != nil {
					return err
				}
				if err := fn(rec); err != nil {
					return err
				}
			}
			if after = page.Next; after == "" {
				return nil
			}
		}
	})
}

// KeyHealth is the report of keys needing attention, with counts by state.
type KeyHealth struct {
	GeneratedAt        time.Time
	Total              int
	ByState            map[lifecycle.State]int
	OverdueRotation    []KeyAttention
	NearUsageBound     []KeyAttention
	PastCryptoperiod   []KeyAttention
	ScheduledDestroyal []KeyAttention
}

// KeyAttention names a key and says why it needs attention.
type KeyAttention struct {
	KeyID, Name string
	Reason      string
	// Due is the relevant time: when rotation was due, the destruction
	// deadline, or when the cryptoperiod ended.
	Due time.Time
}

// NearUsageFraction is the share of its usage bound at which a primary
// version is reported as near the bound.
const NearUsageFraction = 0.9

// KeyHealthReport reports keys overdue for rotation, near their usage
// bound, past their cryptoperiod, or scheduled for destruction, with counts
// by state: the data dashboards and compliance reports read.
func (s *Service) KeyHealthReport(ctx context.Context) (rep *KeyHealth, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyHealth, t, err); err != nil {
			rep = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.ReportRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	now, p := s.now().UTC(), s.Policy()
	rep = &KeyHealth{GeneratedAt: now, ByState: map[lifecycle.State]int{}}
	err = s.eachKey(ctx, kr, func(r *keyRecord) error {
		rep.Total++
		rep.ByState[r.State]++
		at := func(reason string, due time.Time) KeyAttention {
			return KeyAttention{KeyID: r.ID, Name: r.Name, Reason: reason, Due: due}
		}
		switch r.State {
		case lifecycle.DestroyScheduled:
			rep.ScheduledDestroyal = append(rep.ScheduledDestroyal, at("scheduled for destruction", r.DestroyAt))
			return nil
		case lifecycle.Active:
		default:
			return nil
		}
		if r.RotationPeriod > 0 {
			if due := r.PrimarySince.Add(r.RotationPeriod); !now.Before(due) {
				rep.OverdueRotation = append(rep.OverdueRotation, at("rotation_period "+policy.FormatDuration(r.RotationPeriod)+" elapsed", due))
			}
		}
		for _, v := range p.Check(policyKey(r), now) {
			if v.Rule == policy.RuleCryptoperiodMax {
				rep.PastCryptoperiod = append(rep.PastCryptoperiod, at(v.Message, time.Time{}))
			}
		}
		used, err := s.reservedUsage(ctx, kr, r)
		if err != nil {
			return err
		}
		if bound := r.usageBound(); float64(used) >= NearUsageFraction*float64(bound) {
			rep.NearUsageBound = append(rep.NearUsageBound, at(fmt.Sprintf("primary version %d used %d of %d encryptions", r.PrimaryVersion, used, bound), time.Time{}))
		}
		return nil
	})
	if err != nil {
		return nil, storageError("key health", err)
	}
	return rep, nil
}

// reservedUsage is the number of encryptions reserved, by every node, for
// a key's primary version: an upper bound of its use.
func (s *Service) reservedUsage(ctx context.Context, kr *seal.Keyring, r *keyRecord) (uint64, error) {
	var vr versionRecord
	err := s.store.View(ctx, func(tx storage.Tx) error {
		_, err := getRecord(tx, kr, nsKeyVersions, versionKey(r.ID, r.PrimaryVersion), &vr)
		return err
	})
	return vr.UsageReserved, err
}
