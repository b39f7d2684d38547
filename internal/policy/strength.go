package policy

// algorithmStrengths is THE strength table, in the stable order of [Algorithms]: symmetric algorithms,
// then MACs, then classical asymmetric, then post-quantum. [Strength] and the documentation read it.
var algorithmStrengths = [...]struct {
	name string
	bits int
}{
	{"aes-256-gcm", 256},
	{"aes-256-siv", 256},
	{"chacha20-poly1305", 256},
	{"xchacha20-poly1305", 256},
	{"hmac-sha256", 256},
	{"hmac-sha384", 256},
	{"hmac-sha512", 256},
	{"rsa-2048", 112},
	{"rsa-3072", 128},
	{"rsa-4096", 152},
	{"rsa-oaep-2048", 112},
	{"rsa-oaep-3072", 128},
	{"rsa-oaep-4096", 152},
	{"ecdsa-p256", 128},
	{"ecdsa-p384", 192},
	{"ecdsa-p521", 256},
	{"ed25519", 128},
	{"ml-dsa-44", 128},
	{"ml-dsa-65", 192},
	{"ml-dsa-87", 256},
	{"ml-kem-768", 192},
	{"ml-kem-1024", 256},
	{"x25519-ml-kem-768", 192},
}

// maxStrength is the highest strength any algorithm has, and so the highest useful min_strength_bits.
const maxStrength = 256

// Strength returns the security strength in bits of the key algorithm named algorithm (exact,
// case-sensitive match), and false if the policy does not know the name. Unknown algorithms are never
// allowed by a policy (fail closed).
//
// Strengths follow NIST SP 800-57 Part 1 Rev. 5, "Recommendation for Key Management", section 5.6.1.1,
// Table 2 ("Comparable security strengths of symmetric block cipher and asymmetric-key algorithms"), and
// Table 3 for HMAC. Table 2 stops at 256 bits, so no algorithm is rated above 256:
//
//	algorithm           bits  basis
//	aes-256-gcm          256  Table 2: AES-256
//	aes-256-siv          256  Table 2: AES-256 (SIV uses a 512-bit key: two AES-256 keys; strength is AES-256's)
//	chacha20-poly1305    256  256-bit key; the cipher has no block-size cap (by analogy with AES-256)
//	xchacha20-poly1305   256  as chacha20-poly1305 (the longer nonce does not change the strength)
//	hmac-sha256          256  Table 3: HMAC-SHA-256 ≥ 256 with a 256-bit key
//	hmac-sha384          256  Table 3: ≥ 256; a 384-bit key is capped at Table 2's 256-bit maximum
//	hmac-sha512          256  Table 3: ≥ 256; a 512-bit key is capped at Table 2's 256-bit maximum
//	rsa-2048             112  Table 2: IFC k = 2048
//	rsa-3072             128  Table 2: IFC k = 3072
//	rsa-4096             152  not in Table 2 (between k = 3072 → 128 and k = 7680 → 192); 152 is the
//	                          commonly cited estimate (e.g. the general number field sieve cost formula
//	                          of NIST SP 800-56B Rev. 2, Appendix D), not a NIST table value
//	rsa-oaep-2048        112  as rsa-2048 (the same modulus, used for RSA-OAEP encryption)
//	rsa-oaep-3072        128  as rsa-3072
//	rsa-oaep-4096        152  as rsa-4096
//	ecdsa-p256           128  Table 2: ECC f = 256–383
//	ecdsa-p384           192  Table 2: ECC f = 384–511
//	ecdsa-p521           256  Table 2: ECC f = 512+
//	ed25519              128  Table 2: ECC f = 256–383 (Curve25519, a 255-bit field and a 253-bit order,
//	                          is rated 128 bits by NIST SP 800-186 and FIPS 186-5)
//	ml-dsa-44            128  not in Table 2: FIPS 204 security category 2 (collision search on SHA-256),
//	                          rated at the category's classical strength
//	ml-dsa-65            192  not in Table 2: FIPS 204 category 3 (AES-192)
//	ml-dsa-87            256  not in Table 2: FIPS 204 category 5 (AES-256)
//	ml-kem-768           192  not in Table 2: FIPS 203 category 3 (AES-192)
//	ml-kem-1024          256  not in Table 2: FIPS 203 category 5 (AES-256)
//	x25519-ml-kem-768    192  hybrid: an attacker must break both X25519 (128) and ML-KEM-768 (192), so
//	                          the hybrid is at least as strong as ML-KEM-768
//
// The names are those of the Arca API. Strength does not say which of them this server can create: a
// policy may name algorithms before the server implements them, and the service refuses unsupported ones
// on its own.
func Strength(algorithm string) (int, bool) {
	for _, a := range algorithmStrengths {
		if a.name == algorithm {
			return a.bits, true
		}
	}
	return 0, false
}

// Algorithms returns every algorithm name [Strength] knows, in a stable order (symmetric ciphers, MACs,
// classical asymmetric, post-quantum), for documentation, error messages and exhaustive tests. It is the
// allowed list of a policy that names none. The slice is a fresh copy.
func Algorithms() []string {
	out := make([]string, len(algorithmStrengths))
	for i, a := range algorithmStrengths {
		out[i] = a.name
	}
	return out
}
