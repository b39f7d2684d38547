package crypto_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/secret"
)

// Fixed identities used across the tests. idA and idB differ only in their
// last byte so that a mix-up is not hidden by a difference elsewhere.
var (
	idA = [16]byte{0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x11, 0xd2, 0x88, 0x3f, 0x00, 0x16, 0xd3, 0xcc, 0xa4, 0x27}
	idB = [16]byte{0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x11, 0xd2, 0x88, 0x3f, 0x00, 0x16, 0xd3, 0xcc, 0xa4, 0x28}
)

// material returns deterministic key material of n bytes derived from seed.
func material(n int, seed byte) *secret.Bytes {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return secret.New(b)
}

// newKey builds a version key with deterministic material derived from seed.
// Signing keys cannot be derived from a seed: they use signMaterial(alg, 0),
// the same key for every seed.
func newKey(tb testing.TB, alg crypto.Algorithm, id [16]byte, version uint32, seed byte) *crypto.VersionKey {
	tb.Helper()
	var m *secret.Bytes
	if alg.Purpose() == crypto.PurposeSign {
		m = signMaterial(tb, alg, 0)
	} else {
		m = material(alg.KeySize(), seed)
	}
	defer m.Wipe()
	k, err := crypto.NewVersionKey(id, version, alg, m)
	if err != nil {
		tb.Fatalf("NewVersionKey(%s, v%d): %v", alg, version, err)
	}
	return k
}

// seal is Seal that fails the test on error.
func seal(tb testing.TB, k *crypto.VersionKey, pt []byte, b crypto.Binding) *crypto.Ciphertext {
	tb.Helper()
	c, err := k.Seal(pt, b)
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return c
}

// marshal is MarshalBinary that fails the test on error.
func marshal(tb testing.TB, c *crypto.Ciphertext) []byte {
	tb.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		tb.Fatalf("MarshalBinary: %v", err)
	}
	return b
}

// pattern returns n bytes of a non-constant pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// sampleBinding is a binding with both associated data and context.
func sampleBinding() crypto.Binding {
	return crypto.Binding{
		AssociatedData: []byte("invoice-42"),
		Context:        map[string]string{"tenant": "acme", "purpose": "billing"},
	}
}

// fixedHeaderLen is the fixed part of a v1 header, as specified in
// docs/ciphertext.md: version, algorithm, key id, key version, nonce length.
const fixedHeaderLen = 1 + 1 + 16 + 4 + 1

// headerLen is the length of a v1 header with a 12-byte nonce (aes-256-gcm,
// chacha20-poly1305, and handBuilt). Use headerLenFor for other algorithms.
const headerLen = fixedHeaderLen + 12

// tagLen is the AEAD tag length of every encrypt algorithm (for aes-256-siv
// it is the synthetic IV, which comes first).
const tagLen = 16

// algorithmInfo is what docs/ciphertext.md and the API promise about one
// algorithm. The table is literal on purpose: the tests read the package's
// behaviour and compare it with these values, never the other way round.
type algorithmInfo struct {
	alg           crypto.Algorithm
	name          string
	purpose       crypto.Purpose
	id            byte // wire id in ciphertext headers; 0 for MAC and sign algorithms
	keySize       int  // 0 for sign algorithms: PKCS#8 DER, or a 32-byte seed for ML-DSA
	nonceSize     int  // encrypt algorithms only
	macSize       int  // MAC algorithms only
	deterministic bool
}

// algorithmTable lists every algorithm in the order Algorithms() returns them.
var algorithmTable = []algorithmInfo{
	{alg: crypto.AES256GCM, name: "aes-256-gcm", purpose: crypto.PurposeEncrypt, id: 1, keySize: 32, nonceSize: 12},
	{alg: crypto.ChaCha20Poly1305, name: "chacha20-poly1305", purpose: crypto.PurposeEncrypt, id: 2, keySize: 32, nonceSize: 12},
	{alg: crypto.XChaCha20Poly1305, name: "xchacha20-poly1305", purpose: crypto.PurposeEncrypt, id: 3, keySize: 32, nonceSize: 24},
	{alg: crypto.AES256SIV, name: "aes-256-siv", purpose: crypto.PurposeEncrypt, id: 4, keySize: 64, nonceSize: 0, deterministic: true},
	{alg: crypto.HMACSHA256, name: "hmac-sha256", purpose: crypto.PurposeMAC, keySize: 32, macSize: 32},
	{alg: crypto.HMACSHA384, name: "hmac-sha384", purpose: crypto.PurposeMAC, keySize: 48, macSize: 48},
	{alg: crypto.HMACSHA512, name: "hmac-sha512", purpose: crypto.PurposeMAC, keySize: 64, macSize: 64},
	{alg: crypto.ECDSAP256, name: "ecdsa-p256", purpose: crypto.PurposeSign},
	{alg: crypto.ECDSAP384, name: "ecdsa-p384", purpose: crypto.PurposeSign},
	{alg: crypto.ECDSAP521, name: "ecdsa-p521", purpose: crypto.PurposeSign},
	{alg: crypto.Ed25519, name: "ed25519", purpose: crypto.PurposeSign},
	{alg: crypto.RSA2048, name: "rsa-2048", purpose: crypto.PurposeSign},
	{alg: crypto.RSA3072, name: "rsa-3072", purpose: crypto.PurposeSign},
	{alg: crypto.RSA4096, name: "rsa-4096", purpose: crypto.PurposeSign},
	{alg: crypto.MLDSA44, name: "ml-dsa-44", purpose: crypto.PurposeSign},
	{alg: crypto.MLDSA65, name: "ml-dsa-65", purpose: crypto.PurposeSign},
	{alg: crypto.MLDSA87, name: "ml-dsa-87", purpose: crypto.PurposeSign},
}

// signKeySlot names one cached signing key: n is 0 or 1, two independent
// keys per algorithm.
type signKeySlot struct {
	alg crypto.Algorithm
	n   int
}

// signMaterials generates each signing key once per test binary (RSA key
// generation is slow, more so under -race), lazily, on first use. ML-DSA
// material is a 32-byte seed, cheap to make, cached all the same.
var signMaterials = func() map[signKeySlot]func() ([]byte, error) {
	m := map[signKeySlot]func() ([]byte, error){}
	for _, in := range algorithmTable {
		if in.purpose != crypto.PurposeSign {
			continue
		}
		for n := range 2 {
			alg := in.alg
			m[signKeySlot{alg, n}] = sync.OnceValues(func() ([]byte, error) {
				g, err := crypto.GenerateMaterial(alg)
				if err != nil {
					return nil, err
				}
				defer g.Wipe()
				return bytes.Clone(g.Reveal()), nil
			})
		}
	}
	return m
}()

// signMaterial returns a copy (the caller may wipe it) of the n-th (0 or 1)
// cached material of the signing algorithm alg (PKCS#8, or the 32-byte
// seed for ML-DSA), made by GenerateMaterial.
func signMaterial(tb testing.TB, alg crypto.Algorithm, n int) *secret.Bytes {
	tb.Helper()
	gen, ok := signMaterials[signKeySlot{alg, n}]
	if !ok {
		tb.Fatalf("no cached signing material %d for %q", n, alg)
	}
	der, err := gen()
	if err != nil {
		tb.Fatalf("GenerateMaterial(%s): %v", alg, err)
	}
	return secret.New(bytes.Clone(der))
}

// signKey builds a version key from signMaterial(alg, n).
func signKey(tb testing.TB, alg crypto.Algorithm, n int) *crypto.VersionKey {
	tb.Helper()
	m := signMaterial(tb, alg, n)
	defer m.Wipe()
	k, err := crypto.NewVersionKey(idA, 1, alg, m)
	if err != nil {
		tb.Fatalf("NewVersionKey(%s): %v", alg, err)
	}
	return k
}

// info returns the literal table entry of alg.
func info(tb testing.TB, alg crypto.Algorithm) algorithmInfo {
	tb.Helper()
	for _, in := range algorithmTable {
		if in.alg == alg {
			return in
		}
	}
	tb.Fatalf("algorithm %q is not in the test's algorithm table", alg)
	return algorithmInfo{}
}

// encryptAlgorithms returns the encrypt-purpose algorithms of Algorithms(),
// in order: the ones that Seal and Open, and appear in ciphertexts.
func encryptAlgorithms() []crypto.Algorithm { return algorithmsFor(crypto.PurposeEncrypt) }

// macAlgorithms returns the MAC-purpose algorithms of Algorithms(), in order.
func macAlgorithms() []crypto.Algorithm { return algorithmsFor(crypto.PurposeMAC) }

// signAlgorithms returns the sign-purpose algorithms of Algorithms(), in order.
func signAlgorithms() []crypto.Algorithm { return algorithmsFor(crypto.PurposeSign) }

// isMLDSA reports whether alg is one of the ML-DSA (FIPS 204) algorithms,
// whose material is a 32-byte seed rather than PKCS#8.
func isMLDSA(alg crypto.Algorithm) bool { return strings.HasPrefix(string(alg), "ml-dsa-") }

// mldsaSeedSize is the FIPS 204 seed length, ML-DSA's key material.
const mldsaSeedSize = 32

func algorithmsFor(p crypto.Purpose) []crypto.Algorithm {
	var out []crypto.Algorithm
	for _, a := range crypto.Algorithms() {
		if a.Purpose() == p {
			out = append(out, a)
		}
	}
	return out
}

// headerLenFor is the header length of a ciphertext of alg.
func headerLenFor(tb testing.TB, alg crypto.Algorithm) int {
	tb.Helper()
	return fixedHeaderLen + info(tb, alg).nonceSize
}
