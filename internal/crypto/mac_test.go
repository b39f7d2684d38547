package crypto_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
)

// referenceHash is the hash each MAC algorithm is specified with, taken
// from the standard library independently of the package's table.
var referenceHash = map[crypto.Algorithm]func() hash.Hash{
	crypto.HMACSHA256: sha256.New,
	crypto.HMACSHA384: sha512.New384,
	crypto.HMACSHA512: sha512.New,
}

// TestMAC checks MAC against an independent HMAC computation, its length per
// algorithm, and that it is a function of the key and the data alone.
func TestMAC(t *testing.T) {
	t.Parallel()
	macs := macAlgorithms()
	if len(macs) != 3 {
		t.Fatalf("MAC algorithms %v, want 3", macs)
	}
	for _, alg := range macs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			in := info(t, alg)
			raw := material(in.keySize, 0x31)
			k, err := crypto.NewVersionKey(idA, 1, alg, raw.Clone())
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			for _, data := range [][]byte{nil, []byte("hello"), []byte("hellp"), []byte("hello\x00"), pattern(1000), pattern(1 << 16)} {
				tag, err := k.MAC(data)
				if err != nil {
					t.Fatalf("MAC: %v", err)
				}
				if len(tag) != in.macSize {
					t.Fatalf("MAC length %d, want %d", len(tag), in.macSize)
				}
				ref := hmac.New(referenceHash[alg], raw.Reveal())
				ref.Write(data)
				if want := ref.Sum(nil); !bytes.Equal(tag, want) {
					t.Fatalf("MAC(%d bytes)\n got %x\nwant %x", len(data), tag, want)
				}
				again, _ := k.MAC(bytes.Clone(data))
				if !bytes.Equal(again, tag) {
					t.Fatal("MAC is not deterministic")
				}
				if prev, dup := seen[string(tag)]; dup {
					t.Fatalf("same tag for %q and %q", prev, data)
				}
				seen[string(tag)] = string(data)
			}
			empty, _ := k.MAC([]byte{})
			nilTag, _ := k.MAC(nil)
			if !bytes.Equal(empty, nilTag) {
				t.Fatal("nil and empty data give different tags")
			}
			// Another version with other material gives another tag.
			other := newKey(t, alg, idA, 2, 0x32)
			t1, _ := k.MAC([]byte("hello"))
			t2, _ := other.MAC([]byte("hello"))
			if bytes.Equal(t1, t2) {
				t.Fatal("two versions with different material give the same tag")
			}
		})
	}
}

// TestVerifyMAC checks that VerifyMAC accepts exactly the right tag.
func TestVerifyMAC(t *testing.T) {
	t.Parallel()
	for _, alg := range macAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			in := info(t, alg)
			k1 := newKey(t, alg, idA, 1, 0x41)
			k2 := newKey(t, alg, idA, 2, 0x42)
			data := []byte("transfer 100 to alice")
			tag, err := k1.MAC(data)
			if err != nil {
				t.Fatal(err)
			}
			verify := func(k *crypto.VersionKey, data, tag []byte) bool {
				t.Helper()
				ok, err := k.VerifyMAC(data, tag)
				if err != nil {
					t.Fatalf("VerifyMAC: %v", err)
				}
				return ok
			}
			if !verify(k1, data, tag) {
				t.Fatal("VerifyMAC rejected the right tag")
			}
			if !verify(k1, bytes.Clone(data), bytes.Clone(tag)) {
				t.Fatal("VerifyMAC rejected copies of the right data and tag")
			}
			for i := range len(tag) * 8 {
				bad := bytes.Clone(tag)
				bad[i/8] ^= 1 << (i % 8)
				if verify(k1, data, bad) {
					t.Fatalf("VerifyMAC accepted the tag with bit %d flipped", i)
				}
			}
			for n := range len(tag) {
				if verify(k1, data, tag[:n]) {
					t.Fatalf("VerifyMAC accepted the tag truncated to %d bytes", n)
				}
				if n > 0 && verify(k1, data, tag[len(tag)-n:]) {
					t.Fatalf("VerifyMAC accepted the last %d bytes of the tag", n)
				}
			}
			if verify(k1, data, nil) || verify(k1, data, []byte{}) {
				t.Fatal("VerifyMAC accepted an empty tag")
			}
			if verify(k1, data, append(bytes.Clone(tag), 0)) {
				t.Fatal("VerifyMAC accepted the tag with a byte appended")
			}
			if verify(k1, data, append(bytes.Clone(tag), tag...)) {
				t.Fatal("VerifyMAC accepted the tag repeated")
			}
			if verify(k1, data, make([]byte, in.macSize)) {
				t.Fatal("VerifyMAC accepted an all-zero tag")
			}
			if verify(k1, []byte("transfer 900 to alice"), tag) {
				t.Fatal("VerifyMAC accepted the tag for other data")
			}
			if verify(k1, append(bytes.Clone(data), 0), tag) {
				t.Fatal("VerifyMAC accepted the tag for extended data")
			}
			// Another version's tag.
			tag2, err := k2.MAC(data)
			if err != nil {
				t.Fatal(err)
			}
			if verify(k1, data, tag2) {
				t.Fatal("version 1 accepted version 2's tag")
			}
			if verify(k2, data, tag) {
				t.Fatal("version 2 accepted version 1's tag")
			}
			if !verify(k2, data, tag2) {
				t.Fatal("version 2 rejected its own tag")
			}
			// Another algorithm's tag (same material prefix, other hash).
			for _, oalg := range macAlgorithms() {
				if oalg == alg {
					continue
				}
				ok := newKey(t, oalg, idA, 1, 0x41)
				otag, _ := ok.MAC(data)
				if verify(k1, data, otag) || verify(k1, data, otag[:min(len(otag), len(tag))]) {
					t.Fatalf("%s accepted a %s tag", alg, oalg)
				}
			}
		})
	}
}

// TestWrongPurpose checks that a key does only what its algorithm is for.
func TestWrongPurpose(t *testing.T) {
	t.Parallel()
	for _, alg := range macAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x51)
			for _, pt := range [][]byte{nil, []byte("x")} {
				c, err := k.Seal(pt, sampleBinding())
				if !errors.Is(err, crypto.ErrWrongPurpose) || c != nil {
					t.Fatalf("Seal = %v, %v; want ErrWrongPurpose", c, err)
				}
			}
			// A real ciphertext naming this key's identity, and one that
			// claims this key's algorithm.
			enc := newKey(t, crypto.AES256GCM, idA, 1, 0x51)
			made := seal(t, enc, []byte("secret"), sampleBinding())
			claim := &crypto.Ciphertext{KeyID: idA, KeyVersion: 1, Algorithm: alg, Sealed: make([]byte, tagLen)}
			for _, c := range []*crypto.Ciphertext{made, claim} {
				pt, err := openNoPanic(k, c, sampleBinding())
				if !errors.Is(err, crypto.ErrWrongPurpose) || pt != nil {
					t.Fatalf("Open(%s ciphertext) = %q, %v; want ErrWrongPurpose", c.Algorithm, pt, err)
				}
			}
		})
	}
	for _, alg := range encryptAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x52)
			for _, data := range [][]byte{nil, []byte("data")} {
				tag, err := k.MAC(data)
				if !errors.Is(err, crypto.ErrWrongPurpose) || tag != nil {
					t.Fatalf("MAC = %x, %v; want ErrWrongPurpose", tag, err)
				}
			}
			// Whatever the tag, including one made by a MAC key with the
			// same material length and seed.
			macKey := newKey(t, crypto.HMACSHA256, idA, 1, 0x52)
			good, _ := macKey.MAC([]byte("data"))
			for _, tag := range [][]byte{nil, {}, good, make([]byte, 32)} {
				ok, err := k.VerifyMAC([]byte("data"), tag)
				if !errors.Is(err, crypto.ErrWrongPurpose) || ok {
					t.Fatalf("VerifyMAC(%x) = %v, %v; want false, ErrWrongPurpose", tag, ok, err)
				}
			}
		})
	}
}
