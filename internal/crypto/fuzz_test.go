package crypto_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
)

// fuzzKeys returns one key per algorithm, all with the same identity, and
// valid ciphertexts the encrypt keys made (all ten encrypt algorithms,
// symmetric and asymmetric), for seeding. The MAC keys are there to check
// that they refuse every ciphertext.
func fuzzKeys(f *testing.F) ([]*crypto.VersionKey, []*crypto.Ciphertext) {
	f.Helper()
	var keys []*crypto.VersionKey
	var cts []*crypto.Ciphertext
	for _, alg := range macAlgorithms() {
		keys = append(keys, newKey(f, alg, idA, 1, 0xf0))
	}
	encrypt := encryptAlgorithms()
	if len(encrypt) != 10 {
		f.Fatalf("encrypt algorithms %v, want 10", encrypt)
	}
	for _, alg := range encrypt {
		k := newKey(f, alg, idA, 1, 0xf0)
		keys = append(keys, k)
		for _, n := range []int{0, 1, 2, 3, 64} {
			cts = append(cts, seal(f, k, pattern(n), crypto.Binding{}))
		}
		cts = append(cts, seal(f, k, []byte("with binding"), sampleBinding()))
	}
	return keys, cts
}

// checkOpen opens a parsed ciphertext with every key: it must not panic and
// may only fail with the documented errors; MAC keys always refuse.
func checkOpen(t *testing.T, keys []*crypto.VersionKey, c *crypto.Ciphertext) {
	for _, k := range keys {
		pt, err := k.Open(c, crypto.Binding{})
		if _, macErr := k.MAC(nil); macErr == nil {
			if !errors.Is(err, crypto.ErrWrongPurpose) {
				t.Fatalf("Open with a MAC key: %v, want ErrWrongPurpose", err)
			}
		} else if err != nil && !errors.Is(err, crypto.ErrDecrypt) && !errors.Is(err, crypto.ErrWrongKey) {
			t.Fatalf("Open: unexpected error %v", err)
		}
		if err != nil && pt != nil {
			t.Fatal("Open returned plaintext with an error")
		}
	}
}

// FuzzParse checks that Parse never panics, fails only with
// ErrMalformedCiphertext, and accepts only canonical text: whatever parses
// re-encodes to exactly the input.
func FuzzParse(f *testing.F) {
	keys, cts := fuzzKeys(f)
	for _, c := range cts {
		s := c.String()
		f.Add(s)
		bin := marshal(f, c)
		f.Add(crypto.TextPrefix + base64.URLEncoding.EncodeToString(bin)) // padded
		f.Add(crypto.TextPrefix + base64.RawStdEncoding.EncodeToString(bin))
		f.Add(s[:len(s)-1])
		f.Add("arca:v2:" + s[len(crypto.TextPrefix):])
		f.Add(" " + s)
	}
	for _, s := range []string{
		"", "arca:v1:", "arca:v1", "arca:", "vault:v1:AAAA", "arca:v1:AA", "arca:v1:AAA", "arca:v1:AAAA", "arca:v1:====",
		"arca:v1:" + base64.RawURLEncoding.EncodeToString(marshal(f, handBuilt(16))),
		"arca:v1:" + base64.RawURLEncoding.EncodeToString(make([]byte, headerLen+tagLen)),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := crypto.Parse(s)
		if err != nil {
			if !errors.Is(err, crypto.ErrMalformedCiphertext) {
				t.Fatalf("Parse error %v is not ErrMalformedCiphertext", err)
			}
			if c != nil {
				t.Fatal("Parse returned a ciphertext with an error")
			}
			return
		}
		if got := c.String(); got != s {
			t.Fatalf("Parse accepted non-canonical text:\n  in %q\n out %q", s, got)
		}
		bin := marshal(t, c)
		c2, err := crypto.ParseBinary(bin)
		if err != nil {
			t.Fatalf("ParseBinary of re-marshalled bytes: %v", err)
		}
		if !bytes.Equal(marshal(t, c2), bin) {
			t.Fatal("binary form not stable")
		}
		checkOpen(t, keys, c)
	})
}

// FuzzParseBinary checks that ParseBinary never panics, fails only with
// ErrMalformedCiphertext, and accepts only canonical bytes: whatever parses
// re-marshals to exactly the input.
func FuzzParseBinary(f *testing.F) {
	keys, cts := fuzzKeys(f)
	for _, c := range cts {
		bin := marshal(f, c)
		f.Add(bin)
		f.Add(bin[:len(bin)-1])
		f.Add(bin[:min(len(bin), headerLen)])
		f.Add(bin[:fixedHeaderLen+len(c.Nonce)])
	}
	valid := marshal(f, handBuilt(16))
	with := func(off int, v byte) []byte {
		b := bytes.Clone(valid)
		b[off] = v
		return b
	}
	for _, b := range [][]byte{
		nil, {}, {1}, {1, 1}, {1, 2}, valid[:22], valid[:23],
		with(0, 0), with(0, 2), with(1, 0), with(1, 3), with(1, 4), with(1, 5), with(1, 8), with(1, 10), with(1, 11),
		with(22, 0), with(22, 24), with(22, 0xff),
		make([]byte, headerLen+tagLen),
		append(bytes.Clone(valid), 0),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := crypto.ParseBinary(b)
		if err != nil {
			if !errors.Is(err, crypto.ErrMalformedCiphertext) {
				t.Fatalf("ParseBinary error %v is not ErrMalformedCiphertext", err)
			}
			if c != nil {
				t.Fatal("ParseBinary returned a ciphertext with an error")
			}
			return
		}
		if got := marshal(t, c); !bytes.Equal(got, b) {
			t.Fatalf("ParseBinary accepted non-canonical bytes:\n  in %x\n out %x", b, got)
		}
		s := c.String()
		c2, err := crypto.Parse(s)
		if err != nil {
			t.Fatalf("Parse of String(): %v", err)
		}
		if c2.String() != s {
			t.Fatal("text form not stable")
		}
		checkOpen(t, keys, c)
	})
}
