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
	// Versions accounts, per key version, for the ciphertexts the trail
	// shows it made and those rewrapped away from it since: where the
	// trail reaches back to the version's creation, Outstanding is how many
	// of its ciphertexts may still exist (some may have been discarded
	// without a trace).
	Versions []VersionCiphertexts
}

// VersionCiphertexts is the ciphertext accounting of one key version.
type VersionCiphertexts struct {
	Version     uint32
	Made        int // encryptions, data keys and data key pairs, rewraps into it
	RewrappedTo int // rewraps of its ciphertexts to a newer version
	Outstanding int
}

// makesCiphertext reports whether an allowed request of op returns a new
// ciphertext under the record's key version.
func makesCiphertext(op string) bool {
	switch op {
	case OpEncrypt, OpDataKey, OpDataKeyPair, OpRewrap:
		return true
	}
	return false
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
	versions := map[uint32]*VersionCiphertexts{}
	ver := func(v uint32) *VersionCiphertexts {
		if versions[v] == nil {
			versions[v] = &VersionCiphertexts{Version: v}
		}
		return versions[v]
	}
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
			if makesCiphertext(r.Operation) && r.KeyVersion != 0 {
				ver(r.KeyVersion).Made++
			}
			if r.Operation == OpRewrap && r.FromVersion != 0 {
				ver(r.FromVersion).RewrappedTo++
			}
			for v, n := range r.BatchMade {
				if x, err := strconv.ParseUint(v, 10, 32); err == nil {
					ver(uint32(x)).Made += n
				}
			}
			for v, n := range r.BatchRewrapped {
				if x, err := strconv.ParseUint(v, 10, 32); err == nil {
					ver(uint32(x)).RewrappedTo += n
				}
			}
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
	for _, v := range versions {
		v.Outstanding = max(v.Made-v.RewrappedTo, 0)
		rep.Versions = append(rep.Versions, *v)
	}
	slices.SortFunc(rep.Versions, func(a, b VersionCiphertexts) int { return int(a.Version) - int(b.Version) })
	return rep, nil
}
