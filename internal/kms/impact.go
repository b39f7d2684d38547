package kms

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
)

// OpKeyImpact names the compromise impact report in audit records.
const OpKeyImpact = "report.key_impact"

// ImpactRequest selects the uses of a key to report: some versions (none:
// all) within a time range (zero bounds: open).
type ImpactRequest struct {
	Key      string
	Versions []uint32
	From, To time.Time
}

// KeyImpact is the first thing an incident responder needs once a key is
// declared compromised: who used it, for what, how often, when first and
// last, from the audit trail.
type KeyImpact struct {
	KeyID, Key  string
	GeneratedAt time.Time
	// Records counts the matching audit records scanned.
	Records int
	Users   []KeyUser
}

// KeyUser is one identity's use of the key.
type KeyUser struct {
	Identity   string
	AuthMethod string
	// Operations counts the identity's allowed requests per operation;
	// Refused counts its denied and failed ones.
	Operations        map[string]int
	Refused           int
	FirstUse, LastUse time.Time
	Sources, Versions []string
}

// auditFiles is implemented by audit logs that can be read back.
type auditFiles interface{ Files() ([]string, error) }

// KeyImpactReport scans the audit trail for the uses of a key. It needs
// report:read, and reads the primary audit log (its rotated files too).
func (s *Service) KeyImpactReport(ctx context.Context, req ImpactRequest) (rep *KeyImpact, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyImpact, t, err); err != nil {
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
	ck, err := s.resolve(ctx, kr, req.Key)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	src, ok := s.audit.(auditFiles)
	if !ok {
		return nil, Errorf(CodeUnsupportedOperation, "the audit log of this server cannot be read back")
	}
	files, err := src.Files()
	if err != nil {
		return nil, internal("list audit files", err)
	}
	users := map[string]*KeyUser{}
	rep = &KeyImpact{KeyID: ck.rec.ID, Key: ck.rec.Name, GeneratedAt: s.now().UTC()}
	err = audit.Scan(files, func(r *audit.Record) error {
		if r.KeyID != ck.rec.ID || (len(req.Versions) > 0 && !slices.Contains(req.Versions, r.KeyVersion)) ||
			(!req.From.IsZero() && r.Time.Before(req.From)) || (!req.To.IsZero() && !r.Time.Before(req.To)) ||
			strings.HasPrefix(r.Operation, OpKeyImpact) {
			return nil
		}
		rep.Records++
		id := r.Identity
		if id == "" {
			id = "(unauthenticated)"
		}
		u := users[id]
		if u == nil {
			u = &KeyUser{Identity: id, AuthMethod: r.AuthMethod, Operations: map[string]int{}, FirstUse: r.Time}
			users[id] = u
		}
		if r.Outcome == audit.OutcomeAllowed {
			u.Operations[r.Operation]++
		} else {
			u.Refused++
		}
		if r.Time.Before(u.FirstUse) {
			u.FirstUse = r.Time
		}
		if r.Time.After(u.LastUse) {
			u.LastUse = r.Time
		}
		if r.Source != "" && !slices.Contains(u.Sources, r.Source) {
			u.Sources = append(u.Sources, r.Source)
		}
		if r.KeyVersion != 0 {
			if v := strconv.FormatUint(uint64(r.KeyVersion), 10); !slices.Contains(u.Versions, v) {
				u.Versions = append(u.Versions, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, internal("read the audit log", err)
	}
	for _, u := range users {
		slices.Sort(u.Sources)
		slices.Sort(u.Versions)
		rep.Users = append(rep.Users, *u)
	}
	slices.SortFunc(rep.Users, func(a, b KeyUser) int { return strings.Compare(a.Identity, b.Identity) })
	return rep, nil
}
