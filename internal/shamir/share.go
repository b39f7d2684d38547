package shamir

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// textPrefix starts the text form of a share. The trailing "1" is the format
// version; see the package documentation for the compatibility promise.
const textPrefix = "arca-share-1-"

// checksumSize is the length of the CRC-32C that ends the encoded payload.
const checksumSize = 4

// MarshalText returns the text form operators handle:
//
//	"arca-share-1-" + base64url-nopad(X || Y || CRC-32C(X || Y), big-endian)
//
// The checksum lets UnmarshalText detect a mistyped share before it is
// combined. The encoding runs in constant time with respect to the share. It
// implements encoding.TextMarshaler, so anything that marshals a Share (JSON,
// structured loggers) writes the share itself: keep shares out of logs.
// A share with X == 0 or an empty Y is rejected with ErrInvalidShare so that
// no unparseable text is ever produced.
func (s Share) MarshalText() ([]byte, error) {
	if s.X == 0 {
		return nil, fmt.Errorf("%w: x = 0", ErrInvalidShare)
	}
	if len(s.Y) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidShare)
	}
	raw := make([]byte, 0, 1+len(s.Y)+checksumSize)
	defer clear(raw[:cap(raw)])
	raw = append(raw, s.X)
	raw = append(raw, s.Y...)
	raw = binary.BigEndian.AppendUint32(raw, crc32c(raw))

	text := make([]byte, len(textPrefix)+encodedLen(len(raw)))
	copy(text, textPrefix)
	encodeBase64URL(text[len(textPrefix):], raw)
	return text, nil
}

// UnmarshalText parses the text form written by MarshalText. It is strict: it
// rejects a missing or different prefix, any character outside the unpadded
// base64url alphabet (including padding and whitespace; callers reading from
// a terminal should trim surrounding whitespace first), non-canonical
// encodings, a checksum mismatch, X == 0 and an empty Y, all with
// ErrInvalidShare. On error s is left unchanged; on success s.Y is a new slice
// that does not alias b.
func (s *Share) UnmarshalText(b []byte) error {
	payload, ok := bytes.CutPrefix(b, []byte(textPrefix))
	if !ok {
		return fmt.Errorf("%w: text form must start with %q", ErrInvalidShare, textPrefix)
	}
	raw, ok := decodeBase64URL(payload)
	defer clear(raw)
	if !ok {
		return fmt.Errorf("%w: malformed encoding", ErrInvalidShare)
	}
	if len(raw) < 1+1+checksumSize {
		return fmt.Errorf("%w: too short", ErrInvalidShare)
	}
	body := raw[:len(raw)-checksumSize]
	if crc32c(body) != binary.BigEndian.Uint32(raw[len(body):]) {
		return fmt.Errorf("%w: checksum mismatch (mistyped or truncated share?)", ErrInvalidShare)
	}
	if body[0] == 0 {
		return fmt.Errorf("%w: x = 0", ErrInvalidShare)
	}
	s.X = body[0]
	s.Y = bytes.Clone(body[1:])
	return nil
}

// crc32c returns the CRC-32C (Castagnoli) checksum of data, the same value as
// hash/crc32 with the Castagnoli table. It is computed bit by bit with masks
// rather than with lookup tables, so its timing does not depend on data.
func crc32c(data []byte) uint32 {
	const poly = 0x82f63b78 // Castagnoli polynomial, bit-reversed
	crc := ^uint32(0)
	for _, b := range data {
		crc ^= uint32(b)
		for range 8 {
			crc = crc>>1 ^ poly&-(crc&1)
		}
	}
	return ^crc
}

// The base64url codec below (RFC 4648 section 5, no padding) replaces
// encoding/base64, whose table lookups are indexed by the data. Characters
// are mapped to and from 6-bit values with arithmetic on small signed
// integers: for |v| < 256, v>>8 is -1 if v < 0 and 0 otherwise, which turns
// range comparisons into masks.

// encodedLen returns the length of the unpadded base64 encoding of n bytes.
func encodedLen(n int) int {
	return n/3*4 + (n%3*8+5)/6
}

// encodeBase64URL writes the unpadded base64url encoding of src to dst, which
// must be encodedLen(len(src)) bytes long.
func encodeBase64URL(dst, src []byte) {
	di := 0
	for len(src) >= 3 {
		v := int(src[0])<<16 | int(src[1])<<8 | int(src[2])
		dst[di+0] = encode6(v >> 18 & 0x3f)
		dst[di+1] = encode6(v >> 12 & 0x3f)
		dst[di+2] = encode6(v >> 6 & 0x3f)
		dst[di+3] = encode6(v & 0x3f)
		src = src[3:]
		di += 4
	}
	switch len(src) {
	case 2:
		v := int(src[0])<<8 | int(src[1])
		dst[di+0] = encode6(v >> 10 & 0x3f)
		dst[di+1] = encode6(v >> 4 & 0x3f)
		dst[di+2] = encode6(v << 2 & 0x3f)
	case 1:
		v := int(src[0])
		dst[di+0] = encode6(v >> 2 & 0x3f)
		dst[di+1] = encode6(v << 4 & 0x3f)
	}
}

// decodeBase64URL decodes unpadded base64url. It accepts only the canonical
// encoding: no padding, whitespace or other characters, no length of 1 mod 4,
// and zero unused bits in the last character. The returned slice is freshly
// allocated (and may be non-nil even when ok is false, so the caller can wipe
// it).
func decodeBase64URL(src []byte) (dst []byte, ok bool) {
	if len(src)%4 == 1 {
		return nil, false
	}
	dst = make([]byte, len(src)/4*3+len(src)%4*6/8)
	bad := 0 // becomes negative if any character is outside the alphabet
	di := 0
	for len(src) >= 4 {
		c0, c1, c2, c3 := decode6(src[0]), decode6(src[1]), decode6(src[2]), decode6(src[3])
		bad |= c0 | c1 | c2 | c3
		v := c0<<18 | c1<<12 | c2<<6 | c3
		dst[di+0] = byte(v >> 16)
		dst[di+1] = byte(v >> 8)
		dst[di+2] = byte(v)
		src = src[4:]
		di += 3
	}
	switch len(src) {
	case 3:
		c0, c1, c2 := decode6(src[0]), decode6(src[1]), decode6(src[2])
		bad |= c0 | c1 | c2 | (c2&0x03)<<8 // unused low 2 bits must be zero
		v := c0<<10 | c1<<4 | c2>>2
		dst[di+0] = byte(v >> 8)
		dst[di+1] = byte(v)
	case 2:
		c0, c1 := decode6(src[0]), decode6(src[1])
		bad |= c0 | c1 | (c1&0x0f)<<8 // unused low 4 bits must be zero
		v := c0<<2 | c1>>4
		dst[di+0] = byte(v)
	}
	// bad has bit 8 set (or is negative) on any error; valid values are < 64.
	return dst, bad&^0x3f == 0
}

// encode6 maps a 6-bit value to its base64url character:
// 0-25 → 'A'-'Z', 26-51 → 'a'-'z', 52-61 → '0'-'9', 62 → '-', 63 → '_'.
func encode6(v int) byte {
	diff := int('A')
	diff += (25 - v) >> 8 & ('a' - 26 - 'A')      // v > 25: shift to 'a'
	diff -= (51 - v) >> 8 & ('a' - 26 - '0' + 52) // v > 51: shift to '0'
	diff -= (61 - v) >> 8 & ('0' - 52 - '-' + 62) // v == 62 or 63: shift to '-'
	diff += (62 - v) >> 8 & ('_' - 63 - '-' + 62) // v == 63: shift to '_'
	return byte(v + diff)
}

// decode6 maps a base64url character to its 6-bit value, or -1 if c is not in
// the alphabet.
func decode6(c byte) int {
	v := int(c)
	r := -1
	// (lo-v)&(v-hi) is negative exactly when lo < v < hi.
	r += ((('A' - 1) - v) & (v - ('Z' + 1))) >> 8 & (v - 'A' + 1)
	r += ((('a' - 1) - v) & (v - ('z' + 1))) >> 8 & (v - 'a' + 26 + 1)
	r += ((('0' - 1) - v) & (v - ('9' + 1))) >> 8 & (v - '0' + 52 + 1)
	r += ((('-' - 1) - v) & (v - ('-' + 1))) >> 8 & (62 + 1)
	r += ((('_' - 1) - v) & (v - ('_' + 1))) >> 8 & (63 + 1)
	return r
}
