package ttlv

import (
	"bytes"
	"math/big"
	"time"
)

// Item is one TTLV item: a tag, an item type and a value of that type.
//
// Items are values built by the constructors ([Struct], [Int], [Long],
// [BigInt], [Enum], [Bool], [Text], [Bytes], [DateTime], [DateTimeExtended],
// [Interval]) or returned by [Decode]. Their fields are
// unexported so that the type and the value cannot disagree; the typed
// getters return ok=false when asked for a value of another type, which lets
// a server turn a client's wrong type into a KMIP error instead of a panic.
//
// The zero Item has no valid type; [Encode] rejects it. Slices held by an
// Item (Byte String contents, Structure children) are shared, not copied,
// by the constructors and getters: treat them as read-only.
type Item struct {
	tag   Tag
	typ   Type
	num   uint64   // Integer, LongInteger, Enumeration, Boolean, DateTime, DateTimeExtended, Interval (raw bits)
	text  string   // TextString
	bytes []byte   // ByteString
	big   *big.Int // BigInteger, never nil for that type, never shared
	items []Item   // Structure
}

// Struct returns a Structure item holding items in order. The slice is
// retained, not copied.
func Struct(tag Tag, items ...Item) Item {
	return Item{tag: tag, typ: TypeStructure, items: items}
}

// Int returns an Integer item (signed 32-bit). Bit masks such as
// Cryptographic Usage Mask are Integers too: pass int32(mask).
func Int(tag Tag, v int32) Item {
	return Item{tag: tag, typ: TypeInteger, num: uint64(uint32(v))}
}

// Long returns a Long Integer item (signed 64-bit).
func Long(tag Tag, v int64) Item {
	return Item{tag: tag, typ: TypeLongInteger, num: uint64(v)}
}

// BigInt returns a Big Integer item holding a copy of v; nil means zero.
func BigInt(tag Tag, v *big.Int) Item {
	c := new(big.Int)
	if v != nil {
		c.Set(v)
	}
	return Item{tag: tag, typ: TypeBigInteger, big: c}
}

// Enum returns an Enumeration item. It accepts the typed enumeration
// constants of this package (e.g. Enum(TagOperation, OperationCreate)) as
// well as plain uint32 values for extensions.
func Enum[E ~uint32](tag Tag, v E) Item {
	return Item{tag: tag, typ: TypeEnumeration, num: uint64(v)}
}

// Bool returns a Boolean item.
func Bool(tag Tag, v bool) Item {
	it := Item{tag: tag, typ: TypeBoolean}
	if v {
		it.num = 1
	}
	return it
}

// Text returns a Text String item. s must be valid UTF-8 for [Encode] to
// accept the item.
func Text(tag Tag, s string) Item {
	return Item{tag: tag, typ: TypeTextString, text: s}
}

// Bytes returns a Byte String item. b is retained, not copied.
func Bytes(tag Tag, b []byte) Item {
	return Item{tag: tag, typ: TypeByteString, bytes: b}
}

// DateTime returns a Date-Time item. The wire format holds whole POSIX
// seconds, so any fraction of a second in t is dropped.
func DateTime(tag Tag, t time.Time) Item {
	return Item{tag: tag, typ: TypeDateTime, num: uint64(t.Unix())}
}

// DateTimeExtended returns a KMIP 2.0 Date-Time Extended item, which holds
// POSIX microseconds; anything finer in t is dropped.
func DateTimeExtended(tag Tag, t time.Time) Item {
	return Item{tag: tag, typ: TypeDateTimeExtended, num: uint64(t.UnixMicro())}
}

// Interval returns an Interval item: a duration in whole seconds, as the
// specification defines it.
func Interval(tag Tag, seconds uint32) Item {
	return Item{tag: tag, typ: TypeInterval, num: uint64(seconds)}
}

// Tag returns the item's tag.
func (it Item) Tag() Tag { return it.tag }

// Type returns the item's type; it is 0 (invalid) for the zero Item.
func (it Item) Type() Type { return it.typ }

// Int returns the value of an Integer item.
func (it Item) Int() (int32, bool) {
	if it.typ != TypeInteger {
		return 0, false
	}
	return int32(uint32(it.num)), true
}

// Long returns the value of a Long Integer item.
func (it Item) Long() (int64, bool) {
	if it.typ != TypeLongInteger {
		return 0, false
	}
	return int64(it.num), true
}

// BigInt returns a copy of the value of a Big Integer item.
func (it Item) BigInt() (*big.Int, bool) {
	if it.typ != TypeBigInteger {
		return nil, false
	}
	return new(big.Int).Set(it.big), true
}

// Enum returns the value of an Enumeration item; convert it to the
// enumeration type the tag implies, e.g. Operation(v).
func (it Item) Enum() (uint32, bool) {
	if it.typ != TypeEnumeration {
		return 0, false
	}
	return uint32(it.num), true
}

// Bool returns the value of a Boolean item.
func (it Item) Bool() (bool, bool) {
	if it.typ != TypeBoolean {
		return false, false
	}
	return it.num == 1, true
}

// Text returns the value of a Text String item.
func (it Item) Text() (string, bool) {
	if it.typ != TypeTextString {
		return "", false
	}
	return it.text, true
}

// Bytes returns the value of a Byte String item. The slice is shared with
// the item; do not modify it.
func (it Item) Bytes() ([]byte, bool) {
	if it.typ != TypeByteString {
		return nil, false
	}
	return it.bytes, true
}

// Time returns the value of a Date-Time or Date-Time Extended item, in UTC.
func (it Item) Time() (time.Time, bool) {
	switch it.typ {
	case TypeDateTime:
		return time.Unix(int64(it.num), 0).UTC(), true
	case TypeDateTimeExtended:
		return time.UnixMicro(int64(it.num)).UTC(), true
	}
	return time.Time{}, false
}

// Interval returns the value, in seconds, of an Interval item.
func (it Item) Interval() (uint32, bool) {
	if it.typ != TypeInterval {
		return 0, false
	}
	return uint32(it.num), true
}

// Items returns the children of a Structure item in wire order, or nil for
// any other type. The slice is shared with the item; do not modify it.
func (it Item) Items() []Item {
	if it.typ != TypeStructure {
		return nil
	}
	return it.items
}

// Find follows path from it: the first child tagged path[0], then that
// child's first child tagged path[1], and so on. It returns ok=false when a
// step is missing or an intermediate item is not a Structure. With an empty
// path it returns it itself.
//
//	major, ok := msg.Find(TagRequestHeader, TagProtocolVersion, TagProtocolVersionMajor)
func (it Item) Find(path ...Tag) (Item, bool) {
	cur := it
	for _, tag := range path {
		next, ok := cur.first(tag)
		if !ok {
			return Item{}, false
		}
		cur = next
	}
	return cur, true
}

func (it Item) first(tag Tag) (Item, bool) {
	for _, c := range it.Items() {
		if c.tag == tag {
			return c, true
		}
	}
	return Item{}, false
}

// FindAll returns every direct child of a Structure item that has the given
// tag, in wire order; KMIP repeats tags for lists such as Batch Item or
// Attribute.
func (it Item) FindAll(tag Tag) []Item {
	var out []Item
	for _, c := range it.Items() {
		if c.tag == tag {
			out = append(out, c)
		}
	}
	return out
}

// Equal reports whether it and o have the same tag, type and value,
// comparing Structures child by child.
func (it Item) Equal(o Item) bool {
	if it.tag != o.tag || it.typ != o.typ || it.num != o.num || it.text != o.text {
		return false
	}
	if !bytes.Equal(it.bytes, o.bytes) {
		return false
	}
	if (it.big == nil) != (o.big == nil) || (it.big != nil && it.big.Cmp(o.big) != 0) {
		return false
	}
	if len(it.items) != len(o.items) {
		return false
	}
	for i := range it.items {
		if !it.items[i].Equal(o.items[i]) {
			return false
		}
	}
	return true
}
