package crypto_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
)

// handBuilt returns a structurally valid ciphertext (it parses; it does not
// authenticate under any key) whose bytes encode to text containing both
// URL-safe-only base64 characters '-' and '_', so that the standard alphabet
// differs from it. sealedLen controls the total length.
func handBuilt(sealedLen int) *crypto.Ciphertext {
	// The sealed bytes start at offset 35; after one filler byte they are
	// aligned to a base64 group, and fb ff bf encodes as "-_-_".
	sealed := make([]byte, sealedLen)
	for i := 1; i < sealedLen; i++ {
		sealed[i] = []byte{0xfb, 0xff, 0xbf}[(i-1)%3]
	}
	return &crypto.Ciphertext{
		KeyID:      idA,
		KeyVersion: 1,
		Algorithm:  crypto.AES256GCM,
		Nonce:      bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 4),
		Sealed:     sealed,
	}
}

func TestHeaderLayout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		alg       crypto.Algorithm
		id        byte
		version   uint32
		nonceLen  int
		sealedLen int
	}{
		{crypto.AES256GCM, 1, 1, 12, 20},
		{crypto.ChaCha20Poly1305, 2, 0x01020304, 12, 20},
		{crypto.XChaCha20Poly1305, 3, 0xfffffffe, 24, 20},
		{crypto.AES256SIV, 4, 7, 0, 20},
		// RSA-OAEP: one block of the modulus size. HPKE: the encapsulated
		// key, then at least a tag.
		{crypto.RSAOAEP2048, 5, 2, 0, 256},
		{crypto.RSAOAEP3072, 6, 3, 0, 384},
		{crypto.RSAOAEP4096, 7, 4, 0, 512},
		{crypto.MLKEM768, 8, 5, 0, 1088 + 16 + 4},
		{crypto.MLKEM1024, 9, 6, 0, 1568 + 16 + 4},
		{crypto.X25519MLKEM768, 10, 0xffffffff, 0, 1120 + 16 + 4},
	}
	if len(cases) != len(encryptAlgorithms()) {
		t.Fatalf("%d cases for %d encrypt algorithms", len(cases), len(encryptAlgorithms()))
	}
	for _, tc := range cases {
		nonce := pattern(tc.nonceLen)
		sealed := pattern(tc.sealedLen)
		c := &crypto.Ciphertext{KeyID: idB, KeyVersion: tc.version, Algorithm: tc.alg, Nonce: nonce, Sealed: sealed}
		var want []byte
		want = append(want, 0x01, tc.id)
		want = append(want, idB[:]...)
		want = binary.BigEndian.AppendUint32(want, tc.version)
		want = append(want, byte(tc.nonceLen))
		want = append(want, nonce...)
		want = append(want, sealed...)
		got := marshal(t, c)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: binary form\n got %x\nwant %x", tc.alg, got, want)
		}
		if s, want := c.String(), "arca:v1:"+base64.RawURLEncoding.EncodeToString(want); s != want {
			t.Errorf("%s: text form\n got %s\nwant %s", tc.alg, s, want)
		}
		if p, err := crypto.ParseBinary(want); err != nil || p.Algorithm != tc.alg || !bytes.Equal(p.Sealed, sealed) {
			t.Errorf("%s: ParseBinary of the layout: %v", tc.alg, err)
		}
	}
	if crypto.FormatVersion != 1 || crypto.TextPrefix != "arca:v1:" {
		t.Fatal("format version or text prefix changed: a new format needs a new version, see docs/ciphertext.md")
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	t.Parallel()
	var inputs []*crypto.Ciphertext
	for _, alg := range encryptAlgorithms() {
		k := newKey(t, alg, idA, 9, 0x10)
		for _, n := range []int{0, 1, 2, 3, 100} {
			inputs = append(inputs, seal(t, k, pattern(n), sampleBinding()))
		}
	}
	inputs = append(inputs, handBuilt(16), handBuilt(17), handBuilt(18))
	for i, c := range inputs {
		bin := marshal(t, c)
		s := c.String()
		if strings.ContainsAny(s, "=+/ \n") {
			t.Errorf("%d: text form %q is not unpadded URL-safe base64", i, s)
		}
		pb, err := crypto.ParseBinary(bin)
		if err != nil {
			t.Fatalf("%d: ParseBinary: %v", i, err)
		}
		if got := marshal(t, pb); !bytes.Equal(got, bin) {
			t.Errorf("%d: binary round trip changed the bytes", i)
		}
		pt, err := crypto.Parse(s)
		if err != nil {
			t.Fatalf("%d: Parse: %v", i, err)
		}
		if got := pt.String(); got != s {
			t.Errorf("%d: text round trip changed the string", i)
		}
		if pt.KeyID != c.KeyID || pt.KeyVersion != c.KeyVersion || pt.Algorithm != c.Algorithm ||
			!bytes.Equal(pt.Nonce, c.Nonce) || !bytes.Equal(pt.Sealed, c.Sealed) {
			t.Errorf("%d: Parse returned different fields", i)
		}
	}
}

func TestParseBinaryDoesNotAlias(t *testing.T) {
	t.Parallel()
	bin := marshal(t, handBuilt(20))
	c, err := crypto.ParseBinary(bin)
	if err != nil {
		t.Fatal(err)
	}
	nonce, sealed := bytes.Clone(c.Nonce), bytes.Clone(c.Sealed)
	for i := range bin {
		bin[i] ^= 0xff
	}
	if !bytes.Equal(c.Nonce, nonce) || !bytes.Equal(c.Sealed, sealed) {
		t.Fatal("parsed ciphertext aliases the input buffer")
	}
}

// TestParseTextRejects checks the strictness of the text form. Every case
// must fail with ErrMalformedCiphertext, and no error message may echo the
// input.
func TestParseTextRejects(t *testing.T) {
	t.Parallel()
	c := handBuilt(17) // 52 bytes: unpadded encoding is 70 characters, padded 72
	bin := marshal(t, c)
	s := c.String()
	body := strings.TrimPrefix(s, crypto.TextPrefix)
	if !strings.ContainsAny(body, "-") || !strings.ContainsAny(body, "_") {
		t.Fatalf("test input %q should contain '-' and '_'", body)
	}
	if _, err := crypto.Parse(s); err != nil {
		t.Fatalf("the unmodified input must parse: %v", err)
	}
	// Same bytes, last character changed so that the unused low bits of the
	// final group are not zero: accepted by lenient decoders, not by Strict.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	unused := map[int]int{2: 0x0f, 3: 0x03}[len(body)%4] // low bits of the last character that carry no data
	if unused == 0 {
		t.Fatal("test setup: body length must not be a multiple of 4")
	}
	nonCanonical := body[:len(body)-1] + string(alphabet[strings.IndexByte(alphabet, body[len(body)-1])|unused])
	if nonCanonical == body {
		t.Fatal("test setup: non-canonical variant equals the canonical one")
	}
	if b, err := base64.RawURLEncoding.DecodeString(nonCanonical); err != nil || !bytes.Equal(b, bin) {
		t.Fatalf("test setup: lenient decoding of the non-canonical variant: %v", err)
	}

	cases := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"prefix-only", "arca:v1:"},
		{"prefix-without-colon", "arca:v1"},
		{"missing-prefix", body},
		{"arca-v2-prefix", "arca:v2:" + body},
		{"arca-v0-prefix", "arca:v0:" + body},
		{"vault-prefix", "vault:v1:" + body},
		{"uppercase-prefix", "ARCA:V1:" + body},
		{"doubled-prefix", "arca:v1:arca:v1:" + body},
		{"prefix-without-trailing-colon", "arca:v1" + body},
		{"padded", "arca:v1:" + base64.URLEncoding.EncodeToString(bin)},
		{"single-pad-char", s + "="},
		{"std-alphabet", "arca:v1:" + base64.RawStdEncoding.EncodeToString(bin)},
		{"std-alphabet-padded", "arca:v1:" + base64.StdEncoding.EncodeToString(bin)},
		{"non-canonical-trailing-bits", "arca:v1:" + nonCanonical},
		{"leading-space", " " + s},
		{"space-after-prefix", "arca:v1: " + body},
		{"trailing-space", s + " "},
		{"trailing-tab", s + "\t"},
		{"trailing-newline", s + "\n"},
		{"trailing-crlf", s + "\r\n"},
		{"newline-after-prefix", "arca:v1:\n" + body},
		{"embedded-newline", "arca:v1:" + body[:20] + "\n" + body[20:]},
		{"embedded-cr", "arca:v1:" + body[:20] + "\r" + body[20:]},
		{"embedded-space", "arca:v1:" + body[:20] + " " + body[20:]},
		{"embedded-nul", "arca:v1:" + body[:20] + "\x00" + body[20:]},
		{"non-ascii", "arca:v1:" + body[:20] + "é" + body[20:]},
		{"truncated-one-char", s[:len(s)-1]},
		{"truncated-to-header", "arca:v1:" + base64.RawURLEncoding.EncodeToString(bin[:headerLen])},
		{"truncated-inside-tag", "arca:v1:" + base64.RawURLEncoding.EncodeToString(bin[:headerLen+tagLen-1])},
		{"hex-instead-of-base64", "arca:v1:" + hex.EncodeToString(bin)},
		{"base64-of-text-form", "arca:v1:" + base64.RawURLEncoding.EncodeToString([]byte(s))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := crypto.Parse(tc.in)
			if !errors.Is(err, crypto.ErrMalformedCiphertext) {
				t.Fatalf("Parse(%q) = %v, %v; want ErrMalformedCiphertext", tc.in, got, err)
			}
			if got != nil {
				t.Fatal("Parse returned a ciphertext with an error")
			}
			assertNoEcho(t, err, tc.in)
		})
	}
}

// assertNoEcho fails if err's message contains the input or a recognisable
// part of it.
func assertNoEcho(t *testing.T, err error, in string) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, in) && len(in) > len(crypto.TextPrefix) {
		t.Fatalf("error message %q contains the input", msg)
	}
	rest := strings.TrimPrefix(in, crypto.TextPrefix)
	for i := 0; i+12 <= len(rest); i++ {
		if strings.Contains(msg, rest[i:i+12]) {
			t.Fatalf("error message %q contains part of the input", msg)
		}
	}
}

// TestParseTruncated tries every proper prefix of a text-form ciphertext.
// With an empty plaintext every prefix is too short or badly encoded, so all
// must be malformed; with a plaintext, a prefix that still parses must then
// fail to authenticate.
func TestParseTruncated(t *testing.T) {
	t.Parallel()
	for _, alg := range encryptAlgorithms() {
		for _, ptLen := range []int{0, 10} {
			t.Run(fmt.Sprintf("%s/pt%d", alg, ptLen), func(t *testing.T) {
				t.Parallel()
				k := newKey(t, alg, idA, 1, 0x21)
				s := seal(t, k, pattern(ptLen), crypto.Binding{}).String()
				for n := range len(s) {
					c, err := crypto.Parse(s[:n])
					if ptLen == 0 || err != nil {
						if !errors.Is(err, crypto.ErrMalformedCiphertext) {
							t.Fatalf("Parse(first %d of %d chars) = %v; want ErrMalformedCiphertext", n, len(s), err)
						}
						assertNoEcho(t, err, s[:n])
						continue
					}
					if _, err := k.Open(c, crypto.Binding{}); !errors.Is(err, crypto.ErrDecrypt) {
						t.Fatalf("Open(first %d of %d chars) = %v; want ErrDecrypt", n, len(s), err)
					}
				}
				bin := marshal(t, seal(t, k, nil, crypto.Binding{}))
				for n := range headerLenFor(t, alg) + minSealedLenFor(t, alg) {
					if _, err := crypto.ParseBinary(bin[:n]); !errors.Is(err, crypto.ErrMalformedCiphertext) {
						t.Fatalf("ParseBinary(first %d bytes) = %v; want ErrMalformedCiphertext", n, err)
					}
				}
			})
		}
	}
}

func TestParseBinaryRejects(t *testing.T) {
	t.Parallel()
	valid := marshal(t, handBuilt(16))
	with := func(off int, v byte) []byte {
		b := bytes.Clone(valid)
		b[off] = v
		return b
	}
	withVersion := func(v uint32) []byte {
		b := bytes.Clone(valid)
		binary.BigEndian.PutUint32(b[18:22], v)
		return b
	}
	// withNonceLen rewrites the nonce length byte and resizes the nonce to
	// match, so that only the length rule can reject it.
	withNonceLen := func(n int) []byte {
		b := bytes.Clone(valid[:22])
		b = append(b, byte(n))
		b = append(b, make([]byte, n)...)
		return append(b, make([]byte, tagLen)...)
	}
	cases := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"one-byte", []byte{1}},
		{"fixed-header-minus-one", valid[:22]},
		{"fixed-header-only", valid[:23]},
		{"header-with-nonce-no-tag", valid[:headerLen]},
		{"tag-one-byte-short", valid[:headerLen+tagLen-1]},
		{"format-version-0", with(0, 0)},
		{"format-version-2", with(0, 2)},
		{"format-version-0xff", with(0, 0xff)},
		{"format-version-ascii-a", with(0, 'a')},
		{"algorithm-0", with(1, 0)},
		{"algorithm-3-xchacha-with-12-byte-nonce", with(1, 3)},
		{"algorithm-4-siv-with-12-byte-nonce", with(1, 4)},
		{"algorithm-5-rsa-oaep-2048-with-12-byte-nonce", with(1, 5)},
		{"algorithm-8-ml-kem-768-with-12-byte-nonce", with(1, 8)},
		{"algorithm-10-x25519-ml-kem-768-with-12-byte-nonce", with(1, 10)},
		{"algorithm-11", with(1, 11)},
		{"algorithm-12", with(1, 12)},
		{"algorithm-0x81", with(1, 0x81)},
		{"algorithm-0xff", with(1, 0xff)},
		{"key-version-0", withVersion(0)},
		{"nonce-length-0", withNonceLen(0)},
		{"nonce-length-8", withNonceLen(8)},
		{"nonce-length-11", withNonceLen(11)},
		{"nonce-length-13", withNonceLen(13)},
		{"nonce-length-16", withNonceLen(16)},
		{"nonce-length-24-under-aes-gcm", withNonceLen(24)},
		{"nonce-length-255", withNonceLen(255)},
		{"nonce-length-byte-24-nonce-12", with(22, 24)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := crypto.ParseBinary(tc.in)
			if !errors.Is(err, crypto.ErrMalformedCiphertext) || c != nil {
				t.Fatalf("ParseBinary = %v, %v; want ErrMalformedCiphertext", c, err)
			}
			// The same bytes in text form fail the same way.
			if _, err := crypto.Parse(crypto.TextPrefix + base64.RawURLEncoding.EncodeToString(tc.in)); !errors.Is(err, crypto.ErrMalformedCiphertext) {
				t.Fatalf("Parse = %v; want ErrMalformedCiphertext", err)
			}
			if len(tc.in) > 0 {
				assertNoEcho(t, err, hex.EncodeToString(tc.in))
			}
		})
	}
}

// rawCiphertext builds a binary form field by field, without the package.
func rawCiphertext(algID byte, version uint32, nonceLenByte byte, nonce []byte, sealedLen int) []byte {
	var b []byte
	b = append(b, 1, algID)
	b = append(b, idB[:]...)
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, nonceLenByte)
	b = append(b, nonce...)
	return append(b, make([]byte, sealedLen)...)
}

func TestParseBinaryAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		algID     byte
		alg       crypto.Algorithm
		version   uint32
		nonceLen  int
		sealedLen int
	}{
		{"aes-minimal", 1, crypto.AES256GCM, 1, 12, tagLen},
		{"chacha-minimal", 2, crypto.ChaCha20Poly1305, 1, 12, tagLen},
		{"xchacha-minimal", 3, crypto.XChaCha20Poly1305, 1, 24, tagLen},
		{"siv-minimal", 4, crypto.AES256SIV, 1, 0, tagLen},
		{"aes-max-version", 1, crypto.AES256GCM, ^uint32(0), 12, tagLen + 1},
		{"xchacha-max-version", 3, crypto.XChaCha20Poly1305, ^uint32(0), 24, tagLen + 1},
		{"siv-max-version", 4, crypto.AES256SIV, ^uint32(0), 0, tagLen + 1},
		{"chacha-long", 2, crypto.ChaCha20Poly1305, 77, 12, tagLen + 4096},
		{"siv-long", 4, crypto.AES256SIV, 77, 0, tagLen + 4096},
		{"rsa-oaep-2048", 5, crypto.RSAOAEP2048, 1, 0, 256},
		{"rsa-oaep-3072", 6, crypto.RSAOAEP3072, 1, 0, 384},
		{"rsa-oaep-4096-max-version", 7, crypto.RSAOAEP4096, ^uint32(0), 0, 512},
		{"ml-kem-768-minimal", 8, crypto.MLKEM768, 1, 0, 1088 + tagLen},
		{"ml-kem-1024-minimal", 9, crypto.MLKEM1024, 1, 0, 1568 + tagLen},
		{"x25519-ml-kem-768-minimal", 10, crypto.X25519MLKEM768, 1, 0, 1120 + tagLen},
		{"ml-kem-768-long", 8, crypto.MLKEM768, 77, 0, 1088 + tagLen + 4096},
		{"x25519-ml-kem-768-max-version", 10, crypto.X25519MLKEM768, ^uint32(0), 0, 1120 + tagLen + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := rawCiphertext(tc.algID, tc.version, byte(tc.nonceLen), pattern(tc.nonceLen), tc.sealedLen)
			c, err := crypto.ParseBinary(b)
			if err != nil {
				t.Fatal(err)
			}
			if c.KeyID != idB || c.KeyVersion != tc.version || c.Algorithm != tc.alg ||
				!bytes.Equal(c.Nonce, pattern(tc.nonceLen)) || len(c.Sealed) != tc.sealedLen {
				t.Fatalf("fields: %+v", c)
			}
			if got := marshal(t, c); !bytes.Equal(got, b) {
				t.Fatal("MarshalBinary does not give the input back")
			}
		})
	}
}

// TestParseBinaryRejectsNonceLength gives every encrypt algorithm id every
// other nonce length (with a nonce of that length, so that only the length
// rule can reject it), and a truncated minimal ciphertext.
func TestParseBinaryRejectsNonceLength(t *testing.T) {
	t.Parallel()
	for _, alg := range encryptAlgorithms() {
		in := info(t, alg)
		for _, n := range []int{0, 1, 8, 11, 12, 13, 16, 23, 24, 25, 32, 255} {
			if n == in.nonceSize {
				continue
			}
			b := rawCiphertext(in.id, 1, byte(n), pattern(n), tagLen)
			if c, err := crypto.ParseBinary(b); !errors.Is(err, crypto.ErrMalformedCiphertext) || c != nil {
				t.Errorf("%s with a %d-byte nonce: ParseBinary = %v, %v; want ErrMalformedCiphertext", alg, n, c, err)
			}
		}
		// Nonce length byte right, nonce bytes missing.
		b := rawCiphertext(in.id, 1, byte(in.nonceSize), nil, tagLen-1)
		if _, err := crypto.ParseBinary(b); !errors.Is(err, crypto.ErrMalformedCiphertext) {
			t.Errorf("%s one byte short: ParseBinary = %v; want ErrMalformedCiphertext", alg, err)
		}
	}
}

// TestMarshalRejectsInvalidFields checks MarshalBinary's contract: it fails
// for a hand-built value that Parse would reject. MAC algorithms have no wire
// id and never appear in ciphertexts, so a Ciphertext naming one must not
// marshal (the header would carry the reserved id 0, which every parser
// rejects), and String must give the invalid placeholder.
func TestMarshalRejectsInvalidFields(t *testing.T) {
	t.Parallel()
	var cases []*crypto.Ciphertext
	for _, alg := range macAlgorithms() {
		cases = append(cases,
			&crypto.Ciphertext{KeyID: idA, KeyVersion: 1, Algorithm: alg, Sealed: make([]byte, tagLen)},
			&crypto.Ciphertext{KeyID: idA, KeyVersion: 1, Algorithm: alg, Nonce: []byte{}, Sealed: make([]byte, info(t, alg).macSize)},
		)
	}
	for _, name := range []crypto.Algorithm{"", "rot13", "AES-256-GCM"} {
		cases = append(cases, &crypto.Ciphertext{KeyID: idA, KeyVersion: 1, Algorithm: name, Sealed: make([]byte, tagLen)})
	}
	for _, alg := range encryptAlgorithms() {
		n := info(t, alg).nonceSize
		cases = append(cases,
			&crypto.Ciphertext{KeyID: idA, KeyVersion: 0, Algorithm: alg, Nonce: make([]byte, n), Sealed: make([]byte, tagLen)},
			&crypto.Ciphertext{KeyID: idA, KeyVersion: 1, Algorithm: alg, Nonce: make([]byte, n+1), Sealed: make([]byte, tagLen)},
		)
		if n > 0 {
			cases = append(cases, &crypto.Ciphertext{KeyID: idA, KeyVersion: 1, Algorithm: alg, Nonce: make([]byte, n-1), Sealed: make([]byte, tagLen)})
		}
	}
	for i, c := range cases {
		b, err := c.MarshalBinary()
		if !errors.Is(err, crypto.ErrMalformedCiphertext) || b != nil {
			_, perr := crypto.ParseBinary(b)
			t.Errorf("case %d (%s, version %d, %d-byte nonce): MarshalBinary = %x, %v; want ErrMalformedCiphertext (ParseBinary of that output: %v)",
				i, c.Algorithm, c.KeyVersion, len(c.Nonce), b, err, perr)
		}
		if s := c.String(); s != "<invalid ciphertext>" {
			t.Errorf("case %d (%s): String() = %q, want the invalid placeholder", i, c.Algorithm, s)
		}
	}
}
