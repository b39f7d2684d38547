package shamir

import (
	"bytes"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// textVectors pin the version 1 text form. They were computed independently
// (Python's base64.urlsafe_b64encode and a bitwise CRC-32C).
var textVectors = []struct {
	x    byte
	y    string // hex
	text string
}{
	{x: 0x03, y: "23", text: "arca-share-1-AyP2a6Jh"},
	{x: 0x01, y: "fefd26c6", text: "arca-share-1-Af79JsalJ1Ha"},
	{x: 0x80, y: "00ff01", text: "arca-share-1-gAD_AUtPJXg"},
	{x: 0xff, y: "a8fcfb6d7e3c1e553a943553c19bd64bf9138df66ebd36f74c667d9497430e56", text: "arca-share-1-_6j8-21-PB5VOpQ1U8Gb1kv5E432br0290xmfZSXQw5WUzTXrA"},
}

func TestTextVectors(t *testing.T) {
	t.Parallel()
	for _, v := range textVectors {
		s := Share{X: v.x, Y: mustHex(t, v.y)}
		got, err := s.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(x=%d): %v", v.x, err)
		}
		if string(got) != v.text {
			t.Errorf("MarshalText(x=%d) = %q, want %q", v.x, got, v.text)
		}
		var back Share
		if err := back.UnmarshalText([]byte(v.text)); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", v.text, err)
		}
		if !shareEqual(back, s) {
			t.Errorf("UnmarshalText(%q) = %v, want %v", v.text, back, s)
		}
	}
}

func TestTextRoundTrip(t *testing.T) {
	t.Parallel()
	for size := 1; size <= 40; size++ {
		shares, err := Split(randomSecret(t, size), 255, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range shares {
			text, err := s.MarshalText()
			if err != nil {
				t.Fatalf("MarshalText: %v", err)
			}
			if !bytes.HasPrefix(text, []byte("arca-share-1-")) {
				t.Fatalf("text %q lacks the prefix", text)
			}
			var back Share
			if err := back.UnmarshalText(text); err != nil {
				t.Fatalf("UnmarshalText(%q): %v", text, err)
			}
			if !shareEqual(back, s) {
				t.Fatalf("round trip of x=%d, %d bytes changed the share", s.X, size)
			}
		}
	}
}

func TestUnmarshalTextDoesNotAlias(t *testing.T) {
	t.Parallel()
	text := []byte(textVectors[3].text)
	var s Share
	if err := s.UnmarshalText(text); err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(s.Y)
	for i := range text {
		text[i] = 0
	}
	if !bytes.Equal(s.Y, want) {
		t.Error("share changed when the input text was overwritten")
	}
}

// TestUnmarshalTextSingleCharChange replaces each character of valid shares,
// one at a time, with every other byte value; all must be rejected. See
// TestChecksumCatchesSingleCharErrors for why this holds for every share.
func TestUnmarshalTextSingleCharChange(t *testing.T) {
	t.Parallel()
	for _, v := range textVectors {
		orig := Share{X: v.x, Y: mustHex(t, v.y)}
		for i := range len(v.text) {
			for c := range 256 {
				if byte(c) == v.text[i] {
					continue
				}
				text := []byte(v.text)
				text[i] = byte(c)
				s := orig
				if err := s.UnmarshalText(text); !errors.Is(err, ErrInvalidShare) {
					t.Fatalf("UnmarshalText(%q) error = %v, want ErrInvalidShare", text, err)
				}
				if !shareEqual(s, orig) {
					t.Fatalf("UnmarshalText(%q) modified the share on error", text)
				}
			}
		}
	}
}

// TestChecksumCatchesSingleCharErrors checks the one case where the general
// CRC guarantee does not directly apply. A changed base64 character alters at
// most 6 adjacent bits, within two adjacent bytes. Non-canonical trailing bits
// and characters outside the alphabet are rejected by the decoder. If both
// bytes are in X || Y, the error is a burst of at most 16 bits, which CRC-32C
// always detects; if both are in the checksum, the checksum no longer matches.
// Remaining is an error e in the last byte of X || Y together with an error in
// the first checksum byte (the most significant byte, as it is big-endian).
// That goes undetected only if the checksum change caused by e is confined to
// the most significant byte, which this test rules out for every e.
func TestChecksumCatchesSingleCharErrors(t *testing.T) {
	t.Parallel()
	body := randomSecret(t, 33)
	sum := crc32c(body)
	for e := 1; e < 256; e++ {
		changed := bytes.Clone(body)
		changed[len(changed)-1] ^= byte(e)
		if diff := crc32c(changed) ^ sum; diff&0x00ffffff == 0 {
			t.Errorf("error %02x in the last byte changes only the checksum's first byte (%08x)", e, diff)
		}
	}
}

func TestUnmarshalTextErrors(t *testing.T) {
	t.Parallel()
	// enc builds a text share from raw bytes, with a correct checksum unless
	// badSum is set.
	enc := func(raw []byte, badSum bool) string {
		sum := crc32.Checksum(raw, crc32.MakeTable(crc32.Castagnoli))
		if badSum {
			sum ^= 1
		}
		raw = append(raw, byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum))
		return "arca-share-1-" + base64.RawURLEncoding.EncodeToString(raw)
	}
	valid := textVectors[1].text
	payload := strings.TrimPrefix(valid, "arca-share-1-")
	tests := []struct {
		name, text string
	}{
		{"empty", ""},
		{"prefix only", "arca-share-1-"},
		{"no prefix", payload},
		{"version 2", "arca-share-2-" + payload},
		{"upper-case prefix", "ARCA-SHARE-1-" + payload},
		{"leading space", " " + valid},
		{"trailing newline", valid + "\n"},
		{"embedded newline", valid[:16] + "\n" + valid[16:]},
		{"embedded CR", valid[:16] + "\r" + valid[16:]},
		{"padding", "arca-share-1-gAD_AUtPJXg="},
		{"standard alphabet", "arca-share-1-gAD/AUtPJXg"},
		{"non-canonical trailing bits", "arca-share-1-gAD_AUtPJXh"},
		{"length 1 mod 4", valid + "A"},
		{"truncated", valid[:len(valid)-1]},
		{"truncated by 4", valid[:len(valid)-4]},
		{"too short", enc([]byte{1}, false)},
		{"bad checksum", enc([]byte{1, 2, 3}, true)},
		{"zero X", enc([]byte{0, 2, 3}, false)},
		{"zero X only", enc([]byte{0}, false)},
		{"empty Y", enc([]byte{5}, false)},
		{"non-ASCII", "arca-share-1-Af79JsalJ1H\xc3\xa4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s Share
			if err := s.UnmarshalText([]byte(tt.text)); !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("UnmarshalText(%q) error = %v, want ErrInvalidShare", tt.text, err)
			}
			if s.X != 0 || s.Y != nil {
				t.Error("UnmarshalText set the share on error")
			}
		})
	}
	// enc itself produces valid shares.
	var s Share
	if err := s.UnmarshalText([]byte(enc([]byte{9, 8, 7}, false))); err != nil {
		t.Fatalf("control: %v", err)
	}
}

func TestMarshalTextErrors(t *testing.T) {
	t.Parallel()
	for _, s := range []Share{{}, {X: 0, Y: []byte{1}}, {X: 1}, {X: 1, Y: []byte{}}} {
		if text, err := s.MarshalText(); !errors.Is(err, ErrInvalidShare) || text != nil {
			t.Errorf("MarshalText(X=%d, len(Y)=%d) = %q, %v; want ErrInvalidShare", s.X, len(s.Y), text, err)
		}
	}
}

func TestCRC32C(t *testing.T) {
	t.Parallel()
	if got := crc32c([]byte("123456789")); got != 0xe3069283 {
		t.Errorf("crc32c(123456789) = %08x, want e3069283", got)
	}
	table := crc32.MakeTable(crc32.Castagnoli)
	data := randomSecret(t, 300)
	for n := range len(data) {
		if got, want := crc32c(data[:n]), crc32.Checksum(data[:n], table); got != want {
			t.Fatalf("crc32c of %d bytes = %08x, want %08x", n, got, want)
		}
	}
}

func TestBase64URLCodec(t *testing.T) {
	t.Parallel()
	// Every character maps like encoding/base64.
	for c := range 256 {
		want := -1
		if i := strings.IndexByte(urlAlphabet, byte(c)); i >= 0 {
			want = i
		}
		if got := decode6(byte(c)); got != want {
			t.Errorf("decode6(%q) = %d, want %d", byte(c), got, want)
		}
	}
	for v := range 64 {
		if got := encode6(v); got != urlAlphabet[v] {
			t.Errorf("encode6(%d) = %q, want %q", v, got, urlAlphabet[v])
		}
	}
	data := randomSecret(t, 100)
	for n := range len(data) {
		want := base64.RawURLEncoding.EncodeToString(data[:n])
		if encodedLen(n) != len(want) {
			t.Fatalf("encodedLen(%d) = %d, want %d", n, encodedLen(n), len(want))
		}
		got := make([]byte, encodedLen(n))
		encodeBase64URL(got, data[:n])
		if string(got) != want {
			t.Fatalf("encode(%x) = %q, want %q", data[:n], got, want)
		}
		dec, ok := decodeBase64URL(got)
		if !ok || !bytes.Equal(dec, data[:n]) {
			t.Fatalf("decode(%q) = %x, %v; want %x", got, dec, ok, data[:n])
		}
	}
}

const urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
