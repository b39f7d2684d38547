package crypto_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/secret"
)

// TestPKCS8MaterialMustBeOneDERValue: material with bytes after the PKCS#8
// structure (which x509 would tolerate) is refused, so each key has one
// canonical material.
func TestPKCS8MaterialMustBeOneDERValue(t *testing.T) {
	t.Parallel()
	for _, alg := range []crypto.Algorithm{crypto.Ed25519, crypto.ECDSAP256, crypto.RSAOAEP2048} {
		m := cachedMaterial(t, alg, 0)
		if _, err := crypto.NewVersionKey([16]byte{1}, 1, alg, m); err != nil {
			t.Fatalf("%s: canonical material refused: %v", alg, err)
		}
		junk := secret.New(append(bytes.Clone(m.Reveal()), 0))
		if _, err := crypto.NewVersionKey([16]byte{1}, 1, alg, junk); err == nil {
			t.Fatalf("%s: material with a trailing byte was accepted", alg)
		}
	}
}

// TestMarshalRefusesWrongSealedLength: a hand-built ciphertext whose sealed
// part has a length Parse would refuse does not marshal either.
func TestMarshalRefusesWrongSealedLength(t *testing.T) {
	t.Parallel()
	k := newKey(t, crypto.RSAOAEP2048, [16]byte{2}, 1, 0)
	c := seal(t, k, []byte("x"), crypto.Binding{})
	if _, err := c.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(c.Sealed) - 1, len(c.Sealed) + 1, 0} {
		bad := *c
		bad.Sealed = make([]byte, n)
		if _, err := bad.MarshalBinary(); !errors.Is(err, crypto.ErrMalformedCiphertext) {
			t.Fatalf("sealed length %d: %v, want ErrMalformedCiphertext", n, err)
		}
	}
}
