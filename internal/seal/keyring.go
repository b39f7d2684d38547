package seal

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arcakms/arca/internal/secret"
)

// ErrTampered means a sealed blob or a MAC'd record failed its integrity check.
// The data must not be used.
var ErrTampered = errors.New("integrity check failed")

// blobVersion is the first byte of every blob sealed by a Keyring.
const blobVersion byte = 1

// MACSize is the length of a record MAC.
const MACSize = sha256.Size

// Keyring is the unsealed keyring key, ready for use. It encrypts key material
// at rest (AES-256-GCM) and authenticates metadata records (HMAC-SHA256 under
// a key derived from the keyring key with HKDF). A Keyring is safe for
// concurrent use; Wipe it when sealing.
type Keyring struct {
	// generation and key are the anchor: the keyring key the root key
	// seals. It is generation 1 of the blobs, authenticates records
	// (macKey) and seals the later generations (see generations.go).
	generation uint32
	macKey     *secret.Bytes
	// key is the keyring key itself, kept to seal it anew (rekey, root
	// rotation, seal migration) without a restart.
	key *secret.Bytes
	// gens holds every generation that can open blobs and names the one
	// that seals new ones; replaced whole (copy on write) by rotation.
	gens atomic.Pointer[generationSet]

	// refs counts users between Acquire and Release; once retired, the
	// last Release wipes the keyring.
	refs    atomic.Int64
	retired atomic.Bool
	wipe    sync.Once
}

// newKeyring builds a Keyring from raw keyring key material. It does not keep
// key: the caller wipes it.
func newKeyring(generation uint32, key *secret.Bytes) (*Keyring, error) {
	if key.Len() != 32 {
		return nil, errors.New("keyring key must be 32 bytes")
	}
	anchor, err := newGeneration(generation, key, time.Time{})
	if err != nil {
		return nil, err
	}
	mk, err := hkdf.Key(sha256.New, key.Reveal(), nil, "arca/v1/keyring/record-mac", 32)
	if err != nil {
		return nil, fmt.Errorf("derive record MAC key: %w", err)
	}
	k := &Keyring{generation: generation, macKey: secret.New(mk), key: anchor.key}
	k.gens.Store(&generationSet{current: generation, byID: map[uint32]*keyGeneration{generation: anchor}})
	return k, nil
}

// Generation identifies the anchor keyring key, the one the root key
// seals; blobs carry the generation that sealed them (see Current).
func (k *Keyring) Generation() uint32 { return k.generation }

// Current is the generation that seals new blobs: the anchor until the
// keyring is rotated, then the newest generation.
func (k *Keyring) Current() uint32 { return k.gens.Load().current }

// Seal encrypts plaintext under the current generation, binding it to aad
// (which the caller must present again to Open). Blob layout: version
// byte, 4-byte keyring generation, 12-byte nonce, AES-GCM output. The
// version and generation are authenticated.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	set := k.gens.Load()
	return set.byID[set.current].seal(plaintext, aad)
}

// Open decrypts a blob made by Seal with the same aad, under whichever
// generation sealed it. A generation this keyring does not hold is
// ErrUnknownGeneration (another node may have rotated the keyring: reload
// the generations and retry); any other mismatch or alteration is
// ErrTampered.
func (k *Keyring) Open(blob, aad []byte) (*secret.Bytes, error) {
	gen, ok := BlobGeneration(blob)
	if !ok {
		return nil, fmt.Errorf("sealed blob: %w", ErrTampered)
	}
	g := k.gens.Load().byID[gen]
	if g == nil {
		return nil, fmt.Errorf("sealed blob of keyring generation %d: %w", gen, ErrUnknownGeneration)
	}
	return g.open(blob, aad)
}

// BlobGeneration reads the keyring generation that sealed blob, without
// opening it; ok is false if blob is not a sealed blob.
func BlobGeneration(blob []byte) (gen uint32, ok bool) {
	if len(blob) < 5+12+16 || blob[0] != blobVersion {
		return 0, false
	}
	return binary.BigEndian.Uint32(blob[1:5]), true
}

func blobAAD(prefix, aad []byte) []byte {
	return append(append([]byte("arca/v1/keyring/blob\x00"), prefix...), aad...)
}

// MAC returns HMAC-SHA256 over the length-prefixed parts, under the record MAC
// key. Length prefixes make the encoding unambiguous.
func (k *Keyring) MAC(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, k.macKey.Reveal())
	var n [4]byte
	for _, p := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write(p)
	}
	return m.Sum(nil)
}

// VerifyMAC reports in constant time whether mac is the MAC of parts.
func (k *Keyring) VerifyMAC(mac []byte, parts ...[]byte) bool {
	return hmac.Equal(mac, k.MAC(parts...))
}

// Acquire registers a user of the keyring. It returns false if the keyring
// has been retired (the server is sealing), in which case it must not be
// used. Every successful Acquire must be paired with one Release.
func (k *Keyring) Acquire() bool {
	k.refs.Add(1)
	if k.retired.Load() {
		k.Release()
		return false
	}
	return true
}

// Release ends a use begun by Acquire. The last release of a retired
// keyring wipes it.
func (k *Keyring) Release() {
	if k.refs.Add(-1) == 0 && k.retired.Load() {
		k.wipeOnce()
	}
}

// Retire stops new users and wipes the keyring as soon as its current users
// have released it (at once if there are none). In-flight operations finish
// with intact key material, so no record is ever written with a wiped key.
func (k *Keyring) Retire() {
	if k == nil {
		return
	}
	k.retired.Store(true)
	if k.refs.Load() == 0 {
		k.wipeOnce()
	}
}

// Wipe erases the keyring at once. Only for a keyring no one else can be
// using (one that was never published); others use Retire.
func (k *Keyring) Wipe() {
	if k == nil {
		return
	}
	k.retired.Store(true)
	k.wipeOnce()
}

// wipeOnce erases the keyring's own copies of key material. (The AES key
// schedule inside crypto/aes cannot be reached; it is released to the
// garbage collector.)
func (k *Keyring) wipeOnce() {
	k.wipe.Do(func() {
		k.macKey.Wipe()
		for _, g := range k.gens.Load().byID {
			g.key.Wipe()
		}
	})
}

// AuditSigningKey is the Ed25519 key that signs audit log checkpoints. It is
// derived from the keyring (HKDF, its own label), so it exists exactly while
// the server is unsealed and needs no storage; its public key, which
// verifies checkpoints offline, is stable as long as the keyring key is.
func (k *Keyring) AuditSigningKey() (ed25519.PrivateKey, error) {
	seed, err := hkdf.Key(sha256.New, k.macKey.Reveal(), nil, "arca/v1/keyring/audit-signing", ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive audit signing key: %w", err)
	}
	defer secret.Zero(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// AuditHMAC returns HMAC-SHA256 of value under the audit key, a key derived
// from the keyring (HKDF, its own label). Audit records carry it in place
// of sensitive request values (encryption-context values), so that an
// auditor who holds a value can check whether it was used without the log
// revealing any.
func (k *Keyring) AuditHMAC(value []byte) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, k.macKey.Reveal(), nil, "arca/v1/keyring/audit-hmac", sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive audit HMAC key: %w", err)
	}
	defer secret.Zero(key)
	m := hmac.New(sha256.New, key)
	m.Write(value)
	return m.Sum(nil), nil
}

// BackupKeys are the keys of backups made under this keyring, derived from
// it (HKDF, their own labels): Encryption, the main key of the backup's
// streaming AEAD, and Signing, the Ed25519 key that signs the file. Both
// exist exactly while the keyring does; a backup is restored with the
// shares that reconstruct it, and verified offline with the public key.
type BackupKeys struct {
	Encryption *secret.Bytes
	Signing    ed25519.PrivateKey
}

// BackupKeys derives the backup keys; the caller wipes Encryption.
func (k *Keyring) BackupKeys() (*BackupKeys, error) {
	enc, err := hkdf.Key(sha256.New, k.macKey.Reveal(), nil, "arca/v1/keyring/backup-encryption", 32)
	if err != nil {
		return nil, fmt.Errorf("derive backup encryption key: %w", err)
	}
	seed, err := hkdf.Key(sha256.New, k.macKey.Reveal(), nil, "arca/v1/keyring/backup-signing", ed25519.SeedSize)
	if err != nil {
		secret.Zero(enc)
		return nil, fmt.Errorf("derive backup signing key: %w", err)
	}
	defer secret.Zero(seed)
	return &BackupKeys{Encryption: secret.New(enc), Signing: ed25519.NewKeyFromSeed(seed)}, nil
}
