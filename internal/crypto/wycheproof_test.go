package crypto

import (
	"bytes"
	"cmp"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/secret"
)

// Project Wycheproof test vectors (C2SP/wycheproof, testvectors_v1/, Apache
// License 2.0; see testdata/wycheproof/README and LICENSE), run through the
// package's own code: the algorithm table's AEAD constructors, NewVersionKey
// with MAC and VerifyMAC, verifySignature (wycheproof_sign_test.go), and the
// asymmetric encryption and HKDF paths (wycheproof_asym_test.go).

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

// wpFileOf is a Wycheproof vector file whose groups are of type G.
type wpFileOf[G wpCounted] struct {
	Algorithm     string `json:"algorithm"`
	NumberOfTests int    `json:"numberOfTests"`
	TestGroups    []G    `json:"testGroups"`
}

// wpCounted is a group of tests, which the loader counts against the
// file's header.
type wpCounted interface{ testCount() int }

type wpFile = wpFileOf[wpGroup]

func (g wpGroup) testCount() int { return len(g.Tests) }

type wpGroup struct {
	Type    string   `json:"type"`
	KeySize int      `json:"keySize"` // bits
	IVSize  int      `json:"ivSize"`  // bits; absent for DaeadTest and MacTest
	TagSize int      `json:"tagSize"` // bits; absent for DaeadTest
	Tests   []wpTest `json:"tests"`
}

type wpTest struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Key     wpHex    `json:"key"`
	IV      wpHex    `json:"iv"`
	AAD     wpHex    `json:"aad"`
	Msg     wpHex    `json:"msg"`
	CT      wpHex    `json:"ct"`
	Tag     wpHex    `json:"tag"`
	Result  string   `json:"result"`
}

// wpCounts tallies one algorithm's vectors.
type wpCounts struct {
	valid, invalid, acceptable int
	skipped                    map[string]int // reason -> count
	// MAC algorithms: how the vectors that ran were run.
	viaVersionKey, viaHMAC int
	// AEADs: skipped vectors with Arca's key size but another nonce length,
	// checked to be refused by VersionKey.Open before the AEAD.
	nonceRefused int
	// ML-DSA: vectors with a non-empty context, which Arca never uses,
	// verified with the circl scheme directly and not counted as run.
	ctxValid, ctxInvalid int
}

func (c *wpCounts) run() int { return c.valid + c.invalid + c.acceptable }

func (c *wpCounts) skip(reason string) {
	if c.skipped == nil {
		c.skipped = map[string]int{}
	}
	c.skipped[reason]++
}

func (c *wpCounts) skippedTotal() int {
	n := 0
	for _, v := range c.skipped {
		n += v
	}
	return n
}

func (c *wpCounts) count(t *testing.T, tc wpTest) {
	switch tc.Result {
	case "valid":
		c.valid++
	case "invalid":
		c.invalid++
	case "acceptable":
		c.acceptable++
	default:
		t.Errorf("tcId %d: unknown result %q", tc.TcID, tc.Result)
	}
}

func loadWycheproof(t *testing.T, name, wantAlgorithm string) *wpFile {
	return loadWycheproofOf[wpGroup](t, name, wantAlgorithm)
}

// loadWycheproofOf reads a vector file from testdata/wycheproof, checking
// its algorithm and that its groups hold as many tests as it declares.
func loadWycheproofOf[G wpCounted](t *testing.T, name, wantAlgorithm string) *wpFileOf[G] {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "wycheproof", name))
	if err != nil {
		t.Fatal(err)
	}
	var f wpFileOf[G]
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Algorithm != wantAlgorithm {
		t.Fatalf("%s: algorithm %q, want %q", name, f.Algorithm, wantAlgorithm)
	}
	n := 0
	for _, g := range f.TestGroups {
		n += g.testCount()
	}
	if n != f.NumberOfTests || n == 0 {
		t.Fatalf("%s: %d tests in groups, header says %d", name, n, f.NumberOfTests)
	}
	return &f
}

// noPanic runs fn and turns a panic into an error.
func noPanic(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	fn()
	return nil
}

func (c *wpCounts) report(t *testing.T, alg Algorithm, total int) {
	t.Helper()
	t.Logf("wycheproof %s: %d vectors run (%d valid, %d invalid, %d acceptable), %d skipped",
		alg, c.run(), c.valid, c.invalid, c.acceptable, c.skippedTotal())
	if len(c.skipped) > 0 {
		var parts []string
		reasons := slices.Collect(maps.Keys(c.skipped))
		// By parameter, then size: "128-bit key" before "192-bit key".
		slices.SortFunc(reasons, func(a, b string) int {
			var na, nb int
			var ka, kb string
			fmt.Sscanf(a, "%d-bit %s", &na, &ka)
			fmt.Sscanf(b, "%d-bit %s", &nb, &kb)
			return cmp.Or(strings.Compare(ka, kb), cmp.Compare(na, nb), strings.Compare(a, b))
		})
		for _, r := range reasons {
			parts = append(parts, fmt.Sprintf("%d %s", c.skipped[r], r))
		}
		t.Logf("wycheproof %s: skipped: %s", alg, strings.Join(parts, "; "))
	}
	if c.nonceRefused > 0 {
		t.Logf("wycheproof %s: %d of the skipped vectors have Arca's key size and another nonce length; VersionKey.Open refused each (ErrDecrypt, AEAD not reached)", alg, c.nonceRefused)
	}
	if algorithms[alg].purpose == PurposeMAC {
		t.Logf("wycheproof %s: of the %d run, %d through NewVersionKey + MAC/VerifyMAC, %d through hmac.New(algorithms[%s].hash) (key length not %d bytes)",
			alg, c.run(), c.viaVersionKey, c.viaHMAC, alg, algorithms[alg].keySize)
	}
	if n := c.ctxValid + c.ctxInvalid; n > 0 {
		t.Logf("wycheproof %s: %d more with a non-empty context (%d valid, %d invalid), verified with the circl scheme directly (Arca signs with the empty context)", alg, n, c.ctxValid, c.ctxInvalid)
	}
	if c.run()+c.skippedTotal()+c.ctxValid+c.ctxInvalid != total {
		t.Errorf("wycheproof %s: %d run + %d skipped + %d with a context != %d in the file", alg, c.run(), c.skippedTotal(), c.ctxValid+c.ctxInvalid, total)
	}
	if c.run() < 10 {
		t.Errorf("wycheproof %s: only %d vectors ran, want at least 10", alg, c.run())
	}
}

func TestWycheproof(t *testing.T) {
	t.Parallel()
	aeads := []struct {
		alg        Algorithm
		file, name string
	}{
		{AES256GCM, "aes_gcm_test.json", "AES-GCM"},
		{ChaCha20Poly1305, "chacha20_poly1305_test.json", "CHACHA20-POLY1305"},
		{XChaCha20Poly1305, "xchacha20_poly1305_test.json", "XCHACHA20-POLY1305"},
		{AES256SIV, "aes_siv_cmac_test.json", "AES-SIV-CMAC"},
	}
	macs := []struct {
		alg        Algorithm
		file, name string
	}{
		{HMACSHA256, "hmac_sha256_test.json", "HMACSHA256"},
		{HMACSHA384, "hmac_sha384_test.json", "HMACSHA384"},
		{HMACSHA512, "hmac_sha512_test.json", "HMACSHA512"},
	}
	covered := map[Algorithm]bool{}
	for _, a := range aeads {
		covered[a.alg] = true
		t.Run(string(a.alg), func(t *testing.T) {
			t.Parallel()
			f := loadWycheproof(t, a.file, a.name)
			var c wpCounts
			for _, g := range f.TestGroups {
				for _, tc := range g.Tests {
					runAEADVector(t, a.alg, g, tc, &c)
				}
			}
			c.report(t, a.alg, f.NumberOfTests)
		})
	}
	for _, m := range macs {
		covered[m.alg] = true
		t.Run(string(m.alg), func(t *testing.T) {
			t.Parallel()
			f := loadWycheproof(t, m.file, m.name)
			var c wpCounts
			for _, g := range f.TestGroups {
				for _, tc := range g.Tests {
					runMACVector(t, m.alg, g, tc, &c)
				}
			}
			c.report(t, m.alg, f.NumberOfTests)
		})
	}
	var signAlgs []Algorithm
	for _, sf := range wpSignFiles {
		if !covered[sf.alg] {
			signAlgs = append(signAlgs, sf.alg)
		}
		covered[sf.alg] = true
	}
	for _, alg := range signAlgs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			var c wpCounts
			total := 0
			for _, sf := range wpSignFiles {
				if sf.alg == alg {
					total += runSignVectors(t, alg, sf.file, sf.name, sf.groupType, sf.padding, &c)
				}
			}
			c.report(t, alg, total)
		})
	}
	for _, mf := range wpMLDSAFiles {
		covered[mf.alg] = true
		t.Run(string(mf.alg), func(t *testing.T) {
			t.Parallel()
			var c wpCounts
			total := runMLDSAVectors(t, mf.alg, mf.file, mf.name, &c)
			c.report(t, mf.alg, total)
		})
	}
	for _, of := range wpOAEPFiles {
		covered[of.alg] = true
		t.Run(string(of.alg), func(t *testing.T) {
			t.Parallel()
			var c wpCounts
			total := runOAEPVectors(t, of.alg, of.file, &c)
			c.report(t, of.alg, total)
		})
	}
	for _, kf := range wpMLKEMFiles {
		covered[kf.alg] = true
		t.Run(string(kf.alg), func(t *testing.T) {
			t.Parallel()
			var c wpCounts
			total := runMLKEMVectors(t, kf.alg, kf.file, kf.name, &c)
			total += runMLKEMEncapsVectors(t, kf.alg, kf.encaps, kf.name, &c)
			c.report(t, kf.alg, total)
		})
	}
	// Wycheproof has no vectors for the X-Wing KEM; TestHPKEPQVectors runs
	// those of draft-ietf-hpke-pq through parseAsymmetricKey instead, and
	// its ML-KEM-768 half is the KEM checked above.
	elsewhere := map[Algorithm]string{X25519MLKEM768: "TestHPKEPQVectors"}
	for _, alg := range Algorithms() {
		if !covered[alg] && elsewhere[alg] == "" {
			t.Errorf("no Wycheproof vectors for %s", alg)
		}
	}
}

// runAEADVector runs one AEAD or deterministic-AEAD vector through
// algorithms[alg].newAEAD, or skips it if Arca cannot express its parameters
// (key size, nonce size or tag size other than the algorithm's).
func runAEADVector(t *testing.T, alg Algorithm, g wpGroup, tc wpTest, c *wpCounts) {
	t.Helper()
	spec := algorithms[alg]
	deterministic := g.Type == "DaeadTest"
	if deterministic != (spec.nonceSize == 0) {
		t.Fatalf("tcId %d: group type %q for %s", tc.TcID, g.Type, alg)
	}
	var nonce, sealed []byte
	if deterministic {
		// The synthetic IV comes first; ct holds the whole output.
		sealed = tc.CT
	} else {
		nonce = tc.IV
		sealed = append(bytes.Clone(tc.CT), tc.Tag...)
	}
	id := fmt.Sprintf("tcId %d (%s, %s)", tc.TcID, tc.Result, tc.Comment)
	switch {
	case g.KeySize != spec.keySize*8 || len(tc.Key) != spec.keySize:
		c.skip(fmt.Sprintf("%d-bit key", g.KeySize))
		return
	case !deterministic && (g.IVSize != spec.nonceSize*8 || len(tc.IV) != spec.nonceSize):
		c.skip(fmt.Sprintf("%d-bit nonce", len(tc.IV)*8))
		checkNonceRefused(t, alg, tc, nonce, sealed, c)
		return
	case !deterministic && (g.TagSize != tagSize*8 || len(tc.Tag) != tagSize):
		c.skip(fmt.Sprintf("%d-bit tag", g.TagSize))
		return
	}
	c.count(t, tc)

	aead, err := spec.newAEAD(bytes.Clone(tc.Key))
	if err != nil {
		t.Errorf("%s %s: newAEAD: %v", alg, id, err)
		return
	}
	var pt []byte
	var openErr error
	if err := noPanic(func() { pt, openErr = aead.Open(nil, nonce, sealed, tc.AAD) }); err != nil {
		t.Errorf("%s %s: Open: %v", alg, id, err)
		return
	}
	switch tc.Result {
	case "valid":
		if openErr != nil || !bytes.Equal(pt, tc.Msg) {
			t.Errorf("%s %s: Open = %x, %v; want %x", alg, id, pt, openErr, tc.Msg)
		}
		var got []byte
		if err := noPanic(func() { got = aead.Seal(nil, nonce, tc.Msg, tc.AAD) }); err != nil {
			t.Errorf("%s %s: Seal: %v", alg, id, err)
		} else if !bytes.Equal(got, sealed) {
			t.Errorf("%s %s: Seal\n got %x\nwant %x", alg, id, got, sealed)
		}
	case "invalid":
		if openErr == nil || pt != nil {
			t.Errorf("%s %s: Open accepted an invalid vector: %x, %v", alg, id, pt, openErr)
		}
	case "acceptable":
		if openErr == nil && !bytes.Equal(pt, tc.Msg) {
			t.Errorf("%s %s: Open = %x, want %x or an error", alg, id, pt, tc.Msg)
		}
	}
}

// checkNonceRefused puts a vector with Arca's key size but a foreign nonce
// length through VersionKey.Open: it must fail with ErrDecrypt, without
// panicking (the x/crypto AEADs panic on a wrong nonce length, and so does
// the SIV adapter's Seal on any nonce).
func checkNonceRefused(t *testing.T, alg Algorithm, tc wpTest, nonce, sealed []byte, c *wpCounts) {
	t.Helper()
	if len(tc.Key) != algorithms[alg].keySize {
		return
	}
	k, err := NewVersionKey([16]byte{0xa5}, 1, alg, secret.New(bytes.Clone(tc.Key)))
	if err != nil {
		t.Errorf("%s tcId %d: NewVersionKey: %v", alg, tc.TcID, err)
		return
	}
	ct := &Ciphertext{KeyID: [16]byte{0xa5}, KeyVersion: 1, Algorithm: alg, Nonce: nonce, Sealed: sealed}
	var pt []byte
	var openErr error
	if err := noPanic(func() { pt, openErr = k.Open(ct, Binding{AssociatedData: tc.AAD}) }); err != nil {
		t.Errorf("%s tcId %d: VersionKey.Open with a %d-byte nonce: %v", alg, tc.TcID, len(nonce), err)
		return
	}
	if !errors.Is(openErr, ErrDecrypt) || pt != nil {
		t.Errorf("%s tcId %d: VersionKey.Open with a %d-byte nonce = %x, %v; want ErrDecrypt", alg, tc.TcID, len(nonce), pt, openErr)
		return
	}
	c.nonceRefused++
}

// runMACVector runs one HMAC vector: through NewVersionKey, MAC and
// VerifyMAC when the key has the algorithm's key size, else through
// hmac.New with the package's own hash. Vectors with truncated tags are
// skipped: Arca never truncates.
func runMACVector(t *testing.T, alg Algorithm, g wpGroup, tc wpTest, c *wpCounts) {
	t.Helper()
	spec := algorithms[alg]
	full := spec.hash().Size()
	if g.TagSize != full*8 {
		c.skip(fmt.Sprintf("%d-bit (truncated) tag", g.TagSize))
		return
	}
	if len(tc.Key)*8 != g.KeySize {
		t.Fatalf("%s tcId %d: %d-byte key in a %d-bit group", alg, tc.TcID, len(tc.Key), g.KeySize)
	}
	c.count(t, tc)
	id := fmt.Sprintf("tcId %d (%s, %s)", tc.TcID, tc.Result, tc.Comment)

	var tag []byte
	var ok bool
	var err error
	if len(tc.Key) == spec.keySize {
		c.viaVersionKey++
		k, kerr := NewVersionKey([16]byte{0x5a}, 1, alg, secret.New(bytes.Clone(tc.Key)))
		if kerr != nil {
			t.Errorf("%s %s: NewVersionKey: %v", alg, id, kerr)
			return
		}
		if perr := noPanic(func() {
			tag, err = k.MAC(tc.Msg)
			if err == nil {
				ok, err = k.VerifyMAC(tc.Msg, tc.Tag)
			}
		}); perr != nil {
			t.Errorf("%s %s: %v", alg, id, perr)
			return
		}
		if err != nil {
			t.Errorf("%s %s: %v", alg, id, err)
			return
		}
	} else {
		c.viaHMAC++
		// NewVersionKey must refuse this key, which is why it goes here.
		if _, kerr := NewVersionKey([16]byte{0x5a}, 1, alg, secret.New(bytes.Clone(tc.Key))); kerr == nil {
			t.Errorf("%s %s: NewVersionKey accepted a %d-byte key", alg, id, len(tc.Key))
		}
		m := hmac.New(spec.hash, tc.Key)
		m.Write(tc.Msg)
		tag = m.Sum(nil)
		ok = hmac.Equal(tag, tc.Tag)
	}
	if len(tag) != full {
		t.Errorf("%s %s: MAC length %d, want %d", alg, id, len(tag), full)
	}
	switch tc.Result {
	case "valid":
		if !ok || !bytes.Equal(tag, tc.Tag) {
			t.Errorf("%s %s: MAC\n got %x (verify %v)\nwant %x", alg, id, tag, ok, tc.Tag)
		}
	case "invalid":
		if ok {
			t.Errorf("%s %s: an invalid tag verified", alg, id)
		}
	}
}

// newSIV hands sivAEAD out as a cipher.AEAD.
var _ cipher.AEAD = sivAEAD{}
