package kms

import (
	"context"
	"maps"
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

// KeyImpactReport gathers the uses of a key from the audit trail. It needs
// report:read, and reads, through the primary log's index, only the records
// that name the key (in its rotated files too), batches that used it among
// other keys included.
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
	ref, err := s.canonicalRef(ctx, kr, req.Key, t, access.ReportRead)
	if err != nil {
		return nil, err
	}
	ck, err := s.resolve(ctx, kr, ref)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	src, ok := s.audit.(audit.Searcher)
	if !ok {
		return nil, Errorf(CodeUnsupportedOperation, "the audit log of this server cannot be read back")
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
	err = src.Each(audit.Filter{KeyID: ck.rec.ID, From: req.From, To: req.To}, func(r *audit.Record) error {
		if r.Operation == OpKeyImpact {
			return nil
		}
		wanted := func(v uint32) bool { return v != 0 && (len(req.Versions) == 0 || slices.Contains(req.Versions, v)) }
		// The versions the record used: its own, or a batch's for this key.
		made, rewrapped := map[uint32]int{}, map[uint32]int{}
		if makesCiphertext(r.Operation) && wanted(r.KeyVersion) {
			made[r.KeyVersion]++
		}
		if r.Operation == OpRewrap && wanted(r.FromVersion) {
			rewrapped[r.FromVersion]++
		}
		part := batchPart(r, ck.rec.ID)
		parse := func(counts map[string]int, into map[uint32]int) {
			for v, n := range counts {
				if x, err := strconv.ParseUint(v, 10, 32); err == nil && wanted(uint32(x)) {
					into[uint32(x)] += n
				}
			}
		}
		parse(part.Made, made)
		parse(part.Rewrapped, rewrapped)
		if len(req.Versions) > 0 && !wanted(r.KeyVersion) && len(made) == 0 && len(rewrapped) == 0 {
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
			for v, n := range made {
				ver(v).Made += n
			}
			for v, n := range rewrapped {
				ver(v).RewrappedTo += n
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
		for _, v := range append(slices.Collect(maps.Keys(made)), r.KeyVersion) {
			if vs := strconv.FormatUint(uint64(v), 10); v != 0 && !slices.Contains(u.Versions, vs) {
				u.Versions = append(u.Versions, vs)
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

// batchPart returns a batch record's part for the key id (zero for other
// records).
func batchPart(r *audit.Record, keyID string) audit.BatchKey {
	for _, b := range r.BatchKeys {
		if b.KeyID == keyID {
			return b
		}
	}
	return audit.BatchKey{}
}
