package keywrap_test

import (
	"bytes"
	gocrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hpke"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/keywrap"
	"github.com/arcakms/arca/internal/secret"
)

// mlkem768OID is the FIPS 203 SubjectPublicKeyInfo OID of ML-KEM-768
// (id-alg-ml-kem-768); ML-KEM-1024's is the next one.
var (
	mlkem768OID  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}
	mlkem1024OID = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 3}
)

type spki struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// spkiPEM encodes a SubjectPublicKeyInfo as PEM, with trailing DER bytes.
func spkiPEM(tb testing.TB, s spki, trailing ...byte) string {
	tb.Helper()
	der, err := asn1.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: append(der, trailing...)}))
}

func mlkemSPKI(oid asn1.ObjectIdentifier, raw []byte) spki {
	return spki{pkix.AlgorithmIdentifier{Algorithm: oid}, asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)}}
}

// wrappedLen is the length of the wrapped form of n bytes of material: the
// RSA-OAEP block then AES-KWP (n padded to 8 bytes, plus 8), or the ML-KEM-768
// ciphertext then the sealed material and its AES-256-GCM tag.
func wrappedLen(s keywrap.Scheme, rsaBytes, n int) int {
	if s == keywrap.RSAAESKeyWrap {
		return rsaBytes + (n+7)/8*8 + 8
	}
	return mlkem.CiphertextSize768 + n + 16
}

func TestParseScheme(t *testing.T) {
	t.Parallel()
	if got := keywrap.Schemes(); !slices.Equal(got, []keywrap.Scheme{"rsa-oaep-sha256-aes-kwp", "ml-kem-768-hpke"}) {
		t.Fatalf("Schemes() = %v: names and order are part of the API", got)
	}
	for in, want := range map[string]keywrap.Scheme{
		"":                        keywrap.RSAAESKeyWrap, // the default
		"rsa-oaep-sha256-aes-kwp": keywrap.RSAAESKeyWrap,
		"ml-kem-768-hpke":         keywrap.MLKEM768HPKE,
	} {
		if got, err := keywrap.ParseScheme(in); err != nil || got != want {
			t.Errorf("ParseScheme(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		" ", "RSA-OAEP-SHA256-AES-KWP", "rsa-oaep-sha256-aes-kwp ", "rsa-oaep-sha1-aes-kwp", "rsa-oaep-sha256",
		"rsa", "RSA_AES_KEY_WRAP_SHA_256", "ml-kem-768", "ml-kem-1024-hpke", "ML-KEM-768-HPKE", "hpke", "aes-kwp",
	} {
		if got, err := keywrap.ParseScheme(in); err == nil || got != "" {
			t.Errorf("ParseScheme(%q) = %q, %v; want an error", in, got, err)
		}
	}
}

// TestGenerateKey checks the key pairs: RSA-3072 as PKCS#8 with its
// SubjectPublicKeyInfo, ML-KEM-768 as the 64-byte seed with the FIPS 203
// SubjectPublicKeyInfo of its encapsulation key.
func TestGenerateKey(t *testing.T) {
	t.Parallel()
	for _, s := range keywrap.Schemes() {
		priv, pub := keyPair(t, s, 0)
		other, otherPub := keyPair(t, s, 1)
		if bytes.Equal(priv.Reveal(), other.Reveal()) || pub == otherPub {
			t.Errorf("%s: two generated keys are equal", s)
		}
		block, rest := pem.Decode([]byte(pub))
		if block == nil || block.Type != "PUBLIC KEY" || len(block.Headers) != 0 || len(bytes.TrimSpace(rest)) != 0 {
			t.Fatalf("%s: public key PEM %q", s, pub)
		}
		switch s {
		case keywrap.RSAAESKeyWrap:
			k := rsaPrivate(t, priv)
			if k.N.BitLen() != 3072 {
				t.Errorf("%s: RSA-%d, want RSA-3072", s, k.N.BitLen())
			}
			p, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil || !k.PublicKey.Equal(p) {
				t.Errorf("%s: public key is not the private key's (%v)", s, err)
			}
		case keywrap.MLKEM768HPKE:
			if priv.Len() != mlkem.SeedSize {
				t.Fatalf("%s: private key of %d bytes, want the %d-byte seed", s, priv.Len(), mlkem.SeedSize)
			}
			dk, err := mlkem.NewDecapsulationKey768(priv.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			var got spki
			if rest, err := asn1.Unmarshal(block.Bytes, &got); err != nil || len(rest) != 0 {
				t.Fatalf("%s: SPKI: %v", s, err)
			}
			if !got.Algorithm.Algorithm.Equal(mlkem768OID) || len(got.Algorithm.Parameters.FullBytes) != 0 ||
				got.PublicKey.BitLength != 8*len(got.PublicKey.Bytes) || !bytes.Equal(got.PublicKey.Bytes, dk.EncapsulationKey().Bytes()) {
				t.Errorf("%s: SPKI is not the FIPS 203 encoding of the seed's encapsulation key", s)
			}
		}
	}
	if priv, pub, err := keywrap.GenerateKey("ml-kem-1024-hpke"); err == nil || priv != nil || pub != "" {
		t.Errorf("GenerateKey of an unknown scheme = %v, %q, %v", priv, pub, err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	sizes := []int{keywrap.MinMaterial, 17, 24, 31, 32, 33, 48, 64, 100, 1000, 4096, keywrap.MaxMaterial}
	for _, s := range keywrap.Schemes() {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			priv, pub := keyPair(t, s, 0)
			for _, n := range sizes {
				m := pattern(n)
				w1, err := keywrap.Wrap(s, pub, m)
				if err != nil {
					t.Fatalf("Wrap(%d bytes): %v", n, err)
				}
				if len(w1) != wrappedLen(s, 384, n) {
					t.Fatalf("%d bytes wrap to %d, want %d", n, len(w1), wrappedLen(s, 384, n))
				}
				if bytes.Contains(w1, m) {
					t.Fatalf("%d bytes: the wrapped form contains the material", n)
				}
				got, err := keywrap.Unwrap(s, priv, w1)
				if err != nil || !bytes.Equal(got.Reveal(), m) {
					t.Fatalf("Unwrap(%d bytes) = %v", n, err)
				}
				// Randomised: the same material wraps differently.
				w2, err := keywrap.Wrap(s, pub, m)
				if err != nil || bytes.Equal(w1, w2) {
					t.Fatalf("%d bytes: wrapping twice gives the same bytes (%v)", n, err)
				}
			}
		})
	}
}

// TestWrapCallerRSAKey wraps under a caller's own RSA-4096 key, as an
// exporter's, and refuses an RSA-2048 one.
func TestWrapCallerRSAKey(t *testing.T) {
	t.Parallel()
	k := rsaKey(t, 4096)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	m := pattern(32)
	w, err := keywrap.Wrap(keywrap.RSAAESKeyWrap, publicPEM(t, &k.PublicKey), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != wrappedLen(keywrap.RSAAESKeyWrap, 512, 32) {
		t.Fatalf("wrapped length %d", len(w))
	}
	got, err := keywrap.Unwrap(keywrap.RSAAESKeyWrap, secret.New(der), w)
	if err != nil || !bytes.Equal(got.Reveal(), m) {
		t.Fatalf("Unwrap: %v", err)
	}
	small := rsaKey(t, 2048)
	if w, err := keywrap.Wrap(keywrap.RSAAESKeyWrap, publicPEM(t, &small.PublicKey), m); !errors.Is(err, keywrap.ErrPublicKey) || w != nil {
		t.Fatalf("RSA-2048: Wrap = %x, %v; want ErrPublicKey", w, err)
	}
}

// TestWrapRejectsPublicKey checks the public keys Wrap refuses with
// ErrPublicKey: of the wrong type, size or scheme, in the wrong encoding, or
// with anything around or inside the PEM block.
func TestWrapRejectsPublicKey(t *testing.T) {
	t.Parallel()
	_, rsaPub := keyPair(t, keywrap.RSAAESKeyWrap, 0)
	_, mlkemPub := keyPair(t, keywrap.MLKEM768HPKE, 0)
	rsa3072 := func() *rsa.PublicKey {
		block, _ := pem.Decode([]byte(rsaPub))
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return k.(*rsa.PublicKey)
	}()
	mlkemRaw := func() []byte {
		block, _ := pem.Decode([]byte(mlkemPub))
		var s spki
		if _, err := asn1.Unmarshal(block.Bytes, &s); err != nil {
			t.Fatal(err)
		}
		return s.PublicKey.Bytes
	}()
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dk1024, err := mlkem.GenerateKey1024()
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := pem.Decode([]byte(rsaPub))
	unreduced := bytes.Clone(mlkemRaw)
	unreduced[0], unreduced[1] = 0xff, 0x0f // a coefficient of 4095 ≥ q
	shortBits := mlkemSPKI(mlkem768OID, mlkemRaw)
	shortBits.PublicKey.BitLength--
	withNull := mlkemSPKI(mlkem768OID, mlkemRaw)
	withNull.Algorithm.Parameters = asn1.NullRawValue
	both := map[string]string{
		"empty":               "",
		"spaces":              "  \n",
		"der-not-pem":         string(rsaDER.Bytes),
		"base64-no-armour":    base64.StdEncoding.EncodeToString(rsaDER.Bytes),
		"trailing-garbage":    "x",
		"two-blocks":          "twice",
		"rsa-public-key-type": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsa3072)})),
		"pkcs1-in-public-key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsa3072)})),
		"certificate-type":    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rsaDER.Bytes})),
		"headers":             string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: rsaDER.Bytes})),
		"ecdsa-p256":          publicPEM(t, &p256.PublicKey),
		"ed25519":             publicPEM(t, ed),
	}
	cases := map[keywrap.Scheme]map[string]string{
		keywrap.RSAAESKeyWrap: {
			"rsa-2048":     publicPEM(t, &rsaKey(t, 2048).PublicKey),
			"ml-kem-768":   mlkemPub,
			"spki-trailer": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: append(bytes.Clone(rsaDER.Bytes), 0)})),
		},
		keywrap.MLKEM768HPKE: {
			"rsa-3072":              rsaPub,
			"ml-kem-1024":           spkiPEM(t, mlkemSPKI(mlkem1024OID, dk1024.EncapsulationKey().Bytes())),
			"ml-kem-768-oid-1024":   spkiPEM(t, mlkemSPKI(mlkem768OID, dk1024.EncapsulationKey().Bytes())),
			"ml-kem-1024-oid-768":   spkiPEM(t, mlkemSPKI(mlkem1024OID, mlkemRaw)),
			"key-one-byte-short":    spkiPEM(t, mlkemSPKI(mlkem768OID, mlkemRaw[:len(mlkemRaw)-1])),
			"key-one-byte-long":     spkiPEM(t, mlkemSPKI(mlkem768OID, append(bytes.Clone(mlkemRaw), 0))),
			"unused-bits":           spkiPEM(t, shortBits),
			"null-parameters":       spkiPEM(t, withNull),
			"spki-trailer":          spkiPEM(t, mlkemSPKI(mlkem768OID, mlkemRaw), 0),
			"coefficient-unreduced": spkiPEM(t, mlkemSPKI(mlkem768OID, unreduced)),
		},
	}
	for s, own := range map[keywrap.Scheme]string{keywrap.RSAAESKeyWrap: rsaPub, keywrap.MLKEM768HPKE: mlkemPub} {
		if _, err := keywrap.Wrap(s, own, pattern(32)); err != nil {
			t.Fatalf("%s: own public key refused: %v", s, err)
		}
		for name, p := range both {
			switch name {
			case "trailing-garbage":
				p = own + "x"
			case "two-blocks":
				p = own + own
			}
			cases[s][name] = p
		}
	}
	for s, byName := range cases {
		for name, p := range byName {
			t.Run(fmt.Sprintf("%s/%s", s, name), func(t *testing.T) {
				t.Parallel()
				w, err := keywrap.Wrap(s, p, pattern(32))
				if !errors.Is(err, keywrap.ErrPublicKey) || w != nil {
					t.Fatalf("Wrap = %x, %v; want ErrPublicKey", w, err)
				}
			})
		}
	}
	if w, err := keywrap.Wrap("rsa-oaep-sha1-aes-kwp", rsaPub, pattern(32)); err == nil || w != nil {
		t.Fatalf("unknown scheme: Wrap = %x, %v", w, err)
	}
}

// TestUnwrapTampered flips one bit in every byte of a wrapped key, in turn,
// and truncates and extends it: every change fails with ErrUnwrap.
func TestUnwrapTampered(t *testing.T) {
	t.Parallel()
	for _, s := range keywrap.Schemes() {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			priv, pub := keyPair(t, s, 0)
			m := pattern(32)
			w, err := keywrap.Wrap(s, pub, m)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, mut []byte) {
				t.Helper()
				got, err := keywrap.Unwrap(s, priv, mut)
				if err != keywrap.ErrUnwrap || got != nil { // the very same error for every failure
					t.Fatalf("%s: Unwrap = %x, %v; want exactly ErrUnwrap", what, got.Reveal(), err)
				}
			}
			for i := range w {
				mut := bytes.Clone(w)
				mut[i] ^= 1 << (i % 8)
				check(fmt.Sprintf("bit %d of byte %d flipped", i%8, i), mut)
			}
			for _, n := range []int{0, 1, len(w) / 2, len(w) - 8, len(w) - 1} {
				check(fmt.Sprintf("first %d of %d bytes", n, len(w)), w[:n])
			}
			check("one byte more", append(bytes.Clone(w), 0))
			check("eight bytes more", append(bytes.Clone(w), make([]byte, 8)...))
			check("nil", nil)
			if got, err := keywrap.Unwrap(s, priv, w); err != nil || !bytes.Equal(got.Reveal(), m) {
				t.Fatalf("the untampered key no longer unwraps: %v", err)
			}
		})
	}
}

// TestUnwrapOtherKey unwraps with another private key of the scheme
// (ErrUnwrap), with a private key of the other scheme, or under another
// scheme's name (an error, no material).
func TestUnwrapOtherKey(t *testing.T) {
	t.Parallel()
	for _, s := range keywrap.Schemes() {
		_, pub := keyPair(t, s, 0)
		other, _ := keyPair(t, s, 1)
		w, err := keywrap.Wrap(s, pub, pattern(32))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := keywrap.Unwrap(s, other, w); !errors.Is(err, keywrap.ErrUnwrap) || got != nil {
			t.Errorf("%s: another private key: Unwrap = %v, %v; want ErrUnwrap", s, got, err)
		}
		for _, o := range keywrap.Schemes() {
			if o == s {
				continue
			}
			oPriv, _ := keyPair(t, o, 0)
			if got, err := keywrap.Unwrap(s, oPriv, w); err == nil || got != nil {
				t.Errorf("%s: a %s private key: Unwrap = %v, %v; want an error", s, o, got, err)
			}
			own, _ := keyPair(t, s, 0)
			if got, err := keywrap.Unwrap(o, own, w); err == nil || got != nil {
				t.Errorf("%s blob unwrapped as %s: %v, %v; want an error", s, o, got, err)
			}
		}
		for _, bad := range []*secret.Bytes{nil, secret.New(nil), secret.New(pattern(32)), secret.New(pattern(65))} {
			if got, err := keywrap.Unwrap(s, bad, w); err == nil || got != nil {
				t.Errorf("%s: a %d-byte private key: Unwrap = %v, %v; want an error", s, bad.Len(), got, err)
			}
		}
		own, _ := keyPair(t, s, 0)
		if got, err := keywrap.Unwrap("aes-kw", own, w); err == nil || got != nil {
			t.Errorf("unknown scheme: Unwrap = %v, %v", got, err)
		}
	}
}

// TestMaterialBounds checks the material sizes, 16 to 8192 bytes, both ways:
// Wrap refuses the others, and Unwrap refuses them from any other sender.
func TestMaterialBounds(t *testing.T) {
	t.Parallel()
	if keywrap.MinMaterial != 16 || keywrap.MaxMaterial != 8192 {
		t.Fatalf("bounds %d to %d, want 16 to 8192", keywrap.MinMaterial, keywrap.MaxMaterial)
	}
	outside := []int{0, 1, 8, 9, 15, 8193, 8200, 10000}
	for _, s := range keywrap.Schemes() {
		priv, pub := keyPair(t, s, 0)
		for _, n := range outside {
			w, err := keywrap.Wrap(s, pub, pattern(n))
			if err == nil || w != nil || errors.Is(err, keywrap.ErrPublicKey) || !strings.Contains(err.Error(), "16 to 8192 bytes") {
				t.Errorf("%s: Wrap(%d bytes) = %d bytes, %v; want a size error", s, n, len(w), err)
			}
			if n == 0 {
				continue // AES-KWP cannot wrap nothing
			}
			// The same sizes, wrapped by hand in the scheme's format.
			var made []byte
			switch s {
			case keywrap.RSAAESKeyWrap:
				made = rsaWrapByHand(t, &rsaPrivate(t, priv).PublicKey, pattern(32), pattern(n), nil, gocrypto.SHA256)
			case keywrap.MLKEM768HPKE:
				made = hpkeWrapByHand(t, priv, pattern(n), "arca/v1/keywrap")
			}
			if got, err := keywrap.Unwrap(s, priv, made); !errors.Is(err, keywrap.ErrUnwrap) || got != nil {
				t.Errorf("%s: Unwrap of %d bytes wrapped by hand = %v, %v; want ErrUnwrap", s, n, got, err)
			}
		}
	}
}

// rsaWrapByHand builds the rsa-oaep-sha256-aes-kwp format from its
// definition: RSA-OAEP (hash h for OAEP and MGF1, label) of the AES key,
// then RFC 5649 AES-KWP of the material under it.
func rsaWrapByHand(tb testing.TB, pub *rsa.PublicKey, aesKey, material, label []byte, h gocrypto.Hash) []byte {
	tb.Helper()
	head, err := rsa.EncryptOAEP(h.New(), rand.Reader, pub, aesKey, label)
	if err != nil {
		tb.Fatal(err)
	}
	tail, err := kwpWrap(aesKey, material)
	if err != nil {
		tb.Fatal(err)
	}
	return append(head, tail...)
}

// hpkeWrapByHand builds the ml-kem-768-hpke format from its definition:
// single-shot HPKE base mode, ML-KEM-768, HKDF-SHA256, AES-256-GCM, the
// given info and no associated data; enc then the ciphertext.
func hpkeWrapByHand(tb testing.TB, seed *secret.Bytes, material []byte, info string) []byte {
	tb.Helper()
	dk, err := mlkem.NewDecapsulationKey768(seed.Reveal())
	if err != nil {
		tb.Fatal(err)
	}
	pk, err := hpke.NewMLKEMPublicKey(dk.EncapsulationKey())
	if err != nil {
		tb.Fatal(err)
	}
	out, err := hpke.Seal(pk, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte(info), material)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestRSAFormat pins the rsa-oaep-sha256-aes-kwp format: Wrap's output
// unwraps by hand (RSA-OAEP with SHA-256, MGF1-SHA-256 and no label, then
// RFC 5649), material wrapped by hand unwraps, and departures from the
// format do not.
func TestRSAFormat(t *testing.T) {
	t.Parallel()
	priv, pub := keyPair(t, keywrap.RSAAESKeyWrap, 0)
	rk := rsaPrivate(t, priv)
	n := rk.Size()
	for _, size := range []int{16, 32, 33, 100} {
		m := pattern(size)
		w, err := keywrap.Wrap(keywrap.RSAAESKeyWrap, pub, m)
		if err != nil {
			t.Fatal(err)
		}
		aesKey, err := rsa.DecryptOAEP(sha256.New(), nil, rk, w[:n], nil)
		if err != nil || len(aesKey) != 32 {
			t.Fatalf("%d bytes: head is not RSA-OAEP-SHA256 of a 32-byte key (%d bytes, %v)", size, len(aesKey), err)
		}
		got, err := kwpUnwrap(aesKey, w[n:])
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("%d bytes: tail is not RFC 5649 AES-KWP of the material under that key: %v", size, err)
		}
		made := rsaWrapByHand(t, &rk.PublicKey, bytes.Repeat([]byte{0x5a}, 32), m, nil, gocrypto.SHA256)
		if got, err := keywrap.Unwrap(keywrap.RSAAESKeyWrap, priv, made); err != nil || !bytes.Equal(got.Reveal(), m) {
			t.Fatalf("%d bytes wrapped by hand: Unwrap = %v", size, err)
		}
	}
	m := pattern(32)
	for name, made := range map[string][]byte{
		"oaep-label":  rsaWrapByHand(t, &rk.PublicKey, pattern(32), m, []byte("label"), gocrypto.SHA256),
		"oaep-sha1":   rsaWrapByHand(t, &rk.PublicKey, pattern(32), m, nil, gocrypto.SHA1),
		"aes-128-key": rsaWrapByHand(t, &rk.PublicKey, pattern(16), m, nil, gocrypto.SHA256),
		"aes-192-key": rsaWrapByHand(t, &rk.PublicKey, pattern(24), m, nil, gocrypto.SHA256),
		"33-byte-key": append(mustOAEP(t, &rk.PublicKey, pattern(33)), mustKWP(t, pattern(32), m)...),
		"tail-first": func() []byte {
			w := rsaWrapByHand(t, &rk.PublicKey, pattern(32), m, nil, gocrypto.SHA256)
			return append(w[n:], w[:n]...)
		}(),
		"aes-kw-no-pad":  append(rsaWrapByHand(t, &rk.PublicKey, pattern(32), m, nil, gocrypto.SHA256)[:n], kwWrap(pattern(32), m)...),
		"kwp-other-key":  append(rsaWrapByHand(t, &rk.PublicKey, pattern(32), m, nil, gocrypto.SHA256)[:n], mustKWP(t, bytes.Repeat([]byte{1}, 32), m)...),
		"head-only":      rsaWrapByHand(t, &rk.PublicKey, pattern(32), m, nil, gocrypto.SHA256)[:n],
		"head-from-4096": append(mustOAEP(t, &rsaKey(t, 4096).PublicKey, pattern(32)), mustKWP(t, pattern(32), m)...),
	} {
		if got, err := keywrap.Unwrap(keywrap.RSAAESKeyWrap, priv, made); !errors.Is(err, keywrap.ErrUnwrap) || got != nil {
			t.Errorf("%s: Unwrap = %v, %v; want ErrUnwrap", name, got, err)
		}
	}
}

func mustKWP(tb testing.TB, kek, m []byte) []byte {
	tb.Helper()
	w, err := kwpWrap(kek, m)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func mustOAEP(tb testing.TB, pub *rsa.PublicKey, m []byte) []byte {
	tb.Helper()
	c, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, m, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestHPKEFormat pins the ml-kem-768-hpke format: Wrap's output opens with
// single-shot HPKE (ML-KEM-768, HKDF-SHA256, AES-256-GCM, info
// "arca/v1/keywrap", no associated data) under the seed's key, material
// sealed that way unwraps, and another info or AEAD does not.
func TestHPKEFormat(t *testing.T) {
	t.Parallel()
	priv, pub := keyPair(t, keywrap.MLKEM768HPKE, 0)
	dk, err := mlkem.NewDecapsulationKey768(priv.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	sk, err := hpke.NewMLKEMPrivateKey(dk)
	if err != nil {
		t.Fatal(err)
	}
	m := pattern(32)
	w, err := keywrap.Wrap(keywrap.MLKEM768HPKE, pub, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hpke.Open(sk, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte("arca/v1/keywrap"), w)
	if err != nil || !bytes.Equal(got, m) {
		t.Fatalf("Wrap's output does not open by hand: %v", err)
	}
	if u, err := keywrap.Unwrap(keywrap.MLKEM768HPKE, priv, hpkeWrapByHand(t, priv, m, "arca/v1/keywrap")); err != nil || !bytes.Equal(u.Reveal(), m) {
		t.Fatalf("material sealed by hand: Unwrap = %v", err)
	}
	pk, err := hpke.NewMLKEMPublicKey(dk.EncapsulationKey())
	if err != nil {
		t.Fatal(err)
	}
	chacha, err := hpke.Seal(pk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte("arca/v1/keywrap"), m)
	if err != nil {
		t.Fatal(err)
	}
	for name, made := range map[string][]byte{
		"info-asymmetric-encrypt": hpkeWrapByHand(t, priv, m, "arca/v1/asymmetric-encrypt"),
		"no-info":                 hpkeWrapByHand(t, priv, m, ""),
		"chacha20-poly1305":       chacha,
	} {
		if u, err := keywrap.Unwrap(keywrap.MLKEM768HPKE, priv, made); !errors.Is(err, keywrap.ErrUnwrap) || u != nil {
			t.Errorf("%s: Unwrap = %v, %v; want ErrUnwrap", name, u, err)
		}
	}
}

// TestTextBeforeThePEMBlockIsRefused: a wrapping public key has one form,
// the PEM block alone (surrounding white space aside).
func TestTextBeforeThePEMBlockIsRefused(t *testing.T) {
	t.Parallel()
	_, pub := keyPair(t, keywrap.MLKEM768HPKE, 0)
	if _, err := keywrap.Wrap(keywrap.MLKEM768HPKE, "\n "+pub+"\n", pattern(32)); err != nil {
		t.Fatalf("white space around the block: %v", err)
	}
	if _, err := keywrap.Wrap(keywrap.MLKEM768HPKE, "note: my key\n"+pub, pattern(32)); !errors.Is(err, keywrap.ErrPublicKey) {
		t.Fatalf("text before the block: %v, want ErrPublicKey", err)
	}
}
