package kms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// tokenPrefix starts every Arca token, so leaked tokens are easy to scan for.
const tokenPrefix = "arca_"

// tokenRecord is a stored token. The token itself is never stored: the
// record's key is the hex SHA-256 of the token, repeated in Hash.
type tokenRecord struct {
	Hash      string    `json:"hash"`
	Accessor  string    `json:"accessor"`
	Name      string    `json:"name"`
	Root      bool      `json:"root"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// IdentityID is the identity the token authenticates (empty for root).
	IdentityID string `json:"identity_id,omitempty"`
	// TTL is the lifetime a renewal grants (zero: not renewable).
	TTL time.Duration `json:"ttl,omitempty"`
	// CreatedBy is who issued the token.
	CreatedBy string `json:"created_by,omitempty"`
	// MFAAt is when the identity passed a second factor to get this
	// (session) token; zero for other tokens.
	MFAAt time.Time `json:"mfa_at,omitzero"`
}

// newToken returns a fresh random token and its hash.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// putToken stores a token record in tx.
func putToken(tx storage.Tx, kr *seal.Keyring, rec *tokenRecord) error {
	v, err := encodeRecord(kr, nsTokens, rec.Hash, rec)
	if err != nil {
		return err
	}
	_, err = tx.Create(nsTokens, rec.Hash, v)
	return err
}

func newRootTokenRecord(hash string, now time.Time) *tokenRecord {
	return &tokenRecord{Hash: hash, Accessor: "root-" + uuid.NewString()[:8], Name: "root", Root: true, CreatedAt: now.UTC()}
}

// Authenticate maps a bearer token to an identity. The token is looked up by
// its SHA-256 hash and the stored hash is compared in constant time. It fails
// with CodeSealed while sealed (token records are authenticated with the
// keyring) and CodeUnauthorized for any unknown, malformed or expired token.
func (s *Service) Authenticate(ctx context.Context, token string) (*Identity, error) {
	kr, err := s.unsealed()
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authBrake(ctx); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errUnauthorized // no credential: nothing was guessed
	}
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 256 {
		s.limits.failed(RequestFrom(ctx).Source, s.now())
		return nil, errUnauthorized
	}
	hash := hashToken(token)
	// The token, its identity and the identity's policies are read on
	// every request, in one transaction, so that a revocation, a disabled
	// identity or a changed policy applies to the very next request: no
	// cache can outlive them.
	var id *Identity
	var expiresAt time.Time
	err = s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		id, expiresAt, err = s.identityOf(tx, kr, hash)
		return err
	})
	key := "token:" + hash
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, errUnauthorized) {
		s.grace.forget(key)
		s.limits.failed(RequestFrom(ctx).Source, s.now())
		return nil, errUnauthorized
	}
	if err != nil {
		if id := s.grace.during(err, key, s.now()); id != nil {
			return id, nil
		}
		return nil, storageError("authenticate", err)
	}
	s.grace.confirmed(key, id, expiresAt, s.now())
	return id, nil
}

// identityOf resolves a token hash to its identity inside tx, and returns
// the token's expiry too (zero: none).
func (s *Service) identityOf(tx storage.Tx, kr *seal.Keyring, hash string) (*Identity, time.Time, error) {
	rec := new(tokenRecord)
	if _, err := getRecord(tx, kr, nsTokens, hash, rec); err != nil {
		return nil, time.Time{}, err
	}
	if subtle.ConstantTimeCompare([]byte(rec.Hash), []byte(hash)) != 1 {
		return nil, time.Time{}, errUnauthorized
	}
	if !rec.ExpiresAt.IsZero() && !s.now().Before(rec.ExpiresAt) {
		return nil, time.Time{}, errUnauthorized
	}
	id := &Identity{ID: rec.Accessor, Name: rec.Name, Method: "token", Root: rec.Root, Credential: rec.Accessor}
	if rec.IdentityID == "" {
		if !rec.Root {
			return nil, time.Time{}, errUnauthorized
		}
		return id, rec.ExpiresAt, nil
	}
	ir, _, err := loadIdentity(tx, kr, rec.IdentityID)
	if err != nil {
		return nil, time.Time{}, err
	}
	if ir.Status != StatusActive {
		return nil, time.Time{}, errUnauthorized
	}
	full, err := s.identityFromRecord(tx, kr, ir)
	if err != nil {
		return nil, time.Time{}, err
	}
	full.Method, full.Credential, full.MFAAt = id.Method, id.Credential, rec.MFAAt
	return full, rec.ExpiresAt, nil
}

// identityFromRecord builds the authenticated identity of an identity
// record, with its effective policies read inside tx.
func (s *Service) identityFromRecord(tx storage.Tx, kr *seal.Keyring, ir *identityRecord) (*Identity, error) {
	named := map[string]access.Policy{}
	for _, n := range ir.Policies {
		var p accessPolicyRecord
		if _, err := getRecord(tx, kr, nsAccessPolicies, n, &p); err != nil {
			return nil, err
		}
		named[n] = p.Policy
	}
	return &Identity{ID: ir.ID, Name: ir.Name, IdentityID: ir.ID, IdentityName: ir.Name, Policies: effectivePolicies(ir, named)}, nil
}
