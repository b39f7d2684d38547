package ttlv

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"
)

// fromSpec turns hex written the way the specification prints it
// ("42 00 20 | 02 | ...") into bytes.
func fromSpec(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

// The examples of the specification's "TTLV encoding examples" section
// (identical in 1.2, 1.3, 1.4 and 2.0). All use tag 0x420020 (Compromise
// Date) regardless of the type, as the specification does.
func TestSpecExamples(t *testing.T) {
	spec, _ := new(big.Int).SetString("1234567890000000000000000000", 10)
	cases := []struct {
		name string
		item Item
		wire string
	}{
		{"Integer 8", Int(0x420020, 8),
			"42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"},
		{"LongInteger 123456789000000000", Long(0x420020, 123456789000000000),
			"42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00"},
		{"BigInteger 1234567890000000000000000000", BigInt(0x420020, spec),
			"42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00"},
		{"Enumeration 255", Enum(0x420020, uint32(255)),
			"42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00"},
		{"Boolean true", Bool(0x420020, true),
			"42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01"},
		{"TextString Hello World", Text(0x420020, "Hello World"),
			"42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00"},
		{"ByteString 010203", Bytes(0x420020, []byte{1, 2, 3}),
			"42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00"},
		{"DateTime 2008-03-14 11:56:40 GMT", DateTime(0x420020, time.Date(2008, 3, 14, 11, 56, 40, 0, time.UTC)),
			"42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8"},
		{"Interval 10 days", Interval(0x420020, 10*24*60*60),
			"42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00"},
		{"Structure of Enumeration 254 and Integer 255",
			Struct(0x420020, Enum(0x420004, uint32(254)), Int(0x420005, 255)),
			"42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 |" +
				" 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := fromSpec(t, tc.wire)
			got, err := Encode(tc.item)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Encode:\n got %X\nwant %X", got, want)
			}
			dec, err := Decode(want, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !dec.Equal(tc.item) {
				t.Errorf("Decode:\n got %v\nwant %v", dec, tc.item)
			}
		})
	}
}

// The decoded values themselves, not only Equal, for the scalar examples.
func TestSpecExampleValues(t *testing.T) {
	dec := func(s string) Item {
		t.Helper()
		it, err := Decode(fromSpec(t, s), Limits{})
		if err != nil {
			t.Fatalf("Decode(%s): %v", s, err)
		}
		return it
	}
	if v, ok := dec("42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00").Long(); !ok || v != 123456789000000000 {
		t.Errorf("LongInteger = %d, %v", v, ok)
	}
	if v, ok := dec("42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00").BigInt(); !ok ||
		v.String() != "1234567890000000000000000000" {
		t.Errorf("BigInteger = %v, %v", v, ok)
	}
	if v, ok := dec("42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8").Time(); !ok ||
		!v.Equal(time.Date(2008, time.March, 14, 11, 56, 40, 0, time.UTC)) || v.Weekday() != time.Friday {
		t.Errorf("DateTime = %v, %v", v, ok)
	}
	if v, ok := dec("42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00").Interval(); !ok ||
		time.Duration(v)*time.Second != 10*24*time.Hour {
		t.Errorf("Interval = %d, %v", v, ok)
	}
	if v, ok := dec("42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00").Text(); !ok ||
		v != "Hello World" {
		t.Errorf("TextString = %q, %v", v, ok)
	}
	s := dec("42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 |" +
		" 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00")
	if e, ok := s.Find(0x420004); !ok {
		t.Error("structure: no 0x420004 child")
	} else if v, _ := e.Enum(); v != 254 {
		t.Errorf("structure enumeration = %d, want 254", v)
	}
	if i, ok := s.Find(0x420005); !ok {
		t.Error("structure: no 0x420005 child")
	} else if v, _ := i.Int(); v != 255 {
		t.Errorf("structure integer = %d, want 255", v)
	}
}

// DateTimeExtended (2.0) has no example in the specification; check the
// layout it defines: 8 bytes of signed POSIX microseconds.
func TestDateTimeExtended(t *testing.T) {
	tm := time.Date(2008, 3, 14, 11, 56, 40, 123456789, time.UTC)
	got, err := Encode(DateTimeExtended(TagCompromiseDate, tm))
	if err != nil {
		t.Fatal(err)
	}
	// 1205495800123456 µs = 0x000448645CF1D040
	want := fromSpec(t, "42 00 20 | 0B | 00 00 00 08 | 00 04 48 64 5C F1 D0 40")
	if !bytes.Equal(got, want) {
		t.Fatalf("got %X want %X", got, want)
	}
	it, err := Decode(want, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	back, ok := it.Time()
	if !ok || !back.Equal(tm.Truncate(time.Microsecond)) {
		t.Errorf("Time() = %v, %v", back, ok)
	}
}
