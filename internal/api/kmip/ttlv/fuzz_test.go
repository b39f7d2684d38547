package ttlv

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that any input is either rejected cleanly (an error
// wrapping ErrMalformed, with an offset inside the input) or decoded to an
// item whose encoding is the input itself: the decoder accepts only
// canonical encodings. Decoded messages must also print without panicking
// and frame identically through ReadMessage, which must never consume more
// than the message it returns.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.hex"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no golden vectors: %v", err)
	}
	for _, name := range files {
		f.Add(loadHex(f, filepath.Base(name)))
	}
	for _, s := range []string{
		"42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00",
		"42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00",
		"42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01",
		"42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00",
		"42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8",
		"42 00 20 | 0B | 00 00 00 08 | 00 04 48 64 5C F1 D0 40",
		"42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 |" +
			" 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
		"54 00 01 | 08 | 00 00 00 00",
	} {
		f.Add(fromSpec(f, s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Framing never reads past the message it returns.
		r := bytes.NewReader(in)
		if framed, err := ReadMessage(r, 1<<16); err == nil {
			if !bytes.HasPrefix(in, framed) || r.Len() != len(in)-len(framed) {
				t.Fatalf("ReadMessage returned %d bytes and consumed %d", len(framed), len(in)-r.Len())
			}
		}

		it, err := Decode(in, Limits{MaxSize: 1 << 16})
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(in) {
				t.Fatalf("bad DecodeError %#v", err)
			}
			return
		}
		out, err := Encode(it)
		if err != nil {
			t.Fatalf("Encode of a decoded item: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("not canonical:\n in  %x\n out %x", in, out)
		}
		_ = it.String()
		if it.Type() == TypeStructure {
			framed, err := ReadMessage(bytes.NewReader(in), len(in))
			if err != nil || !bytes.Equal(framed, in) {
				t.Fatalf("ReadMessage disagrees with Decode: %d bytes, %v", len(framed), err)
			}
		}
	})
}
