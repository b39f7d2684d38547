package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/arcakms/arca/internal/secret"
)

// ErrUnknownGeneration means a blob was sealed by a keyring generation this
// keyring does not hold.
var ErrUnknownGeneration = errors.New("unknown keyring generation")

// Keyring rotation. The anchor (the keyring key the root key seals) stays;
// rotation adds a generation, a new random AES-256 key that seals every
// new blob, while every older generation still opens the blobs it sealed
// until they are moved (Reseal). The generations after the anchor are kept
// in one blob sealed by the anchor (GenerationsBlob), which the store
// holds: every node that holds the anchor can load them, so rotation needs
// neither the unseal shares nor the HSM. Record MACs and the keys derived
// for audit and backups stay with the anchor, so rotation changes neither
// the audit public key nor what a backup needs.

// keyGeneration is one keyring generation: its key and cipher.
type keyGeneration struct {
	id      uint32
	key     *secret.Bytes
	aead    cipher.AEAD
	created time.Time
}

// generationSet is the immutable set of generations a Keyring holds.
type generationSet struct {
	current uint32
	byID    map[uint32]*keyGeneration
}

// newGeneration builds generation id from a copy of key.
func newGeneration(id uint32, key *secret.Bytes, created time.Time) (*keyGeneration, error) {
	if key.Len() != 32 {
		return nil, errors.New("keyring key must be 32 bytes")
	}
	block, err := aes.NewCipher(key.Reveal())
	if err != nil {
		return nil, fmt.Errorf("keyring cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring cipher: %w", err)
	}
	return &keyGeneration{id: id, key: key.Clone(), aead: aead, created: created}, nil
}

func (g *keyGeneration) seal(plaintext, aad []byte) ([]byte, error) {
	blob := make([]byte, 5, 5+12+len(plaintext)+16)
	blob[0] = blobVersion
	binary.BigEndian.PutUint32(blob[1:5], g.id)
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	blob = append(blob, nonce...)
	return g.aead.Seal(blob, nonce, plaintext, blobAAD(blob[:5], aad)), nil
}

func (g *keyGeneration) open(blob, aad []byte) (*secret.Bytes, error) {
	pt, err := g.aead.Open(nil, blob[5:17], blob[17:], blobAAD(blob[:5], aad))
	if err != nil {
		return nil, fmt.Errorf("sealed blob: %w", ErrTampered)
	}
	return secret.New(pt), nil
}

// GenerationInfo describes one keyring generation.
type GenerationInfo struct {
	Generation uint32
	// CreatedAt is when rotation made it (zero for the anchor).
	CreatedAt time.Time
	// Current marks the generation that seals new blobs.
	Current bool
}

// Generations lists the generations the keyring holds, oldest first.
func (k *Keyring) Generations() []GenerationInfo {
	set := k.gens.Load()
	out := make([]GenerationInfo, 0, len(set.byID))
	for id, g := range set.byID {
		out = append(out, GenerationInfo{Generation: id, CreatedAt: g.created, Current: id == set.current})
	}
	slices.SortFunc(out, func(a, b GenerationInfo) int { return int(a.Generation) - int(b.Generation) })
	return out
}

// generationsAAD binds the generations blob to its purpose.
var generationsAAD = []byte("arca/v1/keyring/generations")

// Rotation is a prepared keyring rotation: Blob is what to store, and
// Install makes the new generation current once it is stored.
type Rotation struct {
	// Generation is the new generation.
	Generation uint32
	// Blob holds every generation after the anchor, sealed by the anchor.
	Blob []byte
	next *generationSet
}

// PrepareRotation makes a new generation, numbered after every one held,
// and the generations blob that records it. Nothing changes until Install:
// the caller stores Blob first, so a failed write leaves the keyring as it
// was.
func (k *Keyring) PrepareRotation(now time.Time) (*Rotation, error) {
	set := k.gens.Load()
	id := set.current
	for g := range set.byID {
		id = max(id, g)
	}
	id++
	key, err := secret.Random(32)
	if err != nil {
		return nil, err
	}
	defer key.Wipe()
	g, err := newGeneration(id, key, now.UTC())
	if err != nil {
		return nil, err
	}
	next := &generationSet{current: id, byID: map[uint32]*keyGeneration{id: g}}
	for gid, og := range set.byID {
		next.byID[gid] = og
	}
	blob, err := k.sealGenerations(next)
	if err != nil {
		g.key.Wipe()
		return nil, err
	}
	return &Rotation{Generation: id, Blob: blob, next: next}, nil
}

// Discard wipes the key of a rotation that was not installed.
func (r *Rotation) Discard() {
	if g := r.next.byID[r.Generation]; g != nil {
		g.key.Wipe()
	}
}

// Install makes a prepared rotation's generation current. A rotation
// prepared from an older state (another rotation installed meanwhile) is
// refused, so no generation is ever lost.
func (k *Keyring) Install(r *Rotation) error {
	cur := k.gens.Load()
	if cur.byID[r.Generation] != nil {
		return fmt.Errorf("keyring generation %d is already installed", r.Generation)
	}
	for id := range cur.byID {
		if r.next.byID[id] == nil {
			return fmt.Errorf("keyring rotation to generation %d is stale", r.Generation)
		}
	}
	if !k.gens.CompareAndSwap(cur, r.next) {
		return fmt.Errorf("keyring rotation to generation %d raced another", r.Generation)
	}
	return nil
}

// LoadGenerations opens a generations blob (sealed by this keyring's
// anchor) and holds every generation it records, making its current one
// current. Generations already held are kept; a blob that fails its
// integrity check is ErrTampered and changes nothing.
func (k *Keyring) LoadGenerations(blob []byte) error {
	anchor := k.gens.Load().byID[k.generation]
	if gen, ok := BlobGeneration(blob); !ok || gen != k.generation {
		return fmt.Errorf("keyring generations: %w", ErrTampered)
	}
	pt, err := anchor.open(blob, generationsAAD)
	if err != nil {
		return fmt.Errorf("keyring generations: %w", err)
	}
	defer pt.Wipe()
	loaded, err := decodeGenerations(pt.Reveal())
	if err != nil {
		return err
	}
	for {
		cur := k.gens.Load()
		for id, g := range loaded.byID {
			// A generation held here that the store records with another
			// key means one of the two was never the stored truth: refuse
			// rather than seal with a key the store does not hold.
			if held := cur.byID[id]; held != nil && subtle.ConstantTimeCompare(held.key.Reveal(), g.key.Reveal()) != 1 {
				for _, lg := range loaded.byID {
					lg.key.Wipe()
				}
				return fmt.Errorf("keyring generation %d differs from the one held: %w", id, ErrTampered)
			}
		}
		next := &generationSet{current: loaded.current, byID: map[uint32]*keyGeneration{}}
		for id, g := range loaded.byID {
			next.byID[id] = g
		}
		for id, g := range cur.byID {
			next.byID[id] = g // the held copy wins: it may be in use
		}
		if next.byID[next.current] == nil || cur.current > next.current {
			next.current = cur.current
		}
		if k.gens.CompareAndSwap(cur, next) {
			for id, g := range loaded.byID {
				if next.byID[id] != g {
					g.key.Wipe()
				}
			}
			return nil
		}
	}
}

// sealGenerations encodes set (without the anchor) and seals it with the
// anchor. Encoding: current (4 bytes), then for each generation its id (4),
// creation time in Unix nanoseconds (8) and key (32).
func (k *Keyring) sealGenerations(set *generationSet) ([]byte, error) {
	buf := binary.BigEndian.AppendUint32(nil, set.current)
	for id, g := range set.byID {
		if id == k.generation {
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, id)
		buf = binary.BigEndian.AppendUint64(buf, uint64(g.created.UnixNano()))
		buf = append(buf, g.key.Reveal()...)
	}
	defer secret.Zero(buf)
	return set.byID[k.generation].seal(buf, generationsAAD)
}

// decodeGenerations parses what sealGenerations encoded.
func decodeGenerations(b []byte) (*generationSet, error) {
	const entry = 4 + 8 + 32
	if len(b) < 4 || (len(b)-4)%entry != 0 {
		return nil, fmt.Errorf("keyring generations: malformed: %w", ErrTampered)
	}
	set := &generationSet{current: binary.BigEndian.Uint32(b), byID: map[uint32]*keyGeneration{}}
	for rest := b[4:]; len(rest) > 0; rest = rest[entry:] {
		id := binary.BigEndian.Uint32(rest)
		created := time.Unix(0, int64(binary.BigEndian.Uint64(rest[4:]))).UTC()
		key := secret.New(slices.Clone(rest[12:entry]))
		g, err := newGeneration(id, key, created)
		key.Wipe()
		if err != nil {
			return nil, err
		}
		set.byID[id] = g
	}
	return set, nil
}
