package crypto

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// FormatVersion is the ciphertext format version this package writes.
const FormatVersion byte = 1

// TextPrefix starts the text form of a version-1 ciphertext.
const TextPrefix = "arca:v1:"

// Header layout offsets (see docs/ciphertext.md).
const (
	headerFixedLen = 1 + 1 + 16 + 4 + 1 // version, algorithm, key id, key version, nonce length
	tagSize        = 16
)

// ErrMalformedCiphertext is returned for input that is not a well-formed
// ciphertext. Its message says which part is wrong and never echoes the input.
var ErrMalformedCiphertext = errors.New("malformed ciphertext")

// Ciphertext is a parsed ciphertext: the header that names the key version
// that made it, and the sealed bytes.
type Ciphertext struct {
	// KeyID is the 16-byte UUID of the key.
	KeyID [16]byte
	// KeyVersion is the key version, starting at 1.
	KeyVersion uint32
	// Algorithm is the AEAD algorithm of the key version.
	Algorithm Algorithm
	// Nonce is the AEAD nonce.
	Nonce []byte
	// Sealed is the AEAD output: encrypted data followed by the tag.
	Sealed []byte
}

// header returns the header bytes (everything before Sealed). They are
// authenticated as part of the AEAD's associated data.
func (c *Ciphertext) header() []byte {
	spec := algorithms[c.Algorithm]
	h := make([]byte, 0, headerFixedLen+len(c.Nonce))
	h = append(h, FormatVersion, spec.id)
	h = append(h, c.KeyID[:]...)
	h = binary.BigEndian.AppendUint32(h, c.KeyVersion)
	h = append(h, byte(len(c.Nonce)))
	return append(h, c.Nonce...)
}

// MarshalBinary returns the binary form. It fails for a hand-built value
// that Parse would reject (unknown algorithm, wrong nonce length).
func (c *Ciphertext) MarshalBinary() ([]byte, error) {
	spec, ok := algorithms[c.Algorithm]
	if !ok || !c.Algorithm.Encrypts() || len(c.Nonce) != spec.nonceSize || c.KeyVersion == 0 {
		return nil, fmt.Errorf("%w: invalid header fields", ErrMalformedCiphertext)
	}
	if n := len(c.Sealed); n < tagSize || n < spec.sealedMin || (spec.sealedMax > 0 && n > spec.sealedMax) {
		return nil, fmt.Errorf("%w: wrong sealed length for %s", ErrMalformedCiphertext, c.Algorithm)
	}
	return append(c.header(), c.Sealed...), nil
}

// String returns the text form, "arca:v1:" followed by the unpadded
// URL-safe base64 of the binary form.
func (c *Ciphertext) String() string {
	b, err := c.MarshalBinary()
	if err != nil {
		return "<invalid ciphertext>"
	}
	var sb strings.Builder
	sb.Grow(len(TextPrefix) + base64.RawURLEncoding.EncodedLen(len(b)))
	sb.WriteString(TextPrefix)
	enc := base64.NewEncoder(base64.RawURLEncoding, &sb)
	_, _ = enc.Write(b)
	_ = enc.Close()
	return sb.String()
}

// ParseBinary parses the binary form strictly.
func ParseBinary(b []byte) (*Ciphertext, error) {
	if len(b) < headerFixedLen {
		return nil, fmt.Errorf("%w: too short", ErrMalformedCiphertext)
	}
	if b[0] != FormatVersion {
		return nil, fmt.Errorf("%w: unsupported format version %d", ErrMalformedCiphertext, b[0])
	}
	alg, spec, ok := algorithmByID(b[1])
	if !ok {
		return nil, fmt.Errorf("%w: unknown algorithm id %d", ErrMalformedCiphertext, b[1])
	}
	c := &Ciphertext{Algorithm: alg}
	copy(c.KeyID[:], b[2:18])
	c.KeyVersion = binary.BigEndian.Uint32(b[18:22])
	if c.KeyVersion == 0 {
		return nil, fmt.Errorf("%w: key version 0", ErrMalformedCiphertext)
	}
	nonceLen := int(b[22])
	if nonceLen != spec.nonceSize {
		return nil, fmt.Errorf("%w: nonce length %d, want %d", ErrMalformedCiphertext, nonceLen, spec.nonceSize)
	}
	rest := b[headerFixedLen:]
	if len(rest) < nonceLen+tagSize {
		return nil, fmt.Errorf("%w: truncated", ErrMalformedCiphertext)
	}
	if n := len(rest) - nonceLen; n < spec.sealedMin || (spec.sealedMax > 0 && n > spec.sealedMax) {
		return nil, fmt.Errorf("%w: wrong length for %s", ErrMalformedCiphertext, alg)
	}
	c.Nonce = append([]byte(nil), rest[:nonceLen]...)
	c.Sealed = append([]byte(nil), rest[nonceLen:]...)
	return c, nil
}

// Parse parses the text form strictly: the exact prefix, then canonical
// unpadded URL-safe base64 with no surrounding space.
func Parse(s string) (*Ciphertext, error) {
	rest, ok := strings.CutPrefix(s, TextPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: missing %q prefix", ErrMalformedCiphertext, TextPrefix)
	}
	// Strict decoding still skips CR and LF; refuse them so that the text
	// form stays canonical.
	if strings.ContainsAny(rest, "\r\n") {
		return nil, fmt.Errorf("%w: invalid base64", ErrMalformedCiphertext)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid base64", ErrMalformedCiphertext)
	}
	return ParseBinary(b)
}
