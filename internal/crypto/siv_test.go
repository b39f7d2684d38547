package crypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"testing"

	"github.com/arcakms/arca/internal/secret"
)

// sivTestKey is 64 bytes of non-constant key material.
func sivTestKey() []byte {
	k := make([]byte, 64)
	for i := range k {
		k[i] = byte(0x80 + i)
	}
	return k
}

// TestSIVAdapterNonce pins the adapter's behaviour with a nonce: Open
// refuses a non-empty one with an error, Seal panics on one (like the
// x/crypto AEADs on a wrong nonce length). VersionKey never passes one:
// Seal draws NonceSize() = 0 bytes and Open checks the length first (see
// TestVersionKeyOpenChecksNonceLengthFirst).
func TestSIVAdapterNonce(t *testing.T) {
	t.Parallel()
	a, err := newSIV(sivTestKey())
	if err != nil {
		t.Fatal(err)
	}
	if a.NonceSize() != 0 || a.Overhead() != tagSize {
		t.Fatalf("NonceSize %d, Overhead %d", a.NonceSize(), a.Overhead())
	}
	ct := a.Seal(nil, nil, []byte("m"), []byte("ad"))
	if pt, err := a.Open(nil, []byte{}, ct, []byte("ad")); err != nil || string(pt) != "m" {
		t.Fatalf("Open with an empty nonce: %q, %v", pt, err)
	}
	for _, n := range []int{1, 12, 16, 24} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Open with a %d-byte nonce panicked: %v", n, r)
				}
			}()
			if pt, err := a.Open(nil, make([]byte, n), ct, []byte("ad")); err == nil || pt != nil {
				t.Errorf("Open with a %d-byte nonce = %q, %v; want an error", n, pt, err)
			}
		}()
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			a.Seal(nil, make([]byte, n), []byte("m"), nil)
			return false
		}()
		if !panicked {
			t.Errorf("Seal with a %d-byte nonce did not panic", n)
		}
	}
	for _, n := range []int{0, 1, 15} {
		if _, err := a.Open(nil, nil, ct[:n], []byte("ad")); err == nil {
			t.Errorf("Open of %d bytes succeeded", n)
		}
	}
}

// spyAEAD records whether it was reached and panics, as the x/crypto AEADs
// and the SIV adapter's Seal do, on a nonce of the wrong length.
type spyAEAD struct {
	nonceSize int
	calls     *int
}

func (s spyAEAD) NonceSize() int { return s.nonceSize }
func (s spyAEAD) Overhead() int  { return tagSize }
func (s spyAEAD) Seal(dst, nonce, plaintext, ad []byte) []byte {
	panic("spy: Seal not expected")
}
func (s spyAEAD) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	*s.calls++
	if len(nonce) != s.nonceSize {
		panic(fmt.Sprintf("spy: Open reached with a %d-byte nonce, want %d", len(nonce), s.nonceSize))
	}
	return nil, errors.New("spy: authentication failed")
}

// TestVersionKeyOpenChecksNonceLengthFirst checks that VersionKey.Open never
// hands the AEAD a nonce of the wrong length, for every encrypt algorithm,
// and in particular never a non-empty one to aes-256-siv.
func TestVersionKeyOpenChecksNonceLengthFirst(t *testing.T) {
	t.Parallel()
	for _, alg := range encryptAlgorithms() {
		n := algorithms[alg].nonceSize
		calls := 0
		k := &VersionKey{keyID: [16]byte{1}, version: 1, algorithm: alg, aead: spyAEAD{nonceSize: n, calls: &calls}}
		for _, l := range []int{0, 1, 11, 12, 13, 16, 23, 24, 25, 255} {
			if l == n {
				continue
			}
			c := &Ciphertext{KeyID: [16]byte{1}, KeyVersion: 1, Algorithm: alg, Nonce: make([]byte, l), Sealed: make([]byte, 40)}
			if _, err := k.Open(c, Binding{}); !errors.Is(err, ErrDecrypt) {
				t.Errorf("%s, %d-byte nonce: Open err = %v, want ErrDecrypt", alg, l, err)
			}
		}
		if calls != 0 {
			t.Errorf("%s: the AEAD was reached %d times with a wrong nonce length", alg, calls)
		}
		c := &Ciphertext{KeyID: [16]byte{1}, KeyVersion: 1, Algorithm: alg, Nonce: make([]byte, n), Sealed: make([]byte, 40)}
		if _, err := k.Open(c, Binding{}); !errors.Is(err, ErrDecrypt) || calls != 1 {
			t.Errorf("%s, right nonce length: Open err = %v, AEAD calls %d; want ErrDecrypt, 1", alg, err, calls)
		}
	}
}

// TestSIVDoesNotRetainKeyMaterial checks NewVersionKey's ownership contract
// for aes-256-siv at the level of bytes: the caller (internal/kms does this
// on every key load) wipes the material right after NewVersionKey returns,
// and the key must still encrypt under the real key. A constructor that
// keeps a reference to the caller's slice instead encrypts under whatever
// the slice holds later, all zeros after a wipe: the CTR half of the key
// becomes public and the ciphertext decrypts with no secret at all.
func TestSIVDoesNotRetainKeyMaterial(t *testing.T) {
	t.Parallel()
	pt := []byte("alice@example.com, card 4111 1111 1111 1111")
	b := Binding{AssociatedData: []byte("users.email")}

	// At the constructor: clearing the caller's slice must not change the
	// AEAD built from it.
	key := sivTestKey()
	a, err := newSIV(key)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := newSIV(sivTestKey())
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	if got, want := a.Seal(nil, nil, pt, nil), ref.Seal(nil, nil, pt, nil); !bytes.Equal(got, want) {
		t.Errorf("newSIV keeps a reference to the caller's key: after the caller clears its slice, Seal gives\n %x\nnot\n %x", got, want)
	}

	// Through NewVersionKey, as the server uses it.
	m := secret.New(sivTestKey())
	k, err := NewVersionKey([16]byte{7}, 1, AES256SIV, m)
	if err != nil {
		t.Fatal(err)
	}
	m.Wipe()
	c, err := k.Seal(pt, b)
	if err != nil {
		t.Fatal(err)
	}
	want := ref.Seal(nil, nil, pt, additionalData(c.header(), b))
	if !bytes.Equal(c.Sealed, want) {
		t.Errorf("aes-256-siv key built by NewVersionKey changed when the caller wiped the material:\n got %x\nwant %x", c.Sealed, want)
	}
	// The consequence: AES-CTR under an all-zero key, with the synthetic IV
	// from the ciphertext itself (RFC 5297 section 2.6), must not reveal the
	// plaintext.
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	iv := bytes.Clone(c.Sealed[:16])
	iv[8] &= 0x7f
	iv[12] &= 0x7f
	leaked := make([]byte, len(c.Sealed)-16)
	cipher.NewCTR(block, iv).XORKeyStream(leaked, c.Sealed[16:])
	if bytes.Equal(leaked, pt) {
		t.Errorf("aes-256-siv ciphertext decrypts under an all-zero key once the caller has wiped the material: recovered %q", leaked)
	}
}
