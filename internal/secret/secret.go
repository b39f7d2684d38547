// Package secret holds key material and other secret bytes in a type that
// cannot be printed, logged or serialised by accident.
//
// Every formatting path (String, GoString, Format, MarshalJSON, MarshalText,
// slog.LogValuer) renders a fixed placeholder. Reading the bytes needs an
// explicit call to Reveal, so each read of secret material is visible in
// review and easy to search for.
package secret

import (
	"crypto/rand"
	"fmt"
	"log/slog"
)

// Redacted is what every formatting path prints instead of secret bytes.
const Redacted = "[redacted]"

// Bytes is a secret byte string. The zero value is an empty secret. A *Bytes
// must not be copied after first use (copies would escape Wipe).
type Bytes struct {
	b []byte
}

// New wraps b as a secret. It takes ownership of b: the caller must not use b
// afterwards except through the returned value.
func New(b []byte) *Bytes { return &Bytes{b: b} }

// Random returns n bytes from crypto/rand as a secret.
func Random(n int) (*Bytes, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("secret: read random bytes: %w", err)
	}
	return New(b), nil
}

// Reveal returns the secret bytes. The slice aliases the secret: it is zeroed
// by Wipe, and callers must not keep it beyond the secret's lifetime.
func (s *Bytes) Reveal() []byte {
	if s == nil {
		return nil
	}
	return s.b
}

// Len reports the length of the secret without revealing it.
func (s *Bytes) Len() int {
	if s == nil {
		return 0
	}
	return len(s.b)
}

// Clone returns an independent copy that must be wiped separately.
func (s *Bytes) Clone() *Bytes {
	if s == nil {
		return nil
	}
	return New(append([]byte(nil), s.b...))
}

// Wipe overwrites the secret with zeros and empties it.
func (s *Bytes) Wipe() {
	if s == nil {
		return
	}
	Zero(s.b)
	s.b = nil
}

// Zero overwrites b with zeros. Use it on plaintext buffers once they are no
// longer needed.
func Zero(b []byte) { clear(b) }

// String implements fmt.Stringer with a placeholder.
func (s *Bytes) String() string { return Redacted }

// GoString implements fmt.GoStringer with a placeholder.
func (s *Bytes) GoString() string { return Redacted }

// Format implements fmt.Formatter so that every verb (%x, %v, %s, %q, ...)
// prints the placeholder.
func (s *Bytes) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON renders the placeholder as a JSON string.
func (s *Bytes) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText renders the placeholder.
func (s *Bytes) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue implements slog.LogValuer with the placeholder.
func (s *Bytes) LogValue() slog.Value { return slog.StringValue(Redacted) }
