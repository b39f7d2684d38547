package ttlv

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

// Each getter answers only for its own type.
func TestGettersMatchTypeOnly(t *testing.T) {
	tm := time.Unix(1700000000, 0)
	items := []Item{
		Struct(TagAttributes),
		Int(TagCryptographicLength, -7),
		Long(TagUsageLimitsTotal, math.MinInt64),
		BigInt(TagModulus, big.NewInt(-300)),
		Enum(TagObjectType, ObjectTypeSecretData),
		Bool(TagFresh, true),
		Text(TagUniqueIdentifier, "id"),
		Bytes(TagData, []byte{9}),
		DateTime(TagInitialDate, tm),
		Interval(TagLeaseTime, math.MaxUint32),
		DateTimeExtended(TagInitialDate, tm),
	}
	for _, it := range items {
		typ := it.Type()
		check := func(getter string, ok bool, want Type, also ...Type) {
			t.Helper()
			expect := typ == want
			for _, a := range also {
				expect = expect || typ == a
			}
			if ok != expect {
				t.Errorf("%v: %s ok = %v, want %v", typ, getter, ok, expect)
			}
		}
		_, ok := it.Int()
		check("Int", ok, TypeInteger)
		_, ok = it.Long()
		check("Long", ok, TypeLongInteger)
		_, ok = it.BigInt()
		check("BigInt", ok, TypeBigInteger)
		_, ok = it.Enum()
		check("Enum", ok, TypeEnumeration)
		_, ok = it.Bool()
		check("Bool", ok, TypeBoolean)
		_, ok = it.Text()
		check("Text", ok, TypeTextString)
		_, ok = it.Bytes()
		check("Bytes", ok, TypeByteString)
		_, ok = it.Time()
		check("Time", ok, TypeDateTime, TypeDateTimeExtended)
		_, ok = it.Interval()
		check("Interval", ok, TypeInterval)
		if (it.Items() != nil) != (typ == TypeStructure && len(it.items) > 0) {
			t.Errorf("%v: Items() = %v", typ, it.Items())
		}
		// Every item survives the wire.
		b, err := Encode(it)
		if err != nil {
			t.Fatalf("%v: Encode: %v", typ, err)
		}
		back, err := Decode(b, Limits{})
		if err != nil || !back.Equal(it) {
			t.Errorf("%v: round trip = %v, %v", typ, back, err)
		}
	}
	if v, _ := items[1].Int(); v != -7 {
		t.Errorf("Int = %d", v)
	}
	if v, _ := items[2].Long(); v != math.MinInt64 {
		t.Errorf("Long = %d", v)
	}
	if v, _ := items[3].BigInt(); v.Int64() != -300 {
		t.Errorf("BigInt = %v", v)
	}
	if v, _ := items[4].Enum(); ObjectType(v) != ObjectTypeSecretData {
		t.Errorf("Enum = %d", v)
	}
	if v, _ := items[5].Bool(); !v {
		t.Error("Bool = false")
	}
	if v, _ := items[9].Interval(); v != math.MaxUint32 {
		t.Errorf("Interval = %d", v)
	}
	if v, _ := items[8].Time(); !v.Equal(tm) || v.Location() != time.UTC {
		t.Errorf("Time = %v", v)
	}
}

// BigInt copies in and out, so callers cannot change an item by accident.
func TestBigIntIsCopied(t *testing.T) {
	v := big.NewInt(5)
	it := BigInt(TagModulus, v)
	v.SetInt64(6)
	got, _ := it.BigInt()
	if got.Int64() != 5 {
		t.Fatalf("constructor kept the caller's big.Int: %v", got)
	}
	got.SetInt64(7)
	if again, _ := it.BigInt(); again.Int64() != 5 {
		t.Errorf("getter exposed the item's big.Int: %v", again)
	}
	if zero, _ := BigInt(TagModulus, nil).BigInt(); zero.Sign() != 0 {
		t.Errorf("BigInt(nil) = %v, want 0", zero)
	}
}

// Big Integers around every sign and 8-byte boundary encode minimally and
// decode back to the same value.
func TestBigIntBoundaries(t *testing.T) {
	var vals []*big.Int
	for _, bits := range []uint{0, 1, 7, 8, 62, 63, 64, 65, 127, 128, 2048} {
		p := new(big.Int).Lsh(big.NewInt(1), bits)
		for _, d := range []int64{-1, 0, 1} {
			v := new(big.Int).Add(p, big.NewInt(d))
			vals = append(vals, v, new(big.Int).Neg(v))
		}
	}
	for _, v := range vals {
		b, err := Encode(BigInt(TagModulus, v))
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		n := len(b) - HeaderSize
		// Minimal: the value must not fit in n-8 bytes of two's complement.
		if n > 8 {
			lim := new(big.Int).Lsh(big.NewInt(1), uint(8*(n-8)-1))
			if v.Cmp(lim) < 0 && v.Cmp(new(big.Int).Neg(lim)) >= 0 {
				t.Errorf("%v encoded in %d bytes, fits in %d", v, n, n-8)
			}
		}
		it, err := Decode(b, Limits{})
		if err != nil {
			t.Errorf("%v: Decode: %v", v, err)
			continue
		}
		if got, _ := it.BigInt(); got.Cmp(v) != 0 {
			t.Errorf("round trip %v -> %v", v, got)
		}
	}
}

func TestFind(t *testing.T) {
	msg := Struct(TagRequestMessage,
		Struct(TagRequestHeader,
			Struct(TagProtocolVersion, Int(TagProtocolVersionMajor, 1), Int(TagProtocolVersionMinor, 4)),
		),
		Struct(TagBatchItem, Enum(TagOperation, OperationGet)),
		Struct(TagBatchItem, Enum(TagOperation, OperationDestroy)),
	)
	if minor, ok := msg.Find(TagRequestHeader, TagProtocolVersion, TagProtocolVersionMinor); !ok {
		t.Error("path not found")
	} else if v, _ := minor.Int(); v != 4 {
		t.Errorf("minor = %d", v)
	}
	if self, ok := msg.Find(); !ok || !self.Equal(msg) {
		t.Error("empty path must return the item itself")
	}
	if _, ok := msg.Find(TagRequestHeader, TagBatchCount); ok {
		t.Error("found a missing item")
	}
	if _, ok := msg.Find(TagRequestHeader, TagProtocolVersion, TagProtocolVersionMinor, TagProtocolVersionMinor); ok {
		t.Error("descended into an Integer")
	}
	op, _ := msg.Find(TagBatchItem, TagOperation)
	if v, _ := op.Enum(); Operation(v) != OperationGet {
		t.Errorf("Find must take the first match, got %v", Operation(v))
	}
	items := msg.FindAll(TagBatchItem)
	if len(items) != 2 {
		t.Fatalf("FindAll = %d items", len(items))
	}
	if v, _ := mustFind(t, items[1], TagOperation).Enum(); Operation(v) != OperationDestroy {
		t.Errorf("second batch item = %v", Operation(v))
	}
	if got := Int(TagBatchCount, 1).FindAll(TagBatchCount); got != nil {
		t.Errorf("FindAll on a non-structure = %v", got)
	}
}

func TestEqual(t *testing.T) {
	a := Struct(TagName, Text(TagNameValue, "k"), Enum(TagNameType, NameTypeURI))
	same := Struct(TagName, Text(TagNameValue, "k"), Enum(TagNameType, NameTypeURI))
	if !a.Equal(same) {
		t.Error("equal structures differ")
	}
	for _, b := range []Item{
		Struct(TagName, Text(TagNameValue, "k")),
		Struct(TagName, Text(TagNameValue, "K"), Enum(TagNameType, NameTypeURI)),
		Struct(TagName, Text(TagNameValue, "k"), Enum(TagNameType, NameTypeUninterpretedTextString)),
		Struct(TagAttribute, Text(TagNameValue, "k"), Enum(TagNameType, NameTypeURI)),
	} {
		if a.Equal(b) {
			t.Errorf("%v equals %v", a, b)
		}
	}
	if Int(TagCryptographicLength, 1).Equal(Enum(TagCryptographicLength, uint32(1))) {
		t.Error("different types compare equal")
	}
	if BigInt(TagModulus, big.NewInt(1)).Equal(BigInt(TagModulus, big.NewInt(2))) {
		t.Error("different big integers compare equal")
	}
	if Bytes(TagData, []byte{1}).Equal(Bytes(TagData, []byte{2})) {
		t.Error("different byte strings compare equal")
	}
}

func TestEncodeInvalid(t *testing.T) {
	good := Int(TagBatchCount, 1)
	cases := map[string]Item{
		"zero item":           {},
		"tag over 3 bytes":    Int(0x1420001, 1),
		"invalid UTF-8":       Text(TagNameValue, "a\xffb"),
		"bad child":           Struct(TagRequestMessage, good, Item{}),
		"bad grandchild text": Struct(TagRequestMessage, Struct(TagName, Text(TagNameValue, "\xc3"))),
	}
	for name, it := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Encode(it); !errors.Is(err, ErrInvalidItem) {
				t.Errorf("Encode err = %v, want ErrInvalidItem", err)
			}
			prefix := []byte("keep")
			out, err := Append(prefix, it)
			if err == nil || !bytes.Equal(out, prefix) {
				t.Errorf("Append = %q, %v; want the prefix back and an error", out, err)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	one, _ := Encode(Int(TagBatchCount, 1))
	two, _ := Encode(Text(TagUniqueIdentifier, "abc"))
	buf, err := Append(nil, Int(TagBatchCount, 1))
	if err != nil {
		t.Fatal(err)
	}
	buf, err = Append(buf, Text(TagUniqueIdentifier, "abc"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, cat(one, two)) {
		t.Errorf("Append = %x", buf)
	}
}

// Padding is computed from the value length for every remainder mod 8.
func TestVariableLengthPadding(t *testing.T) {
	for n := range 18 {
		val := bytes.Repeat([]byte{'x'}, n)
		for _, it := range []Item{Text(TagDescription, string(val)), Bytes(TagData, val)} {
			b, err := Encode(it)
			if err != nil {
				t.Fatal(err)
			}
			if want := HeaderSize + (n+7)/8*8; len(b) != want {
				t.Errorf("%v of %d bytes encodes to %d bytes, want %d", it.Type(), n, len(b), want)
			}
			if back, err := Decode(b, Limits{}); err != nil || !back.Equal(it) {
				t.Errorf("%v of %d bytes: round trip %v", it.Type(), n, err)
			}
		}
	}
}

func TestStringRedactsSecrets(t *testing.T) {
	key := []byte("0123456789abcdef-KEYBYTES")
	modulus, _ := new(big.Int).SetString("C0FFEE0123456789ABCDEF0123456789", 16)
	msg := Struct(TagRequestMessage,
		Struct(TagCredentialValue,
			Text(TagUsername, "alice"),
			Text(TagPassword, "hunter2-password"),
		),
		Text(TagOneTimePassword, "918273"),
		Bytes(TagKeyMaterial, key),
		BigInt(TagModulus, modulus),
		Text(TagDescription, "line1\nforged log line"),
		Int(TagCryptographicUsageMask, int32(CryptographicUsageMaskSign|CryptographicUsageMaskVerify)),
		Enum(TagOperation, OperationSignatureVerify),
		Enum(TagCryptographicAlgorithm, CryptographicAlgorithm(0x80000001)),
		Enum(0x540001, uint32(3)),
		DateTime(TagActivationDate, time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)),
		Interval(TagLeaseTime, 60),
		Bool(TagFresh, false),
	)
	s := msg.String()
	for _, leak := range []string{"hunter2", "918273", "KEYBYTES", "0123456789abcdef", "c0ffee", "C0FFEE",
		modulus.String(), "\nforged"} {
		if strings.Contains(s, leak) {
			t.Errorf("String() leaks %q:\n%s", leak, s)
		}
	}
	for _, want := range []string{
		"RequestMessage (Structure)",
		"\n  CredentialValue (Structure)\n    Username (TextString): \"alice\"",
		"Password (TextString): <redacted, 16 bytes>",
		"OneTimePassword (TextString): <redacted, 6 bytes>",
		"KeyMaterial (ByteString): <25 bytes>",
		"Modulus (BigInteger): <24 bytes>",
		`Description (TextString): "line1\nforged log line"`,
		"CryptographicUsageMask (Integer): 3 (Sign|Verify)",
		"Operation (Enumeration): SignatureVerify",
		"CryptographicAlgorithm (Enumeration): 0x80000001",
		"0x540001 (Enumeration): 0x00000003",
		"ActivationDate (DateTime): 2024-02-29T12:00:00Z",
		"LeaseTime (Interval): 60s",
		"Fresh (Boolean): false",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
}
