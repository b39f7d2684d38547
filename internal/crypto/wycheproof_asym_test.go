package crypto

import (
	"bytes"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/arcakms/arca/internal/secret"
)

// Wycheproof asymmetric encryption vectors: RSA-OAEP decryption through
// parseAsymmetricKey and DecryptOAEP (the key versions' decryption), and
// ML-KEM through the path Arca's keys take: the 64-byte seed parsed by
// parseAsymmetricKey, whose public key must be the vector's, and a
// ciphertext framed as Arca's (the KEM ciphertext as HPKE's encapsulated key,
// then AES-256-GCM under the key schedule of the vector's shared secret K)
// that VersionKey.Open must decrypt. Encapsulation keys go through
// NewEncrypter.

// readWycheproof reads a vector file and checks its algorithm and count.
func readWycheproof(t *testing.T, file, wantAlgorithm string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "wycheproof", file))
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		Algorithm     string `json:"algorithm"`
		NumberOfTests int    `json:"numberOfTests"`
		TestGroups    []struct {
			Tests []json.RawMessage `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if head.Algorithm != wantAlgorithm {
		t.Fatalf("%s: algorithm %q, want %q", file, head.Algorithm, wantAlgorithm)
	}
	n := 0
	for _, g := range head.TestGroups {
		n += len(g.Tests)
	}
	if n != head.NumberOfTests || n == 0 {
		t.Fatalf("%s: %d tests in groups, header says %d", file, n, head.NumberOfTests)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// wpFileCount logs one file's tally.
func wpFileCount(t *testing.T, file string, valid, invalid int, extra string) {
	t.Helper()
	t.Logf("wycheproof %s: %d vectors run (%d valid, %d invalid)%s", file, valid+invalid, valid, invalid, extra)
}

type wpOAEPFile struct {
	TestGroups []struct {
		Type            string `json:"type"`
		KeySize         int    `json:"keySize"`
		SHA             string `json:"sha"`
		MGF             string `json:"mgf"`
		MGFSHA          string `json:"mgfSha"`
		PrivateKeyPkcs8 wpHex  `json:"privateKeyPkcs8"`
		PrivateKey      struct {
			Modulus wpHex `json:"modulus"`
		} `json:"privateKey"`
		Tests []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Msg     wpHex    `json:"msg"`
			CT      wpHex    `json:"ct"`
			Label   wpHex    `json:"label"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

var wpOAEPFiles = []struct {
	alg  Algorithm
	file string
}{
	{RSAOAEP2048, "rsa_oaep_2048_sha256_mgf1sha256_test.json"},
	{RSAOAEP3072, "rsa_oaep_3072_sha256_mgf1sha256_test.json"},
	{RSAOAEP4096, "rsa_oaep_4096_sha256_mgf1sha256_test.json"},
}

// wpOAEPKey returns the PKCS#8 private key of an RSA-OAEP vector file, a
// fixed key of alg's size for tests that need one without generating it.
func wpOAEPKey(t *testing.T, alg Algorithm) []byte {
	t.Helper()
	for _, f := range wpOAEPFiles {
		if f.alg == alg {
			var v wpOAEPFile
			readWycheproof(t, f.file, "RSAES-OAEP", &v)
			return v.TestGroups[0].PrivateKeyPkcs8
		}
	}
	t.Fatalf("no RSA-OAEP vector file for %s", alg)
	return nil
}

// runOAEPVectors runs one RSA-OAEP file for alg, adds the vectors to c and
// returns the number of vectors in the file. The private key (PKCS#8) goes
// through parseAsymmetricKey and NewVersionKey; every vector through
// DecryptOAEP, which must return the message of a valid vector and exactly
// ErrDecrypt for every invalid one, whatever its flaw (Manger's attack needs
// the failures told apart). Each ciphertext is also framed as Arca's: the
// parser accepts it exactly when it has the modulus size.
func runOAEPVectors(t *testing.T, alg Algorithm, file string, c *wpCounts) int {
	t.Helper()
	var f wpOAEPFile
	readWycheproof(t, file, "RSAES-OAEP", &f)
	spec := asymSpecs[alg]
	total, refused := 0, 0
	before := *c
	for gi, g := range f.TestGroups {
		if g.Type != "RsaesOaepDecrypt" || g.SHA != "SHA-256" || g.MGF != "MGF1" || g.MGFSHA != "SHA-256" || g.KeySize != spec.rsaBits {
			t.Fatalf("%s group %d: %s %s %s-%s, %d bits: not %s's parameters", file, gi, g.Type, g.SHA, g.MGF, g.MGFSHA, g.KeySize, alg)
		}
		a, err := parseAsymmetricKey(alg, g.PrivateKeyPkcs8)
		if err != nil {
			t.Fatalf("%s group %d: parseAsymmetricKey: %v", file, gi, err)
		}
		// The same key as a key version: its public key is the file's,
		// and it encrypts and decrypts.
		k, err := NewVersionKey([16]byte{0x0a}, 1, alg, secret.New(bytes.Clone(g.PrivateKeyPkcs8)))
		if err != nil {
			t.Fatalf("%s group %d: NewVersionKey: %v", file, gi, err)
		}
		pub, err := k.Public()
		if err != nil || !bytes.Equal(a.rsa.N.Bytes(), bytes.TrimLeft(g.PrivateKey.Modulus, "\x00")) ||
			pub.JWK["n"] != base64.RawURLEncoding.EncodeToString(bytes.TrimLeft(g.PrivateKey.Modulus, "\x00")) {
			t.Errorf("%s group %d: public key differs from the file's modulus (%v)", file, gi, err)
		}
		ct, err := k.Seal([]byte("wycheproof"), Binding{})
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := k.Open(ct, Binding{}); err != nil || string(pt) != "wycheproof" {
			t.Errorf("%s group %d: key version round trip: %q, %v", file, gi, pt, err)
		}
		for _, tc := range g.Tests {
			total++
			id := fmt.Sprintf("%s tcId %d (%s, %s, %v)", file, tc.TcID, tc.Result, tc.Comment, tc.Flags)
			c.count(t, wpTest{TcID: tc.TcID, Result: tc.Result})
			var pt []byte
			var derr error
			if err := noPanic(func() { pt, derr = DecryptOAEP(a.rsa, tc.CT, tc.Label) }); err != nil {
				t.Errorf("%s %s: %v", alg, id, err)
				continue
			}
			switch tc.Result {
			case "valid":
				if derr != nil || !bytes.Equal(pt, tc.Msg) {
					t.Errorf("%s %s: DecryptOAEP = %x, %v; want %x", alg, id, pt, derr, tc.Msg)
				}
			default:
				if derr != ErrDecrypt || pt != nil {
					t.Errorf("%s %s: DecryptOAEP = %x, %v; want exactly ErrDecrypt", alg, id, pt, derr)
				}
			}
			framed := append(refHeader(algorithms[alg].id, [16]byte{0x0a}, 1), tc.CT...)
			_, perr := ParseBinary(framed)
			if (perr == nil) != (len(tc.CT) == spec.rsaBits/8) {
				t.Errorf("%s %s: ParseBinary of a %d-byte RSA block: %v", alg, id, len(tc.CT), perr)
			}
			if perr != nil {
				refused++
			}
		}
	}
	wpFileCount(t, file, c.valid-before.valid, c.invalid-before.invalid, fmt.Sprintf(", through parseAsymmetricKey and DecryptOAEP; %d of the invalid have the wrong length and the ciphertext parser refuses them", refused))
	return total
}

type wpMLKEMFile struct {
	TestGroups []struct {
		Type         string `json:"type"`
		ParameterSet string `json:"parameterSet"`
		Tests        []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Seed    wpHex    `json:"seed"`
			EK      wpHex    `json:"ek"`
			M       wpHex    `json:"m"`
			C       wpHex    `json:"c"`
			K       wpHex    `json:"K"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

var wpMLKEMFiles = []struct {
	alg                Algorithm
	file, encaps, name string
}{
	{MLKEM768, "mlkem_768_test.json", "mlkem_768_encaps_test.json", "ML-KEM-768"},
	{MLKEM1024, "mlkem_1024_test.json", "mlkem_1024_encaps_test.json", "ML-KEM-1024"},
}

// mlkemDecapsulate decapsulates with crypto/mlkem, the KEM behind the
// HPKE private key parseAsymmetricKey builds (crypto/hpke does not expose
// decapsulation alone).
func mlkemDecapsulate(alg Algorithm, seed, ct []byte) ([]byte, error) {
	if alg == MLKEM1024 {
		dk, err := mlkem.NewDecapsulationKey1024(seed)
		if err != nil {
			return nil, err
		}
		return dk.Decapsulate(ct)
	}
	dk, err := mlkem.NewDecapsulationKey768(seed)
	if err != nil {
		return nil, err
	}
	return dk.Decapsulate(ct)
}

// runMLKEMVectors runs one ML-KEM decapsulation file (MLKEMTest) for alg.
func runMLKEMVectors(t *testing.T, alg Algorithm, file, name string, c *wpCounts) int {
	t.Helper()
	var f wpMLKEMFile
	readWycheproof(t, file, "ML-KEM", &f)
	keyID := [16]byte{0x8e}
	b := Binding{AssociatedData: []byte("wycheproof")}
	ad := append(refHeader(algorithms[alg].id, keyID, 1), 0, 0, 0, 10)
	ad = append(append(ad, "wycheproof"...), 0, 0, 0, 0)
	pt := []byte("data key")
	total, opened, badKey, badCT := 0, 0, 0, 0
	before := *c
	for gi, g := range f.TestGroups {
		if g.Type != "MLKEMTest" || g.ParameterSet != name {
			t.Fatalf("%s group %d: %s %s", file, gi, g.Type, g.ParameterSet)
		}
		for _, tc := range g.Tests {
			total++
			id := fmt.Sprintf("%s tcId %d (%s, %s, %v)", file, tc.TcID, tc.Result, tc.Comment, tc.Flags)
			c.count(t, wpTest{TcID: tc.TcID, Result: tc.Result})
			a, kerr := parseAsymmetricKey(alg, tc.Seed)
			_, verr := NewVersionKey(keyID, 1, alg, secret.New(bytes.Clone(tc.Seed)))
			if (kerr == nil) != (verr == nil) {
				t.Errorf("%s %s: parseAsymmetricKey %v but NewVersionKey %v", alg, id, kerr, verr)
			}
			if kerr != nil {
				// "Private key too short/long": a seed of the wrong size.
				if tc.Result == "valid" {
					t.Errorf("%s %s: seed refused: %v", alg, id, kerr)
				}
				badKey++
				continue
			}
			if tc.EK != nil {
				pub, err := a.public(alg)
				if err != nil || !bytes.Equal(pub.Raw, tc.EK) {
					t.Errorf("%s %s: public key differs from ek (%v)", alg, id, err)
				}
			}
			K, derr := mlkemDecapsulate(alg, tc.Seed, tc.C)
			if tc.Result != "valid" {
				// "Ciphertext too short/long".
				if derr == nil {
					t.Errorf("%s %s: Decapsulate accepted an invalid ciphertext", alg, id)
				}
				badCT++
				continue
			}
			if derr != nil || !bytes.Equal(K, tc.K) {
				t.Errorf("%s %s: Decapsulate = %x, %v; want %x", alg, id, K, derr, tc.K)
				continue
			}
			// Through VersionKey.Open: the ciphertext as Arca frames it.
			key, nonce := refKeySchedule(t, refKEMID[alg], refAEADAES256GCM, 32, tc.K, []byte(hpkeInfo))
			sealed := append(bytes.Clone(tc.C), refAESGCM(t, key).Seal(nil, nonce, pt, ad)...)
			k, err := NewVersionKey(keyID, 1, alg, secret.New(bytes.Clone(tc.Seed)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.Open(&Ciphertext{KeyID: keyID, KeyVersion: 1, Algorithm: alg, Sealed: sealed}, b)
			if err != nil || !bytes.Equal(got, pt) {
				t.Errorf("%s %s: VersionKey.Open of the framed ciphertext = %q, %v", alg, id, got, err)
				continue
			}
			opened++
		}
	}
	wpFileCount(t, file, c.valid-before.valid, c.invalid-before.invalid,
		fmt.Sprintf(": %d opened through VersionKey.Open; seeds of the wrong size refused by parseAsymmetricKey: %d; ciphertexts of the wrong size refused by Decapsulate: %d", opened, badKey, badCT))
	return total
}

// runMLKEMEncapsVectors runs one ML-KEM encapsulation file
// (MLKEMEncapsTest) for alg: NewEncrypter must accept exactly the valid
// encapsulation keys, and derandomized encapsulation (crypto/mlkem/mlkemtest)
// with the vector's m must give its c and K.
func runMLKEMEncapsVectors(t *testing.T, alg Algorithm, file, name string, c *wpCounts) int {
	t.Helper()
	var f wpMLKEMFile
	readWycheproof(t, file, "ML-KEM", &f)
	total := 0
	before := *c
	for gi, g := range f.TestGroups {
		if g.Type != "MLKEMEncapsTest" || g.ParameterSet != name {
			t.Fatalf("%s group %d: %s %s", file, gi, g.Type, g.ParameterSet)
		}
		for _, tc := range g.Tests {
			total++
			id := fmt.Sprintf("%s tcId %d (%s, %s, %v)", file, tc.TcID, tc.Result, tc.Comment, tc.Flags)
			c.count(t, wpTest{TcID: tc.TcID, Result: tc.Result})
			e, err := NewEncrypter([16]byte{0x8e}, 1, alg, tc.EK)
			if tc.Result != "valid" {
				if err == nil || e != nil {
					t.Errorf("%s %s: NewEncrypter accepted an invalid encapsulation key", alg, id)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: NewEncrypter: %v", alg, id, err)
				continue
			}
			var K, ct []byte
			if alg == MLKEM1024 {
				ek, err := mlkem.NewEncapsulationKey1024(tc.EK)
				if err != nil {
					t.Fatal(err)
				}
				K, ct, err = mlkemtest.Encapsulate1024(ek, tc.M)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				ek, err := mlkem.NewEncapsulationKey768(tc.EK)
				if err != nil {
					t.Fatal(err)
				}
				K, ct, err = mlkemtest.Encapsulate768(ek, tc.M)
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(K, tc.K) || !bytes.Equal(ct, tc.C) {
				t.Errorf("%s %s: encapsulation gives another K or c", alg, id)
			}
			if sealed, err := e.Seal([]byte("dk"), Binding{}); err != nil || len(sealed.Sealed) != asymSpecs[alg].encSize+2+tagSize {
				t.Errorf("%s %s: Seal to the vector's key: %v", alg, id, err)
			}
		}
	}
	wpFileCount(t, file, c.valid-before.valid, c.invalid-before.invalid, ": invalid encapsulation keys refused by NewEncrypter")
	return total
}

// TestWycheproofHKDF runs the HKDF-SHA256 vectors through hkdfSHA256, the
// KDF of DeriveVersionKey. Derived keys use no salt: the vectors with an
// empty salt are Arca's case exactly, counted apart.
func TestWycheproofHKDF(t *testing.T) {
	t.Parallel()
	var f struct {
		TestGroups []struct {
			Type  string `json:"type"`
			Tests []struct {
				TcID    int      `json:"tcId"`
				Comment string   `json:"comment"`
				Flags   []string `json:"flags"`
				IKM     wpHex    `json:"ikm"`
				Salt    wpHex    `json:"salt"`
				Info    wpHex    `json:"info"`
				Size    int      `json:"size"`
				OKM     wpHex    `json:"okm"`
				Result  string   `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	const file = "hkdf_sha256_test.json"
	readWycheproof(t, file, "HKDF-SHA-256", &f)
	var c wpCounts
	emptySalt, keySized := 0, 0
	for _, g := range f.TestGroups {
		if g.Type != "HkdfTest" {
			t.Fatalf("group type %q", g.Type)
		}
		for _, tc := range g.Tests {
			id := fmt.Sprintf("tcId %d (%s, %s, %v)", tc.TcID, tc.Result, tc.Comment, tc.Flags)
			c.count(t, wpTest{TcID: tc.TcID, Result: tc.Result})
			okm, err := hkdfSHA256(tc.IKM, tc.Salt, string(tc.Info), tc.Size)
			switch tc.Result {
			case "valid":
				if err != nil || !bytes.Equal(okm, tc.OKM) {
					t.Errorf("%s: hkdfSHA256 = %x, %v; want %x", id, okm, err, tc.OKM)
				}
				// An empty salt is HashLen zero bytes (RFC 5869 §2.2):
				// nil, as DeriveVersionKey passes it, gives the same.
				if len(tc.Salt) == 0 {
					emptySalt++
					if nilSalt, err := hkdfSHA256(tc.IKM, nil, string(tc.Info), tc.Size); err != nil || !bytes.Equal(nilSalt, tc.OKM) {
						t.Errorf("%s: with a nil salt: %v", id, err)
					}
				}
				if tc.Size == 32 || tc.Size == 64 {
					keySized++
				}
			default:
				// Output longer than 255 · 32 bytes.
				if err == nil || okm != nil {
					t.Errorf("%s: hkdfSHA256 accepted an invalid size %d", id, tc.Size)
				}
			}
		}
	}
	wpFileCount(t, file, c.valid, c.invalid, fmt.Sprintf(" through hkdfSHA256; %d with an empty salt as derived keys use, %d with a 32- or 64-byte output (the derived key sizes)", emptySalt, keySized))
	if c.run() != 86 {
		t.Errorf("%d vectors run, want the file's 86", c.run())
	}
}
