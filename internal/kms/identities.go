package kms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names of identity management in audit records.
const (
	OpIdentityCreate = "identity.create"
	OpIdentityGet    = "identity.get"
	OpIdentityList   = "identity.list"
	OpIdentityUpdate = "identity.update"
	OpIdentityDelete = "identity.delete"
)

// Storage namespaces of identities.
const (
	nsIdentities    storage.Namespace = "identities"
	nsIdentityNames storage.Namespace = "identity_names"
)

// IdentityType says whether an identity is a program or a person.
type IdentityType string

// Identity types.
const (
	IdentityService IdentityType = "service"
	IdentityHuman   IdentityType = "human"
)

// IdentityStatus is whether an identity may authenticate.
type IdentityStatus string

// Identity statuses.
const (
	StatusActive   IdentityStatus = "active"
	StatusDisabled IdentityStatus = "disabled"
)

// IdentityInfo is an identity's metadata: who it is, and what it is
// granted (roles on scopes, and named access policies).
type IdentityInfo struct {
	ID       string
	Name     string
	Type     IdentityType
	Owner    string
	Status   IdentityStatus
	Roles    []access.Binding
	Policies []string
	// Certificates are the public-key fingerprints (CertFingerprint) of
	// the client certificates that authenticate the identity over mTLS.
	Certificates []string
	CreatedAt    time.Time
	CreatedBy    string
	UpdatedAt    time.Time
}

// identityRecord is the stored form of IdentityInfo.
type identityRecord struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Type      IdentityType     `json:"type"`
	Owner     string           `json:"owner,omitempty"`
	Status    IdentityStatus   `json:"status"`
	Roles     []access.Binding `json:"roles,omitempty"`
	Policies  []string         `json:"policies,omitempty"`
	Certs     []string         `json:"certificates,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	CreatedBy string           `json:"created_by"`
	UpdatedAt time.Time        `json:"updated_at"`
}

func (r *identityRecord) public() *IdentityInfo {
	return &IdentityInfo{ID: r.ID, Name: r.Name, Type: r.Type, Owner: r.Owner, Status: r.Status,
		Roles: slices.Clone(r.Roles), Policies: slices.Clone(r.Policies), Certificates: slices.Clone(r.Certs), CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt}
}

// CreateIdentityRequest describes a new identity.
type CreateIdentityRequest struct {
	Name     string
	Type     IdentityType
	Owner    string
	Roles    []access.Binding
	Policies []string
	// Certificates bind client certificates (CertFingerprint) to the
	// identity, for mTLS.
	Certificates []string
}

// checkGrants validates roles and policy names and the separation-of-duties
// rules among the roles.
func (s *Service) checkGrants(tx storage.Tx, kr *seal.Keyring, roles []access.Binding, policies []string) error {
	for i, b := range roles {
		if _, err := b.Policy(); err != nil {
			return Errorf(CodeInvalidArgument, "roles: %s", err.Error())
		}
		if err := access.CheckSoD(s.sod, roles[:i], b); err != nil {
			return Errorf(CodeSoDViolation, "%s", err.Error())
		}
	}
	for _, name := range policies {
		var p accessPolicyRecord
		if _, err := getRecord(tx, kr, nsAccessPolicies, name, &p); errors.Is(err, storage.ErrNotFound) {
			return Errorf(CodeInvalidArgument, "policies: no access policy named %q", truncate(name, 64))
		} else if err != nil {
			return err
		}
	}
	return nil
}

func validIdentity(name string, typ IdentityType, owner string) error {
	if !namePattern.MatchString(name) || isUUID(name) {
		return Errorf(CodeInvalidArgument, "name must be 1-128 characters of [A-Za-z0-9._-], start with a letter or digit, and not be a UUID")
	}
	if typ != IdentityService && typ != IdentityHuman {
		return Errorf(CodeInvalidArgument, "type must be service or human")
	}
	if len(owner) > maxOwner || !printable(owner) {
		return Errorf(CodeInvalidArgument, "owner must be at most %d printable characters", maxOwner)
	}
	return nil
}

// CreateIdentity creates an identity with its grants. Granting two roles
// that separation of duties keeps apart is refused, with the reason.
func (s *Service) CreateIdentity(ctx context.Context, req CreateIdentityRequest) (info *IdentityInfo, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpIdentityCreate, t, err); err != nil {
			info = nil
		}
	}()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.IdentityCreate, access.Resource{}, nil); err != nil {
		return nil, err
	}
	if err := validIdentity(req.Name, req.Type, req.Owner); err != nil {
		return nil, err
	}
	if err := validFingerprints(req.Certificates); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	rec := &identityRecord{ID: uuid.NewString(), Name: req.Name, Type: req.Type, Owner: req.Owner, Status: StatusActive,
		Roles: req.Roles, Policies: req.Policies, Certs: req.Certificates, CreatedAt: now, CreatedBy: caller.ID, UpdatedAt: now}
	t.resource = rec.ID
	var spend func(storage.Tx) error
	if len(rec.Roles)+len(rec.Policies)+len(rec.Certs) > 0 {
		if spend, err = s.grantControl(ctx, kr, t, rec.Name, &rec.Roles, &rec.Policies, &rec.Certs); err != nil {
			return nil, err
		}
	}
	err = s.update(ctx, OpIdentityCreate, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		if err := s.checkGrants(tx, kr, rec.Roles, rec.Policies); err != nil {
			return err
		}
		idx, err := encodeRecord(kr, nsIdentityNames, rec.Name, nameIndex{ID: rec.ID})
		if err != nil {
			return err
		}
		if _, err := tx.Create(nsIdentityNames, rec.Name, idx); err != nil {
			return err
		}
		v, err := encodeRecord(kr, nsIdentities, rec.ID, rec)
		if err != nil {
			return err
		}
		if _, err := tx.Create(nsIdentities, rec.ID, v); err != nil {
			return err
		}
		return bindCertificates(tx, kr, rec.ID, nil, rec.Certs)
	})
	if errors.Is(err, storage.ErrExists) {
		return nil, Errorf(CodeConflict, "an identity named %q already exists", req.Name)
	}
	if err != nil {
		return nil, storageError("create identity", err)
	}
	return rec.public(), nil
}

// grantControl applies dual control to a change of an identity's grants.
// An absent list (nil) and an empty one differ: the approval binds which
// lists the request changes, not only their contents.
func (s *Service) grantControl(ctx context.Context, kr *seal.Keyring, t *target, identity string, roles *[]access.Binding, policies, certs *[]string) (func(storage.Tx) error, error) {
	r, err := json.Marshal(roles)
	if err != nil {
		return nil, internal("encode roles", err)
	}
	p, err := json.Marshal(policies)
	if err != nil {
		return nil, internal("encode policies", err)
	}
	c, err := json.Marshal(certs)
	if err != nil {
		return nil, internal("encode certificates", err)
	}
	return s.dualControlIn(ctx, kr, t, gated{action: access.IdentityUpdate, op: OpIdentityUpdate,
		summary: fmt.Sprintf("set, for identity %q, roles %s, policies %s and client certificates %s (null: unchanged)", identity, r, p, c),
		parts:   []string{identity, string(r), string(p), string(c)}})
}

// loadIdentity reads an identity by id or name.
func loadIdentity(tx storage.Tx, kr *seal.Keyring, ref string) (*identityRecord, uint64, error) {
	id := ref
	if !isUUID(ref) {
		if !namePattern.MatchString(ref) {
			return nil, 0, storage.ErrNotFound
		}
		var idx nameIndex
		if _, err := getRecord(tx, kr, nsIdentityNames, ref, &idx); err != nil {
			return nil, 0, err
		}
		id = idx.ID
	}
	rec := new(identityRecord)
	rev, err := getRecord(tx, kr, nsIdentities, id, rec)
	if err != nil {
		return nil, 0, err
	}
	if rec.ID != id || (!isUUID(ref) && rec.Name != ref) {
		return nil, 0, errTampered(nsIdentities, id)
	}
	return rec, rev, nil
}

func identityNotFound(ref string) error {
	return Errorf(CodeIdentityNotFound, "identity %q not found", truncate(ref, 140))
}

// GetIdentity returns an identity by name or id.
func (s *Service) GetIdentity(ctx context.Context, ref string) (info *IdentityInfo, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpIdentityGet, t, err); err != nil {
			info = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.IdentityRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	var rec *identityRecord
	err = s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		rec, _, err = loadIdentity(tx, kr, ref)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, identityNotFound(ref)
	}
	if err != nil {
		return nil, storageError("get identity", err)
	}
	t.resource = rec.ID
	return rec.public(), nil
}

// ListIdentities returns every identity, by name.
func (s *Service) ListIdentities(ctx context.Context) (out []*IdentityInfo, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpIdentityList, t, err); err != nil {
			out = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.IdentityRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		after := ""
		for {
			page, err := tx.List(nsIdentityNames, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
			if err != nil {
				return err
			}
			for _, it := range page.Items {
				rec, _, err := loadIdentity(tx, kr, it.Key)
				if err != nil {
					return err
				}
				out = append(out, rec.public())
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	if err != nil {
		return nil, storageError("list identities", err)
	}
	return out, nil
}

// UpdateIdentityRequest changes an identity; nil fields stay as they are.
type UpdateIdentityRequest struct {
	Identity string
	Status   *IdentityStatus
	Owner    *string
	Roles    *[]access.Binding
	Policies *[]string
	// Certificates replaces the identity's client certificate bindings.
	Certificates *[]string
}

// UpdateIdentity changes an identity's status, owner or grants. Disabling an
// identity denies its very next request; its tokens stay but do not work
// until it is enabled again.
func (s *Service) UpdateIdentity(ctx context.Context, req UpdateIdentityRequest) (info *IdentityInfo, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpIdentityUpdate, t, err); err != nil {
			info = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.IdentityUpdate, access.Resource{}, nil); err != nil {
		return nil, err
	}
	if st := req.Status; st != nil && *st != StatusActive && *st != StatusDisabled {
		return nil, Errorf(CodeInvalidArgument, "status must be active or disabled")
	}
	if o := req.Owner; o != nil && (len(*o) > maxOwner || !printable(*o)) {
		return nil, Errorf(CodeInvalidArgument, "owner must be at most %d printable characters", maxOwner)
	}
	if c := req.Certificates; c != nil {
		if err := validFingerprints(*c); err != nil {
			return nil, err
		}
	}
	var spend func(storage.Tx) error
	if req.Roles != nil || req.Policies != nil || req.Certificates != nil {
		if spend, err = s.grantControl(ctx, kr, t, req.Identity, req.Roles, req.Policies, req.Certificates); err != nil {
			return nil, err
		}
	}
	var rec *identityRecord
	err = s.update(ctx, OpIdentityUpdate, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		cur, rev, err := loadIdentity(tx, kr, req.Identity)
		if err != nil {
			return err
		}
		t.resource = cur.ID
		next := *cur
		if req.Status != nil {
			next.Status = *req.Status
		}
		if req.Owner != nil {
			next.Owner = *req.Owner
		}
		if req.Roles != nil {
			next.Roles = *req.Roles
		}
		if req.Policies != nil {
			next.Policies = *req.Policies
		}
		if req.Certificates != nil {
			next.Certs = *req.Certificates
			if err := bindCertificates(tx, kr, next.ID, cur.Certs, next.Certs); err != nil {
				return err
			}
		}
		if err := s.checkGrants(tx, kr, next.Roles, next.Policies); err != nil {
			return err
		}
		next.UpdatedAt = s.now().UTC()
		v, err := encodeRecord(kr, nsIdentities, next.ID, &next)
		if err != nil {
			return err
		}
		if _, err := tx.CompareAndSwap(nsIdentities, next.ID, v, rev); err != nil {
			return err
		}
		rec = &next
		return s.keepAnAdministrator(tx, kr)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, identityNotFound(req.Identity)
	}
	if err != nil {
		return nil, storageError("update identity", err)
	}
	return rec.public(), nil
}

// DeleteIdentity deletes an identity and every token it holds.
func (s *Service) DeleteIdentity(ctx context.Context, ref string) (err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpIdentityDelete, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.IdentityDelete, access.Resource{}, nil); err != nil {
		return err
	}
	err = s.update(ctx, OpIdentityDelete, t, func(tx storage.Tx) error {
		cur, _, err := loadIdentity(tx, kr, ref)
		if err != nil {
			return err
		}
		t.resource = cur.ID
		tokens, err := tokensOf(tx, kr, cur.ID)
		if err != nil {
			return err
		}
		for hash, accessor := range tokens {
			if err := tx.Delete(nsTokens, hash); err != nil {
				return err
			}
			if err := tx.Delete(nsTokenAccessors, accessor); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if err := bindCertificates(tx, kr, cur.ID, cur.Certs, nil); err != nil {
			return err
		}
		if err := deleteAccessKeysOf(tx, kr, cur.ID); err != nil {
			return err
		}
		if err := tx.Delete(nsMFA, cur.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := tx.Delete(nsIdentityNames, cur.Name); err != nil {
			return err
		}
		if err := tx.Delete(nsIdentities, cur.ID); err != nil {
			return err
		}
		return s.keepAnAdministrator(tx, kr)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return identityNotFound(ref)
	}
	if err != nil {
		return storageError("delete identity", err)
	}
	return nil
}

// tokensOf returns an identity's tokens: hash → accessor.
func tokensOf(tx storage.Tx, kr *seal.Keyring, identityID string) (map[string]string, error) {
	out := map[string]string{}
	err := eachRecord(tx, kr, nsTokens, func(hash string, rec *tokenRecord) error {
		if rec.IdentityID == identityID {
			out[hash] = rec.Accessor
		}
		return nil
	})
	return out, err
}
