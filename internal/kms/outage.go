package kms

import (
	"errors"
	"sync"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/storage"
)

// outageGrace lets cryptography with cached keys go on for a while when the
// shared database cannot be reached (Options.OutageGrace; off by default).
//
// Normally every request reads its credential, identity and policies from
// storage, so that a revocation applies at once. With a grace period, each
// successful authentication is also remembered in memory; when storage is
// unreachable, a credential authenticated since shortly before the outage
// began is accepted from memory until the period has passed since the
// outage began. The trade-off, which the operator chooses: during that
// window a token revoked, an identity disabled or a policy narrowed on the
// database side (by a node that can still reach it) is not seen here.
// Only cryptographic actions are allowed to such an identity; everything
// else fails as storage_unavailable, and the audit record shows the
// authentication method with "+outage".
type outageGrace struct {
	period time.Duration
	mu     sync.Mutex
	since  time.Time // when the current outage was first seen; zero if none
	ids    map[string]graceEntry
}

type graceEntry struct {
	id        *Identity
	at        time.Time // when storage last confirmed it
	expiresAt time.Time // the credential's own expiry (zero: none)
}

// maxGraceEntries bounds the credentials remembered; beyond it an
// arbitrary one is forgotten.
const maxGraceEntries = 10_000

func newOutageGrace(period time.Duration) *outageGrace {
	return &outageGrace{period: period, ids: map[string]graceEntry{}}
}

// confirmed records a credential that storage just authenticated, and that
// storage answers.
func (g *outageGrace) confirmed(key string, id *Identity, expiresAt, now time.Time) {
	if g.period <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.since = time.Time{}
	if _, ok := g.ids[key]; !ok && len(g.ids) >= maxGraceEntries {
		for k := range g.ids {
			delete(g.ids, k)
			break
		}
	}
	g.ids[key] = graceEntry{id: id, at: now, expiresAt: expiresAt}
}

// forget drops a credential storage refused.
func (g *outageGrace) forget(key string) {
	if g.period <= 0 {
		return
	}
	g.mu.Lock()
	delete(g.ids, key)
	g.mu.Unlock()
}

// during returns the remembered identity of a credential when err says
// storage is unreachable and the grace period allows it; otherwise nil.
func (g *outageGrace) during(err error, key string, now time.Time) *Identity {
	if g.period <= 0 || !errors.Is(err, storage.ErrUnavailable) {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.since.IsZero() {
		g.since = now
	}
	e, ok := g.ids[key]
	if !ok || now.Sub(g.since) > g.period || e.at.Before(g.since.Add(-g.period)) ||
		(!e.expiresAt.IsZero() && !now.Before(e.expiresAt)) {
		return nil
	}
	id := *e.id
	id.Method += "+outage"
	id.DuringOutage = true
	return &id
}

// cryptoActions are what an identity authenticated from memory during an
// outage may do: use keys already in this node's cache.
var cryptoActions = map[access.Action]bool{
	access.KeyEncrypt: true, access.KeyDecrypt: true, access.KeyRewrap: true, access.KeyDataKey: true,
	access.KeyMAC: true, access.KeySign: true, access.KeyVerify: true,
}
