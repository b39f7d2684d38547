package ttlv

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"unicode/utf8"
)

// Encode returns the canonical TTLV encoding of it: big-endian, every value
// zero-padded to a multiple of 8 bytes, each Structure's length the sum of
// its encoded children, Big Integers in minimal two's complement. It fails,
// wrapping [ErrInvalidItem], only if some item cannot be represented.
//
// Encode does not consult the tag registry: any 3-byte tag is written.
func Encode(it Item) ([]byte, error) {
	return Append(nil, it)
}

// Append appends the encoding of it to dst and returns the extended slice,
// like [Encode]. On error it returns dst unchanged.
func Append(dst []byte, it Item) ([]byte, error) {
	out, err := appendItem(dst, it)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendItem(dst []byte, it Item) ([]byte, error) {
	if it.tag > MaxTag {
		return nil, encodeError(it, "tag does not fit in 3 bytes")
	}
	if !it.typ.Valid() {
		return nil, encodeError(it, "item type "+it.typ.String()+" is not valid (zero Item?)")
	}
	start := len(dst)
	dst = append(dst, byte(it.tag>>16), byte(it.tag>>8), byte(it.tag), byte(it.typ), 0, 0, 0, 0)

	switch it.typ {
	case TypeStructure:
		for _, c := range it.items {
			var err error
			if dst, err = appendItem(dst, c); err != nil {
				return nil, err
			}
		}
		n := len(dst) - start - HeaderSize
		if uint64(n) > math.MaxUint32 {
			return nil, encodeError(it, "structure longer than 2^32-1 bytes")
		}
		binary.BigEndian.PutUint32(dst[start+4:], uint32(n))
		return dst, nil

	case TypeInteger, TypeEnumeration, TypeInterval:
		putLen(dst, start, 4)
		dst = binary.BigEndian.AppendUint32(dst, uint32(it.num))
		return append(dst, 0, 0, 0, 0), nil

	case TypeLongInteger, TypeBoolean, TypeDateTime, TypeDateTimeExtended:
		putLen(dst, start, 8)
		return binary.BigEndian.AppendUint64(dst, it.num), nil

	case TypeBigInteger:
		x := it.big
		if x == nil {
			x = new(big.Int)
		}
		n := bigLen(x)
		if uint64(n) > math.MaxUint32 {
			return nil, encodeError(it, "big integer longer than 2^32-1 bytes")
		}
		putLen(dst, start, uint32(n))
		return appendBig(dst, x, n), nil

	case TypeTextString:
		if !utf8.ValidString(it.text) {
			return nil, encodeError(it, "text is not valid UTF-8")
		}
		return appendPadded(dst, start, it, it.text)

	case TypeByteString:
		return appendPadded(dst, start, it, it.bytes)
	}
	panic("unreachable: type validated above")
}

// appendPadded writes the length and a variable-length value followed by
// zero padding.
func appendPadded[S string | []byte](dst []byte, start int, it Item, v S) ([]byte, error) {
	if uint64(len(v)) > math.MaxUint32 {
		return nil, encodeError(it, "value longer than 2^32-1 bytes")
	}
	putLen(dst, start, uint32(len(v)))
	dst = append(dst, v...)
	var zeros [8]byte
	return append(dst, zeros[:padLen(uint64(len(v)))-uint64(len(v))]...), nil
}

func putLen(dst []byte, start int, n uint32) {
	binary.BigEndian.PutUint32(dst[start+4:], n)
}

// bigLen returns the length of the canonical encoding of x: its minimal
// two's complement form (at least one byte, so zero is one 0x00 byte),
// padded with sign bytes to a multiple of 8.
func bigLen(x *big.Int) int {
	bits := x.BitLen()
	if x.Sign() < 0 {
		// -x-1 has the same bit length as the magnitude bits of x's
		// two's complement form (e.g. -2^63 needs only 63 bits plus sign).
		bits = new(big.Int).Not(x).BitLen()
	}
	return int(padLen(uint64(bits/8 + 1))) // +1 bit for the sign, rounded up to bytes
}

// appendBig appends x in two's complement, big-endian, in exactly n bytes;
// n must be at least bigLen(x).
func appendBig(dst []byte, x *big.Int, n int) []byte {
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:] // FillBytes below overwrites every byte
	if x.Sign() >= 0 {
		x.FillBytes(out)
		return dst
	}
	// Two's complement of a negative x is the bitwise complement of -x-1.
	new(big.Int).Not(x).FillBytes(out)
	for i := range out {
		out[i] = ^out[i]
	}
	return dst
}

func encodeError(it Item, reason string) error {
	return fmt.Errorf("%w: %s (%s): %s", ErrInvalidItem, it.tag, it.typ, reason)
}
