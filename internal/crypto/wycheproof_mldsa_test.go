package crypto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	circlsign "github.com/cloudflare/circl/sign"
)

// Wycheproof ML-DSA verification vectors (MlDsaVerify, pure ML-DSA), run
// through verifySignature for the vectors with the empty context Arca signs
// with. Vectors with a non-empty context go to the circl scheme directly.

type wpMLDSAFile struct {
	Algorithm     string         `json:"algorithm"`
	NumberOfTests int            `json:"numberOfTests"`
	TestGroups    []wpMLDSAGroup `json:"testGroups"`
}

type wpMLDSAGroup struct {
	Type         string        `json:"type"`
	PublicKey    wpHex         `json:"publicKey"`    // raw FIPS 204 encoding
	PublicKeyDer wpHex         `json:"publicKeyDer"` // SubjectPublicKeyInfo
	Tests        []wpMLDSATest `json:"tests"`
}

type wpMLDSATest struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Msg     wpHex    `json:"msg"`
	Ctx     wpHex    `json:"ctx"` // absent: empty
	Sig     wpHex    `json:"sig"`
	Result  string   `json:"result"`
}

var wpMLDSAFiles = []struct {
	alg        Algorithm
	file, name string
}{
	{MLDSA44, "mldsa_44_verify_test.json", "ML-DSA-44"},
	{MLDSA65, "mldsa_65_verify_test.json", "ML-DSA-65"},
	{MLDSA87, "mldsa_87_verify_test.json", "ML-DSA-87"},
}

// runMLDSAVectors runs one ML-DSA verify file for alg, adds the vectors to
// c, and returns the number of vectors in the file.
func runMLDSAVectors(t *testing.T, alg Algorithm, file, name string, c *wpCounts) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "wycheproof", file))
	if err != nil {
		t.Fatal(err)
	}
	var f wpMLDSAFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if f.Algorithm != name {
		t.Fatalf("%s: algorithm %q, want %q", file, f.Algorithm, name)
	}
	n := 0
	for _, g := range f.TestGroups {
		n += len(g.Tests)
	}
	if n != f.NumberOfTests || n == 0 {
		t.Fatalf("%s: %d tests in groups, header says %d", file, n, f.NumberOfTests)
	}
	spec := signSpecs[alg]
	if spec.pq == nil {
		t.Fatalf("%s: not an ML-DSA algorithm", alg)
	}
	for gi, g := range f.TestGroups {
		if g.Type != "MlDsaVerify" {
			t.Fatalf("%s: group type %q", file, g.Type)
		}
		pub, perr := spec.pq.UnmarshalBinaryPublicKey(g.PublicKey)
		if perr == nil {
			// Arca's SubjectPublicKeyInfo encoding matches Wycheproof's.
			pk, err := pqPublic(spec, pub)
			if err != nil {
				t.Fatalf("%s group %d: pqPublic: %v", file, gi, err)
			}
			if !bytes.Equal(pk.DER, g.PublicKeyDer) {
				t.Errorf("%s group %d: Public DER differs from the file's publicKeyDer", file, gi)
			}
		}
		for _, tc := range g.Tests {
			id := fmt.Sprintf("%s tcId %d (%s, %s, %v)", file, tc.TcID, tc.Result, tc.Comment, tc.Flags)
			if tc.Result != "valid" && tc.Result != "invalid" && tc.Result != "acceptable" {
				t.Errorf("%s: unknown result", id)
				continue
			}
			if perr != nil {
				// A public key of the wrong length: refusing it refuses
				// the signature.
				if tc.Result == "valid" {
					t.Errorf("%s %s: public key refused: %v", alg, id, perr)
				}
				if len(tc.Ctx) > 0 {
					countCtx(c, tc.Result)
				} else {
					c.count(t, tc.asTest())
				}
				continue
			}
			var ok bool
			if len(tc.Ctx) > 0 {
				countCtx(c, tc.Result)
				if err := noPanic(func() {
					ok = spec.pq.Verify(pub, tc.Msg, tc.Sig, &circlsign.SignatureOpts{Context: string(tc.Ctx)})
				}); err != nil {
					t.Errorf("%s %s: circl Verify: %v", alg, id, err)
					continue
				}
				// Never valid under Arca's empty context.
				if err := noPanic(func() {
					if verifySignature(pub, alg, tc.Msg, tc.Sig, "") {
						t.Errorf("%s %s: a signature with a %d-byte context verifies with the empty context", alg, id, len(tc.Ctx))
					}
				}); err != nil {
					t.Errorf("%s %s: verifySignature: %v", alg, id, err)
				}
			} else {
				c.count(t, tc.asTest())
				if err := noPanic(func() { ok = verifySignature(pub, alg, tc.Msg, tc.Sig, "") }); err != nil {
					t.Errorf("%s %s: %v", alg, id, err)
					continue
				}
				// A valid signature is valid for this context only.
				if tc.Result == "valid" && spec.pq.Verify(pub, tc.Msg, tc.Sig, &circlsign.SignatureOpts{Context: "arca"}) {
					t.Errorf("%s %s: a signature with the empty context verifies with another", alg, id)
				}
			}
			switch tc.Result {
			case "valid":
				if !ok {
					t.Errorf("%s %s: a valid signature does not verify", alg, id)
				}
			case "invalid":
				if ok {
					t.Errorf("%s %s: an invalid signature verifies", alg, id)
				}
			}
		}
	}
	return f.NumberOfTests
}

func countCtx(c *wpCounts, result string) {
	if result == "valid" {
		c.ctxValid++
	} else {
		c.ctxInvalid++
	}
}

func (tc wpMLDSATest) asTest() wpTest {
	return wpTest{TcID: tc.TcID, Comment: tc.Comment, Flags: tc.Flags, Result: tc.Result}
}
