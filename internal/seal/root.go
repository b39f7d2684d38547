package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/shamir"
)

// Seal types.
const (
	// TypeShamir is a root key split into Shamir shares held by operators.
	TypeShamir = "shamir"
	// TypePKCS11 is a root key inside an HSM, reached through PKCS#11: the
	// server unseals itself.
	TypePKCS11 = "pkcs11"
)

// rootKeySize is the root key length: 256 bits.
const rootKeySize = 32

// Config is everything the seal persists: no key material, only the check
// value of the root key and the keyring key encrypted under it.
type Config struct {
	// Type is the seal type, TypeShamir or TypePKCS11.
	Type string `json:"type"`
	// Shares and Threshold are the Shamir parameters (zero for PKCS#11).
	Shares    int `json:"shares"`
	Threshold int `json:"threshold"`
	// KeyLabel names, for TypePKCS11, the token's AES-256 key that
	// encrypts the keyring key (AES-GCM, performed by the token).
	KeyLabel string `json:"key_label,omitempty"`
	// Check is derived from the root key with HKDF; it tells whether a set of
	// shares reconstructs the right root key without revealing it.
	Check []byte `json:"check"`
	// KeyringGeneration identifies the keyring key.
	KeyringGeneration uint32 `json:"keyring_generation"`
	// EncryptedKeyring is the keyring key, AES-256-GCM-encrypted under a key
	// derived from the root key (Shamir) or under the token's key (PKCS#11):
	// nonce || ciphertext || tag.
	EncryptedKeyring []byte `json:"encrypted_keyring"`
	// CreatedAt is when the server was initialised.
	CreatedAt time.Time `json:"created_at"`
	// Recovery, for the PKCS#11 seal, is its recovery key, if one was
	// made (see Recovery).
	Recovery *Recovery `json:"recovery,omitempty"`
}

// Errors from initialisation and unsealing.
var (
	// ErrInvalidShares means the submitted shares are malformed, duplicated,
	// or do not reconstruct the root key.
	ErrInvalidShares = errors.New("invalid unseal shares")
	// ErrInvalidParams means the share count or threshold is out of range.
	ErrInvalidParams = errors.New("invalid share parameters")
)

// Initialized is the result of Initialize: the configuration to persist, the
// shares to hand to operators exactly once, and the unsealed keyring.
type Initialized struct {
	Config  Config
	Shares  []shamir.Share
	Keyring *Keyring
}

// Initialize creates a new root key and keyring key. The root key is split
// into n shares with the given threshold and then wiped; it exists only in
// the shares. n == threshold == 1 gives a single share (dev mode).
func Initialize(n, threshold int, now time.Time) (*Initialized, error) {
	keyringKey, err := secret.Random(32)
	if err != nil {
		return nil, err
	}
	defer keyringKey.Wipe()
	kr, err := newKeyring(1, keyringKey)
	if err != nil {
		return nil, err
	}
	cfg, shares, err := kr.SealShamir(n, threshold, now)
	if err != nil {
		kr.Wipe()
		return nil, err
	}
	return &Initialized{Config: cfg, Shares: shares, Keyring: kr}, nil
}

// SealShamir seals the keyring key under a new root key split into n shares
// of which threshold unseal (n == threshold == 1: one share, dev mode), and
// returns the configuration to store instead of the current one. The root
// key exists only in the shares; shares of any earlier root key no longer
// unseal once the configuration is replaced (rekey, root rotation, and
// migration from PKCS#11).
func (k *Keyring) SealShamir(n, threshold int, now time.Time) (Config, []shamir.Share, error) {
	if !(n == 1 && threshold == 1) && (threshold < 2 || threshold > n || n > 255) {
		return Config{}, nil, fmt.Errorf("%w: need 2 <= threshold <= shares <= 255 (or 1 of 1)", ErrInvalidParams)
	}
	root, err := secret.Random(rootKeySize)
	if err != nil {
		return Config{}, nil, err
	}
	defer root.Wipe()
	check, wrap, err := deriveRootKeys(root)
	if err != nil {
		return Config{}, nil, err
	}
	defer wrap.Wipe()
	enc, err := wrapKeyring(wrap, k.key)
	if err != nil {
		return Config{}, nil, err
	}
	shares, err := shamir.Split(root.Reveal(), n, threshold)
	if err != nil {
		return Config{}, nil, fmt.Errorf("split root key: %w", err)
	}
	return Config{
		Type: TypeShamir, Shares: n, Threshold: threshold, Check: check,
		KeyringGeneration: k.generation, EncryptedKeyring: enc, CreatedAt: now.UTC(),
	}, shares, nil
}

// Wrapper is the HSM side of the PKCS#11 seal: AES-GCM under a key that
// never leaves the token (hsm.HSM implements it).
type Wrapper interface {
	Encrypt(label string, plaintext, aad []byte) ([]byte, error)
	Decrypt(label string, blob, aad []byte) (*secret.Bytes, error)
}

// hsmAAD binds an HSM-wrapped keyring key to its generation.
func hsmAAD(generation uint32) []byte {
	return fmt.Appendf(nil, "arca/v1/root/keyring\x00pkcs11\x00%d", generation)
}

// InitializeHSM creates a keyring key sealed by the token's key labelled
// label; there are no shares.
func InitializeHSM(w Wrapper, label string, now time.Time) (*Initialized, error) {
	keyringKey, err := secret.Random(32)
	if err != nil {
		return nil, err
	}
	defer keyringKey.Wipe()
	kr, err := newKeyring(1, keyringKey)
	if err != nil {
		return nil, err
	}
	cfg, err := kr.SealHSM(w, label, now)
	if err != nil {
		kr.Wipe()
		return nil, err
	}
	return &Initialized{Config: cfg, Keyring: kr}, nil
}

// SealHSM seals the keyring key under the token's key labelled label and
// returns the configuration to store instead of the current one (migration
// from Shamir, or root rotation to a new token key).
func (k *Keyring) SealHSM(w Wrapper, label string, now time.Time) (Config, error) {
	enc, err := w.Encrypt(label, k.key.Reveal(), hsmAAD(k.generation))
	if err != nil {
		return Config{}, fmt.Errorf("seal the keyring key in the HSM: %w", err)
	}
	return Config{Type: TypePKCS11, KeyLabel: label, KeyringGeneration: k.generation, EncryptedKeyring: enc, CreatedAt: now.UTC()}, nil
}

// OpenHSM has the token decrypt the keyring key of a PKCS#11 seal.
func OpenHSM(cfg Config, w Wrapper) (*Keyring, error) {
	if cfg.Type != TypePKCS11 {
		return nil, fmt.Errorf("seal type %q is not %q", cfg.Type, TypePKCS11)
	}
	key, err := w.Decrypt(cfg.KeyLabel, cfg.EncryptedKeyring, hsmAAD(cfg.KeyringGeneration))
	if err != nil {
		return nil, fmt.Errorf("open the keyring key in the HSM: %w", err)
	}
	defer key.Wipe()
	return newKeyring(cfg.KeyringGeneration, key)
}

// Open reconstructs the root key from shares, verifies it against the check
// value, decrypts the keyring key and returns the Keyring. The root key and
// the keyring key bytes are wiped before returning.
func Open(cfg Config, shares []shamir.Share) (*Keyring, error) {
	if len(shares) < cfg.Threshold {
		return nil, fmt.Errorf("%w: %d of %d shares", ErrInvalidShares, len(shares), cfg.Threshold)
	}
	raw, err := shamir.Combine(shares)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidShares, err)
	}
	root := secret.New(raw)
	defer root.Wipe()
	if root.Len() != rootKeySize {
		return nil, fmt.Errorf("%w: wrong share length", ErrInvalidShares)
	}
	check, wrap, err := deriveRootKeys(root)
	if err != nil {
		return nil, err
	}
	defer wrap.Wipe()
	if !hmac.Equal(check, cfg.Check) {
		return nil, fmt.Errorf("%w: shares do not reconstruct the root key", ErrInvalidShares)
	}
	keyringKey, err := unwrapKeyring(wrap, cfg.EncryptedKeyring)
	if err != nil {
		return nil, err
	}
	defer keyringKey.Wipe()
	return newKeyring(cfg.KeyringGeneration, keyringKey)
}

// deriveRootKeys derives, with HKDF-SHA256, the public check value and the
// key that wraps the keyring key, so the root key itself is never used twice.
func deriveRootKeys(root *secret.Bytes) (check []byte, wrap *secret.Bytes, err error) {
	check, err = hkdf.Key(sha256.New, root.Reveal(), nil, "arca/v1/root/check", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive check value: %w", err)
	}
	w, err := hkdf.Key(sha256.New, root.Reveal(), nil, "arca/v1/root/keyring-wrap", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive keyring wrapping key: %w", err)
	}
	return check, secret.New(w), nil
}

var keyringAAD = []byte("arca/v1/root/keyring")

func wrapKeyring(wrap, keyringKey *secret.Bytes) ([]byte, error) {
	aead, err := newGCM(wrap)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, keyringKey.Reveal(), keyringAAD), nil
}

func unwrapKeyring(wrap *secret.Bytes, enc []byte) (*secret.Bytes, error) {
	aead, err := newGCM(wrap)
	if err != nil {
		return nil, err
	}
	if len(enc) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("encrypted keyring: %w", ErrTampered)
	}
	pt, err := aead.Open(nil, enc[:aead.NonceSize()], enc[aead.NonceSize():], keyringAAD)
	if err != nil {
		return nil, fmt.Errorf("encrypted keyring: %w", ErrTampered)
	}
	return secret.New(pt), nil
}

func newGCM(key *secret.Bytes) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key.Reveal())
	if err != nil {
		return nil, fmt.Errorf("wrap cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
