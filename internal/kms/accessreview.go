package kms

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/storage"
)

// OpAccessMatrix names the access review in audit records.
const OpAccessMatrix = "report.access_matrix"

// AccessMatrix is, for every identity, what it may do: server actions, and
// key actions key by key, each "allowed" or "conditional" (actions it may
// never do are left out). It is computed with the evaluator that enforces
// access, for periodic access reviews.
type AccessMatrix struct {
	GeneratedAt time.Time
	Identities  []IdentityAccess
}

// IdentityAccess is one identity's row of the matrix.
type IdentityAccess struct {
	ID, Name string
	Status   IdentityStatus
	Server   map[access.Action]access.Grant
	Keys     []KeyAccess
}

// KeyAccess is what an identity may do with one key.
type KeyAccess struct {
	KeyID, Key string
	Actions    map[access.Action]access.Grant
}

// AccessReview computes the access matrix. It needs report:read.
func (s *Service) AccessReview(ctx context.Context) (m *AccessMatrix, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpAccessMatrix, t, err); err != nil {
			m = nil
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
	m = &AccessMatrix{GeneratedAt: s.now().UTC()}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		var keys []*keyRecord
		if err := eachRecord(tx, kr, nsKeys, func(_ string, r *keyRecord) error {
			keys = append(keys, r)
			return nil
		}); err != nil {
			return err
		}
		return eachRecord(tx, kr, nsIdentities, func(_ string, ir *identityRecord) error {
			id, err := s.identityFromRecord(tx, kr, ir)
			if err != nil {
				return err
			}
			row := IdentityAccess{ID: ir.ID, Name: ir.Name, Status: ir.Status, Server: map[access.Action]access.Grant{}}
			for _, a := range access.Actions() {
				if a.OnKey() {
					continue
				}
				if g := access.Effective(id.Policies, a, access.Resource{}); g != access.Denied {
					row.Server[a] = g
				}
			}
			for _, k := range keys {
				ka := KeyAccess{KeyID: k.ID, Key: k.Name, Actions: map[access.Action]access.Grant{}}
				for _, a := range access.Actions() {
					if !a.OnKey() {
						continue
					}
					if g := access.Effective(id.Policies, a, keyResource(k)); g != access.Denied {
						ka.Actions[a] = g
					}
				}
				if len(ka.Actions) > 0 {
					row.Keys = append(row.Keys, ka)
				}
			}
			m.Identities = append(m.Identities, row)
			return nil
		})
	})
	if err != nil {
		return nil, storageError("access review", err)
	}
	slices.SortFunc(m.Identities, func(a, b IdentityAccess) int { return strings.Compare(a.Name, b.Name) })
	for _, row := range m.Identities {
		slices.SortFunc(row.Keys, func(a, b KeyAccess) int { return strings.Compare(a.Key, b.Key) })
	}
	return m, nil
}
