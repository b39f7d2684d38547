package ttlv

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error that [Decode] and [ReadMessage]
// return because of the bytes they were given (as opposed to an I/O
// failure). A server maps it to the KMIP result reason Invalid Message.
var ErrMalformed = errors.New("ttlv: malformed input")

// ErrLimit is wrapped, together with [ErrMalformed], by decoding errors
// caused by input exceeding [Limits] (size, depth or item count) rather than
// by a violation of the encoding rules. A server may log or meter the two
// differently.
var ErrLimit = errors.New("ttlv: limit exceeded")

// ErrInvalidItem is wrapped by every error [Encode] and [Append] return: the
// item cannot be put on the wire (zero Item, invalid UTF-8, tag outside 3
// bytes, value too long for the 4-byte length field).
var ErrInvalidItem = errors.New("ttlv: invalid item")

// DecodeError describes why input was rejected and where. It never contains
// any part of the value bytes, which may be key material: only offsets,
// lengths, the tag and the type.
type DecodeError struct {
	// Offset is the position in the input of the item header at fault (or
	// of the first byte after the item, for trailing data).
	Offset int
	// Tag is the tag of the item at fault, or 0 if it was not read.
	Tag Tag
	// Reason says what is wrong, in words.
	Reason string

	limit bool
}

// Error implements error.
func (e *DecodeError) Error() string {
	if e.Tag == 0 {
		return fmt.Sprintf("ttlv: malformed input at offset %d: %s", e.Offset, e.Reason)
	}
	return fmt.Sprintf("ttlv: malformed input at offset %d (%s): %s", e.Offset, e.Tag, e.Reason)
}

// Unwrap makes errors.Is match [ErrMalformed] and, for limit violations,
// [ErrLimit].
func (e *DecodeError) Unwrap() []error {
	if e.limit {
		return []error{ErrMalformed, ErrLimit}
	}
	return []error{ErrMalformed}
}

func malformed(off int, tag Tag, format string, args ...any) *DecodeError {
	return &DecodeError{Offset: off, Tag: tag, Reason: fmt.Sprintf(format, args...)}
}

func overLimit(off int, tag Tag, format string, args ...any) *DecodeError {
	e := malformed(off, tag, format, args...)
	e.limit = true
	return e
}
