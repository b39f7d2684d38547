package ttlv

import (
	"encoding/binary"
	"math/big"
	"unicode/utf8"
)

// Defaults used for the zero fields of [Limits].
const (
	// DefaultMaxDepth bounds nesting; real requests nest fewer than 10 deep.
	DefaultMaxDepth = 32
	// DefaultMaxItems bounds the number of items in one message.
	DefaultMaxItems = 10000
	// DefaultMaxSize bounds the encoded size of one message, header
	// included.
	DefaultMaxSize = 1 << 20
)

// Limits bounds the work [Decode] and [ReadMessage] do for one message, so
// that a hostile peer cannot make the server allocate or recurse without
// bound. A zero or negative field means the matching Default constant.
type Limits struct {
	// MaxDepth is the deepest nesting accepted: the top-level item is at
	// depth 1, its children at depth 2, and so on.
	MaxDepth int
	// MaxItems is the most items accepted, counting every item at every
	// depth, the top-level one included.
	MaxItems int
	// MaxSize is the largest input accepted, in bytes.
	MaxSize int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultMaxItems
	}
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	return l
}

// Decode parses b, which must hold exactly one TTLV item (typically a
// whole request or response message) and nothing after it.
//
// Decoding is strict: every declared length is checked against the bytes
// that remain before anything is allocated; fixed-size types must have
// their exact length; padding must be zero; Booleans must be 0 or 1; Big
// Integers must be a positive multiple of 8 bytes with minimal sign
// padding; Text Strings must be valid UTF-8; Structure lengths must be the
// sum of their children; the item type must be known; tags must be either
// [Known] or in the 0x54XXXX extension range. As a result, [Encode] of the
// returned item reproduces b exactly.
//
// Every error wraps [ErrMalformed] and is a *[DecodeError]; those caused by
// lim also wrap [ErrLimit]. The returned item shares no memory with b.
func Decode(b []byte, lim Limits) (Item, error) {
	lim = lim.withDefaults()
	if len(b) > lim.MaxSize {
		return Item{}, overLimit(0, 0, "input is %d bytes, more than the limit of %d", len(b), lim.MaxSize)
	}
	d := decoder{b: b, lim: lim}
	var it Item
	next, err := d.item(&it, 0, len(b), 1)
	if err != nil {
		return Item{}, err
	}
	if next != len(b) {
		return Item{}, malformed(next, 0, "%d trailing bytes after the item", len(b)-next)
	}
	return it, nil
}

type decoder struct {
	b     []byte
	lim   Limits
	items int // items seen so far
}

// item decodes into it the item whose header starts at off and which must
// end at or before end, and returns the offset just past it. Decoding in
// place spares copying items up through the recursion.
func (d *decoder) item(it *Item, off, end, depth int) (int, error) {
	if end-off < HeaderSize {
		return 0, malformed(off, 0, "truncated item header: %d bytes left, need %d", end-off, HeaderSize)
	}
	h := d.b[off : off+HeaderSize]
	tag := Tag(h[0])<<16 | Tag(h[1])<<8 | Tag(h[2])
	typ := Type(h[3])
	n := uint64(binary.BigEndian.Uint32(h[4:]))

	d.items++
	if d.items > d.lim.MaxItems {
		return 0, overLimit(off, tag, "more than %d items", d.lim.MaxItems)
	}
	if depth > d.lim.MaxDepth {
		return 0, overLimit(off, tag, "nesting deeper than %d", d.lim.MaxDepth)
	}
	if !Known(tag) && !tag.IsExtension() {
		return 0, malformed(off, tag, "unknown tag")
	}
	if !typ.Valid() {
		return 0, malformed(off, tag, "unknown item type 0x%02X", byte(typ))
	}
	if want := typ.fixedLen(); want >= 0 && n != uint64(want) {
		return 0, malformed(off, tag, "%s length is %d, must be %d", typ, n, want)
	}
	if typ == TypeStructure && n%8 != 0 {
		return 0, malformed(off, tag, "structure length %d is not a multiple of 8", n)
	}
	vstart := off + HeaderSize
	padded := padLen(n)
	if padded > uint64(end-vstart) {
		return 0, malformed(off, tag, "value of %d bytes (%d padded) overruns the %d bytes left", n, padded, end-vstart)
	}
	vend := vstart + int(n)
	next := vstart + int(padded)
	for _, p := range d.b[vend:next] {
		if p != 0 {
			return 0, malformed(off, tag, "non-zero padding")
		}
	}
	v := d.b[vstart:vend]
	*it = Item{tag: tag, typ: typ}

	switch typ {
	case TypeStructure:
		kids, err := d.children(vstart, vend, depth+1)
		if err != nil {
			return 0, err
		}
		it.items = kids

	case TypeInteger, TypeEnumeration, TypeInterval:
		it.num = uint64(binary.BigEndian.Uint32(v))

	case TypeLongInteger, TypeDateTime, TypeDateTimeExtended:
		it.num = binary.BigEndian.Uint64(v)

	case TypeBoolean:
		it.num = binary.BigEndian.Uint64(v)
		if it.num > 1 {
			return 0, malformed(off, tag, "boolean value is neither 0 nor 1")
		}

	case TypeBigInteger:
		if n == 0 || n%8 != 0 {
			return 0, malformed(off, tag, "big integer length %d is not a positive multiple of 8", n)
		}
		if !minimalBig(v) {
			return 0, malformed(off, tag, "big integer has more than the minimal sign padding")
		}
		it.big = parseBig(v)

	case TypeTextString:
		if !utf8.Valid(v) {
			return 0, malformed(off, tag, "text string of %d bytes is not valid UTF-8", n)
		}
		it.text = string(v)

	case TypeByteString:
		if n > 0 {
			it.bytes = append([]byte(nil), v...)
		}
	}
	return next, nil
}

// children decodes the items that exactly fill b[start:end].
func (d *decoder) children(start, end, depth int) ([]Item, error) {
	if start == end {
		return nil, nil
	}
	kids := make([]Item, 0, d.countHint(start, end))
	for off := start; off < end; {
		kids = append(kids, Item{})
		next, err := d.item(&kids[len(kids)-1], off, end, depth)
		if err != nil {
			return nil, err
		}
		off = next
	}
	return kids, nil
}

// countHint estimates how many items fill b[start:end] by walking their
// headers only, so the children slice is allocated once. It is a hint: the
// walk stops at the first header that does not fit, and the result never
// exceeds what the input size and the item limit allow.
func (d *decoder) countHint(start, end int) int {
	count := 0
	limit := d.lim.MaxItems - d.items + 1
	for off := start; end-off >= HeaderSize && count < limit; count++ {
		n := padLen(uint64(binary.BigEndian.Uint32(d.b[off+4:])))
		if n > uint64(end-off-HeaderSize) {
			count++
			break
		}
		off += HeaderSize + int(n)
	}
	return count
}

// minimalBig reports whether the two's complement value v (a non-empty
// multiple of 8 bytes) carries no more sign padding than needed: dropping
// its first 8 bytes would change the value.
func minimalBig(v []byte) bool {
	if len(v) <= 8 {
		return true
	}
	var sign byte
	if v[8]&0x80 != 0 {
		sign = 0xFF
	}
	for _, c := range v[:8] {
		if c != sign {
			return true
		}
	}
	return false
}

// parseBig converts a big-endian two's complement value to a big.Int.
func parseBig(v []byte) *big.Int {
	x := new(big.Int).SetBytes(v)
	if len(v) > 0 && v[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
	}
	return x
}
