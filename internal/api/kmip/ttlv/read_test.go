package ttlv

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

// failReader fails the test if anything reads from it.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("ReadMessage read past the header of a message it had to refuse")
	return 0, io.EOF
}

func TestReadMessageSequence(t *testing.T) {
	m1 := loadHex(t, "create_aes256_1_2.hex")
	m2 := loadHex(t, "discover_versions_1_2.hex")
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"plain":         func(r io.Reader) io.Reader { return r },
		"one byte":      iotest.OneByteReader,
		"half":          iotest.HalfReader,
		"data with EOF": iotest.DataErrReader,
	} {
		t.Run(name, func(t *testing.T) {
			r := wrap(bytes.NewReader(cat(m1, m2)))
			for i, want := range [][]byte{m1, m2} {
				got, err := ReadMessage(r, 0)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("message %d differs", i)
				}
			}
			if _, err := ReadMessage(r, 0); err != io.EOF {
				t.Errorf("after the last message: err = %v, want io.EOF", err)
			}
		})
	}
}

// ReadMessage consumes exactly one message and not a byte more.
func TestReadMessageDoesNotOverRead(t *testing.T) {
	msg := loadHex(t, "encrypt_aes_gcm_1_4.hex")
	trailer := []byte("next message starts here")
	r := bytes.NewReader(cat(msg, trailer))
	if _, err := ReadMessage(r, 0); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if !bytes.Equal(rest, trailer) {
		t.Errorf("left %q unread, want %q", rest, trailer)
	}
}

func TestReadMessageRefusals(t *testing.T) {
	cases := []struct {
		name    string
		header  []byte
		maxSize int
		limit   bool
	}{
		{"declared 4 GiB", raw(0x420078, 0x01, 0xFFFFFFF8), 0, true},
		{"one byte over maxSize", raw(0x420078, 0x01, 24), 31, true},
		{"over the default size", raw(0x420078, 0x01, DefaultMaxSize), 0, true},
		{"integer at top level", raw(0x420078, 0x02, 4), 0, false},
		{"byte string at top level", raw(0x420078, 0x08, 16), 0, false},
		{"length not a multiple of 8", raw(0x420078, 0x01, 12), 0, false},
		{"unknown tag", raw(0x42FFFF, 0x01, 8), 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := io.MultiReader(bytes.NewReader(tc.header), failReader{t})
			got, err := ReadMessage(r, tc.maxSize)
			if err == nil {
				t.Fatalf("accepted: %d bytes", len(got))
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v does not wrap ErrMalformed", err)
			}
			if errors.Is(err, ErrLimit) != tc.limit {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v", !tc.limit, tc.limit)
			}
		})
	}
}

func TestReadMessageMaxSizeInclusive(t *testing.T) {
	msg := loadHex(t, "create_aes256_2_0.hex")
	if _, err := ReadMessage(bytes.NewReader(msg), len(msg)); err != nil {
		t.Errorf("maxSize = message size: %v", err)
	}
	if _, err := ReadMessage(bytes.NewReader(msg), len(msg)-1); !errors.Is(err, ErrLimit) {
		t.Errorf("maxSize = message size - 1: err = %v", err)
	}
}

func TestReadMessageStreamErrors(t *testing.T) {
	msg := loadHex(t, "create_aes256_2_0.hex")
	if _, err := ReadMessage(bytes.NewReader(nil), 0); err != io.EOF {
		t.Errorf("empty stream: err = %v, want io.EOF", err)
	}
	for _, n := range []int{1, 7} {
		_, err := ReadMessage(bytes.NewReader(msg[:n]), 0)
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrMalformed) {
			t.Errorf("stream cut after %d header bytes: err = %v", n, err)
		}
	}
	for _, n := range []int{8, 9, len(msg) - 1} {
		_, err := ReadMessage(bytes.NewReader(msg[:n]), 0)
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrMalformed) {
			t.Errorf("stream cut after %d bytes: err = %v", n, err)
		}
	}
	boom := errors.New("connection reset")
	_, err := ReadMessage(io.MultiReader(bytes.NewReader(msg[:20]), iotest.ErrReader(boom)), 0)
	if !errors.Is(err, boom) {
		t.Errorf("read error: err = %v, want it wrapped", err)
	}
}

// A message larger than the read chunk is assembled correctly.
func TestReadMessageLarge(t *testing.T) {
	payload := bytes.Repeat([]byte{0xA5}, 3*readChunk+5)
	msg, err := Encode(Struct(TagRequestMessage, Bytes(TagData, payload)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMessage(iotest.HalfReader(bytes.NewReader(msg)), 4*readChunk)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Error("large message differs")
	}
}

// A peer that declares a large message and sends little of it costs about
// what it sent, not what it declared.
func TestReadMessageAllocatesAsDataArrives(t *testing.T) {
	const declared = 8 << 20
	stream := cat(raw(0x420078, 0x01, declared), make([]byte, 1000))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ReadMessage(bytes.NewReader(stream), 2*declared)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > declared/8 {
		t.Errorf("allocated %d bytes for a stalled %d-byte message", grew, declared)
	}
}
