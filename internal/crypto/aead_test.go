package crypto_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
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
	for _, alg := range encryptAlgorithms() {
		k := newKey(t, alg, idA, 3, 0x40)
		nonceSize, hdrLen := info(t, alg).nonceSize, headerLenFor(t, alg)
		for _, p := range plaintexts {
			for _, bd := range bindings {
				t.Run(fmt.Sprintf("%s/%s/%s", alg, p.name, bd.name), func(t *testing.T) {
					t.Parallel()
					if limit := maxPlaintextFor(t, alg); limit >= 0 && len(p.pt) > limit {
						// RSA-OAEP encrypts data keys, not data.
						c, err := k.Seal(p.pt, bd.b)
						if !errors.Is(err, crypto.ErrPlaintextTooLong) || c != nil {
							t.Fatalf("Seal of %d bytes (limit %d) = %v, %v; want ErrPlaintextTooLong", len(p.pt), limit, c, err)
						}
						return
					}
					c := seal(t, k, p.pt, bd.b)
					if c.KeyID != idA || c.KeyVersion != 3 || c.Algorithm != alg {
						t.Fatalf("header = (%x, %d, %s), want (%x, 3, %s)", c.KeyID, c.KeyVersion, c.Algorithm, idA, alg)
					}
					if len(c.Nonce) != nonceSize {
						t.Fatalf("nonce length %d, want %d", len(c.Nonce), nonceSize)
					}
					if got, want := len(c.Sealed), sealedLenFor(t, alg, len(p.pt)); got != want {
						t.Fatalf("sealed length %d, want %d", got, want)
					}
					bin := marshal(t, c)
					if got, want := len(bin), hdrLen+sealedLenFor(t, alg, len(p.pt)); got != want {
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
	for _, alg := range encryptAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x11)
			sealOrders := orders
			if info(t, alg).rsaBits != 0 {
				sealOrders = orders[:3] // each Open is an RSA decryption
			}
			for i, so := range sealOrders {
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
	for _, alg := range encryptAlgorithms() {
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
	for _, alg := range encryptAlgorithms() {
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
		// A MAC key never opens anything, whatever its identity.
		{"same-id-version-mac-key", hmacSHA256, idA, 5, 0x55, crypto.ErrWrongPurpose},
		// Same identity, different material: the header cannot tell, the
		// tag does.
		{"same-id-version-other-material", same, idA, 5, 0x56, crypto.ErrDecrypt},
	}
	for _, alg := range encryptAlgorithms() {
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

// other is another encrypt algorithm than a: of the same kind (symmetric or
// asymmetric), so that only the algorithm tells the keys apart.
func other(a crypto.Algorithm) crypto.Algorithm {
	switch {
	case a == crypto.AES256GCM:
		return crypto.ChaCha20Poly1305
	case a == crypto.MLKEM768:
		// The hybrid holds an ML-KEM-768 key too.
		return crypto.X25519MLKEM768
	case isAsymmetric(a):
		return crypto.MLKEM768
	}
	return crypto.AES256GCM
}

func hmacSHA256(crypto.Algorithm) crypto.Algorithm { return crypto.HMACSHA256 }

// TestEveryBitFlip flips each bit of the binary form in turn. Each flip must
// be rejected by the parser or by Open, with the error the region calls for;
// none may decrypt. For the asymmetric algorithms, whose sealed part is
// hundreds of bytes and each Open a private-key operation, every header bit
// is flipped and the sealed part is sampled (see flippedBits).
func TestEveryBitFlip(t *testing.T) {
	t.Parallel()
	for _, alg := range encryptAlgorithms() {
		ptLens := []int{0, 5, 33}
		if info(t, alg).rsaBits != 0 {
			// One RSA block whatever the plaintext; each Open is slow.
			ptLens = []int{33}
		}
		for _, ptLen := range ptLens {
			t.Run(fmt.Sprintf("%s/pt%d", alg, ptLen), func(t *testing.T) {
				t.Parallel()
				// Version 1, so that flipping its lowest bit gives version 0.
				k := newKey(t, alg, idA, 1, 0x66)
				b := sampleBinding()
				bin := marshal(t, seal(t, k, pattern(ptLen), b))
				bits := flippedBits(t, alg, len(bin))
				for _, i := range bits {
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
					case off == 1 && perr == nil && isAsymmetric(alg):
						// The nonce-less ids: 5 (rsa-oaep-2048) and 4
						// (aes-256-siv) differ in one bit, and so do
						// ml-kem-768 (8), ml-kem-1024 (9) and
						// x25519-ml-kem-768 (10). A sealed part long
						// enough for the other algorithm parses; the
						// ciphertext then names another key version.
						if c.Algorithm == alg || !errors.Is(oerr, crypto.ErrWrongKey) {
							t.Fatalf("bit %d (algorithm id): parsed as %s, open %v; want another algorithm and ErrWrongKey", i, c.Algorithm, oerr)
						}
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
					default: // nonce, encrypted data, tag; RSA-OAEP block; encapsulated key, HPKE ciphertext
						if perr != nil || !errors.Is(oerr, crypto.ErrDecrypt) {
							t.Fatalf("bit %d (byte %d): parse %v, open %v; want ErrDecrypt", i, off, perr, oerr)
						}
					}
				}
			})
		}
	}
}

// flippedBits lists the bits TestEveryBitFlip flips in an n-byte ciphertext
// of alg: all of them for the AEADs. For the asymmetric algorithms: every bit
// of the header, of the first and the last 16 bytes of the sealed part, and
// every 61st bit in between (61 is odd, so every bit position within a byte
// comes up).
func flippedBits(tb testing.TB, alg crypto.Algorithm, n int) []int {
	tb.Helper()
	var bits []int
	hdr := headerLenFor(tb, alg)
	for i := range n * 8 {
		off := i / 8
		switch {
		case !isAsymmetric(alg), off < hdr+16, off >= n-16, (i-(hdr+16)*8)%61 == 0:
			bits = append(bits, i)
		}
	}
	return bits
}

func TestNewVersionKeyRejects(t *testing.T) {
	t.Parallel()
	type rejectCase struct {
		name     string
		alg      crypto.Algorithm
		version  uint32
		material *secret.Bytes
		wantSize int    // if not 0, the error must state this key size
		wantText string // if not "", the error must contain it
	}
	var cases []rejectCase
	for _, in := range algorithmTable {
		if in.purpose == crypto.PurposeAsymmetric {
			// PKCS#8 for RSA (see asymmetric_test.go for keys of the wrong
			// type or size), a fixed-size seed for the KEMs.
			want := "PKCS#8"
			if in.seedSize != 0 {
				want = fmt.Sprintf("must be a %d-byte seed", in.seedSize)
			}
			cases = append(cases,
				rejectCase{fmt.Sprintf("%s/version-0", in.alg), in.alg, 0, keyMaterial(t, in.alg, 1), 0, ""},
				rejectCase{fmt.Sprintf("%s/nil-material", in.alg), in.alg, 1, nil, 0, want},
				rejectCase{fmt.Sprintf("%s/empty-material", in.alg), in.alg, 1, secret.New(nil), 0, want},
			)
			for _, n := range []int{1, 16, 31, 32, 33, 48, 63, 64, 65, 128, 1184} {
				if n == in.seedSize {
					continue // every seed of the right size is a key
				}
				cases = append(cases, rejectCase{fmt.Sprintf("%s/%d-bytes", in.alg, n), in.alg, 1, material(n, 1), 0, want})
			}
			continue
		}
		if in.purpose == crypto.PurposeSign {
			// No fixed size: any byte string that is not a PKCS#8 key of
			// the algorithm is refused (see also sign_test.go).
			cases = append(cases,
				rejectCase{fmt.Sprintf("%s/version-0", in.alg), in.alg, 0, signMaterial(t, in.alg, 0), 0, ""},
				rejectCase{fmt.Sprintf("%s/nil-material", in.alg), in.alg, 1, nil, 0, ""},
				rejectCase{fmt.Sprintf("%s/empty-material", in.alg), in.alg, 1, secret.New(nil), 0, ""},
			)
			for _, n := range []int{1, 16, 31, 32, 33, 48, 64, 65, 66, 128} {
				if n == mldsaSeedSize && isMLDSA(in.alg) {
					continue // every 32-byte string is an ML-DSA seed
				}
				cases = append(cases, rejectCase{fmt.Sprintf("%s/%d-bytes", in.alg, n), in.alg, 1, material(n, 1), 0, ""})
			}
			continue
		}
		cases = append(cases,
			rejectCase{fmt.Sprintf("%s/version-0", in.alg), in.alg, 0, material(in.keySize, 1), 0, ""},
			rejectCase{fmt.Sprintf("%s/nil-material", in.alg), in.alg, 1, nil, in.keySize, ""},
			rejectCase{fmt.Sprintf("%s/empty-material", in.alg), in.alg, 1, secret.New(nil), in.keySize, ""},
		)
		sizes := []int{1, in.keySize - 1, in.keySize + 1, 2 * in.keySize, 16, 24, 32, 48, 64, 65}
		seen := map[int]bool{}
		for _, n := range sizes {
			if n == in.keySize || seen[n] {
				continue
			}
			seen[n] = true
			cases = append(cases, rejectCase{fmt.Sprintf("%s/%d-bytes", in.alg, n), in.alg, 1, material(n, 1), in.keySize, ""})
		}
	}
	for _, name := range []string{
		"", "aes-128-gcm", "AES-256-GCM", "aes-256-gcm ", "xchacha20poly1305", "aes-256-siv-cmac",
		"aes-128-siv", "aes-siv", "hmac-sha1", "hmac-sha224", "HMAC-SHA256", "hmac-sha256 ", "hmac-sha3-256",
		"ecdsa-p224", "ECDSA-P256", "ecdsa-p256k1", "ed448", "Ed25519", "rsa-1024", "rsa-8192", "rsa", "sign",
		"rsa-oaep", "rsa-oaep-1024", "RSA-OAEP-2048", "rsa-oaep-2048-sha1", "ml-kem", "ml-kem-512", "ML-KEM-768",
		"mlkem768", "x25519", "x-wing", "x25519-ml-kem-1024", "asymmetric-encrypt",
	} {
		cases = append(cases, rejectCase{"unknown-algorithm-" + name, crypto.Algorithm(name), 1, material(64, 1), 0, ""})
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
			if tc.wantSize != 0 && !strings.Contains(err.Error(), fmt.Sprintf("must be %d bytes", tc.wantSize)) {
				t.Fatalf("error %q does not state the key size %d", err, tc.wantSize)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("error %q does not say %q", err, tc.wantText)
			}
		})
	}
	// Accepted boundaries.
	for _, in := range algorithmTable {
		for _, v := range []uint32{1, 2, 1 << 31, ^uint32(0)} {
			m := keyMaterial(t, in.alg, 1)
			if _, err := crypto.NewVersionKey(idA, v, in.alg, m); err != nil {
				t.Errorf("NewVersionKey(%s, v%d): %v", in.alg, v, err)
			}
		}
	}
}

// TestSizesMatchBehaviour reads each algorithm's key, nonce and MAC sizes
// from what the package does and compares them with the literal table.
func TestSizesMatchBehaviour(t *testing.T) {
	t.Parallel()
	for _, in := range algorithmTable {
		t.Run(string(in.alg), func(t *testing.T) {
			t.Parallel()
			// Key size, as NewVersionKey states it.
			_, err := crypto.NewVersionKey(idA, 1, in.alg, material(1, 0))
			if err == nil {
				t.Fatal("NewVersionKey accepted a 1-byte key")
			}
			if in.purpose == crypto.PurposeSign {
				if isMLDSA(in.alg) {
					if want := fmt.Sprintf("%s key material must be a %d-byte seed", in.alg, mldsaSeedSize); err.Error() != want {
						t.Fatalf("NewVersionKey error %q, want %q", err, want)
					}
				} else if strings.Contains(err.Error(), "must be") || !strings.Contains(err.Error(), "PKCS#8") {
					t.Fatalf("NewVersionKey error %q: want a PKCS#8 error, no key size", err)
				}
				k := newKey(t, in.alg, idA, 1, 3)
				sig, err := k.Sign([]byte("abc"), crypto.MessageRaw, "")
				if err != nil || len(sig) == 0 {
					t.Fatalf("Sign: %x, %v", sig, err)
				}
				return
			}
			if in.purpose == crypto.PurposeAsymmetric {
				if in.seedSize != 0 {
					if want := fmt.Sprintf("%s key material must be a %d-byte seed", in.alg, in.seedSize); err.Error() != want {
						t.Fatalf("NewVersionKey error %q, want %q", err, want)
					}
				} else if strings.Contains(err.Error(), "must be") || !strings.Contains(err.Error(), "PKCS#8") {
					t.Fatalf("NewVersionKey error %q: want a PKCS#8 error, no key size", err)
				}
			} else {
				var n int
				if _, serr := fmt.Sscanf(err.Error(), string(in.alg)+" key material must be %d bytes", &n); serr != nil || n != in.keySize {
					t.Fatalf("NewVersionKey error %q: key size %d (%v), want %d", err, n, serr, in.keySize)
				}
			}
			k := newKey(t, in.alg, idA, 1, 3)
			switch in.purpose {
			case crypto.PurposeEncrypt, crypto.PurposeAsymmetric:
				c := seal(t, k, []byte("abc"), crypto.Binding{})
				if want := sealedLenFor(t, in.alg, 3); len(c.Nonce) != in.nonceSize || len(c.Sealed) != want {
					t.Fatalf("Seal: nonce %d bytes, sealed %d bytes; want %d, %d", len(c.Nonce), len(c.Sealed), in.nonceSize, want)
				}
				bin := marshal(t, c)
				if bin[1] != in.id || int(bin[22]) != in.nonceSize {
					t.Fatalf("header: algorithm id %d, nonce length %d; want %d, %d", bin[1], bin[22], in.id, in.nonceSize)
				}
				// The parser states the nonce size it wants.
				bad := append(bytes.Clone(bin[:22]), byte(in.nonceSize+1))
				bad = append(bad, make([]byte, in.nonceSize+1+sealedLenFor(t, in.alg, 0))...)
				_, err := crypto.ParseBinary(bad)
				if want := fmt.Sprintf("want %d", in.nonceSize); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("ParseBinary error %v does not say %q", err, want)
				}
			case crypto.PurposeMAC:
				tag, err := k.MAC([]byte("abc"))
				if err != nil || len(tag) != in.macSize {
					t.Fatalf("MAC: %d bytes, %v; want %d", len(tag), err, in.macSize)
				}
			default:
				t.Fatalf("unexpected purpose %q", in.purpose)
			}
		})
	}
}

// TestMaximumKeyVersion checks that the largest version survives the
// round trip through the header.
func TestMaximumKeyVersion(t *testing.T) {
	t.Parallel()
	for _, alg := range encryptAlgorithms() {
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
// the caller may wipe the material as soon as NewVersionKey returns (the
// server does, see internal/kms). The key built from wiped material must
// behave exactly like one built from material that is still intact: newKey
// wipes its material too, so the reference here is built by hand and its
// material is only wiped when the test ends.
func TestNewVersionKeyDoesNotRetainMaterial(t *testing.T) {
	t.Parallel()
	for _, alg := range crypto.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			sign := alg.Purpose() == crypto.PurposeSign
			mk := func() *secret.Bytes { return keyMaterial(t, alg, 0x77) }
			m := mk()
			k, err := crypto.NewVersionKey(idA, 1, alg, m)
			if err != nil {
				t.Fatal(err)
			}
			m.Wipe()
			intact := mk()
			t.Cleanup(intact.Wipe)
			ref, err := crypto.NewVersionKey(idA, 1, alg, intact)
			if err != nil {
				t.Fatal(err)
			}
			if sign {
				for _, pair := range [][2]*crypto.VersionKey{{k, ref}, {ref, k}} {
					sig, err := pair[0].Sign([]byte("after wipe"), crypto.MessageRaw, "")
					if err != nil {
						t.Fatal(err)
					}
					if ok, err := pair[1].Verify([]byte("after wipe"), sig, crypto.MessageRaw, ""); !ok || err != nil {
						t.Fatalf("signature of one key does not verify under the other: %v, %v", ok, err)
					}
				}
				p1, err1 := k.Public()
				p2, err2 := ref.Public()
				if err1 != nil || err2 != nil || !bytes.Equal(p1.DER, p2.DER) {
					t.Fatalf("public key after wipe differs from the intact key's (%v, %v)", err1, err2)
				}
				return
			}
			if alg.Purpose() == crypto.PurposeMAC {
				got, err1 := k.MAC([]byte("after wipe"))
				want, err2 := ref.MAC([]byte("after wipe"))
				if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
					t.Fatalf("MAC after wipe differs from the intact key's (%v, %v)", err1, err2)
				}
				return
			}
			if isAsymmetric(alg) {
				p1, err1 := k.Public()
				p2, err2 := ref.Public()
				if err1 != nil || err2 != nil || !bytes.Equal(p1.Raw, p2.Raw) || !bytes.Equal(p1.DER, p2.DER) {
					t.Fatalf("public key after wipe differs from the intact key's (%v, %v)", err1, err2)
				}
			}
			c := seal(t, k, []byte("after wipe"), sampleBinding())
			if pt, err := ref.Open(c, sampleBinding()); err != nil || string(pt) != "after wipe" {
				t.Fatalf("intact key opening the wiped key's ciphertext: %q, %v", pt, err)
			}
			c = seal(t, ref, []byte("before wipe"), sampleBinding())
			if pt, err := k.Open(c, sampleBinding()); err != nil || string(pt) != "before wipe" {
				t.Fatalf("wiped key opening the intact key's ciphertext: %q, %v", pt, err)
			}
		})
	}
}

// TestSealUsesFreshNonces checks the randomised algorithms: no nonce and no
// sealed output ever repeats, even for the same plaintext and binding. The
// asymmetric algorithms have no nonce: their randomness is in the OAEP seed
// or the KEM encapsulation, so the sealed output, and for HPKE the
// encapsulated key that starts it, must not repeat.
func TestSealUsesFreshNonces(t *testing.T) {
	t.Parallel()
	randomised := 0
	for _, alg := range encryptAlgorithms() {
		if alg.Deterministic() {
			continue
		}
		randomised++
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			n, encSize := 2000, info(t, alg).encSize
			if isAsymmetric(alg) {
				n = 200 // public-key operations
			}
			k := newKey(t, alg, idA, 1, 0x88)
			for _, pt := range [][]byte{nil, []byte("same plaintext")} {
				nonces := make(map[string]bool, n)
				sealed := make(map[string]bool, n)
				encs := make(map[string]bool, n)
				for i := range n {
					c := seal(t, k, pt, sampleBinding())
					switch {
					case isAsymmetric(alg) && len(c.Nonce) != 0:
						t.Fatalf("asymmetric algorithm produced a %d-byte nonce", len(c.Nonce))
					case !isAsymmetric(alg) && len(c.Nonce) == 0:
						t.Fatal("randomised algorithm produced an empty nonce")
					case !isAsymmetric(alg) && nonces[string(c.Nonce)]:
						t.Fatalf("nonce repeated after %d seals", i)
					case sealed[string(c.Sealed)]:
						t.Fatalf("sealed output repeated after %d seals", i)
					case encSize > 0 && encs[string(c.Sealed[:encSize])]:
						t.Fatalf("encapsulated key repeated after %d seals", i)
					}
					nonces[string(c.Nonce)], sealed[string(c.Sealed)] = true, true
					if encSize > 0 {
						encs[string(c.Sealed[:encSize])] = true
					}
				}
			}
		})
	}
	if randomised != 9 {
		t.Errorf("%d randomised encrypt algorithms, want 9 (3 symmetric, 6 asymmetric)", randomised)
	}
}

// TestDeterministicEncryption checks aes-256-siv: the same key version,
// plaintext and binding give the same ciphertext, and a change to any of
// them gives a different one.
func TestDeterministicEncryption(t *testing.T) {
	t.Parallel()
	var det []crypto.Algorithm
	for _, alg := range encryptAlgorithms() {
		if alg.Deterministic() != info(t, alg).deterministic {
			t.Errorf("%s.Deterministic() = %v, want %v", alg, alg.Deterministic(), info(t, alg).deterministic)
		}
		if alg.Deterministic() {
			det = append(det, alg)
		}
	}
	if len(det) != 1 || det[0] != crypto.AES256SIV {
		t.Fatalf("deterministic algorithms %v, want [aes-256-siv]", det)
	}
	for _, alg := range det {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x5a)
			pt := []byte("alice@example.com")
			b := crypto.Binding{AssociatedData: []byte("users.email"), Context: map[string]string{"tenant": "acme", "region": "eu"}}
			ref := seal(t, k, pt, b)
			if len(ref.Nonce) != 0 {
				t.Fatalf("deterministic ciphertext has a %d-byte nonce", len(ref.Nonce))
			}
			refText := ref.String()

			sameCases := []struct {
				name string
				k    *crypto.VersionKey
				pt   []byte
				b    crypto.Binding
			}{
				{"again", k, pt, b},
				{"plaintext-copy", k, bytes.Clone(pt), b},
				{"context-built-in-other-order", k, pt, crypto.Binding{AssociatedData: []byte("users.email"), Context: map[string]string{"region": "eu", "tenant": "acme"}}},
				{"other-instance-same-material", newKey(t, alg, idA, 1, 0x5a), pt, b},
			}
			for _, tc := range sameCases {
				if got := seal(t, tc.k, tc.pt, tc.b).String(); got != refText {
					t.Errorf("%s: ciphertext differs\n got %s\nwant %s", tc.name, got, refText)
				}
			}
			// nil and empty inputs are the same input.
			if a, b := seal(t, k, nil, crypto.Binding{}).String(), seal(t, k, []byte{}, crypto.Binding{AssociatedData: []byte{}, Context: map[string]string{}}).String(); a != b {
				t.Error("nil and empty plaintext/binding give different ciphertexts")
			}

			flipped := bytes.Clone(pt)
			flipped[3] ^= 0x01
			diffCases := []struct {
				name string
				k    *crypto.VersionKey
				pt   []byte
				b    crypto.Binding
			}{
				{"plaintext-one-bit", k, flipped, b},
				{"plaintext-longer", k, append(bytes.Clone(pt), 0), b},
				{"plaintext-shorter", k, pt[:len(pt)-1], b},
				{"plaintext-empty", k, nil, b},
				{"associated-data-differs", k, pt, crypto.Binding{AssociatedData: []byte("users.emaik"), Context: b.Context}},
				{"associated-data-absent", k, pt, crypto.Binding{Context: b.Context}},
				{"context-value-differs", k, pt, crypto.Binding{AssociatedData: b.AssociatedData, Context: map[string]string{"tenant": "acme", "region": "us"}}},
				{"context-key-added", k, pt, crypto.Binding{AssociatedData: b.AssociatedData, Context: map[string]string{"tenant": "acme", "region": "eu", "x": ""}}},
				{"context-key-removed", k, pt, crypto.Binding{AssociatedData: b.AssociatedData, Context: map[string]string{"tenant": "acme"}}},
				{"context-absent", k, pt, crypto.Binding{AssociatedData: b.AssociatedData}},
				{"binding-absent", k, pt, crypto.Binding{}},
				{"other-material", newKey(t, alg, idA, 1, 0x5b), pt, b},
				{"other-key-version-same-material", newKey(t, alg, idA, 2, 0x5a), pt, b},
				{"other-key-id-same-material", newKey(t, alg, idB, 1, 0x5a), pt, b},
			}
			for _, tc := range diffCases {
				c := seal(t, tc.k, tc.pt, tc.b)
				if bytes.Equal(c.Sealed, ref.Sealed) || bytes.Equal(c.Sealed[:tagLen], ref.Sealed[:tagLen]) {
					t.Errorf("%s: same sealed bytes or synthetic IV as the reference", tc.name)
				}
				// Each still round-trips.
				if got, err := tc.k.Open(c, tc.b); err != nil || !bytes.Equal(got, tc.pt) {
					t.Errorf("%s: Open = %q, %v", tc.name, got, err)
				}
			}
		})
	}
}

// TestSIVEmptyNonce checks how the nonce-less algorithm's empty nonce goes
// through the format: nonce length byte 0, sealed bytes right after the
// fixed header, and nil and empty nonces equivalent.
func TestSIVEmptyNonce(t *testing.T) {
	t.Parallel()
	k := newKey(t, crypto.AES256SIV, idA, 1, 0x12)
	c := seal(t, k, []byte("payload"), sampleBinding())
	bin := marshal(t, c)
	if bin[1] != 4 || bin[22] != 0 || len(bin) != fixedHeaderLen+len("payload")+tagLen || !bytes.Equal(bin[fixedHeaderLen:], c.Sealed) {
		t.Fatalf("binary form %x", bin)
	}
	for _, nonce := range [][]byte{nil, {}} {
		hc := *c
		hc.Nonce = nonce
		if pt, err := openNoPanic(k, &hc, sampleBinding()); err != nil || string(pt) != "payload" {
			t.Fatalf("Open with nonce %#v: %q, %v", nonce, pt, err)
		}
		if got := marshal(t, &hc); !bytes.Equal(got, bin) {
			t.Fatalf("MarshalBinary with nonce %#v: %x", nonce, got)
		}
	}
	parsed, err := crypto.ParseBinary(bin)
	if err != nil || len(parsed.Nonce) != 0 {
		t.Fatalf("ParseBinary: %v, nonce %x", err, parsed.Nonce)
	}
}

func TestVersionKeyConcurrentUse(t *testing.T) {
	t.Parallel()
	for _, alg := range crypto.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 1, 0x99)
			mac := alg.Purpose() == crypto.PurposeMAC
			sign := alg.Purpose() == crypto.PurposeSign
			rounds := 50
			switch {
			case sign, info(t, alg).rsaBits != 0:
				rounds = 3 // RSA-4096 signing and decryption are slow under -race
			case isAsymmetric(alg):
				rounds = 10
			}
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for g := range 16 {
				wg.Go(func() {
					for i := range rounds {
						pt := fmt.Appendf(nil, "g%d-i%d", g, i)
						if sign {
							sig, err := k.Sign(pt, crypto.MessageRaw, "")
							if err != nil {
								errs <- err
								return
							}
							if ok, err := k.Verify(pt, sig, crypto.MessageRaw, ""); !ok || err != nil {
								errs <- fmt.Errorf("Verify: %v, %v", ok, err)
								return
							}
							continue
						}
						if mac {
							tag, err := k.MAC(pt)
							if err != nil {
								errs <- err
								return
							}
							if ok, err := k.VerifyMAC(pt, tag); !ok || err != nil {
								errs <- fmt.Errorf("VerifyMAC: %v, %v", ok, err)
								return
							}
							continue
						}
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
// return an error, not panic, whatever the fields hold. In particular the
// AES-SIV adapter panics in Seal on a non-empty nonce, so Open must refuse a
// nonce of the wrong length before the AEAD sees it.
func TestOpenHandBuiltCiphertext(t *testing.T) {
	t.Parallel()
	for _, alg := range encryptAlgorithms() {
		n := info(t, alg).nonceSize
		k := newKey(t, alg, idA, 1, 0xaa)
		good := seal(t, k, []byte("payload"), crypto.Binding{})
		type handCase struct {
			name   string
			mutate func(c *crypto.Ciphertext)
			want   []error
		}
		malformed := []error{crypto.ErrDecrypt, crypto.ErrMalformedCiphertext}
		cases := []handCase{
			{"nil-sealed", func(c *crypto.Ciphertext) { c.Sealed = nil }, malformed},
			{"empty-sealed", func(c *crypto.Ciphertext) { c.Sealed = []byte{} }, malformed},
			{"sealed-shorter-than-tag", func(c *crypto.Ciphertext) { c.Sealed = c.Sealed[:tagLen-1] }, malformed},
			{"sealed-tag-only", func(c *crypto.Ciphertext) { c.Sealed = c.Sealed[:tagLen] }, malformed},
			{"sealed-one-byte-short", func(c *crypto.Ciphertext) { c.Sealed = c.Sealed[:len(c.Sealed)-1] }, malformed},
			{"sealed-one-byte-long", func(c *crypto.Ciphertext) { c.Sealed = append(c.Sealed, 0) }, malformed},
			{"sealed-doubled", func(c *crypto.Ciphertext) { c.Sealed = append(c.Sealed, c.Sealed...) }, malformed},
			{"algorithm-hmac-sha256", func(c *crypto.Ciphertext) { c.Algorithm = crypto.HMACSHA256 }, []error{crypto.ErrWrongKey}},
			{"algorithm-unknown", func(c *crypto.Ciphertext) { c.Algorithm = "rot13" }, []error{crypto.ErrWrongKey}},
			{"algorithm-empty", func(c *crypto.Ciphertext) { c.Algorithm = "" }, []error{crypto.ErrWrongKey}},
		}
		if e := info(t, alg).encSize; e > 0 {
			cases = append(cases,
				handCase{"encapsulated-key-only", func(c *crypto.Ciphertext) { c.Sealed = c.Sealed[:e] }, malformed},
				handCase{"encapsulated-key-and-tag-only", func(c *crypto.Ciphertext) { c.Sealed = append(c.Sealed[:e], c.Sealed[len(c.Sealed)-tagLen:]...) }, malformed},
				handCase{"encapsulated-key-one-byte-short", func(c *crypto.Ciphertext) { c.Sealed = append(c.Sealed[:e-1], c.Sealed[e:]...) }, malformed},
			)
		}
		if n > 0 {
			cases = append(cases,
				handCase{"nil-nonce", func(c *crypto.Ciphertext) { c.Nonce = nil }, malformed},
				handCase{"nonce-one-short", func(c *crypto.Ciphertext) { c.Nonce = c.Nonce[:n-1] }, malformed},
				handCase{"nonce-one-long", func(c *crypto.Ciphertext) { c.Nonce = append(c.Nonce, 0) }, malformed},
			)
		}
		for _, l := range []int{0, 1, 8, 11, 12, 13, 16, 23, 24, 25, 32, 255, 256} {
			if l == n {
				continue
			}
			cases = append(cases, handCase{fmt.Sprintf("%d-byte-nonce", l), func(c *crypto.Ciphertext) { c.Nonce = pattern(l) }, malformed})
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s", alg, tc.name), func(t *testing.T) {
				t.Parallel()
				c := *good
				c.Nonce = bytes.Clone(good.Nonce)
				c.Sealed = bytes.Clone(good.Sealed)
				tc.mutate(&c)
				pt, err := openNoPanic(k, &c, crypto.Binding{})
				if err == nil || pt != nil {
					t.Fatalf("Open = %q, %v; want an error", pt, err)
				}
				if !slices.ContainsFunc(tc.want, func(w error) bool { return errors.Is(err, w) }) {
					t.Fatalf("Open err = %v, want one of %v", err, tc.want)
				}
			})
		}
	}
}

func openNoPanic(k *crypto.VersionKey, c *crypto.Ciphertext, b crypto.Binding) (pt []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Open panicked: %v", r)
		}
	}()
	return k.Open(c, b)
}

func TestAlgorithms(t *testing.T) {
	t.Parallel()
	got := crypto.Algorithms()
	var want []crypto.Algorithm
	for _, in := range algorithmTable {
		want = append(want, in.alg)
		if string(in.alg) != in.name {
			t.Errorf("algorithm name %q changed to %q: names are part of the API and of stored records", in.name, in.alg)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Algorithms() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if crypto.Algorithms()[0] != crypto.AES256GCM {
		t.Fatal("Algorithms() returns a shared slice")
	}
	if e := symmetricAlgorithms(); !slices.Equal(e, []crypto.Algorithm{crypto.AES256GCM, crypto.ChaCha20Poly1305, crypto.XChaCha20Poly1305, crypto.AES256SIV}) {
		t.Errorf("symmetric encrypt algorithms %v", e)
	}
	if a := asymmetricAlgorithms(); !slices.Equal(a, []crypto.Algorithm{crypto.RSAOAEP2048, crypto.RSAOAEP3072, crypto.RSAOAEP4096, crypto.MLKEM768, crypto.MLKEM1024, crypto.X25519MLKEM768}) {
		t.Errorf("asymmetric encrypt algorithms %v", a)
	}
	if e := encryptAlgorithms(); !slices.Equal(e, append(symmetricAlgorithms(), asymmetricAlgorithms()...)) {
		t.Errorf("algorithms that encrypt %v", e)
	}
	if m := macAlgorithms(); !slices.Equal(m, []crypto.Algorithm{crypto.HMACSHA256, crypto.HMACSHA384, crypto.HMACSHA512}) {
		t.Errorf("MAC algorithms %v", m)
	}
	if s := signAlgorithms(); !slices.Equal(s, []crypto.Algorithm{crypto.ECDSAP256, crypto.ECDSAP384, crypto.ECDSAP521, crypto.Ed25519, crypto.RSA2048, crypto.RSA3072, crypto.RSA4096, crypto.MLDSA44, crypto.MLDSA65, crypto.MLDSA87}) {
		t.Errorf("sign algorithms %v", s)
	}
	if len(got) != 23 {
		t.Errorf("%d algorithms, want 23", len(got))
	}
	if crypto.PurposeEncrypt != "encrypt" || crypto.PurposeMAC != "mac" || crypto.PurposeSign != "sign" ||
		crypto.PurposeAsymmetric != "asymmetric-encrypt" {
		t.Error("purpose names changed: they are stored with key material")
	}
	for _, in := range algorithmTable {
		alg := in.alg
		a, err := crypto.ParseAlgorithm(in.name)
		if err != nil || a != alg {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", in.name, a, err)
		}
		if alg.KeySize() != in.keySize {
			t.Errorf("%s.KeySize() = %d, want %d", alg, alg.KeySize(), in.keySize)
		}
		if alg.Purpose() != in.purpose {
			t.Errorf("%s.Purpose() = %q, want %q", alg, alg.Purpose(), in.purpose)
		}
		if alg.Deterministic() != in.deterministic {
			t.Errorf("%s.Deterministic() = %v, want %v", alg, alg.Deterministic(), in.deterministic)
		}
		if want := in.purpose == crypto.PurposeEncrypt || in.purpose == crypto.PurposeAsymmetric; alg.Encrypts() != want {
			t.Errorf("%s.Encrypts() = %v, want %v", alg, alg.Encrypts(), want)
		}
		if in.rsaBits != 0 {
			// Generated once per test binary, like the signing keys.
			m1, m2 := cachedMaterial(t, alg, 0), cachedMaterial(t, alg, 1)
			for _, m := range []*secret.Bytes{m1, m2} {
				k, err := x509.ParsePKCS8PrivateKey(m.Reveal())
				if rk, ok := k.(*rsa.PrivateKey); err != nil || !ok || rk.N.BitLen() != in.rsaBits || rk.E != 65537 {
					t.Errorf("GenerateMaterial(%s) is not a PKCS#8 RSA-%d key with e = 65537: %T, %v", alg, in.rsaBits, k, err)
				}
			}
			if bytes.Equal(m1.Reveal(), m2.Reveal()) {
				t.Errorf("GenerateMaterial(%s) repeated", alg)
			}
			if _, err := crypto.NewVersionKey(idA, 1, alg, m1); err != nil {
				t.Errorf("NewVersionKey with generated material: %v", err)
			}
			continue
		}
		if in.seedSize != 0 {
			m1, err1 := crypto.GenerateMaterial(alg)
			m2, err2 := crypto.GenerateMaterial(alg)
			if err1 != nil || err2 != nil {
				t.Fatalf("GenerateMaterial(%s): %v, %v", alg, err1, err2)
			}
			if m1.Len() != in.seedSize || bytes.Equal(m1.Reveal(), m2.Reveal()) {
				t.Errorf("GenerateMaterial(%s): length %d (want a %d-byte seed), repeated: %v", alg, m1.Len(), in.seedSize, bytes.Equal(m1.Reveal(), m2.Reveal()))
			}
			if _, err := crypto.NewVersionKey(idA, 1, alg, m1); err != nil {
				t.Errorf("NewVersionKey with generated material: %v", err)
			}
			continue
		}
		if in.purpose == crypto.PurposeSign {
			// Generated once per test binary: RSA generation is slow.
			m1, m2 := signMaterial(t, alg, 0), signMaterial(t, alg, 1)
			if isMLDSA(alg) {
				if m1.Len() != mldsaSeedSize || m2.Len() != mldsaSeedSize {
					t.Errorf("GenerateMaterial(%s) of %d bytes, want a %d-byte seed", alg, m1.Len(), mldsaSeedSize)
				}
			} else if _, err := x509.ParsePKCS8PrivateKey(m1.Reveal()); err != nil {
				t.Errorf("GenerateMaterial(%s) is not PKCS#8: %v", alg, err)
			}
			if bytes.Equal(m1.Reveal(), m2.Reveal()) {
				t.Errorf("GenerateMaterial(%s) repeated", alg)
			}
			if _, err := crypto.NewVersionKey(idA, 1, alg, m1); err != nil {
				t.Errorf("NewVersionKey with generated material: %v", err)
			}
			continue
		}
		m1, err := crypto.GenerateMaterial(alg)
		if err != nil {
			t.Fatalf("GenerateMaterial(%s): %v", alg, err)
		}
		m2, err := crypto.GenerateMaterial(alg)
		if err != nil {
			t.Fatalf("GenerateMaterial(%s): %v", alg, err)
		}
		if m1.Len() != in.keySize || bytes.Equal(m1.Reveal(), m2.Reveal()) {
			t.Errorf("GenerateMaterial(%s): length %d, repeated: %v", alg, m1.Len(), bytes.Equal(m1.Reveal(), m2.Reveal()))
		}
		if _, err := crypto.NewVersionKey(idA, 1, alg, m1); err != nil {
			t.Errorf("NewVersionKey with generated material: %v", err)
		}
	}
	for _, name := range []string{
		"", "aes", "AES-256-GCM", "aes-256-gcm ", "aes-128-gcm", "chacha20poly1305", "xchacha20poly1305",
		"XChaCha20-Poly1305", "aes-256-siv-cmac", "aes-128-siv", "aes-siv", "hmac-sha1", "hmac-sha224",
		"HMAC-SHA256", "hmac-sha256 ", "hmac-sha3-256", "hmac", "encrypt", "mac",
		"sign", "ecdsa", "ecdsa-p224", "ecdsa-p256 ", "ECDSA-P384", "ed448", "eddsa", "rsa", "rsa-1024", "rsa-2047", "RSA-2048",
		"asymmetric-encrypt", "rsa-oaep", "rsa-oaep-1024", "rsa-oaep-8192", "RSA-OAEP-2048", "rsa-oaep-256", "ml-kem",
		"ml-kem-512", "ML-KEM-768", "mlkem768", "ml-kem-768 ", "x25519", "x-wing", "xwing", "x25519-ml-kem-1024", "mlkem768x25519",
	} {
		if a, err := crypto.ParseAlgorithm(name); err == nil {
			t.Errorf("ParseAlgorithm(%q) = %q, want an error", name, a)
		}
		if _, err := crypto.GenerateMaterial(crypto.Algorithm(name)); err == nil {
			t.Errorf("GenerateMaterial(%q) succeeded", name)
		}
		a := crypto.Algorithm(name)
		if a.KeySize() != 0 || a.Purpose() != "" || a.Deterministic() || a.Encrypts() {
			t.Errorf("%q: KeySize %d, Purpose %q, Deterministic %v, Encrypts %v; want 0, \"\", false, false", name, a.KeySize(), a.Purpose(), a.Deterministic(), a.Encrypts())
		}
	}
}
