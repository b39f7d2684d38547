package kms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/policy"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage"
)

// Usage bounds. NIST SP 800-38D limits a key used with random 96-bit nonces
// to 2^32 encryptions; Arca rotates well before that by default.
const (
	DefaultUsageBound uint64 = 1 << 30
	MaxUsageBound     uint64 = 1 << 32
	// MinUsageBound keeps the bound large enough to be meaningful.
	MinUsageBound uint64 = 10
	// MaxRotationPeriod bounds rotation_period (10 years).
	MaxRotationPeriod = 10 * 365 * 24 * time.Hour
	// MinRotationPeriod avoids runaway rotation.
	MinRotationPeriod = time.Hour
)

// PolicyUpdate sets a key's rotation and use policy; nil fields are left
// unchanged (on create: take their defaults).
type PolicyUpdate struct {
	RotationPeriod       *time.Duration
	MinDecryptionVersion *uint32
	UsageBound           *uint64
	ActivateAt           *time.Time
	DeactivateAt         *time.Time
	// SetLabels adds or replaces labels and DeleteLabels removes labels,
	// applied to the key's labels as they are in the update's transaction
	// (so concurrent changes of other labels are kept); Description, if
	// non-nil, replaces its description. Changing labels needs key:update
	// under both the old and the new labels, since access policies may
	// select keys by label.
	SetLabels    map[string]string
	DeleteLabels []string
	Description  *string
}

// changesLabels reports whether the update touches the key's labels.
func (u *PolicyUpdate) changesLabels() bool { return len(u.SetLabels) > 0 || len(u.DeleteLabels) > 0 }

func (u *PolicyUpdate) validate() error {
	if err := validateLabels(u.SetLabels); err != nil {
		return err
	}
	if len(u.DeleteLabels) > maxLabels {
		return Errorf(CodeInvalidArgument, "at most %d labels to delete", maxLabels)
	}
	if d := u.Description; d != nil && (len(*d) > maxDescription || !printable(*d)) {
		return Errorf(CodeInvalidArgument, "description must be at most %d printable characters", maxDescription)
	}
	if p := u.RotationPeriod; p != nil && *p != 0 && (*p < MinRotationPeriod || *p > MaxRotationPeriod) {
		return Errorf(CodeInvalidArgument, "rotation_period must be 0 (none) or between 1h and 10y")
	}
	if b := u.UsageBound; b != nil && *b != 0 && (*b < MinUsageBound || *b > MaxUsageBound) {
		return Errorf(CodeInvalidArgument, "usage_bound must be 0 (default %d) or between %d and 2^32", DefaultUsageBound, MinUsageBound)
	}
	if u.ActivateAt != nil && u.DeactivateAt != nil && !u.ActivateAt.IsZero() && !u.DeactivateAt.IsZero() && !u.DeactivateAt.After(*u.ActivateAt) {
		return Errorf(CodeInvalidArgument, "deactivate_at must be after activate_at")
	}
	return nil
}

// record returns the policy of a new key created at now.
func (u *PolicyUpdate) record(now time.Time) keyPolicy {
	p := keyPolicy{PrimarySince: now}
	u.applyTo(&p)
	return p
}

func (u *PolicyUpdate) applyTo(p *keyPolicy) {
	if u.RotationPeriod != nil {
		p.RotationPeriod = *u.RotationPeriod
	}
	if u.MinDecryptionVersion != nil {
		p.MinDecryptionVersion = *u.MinDecryptionVersion
	}
	if u.UsageBound != nil {
		p.UsageBound = *u.UsageBound
	}
	if u.ActivateAt != nil {
		p.ActivateAt = u.ActivateAt.UTC()
	}
	if u.DeactivateAt != nil {
		p.DeactivateAt = u.DeactivateAt.UTC()
	}
}

func (p *keyPolicy) usageBound() uint64 {
	if p.UsageBound == 0 {
		return DefaultUsageBound
	}
	return p.UsageBound
}

// RotateRequest asks to rotate a key. CompromiseVersions marks those older
// versions compromised in the same step (emergency rotation).
type RotateRequest struct {
	Key                string
	CompromiseVersions []uint32
}

// rotateOptions qualify an internal rotation.
type rotateOptions struct {
	by string
	// ifPrimary rotates only if this is still the primary version (usage
	// and scheduled rotations must not rotate twice).
	ifPrimary uint32
	// dueAt rotates only if the primary became primary at or before it.
	dueAt      time.Time
	compromise []uint32
	// imported is the material of the new version when it was imported
	// (the caller wipes it); nil generates fresh material. consume runs in
	// the rotation's transaction (it spends the import token).
	imported *secret.Bytes
	consume  func(storage.Tx) error
	// activateFirst activates a pre-active key that had no version yet.
	activateFirst bool
}

var errRotationNotNeeded = errors.New("rotation no longer needed")

// rotate adds a version, makes it primary and optionally marks old versions
// compromised, in one transaction audited as op.
func (s *Service) rotate(ctx context.Context, kr *seal.Keyring, ref, op string, t *target, o rotateOptions) (*keyRecord, error) {
	// Generate the new material before the write transaction: an RSA key
	// can take a second, and the transaction holds the store's write lock.
	ck, err := s.resolve(ctx, kr, ref)
	if err != nil {
		return nil, err
	}
	material, prov := o.imported, s.imported()
	var hk *hsmKey
	switch {
	case material != nil:
	case ck.rec.Origin == OriginExternal:
		return nil, Errorf(CodeUnsupportedOperation, "key %q holds imported material: rotate it by importing new material", ck.rec.Name)
	case ck.rec.Protection == ProtectionHSM:
		if hk, err = s.generateHSMKey(ck.rec.Algorithm); err != nil {
			return nil, err
		}
	default:
		if material, err = crypto.GenerateMaterial(ck.rec.Algorithm); err != nil {
			return nil, internal("rotate key", err)
		}
		defer material.Wipe()
		prov = s.generated()
	}
	for attempt := 0; ; attempt++ {
		var rec *keyRecord
		var compromised []uint32
		err := s.update(ctx, op, t, func(tx storage.Tx) error {
			cur, rev, err := loadKey(tx, kr, ref)
			if err != nil {
				return err
			}
			t.keyID, t.keyVersion = cur.ID, cur.PrimaryVersion+1
			if o.ifPrimary != 0 && cur.PrimaryVersion != o.ifPrimary {
				return errRotationNotNeeded
			}
			if !o.dueAt.IsZero() && cur.PrimarySince.After(o.dueAt) {
				return errRotationNotNeeded
			}
			if cur.State != lifecycle.Active && cur.State != lifecycle.PreActive {
				return stateError(cur.State, "only active and pre-active keys can be rotated")
			}
			now := s.now().UTC()
			next := *cur
			next.PrimaryVersion = cur.PrimaryVersion + 1
			next.UpdatedAt, next.PrimarySince = now, now
			if o.activateFirst && cur.PrimaryVersion == 0 && cur.State == lifecycle.PreActive {
				if err := next.apply(lifecycle.Activate, 0, now); err != nil {
					return err
				}
			}
			if cur.Algorithm != ck.rec.Algorithm || cur.Origin != ck.rec.Origin || cur.Protection != ck.rec.Protection {
				return errTampered(nsKeys, cur.ID)
			}
			if o.consume != nil {
				if err := o.consume(tx); err != nil {
					return err
				}
			}
			var vr *versionRecord
			if hk != nil {
				vr = s.hsmVersion(cur.ID, cur.Algorithm, next.PrimaryVersion, hk, o.by, now)
			} else if vr, err = s.sealVersion(kr, cur.ID, cur.Algorithm, next.PrimaryVersion, material, prov, o.by, now); err != nil {
				return err
			}
			if err := putVersion(tx, kr, vr); err != nil {
				return err
			}
			for _, v := range o.compromise {
				if v == 0 || v > cur.PrimaryVersion {
					return Errorf(CodeInvalidArgument, "compromise_versions: key %q has no version %d", cur.Name, v)
				}
				if err := s.setVersionState(tx, kr, cur.ID, v, lifecycle.Compromise, 0); err != nil {
					return err
				}
				compromised = append(compromised, v)
			}
			if err := casKey(tx, kr, &next, rev); err != nil {
				return err
			}
			rec = &next
			return nil
		})
		if (errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrExists)) && attempt < 10 {
			continue
		}
		if err != nil {
			s.discardHSMKey(hk)
			if errors.Is(err, errRotationNotNeeded) {
				return nil, err
			}
			return nil, s.keyError(ref, "rotate key", err)
		}
		ck := s.keys.add(rec)
		for _, v := range compromised {
			ck.setVersionState(v, lifecycle.Compromised)
		}
		t.keyID, t.keyVersion = rec.ID, rec.PrimaryVersion
		return rec, nil
	}
}

// compromiseList validates the versions an emergency rotation compromises
// and returns them sorted, without duplicates.
func compromiseList(vs []uint32) ([]uint32, error) {
	if len(vs) > 1000 {
		return nil, Errorf(CodeInvalidArgument, "at most 1000 compromise_versions")
	}
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// RotateKey adds a new version and makes it primary. Old versions keep
// decrypting. Concurrent rotations each add exactly one version. With
// CompromiseVersions it is an emergency rotation: those versions are marked
// compromised in the same step.
func (s *Service) RotateKey(ctx context.Context, req RotateRequest) (key *Key, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyRotate, t, err); err != nil {
			key = nil
		}
	}()
	kr, id, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	versions, err := compromiseList(req.CompromiseVersions)
	if err != nil {
		return nil, err
	}
	ck, err := s.resolveFor(ctx, kr, req.Key, t, access.KeyRotate)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyRotate, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	if len(versions) > 0 {
		if err := s.authorize(ctx, t, access.KeyLifecycle, keyResource(ck.rec), nil); err != nil {
			return nil, err
		}
	}
	rec, err := s.rotate(ctx, kr, ck.rec.ID, OpKeyRotate, t, rotateOptions{by: id.ID, compromise: versions})
	if err != nil {
		return nil, err
	}
	return rec.public(), nil
}

// setVersionState applies a lifecycle action to a version inside tx.
func (s *Service) setVersionState(tx storage.Tx, kr *seal.Keyring, keyID string, v uint32, a lifecycle.Action, waiting time.Duration) error {
	k := versionKey(keyID, v)
	var vr versionRecord
	rev, err := getRecord(tx, kr, nsKeyVersions, k, &vr)
	if err != nil {
		return err
	}
	if err := vr.apply(a, waiting, s.now().UTC()); err != nil {
		return fmt.Errorf("version %d: %w", v, err)
	}
	return casVersion(tx, kr, &vr, rev)
}

// UpdateKeyPolicy changes a key's rotation and use policy.
func (s *Service) UpdateKeyPolicy(ctx context.Context, ref string, u PolicyUpdate) (key *Key, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyUpdate, t, err); err != nil {
			key = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := u.validate(); err != nil {
		return nil, err
	}
	if ref, err = s.canonicalRef(ctx, kr, ref, t, access.KeyUpdate); err != nil {
		return nil, err
	}
	var rec *keyRecord
	err = s.update(ctx, OpKeyUpdate, t, func(tx storage.Tx) error {
		cur, rev, err := loadKey(tx, kr, ref)
		if err != nil {
			return err
		}
		t.keyID = cur.ID
		if err := s.authorize(ctx, t, access.KeyUpdate, keyResource(cur), nil); err != nil {
			return err
		}
		if cur.State == lifecycle.Destroyed {
			return stateError(cur.State, "a destroyed key cannot change")
		}
		next := *cur
		u.applyTo(&next.keyPolicy)
		if u.Description != nil {
			next.Description = *u.Description
		}
		if u.changesLabels() {
			next.Labels = maps.Clone(cur.Labels)
			if next.Labels == nil {
				next.Labels = map[string]string{}
			}
			maps.Copy(next.Labels, u.SetLabels)
			for _, k := range u.DeleteLabels {
				delete(next.Labels, k)
			}
			if err := validateLabels(next.Labels); err != nil {
				return err
			}
			if len(next.Labels) == 0 {
				next.Labels = nil
			}
			if err := s.authorize(ctx, t, access.KeyUpdate, keyResource(&next), nil); err != nil {
				return err
			}
		}
		if next.Origin == OriginExternal && next.RotationPeriod != 0 {
			return Errorf(CodeInvalidArgument, "keys with imported material cannot rotate on a schedule: rotate them by importing new material")
		}
		if next.MinDecryptionVersion > next.PrimaryVersion {
			return Errorf(CodeInvalidArgument, "min_decryption_version %d is above the primary version %d", next.MinDecryptionVersion, next.PrimaryVersion)
		}
		if !next.ActivateAt.IsZero() && !next.DeactivateAt.IsZero() && !next.DeactivateAt.After(next.ActivateAt) {
			return Errorf(CodeInvalidArgument, "deactivate_at must be after activate_at")
		}
		// A new rotation period must obey the policy's rotation rules;
		// other rules (labels, algorithm) are reported by PolicyCheck.
		var vs []policy.Violation
		for _, v := range s.Policy().CheckCreate(policyKey(&next)) {
			if u.RotationPeriod != nil && strings.HasPrefix(v.Rule, "rotation.") {
				vs = append(vs, v)
			}
		}
		if err := policyViolation(vs); err != nil {
			return err
		}
		next.UpdatedAt = s.now().UTC()
		if err := casKey(tx, kr, &next, rev); err != nil {
			return err
		}
		rec = &next
		return nil
	})
	if err != nil {
		return nil, s.maskNotFound(ctx, t, s.keyError(ref, "update key", err), ref, access.KeyUpdate)
	}
	s.keys.add(rec)
	return rec.public(), nil
}

// usage is this node's share of one version's usage counter. The counter
// (UsageReserved in the version record, shared by every node) hands out
// blocks of positions 1..bound; a node counts encryptions within the block it
// took, pos up to end, and takes the next block from storage when it runs
// out. Two nodes never hold the same positions, so the bound holds across a
// cluster; positions a node took but did not use (at a restart) are lost,
// which over-counts, never under-counts. Trackers live outside the key cache
// (Service.usage), so dropping a cached key does not waste its block.
type usage struct {
	mu       sync.Mutex    // serialises refills
	pos, end atomic.Uint64 // positions of this node's block: last used, last owned
}

// usageFor returns this node's tracker of a key version.
func (s *Service) usageFor(keyID string, v uint32) *usage {
	k := versionKey(keyID, v)
	if u, ok := s.usage.Load(k); ok {
		return u.(*usage)
	}
	u, _ := s.usage.LoadOrStore(k, &usage{})
	return u.(*usage)
}

// usageBlock is how many encryptions one storage write reserves.
func usageBlock(bound uint64) uint64 {
	return min(max(bound/16, 1), 65536)
}

// errVersionExhausted means the version reached its usage bound.
var errVersionExhausted = errors.New("key version reached its usage bound")

// countEncryption counts one encryption by version ve of ck. It needs a
// storage write only once per block. When the version has reached its
// bound it returns errVersionExhausted and the caller rotates.
func (s *Service) countEncryption(ctx context.Context, kr *seal.Keyring, ck *cachedKey, ve *versionEntry) error {
	bound := ck.rec.usageBound()
	u := s.usageFor(ck.rec.ID, ve.vk.Version())
	// The bound is checked on its own too: it may have been lowered below
	// what this node holds.
	if p := u.pos.Add(1); p <= u.end.Load() && p <= bound {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for {
		// A fresh position: one taken before a refill may be of the old
		// block (a wasted position over-counts, which is safe).
		p := u.pos.Add(1)
		if p <= u.end.Load() {
			if p > bound {
				return errVersionExhausted
			}
			return nil
		}
		start, end, err := s.reserveUsage(ctx, kr, ck.rec.ID, ve.vk.Version(), usageBlock(bound), bound)
		if err != nil {
			return err
		}
		// pos before end: a lock-free reader must never pair the new end
		// with a position of the old numbering.
		u.pos.Store(start)
		u.end.Store(end)
	}
}

// reserveUsage takes the next block of up to n positions of a version's
// shared usage counter, within bound, and returns the positions before and
// at its end; errVersionExhausted when none are left.
func (s *Service) reserveUsage(ctx context.Context, kr *seal.Keyring, keyID string, v uint32, n, bound uint64) (start, end uint64, err error) {
	k := versionKey(keyID, v)
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		var vr versionRecord
		rev, err := getRecord(tx, kr, nsKeyVersions, k, &vr)
		if err != nil {
			return err
		}
		if vr.UsageReserved >= bound {
			return errVersionExhausted
		}
		start, end = vr.UsageReserved, min(vr.UsageReserved+n, bound)
		vr.UsageReserved = end
		return casVersion(tx, kr, &vr, rev)
	})
	return start, end, err
}

// rotateExhausted rotates a key whose primary version v reached its usage
// bound, unless another request already did. The rotation is audited as its
// own request of the scheduler identity.
func (s *Service) rotateExhausted(ctx context.Context, kr *seal.Keyring, ck *cachedKey, v uint32) error {
	ctx = s.backgroundRequest(ctx)
	t := &target{}
	_, err := s.rotate(ctx, kr, ck.rec.ID, OpKeyRotateUsage, t, rotateOptions{by: schedulerIdentity.ID, ifPrimary: v})
	if errors.Is(err, errRotationNotNeeded) {
		_, err = s.reload(ctx, kr, ck.rec.ID)
		return err
	}
	if err != nil {
		return s.finish(ctx, OpKeyRotateUsage, t, err)
	}
	return nil
}
