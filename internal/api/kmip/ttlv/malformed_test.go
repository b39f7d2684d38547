package ttlv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// raw builds an item header followed by value bytes exactly as given, so
// tests can write any length, padding or type they like.
func raw(tag uint32, typ byte, length uint32, value ...byte) []byte {
	b := []byte{byte(tag >> 16), byte(tag >> 8), byte(tag), typ}
	b = binary.BigEndian.AppendUint32(b, length)
	return append(b, value...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func zeros(n int) []byte { return make([]byte, n) }

// nested returns depth Structures nested inside each other around an
// Integer, so the Integer sits at depth+1.
func nested(depth int) []byte {
	b := raw(0x42006A, 0x02, 4, 0, 0, 0, 1, 0, 0, 0, 0)
	for range depth {
		b = cat(raw(0x420069, 0x01, uint32(len(b))), b)
	}
	return b
}

// secret is a marker planted in values; no error message may contain it.
var secret = []byte("S3CRET-KEY-MATERIAL")

func TestDecodeMalformed(t *testing.T) {
	const cd = 0x420020 // Compromise Date, a known tag
	okInt := raw(cd, 0x02, 4, 0, 0, 0, 8, 0, 0, 0, 0)
	cases := []struct {
		name  string
		in    []byte
		lim   Limits
		limit bool // must also wrap ErrLimit
	}{
		{"empty input", nil, Limits{}, false},
		{"short header", []byte{0x42, 0x00, 0x20, 0x02, 0x00}, Limits{}, false},
		{"header only, value missing", raw(cd, 0x02, 4), Limits{}, false},
		{"integer missing its padding", raw(cd, 0x02, 4, 0, 0, 0, 8), Limits{}, false},
		{"integer length 8", raw(cd, 0x02, 8, zeros(8)...), Limits{}, false},
		{"integer length 0", raw(cd, 0x02, 0), Limits{}, false},
		{"long integer length 4", raw(cd, 0x03, 4, zeros(8)...), Limits{}, false},
		{"enumeration length 8", raw(cd, 0x05, 8, zeros(8)...), Limits{}, false},
		{"boolean length 4", raw(cd, 0x06, 4, zeros(8)...), Limits{}, false},
		{"date-time length 4", raw(cd, 0x09, 4, zeros(8)...), Limits{}, false},
		{"interval length 8", raw(cd, 0x0A, 8, zeros(8)...), Limits{}, false},
		{"date-time extended length 16", raw(cd, 0x0B, 16, zeros(16)...), Limits{}, false},
		{"big integer length 0", raw(cd, 0x04, 0), Limits{}, false},
		{"big integer length 12", raw(cd, 0x04, 12, zeros(16)...), Limits{}, false},
		{"big integer with 8 redundant zero bytes", raw(cd, 0x04, 16, append(zeros(15), 1)...), Limits{}, false},
		{"big integer with 8 redundant 0xFF bytes",
			raw(cd, 0x04, 16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0), Limits{}, false},
		{"byte string declares 4 GiB", raw(cd, 0x08, 0xFFFFFFFF, secret...), Limits{}, false},
		{"byte string declares one byte too many", raw(cd, 0x08, 17, secret[:16]...), Limits{}, false},
		{"structure declares 4 GiB", cat(raw(0x420078, 0x01, 0xFFFFFFF8), okInt), Limits{}, false},
		{"structure length not a multiple of 8", raw(0x420078, 0x01, 4, 0, 0, 0, 0, 0, 0, 0, 0), Limits{}, false},
		{"structure shorter than its child", cat(raw(0x420078, 0x01, 8), okInt), Limits{}, false},
		{"child overruns its structure but not the input",
			cat(raw(0x420078, 0x01, 32), raw(0x420077, 0x01, 8), okInt, zeros(8)), Limits{}, false},
		{"non-zero integer padding", raw(cd, 0x02, 4, 0, 0, 0, 8, 0, 0, 0, 1), Limits{}, false},
		{"non-zero text padding", raw(cd, 0x07, 3, 'a', 'b', 'c', 0, 0, 0, 0, 'x'), Limits{}, false},
		{"non-zero byte string padding", raw(cd, 0x08, 5, append(secret[:5], 0, 0, 9)...), Limits{}, false},
		{"boolean 2", raw(cd, 0x06, 8, 0, 0, 0, 0, 0, 0, 0, 2), Limits{}, false},
		{"boolean high byte set", raw(cd, 0x06, 8, 1, 0, 0, 0, 0, 0, 0, 1), Limits{}, false},
		{"text not UTF-8", raw(cd, 0x07, 8, append([]byte("S3CR"), 0xFF, 0xFE, 'E', 'T')...), Limits{}, false},
		{"text with truncated UTF-8 sequence", raw(cd, 0x07, 2, 'a', 0xE2, 0, 0, 0, 0, 0, 0), Limits{}, false},
		{"item type 0x00", raw(cd, 0x00, 0), Limits{}, false},
		{"item type 0x0C", raw(cd, 0x0C, 4, zeros(8)...), Limits{}, false},
		{"item type 0xFF", raw(cd, 0xFF, 0), Limits{}, false},
		{"reserved tag 0x420137", raw(0x420137, 0x02, 4, zeros(8)...), Limits{}, false},
		{"reserved tag 0x42013E", raw(0x42013E, 0x02, 4, zeros(8)...), Limits{}, false},
		{"2.1 tag 0x420166", raw(0x420166, 0x02, 4, zeros(8)...), Limits{}, false},
		{"undefined tag 0x42FFFF", raw(0x42FFFF, 0x02, 4, zeros(8)...), Limits{}, false},
		{"tag 0x420000", raw(0x420000, 0x02, 4, zeros(8)...), Limits{}, false},
		{"tag outside both ranges", raw(0x430001, 0x02, 4, zeros(8)...), Limits{}, false},
		{"unknown tag inside a structure", cat(raw(0x420078, 0x01, 16), raw(0x42FFFF, 0x02, 4, zeros(8)...)), Limits{}, false},
		{"trailing zero bytes", cat(okInt, zeros(8)), Limits{}, false},
		{"one trailing byte", cat(okInt, []byte{0}), Limits{}, false},
		{"two items", cat(okInt, okInt), Limits{}, false},
		{"depth 33 with the default limit", nested(32), Limits{}, true},
		{"depth 4 with MaxDepth 3", nested(3), Limits{MaxDepth: 3}, true},
		{"4 items with MaxItems 3", cat(raw(0x420078, 0x01, 48), okInt, okInt, okInt), Limits{MaxItems: 3}, true},
		{"10001 items with the default limit",
			cat(raw(0x420078, 0x01, 16*10000), bytes.Repeat(okInt, 10000)), Limits{}, true},
		{"input over MaxSize", okInt, Limits{MaxSize: 15}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it, err := Decode(tc.in, tc.lim)
			if err == nil {
				t.Fatalf("Decode succeeded: %v", it)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if got := errors.Is(err, ErrLimit); got != tc.limit {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v (%v)", got, tc.limit, err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			} else if de.Offset < 0 || de.Offset > len(tc.in) {
				t.Errorf("offset %d outside the %d-byte input", de.Offset, len(tc.in))
			}
			if msg := err.Error(); strings.Contains(msg, "S3CR") || strings.Contains(msg, "53334352") {
				t.Errorf("error message echoes value bytes: %s", msg)
			}
			if it.Type() != 0 {
				t.Errorf("failed Decode returned a non-zero item: %v", it)
			}
		})
	}
}

// The limits themselves are inclusive: exactly MaxDepth, MaxItems and
// MaxSize are accepted.
func TestDecodeLimitsInclusive(t *testing.T) {
	okInt := raw(0x420020, 0x02, 4, 0, 0, 0, 8, 0, 0, 0, 0)
	if _, err := Decode(nested(31), Limits{}); err != nil {
		t.Errorf("depth 32: %v", err)
	}
	if _, err := Decode(nested(2), Limits{MaxDepth: 3}); err != nil {
		t.Errorf("depth 3 with MaxDepth 3: %v", err)
	}
	three := cat(raw(0x420078, 0x01, 32), okInt, okInt)
	if _, err := Decode(three, Limits{MaxItems: 3}); err != nil {
		t.Errorf("3 items with MaxItems 3: %v", err)
	}
	if _, err := Decode(okInt, Limits{MaxSize: 16}); err != nil {
		t.Errorf("16 bytes with MaxSize 16: %v", err)
	}
	if _, err := Decode(okInt, Limits{MaxSize: -1}); err != nil {
		t.Errorf("negative MaxSize must mean the default: %v", err)
	}
}

// Offsets point at the item at fault, and the tag is reported.
func TestDecodeErrorLocation(t *testing.T) {
	in := cat(raw(0x420078, 0x01, 32),
		raw(0x420020, 0x02, 4, 0, 0, 0, 8, 0, 0, 0, 0),
		raw(0x42000D, 0x06, 8, 0, 0, 0, 0, 0, 0, 0, 7))
	_, err := Decode(in, Limits{})
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	if de.Offset != 24 || de.Tag != TagBatchCount {
		t.Errorf("offset %d tag %v, want 24 BatchCount", de.Offset, de.Tag)
	}
	if !strings.Contains(err.Error(), "BatchCount") || !strings.Contains(err.Error(), "offset 24") {
		t.Errorf("message lacks location: %v", err)
	}
}

// Extension tags (0x54XXXX) are accepted and kept, even unknown ones.
func TestDecodeExtensionTag(t *testing.T) {
	in := cat(raw(0x420078, 0x01, 16), raw(0x540123, 0x08, 3, 1, 2, 3, 0, 0, 0, 0, 0))
	it, err := Decode(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ext, ok := it.Find(0x540123)
	if !ok || !ext.Tag().IsExtension() {
		t.Fatalf("extension item missing: %v", it)
	}
	if out, _ := Encode(it); !bytes.Equal(out, in) {
		t.Errorf("round trip: %x", out)
	}
}

// Decoded items do not alias the input buffer.
func TestDecodeCopies(t *testing.T) {
	in := raw(0x420020, 0x08, 3, 1, 2, 3, 0, 0, 0, 0, 0)
	it, err := Decode(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	in[8] = 0xEE
	if b, _ := it.Bytes(); b[0] != 1 {
		t.Error("Byte String value aliases the input")
	}
}
