package shamir

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// Errors returned by this package. They are wrapped with context (never with
// secret or share bytes); test for them with errors.Is.
var (
	// ErrInvalidParams means Split or Combine was called with arguments
	// outside the supported range: a bad share count or threshold, an empty
	// secret, or no shares at all.
	ErrInvalidParams = errors.New("shamir: invalid parameters")
	// ErrInvalidShare means a share is malformed: its X is zero, its Y is
	// empty, or its text form has a wrong prefix, bad encoding or a checksum
	// mismatch.
	ErrInvalidShare = errors.New("shamir: invalid share")
	// ErrDuplicateShare means two shares given to Combine have the same X.
	// Interpolation needs distinct points, and a repeated share is usually an
	// operator entering the same share twice.
	ErrDuplicateShare = errors.New("shamir: duplicate share")
	// ErrMismatchedShares means the shares given to Combine have Y values of
	// different lengths, so they cannot come from the same secret.
	ErrMismatchedShares = errors.New("shamir: mismatched shares")
)

// maxShares is the largest number of shares: the non-zero elements of GF(2^8).
const maxShares = 255

// Share is one share: X is the non-zero evaluation point, Y holds one byte per
// secret byte.
//
// Y is secret material: any threshold-many shares reveal the secret. Call Wipe
// when a share is no longer needed, and never log Y.
type Share struct {
	X byte
	Y []byte
}

// Split splits secret into n shares such that any threshold of them
// reconstruct it with Combine and fewer reveal nothing about it.
//
// It requires len(secret) >= 1 and 2 <= threshold <= n <= 255. The shares
// have X = 1, 2, …, n in order, and each Y has len(secret) bytes. The random
// polynomial coefficients come from crypto/rand and are zeroed before Split
// returns. secret is not modified or retained.
//
// As a special case n == threshold == 1 is allowed for development setups: it
// returns a single share with X = 1 whose Y is a copy of the secret, which
// offers no protection at all. Any other threshold of 1 is rejected, because
// every share would then be a plain copy of the secret.
func Split(secret []byte, n, threshold int) ([]Share, error) {
	return split(secret, n, threshold, rand.Reader)
}

// split is Split with the randomness source as a parameter, so tests can fix
// the polynomial coefficients. random supplies the coefficients of x^1 for all
// secret bytes, then those of x^2, and so on up to x^(threshold-1).
func split(secret []byte, n, threshold int, random io.Reader) ([]Share, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty secret", ErrInvalidParams)
	}
	devMode := n == 1 && threshold == 1
	if !devMode && (threshold < 2 || threshold > n || n > maxShares) {
		return nil, fmt.Errorf("%w: need 2 <= threshold <= shares <= %d (or 1 of 1), got threshold %d of %d shares",
			ErrInvalidParams, maxShares, threshold, n)
	}

	// coeffs[(k-1)*size : k*size] holds the coefficient of x^k for every
	// secret byte; the constant term is the secret itself.
	size := len(secret)
	coeffs := make([]byte, (threshold-1)*size)
	defer clear(coeffs)
	if _, err := io.ReadFull(random, coeffs); err != nil {
		return nil, fmt.Errorf("shamir: reading random coefficients: %w", err)
	}
	coeff := func(k int) []byte {
		if k == 0 {
			return secret
		}
		return coeffs[(k-1)*size : k*size]
	}

	shares := make([]Share, n)
	for i := range shares {
		x := byte(i + 1)
		y := make([]byte, size)
		// Horner's rule, all secret bytes at once:
		// y = (…(a[t-1]·x + a[t-2])·x + …)·x + a[0].
		copy(y, coeff(threshold-1))
		for k := threshold - 2; k >= 0; k-- {
			a := coeff(k)
			for j := range y {
				y[j] = gfMul(y[j], x) ^ a[j]
			}
		}
		shares[i] = Share{X: x, Y: y}
	}
	return shares, nil
}

// Combine reconstructs the secret from shares by Lagrange interpolation at
// x = 0 and returns it in a new slice of len(shares[0].Y) bytes.
//
// Every share must have a non-zero X, distinct from the others, and a
// non-empty Y of the same length as the others. The order of shares does not
// matter, and extra shares beyond the threshold are harmless if genuine.
//
// Combine cannot know the threshold the secret was split with: given fewer
// shares, or a corrupted share, it returns a wrong secret without error. The
// caller must check the result, for example by using it to open data that was
// sealed with the secret.
func Combine(shares []Share) ([]byte, error) {
	if len(shares) < 1 {
		return nil, fmt.Errorf("%w: no shares", ErrInvalidParams)
	}
	size := len(shares[0].Y)
	var seen [256]bool
	for i, s := range shares {
		switch {
		case s.X == 0:
			return nil, fmt.Errorf("%w: share %d has x = 0", ErrInvalidShare, i)
		case len(s.Y) == 0:
			return nil, fmt.Errorf("%w: share %d (x = %d) is empty", ErrInvalidShare, i, s.X)
		case len(s.Y) != size:
			return nil, fmt.Errorf("%w: share %d (x = %d) has %d bytes, share 0 has %d",
				ErrMismatchedShares, i, s.X, len(s.Y), size)
		case seen[s.X]:
			return nil, fmt.Errorf("%w: x = %d appears more than once", ErrDuplicateShare, s.X)
		}
		seen[s.X] = true
	}

	secret := make([]byte, size)
	for i, si := range shares {
		// Lagrange basis polynomial for share i evaluated at 0:
		// l_i(0) = Π_{j≠i} (0 - x_j) / (x_i - x_j) = Π_{j≠i} x_j / (x_i + x_j).
		// It depends only on the (public) X values.
		num, den := byte(1), byte(1)
		for j, sj := range shares {
			if j != i {
				num = gfMul(num, sj.X)
				den = gfMul(den, si.X^sj.X)
			}
		}
		l := gfMul(num, gfInv(den))
		for k, y := range si.Y {
			secret[k] ^= gfMul(l, y)
		}
	}
	return secret, nil
}

// Wipe zeroes the share's Y in place and resets the share to its zero value,
// so that the share material does not linger in memory and a wiped share is
// rejected (ErrInvalidShare) rather than silently combined.
func (s *Share) Wipe() {
	clear(s.Y)
	s.X = 0
	s.Y = nil
}
