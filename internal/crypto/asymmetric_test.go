package crypto_test

import (
	"bytes"
	gocrypto "crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/secret"
)

// asymPublic is what the API promises about the public key of an asymmetric
// encryption algorithm, literal on purpose (see algorithmTable): the
// SubjectPublicKeyInfo OID (nil: no standard one, so no DER, PEM or JWK) and
// the size of Raw, the form NewEncrypter takes (0 for RSA: PKCS#1).
var asymPublic = map[crypto.Algorithm]struct {
	oid     asn1.ObjectIdentifier
	rawSize int
}{
	crypto.RSAOAEP2048:    {},
	crypto.RSAOAEP3072:    {},
	crypto.RSAOAEP4096:    {},
	crypto.MLKEM768:       {asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}, 1184},
	crypto.MLKEM1024:      {asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 3}, 1568},
	crypto.X25519MLKEM768: {nil, 1184 + 32},
}

// publicOf returns the public key of a version key, failing the test on error.
func publicOf(tb testing.TB, k *crypto.VersionKey) *crypto.PublicKey {
	tb.Helper()
	pk, err := k.Public()
	if err != nil {
		tb.Fatalf("Public: %v", err)
	}
	return pk
}

// encrypterOf builds an Encrypter for (idA, version) from a public key's Raw.
func encrypterOf(tb testing.TB, alg crypto.Algorithm, version uint32, raw []byte) *crypto.Encrypter {
	tb.Helper()
	e, err := crypto.NewEncrypter(idA, version, alg, raw)
	if err != nil {
		tb.Fatalf("NewEncrypter(%s): %v", alg, err)
	}
	return e
}

// rsaPrivateOf parses cached RSA-OAEP material with the standard library.
func rsaPrivateOf(tb testing.TB, alg crypto.Algorithm, n int) *rsa.PrivateKey {
	tb.Helper()
	m := cachedMaterial(tb, alg, n)
	defer m.Wipe()
	k, err := x509.ParsePKCS8PrivateKey(m.Reveal())
	if err != nil {
		tb.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// TestAsymmetricRoundTrip encrypts with the key version and, as a client
// does offline, with an Encrypter built from the public key alone; the key
// version decrypts both, through the text form.
func TestAsymmetricRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range asymmetricAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg, idA, 3, 0x41)
			pub := publicOf(t, k)
			offline := encrypterOf(t, alg, 3, pub.Raw)
			b := sampleBinding()
			for _, pt := range [][]byte{nil, {0}, pattern(32), pattern(64)} {
				for name, sealer := range map[string]interface {
					Seal([]byte, crypto.Binding) (*crypto.Ciphertext, error)
				}{"VersionKey": k, "Encrypter": offline} {
					c, err := sealer.Seal(pt, b)
					if err != nil {
						t.Fatalf("%s.Seal(%d bytes): %v", name, len(pt), err)
					}
					if c.KeyID != idA || c.KeyVersion != 3 || c.Algorithm != alg || len(c.Nonce) != 0 {
						t.Fatalf("%s: header (%x, %d, %s, %d-byte nonce)", name, c.KeyID, c.KeyVersion, c.Algorithm, len(c.Nonce))
					}
					if got, want := len(c.Sealed), sealedLenFor(t, alg, len(pt)); got != want {
						t.Fatalf("%s: sealed part of %d bytes, want %d", name, got, want)
					}
					parsed, err := crypto.Parse(c.String())
					if err != nil {
						t.Fatalf("%s: Parse: %v", name, err)
					}
					got, err := k.Open(parsed, b)
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("%s: Open = %x, %v; want %x", name, got, err, pt)
					}
					if _, err := k.Open(parsed, crypto.Binding{}); !errors.Is(err, crypto.ErrDecrypt) {
						t.Fatalf("%s: Open without the binding: %v, want ErrDecrypt", name, err)
					}
				}
			}

			// An Encrypter names the key version it is told to; another
			// version or key id is another key version.
			for name, e := range map[string]*crypto.Encrypter{
				"version 4": encrypterOf(t, alg, 4, pub.Raw),
				"version 2": encrypterOf(t, alg, 2, pub.Raw),
			} {
				c, err := e.Seal([]byte("dk"), b)
				if err != nil {
					t.Fatal(err)
				}
				if pt, err := k.Open(c, b); !errors.Is(err, crypto.ErrWrongKey) || pt != nil {
					t.Fatalf("%s: Open = %q, %v; want ErrWrongKey", name, pt, err)
				}
			}
			eb, err := crypto.NewEncrypter(idB, 3, alg, pub.Raw)
			if err != nil {
				t.Fatal(err)
			}
			c, err := eb.Seal([]byte("dk"), b)
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := k.Open(c, b); !errors.Is(err, crypto.ErrWrongKey) || pt != nil {
				t.Fatalf("other key id: Open = %q, %v; want ErrWrongKey", pt, err)
			}
			// Another key's public key under this key's name: the header
			// matches, decryption fails.
			stranger := encrypterOf(t, alg, 3, publicOf(t, newKey(t, alg, idA, 3, 0x42)).Raw)
			c, err = stranger.Seal([]byte("dk"), b)
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := k.Open(c, b); !errors.Is(err, crypto.ErrDecrypt) || pt != nil {
				t.Fatalf("ciphertext for another public key: Open = %q, %v; want ErrDecrypt", pt, err)
			}
		})
	}
}

// TestAsymmetricClientKeyForms builds the Encrypter the way a client would
// from the other public key forms: RSA from the SubjectPublicKeyInfo or the
// JWK, ML-KEM from the SubjectPublicKeyInfo.
func TestAsymmetricClientKeyForms(t *testing.T) {
	t.Parallel()
	for _, alg := range asymmetricAlgorithms() {
		k := newKey(t, alg, idA, 1, 0x43)
		pub := publicOf(t, k)
		var raws [][]byte
		if info(t, alg).rsaBits != 0 {
			key, err := x509.ParsePKIXPublicKey(pub.DER)
			if err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			raws = append(raws, x509.MarshalPKCS1PublicKey(key.(*rsa.PublicKey)))
			n, _ := base64.RawURLEncoding.DecodeString(pub.JWK["n"].(string))
			e, _ := base64.RawURLEncoding.DecodeString(pub.JWK["e"].(string))
			jwkKey := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
			raws = append(raws, x509.MarshalPKCS1PublicKey(jwkKey))
		} else if asymPublic[alg].oid != nil {
			var spki struct {
				Algorithm pkix.AlgorithmIdentifier
				PublicKey asn1.BitString
			}
			if _, err := asn1.Unmarshal(pub.DER, &spki); err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			raws = append(raws, spki.PublicKey.Bytes)
		}
		for i, raw := range raws {
			c, err := encrypterOf(t, alg, 1, raw).Seal([]byte("data key"), crypto.Binding{})
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := k.Open(c, crypto.Binding{}); err != nil || string(pt) != "data key" {
				t.Fatalf("%s form %d: Open = %q, %v", alg, i, pt, err)
			}
		}
	}
}

// TestRSAOAEPPlaintextLimit checks the RSA-OAEP limit of k − 2·hLen − 2 =
// k − 66 bytes for SHA-256 (RFC 8017 §7.1.1): 190, 318 and 446 bytes.
func TestRSAOAEPPlaintextLimit(t *testing.T) {
	t.Parallel()
	for _, alg := range asymmetricAlgorithms() {
		in := info(t, alg)
		if in.rsaBits == 0 {
			continue
		}
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			limit := in.rsaBits/8 - 66
			if got := maxPlaintextFor(t, alg); got != limit || limit != map[int]int{2048: 190, 3072: 318, 4096: 446}[in.rsaBits] {
				t.Fatalf("limit %d, want %d", got, limit)
			}
			k := newKey(t, alg, idA, 1, 0)
			e := encrypterOf(t, alg, 1, publicOf(t, k).Raw)
			for _, sealer := range []interface {
				Seal([]byte, crypto.Binding) (*crypto.Ciphertext, error)
			}{k, e} {
				for _, n := range []int{0, 1, limit - 1, limit} {
					pt := pattern(n)
					c, err := sealer.Seal(pt, sampleBinding())
					if err != nil {
						t.Fatalf("%T.Seal(%d bytes): %v", sealer, n, err)
					}
					if got, err := k.Open(c, sampleBinding()); err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("%T: %d bytes: Open = %v", sealer, n, err)
					}
				}
				for _, n := range []int{limit + 1, limit + 2, in.rsaBits / 8, 1 << 10} {
					c, err := sealer.Seal(pattern(n), sampleBinding())
					if !errors.Is(err, crypto.ErrPlaintextTooLong) || c != nil {
						t.Fatalf("%T.Seal(%d bytes) = %v, %v; want ErrPlaintextTooLong", sealer, n, c, err)
					}
				}
			}
		})
	}
	// The HPKE algorithms have no such limit.
	for _, alg := range []crypto.Algorithm{crypto.MLKEM768, crypto.MLKEM1024, crypto.X25519MLKEM768} {
		k := newKey(t, alg, idA, 1, 0)
		if got, err := k.Open(seal(t, k, pattern(4096), crypto.Binding{}), crypto.Binding{}); err != nil || !bytes.Equal(got, pattern(4096)) {
			t.Fatalf("%s: 4096 bytes: %v", alg, err)
		}
	}
}

// TestAsymmetricParseBinaryLength checks the sealed-part length rules of the
// parser: exactly the modulus size for RSA-OAEP, at least the encapsulated
// key and a tag for HPKE.
func TestAsymmetricParseBinaryLength(t *testing.T) {
	t.Parallel()
	for _, in := range algorithmTable {
		if in.purpose != crypto.PurposeAsymmetric {
			continue
		}
		var accept, reject []int
		if k := in.rsaBits / 8; k != 0 {
			accept = []int{k}
			reject = []int{0, tagLen, tagLen + 1, k - 66, k - 1, k + 1, k + tagLen, 2 * k, 256, 384, 512}
		} else {
			e := in.encSize
			accept = []int{e + tagLen, e + tagLen + 1, e + tagLen + 32, e + tagLen + 1<<16}
			reject = []int{tagLen, tagLen + 1, e - 1, e, e + 1, e + tagLen - 1}
		}
		for _, n := range accept {
			b := rawCiphertext(in.id, 1, 0, nil, n)
			c, err := crypto.ParseBinary(b)
			if err != nil || c.Algorithm != in.alg || len(c.Sealed) != n {
				t.Errorf("%s: %d-byte sealed part: ParseBinary = %v, %v", in.alg, n, c, err)
				continue
			}
			if got := marshal(t, c); !bytes.Equal(got, b) {
				t.Errorf("%s: %d-byte sealed part does not marshal back", in.alg, n)
			}
		}
		for _, n := range reject {
			if slices.Contains(accept, n) {
				continue
			}
			b := rawCiphertext(in.id, 1, 0, nil, n)
			c, err := crypto.ParseBinary(b)
			if !errors.Is(err, crypto.ErrMalformedCiphertext) || c != nil {
				t.Errorf("%s: %d-byte sealed part: ParseBinary = %v, %v; want ErrMalformedCiphertext", in.alg, n, c, err)
				continue
			}
			if _, err := crypto.Parse(crypto.TextPrefix + base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, crypto.ErrMalformedCiphertext) {
				t.Errorf("%s: %d-byte sealed part: Parse = %v; want ErrMalformedCiphertext", in.alg, n, err)
			}
		}
	}
}

// TestAsymmetricMaterialValidation feeds the asymmetric algorithms material
// of the wrong kind: seeds of the wrong size for the KEMs; for RSA-OAEP, RSA
// keys of another size, other key types, and RSA keys in another encoding.
func TestAsymmetricMaterialValidation(t *testing.T) {
	t.Parallel()
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nonRSA := map[string][]byte{
		"ecdsa-p256-pkcs8": pkcs8(p256),
		"ed25519-pkcs8":    pkcs8(ed),
		"x25519-pkcs8":     pkcs8(x25519),
	}
	for _, in := range algorithmTable {
		if in.purpose != crypto.PurposeAsymmetric {
			continue
		}
		t.Run(string(in.alg), func(t *testing.T) {
			t.Parallel()
			foreign := map[string][]byte{}
			want := "does not match algorithm " + string(in.alg)
			if in.seedSize != 0 {
				want = fmt.Sprintf("%s key material must be a %d-byte seed", in.alg, in.seedSize)
				for _, n := range []int{0, 1, 31, 32, 33, 63, 64, 65, 96, 128} {
					if n != in.seedSize {
						foreign[fmt.Sprintf("%d-byte seed", n)] = material(n, 0x21).Reveal()
					}
				}
				foreign["rsa-oaep-2048-pkcs8"] = cachedMaterial(t, crypto.RSAOAEP2048, 0).Reveal()
			} else {
				for name, der := range nonRSA {
					foreign[name] = der
				}
				for _, other := range asymmetricAlgorithms() {
					if o := info(t, other).rsaBits; o != 0 && o != in.rsaBits {
						foreign[string(other)+"-pkcs8"] = cachedMaterial(t, other, 0).Reveal()
					}
				}
			}
			for name, m := range foreign {
				k, err := crypto.NewVersionKey(idA, 1, in.alg, secret.New(bytes.Clone(m)))
				if err == nil || k != nil {
					t.Errorf("%s material accepted", name)
					continue
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s material: error %q, want %q", name, err, want)
				}
				if len(m) >= 8 && strings.Contains(err.Error(), fmt.Sprintf("%x", m[len(m)-8:])) {
					t.Errorf("%s material: error reveals it: %v", name, err)
				}
			}
			if in.rsaBits == 0 {
				// Every seed of the right size is a key, always the same one.
				m := material(in.seedSize, 0x5e)
				p1 := publicOf(t, newKeyFrom(t, in.alg, m))
				p2 := publicOf(t, newKeyFrom(t, in.alg, m))
				if !bytes.Equal(p1.Raw, p2.Raw) {
					t.Fatal("one seed, two public keys")
				}
				return
			}
			// The right RSA key in another encoding, or damaged.
			own := rsaPrivateOf(t, in.alg, 0)
			ownDER := cachedMaterial(t, in.alg, 0).Reveal()
			spki, err := x509.MarshalPKIXPublicKey(&own.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			for name, m := range map[string][]byte{
				"pkcs1":          x509.MarshalPKCS1PrivateKey(own),
				"spki":           spki,
				"pkcs1-public":   x509.MarshalPKCS1PublicKey(&own.PublicKey),
				"pem":            pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ownDER}),
				"truncated":      ownDER[:len(ownDER)-1],
				"first-half":     ownDER[:len(ownDER)/2],
				"ml-kem-seed":    material(64, 1).Reveal(),
				"64-bytes-zeros": make([]byte, 64),
			} {
				if k, err := crypto.NewVersionKey(idA, 1, in.alg, secret.New(bytes.Clone(m))); err == nil || k != nil {
					t.Errorf("%s of the right key accepted", name)
				} else if !strings.Contains(err.Error(), "PKCS#8") && !strings.Contains(err.Error(), "does not match") {
					t.Errorf("%s: error %q", name, err)
				}
			}
		})
	}
}

// newKeyFrom builds a version key (idA, version 1) from given material.
func newKeyFrom(tb testing.TB, alg crypto.Algorithm, m *secret.Bytes) *crypto.VersionKey {
	tb.Helper()
	k, err := crypto.NewVersionKey(idA, 1, alg, m)
	if err != nil {
		tb.Fatalf("NewVersionKey(%s): %v", alg, err)
	}
	return k
}

// TestAsymmetricPublicKey checks the public key forms: for RSA-OAEP the
// SubjectPublicKeyInfo (and its PEM), a JWK with "alg" RSA-OAEP-256 and
// PKCS#1 as Raw; for ML-KEM the SubjectPublicKeyInfo with the FIPS 203 OID
// holding Raw, the encapsulation key; for X25519+ML-KEM, Raw alone.
func TestAsymmetricPublicKey(t *testing.T) {
	t.Parallel()
	for _, alg := range asymmetricAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			in, want := info(t, alg), asymPublic[alg]
			k := newKey(t, alg, idA, 1, 0x90)
			pk := publicOf(t, k)
			if again := publicOf(t, k); !bytes.Equal(again.Raw, pk.Raw) || !bytes.Equal(again.DER, pk.DER) || again.PEM != pk.PEM {
				t.Fatal("Public is not stable")
			}
			if o := publicOf(t, newKey(t, alg, idA, 1, 0x91)); bytes.Equal(o.Raw, pk.Raw) {
				t.Fatal("another key has the same public key")
			}
			if in.rsaBits != 0 {
				checkRSAPublic(t, alg, pk, &rsaPrivateOf(t, alg, 0).PublicKey)
				return
			}
			if len(pk.Raw) != want.rawSize {
				t.Fatalf("Raw of %d bytes, want %d", len(pk.Raw), want.rawSize)
			}
			// The ML-KEM encapsulation key of the seed, computed with
			// crypto/mlkem; for the hybrid, its first 1184 bytes are an
			// ML-KEM-768 key (see TestXWingByHand for the whole).
			seed := keyMaterial(t, alg, 0x90).Reveal()
			switch alg {
			case crypto.MLKEM768:
				dk, err := mlkem.NewDecapsulationKey768(seed)
				if err != nil || !bytes.Equal(dk.EncapsulationKey().Bytes(), pk.Raw) {
					t.Fatalf("Raw is not the ML-KEM-768 encapsulation key of the seed (%v)", err)
				}
			case crypto.MLKEM1024:
				dk, err := mlkem.NewDecapsulationKey1024(seed)
				if err != nil || !bytes.Equal(dk.EncapsulationKey().Bytes(), pk.Raw) {
					t.Fatalf("Raw is not the ML-KEM-1024 encapsulation key of the seed (%v)", err)
				}
			case crypto.X25519MLKEM768:
				if _, err := mlkem.NewEncapsulationKey768(pk.Raw[:1184]); err != nil {
					t.Fatalf("Raw does not start with an ML-KEM-768 key: %v", err)
				}
				if _, err := ecdh.X25519().NewPublicKey(pk.Raw[1184:]); err != nil {
					t.Fatalf("Raw does not end with an X25519 key: %v", err)
				}
			}
			if len(pk.JWK) != 0 {
				t.Fatalf("JWK %v: there is no registered JWK form for %s", pk.JWK, alg)
			}
			if want.oid == nil {
				if pk.DER != nil || pk.PEM != "" {
					t.Fatalf("DER %x, PEM %q: no standard SubjectPublicKeyInfo for %s", pk.DER, pk.PEM, alg)
				}
				return
			}
			var spki struct {
				Algorithm pkix.AlgorithmIdentifier
				PublicKey asn1.BitString
			}
			rest, err := asn1.Unmarshal(pk.DER, &spki)
			if err != nil || len(rest) != 0 {
				t.Fatalf("DER: %v, %d trailing bytes", err, len(rest))
			}
			if !spki.Algorithm.Algorithm.Equal(want.oid) || len(spki.Algorithm.Parameters.FullBytes) != 0 {
				t.Fatalf("SPKI algorithm %v with parameters %x, want %v and none", spki.Algorithm.Algorithm, spki.Algorithm.Parameters.FullBytes, want.oid)
			}
			if spki.PublicKey.BitLength != 8*len(pk.Raw) || !bytes.Equal(spki.PublicKey.Bytes, pk.Raw) {
				t.Fatal("SPKI BIT STRING is not Raw")
			}
			if der, err := asn1.Marshal(spki); err != nil || !bytes.Equal(der, pk.DER) {
				t.Fatalf("SPKI is not canonical DER: %v", err)
			}
			checkPEM(t, pk)
		})
	}
}

// checkRSAPublic checks the RSA public key forms against the private key's.
func checkRSAPublic(t *testing.T, alg crypto.Algorithm, pk *crypto.PublicKey, want *rsa.PublicKey) {
	t.Helper()
	parsed, err := x509.ParsePKIXPublicKey(pk.DER)
	if err != nil {
		t.Fatalf("DER: %v", err)
	}
	if !want.Equal(parsed) {
		t.Fatal("DER public key differs from the private key's")
	}
	checkPEM(t, pk)
	raw, err := x509.ParsePKCS1PublicKey(pk.Raw)
	if err != nil || !want.Equal(raw) {
		t.Fatalf("Raw is not the PKCS#1 public key: %v", err)
	}
	if !bytes.Equal(pk.Raw, x509.MarshalPKCS1PublicKey(want)) {
		t.Fatal("Raw is not canonical PKCS#1")
	}
	str := func(name string) string {
		t.Helper()
		v, ok := pk.JWK[name].(string)
		if !ok {
			t.Fatalf("JWK member %q: %#v", name, pk.JWK[name])
		}
		return v
	}
	if kty, a := str("kty"), str("alg"); kty != "RSA" || a != "RSA-OAEP-256" {
		t.Fatalf("JWK kty %q alg %q, want RSA, RSA-OAEP-256 (RFC 7518 §4.3)", kty, a)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth"} {
		if _, ok := pk.JWK[private]; ok {
			t.Fatalf("JWK has the private member %q", private)
		}
	}
	n, err1 := base64.RawURLEncoding.DecodeString(str("n"))
	e, err2 := base64.RawURLEncoding.DecodeString(str("e"))
	if err1 != nil || err2 != nil || len(n)*8 != info(t, alg).rsaBits || n[0] == 0 || e[0] == 0 {
		t.Fatalf("JWK n, e: %v, %v, %d-byte modulus", err1, err2, len(n))
	}
	if !want.Equal(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}) {
		t.Fatal("JWK rebuilds another public key")
	}
}

func checkPEM(t *testing.T, pk *crypto.PublicKey) {
	t.Helper()
	block, rest := pem.Decode([]byte(pk.PEM))
	if block == nil || block.Type != "PUBLIC KEY" || len(block.Headers) != 0 || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("PEM: %q", pk.PEM)
	}
	if !bytes.Equal(block.Bytes, pk.DER) {
		t.Fatal("PEM does not hold the DER")
	}
}

// TestAsymmetricCrossAlgorithm seals with every asymmetric algorithm and
// opens with every encrypt algorithm, all keys sharing one identity: a key
// of another algorithm refuses the ciphertext (ErrWrongKey); relabelled to
// that algorithm, the ciphertext is malformed or fails to decrypt.
func TestAsymmetricCrossAlgorithm(t *testing.T) {
	t.Parallel()
	keys := map[crypto.Algorithm]*crypto.VersionKey{}
	for _, alg := range encryptAlgorithms() {
		keys[alg] = newKey(t, alg, idA, 1, 0x31)
	}
	b := sampleBinding()
	for _, from := range encryptAlgorithms() {
		for _, to := range encryptAlgorithms() {
			if from == to || (!isAsymmetric(from) && !isAsymmetric(to)) {
				continue
			}
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				t.Parallel()
				c := seal(t, keys[from], pattern(64), b)
				if pt, err := keys[to].Open(c, b); !errors.Is(err, crypto.ErrWrongKey) || pt != nil {
					t.Fatalf("Open = %x, %v; want ErrWrongKey", pt, err)
				}
				relabelled := *c
				relabelled.Algorithm = to
				bin, err := relabelled.MarshalBinary()
				if err != nil {
					return // another nonce size: not even a ciphertext
				}
				parsed, err := crypto.ParseBinary(bin)
				if err != nil {
					if !errors.Is(err, crypto.ErrMalformedCiphertext) {
						t.Fatalf("ParseBinary: %v", err)
					}
					return
				}
				if pt, err := openNoPanic(keys[to], parsed, b); !errors.Is(err, crypto.ErrDecrypt) || pt != nil {
					t.Fatalf("relabelled: Open = %x, %v; want ErrDecrypt", pt, err)
				}
			})
		}
	}
}

// TestNewEncrypterRejects checks the public keys NewEncrypter refuses.
func TestNewEncrypterRejects(t *testing.T) {
	t.Parallel()
	raws := map[crypto.Algorithm][]byte{}
	for _, alg := range asymmetricAlgorithms() {
		raws[alg] = publicOf(t, newKey(t, alg, idA, 1, 0x70)).Raw
		if _, err := crypto.NewEncrypter(idA, 1, alg, raws[alg]); err != nil {
			t.Fatalf("%s: own public key refused: %v", alg, err)
		}
	}
	type rejectCase struct {
		name    string
		alg     crypto.Algorithm
		version uint32
		raw     []byte
	}
	var cases []rejectCase
	for _, alg := range append(append(symmetricAlgorithms(), macAlgorithms()...), signAlgorithms()...) {
		cases = append(cases, rejectCase{"not-asymmetric-" + string(alg), alg, 1, raws[crypto.RSAOAEP2048]})
	}
	for _, name := range []string{"", "rsa-oaep", "ml-kem-512", "RSA-OAEP-2048"} {
		cases = append(cases, rejectCase{"unknown-" + name, crypto.Algorithm(name), 1, raws[crypto.MLKEM768]})
	}
	for _, alg := range asymmetricAlgorithms() {
		raw := raws[alg]
		cases = append(cases,
			rejectCase{string(alg) + "/version-0", alg, 0, raw},
			rejectCase{string(alg) + "/nil", alg, 1, nil},
			rejectCase{string(alg) + "/empty", alg, 1, []byte{}},
			rejectCase{string(alg) + "/truncated", alg, 1, raw[:len(raw)-1]},
			rejectCase{string(alg) + "/extended", alg, 1, append(bytes.Clone(raw), 0)},
			rejectCase{string(alg) + "/garbage", alg, 1, pattern(len(raw))},
		)
		for _, other := range asymmetricAlgorithms() {
			if other != alg {
				cases = append(cases, rejectCase{fmt.Sprintf("%s/%s-key", alg, other), alg, 1, raws[other]})
			}
		}
		if in := info(t, alg); in.rsaBits != 0 {
			k := rsaPrivateOf(t, alg, 0)
			spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases,
				rejectCase{string(alg) + "/spki-not-pkcs1", alg, 1, spki},
				rejectCase{string(alg) + "/pkcs1-private-key", alg, 1, x509.MarshalPKCS1PrivateKey(k)},
			)
			continue
		}
		// An ML-KEM coefficient of 4095, not reduced modulo q = 3329
		// (FIPS 203 §7.2, modulus check).
		unreduced := bytes.Clone(raw)
		unreduced[0], unreduced[1] = 0xff, 0x0f
		cases = append(cases, rejectCase{string(alg) + "/coefficient-not-reduced", alg, 1, unreduced})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := crypto.NewEncrypter(idA, tc.version, tc.alg, tc.raw)
			if err == nil || e != nil {
				t.Fatalf("NewEncrypter = %v, %v; want an error", e, err)
			}
		})
	}
}

// TestDecryptOAEP checks the exported RSA-OAEP decryption on its own: SHA-256
// and MGF1-SHA-256, the label bound, and one error for every failure.
func TestDecryptOAEP(t *testing.T) {
	t.Parallel()
	priv := rsaPrivateOf(t, crypto.RSAOAEP2048, 0)
	other := rsaPrivateOf(t, crypto.RSAOAEP2048, 1)
	pub := &priv.PublicKey
	k := pub.Size()
	oaep := func(msg, label []byte) []byte {
		t.Helper()
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, msg, label)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	msg, label := []byte("a data key, 32 bytes long......."), []byte("label")
	ct := oaep(msg, label)
	if got, err := crypto.DecryptOAEP(priv, ct, label); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("DecryptOAEP = %q, %v", got, err)
	}
	// nil and empty labels are the same label (the SHA-256 of "").
	if got, err := crypto.DecryptOAEP(priv, oaep(nil, nil), []byte{}); err != nil || len(got) != 0 {
		t.Fatalf("empty message, nil/empty label: %q, %v", got, err)
	}
	sha1CT, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, msg, label)
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256 for the label hash, MGF1-SHA-1: not Arca's parameters.
	mgf1SHA1, err := rsa.EncryptOAEPWithOptions(rand.Reader, pub, msg, &rsa.OAEPOptions{Hash: gocrypto.SHA256, MGFHash: gocrypto.SHA1, Label: label})
	if err != nil {
		t.Fatal(err)
	}
	// A PKCS#1 v1.5 encryption block (RFC 8017 §7.2.1), 00 02 PS 00 M with
	// a non-zero PS, raised to e by hand.
	em := append([]byte{0, 2}, bytes.Repeat([]byte{0x5a}, k-3-len(msg))...)
	em = append(append(em, 0), msg...)
	v15 := new(big.Int).Exp(new(big.Int).SetBytes(em), big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, k))
	flipped := bytes.Clone(ct)
	flipped[k/2] ^= 1
	type decryptCase struct {
		key       *rsa.PrivateKey
		ct, label []byte
	}
	cases := map[string]decryptCase{
		"wrong-label":    {priv, ct, []byte("labem")},
		"no-label":       {priv, ct, nil},
		"other-key":      {other, ct, label},
		"flipped-bit":    {priv, flipped, label},
		"sha1-oaep":      {priv, sha1CT, label},
		"mgf1-sha1":      {priv, mgf1SHA1, label},
		"pkcs1v15":       {priv, v15, nil},
		"one-byte-short": {priv, ct[1:], label},
		"one-byte-long":  {priv, append([]byte{0}, ct...), label},
		"nil":            {priv, nil, label},
		"zeros":          {priv, make([]byte, k), label},
		"above-modulus":  {priv, bytes.Repeat([]byte{0xff}, k), label},
		"modulus-itself": {priv, priv.N.FillBytes(make([]byte, k)), label},
		"one":            {priv, big.NewInt(1).FillBytes(make([]byte, k)), label},
		"double-size":    {priv, append(bytes.Clone(ct), ct...), label},
	}
	// A ciphertext whose first byte is zero is the same integer without
	// it: only the length check refuses that shorter, non-canonical form.
	// About one ciphertext in 200 starts with a zero under this modulus.
	for i := 0; ; i++ {
		c := oaep(msg, label)
		if c[0] != 0 {
			if i == 20000 {
				t.Fatal("no ciphertext with a leading zero byte in 20000")
			}
			continue
		}
		if got, err := crypto.DecryptOAEP(priv, c, label); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("leading zero byte: DecryptOAEP = %q, %v", got, err)
		}
		cases["leading-zero-stripped"] = decryptCase{priv, c[1:], label}
		break
	}
	for name, tc := range cases {
		got, err := crypto.DecryptOAEP(tc.key, tc.ct, tc.label)
		// The very same error value: no detail that would tell a padding
		// failure from a length or label failure.
		if got != nil || err != crypto.ErrDecrypt {
			t.Errorf("%s: DecryptOAEP = %x, %v; want exactly ErrDecrypt", name, got, err)
		}
	}
}
