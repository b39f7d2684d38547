package keywrap_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/arcakms/arca/internal/keywrap"
)

// wpHex is a hex string in a vector file.
type wpHex []byte

func (h *wpHex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = d
	return nil
}

// TestWycheproofKWP runs the Project Wycheproof AES-KWP vectors (C2SP/
// wycheproof, testvectors_v1/, Apache License 2.0; see
// testdata/wycheproof/README and LICENSE) through Unwrap, the package's own
// path: each vector's AES key is RSA-OAEP-encrypted under an RSA-3072
// wrapping key and its KWP output appended, as a wrapped blob of the
// rsa-oaep-sha256-aes-kwp scheme. Vectors with a 256-bit key and a message
// of 16 to 8192 bytes must unwrap to the message, or fail with ErrUnwrap if
// invalid. The others must all fail with ErrUnwrap: the scheme's KWP key is
// AES-256 (128- and 192-bit keys are refused by key-size policy), and
// material is 16 to 8192 bytes (shorter messages are refused by size
// policy). Every vector also checks the RFC 5649 implementation the other
// tests compare the package with.
func TestWycheproofKWP(t *testing.T) {
	t.Parallel()
	const file = "aes_kwp_test.json"
	raw, err := os.ReadFile(filepath.Join("testdata", "wycheproof", file))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Algorithm     string `json:"algorithm"`
		NumberOfTests int    `json:"numberOfTests"`
		TestGroups    []struct {
			Type    string `json:"type"`
			KeySize int    `json:"keySize"`
			Tests   []struct {
				TcID    int      `json:"tcId"`
				Comment string   `json:"comment"`
				Flags   []string `json:"flags"`
				Key     wpHex    `json:"key"`
				Msg     wpHex    `json:"msg"`
				CT      wpHex    `json:"ct"`
				Result  string   `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.Algorithm != "AES-KWP" {
		t.Fatalf("algorithm %q", f.Algorithm)
	}
	priv, _ := keyPair(t, keywrap.RSAAESKeyWrap, 0)
	pub := &rsaPrivate(t, priv).PublicKey
	var valid, invalid, keyPolicy, sizePolicy, reference, total int
	for _, g := range f.TestGroups {
		if g.Type != "KeywrapTest" {
			t.Fatalf("group type %q", g.Type)
		}
		for _, tc := range g.Tests {
			total++
			id := fmt.Sprintf("tcId %d (%s, %s, %v)", tc.TcID, tc.Result, tc.Comment, tc.Flags)
			if len(tc.Key)*8 != g.KeySize || (tc.Result != "valid" && tc.Result != "invalid") {
				t.Fatalf("%s: %d-byte key in a %d-bit group, result %q", id, len(tc.Key), g.KeySize, tc.Result)
			}
			// The reference implementation.
			if tc.Result == "valid" {
				if ct, err := kwpWrap(tc.Key, tc.Msg); err != nil || !bytes.Equal(ct, tc.CT) {
					t.Errorf("%s: reference wrap = %x, %v; want %x", id, ct, err, tc.CT)
				}
			}
			if msg, err := kwpUnwrap(tc.Key, tc.CT); (err == nil) != (tc.Result == "valid") || (err == nil && !bytes.Equal(msg, tc.Msg)) {
				t.Errorf("%s: reference unwrap = %x, %v", id, msg, err)
			}
			reference++

			head, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, tc.Key, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := keywrap.Unwrap(keywrap.RSAAESKeyWrap, priv, append(head, tc.CT...))
			switch {
			case len(tc.Key) != 32:
				keyPolicy++
			case tc.Result != "valid":
				invalid++
			case len(tc.Msg) < keywrap.MinMaterial || len(tc.Msg) > keywrap.MaxMaterial:
				sizePolicy++
			default:
				valid++
				if err != nil || !bytes.Equal(m.Reveal(), tc.Msg) {
					t.Errorf("%s: Unwrap = %x, %v; want %x", id, m.Reveal(), err, tc.Msg)
				}
				continue
			}
			if !errors.Is(err, keywrap.ErrUnwrap) || m != nil {
				t.Errorf("%s (%d-byte key, %d-byte message): Unwrap = %x, %v; want ErrUnwrap", id, len(tc.Key), len(tc.Msg), m.Reveal(), err)
			}
		}
	}
	if total != f.NumberOfTests {
		t.Fatalf("%d tests in groups, header says %d", total, f.NumberOfTests)
	}
	t.Logf("wycheproof %s: %d vectors run through Unwrap (%d valid unwrapped, %d invalid refused); %d refused by key-size policy (128- and 192-bit KWP keys), %d valid ones refused by size policy (material under %d bytes); %d checked the RFC 5649 reference",
		file, valid+invalid, valid, invalid, keyPolicy, sizePolicy, keywrap.MinMaterial, reference)
	if valid+invalid+keyPolicy+sizePolicy != total || valid < 10 || invalid < 10 || sizePolicy == 0 {
		t.Errorf("%d + %d + %d + %d vectors, file has %d", valid, invalid, keyPolicy, sizePolicy, total)
	}
}
