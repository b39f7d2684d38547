package shamir

// Arithmetic in GF(2^8) = GF(2)[x] / (x^8 + x^4 + x^3 + x + 1), the field used
// by AES (FIPS-197 section 4). Elements are bytes; bit i is the coefficient of
// x^i. Addition and subtraction are both XOR and need no helper.
//
// Every function here runs in time independent of its operands: share values
// and secret bytes flow through them, so a data-dependent branch or table
// index could leak them through timing or cache side channels.

// gfMul returns a·b in GF(2^8).
//
// It is the shift-and-add ("Russian peasant") method with masks instead of
// branches: for each bit of b, a is added to the product under an all-ones or
// all-zeros mask, and a is multiplied by x, reducing by 0x11b under a mask
// derived from its top bit.
func gfMul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= a & -(b & 1) // add a if the low bit of b is set
		b >>= 1
		carry := -(a >> 7) // 0xff if x^7 is set in a, else 0
		a = a<<1 ^ 0x1b&carry
	}
	return p
}

// gfInv returns the multiplicative inverse of a, and 0 for a == 0.
//
// By Fermat's little theorem a^255 = 1 for a != 0, so a^-1 = a^254. The
// exponent is public and fixed (254 = 0b11111110), so the square-and-multiply
// chain below performs the same operations for every input.
func gfInv(a byte) byte {
	sq := gfMul(a, a) // a^2
	r := sq
	for range 6 {
		sq = gfMul(sq, sq) // a^4, a^8, …, a^128
		r = gfMul(r, sq)
	}
	return r // a^(2+4+8+16+32+64+128) = a^254
}
