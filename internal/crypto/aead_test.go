package crypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/secret"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	plaintexts := []struct {
		name string
		pt   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"one-byte", []byte{0x00}},
		{"short", []byte("attack at dawn")},
		{"block-aligned", pattern(64)},
		{"large-1MiB", pattern(1 << 20)},
	}
	bindings := []struct {
		name string
		b    crypto.Binding
	}{
		{"no-binding", crypto.Binding{}},
		{"associated-data", crypto.Binding{AssociatedData: []byte("row 17 of table invoices")}},
		{"context", crypto.Binding{Context: map[string]string{"tenant": "acme"}}},
		{"both", sampleBinding()},
		{"binary-associated-data", crypto.Binding{AssociatedData: []byte{0, 0, 0, 0, 0xff}}},
		{"context-empty-strings", crypto.Binding{Context: map[string]string{"": ""}}},
	}
	for _, alg := range crypto.Algorithms() {
		k := newKey(t, alg, idA, 3, 0x40)
		for _, p := range plaintexts {
			for _, bd := range bindings {
				t.Run(fmt.Sprintf("%s/%s/%s", alg, p.name, bd.name), func(t *testing.T) {
					t.Parallel()
					c := seal(t, k, p.pt, bd.b)
					if c.KeyID != idA || c.KeyVersion != 3 || c.Algorithm != alg {
						t.Fatalf("header = (%x, %d, %s), want (%x, 3, %s)", c.KeyID, c.KeyVersion, c.Algorithm, idA, alg)
					}
					if len(c.Nonce) != 12 {
						t.Fatalf("nonce length %d, want 12", len(c.Nonce))
					}
					if got, want := len(c.Sealed), len(p.pt)+tagLen; got != want {
						t.Fatalf("sealed length %d, want %d", got, want)
					}
					bin := marshal(t, c)
					if got, want := len(bin), headerLen+len(p.pt)+tagLen; got != want {
						t.Fatalf("binary length %d, want %d", got, want)
					}
					if !bytes.HasSuffix(bin, c.Sealed) {
						t.Fatal("binary form does not end with the sealed bytes")
					}

					// Through the binary form.
					pc, err := crypto.ParseBinary(bin)
					if err != nil {
						t.Fatalf("ParseBinary: %v", err)
					}
					got, err := k.Open(pc, bd.b)
					if err != nil {
						t.Fatalf("Open(binary): %v", err)
					}
					if !bytes.Equal(got, p.pt) {
						t.Fatal("Open(binary) returned a different plaintext")
					}

					// Through the text form.
					s := c.String()
					if !strings.HasPrefix(s, crypto.TextPrefix) {
						t.Fatalf("text form lacks %q prefix", crypto.TextPrefix)
					}
					tc, err := crypto.Parse(s)
					if err != nil {
						t.Fatalf("Parse: %v", err)
					}
					got, err = k.Open(tc, bd.b)
					if err != nil {
						t.Fatalf("Open(text): %v", err)
					}
					if !bytes.Equal(got, p.pt) {
						t.Fatal("Open(text) returned a different plaintext")
					}
				})
			}
		}
	}
}

// TestContextOrderIndependence builds the same context map with its entries
// inserted in different orders (and relies on Go's randomised map iteration
// for more orders) and checks every instance opens every ciphertext.
func TestContextOrderIndependence(t *testing.T) {
	t.Parallel()
	keys := []string{"tenant", "purpose", "region", "a", "b", "Z", "tenant2", "", "ü", "aa", "a\x00"}
	value := func(k string) string { return "v:" + k }
	build := func(order []int) map[string]string {
		m := make(map[string]string)
		for _, i := range order {
			m[keys[i]] = value(keys[i])
		}
		return m
	}
	var orders [][]int
	fwd := make([]int, len(keys))
	rev := make([]int, len(keys))
	for i := range keys {
		fwd[i] = i
		rev[i] = len(keys) - 1 - i
	}
	orders = append(orders, fwd, rev)
	for shift := 1; shift < len(keys); shift++ {
		o := make([]int, len(keys))
		for i := range o {
			o[i] = (i*5 + shift) % len(keys)
		}
		orders = append(orders, o)
	}
	for _, alg := range crypto.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x11)
			for i, so := range orders {
				c := seal(t, k, []byte("payload"), crypto.Binding{AssociatedData: []byte("ad"), Context: build(so)})
				for j, oo := range orders {
					pt, err := k.Open(c, crypto.Binding{AssociatedData: []byte("ad"), Context: build(oo)})
					if err != nil || string(pt) != "payload" {
						t.Fatalf("sealed with order %d, opened with order %d: %v", i, j, err)
					}
				}
			}
		})
	}
}

// TestNilAndEmptyBindingEquivalent checks that nil and empty associated data,
// and nil and empty context, authenticate identically.
func TestNilAndEmptyBindingEquivalent(t *testing.T) {
	t.Parallel()
	variants := []struct {
		name string
		b    crypto.Binding
	}{
		{"zero", crypto.Binding{}},
		{"empty-ad", crypto.Binding{AssociatedData: []byte{}}},
		{"empty-context", crypto.Binding{Context: map[string]string{}}},
		{"both-empty", crypto.Binding{AssociatedData: []byte{}, Context: map[string]string{}}},
		{"nil-typed", crypto.Binding{AssociatedData: []byte(nil), Context: map[string]string(nil)}},
	}
	for _, alg := range crypto.Algorithms() {
		k := newKey(t, alg, idA, 1, 0x22)
		for _, sv := range variants {
			for _, ov := range variants {
				t.Run(fmt.Sprintf("%s/%s→%s", alg, sv.name, ov.name), func(t *testing.T) {
					t.Parallel()
					c := seal(t, k, []byte("x"), sv.b)
					pt, err := k.Open(c, ov.b)
					if err != nil || string(pt) != "x" {
						t.Fatalf("Open: %q, %v", pt, err)
					}
				})
			}
		}
	}
}

func TestBindingMismatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		seal, open crypto.Binding
	}{
		{"wrong-associated-data",
			crypto.Binding{AssociatedData: []byte("invoice-42")},
			crypto.Binding{AssociatedData: []byte("invoice-43")}},
		{"associated-data-added",
			crypto.Binding{},
			crypto.Binding{AssociatedData: []byte("x")}},
		{"associated-data-removed",
			crypto.Binding{AssociatedData: []byte("x")},
			crypto.Binding{}},
		{"associated-data-zero-byte-vs-empty",
			crypto.Binding{AssociatedData: []byte{0}},
			crypto.Binding{AssociatedData: []byte{}}},
		{"wrong-context-value",
			crypto.Binding{Context: map[string]string{"tenant": "acme", "purpose": "billing"}},
			crypto.Binding{Context: map[string]string{"tenant": "acme", "purpose": "payroll"}}},
		{"extra-context-key",
			crypto.Binding{Context: map[string]string{"tenant": "acme"}},
			crypto.Binding{Context: map[string]string{"tenant": "acme", "purpose": "billing"}}},
		{"missing-context-key",
			crypto.Binding{Context: map[string]string{"tenant": "acme", "purpose": "billing"}},
			crypto.Binding{Context: map[string]string{"tenant": "acme"}}},
		{"renamed-context-key",
			crypto.Binding{Context: map[string]string{"tenant": "acme"}},
			crypto.Binding{Context: map[string]string{"tenantx": "acme"}}},
		{"empty-value-vs-absent-key",
			crypto.Binding{Context: map[string]string{"k": ""}},
			crypto.Binding{}},
		{"key-value-boundary-shift",
			crypto.Binding{Context: map[string]string{"ab": "c"}},
			crypto.Binding{Context: map[string]string{"a": "bc"}}},
		{"entry-boundary-shift",
			crypto.Binding{Context: map[string]string{"a": "b", "c": "d"}},
			crypto.Binding{Context: map[string]string{"a": "bc", "": "d"}}},
		{"key-and-value-swapped",
			crypto.Binding{Context: map[string]string{"tenant": "acme"}},
			crypto.Binding{Context: map[string]string{"acme": "tenant"}}},
		{"associated-data-moved-to-context",
			crypto.Binding{AssociatedData: []byte("tenant")},
			crypto.Binding{Context: map[string]string{"tenant": ""}}},
		{"associated-data-vs-context-mixup",
			crypto.Binding{AssociatedData: []byte("acme"), Context: map[string]string{"tenant": "x"}},
			crypto.Binding{AssociatedData: []byte("x"), Context: map[string]string{"tenant": "acme"}}},
	}
	for _, alg := range crypto.Algorithms() {
		k := newKey(t, alg, idA, 1, 0x33)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s", alg, tc.name), func(t *testing.T) {
				t.Parallel()
				c := seal(t, k, []byte("secret"), tc.seal)
				pt, err := k.Open(c, tc.open)
				if !errors.Is(err, crypto.ErrDecrypt) {
					t.Fatalf("Open err = %v, want ErrDecrypt", err)
				}
				if pt != nil {
					t.Fatal("Open returned plaintext on failure")
				}
				// The right binding still works.
				if _, err := k.Open(c, tc.seal); err != nil {
					t.Fatalf("Open with the sealing binding: %v", err)
				}
			})
		}
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		openAlg func(crypto.Algorithm) crypto.Algorithm
		id      [16]byte
		version uint32
		seed    byte
		want    error
	}{
		{"different-key-id", same, idB, 5, 0x50, crypto.ErrWrongKey},
		{"different-key-id-same-material", same, idB, 5, 0x55, crypto.ErrWrongKey},
		{"same-id-older-version", same, idA, 4, 0x50, crypto.ErrWrongKey},
		{"same-id-newer-version", same, idA, 6, 0x50, crypto.ErrWrongKey},
		{"same-id-version-other-algorithm", other, idA, 5, 0x55, crypto.ErrWrongKey},
		// Same identity, different material: the header cannot tell, the
		// tag does.
		{"same-id-version-other-material", same, idA, 5, 0x56, crypto.ErrDecrypt},
	}
	for _, alg := range crypto.Algorithms() {
		sealer := newKey(t, alg, idA, 5, 0x55)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s", alg, tc.name), func(t *testing.T) {
				t.Parallel()
				c := seal(t, sealer, []byte("secret"), sampleBinding())
				opener := newKey(t, tc.openAlg(alg), tc.id, tc.version, tc.seed)
				pt, err := opener.Open(c, sampleBinding())
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open err = %v, want %v", err, tc.want)
				}
				if pt != nil {
					t.Fatal("Open returned plaintext on failure")
				}
			})
		}
	}
}

func same(a crypto.Algorithm) crypto.Algorithm { return a }

func other(a crypto.Algorithm) crypto.Algorithm {
	if a == crypto.AES256GCM {
		return crypto.ChaCha20Poly1305
	}
	return crypto.AES256GCM
}

// TestEveryBitFlip flips each bit of the binary form in turn. Each flip must
// be rejected by the parser or by Open, with the error the region calls for;
// none may decrypt.
func TestEveryBitFlip(t *testing.T) {
	t.Parallel()
	for _, alg := range crypto.Algorithms() {
		for _, ptLen := range []int{0, 5, 33} {
			t.Run(fmt.Sprintf("%s/pt%d", alg, ptLen), func(t *testing.T) {
				t.Parallel()
				// Version 1, so that flipping its lowest bit gives version 0.
				k := newKey(t, alg, idA, 1, 0x66)
				b := sampleBinding()
				bin := marshal(t, seal(t, k, pattern(ptLen), b))
				for i := range len(bin) * 8 {
					mut := bytes.Clone(bin)
					mut[i/8] ^= 1 << (i % 8)
					off := i / 8
					c, perr := crypto.ParseBinary(mut)
					var pt []byte
					var oerr error
					if perr == nil {
						pt, oerr = k.Open(c, b)
					}
					if perr == nil && oerr == nil {
						t.Fatalf("bit %d (byte %d): tampered ciphertext decrypted", i, off)
					}
					if pt != nil {
						t.Fatalf("bit %d (byte %d): plaintext returned on failure", i, off)
					}
					switch {
					case off == 0, off == 1, off == 22: // format version, algorithm id, nonce length
						if !errors.Is(perr, crypto.ErrMalformedCiphertext) {
							t.Fatalf("bit %d (byte %d): parse err = %v, want ErrMalformedCiphertext", i, off, perr)
						}
					case off >= 2 && off < 18: // key id
						if perr != nil || !errors.Is(oerr, crypto.ErrWrongKey) {
							t.Fatalf("bit %d (key id byte %d): parse %v, open %v; want ErrWrongKey", i, off, perr, oerr)
						}
					case off >= 18 && off < 22: // key version
						if c != nil && c.KeyVersion == 0 {
							t.Fatal("parsed a key version 0")
						}
						if perr != nil && !errors.Is(perr, crypto.ErrMalformedCiphertext) {
							t.Fatalf("bit %d (key version byte %d): parse err = %v", i, off, perr)
						}
						if perr == nil && !errors.Is(oerr, crypto.ErrWrongKey) {
							t.Fatalf("bit %d (key version byte %d): open err = %v, want ErrWrongKey", i, off, oerr)
						}
					default: // nonce, encrypted data, tag
						if perr != nil || !errors.Is(oerr, crypto.ErrDecrypt) {
							t.Fatalf("bit %d (byte %d): parse %v, open %v; want ErrDecrypt", i, off, perr, oerr)
						}
					}
				}
			})
		}
	}
}

func TestNewVersionKeyRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		alg      crypto.Algorithm
		version  uint32
		material *secret.Bytes
	}{
		{"version-0-aes", crypto.AES256GCM, 0, material(32, 1)},
		{"version-0-chacha", crypto.ChaCha20Poly1305, 0, material(32, 1)},
		{"nil-material", crypto.AES256GCM, 1, nil},
		{"empty-material", crypto.AES256GCM, 1, secret.New(nil)},
		{"aes-128-sized-material", crypto.AES256GCM, 1, material(16, 1)},
		{"aes-192-sized-material", crypto.AES256GCM, 1, material(24, 1)},
		{"aes-31-bytes", crypto.AES256GCM, 1, material(31, 1)},
		{"aes-33-bytes", crypto.AES256GCM, 1, material(33, 1)},
		{"aes-64-bytes", crypto.AES256GCM, 1, material(64, 1)},
		{"chacha-31-bytes", crypto.ChaCha20Poly1305, 1, material(31, 1)},
		{"chacha-33-bytes", crypto.ChaCha20Poly1305, 1, material(33, 1)},
		{"chacha-16-bytes", crypto.ChaCha20Poly1305, 1, material(16, 1)},
		{"unknown-algorithm-empty", "", 1, material(32, 1)},
		{"unknown-algorithm-aes-128-gcm", "aes-128-gcm", 1, material(32, 1)},
		{"unknown-algorithm-xchacha", "xchacha20-poly1305", 1, material(32, 1)},
		{"unknown-algorithm-case", "AES-256-GCM", 1, material(32, 1)},
		{"unknown-algorithm-space", "aes-256-gcm ", 1, material(32, 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := crypto.NewVersionKey(idA, tc.version, tc.alg, tc.material)
			if err == nil || k != nil {
				t.Fatalf("NewVersionKey = %v, %v; want an error", k, err)
			}
			if raw := tc.material.Reveal(); len(raw) > 0 && strings.Contains(err.Error(), fmt.Sprintf("%x", raw)) {
				t.Fatalf("error reveals key material: %v", err)
			}
		})
	}
	// Accepted boundaries.
	for _, alg := range crypto.Algorithms() {
		for _, v := range []uint32{1, 2, 1 << 31, ^uint32(0)} {
			if _, err := crypto.NewVersionKey(idA, v, alg, material(32, 1)); err != nil {
				t.Errorf("NewVersionKey(%s, v%d): %v", alg, v, err)
			}
		}
	}
}

// TestMaximumKeyVersion checks that the largest version survives the
// round trip through the header.
func TestMaximumKeyVersion(t *testing.T) {
	t.Parallel()
	for _, alg := range crypto.Algorithms() {
		k := newKey(t, alg, idA, ^uint32(0), 7)
		c, err := crypto.Parse(seal(t, k, []byte("m"), crypto.Binding{}).String())
		if err != nil {
			t.Fatal(err)
		}
		if c.KeyVersion != ^uint32(0) {
			t.Fatalf("%s: key version %d", alg, c.KeyVersion)
		}
		if _, err := k.Open(c, crypto.Binding{}); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
	}
}

// TestNewVersionKeyDoesNotRetainMaterial checks the documented ownership:
// the caller may wipe the material as soon as NewVersionKey returns.
func TestNewVersionKeyDoesNotRetainMaterial(t *testing.T) {
	t.Parallel()
	for _, alg := range crypto.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			m := material(32, 0x77)
			k, err := crypto.NewVersionKey(idA, 1, alg, m)
			if err != nil {
				t.Fatal(err)
			}
			m.Wipe()
			c := seal(t, k, []byte("after wipe"), sampleBinding())
			// A key built from a fresh copy of the same material opens it,
			// so the wipe did not change the key in use.
			k2 := newKey(t, alg, idA, 1, 0x77)
			if pt, err := k2.Open(c, sampleBinding()); err != nil || string(pt) != "after wipe" {
				t.Fatalf("Open: %q, %v", pt, err)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	t.Parallel()
	const n = 2000
	for _, alg := range crypto.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x88)
			seen := make(map[string]bool, n)
			var first []byte
			for i := range n {
				c := seal(t, k, []byte("same plaintext"), crypto.Binding{})
				if seen[string(c.Nonce)] {
					t.Fatalf("nonce repeated after %d seals", i)
				}
				seen[string(c.Nonce)] = true
				if i == 0 {
					first = c.Sealed
				} else if bytes.Equal(first, c.Sealed) {
					t.Fatal("Seal is deterministic")
				}
			}
		})
	}
}

func TestVersionKeyConcurrentUse(t *testing.T) {
	t.Parallel()
	for _, alg := range crypto.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x99)
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for g := range 16 {
				wg.Go(func() {
					for i := range 50 {
						pt := fmt.Appendf(nil, "g%d-i%d", g, i)
						c, err := k.Seal(pt, sampleBinding())
						if err != nil {
							errs <- err
							return
						}
						got, err := k.Open(c, sampleBinding())
						if err != nil || !bytes.Equal(got, pt) {
							errs <- fmt.Errorf("open: %q, %v", got, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestOpenHandBuiltCiphertext opens Ciphertext values built directly rather
// than by Parse (its fields are exported, so any caller can). Open must
// return an error, not panic, whatever the fields hold.
func TestOpenHandBuiltCiphertext(t *testing.T) {
	t.Parallel()
	for _, alg := range crypto.Algorithms() {
		k := newKey(t, alg, idA, 1, 0xaa)
		good := seal(t, k, []byte("payload"), crypto.Binding{})
		cases := []struct {
			name   string
			mutate func(c *crypto.Ciphertext)
		}{
			{"nil-nonce", func(c *crypto.Ciphertext) { c.Nonce = nil }},
			{"11-byte-nonce", func(c *crypto.Ciphertext) { c.Nonce = c.Nonce[:11] }},
			{"13-byte-nonce", func(c *crypto.Ciphertext) { c.Nonce = append(c.Nonce, 0) }},
			{"24-byte-nonce", func(c *crypto.Ciphertext) { c.Nonce = make([]byte, 24) }},
			{"nil-sealed", func(c *crypto.Ciphertext) { c.Sealed = nil }},
			{"sealed-shorter-than-tag", func(c *crypto.Ciphertext) { c.Sealed = c.Sealed[:tagLen-1] }},
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s", alg, tc.name), func(t *testing.T) {
				t.Parallel()
				c := *good
				c.Nonce = bytes.Clone(good.Nonce)
				c.Sealed = bytes.Clone(good.Sealed)
				tc.mutate(&c)
				pt, err := openNoPanic(k, &c)
				if err == nil || pt != nil {
					t.Fatalf("Open = %q, %v; want an error", pt, err)
				}
				if !errors.Is(err, crypto.ErrDecrypt) && !errors.Is(err, crypto.ErrMalformedCiphertext) {
					t.Fatalf("Open err = %v, want ErrDecrypt or ErrMalformedCiphertext", err)
				}
			})
		}
	}
}

func openNoPanic(k *crypto.VersionKey, c *crypto.Ciphertext) (pt []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Open panicked: %v", r)
		}
	}()
	return k.Open(c, crypto.Binding{})
}

func TestAlgorithms(t *testing.T) {
	t.Parallel()
	if got := crypto.Algorithms(); len(got) != 2 || got[0] != crypto.AES256GCM || got[1] != crypto.ChaCha20Poly1305 {
		t.Fatalf("Algorithms() = %v", got)
	}
	if crypto.AES256GCM != "aes-256-gcm" || crypto.ChaCha20Poly1305 != "chacha20-poly1305" {
		t.Fatal("algorithm names changed: they are part of the API and of stored records")
	}
	for _, alg := range crypto.Algorithms() {
		a, err := crypto.ParseAlgorithm(string(alg))
		if err != nil || a != alg {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", alg, a, err)
		}
		if alg.KeySize() != 32 {
			t.Errorf("%s.KeySize() = %d, want 32", alg, alg.KeySize())
		}
		m1, err := crypto.GenerateMaterial(alg)
		if err != nil {
			t.Fatalf("GenerateMaterial(%s): %v", alg, err)
		}
		m2, err := crypto.GenerateMaterial(alg)
		if err != nil {
			t.Fatalf("GenerateMaterial(%s): %v", alg, err)
		}
		if m1.Len() != 32 || bytes.Equal(m1.Reveal(), m2.Reveal()) {
			t.Errorf("GenerateMaterial(%s): length %d, repeated: %v", alg, m1.Len(), bytes.Equal(m1.Reveal(), m2.Reveal()))
		}
		if _, err := crypto.NewVersionKey(idA, 1, alg, m1); err != nil {
			t.Errorf("NewVersionKey with generated material: %v", err)
		}
	}
	for _, name := range []string{"", "aes", "AES-256-GCM", "aes-256-gcm ", "aes-128-gcm", "xchacha20-poly1305", "chacha20poly1305"} {
		if a, err := crypto.ParseAlgorithm(name); err == nil {
			t.Errorf("ParseAlgorithm(%q) = %q, want an error", name, a)
		}
		if _, err := crypto.GenerateMaterial(crypto.Algorithm(name)); err == nil {
			t.Errorf("GenerateMaterial(%q) succeeded", name)
		}
		if n := crypto.Algorithm(name).KeySize(); n != 0 {
			t.Errorf("KeySize(%q) = %d, want 0", name, n)
		}
	}
}
