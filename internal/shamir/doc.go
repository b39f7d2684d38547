// Package shamir implements Shamir's secret sharing over GF(2^8), which Arca
// uses to split its 32-byte root key into N unseal shares of which any M
// (the threshold) reconstruct it, while fewer than M reveal nothing about it.
//
// # Scheme
//
// Every byte of the secret is shared independently. For secret byte s, Split
// picks a polynomial f(x) = s + a1·x + … + a(M-1)·x^(M-1) with coefficients
// drawn uniformly from crypto/rand, and share i (i = 1..N) holds f(i). Combine
// recovers s = f(0) by Lagrange interpolation. Share.X is the evaluation point
// and Share.Y holds one byte per secret byte.
//
// Arithmetic is in GF(2^8) with the AES/Rijndael reduction polynomial
// x^8 + x^4 + x^3 + x + 1 (0x11b). Addition is XOR; multiplication and
// inversion are computed without secret-dependent branches or table lookups,
// so their timing does not depend on the secret or on share values. Buffers
// holding polynomial coefficients are zeroed after use; Go gives no guarantee
// that copies made by the runtime are erased, so this is best effort.
//
// Combine cannot tell how many shares a secret was split into or what the
// threshold was: given fewer shares than the threshold it returns a wrong
// value without error. Callers must verify the result (Arca checks the
// reconstructed root key against its sealed keyring).
//
// # Text form and compatibility
//
// Operators handle shares as text:
//
//	arca-share-1-<base64url without padding of X || Y || CRC-32C(X || Y)>
//
// where the checksum is the CRC-32C (Castagnoli) of X || Y as 4 big-endian
// bytes. The checksum lets UnmarshalText reject a mistyped or truncated share
// before it is combined; it is not a MAC and does not protect against
// deliberate tampering. Changing any single character of a valid share is
// always detected. The base64url codec and the checksum are implemented in
// constant time because the text carries share material.
//
// Shares are long-lived: they are printed once at initialisation and used for
// years. The "arca-share-1-" form, the field, and the choice of evaluation
// points are therefore frozen: every later release of Arca parses version 1
// shares and combines them to the same secret. Any incompatible change must
// use a new version prefix, and version 1 stays accepted.
package shamir
