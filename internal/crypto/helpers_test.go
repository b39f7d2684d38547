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

// newKey builds a version key with deterministic material derived from seed
// (see keyMaterial).
func newKey(tb testing.TB, alg crypto.Algorithm, id [16]byte, version uint32, seed byte) *crypto.VersionKey {
	tb.Helper()
	m := keyMaterial(tb, alg, seed)
	defer m.Wipe()
	k, err := crypto.NewVersionKey(id, version, alg, m)
	if err != nil {
		tb.Fatalf("NewVersionKey(%s, v%d): %v", alg, version, err)
	}
	return k
}

// keyMaterial returns material for alg made from seed: the key size (or, for
// ML-KEM and X25519+ML-KEM, the seed size) of bytes derived from it. RSA and
// signing keys cannot be derived from a seed: signing keys use the cached
// signMaterial(alg, 0) for every seed, RSA-OAEP keys the cached
// cachedMaterial(alg, seed%2), so that two seeds of different parity give
// different keys.
func keyMaterial(tb testing.TB, alg crypto.Algorithm, seed byte) *secret.Bytes {
	tb.Helper()
	switch in := info(tb, alg); {
	case in.purpose == crypto.PurposeSign:
		return signMaterial(tb, alg, 0)
	case in.rsaBits != 0:
		return cachedMaterial(tb, alg, int(seed%2))
	case in.seedSize != 0:
		return material(in.seedSize, seed)
	}
	return material(alg.KeySize(), seed)
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
// it is the synthetic IV, which comes first), and of the AES-256-GCM that
// seals the HPKE part of the ML-KEM and X25519+ML-KEM algorithms.
const tagLen = 16

// algorithmInfo is what docs/ciphertext.md and the API promise about one
// algorithm. The table is literal on purpose: the tests read the package's
// behaviour and compare it with these values, never the other way round.
type algorithmInfo struct {
	alg           crypto.Algorithm
	name          string
	purpose       crypto.Purpose
	id            byte // wire id in ciphertext headers; 0 for MAC and sign algorithms
	keySize       int  // 0 for sign and asymmetric algorithms (PKCS#8 DER or a seed)
	nonceSize     int  // encrypt algorithms only
	macSize       int  // MAC algorithms only
	deterministic bool
	// Asymmetric encryption: the RSA modulus size (material is PKCS#8), or
	// the KEM seed size (the material) and the size of the encapsulated key
	// that starts the sealed part.
	rsaBits, seedSize, encSize int
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
	{alg: crypto.RSAOAEP2048, name: "rsa-oaep-2048", purpose: crypto.PurposeAsymmetric, id: 5, rsaBits: 2048},
	{alg: crypto.RSAOAEP3072, name: "rsa-oaep-3072", purpose: crypto.PurposeAsymmetric, id: 6, rsaBits: 3072},
	{alg: crypto.RSAOAEP4096, name: "rsa-oaep-4096", purpose: crypto.PurposeAsymmetric, id: 7, rsaBits: 4096},
	{alg: crypto.MLKEM768, name: "ml-kem-768", purpose: crypto.PurposeAsymmetric, id: 8, seedSize: 64, encSize: 1088},
	{alg: crypto.MLKEM1024, name: "ml-kem-1024", purpose: crypto.PurposeAsymmetric, id: 9, seedSize: 64, encSize: 1568},
	{alg: crypto.X25519MLKEM768, name: "x25519-ml-kem-768", purpose: crypto.PurposeAsymmetric, id: 10, seedSize: 32, encSize: 1120},
}

// keySlot names one cached generated key: n is 0 or 1, two independent keys
// per algorithm.
type keySlot struct {
	alg crypto.Algorithm
	n   int
}

// generatedMaterials generates each signing and RSA-OAEP key once per test
// binary (RSA key generation is slow, more so under -race), lazily, on first
// use. ML-DSA material is a 32-byte seed, cheap to make, cached all the same.
var generatedMaterials = func() map[keySlot]func() ([]byte, error) {
	m := map[keySlot]func() ([]byte, error){}
	for _, in := range algorithmTable {
		if in.purpose != crypto.PurposeSign && in.rsaBits == 0 {
			continue
		}
		for n := range 2 {
			alg := in.alg
			m[keySlot{alg, n}] = sync.OnceValues(func() ([]byte, error) {
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

// cachedMaterial returns a copy (the caller may wipe it) of the n-th (0 or
// 1) cached material of a signing or RSA-OAEP algorithm (PKCS#8, or the
// 32-byte seed for ML-DSA), made by GenerateMaterial.
func cachedMaterial(tb testing.TB, alg crypto.Algorithm, n int) *secret.Bytes {
	tb.Helper()
	gen, ok := generatedMaterials[keySlot{alg, n}]
	if !ok {
		tb.Fatalf("no cached material %d for %q", n, alg)
	}
	der, err := gen()
	if err != nil {
		tb.Fatalf("GenerateMaterial(%s): %v", alg, err)
	}
	return secret.New(bytes.Clone(der))
}

// signMaterial is cachedMaterial for a signing algorithm.
func signMaterial(tb testing.TB, alg crypto.Algorithm, n int) *secret.Bytes {
	tb.Helper()
	return cachedMaterial(tb, alg, n)
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

// encryptAlgorithms returns the algorithms of Algorithms() whose keys Seal
// and Open and appear in ciphertexts, in order: symmetric (purpose encrypt)
// then asymmetric (purpose asymmetric-encrypt).
func encryptAlgorithms() []crypto.Algorithm {
	var out []crypto.Algorithm
	for _, a := range crypto.Algorithms() {
		if a.Encrypts() {
			out = append(out, a)
		}
	}
	return out
}

// symmetricAlgorithms returns the encrypt-purpose algorithms of
// Algorithms(), in order: the AEADs.
func symmetricAlgorithms() []crypto.Algorithm { return algorithmsFor(crypto.PurposeEncrypt) }

// asymmetricAlgorithms returns the asymmetric-encrypt algorithms of
// Algorithms(), in order.
func asymmetricAlgorithms() []crypto.Algorithm { return algorithmsFor(crypto.PurposeAsymmetric) }

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

// sealedLenFor is the length of the sealed part of a ciphertext of alg for
// a ptLen-byte plaintext: the plaintext and the tag for the AEADs; the
// modulus size for RSA-OAEP; the encapsulated key, the plaintext and the
// AES-256-GCM tag for HPKE.
func sealedLenFor(tb testing.TB, alg crypto.Algorithm, ptLen int) int {
	tb.Helper()
	in := info(tb, alg)
	if in.rsaBits != 0 {
		return in.rsaBits / 8
	}
	return in.encSize + ptLen + tagLen
}

// minSealedLenFor is the shortest sealed part the parser accepts for alg.
func minSealedLenFor(tb testing.TB, alg crypto.Algorithm) int {
	tb.Helper()
	return sealedLenFor(tb, alg, 0)
}

// maxPlaintextFor is the longest plaintext alg encrypts, -1 if unbounded:
// k − 2·32 − 2 bytes for RSA-OAEP with SHA-256 and a k-byte modulus.
func maxPlaintextFor(tb testing.TB, alg crypto.Algorithm) int {
	tb.Helper()
	if in := info(tb, alg); in.rsaBits != 0 {
		return in.rsaBits/8 - 66
	}
	return -1
}

// isAsymmetric reports whether alg is an asymmetric encryption algorithm.
func isAsymmetric(alg crypto.Algorithm) bool { return alg.Purpose() == crypto.PurposeAsymmetric }
