package policy

import (
	"slices"
	"testing"
)

// wantStrength is NIST SP 800-57 Part 1 Rev. 5 Table 2 (and the documented extensions), written out by
// hand, in the order of Algorithms.
var wantStrength = []struct {
	algorithm string
	bits      int
}{
	{"aes-256-gcm", 256},
	{"aes-256-siv", 256},
	{"chacha20-poly1305", 256},
	{"xchacha20-poly1305", 256},
	{"hmac-sha256", 256},
	{"hmac-sha384", 256}, // 384 capped to Table 2's 256
	{"hmac-sha512", 256},
	{"rsa-2048", 112},
	{"rsa-3072", 128},
	{"rsa-4096", 152}, // commonly cited, not a Table 2 row
	{"rsa-oaep-2048", 112},
	{"rsa-oaep-3072", 128},
	{"rsa-oaep-4096", 152},
	{"ecdsa-p256", 128},
	{"ecdsa-p384", 192},
	{"ecdsa-p521", 256},
	{"ed25519", 128},
	{"ml-dsa-44", 128}, // category 2
	{"ml-dsa-65", 192},
	{"ml-dsa-87", 256},
	{"ml-kem-768", 192},
	{"ml-kem-1024", 256},
	{"x25519-ml-kem-768", 192},
}

func TestStrength(t *testing.T) {
	t.Parallel()
	var names []string
	for _, tt := range wantStrength {
		names = append(names, tt.algorithm)
		t.Run(tt.algorithm, func(t *testing.T) {
			t.Parallel()
			if got, ok := Strength(tt.algorithm); !ok || got != tt.bits {
				t.Fatalf("Strength(%q) = %d, %v; want %d, true", tt.algorithm, got, ok, tt.bits)
			}
		})
	}
	if got := Algorithms(); !slices.Equal(got, names) {
		t.Errorf("Algorithms() = %v; want %v", got, names)
	}
}

func TestStrengthUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "AES-256-GCM", "aes-128-gcm", "aes-256", "rsa-1024", "rsa", "ml-kem-512", "hmac-sha1", " ed25519", "default"} {
		if got, ok := Strength(name); ok || got != 0 {
			t.Errorf("Strength(%q) = %d, %v; want 0, false", name, got, ok)
		}
	}
}

func TestAlgorithmsIsACopy(t *testing.T) {
	t.Parallel()
	a := Algorithms()
	a[0] = "changed"
	if Algorithms()[0] != "aes-256-gcm" {
		t.Fatal("Algorithms returned shared storage")
	}
}

func TestStrengthNeverAboveMax(t *testing.T) {
	t.Parallel()
	for _, name := range Algorithms() {
		if bits, _ := Strength(name); bits <= 0 || bits > maxStrength {
			t.Errorf("Strength(%q) = %d; want 1..%d", name, bits, maxStrength)
		}
	}
}
