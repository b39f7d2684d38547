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
	"sync"
	"time"

	"github.com/google/uuid"

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
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 256 {
		return nil, errUnauthorized
	}
	hash := hashToken(token)
	rec, ok := s.tokens.get(hash)
	if !ok {
		rec = new(tokenRecord)
		err := s.store.View(ctx, func(tx storage.Tx) error {
			_, err := getRecord(tx, kr, nsTokens, hash, rec)
			return err
		})
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errUnauthorized
		}
		if err != nil {
			return nil, storageError("authenticate", err)
		}
		s.tokens.put(hash, rec)
	}
	if subtle.ConstantTimeCompare([]byte(rec.Hash), []byte(hash)) != 1 {
		return nil, errUnauthorized
	}
	if !rec.ExpiresAt.IsZero() && !s.now().Before(rec.ExpiresAt) {
		return nil, errUnauthorized
	}
	return &Identity{ID: rec.Accessor, Name: rec.Name, Method: "token", Root: rec.Root}, nil
}

// tokenCache keeps verified token records in memory so authentication needs
// no storage read per request. It is cleared on seal.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]*tokenRecord
}

const maxCachedTokens = 10_000

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]*tokenRecord{}} }

func (c *tokenCache) get(hash string) (*tokenRecord, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.m[hash]
	return r, ok
}

func (c *tokenCache) put(hash string, r *tokenRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedTokens {
		clear(c.m)
	}
	c.m[hash] = r
}

func (c *tokenCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
