package ttlv

import "testing"

// A typical request: the 1.4 AES-GCM Encrypt from PyKMIP, 280 bytes, 17
// items.

func BenchmarkDecode(b *testing.B) {
	wire := loadHex(b, "encrypt_aes_gcm_1_4.hex")
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(wire, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	wire := loadHex(b, "encrypt_aes_gcm_1_4.hex")
	msg, err := Decode(wire, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, len(wire))
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = Append(buf[:0], msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadMessage(b *testing.B) {
	wire := loadHex(b, "encrypt_aes_gcm_1_4.hex")
	r := &loopReader{data: wire}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		r.off = 0
		if _, err := ReadMessage(r, 0); err != nil {
			b.Fatal(err)
		}
	}
}

type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}
