package crypto_test

import (
	"testing"

	"github.com/arcakms/arca/internal/crypto"
)

const benchSize = 1 << 10

func BenchmarkSeal(b *testing.B) {
	for _, alg := range symmetricAlgorithms() {
		b.Run(string(alg)+"/1KiB", func(b *testing.B) {
			k := newKey(b, alg, idA, 1, 1)
			pt := pattern(benchSize)
			bd := sampleBinding()
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Seal(pt, bd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, alg := range symmetricAlgorithms() {
		b.Run(string(alg)+"/1KiB", func(b *testing.B) {
			k := newKey(b, alg, idA, 1, 1)
			bd := sampleBinding()
			c := seal(b, k, pattern(benchSize), bd)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Open(c, bd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// dataKeySize is the plaintext of the asymmetric benchmarks: asymmetric keys
// carry data keys.
const dataKeySize = 32

// BenchmarkSealAsymmetric encrypts a data key to an asymmetric key version,
// as a client does offline with the public key alone.
func BenchmarkSealAsymmetric(b *testing.B) {
	for _, alg := range asymmetricAlgorithms() {
		b.Run(string(alg)+"/32B", func(b *testing.B) {
			pub, err := newKey(b, alg, idA, 1, 1).Public()
			if err != nil {
				b.Fatal(err)
			}
			e, err := crypto.NewEncrypter(idA, 1, alg, pub.Raw)
			if err != nil {
				b.Fatal(err)
			}
			pt := pattern(dataKeySize)
			bd := sampleBinding()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Seal(pt, bd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenAsymmetric decrypts a data key with the private key.
func BenchmarkOpenAsymmetric(b *testing.B) {
	for _, alg := range asymmetricAlgorithms() {
		b.Run(string(alg)+"/32B", func(b *testing.B) {
			k := newKey(b, alg, idA, 1, 1)
			bd := sampleBinding()
			c := seal(b, k, pattern(dataKeySize), bd)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Open(c, bd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMAC(b *testing.B) {
	for _, alg := range macAlgorithms() {
		b.Run(string(alg)+"/1KiB", func(b *testing.B) {
			k := newKey(b, alg, idA, 1, 1)
			data := pattern(benchSize)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.MAC(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse parses the text form of a ciphertext of 1 KiB of plaintext.
func BenchmarkParse(b *testing.B) {
	k := newKey(b, crypto.AES256GCM, idA, 1, 1)
	s := seal(b, k, pattern(benchSize), crypto.Binding{}).String()
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := crypto.Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseBinary parses the binary form of the same ciphertext.
func BenchmarkParseBinary(b *testing.B) {
	k := newKey(b, crypto.AES256GCM, idA, 1, 1)
	bin := marshal(b, seal(b, k, pattern(benchSize), crypto.Binding{}))
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := crypto.ParseBinary(bin); err != nil {
			b.Fatal(err)
		}
	}
}
