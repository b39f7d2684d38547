package seal

import (
	"fmt"
	"sync"

	"github.com/arcakms/arca/internal/shamir"
)

// Unsealer collects shares submitted one at a time by operators until the
// threshold is reached. It is safe for concurrent use. Shares are held only
// in memory and wiped once used or on Reset.
type Unsealer struct {
	mu     sync.Mutex
	shares []shamir.Share
}

// Progress is how many distinct shares are held.
func (u *Unsealer) Progress() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.shares)
}

// Add records one share. When the threshold is reached it tries to open the
// keyring: on success it returns the Keyring; on failure it discards every
// collected share (so a bad share cannot block operators forever) and returns
// ErrInvalidShares. Below the threshold it returns (nil, nil).
func (u *Unsealer) Add(cfg Config, s shamir.Share) (*Keyring, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if complete, err := u.addLocked(cfg.Threshold, s); !complete {
		return nil, err
	}
	kr, err := Open(cfg, u.shares)
	u.resetLocked()
	return kr, err
}

// AddRecovery records one share of the recovery key r of keyring kr. When
// the threshold is reached it reports whether the shares reconstruct it
// (done true, err nil); on failure it discards every collected share.
// Below the threshold it returns (false, nil).
func (u *Unsealer) AddRecovery(kr *Keyring, r *Recovery, s shamir.Share) (done bool, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if r == nil {
		s.Wipe()
		return false, fmt.Errorf("%w: this seal has no recovery key", ErrInvalidShares)
	}
	if complete, err := u.addLocked(r.Threshold, s); !complete {
		return false, err
	}
	err = kr.VerifyRecovery(r, u.shares)
	u.resetLocked()
	return err == nil, err
}

// addLocked adds s and reports whether threshold shares are held. A share
// submitted twice discards every share.
func (u *Unsealer) addLocked(threshold int, s shamir.Share) (bool, error) {
	for _, have := range u.shares {
		if have.X == s.X {
			s.Wipe()
			u.resetLocked()
			return false, fmt.Errorf("%w: share %d was submitted twice", ErrInvalidShares, s.X)
		}
	}
	u.shares = append(u.shares, s)
	return len(u.shares) >= threshold, nil
}

// Reset discards every collected share.
func (u *Unsealer) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.resetLocked()
}

func (u *Unsealer) resetLocked() {
	for i := range u.shares {
		u.shares[i].Wipe()
	}
	u.shares = nil
}
