package kms

import (
	"context"
	"errors"
	"sync"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage"
)

// cachedKey is an immutable snapshot of a key's metadata plus the lazily
// built AEADs of its versions. Versions never change once written, so the
// versions map is shared between snapshots of the same key.
type cachedKey struct {
	rec      *keyRecord
	id       [16]byte  // rec.ID in binary form
	versions *sync.Map // uint32 → *versionEntry
}

// versionEntry is a usable key version: its AEAD and its lifecycle state.
// Entries are immutable; a state change stores a new entry.
type versionEntry struct {
	vk    *crypto.VersionKey
	state lifecycle.State
	// root is the material of a derived key's version, from which each
	// operation derives its subkey; nil for other keys.
	root *secret.Bytes
}

// forContext returns the key version to use with an encryption context:
// the version itself, or for a derived key the subkey of that context.
func (ve *versionEntry) forContext(keyID [16]byte, alg crypto.Algorithm, ctx map[string]string) (*crypto.VersionKey, error) {
	if ve.root == nil {
		return ve.vk, nil
	}
	return crypto.DeriveVersionKey(keyID, ve.vk.Version(), alg, ve.root, ctx)
}

// setVersionState records a version's new state in the cache, if the
// version is cached.
func (ck *cachedKey) setVersionState(v uint32, st lifecycle.State) {
	if e, ok := ck.versions.Load(v); ok {
		old := e.(*versionEntry)
		ck.versions.Store(v, &versionEntry{vk: old.vk, state: st, root: old.root})
	}
}

// newCachedKey is a snapshot of a verified key record (whose id is
// therefore a UUID), with no version built yet.
func newCachedKey(rec *keyRecord) *cachedKey {
	id, _ := parseKeyID(rec.ID)
	return &cachedKey{rec: rec, id: id, versions: new(sync.Map)}
}

// keyCache keeps recently used keys in memory so the encrypt and decrypt
// paths need no storage read. It is bounded: when full, an arbitrary entry
// is evicted (Go map iteration order), which keeps memory flat however many
// keys exist.
type keyCache struct {
	mu    sync.RWMutex
	max   int
	byID  map[string]*cachedKey
	names map[string]string // name → id
	// gen counts invalidations, so that a snapshot read from storage
	// before one is not cached after it (see addSince).
	gen uint64
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, byID: map[string]*cachedKey{}, names: map[string]string{}}
}

// lookup finds a key by id or name.
func (c *keyCache) lookup(ref string) *cachedKey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if ck, ok := c.byID[ref]; ok {
		return ck
	}
	if id, ok := c.names[ref]; ok {
		return c.byID[id]
	}
	return nil
}

// add stores a snapshot of rec, keeping the versions already built, unless
// the cache holds a newer snapshot of the same key.
func (c *keyCache) add(rec *keyRecord) *cachedKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.byID[rec.ID]
	if ok && old.rec.PrimaryVersion > rec.PrimaryVersion {
		return old
	}
	ck := newCachedKey(rec)
	if ok {
		ck.versions = old.versions
	} else if len(c.byID) >= c.max {
		for id, victim := range c.byID {
			delete(c.names, victim.rec.Name)
			delete(c.byID, id)
			break
		}
	}
	c.byID[rec.ID] = ck
	c.names[rec.Name] = rec.ID
	return ck
}

// generation returns the cache's invalidation count, to pass to addSince.
func (c *keyCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// addSince is add for a record read from storage when the cache was at
// generation gen: if something was invalidated since, the record may be
// older than the change that caused it, so it is returned for this use
// without being cached.
func (c *keyCache) addSince(rec *keyRecord, gen uint64) *cachedKey {
	c.mu.RLock()
	stale := c.gen != gen
	c.mu.RUnlock()
	if stale {
		return newCachedKey(rec)
	}
	return c.add(rec)
}

// remove drops a key, and every version built for it, from the cache.
func (c *keyCache) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if ck, ok := c.byID[id]; ok {
		delete(c.names, ck.rec.Name)
		delete(c.byID, id)
	}
}

func (c *keyCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.byID)
	clear(c.names)
}

// version returns the ready-to-use key version v of ck, unsealing its
// material from storage on first use.
func (s *Service) version(ctx context.Context, kr *seal.Keyring, ck *cachedKey, v uint32) (*versionEntry, error) {
	if e, ok := ck.versions.Load(v); ok {
		return e.(*versionEntry), nil
	}
	vr, material, err := s.versionMaterial(ctx, kr, ck, v)
	if err != nil {
		return nil, err
	}
	defer material.Wipe()
	k := versionKey(vr.KeyID, v)
	id, err := parseKeyID(vr.KeyID)
	if err != nil {
		return nil, errTampered(nsKeyVersions, k)
	}
	var vk *crypto.VersionKey
	if vr.HSMLabel != "" {
		vk, err = s.hsmVersionKey(id, vr)
	} else {
		vk, err = crypto.NewVersionKey(id, v, vr.Algorithm, material)
	}
	var kerr *Error
	if errors.As(err, &kerr) {
		return nil, kerr
	}
	if err != nil {
		return nil, errTampered(nsKeyVersions, k)
	}
	entry := &versionEntry{vk: vk, state: vr.State}
	if ck.rec.Derived {
		entry.root = material.Clone()
	}
	actual, _ := ck.versions.LoadOrStore(v, entry)
	return actual.(*versionEntry), nil
}

// reload re-reads a key from storage and refreshes the cache.
func (s *Service) reload(ctx context.Context, kr *seal.Keyring, id string) (*cachedKey, error) {
	var rec *keyRecord
	gen := s.keys.generation()
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		rec, _, err = loadKey(tx, kr, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.keys.addSince(rec, gen), nil
}

// versionMaterial reads version v of ck from storage, checks it belongs to
// the key, and unseals its material, which the caller wipes.
func (s *Service) versionMaterial(ctx context.Context, kr *seal.Keyring, ck *cachedKey, v uint32) (*versionRecord, *secret.Bytes, error) {
	if v == 0 || v > ck.rec.PrimaryVersion {
		// A version above the cached primary may come from a newer
		// rotation; reload the key before deciding.
		if fresh, err := s.reload(ctx, kr, ck.rec.ID); err == nil && v >= 1 && v <= fresh.rec.PrimaryVersion {
			ck = fresh
		} else {
			return nil, nil, Errorf(CodeKeyVersionNotFound, "key %q has no version %d", ck.rec.Name, v)
		}
	}
	k := versionKey(ck.rec.ID, v)
	var vr versionRecord
	err := s.store.View(ctx, func(tx storage.Tx) error {
		_, err := getRecord(tx, kr, nsKeyVersions, k, &vr)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, Errorf(CodeKeyVersionNotFound, "key %q has no version %d", ck.rec.Name, v)
	}
	if err != nil {
		return nil, nil, storageError("load key version", err)
	}
	if vr.KeyID != ck.rec.ID || vr.Version != v || vr.Algorithm != ck.rec.Algorithm {
		return nil, nil, errTampered(nsKeyVersions, k)
	}
	if vr.State == lifecycle.Destroyed || (len(vr.Material) == 0 && vr.HSMLabel == "") {
		return nil, nil, Errorf(CodeKeyDestroyed, "version %d of key %q was destroyed", v, ck.rec.Name)
	}
	if (vr.HSMLabel != "") != (ck.rec.Protection == ProtectionHSM) {
		return nil, nil, errTampered(nsKeyVersions, k)
	}
	if vr.HSMLabel != "" {
		return &vr, nil, nil // the material is in the HSM
	}
	material, err := s.openSealed(ctx, kr, vr.Material, materialAAD(vr.KeyID, vr.Version, vr.Purpose))
	if err != nil {
		return nil, nil, errTampered(nsKeyVersions, k)
	}
	return &vr, material, nil
}
