package kms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names of token management in audit records.
const (
	OpTokenCreate = "token.create"
	OpTokenRevoke = "token.revoke"
	OpTokenRenew  = "token.renew"
)

// nsTokenAccessors maps a token's accessor to its hash, so a token can be
// revoked by its accessor (which is not secret) without knowing it.
const nsTokenAccessors storage.Namespace = "token_accessors"

// Token lifetimes.
const (
	DefaultTokenTTL = 30 * 24 * time.Hour
	MaxTokenTTL     = 365 * 24 * time.Hour
	MinTokenTTL     = time.Minute
)

// CreateTokenRequest issues a bearer token for an identity.
type CreateTokenRequest struct {
	Identity string
	// TTL is the token's lifetime and what each renewal extends it by;
	// zero means DefaultTokenTTL.
	TTL time.Duration
	// Name describes the token (e.g. the host it is deployed on).
	Name string
}

// IssuedToken is a new token: shown once, stored only as its hash.
type IssuedToken struct {
	Token      string
	Accessor   string
	IdentityID string
	ExpiresAt  time.Time
}

// CreateToken issues a bearer token for an identity. The token is
// returned once; the server keeps only its SHA-256 hash.
func (s *Service) CreateToken(ctx context.Context, req CreateTokenRequest) (tok *IssuedToken, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpTokenCreate, t, err); err != nil {
			tok = nil
		}
	}()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.TokenCreate, access.Resource{}, nil); err != nil {
		return nil, err
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < MinTokenTTL || ttl > MaxTokenTTL {
		return nil, Errorf(CodeInvalidArgument, "ttl must be between 1m and 365d")
	}
	if len(req.Name) > 128 || !printable(req.Name) {
		return nil, Errorf(CodeInvalidArgument, "name must be at most 128 printable characters")
	}
	token, hash, err := newToken()
	if err != nil {
		return nil, internal("generate token", err)
	}
	now := s.now().UTC()
	rec := &tokenRecord{Hash: hash, Accessor: "tok-" + uuid.NewString(), Name: req.Name, CreatedAt: now,
		ExpiresAt: now.Add(ttl), TTL: ttl, CreatedBy: caller.ID}
	spend, err := s.dualControlIn(ctx, kr, t, gated{action: access.TokenCreate, op: OpTokenCreate,
		summary: fmt.Sprintf("issue a token named %q (ttl %s) for identity %q", req.Name, ttl, req.Identity),
		parts:   []string{req.Identity, ttl.String(), req.Name}})
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, OpTokenCreate, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		ir, _, err := loadIdentity(tx, kr, req.Identity)
		if err != nil {
			return err
		}
		rec.IdentityID, t.resource = ir.ID, ir.ID
		if ir.Status != StatusActive {
			return Errorf(CodeConflict, "identity %q is disabled", ir.Name)
		}
		if err := putToken(tx, kr, rec); err != nil {
			return err
		}
		return putAccessor(tx, kr, rec)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, identityNotFound(req.Identity)
	}
	if err != nil {
		return nil, storageError("create token", err)
	}
	return &IssuedToken{Token: token, Accessor: rec.Accessor, IdentityID: rec.IdentityID, ExpiresAt: rec.ExpiresAt}, nil
}

func putAccessor(tx storage.Tx, kr *seal.Keyring, rec *tokenRecord) error {
	v, err := encodeRecord(kr, nsTokenAccessors, rec.Accessor, nameIndex{ID: rec.Hash})
	if err != nil {
		return err
	}
	_, err = tx.Create(nsTokenAccessors, rec.Accessor, v)
	return err
}

// RevokeToken revokes a token by its accessor: its very next use is
// refused. Anyone may revoke their own token; revoking others' needs
// token:revoke. The root token can be revoked only once an active identity
// holds the admin role, so the server is never left without one.
func (s *Service) RevokeToken(ctx context.Context, accessor string) (err error) {
	t := &target{resource: truncate(accessor, 64)}
	defer func() { err = s.finish(ctx, OpTokenRevoke, t, err) }()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	if caller.Credential != accessor {
		if err := s.authorize(ctx, t, access.TokenRevoke, access.Resource{}, nil); err != nil {
			return err
		}
	}
	var hash string
	err = s.update(ctx, OpTokenRevoke, t, func(tx storage.Tx) error {
		var rec tokenRecord
		var err error
		if hash, err = lookupAccessor(tx, kr, accessor, &rec); err != nil {
			return err
		}
		if err := tx.Delete(nsTokens, hash); err != nil {
			return err
		}
		if err := tx.Delete(nsTokenAccessors, accessor); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		return s.keepAnAdministrator(tx, kr)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return Errorf(CodeTokenNotFound, "no token has accessor %q", truncate(accessor, 64))
	}
	if err != nil {
		return storageError("revoke token", err)
	}
	return nil
}

// lookupAccessor finds a token record by accessor. The root token, created
// before accessors were indexed, is found by a scan.
func lookupAccessor(tx storage.Tx, kr *seal.Keyring, accessor string, rec *tokenRecord) (string, error) {
	if !storage.ValidKey(accessor) {
		return "", storage.ErrNotFound
	}
	var idx nameIndex
	_, err := getRecord(tx, kr, nsTokenAccessors, accessor, &idx)
	if errors.Is(err, storage.ErrNotFound) {
		return scanAccessor(tx, kr, accessor, rec)
	}
	if err != nil {
		return "", err
	}
	if _, err := getRecord(tx, kr, nsTokens, idx.ID, rec); err != nil {
		return "", err
	}
	if rec.Accessor != accessor {
		return "", errTampered(nsTokenAccessors, accessor)
	}
	return idx.ID, nil
}

func scanAccessor(tx storage.Tx, kr *seal.Keyring, accessor string, rec *tokenRecord) (string, error) {
	after := ""
	for {
		page, err := tx.List(nsTokens, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
		if err != nil {
			return "", err
		}
		for _, it := range page.Items {
			if err := decodeRecord(kr, nsTokens, it.Key, it.Value, rec); err != nil {
				return "", err
			}
			if rec.Accessor == accessor {
				return it.Key, nil
			}
		}
		if page.Next == "" {
			return "", storage.ErrNotFound
		}
		after = page.Next
	}
}

// adminExists reports whether an active identity holding the admin role
// has a token it can use: someone who can still administer the server.
func adminExists(tx storage.Tx, kr *seal.Keyring, now time.Time) (bool, error) {
	admins := map[string]bool{}
	found := false
	err := eachRecord(tx, kr, nsIdentities, func(_ string, rec *identityRecord) error {
		for _, b := range rec.Roles {
			if rec.Status == StatusActive && b.Role == access.RoleAdmin {
				admins[rec.ID] = true
				found = found || len(rec.Certs) > 0 // authenticates by certificate
			}
		}
		return nil
	})
	if err != nil || len(admins) == 0 || found {
		return found, err
	}
	err = eachRecord(tx, kr, nsTokens, func(_ string, rec *tokenRecord) error {
		found = found || (admins[rec.IdentityID] && (rec.ExpiresAt.IsZero() || now.Before(rec.ExpiresAt)))
		return nil
	})
	return found, err
}

// rootTokenExists reports whether the root token has not been revoked.
func rootTokenExists(tx storage.Tx, kr *seal.Keyring) (bool, error) {
	found := false
	err := eachRecord(tx, kr, nsTokens, func(_ string, rec *tokenRecord) error {
		found = found || rec.Root
		return nil
	})
	return found, err
}

// keepAnAdministrator refuses, inside a change's transaction, a change that
// would leave the server with neither a root token nor an usable admin.
func (s *Service) keepAnAdministrator(tx storage.Tx, kr *seal.Keyring) error {
	if ok, err := rootTokenExists(tx, kr); err != nil || ok {
		return err
	}
	ok, err := adminExists(tx, kr, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(CodeConflict, "this change would leave the server without an administrator: the root token is revoked and no other active admin identity has an unexpired token or a client certificate")
	}
	return nil
}

// eachRecord decodes every record of a namespace in key order.
func eachRecord[T any](tx storage.Tx, kr *seal.Keyring, ns storage.Namespace, fn func(key string, rec *T) error) error {
	after := ""
	for {
		page, err := tx.List(ns, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			rec := new(T)
			if err := decodeRecord(kr, ns, it.Key, it.Value, rec); err != nil {
				return err
			}
			if err := fn(it.Key, rec); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// RenewToken extends the caller's own token by its TTL from now. The root
// token and tokens without a TTL do not renew.
func (s *Service) RenewToken(ctx context.Context) (tok *IssuedToken, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpTokenRenew, t, err); err != nil {
			tok = nil
		}
	}()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	t.resource = caller.Credential
	var rec tokenRecord
	var hash string
	err = s.update(ctx, OpTokenRenew, t, func(tx storage.Tx) error {
		var err error
		if hash, err = lookupAccessor(tx, kr, caller.Credential, &rec); err != nil {
			return err
		}
		if rec.Root || rec.TTL == 0 {
			return Errorf(CodeUnsupportedOperation, "this token does not renew")
		}
		rec.ExpiresAt = s.now().UTC().Add(rec.TTL)
		v, err := encodeRecord(kr, nsTokens, hash, &rec)
		if err != nil {
			return err
		}
		_, err = tx.Put(nsTokens, hash, v)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, storageError("renew token", err)
	}
	return &IssuedToken{Accessor: rec.Accessor, IdentityID: rec.IdentityID, ExpiresAt: rec.ExpiresAt}, nil
}
