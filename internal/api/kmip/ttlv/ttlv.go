// Package ttlv encodes and decodes KMIP messages in TTLV form.
//
// TTLV (Tag, Type, Length, Value) is the binary encoding that every KMIP
// client and server must speak (OASIS KMIP 1.2, 1.3, 1.4 and 2.0). Each item
// on the wire is an 8-byte header, a 3-byte tag naming the field, a 1-byte
// item type and a 4-byte big-endian value length, followed by the value,
// zero-padded to a multiple of 8 bytes. A Structure's value is the
// concatenation of its encoded children, so a whole request is one
// Structure item (RequestMessage) nesting everything else.
//
// The package is a pure codec. It knows the tag registry and the standard
// enumerations, but nothing about what an operation means:
//
//   - [Item] is the in-memory form of one TTLV item, built with constructors
//     such as [Struct], [Int], [Enum] and [Text] and read with typed getters
//     that report a type mismatch instead of panicking.
//   - [Encode] and [Append] produce canonical bytes.
//   - [Decode] parses exactly one item, strictly and within [Limits]; every
//     rejection wraps [ErrMalformed].
//   - [ReadMessage] frames one message off a stream without reading past it
//     and without allocating more than the caller allows.
//
// Decoding is strict on purpose: a server that accepts only the canonical
// encoding (exact lengths, zero padding, minimal Big Integers, known tags)
// has one interpretation per message, so Decode followed by Encode gives back
// the input byte for byte. Diagnostics never print Byte String, Big Integer
// or password values, which may be key material or credentials.
package ttlv

import "fmt"

// Tag identifies a field. Tags are three bytes on the wire: 0x42XXXX for tags
// the KMIP specification defines (see the Tag constants and [Known]) and
// 0x54XXXX for vendor extensions.
type Tag uint32

// MaxTag is the largest value a 3-byte tag can hold.
const MaxTag Tag = 0xFFFFFF

// tagExtensionPrefix is the first byte of vendor extension tags.
const tagExtensionPrefix = 0x54

// IsExtension reports whether t lies in the 0x54XXXX range the specification
// reserves for vendor extensions, which the decoder accepts without knowing
// them.
func (t Tag) IsExtension() bool { return t>>16 == tagExtensionPrefix }

// Type is the item type byte that says how the value is encoded.
type Type byte

// The item types of KMIP 1.x and 2.0 (DateTimeExtended is 2.0 only).
const (
	TypeStructure        Type = 0x01 // nested items
	TypeInteger          Type = 0x02 // signed 32-bit
	TypeLongInteger      Type = 0x03 // signed 64-bit
	TypeBigInteger       Type = 0x04 // two's complement, multiple of 8 bytes
	TypeEnumeration      Type = 0x05 // unsigned 32-bit
	TypeBoolean          Type = 0x06 // 64-bit, 0 or 1
	TypeTextString       Type = 0x07 // UTF-8
	TypeByteString       Type = 0x08 // opaque bytes
	TypeDateTime         Type = 0x09 // signed 64-bit POSIX seconds
	TypeInterval         Type = 0x0A // unsigned 32-bit seconds
	TypeDateTimeExtended Type = 0x0B // signed 64-bit POSIX microseconds (2.0)
)

var typeNames = [...]string{
	TypeStructure:        "Structure",
	TypeInteger:          "Integer",
	TypeLongInteger:      "LongInteger",
	TypeBigInteger:       "BigInteger",
	TypeEnumeration:      "Enumeration",
	TypeBoolean:          "Boolean",
	TypeTextString:       "TextString",
	TypeByteString:       "ByteString",
	TypeDateTime:         "DateTime",
	TypeInterval:         "Interval",
	TypeDateTimeExtended: "DateTimeExtended",
}

// Valid reports whether t is one of the item types above; the decoder
// rejects any other type byte.
func (t Type) Valid() bool { return t >= TypeStructure && t <= TypeDateTimeExtended }

// String returns the type's name, or its hex value for an unknown type byte,
// for diagnostics.
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(0x%02X)", byte(t))
}

// fixedLen returns the exact value length the specification requires for
// t, or -1 for the variable-length types.
func (t Type) fixedLen() int {
	switch t {
	case TypeInteger, TypeEnumeration, TypeInterval:
		return 4
	case TypeLongInteger, TypeBoolean, TypeDateTime, TypeDateTimeExtended:
		return 8
	}
	return -1
}

// HeaderSize is the size of the tag, type and length fields that precede
// every value.
const HeaderSize = 8

// padLen returns n rounded up to a multiple of 8, the size a value of n
// bytes occupies on the wire. n is at most 2^32-1, so the result fits.
func padLen(n uint64) uint64 { return (n + 7) &^ 7 }
