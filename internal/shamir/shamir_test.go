package shamir

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// knownVectors were computed independently of this package (with a separate
// implementation of GF(2^8) using carry-less multiplication and reduction by
// 0x11b). coeffs[k] holds the coefficient of x^k for every secret byte, so
// coeffs[0] is the secret and len(coeffs) is the threshold; shares[i] is the
// Y of the share with X = i+1.
var knownVectors = []struct {
	name   string
	coeffs []string
	shares []string
}{
	{
		name: "one byte, 2 of 3",
		coeffs: []string{
			"2a",
			"07",
		},
		shares: []string{
			"2d", // x = 1
			"24", // x = 2
			"23", // x = 3
		},
	},
	{
		name: "4 bytes, 3 of 5",
		coeffs: []string{
			"00ff8001",
			"01020304",
			"ff00a5c3",
		},
		shares: []string{
			"fefd26c6", // x = 1
			"d3fb2428", // x = 2
			"2df982ef", // x = 3
			"6df73295", // x = 4
			"93f59452", // x = 5
		},
	},
	{
		name: "32 bytes, 4 of 6",
		coeffs: []string{
			"ac844cbbbcab08769b3f19d0b7992b5d3f0f67a70178999ad4cd6becbfd37e1c",
			"84bd8ec1746f4ddb1cc00fa8cfb930d4e1a91e3b5c1f94a66a05ab08797fb8be",
			"da174a26818605e887452c7aa0b2e0efc01827937150fcd25f5e911d1ae4ab24",
			"c0bed4329301b862556fa54bd026b1a2d98d2815d3f398987dd4532d9b9b7158",
		},
		shares: []string{
			"32905c6eda43f82755d59f4908b44ac4c733761affc469769c4202d447d31cde", // x = 1
			"a03e82319253316b17fee8065e25191859229c03a4c4db04a25efafb91242a1d", // x = 2
			"88835c48b3bd7c6d3c6d9d3e37dcf360411d7dc086645695ff1f622d1e537514", // x = 3
			"63791ff05ef4b8c6dfb01dfac2ddd047de26b78f71e1b1ac92df25b22c21a955", // x = 4
			"64b69de0b108eb7e79578788bf3ea6ae5010b02d71155455a4c25cd8fd08451b", // x = 5
			"a8fcfb6d7e3c1e553a943553c19bd64bf9138df66ebd36f74c667d9497430e56", // x = 6
		},
	},
	{
		name: "16 bytes, 5 of 7, zero and 0xff coefficients",
		coeffs: []string{
			"dec4be62d8ec0d7e0336ba44a1b079e8",
			"00000000000000000000000000000000",
			"ffffffffffffffffffffffffffffffff",
			"da0b1f37e05e0e108e1bd6916700e591",
			"00000000000000005e5d82c215543203",
		},
		shares: []string{
			"fb305eaac74dfc912c8f11e82c1b5185", // x = 1
			"854d971048fbac2f599879e52e56cced", // x = 2
			"4a83356a218579a07f7b1002eafd8ccb", // x = 3
			"8b5b56648fefc97b395bdbcfbc84a5cd", // x = 4
			"e433212dbfbae0cf2025cac29c2fe601", // x = 5
			"c11959f1825a53072b1352004d627da6", // x = 6
			"444b6c0ac4d05ed33b37814624c95621", // x = 7
		},
	},
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// evalPoly evaluates, for every byte position j, the polynomial with
// coefficients coeffs[0][j], coeffs[1][j], … at x, as Σ coeffs[k][j]·x^k. It
// uses the power form rather than Horner's rule, so it does not share code
// with Split beyond gfMul.
func evalPoly(coeffs [][]byte, x byte) []byte {
	out := make([]byte, len(coeffs[0]))
	xk := byte(1) // x^k
	for _, c := range coeffs {
		for j := range out {
			out[j] ^= gfMul(c[j], xk)
		}
		xk = gfMul(xk, x)
	}
	return out
}

func TestKnownVectors(t *testing.T) {
	t.Parallel()
	for _, v := range knownVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			coeffs := make([][]byte, len(v.coeffs))
			for k, c := range v.coeffs {
				coeffs[k] = mustHex(t, c)
			}
			secret, threshold, n := coeffs[0], len(coeffs), len(v.shares)
			want := make([]Share, n)
			for i, y := range v.shares {
				want[i] = Share{X: byte(i + 1), Y: mustHex(t, y)}
			}

			// The arithmetic agrees with the independent computation.
			for _, s := range want {
				if got := evalPoly(coeffs, s.X); !bytes.Equal(got, s.Y) {
					t.Errorf("f(%d) = %x, want %x", s.X, got, s.Y)
				}
			}

			// Split lays the random bytes out as documented and evaluates the
			// same polynomial.
			random := bytes.NewReader(slices.Concat(coeffs[1:]...))
			got, err := split(secret, n, threshold, random)
			if err != nil {
				t.Fatalf("split: %v", err)
			}
			if random.Len() != 0 {
				t.Errorf("split left %d random bytes unread", random.Len())
			}
			if !slices.EqualFunc(got, want, shareEqual) {
				t.Errorf("split = %v, want %v", got, want)
			}

			// Every threshold-sized subset, and all shares, reconstruct the secret.
			for _, idx := range append(subsets(n, threshold), subsets(n, n)...) {
				sub := pick(want, idx)
				s, err := Combine(sub)
				if err != nil {
					t.Fatalf("Combine(%v): %v", idx, err)
				}
				if !bytes.Equal(s, secret) {
					t.Errorf("Combine(%v) = %x, want %x", idx, s, secret)
				}
			}
		})
	}
}

func shareEqual(a, b Share) bool { return a.X == b.X && bytes.Equal(a.Y, b.Y) }

// subsets returns every k-element subset of {0, …, n-1} in lexicographic order.
func subsets(n, k int) [][]int {
	var out [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			out = append(out, slices.Clone(cur))
			return
		}
		for i := start; i <= n-(k-len(cur)); i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, make([]int, 0, k))
	return out
}

func pick(shares []Share, idx []int) []Share {
	out := make([]Share, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

func randomSecret(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSubsetsHelper(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ n, k, want int }{{5, 0, 1}, {5, 3, 10}, {10, 7, 120}, {10, 6, 210}, {255, 2, 32385}, {3, 3, 1}} {
		if got := len(subsets(tt.n, tt.k)); got != tt.want {
			t.Errorf("len(subsets(%d, %d)) = %d, want %d", tt.n, tt.k, got, tt.want)
		}
	}
}

func TestSplitCombineSubsets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, threshold int
		allSizes     bool // try subsets of every size, not only threshold and threshold-1
	}{
		{n: 5, threshold: 3, allSizes: true},
		{n: 3, threshold: 2},
		{n: 10, threshold: 7},
		{n: 255, threshold: 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_of_%d", tt.threshold, tt.n), func(t *testing.T) {
			t.Parallel()
			secret := randomSecret(t, 32)
			orig := slices.Clone(secret)
			shares, err := Split(secret, tt.n, tt.threshold)
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			if !bytes.Equal(secret, orig) {
				t.Fatal("Split modified the secret")
			}
			if len(shares) != tt.n {
				t.Fatalf("got %d shares, want %d", len(shares), tt.n)
			}
			for i, s := range shares {
				if s.X != byte(i+1) || len(s.Y) != len(secret) {
					t.Fatalf("share %d: X = %d, len(Y) = %d; want X = %d, len(Y) = %d", i, s.X, len(s.Y), i+1, len(secret))
				}
				if bytes.Equal(s.Y, secret) {
					t.Fatalf("share %d equals the secret", i)
				}
			}

			sizes := []int{tt.threshold - 1, tt.threshold, tt.n}
			if tt.allSizes {
				sizes = nil
				for k := 1; k <= tt.n; k++ {
					sizes = append(sizes, k)
				}
			}
			for _, k := range sizes {
				for _, idx := range subsets(tt.n, k) {
					got, err := Combine(pick(shares, idx))
					if err != nil {
						t.Fatalf("Combine(%v): %v", idx, err)
					}
					// Fewer than threshold shares give the right value with
					// probability 2^-256.
					if enough := k >= tt.threshold; bytes.Equal(got, secret) != enough {
						t.Fatalf("Combine of %d shares %v: reconstructed = %v, want %v", k, idx, !enough, enough)
					}
				}
			}
		})
	}
}

func TestCombineOrderIndependent(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t, 32)
	shares, err := Split(secret, 6, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]int{{5, 4, 3, 2, 1, 0}, {3, 0, 5, 1}, {2, 5, 0, 4, 1}} {
		got, err := Combine(pick(shares, order))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, secret) {
			t.Errorf("Combine(%v) did not reconstruct the secret", order)
		}
	}
}

func TestSplitFreshRandomness(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t, 32)
	a, err := Split(secret, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Split(secret, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if bytes.Equal(a[i].Y, b[i].Y) {
			t.Errorf("two splits produced the same share %d", i+1)
		}
	}
}

func TestSplitOneOfOne(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t, 32)
	shares, err := Split(secret, 1, 1)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if len(shares) != 1 || shares[0].X != 1 || !bytes.Equal(shares[0].Y, secret) {
		t.Fatalf("Split(1, 1) = %v, want one share with X = 1 and Y = secret", shares)
	}
	got, err := Combine(shares)
	if err != nil {
		t.Fatalf("Combine: %v", err)
	}
	if !bytes.Equal(got, secret) {
		t.Errorf("Combine = %x, want the secret", got)
	}
	// The share must not alias the secret or the result.
	shares[0].Y[0] ^= 0xff
	if secret[0] == shares[0].Y[0] || got[0] == shares[0].Y[0] {
		t.Error("share aliases the secret or the combined result")
	}
}

func TestSplitErrors(t *testing.T) {
	t.Parallel()
	secret := []byte{1, 2, 3}
	tests := []struct {
		name         string
		secret       []byte
		n, threshold int
	}{
		{"nil secret", nil, 3, 2},
		{"empty secret", []byte{}, 3, 2},
		{"zero shares", secret, 0, 0},
		{"negative", secret, -1, -1},
		{"threshold 1 of 2", secret, 2, 1},
		{"threshold 0", secret, 5, 0},
		{"threshold above n", secret, 2, 3},
		{"1 share threshold 2", secret, 1, 2},
		{"256 shares", secret, 256, 2},
		{"256 of 256", secret, 256, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shares, err := Split(tt.secret, tt.n, tt.threshold)
			if !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Split(n=%d, threshold=%d) error = %v, want ErrInvalidParams", tt.n, tt.threshold, err)
			}
			if shares != nil {
				t.Errorf("Split returned shares with an error")
			}
		})
	}
}

func TestSplitBoundaries(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t, 2)
	for _, p := range [][2]int{{255, 255}, {255, 254}, {2, 2}} {
		shares, err := Split(secret, p[0], p[1])
		if err != nil {
			t.Fatalf("Split(%d, %d): %v", p[0], p[1], err)
		}
		got, err := Combine(shares[len(shares)-p[1]:])
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("Split(%d, %d): last %d shares do not reconstruct the secret (err %v)", p[0], p[1], p[1], err)
		}
	}
}

type failingReader struct{}

var errNoEntropy = errors.New("no entropy")

func (failingReader) Read([]byte) (int, error) { return 0, errNoEntropy }

func TestSplitRandomFailure(t *testing.T) {
	t.Parallel()
	if _, err := split([]byte{1}, 3, 2, failingReader{}); !errors.Is(err, errNoEntropy) {
		t.Errorf("error = %v, want %v", err, errNoEntropy)
	}
	if _, err := split([]byte{1, 2}, 3, 2, bytes.NewReader([]byte{1})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short read: error = %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

func TestCombineErrors(t *testing.T) {
	t.Parallel()
	y := func() []byte { return []byte{0xde, 0xad, 0xbe, 0xef} }
	wiped := Share{X: 2, Y: y()}
	wiped.Wipe()
	tests := []struct {
		name   string
		shares []Share
		want   error
	}{
		{"nil", nil, ErrInvalidParams},
		{"empty", []Share{}, ErrInvalidParams},
		{"zero X", []Share{{X: 1, Y: y()}, {X: 0, Y: y()}}, ErrInvalidShare},
		{"zero X alone", []Share{{X: 0, Y: y()}}, ErrInvalidShare},
		{"nil Y", []Share{{X: 1, Y: nil}, {X: 2, Y: nil}}, ErrInvalidShare},
		{"empty Y", []Share{{X: 1, Y: y()}, {X: 2, Y: []byte{}}}, ErrInvalidShare},
		{"wiped share", []Share{{X: 1, Y: y()}, wiped}, ErrInvalidShare},
		{"duplicate identical", []Share{{X: 1, Y: y()}, {X: 3, Y: y()}, {X: 1, Y: y()}}, ErrDuplicateShare},
		{"duplicate X different Y", []Share{{X: 7, Y: y()}, {X: 7, Y: []byte{1, 2, 3, 4}}}, ErrDuplicateShare},
		{"longer Y", []Share{{X: 1, Y: y()}, {X: 2, Y: append(y(), 0)}}, ErrMismatchedShares},
		{"shorter Y", []Share{{X: 1, Y: y()}, {X: 2, Y: y()[:3]}}, ErrMismatchedShares},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Combine(tt.shares)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Combine error = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Error("Combine returned a secret with an error")
			}
			// Errors must not echo share material.
			msg := err.Error()
			for _, leak := range []string{"deadbeef", "DEADBEEF", fmt.Sprint(y()), "3735928559"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains share bytes", msg)
				}
			}
		})
	}
}

func TestWipe(t *testing.T) {
	t.Parallel()
	shares, err := Split(randomSecret(t, 32), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	y := shares[0].Y
	shares[0].Wipe()
	if !bytes.Equal(y, make([]byte, len(y))) {
		t.Error("Wipe did not zero Y's backing array")
	}
	if shares[0].X != 0 || shares[0].Y != nil {
		t.Errorf("after Wipe share = {X: %d, len(Y): %d}, want the zero Share", shares[0].X, len(shares[0].Y))
	}
	if _, err := shares[0].MarshalText(); !errors.Is(err, ErrInvalidShare) {
		t.Errorf("MarshalText of wiped share: error = %v, want ErrInvalidShare", err)
	}
	var zero Share
	zero.Wipe() // must not panic
}

func BenchmarkSplit(b *testing.B) {
	secret := randomSecret(b, 32)
	b.SetBytes(int64(len(secret)))
	for b.Loop() {
		if _, err := Split(secret, 5, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCombine(b *testing.B) {
	secret := randomSecret(b, 32)
	shares, err := Split(secret, 5, 3)
	if err != nil {
		b.Fatal(err)
	}
	shares = shares[1:4]
	b.SetBytes(int64(len(secret)))
	for b.Loop() {
		if _, err := Combine(shares); err != nil {
			b.Fatal(err)
		}
	}
}
