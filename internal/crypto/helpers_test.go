package crypto_test

import (
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
func newKey(tb testing.TB, alg crypto.Algorithm, id [16]byte, version uint32, seed byte) *crypto.VersionKey {
	tb.Helper()
	m := material(alg.KeySize(), seed)
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

// headerLen is the length of a v1 header with a 12-byte nonce, as specified
// in docs/ciphertext.md: version, algorithm, key id, key version, nonce
// length, nonce.
const headerLen = 1 + 1 + 16 + 4 + 1 + 12

// tagLen is the AEAD tag length of both algorithms.
const tagLen = 16
