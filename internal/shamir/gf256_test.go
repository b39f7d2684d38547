package shamir

import "testing"

// refTables are log/exp tables for GF(2^8) with generator {03}, built with
// xtime only, as an implementation independent of gfMul.
type refTables struct {
	exp [255]byte
	log [256]byte
}

func newRefTables(t *testing.T) *refTables {
	t.Helper()
	var r refTables
	seen := make(map[byte]bool)
	x := byte(1)
	for i := range r.exp {
		if seen[x] {
			t.Fatalf("{03} is not a generator: {%02x} repeats at power %d", x, i)
		}
		seen[x] = true
		r.exp[i] = x
		r.log[x] = byte(i)
		// x·{03} = xtime(x) + x, where xtime multiplies by {02} (FIPS-197 4.2.1).
		xt := x << 1
		if x&0x80 != 0 {
			xt ^= 0x1b
		}
		x = xt ^ x
	}
	if x != 1 {
		t.Fatalf("{03}^255 = {%02x}, want {01}", x)
	}
	return &r
}

func (r *refTables) mul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return r.exp[(int(r.log[a])+int(r.log[b]))%255]
}

func (r *refTables) inv(a byte) byte {
	return r.exp[(255-int(r.log[a]))%255]
}

func TestGFMulKnown(t *testing.T) {
	t.Parallel()
	// FIPS-197 section 4.2 and 4.2.1.
	tests := []struct{ a, b, want byte }{
		{0x57, 0x83, 0xc1},
		{0x57, 0x13, 0xfe},
		{0x57, 0x02, 0xae},
		{0x57, 0x04, 0x47},
		{0x57, 0x08, 0x8e},
		{0x57, 0x10, 0x07},
		{0x00, 0xff, 0x00},
		{0x01, 0xff, 0xff},
	}
	for _, tt := range tests {
		if got := gfMul(tt.a, tt.b); got != tt.want {
			t.Errorf("{%02x}·{%02x} = {%02x}, want {%02x}", tt.a, tt.b, got, tt.want)
		}
		if got := gfMul(tt.b, tt.a); got != tt.want {
			t.Errorf("{%02x}·{%02x} = {%02x}, want {%02x}", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestGFMulExhaustive(t *testing.T) {
	t.Parallel()
	ref := newRefTables(t)
	for a := range 256 {
		for b := range 256 {
			got, want := gfMul(byte(a), byte(b)), ref.mul(byte(a), byte(b))
			if got != want {
				t.Fatalf("{%02x}·{%02x} = {%02x}, want {%02x}", a, b, got, want)
			}
		}
	}
}

func TestGFInv(t *testing.T) {
	t.Parallel()
	ref := newRefTables(t)
	if got := gfInv(0); got != 0 {
		t.Errorf("inv({00}) = {%02x}, want {00}", got)
	}
	for a := 1; a < 256; a++ {
		inv := gfInv(byte(a))
		if p := gfMul(byte(a), inv); p != 1 {
			t.Errorf("{%02x}·inv({%02x}) = {%02x}, want {01}", a, a, p)
		}
		if want := ref.inv(byte(a)); inv != want {
			t.Errorf("inv({%02x}) = {%02x}, want {%02x}", a, inv, want)
		}
	}
}
