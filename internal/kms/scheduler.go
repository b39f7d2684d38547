package kms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// OpKeyDestroy and OpVersionDestroy name the scheduler's destructions in
// audit records.
const (
	OpKeyDestroy     = "key.destroy"
	OpVersionDestroy = "key.version.destroy"
	// OpKeyRotateScheduled and OpKeyRotateUsage name automatic rotations:
	// by rotation_period, and at the usage bound.
	OpKeyRotateScheduled = "key.rotate.scheduled"
	OpKeyRotateUsage     = "key.rotate.usage_bound"
	// OpKeyActivateScheduled and OpKeyDeactivateScheduled name state
	// changes at activate_at and deactivate_at.
	OpKeyActivateScheduled   = "key.lifecycle.activate.scheduled"
	OpKeyDeactivateScheduled = "key.lifecycle.deactivate.scheduled"
)

// schedulerIdentity is the identity background work runs and is audited as.
var schedulerIdentity = &Identity{ID: "scheduler", Name: "scheduler", Method: "internal", Root: true}

// DueReport says what one scheduler pass did.
type DueReport struct {
	// DestroyedKeys and DestroyedVersions count the destructions made.
	DestroyedKeys     int
	DestroyedVersions int
	// Rotated counts keys rotated because their rotation_period elapsed.
	Rotated int
	// Activated and Deactivated count state changes made on time.
	Activated, Deactivated int
	// ExpiredImportTokens counts unused import tokens deleted at expiry.
	ExpiredImportTokens int
	// RewrappedBlobs counts blobs moved to the current keyring generation.
	RewrappedBlobs int
	// DestroyedHSMObjects counts token objects of destroyed versions
	// destroyed on a later pass (the token was unavailable before).
	DestroyedHSMObjects int
}

// dueKind is the kind of work a dueItem needs.
type dueKind int

const (
	dueDestroy dueKind = iota
	dueRotate
	dueActivate
	dueDeactivate
)

// dueItem is work that has fallen due on a key, or on one version
// (destruction only, version != 0).
type dueItem struct {
	kind    dueKind
	keyID   string
	version uint32
	// at is the time the work fell due (for a rotation: when the primary
	// became primary), so a racing change makes it moot.
	at time.Time
}

// RunDue performs the time-based work that has fallen due: it destroys
// keys and versions whose destruction deadline has passed. Each destruction
// is audited as its own request of the "scheduler" identity. In a cluster,
// only the leader calls it. It does nothing (and returns the seal error)
// while the server is sealed.
func (s *Service) RunDue(ctx context.Context) (DueReport, error) {
	var rep DueReport
	kr, err := s.unsealed()
	if err != nil {
		return rep, err
	}
	defer kr.Release()
	due, err := s.findDue(ctx, kr, s.now())
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, d := range due {
		var err error
		switch d.kind {
		case dueDestroy:
			if err = s.destroy(ctx, kr, d); err == nil && d.version == 0 {
				rep.DestroyedKeys++
			} else if err == nil {
				rep.DestroyedVersions++
			}
		case dueRotate:
			bctx, t := s.backgroundRequest(ctx), &target{}
			_, err = s.rotate(bctx, kr, d.keyID, OpKeyRotateScheduled, t, rotateOptions{by: schedulerIdentity.ID, dueAt: d.at})
			switch {
			case err == nil:
				rep.Rotated++
			case errors.Is(err, errRotationNotNeeded):
				err = nil
			default:
				err = s.finish(bctx, OpKeyRotateScheduled, t, err)
			}
		case dueActivate, dueDeactivate:
			var done bool
			if done, err = s.timedTransition(ctx, kr, d); done && d.kind == dueActivate {
				rep.Activated++
			} else if done {
				rep.Deactivated++
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if s.rewrapDue(kr) {
		rw, err := s.RewrapKeyring(ctx)
		rep.RewrappedBlobs = rw.Moved
		if err != nil {
			errs = append(errs, err)
		}
	}
	n, err := s.expireImportTokens(ctx, kr, s.now())
	rep.ExpiredImportTokens = n
	if err != nil {
		errs = append(errs, err)
	}
	if rep.DestroyedHSMObjects, err = s.destroyListedTokenObjects(ctx, kr); err != nil {
		errs = append(errs, err)
	}
	if rep.DestroyedKeys+rep.DestroyedVersions+n > 0 {
		if c, ok := s.store.(storage.Compactor); ok {
			if err := c.Compact(ctx); err != nil {
				errs = append(errs, fmt.Errorf("kms: compact storage after destruction: %w", err))
			}
		}
	}
	return rep, errors.Join(errs...)
}

// findDue scans keys and versions for destructions whose deadline is at or
// before now.
func (s *Service) findDue(ctx context.Context, kr *seal.Keyring, now time.Time) ([]dueItem, error) {
	var due []dueItem
	err := s.store.View(ctx, func(tx storage.Tx) error {
		for _, ns := range []storage.Namespace{nsKeys, nsKeyVersions} {
			after := ""
			for {
				page, err := tx.List(ns, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
				if err != nil {
					return err
				}
				for _, it := range page.Items {
					var ts struct {
						KeyID   string `json:"key_id"`
						ID      string `json:"id"`
						Version uint32 `json:"version"`
						keyPolicy
						tombstone
					}
					if err := decodeRecord(kr, ns, it.Key, it.Value, &ts); err != nil {
						return err
					}
					if ns == nsKeyVersions {
						if ts.State == lifecycle.DestroyScheduled && !now.Before(ts.DestroyAt) {
							due = append(due, dueItem{kind: dueDestroy, keyID: ts.KeyID, version: ts.Version})
						}
						continue
					}
					switch {
					case ts.State == lifecycle.DestroyScheduled && !now.Before(ts.DestroyAt):
						due = append(due, dueItem{kind: dueDestroy, keyID: ts.ID})
					case ts.State == lifecycle.PreActive && !ts.ActivateAt.IsZero() && !now.Before(ts.ActivateAt):
						due = append(due, dueItem{kind: dueActivate, keyID: ts.ID, at: ts.ActivateAt})
					case (ts.State == lifecycle.Active || ts.State == lifecycle.Suspended) && !ts.DeactivateAt.IsZero() && !now.Before(ts.DeactivateAt):
						due = append(due, dueItem{kind: dueDeactivate, keyID: ts.ID, at: ts.DeactivateAt})
					case ts.State == lifecycle.Active && ts.RotationPeriod > 0 && !now.Before(ts.PrimarySince.Add(ts.RotationPeriod)):
						due = append(due, dueItem{kind: dueRotate, keyID: ts.ID, at: ts.PrimarySince})
					}
				}
				if after = page.Next; after == "" {
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, storageError("find due work", err)
	}
	return due, nil
}

// destroy crypto-shreds one due key (all its versions) or one due version:
// each version record is overwritten by a tombstone without material, and
// the key record (for a key) becomes a tombstone. The caller compacts
// storage afterwards so the erased bytes leave the backend's files.
func (s *Service) destroy(ctx context.Context, kr *seal.Keyring, d dueItem) error {
	ctx = s.backgroundRequest(ctx)
	op := OpKeyDestroy
	if d.version != 0 {
		op = OpVersionDestroy
	}
	t := &target{keyID: d.keyID, keyVersion: d.version}
	var tokenObjects []string
	err := s.update(ctx, op, t, func(tx storage.Tx) error {
		tokenObjects = nil
		shred := func(ver uint32, mustBeDue bool, now time.Time) error {
			label, err := s.shredVersion(tx, kr, d.keyID, ver, now, mustBeDue)
			if label != "" {
				tokenObjects = append(tokenObjects, label)
			}
			return err
		}
		now := s.now().UTC()
		key, rev, err := loadKey(tx, kr, d.keyID)
		if err != nil {
			return err
		}
		if d.version == 0 {
			if key.State != lifecycle.DestroyScheduled || now.Before(key.DestroyAt) {
				return errNotDue
			}
			if err := key.tombstone.destroyed(now); err != nil {
				return err
			}
			key.UpdatedAt = now
			if err := casKey(tx, kr, key, rev); err != nil {
				return err
			}
			for ver := uint32(1); ver <= key.PrimaryVersion; ver++ {
				if err := shred(ver, false, now); err != nil {
					return err
				}
			}
			return nil
		}
		return shred(d.version, true, now)
	})
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return s.finish(ctx, op, t, storageError("destroy", err))
	}
	s.keys.remove(d.keyID)
	// The destruction is recorded: now the token objects go. What fails
	// here stays listed and is retried on every scheduler pass.
	for _, label := range tokenObjects {
		if err := s.destroyTokenObject(ctx, kr, label); err != nil {
			s.log.Warn("destroy an HSM key object; will retry", "label", label, "error", err)
		}
	}
	return nil
}

var errNotDue = errors.New("destruction no longer due")

// backgroundRequest gives work the server starts by itself its own request
// id, audited as the scheduler identity.
func (s *Service) backgroundRequest(ctx context.Context) context.Context {
	req := NewRequest("scheduler", "", s.now())
	req.Identity = schedulerIdentity
	return WithRequest(ctx, req)
}

// destroyed moves a destroy-scheduled tombstone to destroyed.
func (t *tombstone) destroyed(now time.Time) error {
	next, err := lifecycle.Next(t.State, lifecycle.Destroy, t.PriorState)
	if err != nil {
		return err
	}
	t.State, t.PriorState, t.DestroyAt = next, "", time.Time{}
	t.DestroyedAt, t.DestroyedBy = now, schedulerIdentity.ID
	return nil
}

// shredVersion overwrites a version record with a tombstone that keeps its
// metadata and drops its material. mustBeDue requires the version itself
// to be destroy-scheduled and due; for a whole key every version goes. A
// version in the HSM is listed, in the same transaction, for the
// destruction of its token object, and its label is returned: the object
// is destroyed once the tombstone is committed (destroyTokenObject), so a
// destruction that fails to commit never leaves a record naming a
// destroyed object.
func (s *Service) shredVersion(tx storage.Tx, kr *seal.Keyring, keyID string, v uint32, now time.Time, mustBeDue bool) (string, error) {
	k := versionKey(keyID, v)
	var vr versionRecord
	rev, err := getRecord(tx, kr, nsKeyVersions, k, &vr)
	if err != nil {
		return "", err
	}
	if vr.State == lifecycle.Destroyed {
		return "", nil
	}
	if mustBeDue && (vr.State != lifecycle.DestroyScheduled || now.Before(vr.DestroyAt)) {
		return "", errNotDue
	}
	if vr.State == lifecycle.DestroyScheduled {
		if err := vr.destroyed(now); err != nil {
			return "", err
		}
	} else {
		vr.State, vr.PriorState, vr.DestroyAt = lifecycle.Destroyed, "", time.Time{}
		vr.DestroyedAt, vr.DestroyedBy = now, schedulerIdentity.ID
	}
	label := vr.HSMLabel
	if label != "" {
		if err := listTokenObject(tx, kr, label, keyID, v); err != nil {
			return "", err
		}
		vr.HSMLabel = ""
	}
	vr.Material = nil
	return label, casVersion(tx, kr, &vr, rev)
}

// timedTransition activates a pre-active key at its activate_at, or
// deactivates a key at its deactivate_at, if that is still due.
func (s *Service) timedTransition(ctx context.Context, kr *seal.Keyring, d dueItem) (bool, error) {
	ctx = s.backgroundRequest(ctx)
	op, action := OpKeyActivateScheduled, lifecycle.Activate
	if d.kind == dueDeactivate {
		op, action = OpKeyDeactivateScheduled, lifecycle.Deactivate
	}
	t := &target{keyID: d.keyID}
	var rec *keyRecord
	err := s.update(ctx, op, t, func(tx storage.Tx) error {
		cur, rev, err := loadKey(tx, kr, d.keyID)
		if err != nil {
			return err
		}
		at := cur.ActivateAt
		if d.kind == dueDeactivate {
			at = cur.DeactivateAt
		}
		if !at.Equal(d.at) || s.now().Before(at) {
			return errNotDue
		}
		next := *cur
		if err := next.apply(action, 0, s.now().UTC()); err != nil {
			return errNotDue // the key moved on; nothing to do
		}
		next.UpdatedAt = s.now().UTC()
		if err := casKey(tx, kr, &next, rev); err != nil {
			return err
		}
		rec = &next
		return nil
	})
	if errors.Is(err, errNotDue) {
		return false, nil
	}
	if err != nil {
		return false, s.finish(ctx, op, t, storageError("timed transition", err))
	}
	s.keys.add(rec)
	return true, nil
}
