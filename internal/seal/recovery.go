package seal

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/shamir"
)

// Recovery describes the recovery key of a PKCS#11 seal. The token, not
// shares, unseals such a server, so nothing else would let a quorum of
// people prove they own it: the recovery key, split into shares at
// initialisation and then wiped, unseals nothing but authorises what the
// unseal shares authorise under Shamir, the break-glass generation of a
// root token.
type Recovery struct {
	Shares    int `json:"shares"`
	Threshold int `json:"threshold"`
	// Check is derived from the recovery key with HKDF: it tells whether a
	// set of shares reconstructs it, without revealing it.
	Check []byte `json:"check"`
	// MAC binds the above to this server's keyring, so that someone who
	// can write the stored configuration cannot put a recovery key of
	// their own in it.
	MAC []byte `json:"mac"`
}

// recoveryKeySize is the recovery key length: 256 bits.
const recoveryKeySize = 32

// NewRecovery makes a recovery key split into n shares of which threshold
// reconstruct it (1 of 1 allowed, as for dev-mode unseal shares), and
// returns its description, bound to this keyring, and the shares.
func (k *Keyring) NewRecovery(n, threshold int) (*Recovery, []shamir.Share, error) {
	if !(n == 1 && threshold == 1) && (threshold < 2 || threshold > n || n > 255) {
		return nil, nil, fmt.Errorf("%w: need 2 <= threshold <= shares <= 255 (or 1 of 1)", ErrInvalidParams)
	}
	key, err := secret.Random(recoveryKeySize)
	if err != nil {
		return nil, nil, err
	}
	defer key.Wipe()
	check, err := recoveryCheck(key.Reveal())
	if err != nil {
		return nil, nil, err
	}
	shares, err := shamir.Split(key.Reveal(), n, threshold)
	if err != nil {
		return nil, nil, fmt.Errorf("split recovery key: %w", err)
	}
	r := &Recovery{Shares: n, Threshold: threshold, Check: check}
	r.MAC = k.MAC(r.macParts()...)
	return r, shares, nil
}

// VerifyRecovery reports whether shares reconstruct the recovery key r
// describes, and r is the one this keyring bound. Any failure is
// ErrInvalidShares or ErrTampered.
func (k *Keyring) VerifyRecovery(r *Recovery, shares []shamir.Share) error {
	if r == nil || !k.VerifyMAC(r.MAC, r.macParts()...) {
		return fmt.Errorf("recovery configuration: %w", ErrTampered)
	}
	if len(shares) < r.Threshold {
		return fmt.Errorf("%w: %d of %d recovery shares", ErrInvalidShares, len(shares), r.Threshold)
	}
	raw, err := shamir.Combine(shares)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidShares, err)
	}
	key := secret.New(raw)
	defer key.Wipe()
	if key.Len() != recoveryKeySize {
		return fmt.Errorf("%w: wrong share length", ErrInvalidShares)
	}
	check, err := recoveryCheck(key.Reveal())
	if err != nil {
		return err
	}
	if !hmac.Equal(check, r.Check) {
		return fmt.Errorf("%w: shares do not reconstruct the recovery key", ErrInvalidShares)
	}
	return nil
}

func recoveryCheck(key []byte) ([]byte, error) {
	check, err := hkdf.Key(sha256.New, key, nil, "arca/v1/recovery/check", 32)
	if err != nil {
		return nil, fmt.Errorf("derive recovery check value: %w", err)
	}
	return check, nil
}

func (r *Recovery) macParts() [][]byte {
	var params [8]byte
	binary.BigEndian.PutUint32(params[:4], uint32(r.Shares))
	binary.BigEndian.PutUint32(params[4:], uint32(r.Threshold))
	return [][]byte{[]byte("arca/v1/recovery"), params[:], r.Check}
}
