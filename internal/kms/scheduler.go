package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
)

// schedulerIdentity is the identity background work runs and is audited as.
var schedulerIdentity = &Identity{ID: "scheduler", Name: "scheduler", Method: "internal", Root: true}

// DueReport says what one scheduler pass did.
type DueReport struct {
	// DestroyedKeys and DestroyedVersions count the destructions made.
	DestroyedKeys     int
	DestroyedVersions int
}

// dueItem is a key (Version 0) or a key version whose destruction is due.
type dueItem struct {
	keyID   string
	version uint32
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
		if err := s.destroy(ctx, kr, d); err != nil {
			errs = append(errs, err)
			continue
		}
		if d.version == 0 {
			rep.DestroyedKeys++
		} else {
			rep.DestroyedVersions++
		}
	}
	if rep.DestroyedKeys+rep.DestroyedVersions > 0 {
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
						tombstone
					}
					if err := decodeRecord(kr, ns, it.Key, it.Value, &ts); err != nil {
						return err
					}
					if ts.State == lifecycle.DestroyScheduled && !now.Before(ts.DestroyAt) {
						if ns == nsKeys {
							due = append(due, dueItem{keyID: ts.ID})
						} else {
							due = append(due, dueItem{keyID: ts.KeyID, version: ts.Version})
						}
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
	var idb [12]byte
	_, _ = rand.Read(idb[:])
	ctx = WithRequest(ctx, &Request{ID: hex.EncodeToString(idb[:]), Interface: "scheduler", Received: s.now(), Identity: schedulerIdentity})
	op := OpKeyDestroy
	if d.version != 0 {
		op = OpVersionDestroy
	}
	t := &target{keyID: d.keyID, keyVersion: d.version}
	err := s.update(ctx, op, t, func(tx storage.Tx) error {
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
			v, err := encodeRecord(kr, nsKeys, key.ID, key)
			if err != nil {
				return err
			}
			if _, err := tx.CompareAndSwap(nsKeys, key.ID, v, rev); err != nil {
				return err
			}
			for ver := uint32(1); ver <= key.PrimaryVersion; ver++ {
				if err := shredVersion(tx, kr, key.ID, ver, now, false); err != nil {
					return err
				}
			}
			return nil
		}
		return shredVersion(tx, kr, key.ID, d.version, now, true)
	})
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return s.finish(ctx, op, t, storageError("destroy", err))
	}
	s.keys.remove(d.keyID)
	return nil
}

var errNotDue = errors.New("destruction no longer due")

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
// to be destroy-scheduled and due; for a whole key every version goes.
func shredVersion(tx storage.Tx, kr *seal.Keyring, keyID string, v uint32, now time.Time, mustBeDue bool) error {
	k := versionKey(keyID, v)
	var vr versionRecord
	rev, err := getRecord(tx, kr, nsKeyVersions, k, &vr)
	if err != nil {
		return err
	}
	if vr.State == lifecycle.Destroyed {
		return nil
	}
	if mustBeDue && (vr.State != lifecycle.DestroyScheduled || now.Before(vr.DestroyAt)) {
		return errNotDue
	}
	if vr.State == lifecycle.DestroyScheduled {
		if err := vr.destroyed(now); err != nil {
			return err
		}
	} else {
		vr.State, vr.PriorState, vr.DestroyAt = lifecycle.Destroyed, "", time.Time{}
		vr.DestroyedAt, vr.DestroyedBy = now, schedulerIdentity.ID
	}
	vr.Material = nil
	val, err := encodeRecord(kr, nsKeyVersions, k, &vr)
	if err != nil {
		return err
	}
	_, err = tx.CompareAndSwap(nsKeyVersions, k, val, rev)
	return err
}
