package seal

import (
	"errors"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/shamir"
)

// TestRecovery: any threshold of a recovery key's shares verifies; fewer,
// shares of another recovery key, or a description another keyring bound
// (or one edited) do not; a share given twice discards the collection.
func TestRecovery(t *testing.T) {
	in, err := Initialize(1, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kr := in.Keyring
	r, shares, err := kr.NewRecovery(5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(shares) != 5 || r.Shares != 5 || r.Threshold != 3 {
		t.Fatalf("recovery %+v with %d shares", r, len(shares))
	}
	if err := kr.VerifyRecovery(r, []shamir.Share{shares[4], shares[0], shares[2]}); err != nil {
		t.Fatalf("three of five: %v", err)
	}
	if err := kr.VerifyRecovery(r, shares[:2]); !errors.Is(err, ErrInvalidShares) {
		t.Fatalf("two of five: %v", err)
	}
	_, other, err := kr.NewRecovery(5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.VerifyRecovery(r, other[:3]); !errors.Is(err, ErrInvalidShares) {
		t.Fatalf("shares of another recovery key: %v", err)
	}

	// A description bound by another keyring, or edited, is refused even
	// with its own shares.
	in2, err := Initialize(1, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	foreign, fshares, err := in2.Keyring.NewRecovery(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.VerifyRecovery(foreign, fshares[:2]); !errors.Is(err, ErrTampered) {
		t.Fatalf("a recovery key bound to another keyring: %v", err)
	}
	edited := *r
	edited.Threshold = 1
	if err := kr.VerifyRecovery(&edited, shares[:1]); !errors.Is(err, ErrTampered) {
		t.Fatalf("an edited threshold: %v", err)
	}

	var u Unsealer
	for i, sh := range []shamir.Share{shares[1], shares[1]} {
		done, err := u.AddRecovery(kr, r, sh)
		if done || (i == 1) != errors.Is(err, ErrInvalidShares) {
			t.Fatalf("submission %d: %v, %v", i, done, err)
		}
	}
	for i, sh := range shares[2:] {
		done, err := u.AddRecovery(kr, r, sh)
		if err != nil || done != (i == 2) {
			t.Fatalf("share %d: %v, %v", i, done, err)
		}
	}
	if _, _, err := kr.NewRecovery(3, 4); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("threshold above shares: %v", err)
	}
}
