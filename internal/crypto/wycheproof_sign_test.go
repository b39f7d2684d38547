package crypto

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"testing"
)

// Wycheproof signature verification vectors, run through verifySignature,
// the path VersionKey.Verify takes after hashing.

type wpSigFile = wpFileOf[wpSigGroup]

func (g wpSigGroup) testCount() int { return len(g.Tests) }

type wpSigGroup struct {
	Type         string      `json:"type"`
	PublicKeyDer wpHex       `json:"publicKeyDer"`
	SHA          string      `json:"sha"`    // absent for EdDSA
	MGFSHA       string      `json:"mgfSha"` // PSS only
	SLen         *int        `json:"sLen"`   // PSS only
	Tests        []wpSigTest `json:"tests"`
}

type wpSigTest struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Msg     wpHex    `json:"msg"`
	Sig     wpHex    `json:"sig"`
	Result  string   `json:"result"`
}

// wpSignFiles lists the signature vector files of each sign algorithm.
var wpSignFiles = []struct {
	alg       Algorithm
	file      string
	name      string // the file's "algorithm"
	groupType string
	padding   Padding
}{
	{ECDSAP256, "ecdsa_secp256r1_sha256_test.json", "ECDSA", "EcdsaVerify", ""},
	{ECDSAP384, "ecdsa_secp384r1_sha384_test.json", "ECDSA", "EcdsaVerify", ""},
	{ECDSAP521, "ecdsa_secp521r1_sha512_test.json", "ECDSA", "EcdsaVerify", ""},
	{Ed25519, "ed25519_test.json", "EDDSA", "EddsaVerify", ""},
	{RSA2048, "rsa_pss_2048_sha256_mgf1_32_test.json", "RSASSA-PSS", "RsassaPssVerify", PaddingPSS},
	{RSA2048, "rsa_signature_2048_sha256_test.json", "RSASSA-PKCS1-v1_5", "RsassaPkcs1Verify", PaddingPKCS1v15},
	{RSA3072, "rsa_pss_3072_sha256_mgf1_32_test.json", "RSASSA-PSS", "RsassaPssVerify", PaddingPSS},
	{RSA3072, "rsa_signature_3072_sha256_test.json", "RSASSA-PKCS1-v1_5", "RsassaPkcs1Verify", PaddingPKCS1v15},
	{RSA4096, "rsa_pss_4096_sha256_mgf1_32_test.json", "RSASSA-PSS", "RsassaPssVerify", PaddingPSS},
	{RSA4096, "rsa_signature_4096_sha256_test.json", "RSASSA-PKCS1-v1_5", "RsassaPkcs1Verify", PaddingPKCS1v15},
}

func loadWycheproofSig(t *testing.T, name, wantAlgorithm string) *wpSigFile {
	return loadWycheproofOf[wpSigGroup](t, name, wantAlgorithm)
}

// wpHashName is Wycheproof's name of a sign algorithm's hash.
func wpHashName(alg Algorithm) string {
	h := signSpecs[alg].hash
	if h == 0 {
		return ""
	}
	return h.String() // "SHA-256", as Wycheproof spells it
}

// wpKeyMatches reports whether pub is a key of alg's type and size.
func wpKeyMatches(alg Algorithm, pub any) bool {
	spec := signSpecs[alg]
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return spec.ed25519
	case *ecdsa.PublicKey:
		return spec.curve != nil && k.Curve == spec.curve
	case *rsa.PublicKey:
		return spec.rsaBits != 0 && k.N.BitLen() == spec.rsaBits
	}
	return false
}

// runSignVectors runs one file's vectors for alg and adds them to c.
func runSignVectors(t *testing.T, alg Algorithm, file, name, groupType string, p Padding, c *wpCounts) int {
	t.Helper()
	f := loadWycheproofSig(t, file, name)
	spec := signSpecs[alg]
	for _, g := range f.TestGroups {
		if g.Type != groupType {
			t.Fatalf("%s: group type %q, want %q", file, g.Type, groupType)
		}
		skip := ""
		pub, err := x509.ParsePKIXPublicKey(g.PublicKeyDer)
		switch {
		case err != nil:
			skip = "unparsable public key"
		case !wpKeyMatches(alg, pub):
			skip = fmt.Sprintf("%T key of another size", pub)
		case g.SHA != wpHashName(alg):
			skip = "hash " + g.SHA
		case p == PaddingPSS && (g.MGFSHA != g.SHA || g.SLen == nil || *g.SLen != spec.hash.Size()):
			skip = fmt.Sprintf("PSS with MGF1 %s, salt length %v", g.MGFSHA, g.SLen)
		}
		for _, tc := range g.Tests {
			if skip != "" {
				c.skip(skip)
				continue
			}
			c.count(t, tc.asTest())
			id := fmt.Sprintf("%s tcId %d (%s, %s, %v)", file, tc.TcID, tc.Result, tc.Comment, tc.Flags)
			d := []byte(tc.Msg)
			if !spec.ed25519 {
				h := spec.hash.New()
				h.Write(tc.Msg)
				d = h.Sum(nil)
			}
			var ok bool
			if err := noPanic(func() { ok = verifySignature(pub, alg, d, tc.Sig, p) }); err != nil {
				t.Errorf("%s %s: %v", alg, id, err)
				continue
			}
			switch tc.Result {
			case "valid":
				if !ok {
					t.Errorf("%s %s: a valid signature does not verify", alg, id)
				}
				// The padding is honoured: not valid under the other one.
				if other := map[Padding]Padding{PaddingPSS: PaddingPKCS1v15, PaddingPKCS1v15: PaddingPSS}[p]; other != "" && verifySignature(pub, alg, d, tc.Sig, other) {
					t.Errorf("%s %s: a %s signature verifies as %s", alg, id, p, other)
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

func (tc wpSigTest) asTest() wpTest {
	return wpTest{TcID: tc.TcID, Comment: tc.Comment, Flags: tc.Flags, Result: tc.Result}
}
