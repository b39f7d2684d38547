package shamir

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
)

func FuzzUnmarshalText(f *testing.F) {
	for _, v := range textVectors {
		f.Add([]byte(v.text))
	}
	f.Add([]byte(""))
	f.Add([]byte("arca-share-1-"))
	f.Add([]byte("arca-share-1-AAAAAAAA"))
	f.Add([]byte("arca-share-1-Af79JsalJ1Ha\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		var s Share
		err := s.UnmarshalText(text)
		if err != nil {
			if !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("error %v is not ErrInvalidShare", err)
			}
			if s.X != 0 || s.Y != nil {
				t.Fatal("share modified on error")
			}
			return
		}
		if s.X == 0 || len(s.Y) == 0 {
			t.Fatalf("accepted share with X = %d, len(Y) = %d", s.X, len(s.Y))
		}
		// The encoding is canonical, so a successful parse round-trips exactly.
		again, err := s.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText after successful parse: %v", err)
		}
		if !bytes.Equal(again, text) {
			t.Fatalf("round trip: %q became %q", text, again)
		}
		// The constant-time decoder agrees with encoding/base64.
		raw, err := base64.RawURLEncoding.Strict().DecodeString(string(text[len(textPrefix):]))
		if err != nil {
			t.Fatalf("encoding/base64 rejects accepted payload: %v", err)
		}
		if raw[0] != s.X || !bytes.Equal(raw[1:len(raw)-4], s.Y) {
			t.Fatal("encoding/base64 decodes a different share")
		}
	})
}

// FuzzBase64URL checks the constant-time decoder against encoding/base64:
// both accept the same strings (encoding/base64 skips CR and LF, which we
// reject, so those are excluded) and decode them identically.
func FuzzBase64URL(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("AQID"))
	f.Add([]byte("gAD_AUtPJXg"))
	f.Add([]byte("gAD_AUtPJXh"))
	f.Add([]byte("gA=="))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, ok := decodeBase64URL(src)
		want, err := base64.RawURLEncoding.Strict().DecodeString(string(src))
		if bytes.ContainsAny(src, "\r\n") {
			if ok {
				t.Fatalf("accepted %q containing CR or LF", src)
			}
			return
		}
		if ok != (err == nil) {
			t.Fatalf("decode(%q): ok = %v, encoding/base64 error = %v", src, ok, err)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("decode(%q) = %x, want %x", src, got, want)
		}
	})
}

// FuzzCombine builds share sets from arbitrary bytes: data[0] is the number
// of shares, data[1] the Y length, then each share is an X byte followed by
// its Y bytes (missing bytes are left zero). Combine must never panic, must
// fail only with a package sentinel, and must not depend on share order.
func FuzzCombine(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 1, 0x2d, 2, 0x24, 3, 0x23})
	f.Add([]byte{2, 2, 1, 5, 6, 1, 7, 8})
	f.Add([]byte{2, 1, 0, 5, 1, 6})
	f.Add([]byte{0, 0})
	f.Add([]byte{1, 0, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		var shares []Share
		if len(data) >= 2 {
			n, size := int(data[0])%40, int(data[1])%64
			data = data[2:]
			for range n {
				var s Share
				if len(data) > 0 {
					s.X, data = data[0], data[1:]
				}
				// Vary Y length a little so mismatches are reachable.
				l := size
				if s.X%17 == 16 {
					l++
				}
				s.Y = make([]byte, l)
				data = data[copy(s.Y, data):]
				shares = append(shares, s)
			}
		}
		got, err := Combine(shares)
		if err != nil {
			if !errors.Is(err, ErrInvalidParams) && !errors.Is(err, ErrInvalidShare) &&
				!errors.Is(err, ErrDuplicateShare) && !errors.Is(err, ErrMismatchedShares) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(got) != len(shares[0].Y) {
			t.Fatalf("secret has %d bytes, shares have %d", len(got), len(shares[0].Y))
		}
		rev := slices.Clone(shares)
		slices.Reverse(rev)
		got2, err := Combine(rev)
		if err != nil || !bytes.Equal(got, got2) {
			t.Fatalf("Combine depends on share order (err %v)", err)
		}
		// A single share is a constant polynomial: it combines to its own Y.
		if len(shares) == 1 && !bytes.Equal(got, shares[0].Y) {
			t.Fatal("one share does not combine to its own Y")
		}
	})
}
