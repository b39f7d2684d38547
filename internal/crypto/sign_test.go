package crypto_test

import (
	"bytes"
	gocrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	circlsign "github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/secret"
)

// signInfo is what the API promises about a signing algorithm, literal on
// purpose (see algorithmTable).
type signInfo struct {
	hash    gocrypto.Hash // 0 for ed25519 and ML-DSA
	kty     string        // JWK key type
	crv     string        // JWK curve
	coord   int           // JWK EC coordinate length in bytes
	rsaBits int
	// ML-DSA (FIPS 204): circl scheme, SPKI OID, JWK "alg", public key and
	// signature sizes.
	pq      circlsign.Scheme
	oid     asn1.ObjectIdentifier
	jwkAlg  string
	pubSize int
	sigSize int
}

var signTable = map[crypto.Algorithm]signInfo{
	crypto.ECDSAP256: {hash: gocrypto.SHA256, kty: "EC", crv: "P-256", coord: 32},
	crypto.ECDSAP384: {hash: gocrypto.SHA384, kty: "EC", crv: "P-384", coord: 48},
	crypto.ECDSAP521: {hash: gocrypto.SHA512, kty: "EC", crv: "P-521", coord: 66},
	crypto.Ed25519:   {kty: "OKP", crv: "Ed25519"},
	crypto.RSA2048:   {hash: gocrypto.SHA256, kty: "RSA", rsaBits: 2048},
	crypto.RSA3072:   {hash: gocrypto.SHA256, kty: "RSA", rsaBits: 3072},
	crypto.RSA4096:   {hash: gocrypto.SHA256, kty: "RSA", rsaBits: 4096},
	crypto.MLDSA44:   {kty: "AKP", pq: mldsa44.Scheme(), oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}, jwkAlg: "ML-DSA-44", pubSize: 1312, sigSize: 2420},
	crypto.MLDSA65:   {kty: "AKP", pq: mldsa65.Scheme(), oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}, jwkAlg: "ML-DSA-65", pubSize: 1952, sigSize: 3309},
	crypto.MLDSA87:   {kty: "AKP", pq: mldsa87.Scheme(), oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}, jwkAlg: "ML-DSA-87", pubSize: 2592, sigSize: 4627},
}

func signSpec(tb testing.TB, alg crypto.Algorithm) signInfo {
	tb.Helper()
	s, ok := signTable[alg]
	if !ok {
		tb.Fatalf("%s is not in the test's sign table", alg)
	}
	return s
}

func isRSA(alg crypto.Algorithm) bool { return strings.HasPrefix(string(alg), "rsa-") }

// paddingsFor is every padding value Sign accepts for alg.
func paddingsFor(alg crypto.Algorithm) []crypto.Padding {
	if isRSA(alg) {
		return []crypto.Padding{"", crypto.PaddingPSS, crypto.PaddingPKCS1v15}
	}
	return []crypto.Padding{""}
}

func hashOf(h gocrypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}

// privateOf parses the cached PKCS#8 material with the standard library, or
// for ML-DSA derives the key from the cached seed with circl.
func privateOf(tb testing.TB, alg crypto.Algorithm, n int) gocrypto.Signer {
	tb.Helper()
	m := signMaterial(tb, alg, n)
	defer m.Wipe()
	if si := signSpec(tb, alg); si.pq != nil {
		if m.Len() != si.pq.SeedSize() {
			tb.Fatalf("%s material of %d bytes, want a %d-byte seed", alg, m.Len(), si.pq.SeedSize())
		}
		_, sk := si.pq.DeriveKey(m.Reveal())
		return sk.(gocrypto.Signer)
	}
	k, err := x509.ParsePKCS8PrivateKey(m.Reveal())
	if err != nil {
		tb.Fatal(err)
	}
	return k.(gocrypto.Signer)
}

// stdVerify verifies sig over msg with the standard library alone, with the
// parameters the API documents (PSS salt length = hash length).
func stdVerify(pub gocrypto.PublicKey, si signInfo, msg, sig []byte, p crypto.Padding) error {
	switch key := pub.(type) {
	case circlsign.PublicKey:
		// FIPS 204 pure ML-DSA, empty context.
		if si.pq == nil || key.Scheme().Name() != si.pq.Name() || !si.pq.Verify(key, msg, sig, nil) {
			return errors.New("ml-dsa: invalid")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(key, msg, sig) {
			return errors.New("ed25519: invalid")
		}
		return nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(key, hashOf(si.hash, msg), sig) {
			return errors.New("ecdsa: invalid")
		}
		return nil
	case *rsa.PublicKey:
		if p == crypto.PaddingPKCS1v15 {
			return rsa.VerifyPKCS1v15(key, si.hash, hashOf(si.hash, msg), sig)
		}
		return rsa.VerifyPSS(key, si.hash, hashOf(si.hash, msg), sig, &rsa.PSSOptions{SaltLength: si.hash.Size(), Hash: si.hash})
	}
	return fmt.Errorf("unexpected key %T", pub)
}

func mustSign(tb testing.TB, k *crypto.VersionKey, msg []byte, mt crypto.MessageType, p crypto.Padding) []byte {
	tb.Helper()
	sig, err := k.Sign(msg, mt, p)
	if err != nil {
		tb.Fatalf("Sign(%q, %q): %v", mt, p, err)
	}
	return sig
}

func verifies(tb testing.TB, k *crypto.VersionKey, msg, sig []byte, mt crypto.MessageType, p crypto.Padding) bool {
	tb.Helper()
	ok, err := k.Verify(msg, sig, mt, p)
	if err != nil {
		tb.Fatalf("Verify(%q, %q): %v", mt, p, err)
	}
	return ok
}

func TestSignAlgorithms(t *testing.T) {
	t.Parallel()
	if got := signAlgorithms(); len(got) != len(signTable) {
		t.Fatalf("sign algorithms %v, want the %d of the sign table", got, len(signTable))
	}
	for _, alg := range signAlgorithms() {
		signSpec(t, alg)
		if alg.KeySize() != 0 || alg.Deterministic() {
			t.Errorf("%s: KeySize %d, Deterministic %v; want 0, false", alg, alg.KeySize(), alg.Deterministic())
		}
	}
}

// TestSignRoundTrip signs raw messages and digests with every accepted
// padding, and checks the signatures with the package and, independently,
// with the standard library.
func TestSignRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range signAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			si := signSpec(t, alg)
			k := signKey(t, alg, 0)
			other := signKey(t, alg, 1)
			pub := privateOf(t, alg, 0).Public()
			for _, p := range paddingsFor(alg) {
				for _, msg := range [][]byte{nil, []byte("hello"), pattern(1000)} {
					name := fmt.Sprintf("padding %q, %d-byte message", p, len(msg))
					sig := mustSign(t, k, msg, crypto.MessageRaw, p)
					if !verifies(t, k, msg, sig, crypto.MessageRaw, p) {
						t.Fatalf("%s: raw signature does not verify", name)
					}
					if err := stdVerify(pub, si, msg, sig, p); err != nil {
						t.Fatalf("%s: standard library rejects the signature: %v", name, err)
					}
					if verifies(t, other, msg, sig, crypto.MessageRaw, p) {
						t.Fatalf("%s: signature verifies under another key", name)
					}
					if verifies(t, k, append(bytes.Clone(msg), 0), sig, crypto.MessageRaw, p) {
						t.Fatalf("%s: signature verifies for another message", name)
					}
					switch {
					case si.rsaBits != 0:
						if len(sig) != si.rsaBits/8 {
							t.Fatalf("%s: RSA signature of %d bytes", name, len(sig))
						}
					case si.pq != nil:
						if len(sig) != si.sigSize {
							t.Fatalf("%s: ML-DSA signature of %d bytes, want %d", name, len(sig), si.sigSize)
						}
						// Arca signs with the empty context: not valid under another one.
						if si.pq.Verify(pub.(circlsign.PublicKey), msg, sig, &circlsign.SignatureOpts{Context: "arca"}) {
							t.Fatalf("%s: ML-DSA signature verifies with a non-empty context", name)
						}
					case si.kty == "EC":
						var rs struct{ R, S *big.Int }
						rest, err := asn1.Unmarshal(sig, &rs)
						if err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
							t.Fatalf("%s: ECDSA signature is not ASN.1 DER: %x (%v)", name, sig, err)
						}
						if der, _ := asn1.Marshal(rs); !bytes.Equal(der, sig) {
							t.Fatalf("%s: ECDSA signature is not canonical DER", name)
						}
					default:
						if len(sig) != ed25519.SignatureSize {
							t.Fatalf("%s: ed25519 signature of %d bytes", name, len(sig))
						}
					}

					if si.hash == 0 {
						for _, d := range [][]byte{msg, make([]byte, 32), make([]byte, 64)} {
							if _, err := k.Sign(d, crypto.MessageDigest, p); !errors.Is(err, crypto.ErrDigestNotAllowed) {
								t.Fatalf("%s Sign(digest): %v, want ErrDigestNotAllowed", alg, err)
							}
							if ok, err := k.Verify(d, sig, crypto.MessageDigest, p); ok || !errors.Is(err, crypto.ErrDigestNotAllowed) {
								t.Fatalf("%s Verify(digest): %v, %v; want ErrDigestNotAllowed", alg, ok, err)
							}
						}
						continue
					}
					d := hashOf(si.hash, msg)
					if !verifies(t, k, d, sig, crypto.MessageDigest, p) {
						t.Fatalf("%s: raw signature does not verify as a signature of the digest", name)
					}
					dsig := mustSign(t, k, d, crypto.MessageDigest, p)
					if !verifies(t, k, msg, dsig, crypto.MessageRaw, p) || !verifies(t, k, d, dsig, crypto.MessageDigest, p) {
						t.Fatalf("%s: digest signature does not verify", name)
					}
					if err := stdVerify(pub, si, msg, dsig, p); err != nil {
						t.Fatalf("%s: standard library rejects the digest signature: %v", name, err)
					}
					if verifies(t, k, d, sig, crypto.MessageRaw, p) {
						t.Fatalf("%s: a signature of the message verifies for its digest taken as a message", name)
					}
				}
			}
		})
	}
}

// TestSignDeterministicSchemes compares the deterministic schemes (ed25519,
// RSA PKCS#1 v1.5) byte for byte with the standard library.
func TestSignDeterministicSchemes(t *testing.T) {
	t.Parallel()
	msg := []byte("deterministic")
	for _, alg := range signAlgorithms() {
		si := signSpec(t, alg)
		priv := privateOf(t, alg, 0)
		k := signKey(t, alg, 0)
		switch key := priv.(type) {
		case ed25519.PrivateKey:
			if got := mustSign(t, k, msg, crypto.MessageRaw, ""); !bytes.Equal(got, ed25519.Sign(key, msg)) {
				t.Errorf("%s: signature differs from ed25519.Sign", alg)
			}
		case *rsa.PrivateKey:
			want, err := rsa.SignPKCS1v15(nil, key, si.hash, hashOf(si.hash, msg))
			if err != nil {
				t.Fatal(err)
			}
			if got := mustSign(t, k, msg, crypto.MessageRaw, crypto.PaddingPKCS1v15); !bytes.Equal(got, want) {
				t.Errorf("%s: PKCS#1 v1.5 signature differs from rsa.SignPKCS1v15", alg)
			}
			// PSS is randomised.
			s1 := mustSign(t, k, msg, crypto.MessageRaw, crypto.PaddingPSS)
			s2 := mustSign(t, k, msg, crypto.MessageRaw, crypto.PaddingPSS)
			if bytes.Equal(s1, s2) {
				t.Errorf("%s: two PSS signatures are equal", alg)
			}
		}
	}
}

// TestSignRSAPaddings checks that PSS is the default, and that a signature
// made with one padding does not verify with the other.
func TestSignRSAPaddings(t *testing.T) {
	t.Parallel()
	for _, alg := range signAlgorithms() {
		if !isRSA(alg) {
			continue
		}
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			si := signSpec(t, alg)
			k := signKey(t, alg, 0)
			pub := privateOf(t, alg, 0).Public()
			msg := []byte("padding")
			pss := mustSign(t, k, msg, crypto.MessageRaw, crypto.PaddingPSS)
			def := mustSign(t, k, msg, crypto.MessageRaw, "")
			pkcs := mustSign(t, k, msg, crypto.MessageRaw, crypto.PaddingPKCS1v15)
			for _, sig := range [][]byte{pss, def} {
				if !verifies(t, k, msg, sig, crypto.MessageRaw, crypto.PaddingPSS) || !verifies(t, k, msg, sig, crypto.MessageRaw, "") {
					t.Fatal("PSS signature does not verify as PSS")
				}
				if verifies(t, k, msg, sig, crypto.MessageRaw, crypto.PaddingPKCS1v15) {
					t.Fatal("PSS signature verifies as PKCS#1 v1.5")
				}
				if err := stdVerify(pub, si, msg, sig, crypto.PaddingPSS); err != nil {
					t.Fatalf("standard library (salt length %d): %v", si.hash.Size(), err)
				}
			}
			if verifies(t, k, msg, pkcs, crypto.MessageRaw, crypto.PaddingPSS) || verifies(t, k, msg, pkcs, crypto.MessageRaw, "") {
				t.Fatal("PKCS#1 v1.5 signature verifies as PSS")
			}
			if !verifies(t, k, msg, pkcs, crypto.MessageRaw, crypto.PaddingPKCS1v15) {
				t.Fatal("PKCS#1 v1.5 signature does not verify")
			}
		})
	}
}

// TestSignRejects checks the documented argument errors, for Sign and Verify.
func TestSignRejects(t *testing.T) {
	t.Parallel()
	for _, alg := range signAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			si := signSpec(t, alg)
			k := signKey(t, alg, 0)
			msg := []byte("message")
			sig := mustSign(t, k, msg, crypto.MessageRaw, "")
			check := func(name string, msg []byte, mt crypto.MessageType, p crypto.Padding, want error) {
				t.Helper()
				if s, err := k.Sign(msg, mt, p); !errors.Is(err, want) || s != nil {
					t.Errorf("%s: Sign = %x, %v; want %v", name, s, err, want)
				}
				if ok, err := k.Verify(msg, sig, mt, p); !errors.Is(err, want) || ok {
					t.Errorf("%s: Verify = %v, %v; want %v", name, ok, err, want)
				}
			}
			for _, mt := range []crypto.MessageType{"RAW", "Digest", "hash", "prehashed", "raw ", "x"} {
				check(fmt.Sprintf("message type %q", mt), msg, mt, "", crypto.ErrBadMessageType)
			}
			bad := []crypto.Padding{"PSS", "PKCS1v15", "pkcs1", "oaep", "none", "pss "}
			if !isRSA(alg) {
				bad = append(bad, crypto.PaddingPSS, crypto.PaddingPKCS1v15)
			}
			for _, p := range bad {
				check(fmt.Sprintf("padding %q", p), msg, crypto.MessageRaw, p, crypto.ErrBadPadding)
			}
			if si.hash == 0 {
				check("digest", make([]byte, 64), crypto.MessageDigest, "", crypto.ErrDigestNotAllowed)
				return
			}
			for _, n := range []int{0, 1, 20, 28, 32, 48, 64, si.hash.Size() - 1, si.hash.Size() + 1, 1000} {
				if n == si.hash.Size() {
					continue
				}
				for _, p := range paddingsFor(alg) {
					check(fmt.Sprintf("%d-byte digest, padding %q", n, p), pattern(n), crypto.MessageDigest, p, crypto.ErrDigestLength)
				}
			}
		})
	}
}

func flipBit(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i/8] ^= 1 << (i % 8)
	return c
}

// TestSignEveryBitFlip flips each bit of a signature, and of the message,
// and checks that Verify says false without an error. Truncated and extended
// signatures fail too.
func TestSignEveryBitFlip(t *testing.T) {
	t.Parallel()
	for _, alg := range signAlgorithms() {
		for _, p := range paddingsFor(alg)[min(1, len(paddingsFor(alg))-1):] {
			t.Run(fmt.Sprintf("%s/%s", alg, p), func(t *testing.T) {
				t.Parallel()
				si := signSpec(t, alg)
				k := signKey(t, alg, 0)
				type input struct {
					mt  crypto.MessageType
					msg []byte
				}
				inputs := []input{{crypto.MessageRaw, []byte("flip me")}}
				if si.hash != 0 {
					inputs = append(inputs, input{crypto.MessageDigest, hashOf(si.hash, []byte("flip me"))})
				}
				for _, in := range inputs {
					sig := mustSign(t, k, in.msg, in.mt, p)
					// Every bit of the raw message's signature; for the
					// digest's (the same code path after hashing) every 7th
					// bit, to keep P-384/P-521 under -race within seconds.
					step := 1
					if in.mt == crypto.MessageDigest {
						step = 7
					}
					if si.pq != nil {
						// 2420 to 4627 bytes: every 7th bit, in every
						// part of the signature (c~, z, hints).
						step = 7
					}
					for i := 0; i < len(sig)*8; i += step {
						if verifies(t, k, in.msg, flipBit(sig, i), in.mt, p) {
							t.Fatalf("%s: signature with bit %d flipped verifies", in.mt, i)
						}
					}
					for i := range len(in.msg) * 8 {
						if verifies(t, k, flipBit(in.msg, i), sig, in.mt, p) {
							t.Fatalf("%s: message with bit %d flipped verifies", in.mt, i)
						}
					}
					for _, s := range [][]byte{nil, {}, sig[:len(sig)-1], append(bytes.Clone(sig), 0), sig[1:], make([]byte, len(sig))} {
						if verifies(t, k, in.msg, s, in.mt, p) {
							t.Fatalf("%s: mangled %d-byte signature verifies", in.mt, len(s))
						}
					}
					if !verifies(t, k, in.msg, sig, in.mt, p) {
						t.Fatalf("%s: the signature itself no longer verifies", in.mt)
					}
				}
			})
		}
	}
}

// TestSignPublic checks the three forms of the public key against the
// private key and against each other.
func TestSignPublic(t *testing.T) {
	t.Parallel()
	b64 := base64.RawURLEncoding
	for _, alg := range signAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			si := signSpec(t, alg)
			k := signKey(t, alg, 0)
			want := privateOf(t, alg, 0).Public().(interface{ Equal(gocrypto.PublicKey) bool })
			pk, err := k.Public()
			if err != nil {
				t.Fatal(err)
			}
			if pk.Raw != nil {
				t.Fatalf("Raw %x: the raw form is for asymmetric encryption keys (NewEncrypter)", pk.Raw)
			}
			var parsed gocrypto.PublicKey
			var spkiKey []byte // ML-DSA: the raw public key in the SPKI
			if si.pq != nil {
				// crypto/x509 does not know ML-DSA: read the SPKI by hand
				// (RFC 9881: the FIPS 204 OID, no parameters, the raw
				// public key as the BIT STRING).
				var spki struct {
					Algorithm pkix.AlgorithmIdentifier
					PublicKey asn1.BitString
				}
				rest, err := asn1.Unmarshal(pk.DER, &spki)
				if err != nil || len(rest) != 0 {
					t.Fatalf("DER: %v, %d trailing bytes", err, len(rest))
				}
				if !spki.Algorithm.Algorithm.Equal(si.oid) {
					t.Fatalf("SPKI OID %v, want %v", spki.Algorithm.Algorithm, si.oid)
				}
				if len(spki.Algorithm.Parameters.FullBytes) != 0 {
					t.Fatalf("SPKI algorithm parameters %x, want none", spki.Algorithm.Parameters.FullBytes)
				}
				spkiKey = spki.PublicKey.Bytes
				if spki.PublicKey.BitLength != 8*len(spkiKey) || len(spkiKey) != si.pubSize {
					t.Fatalf("SPKI public key of %d bits, want %d bytes", spki.PublicKey.BitLength, si.pubSize)
				}
				if der, err := asn1.Marshal(spki); err != nil || !bytes.Equal(der, pk.DER) {
					t.Fatalf("SPKI is not canonical DER: %v", err)
				}
				if raw, err := want.(circlsign.PublicKey).MarshalBinary(); err != nil || !bytes.Equal(raw, spkiKey) {
					t.Fatalf("SPKI public key differs from circl's encoding of the private key's: %v", err)
				}
				key, err := si.pq.UnmarshalBinaryPublicKey(spkiKey)
				if err != nil {
					t.Fatalf("SPKI public key: %v", err)
				}
				parsed = key
				if _, err := x509.ParsePKIXPublicKey(pk.DER); err == nil {
					t.Log("note: crypto/x509 now parses ML-DSA public keys")
				}
			} else {
				key, err := x509.ParsePKIXPublicKey(pk.DER)
				if err != nil {
					t.Fatalf("DER: %v", err)
				}
				parsed = key
			}
			if !want.Equal(parsed) {
				t.Fatal("DER public key differs from the private key's")
			}
			// A signature verifies with the parsed public key.
			msg := []byte("public")
			if err := stdVerify(parsed, si, msg, mustSign(t, k, msg, crypto.MessageRaw, ""), ""); err != nil {
				t.Fatalf("signature does not verify with the DER public key: %v", err)
			}

			block, rest := pem.Decode([]byte(pk.PEM))
			if block == nil || block.Type != "PUBLIC KEY" || len(block.Headers) != 0 || len(bytes.TrimSpace(rest)) != 0 {
				t.Fatalf("PEM: %q", pk.PEM)
			}
			if !bytes.Equal(block.Bytes, pk.DER) {
				t.Fatal("PEM does not hold the DER")
			}

			jwk := pk.JWK
			str := func(name string) string {
				t.Helper()
				v, ok := jwk[name].(string)
				if !ok {
					t.Fatalf("JWK member %q: %#v", name, jwk[name])
				}
				return v
			}
			dec := func(name string) []byte {
				t.Helper()
				b, err := b64.DecodeString(str(name))
				if err != nil {
					t.Fatalf("JWK member %q is not base64url without padding: %v", name, err)
				}
				return b
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv", "seed"} {
				if _, ok := jwk[private]; ok {
					t.Fatalf("JWK has the private member %q", private)
				}
			}
			if kty := str("kty"); kty != si.kty {
				t.Fatalf("JWK kty %q, want %q", kty, si.kty)
			}
			var rebuilt gocrypto.PublicKey
			switch si.kty {
			case "EC":
				if crv := str("crv"); crv != si.crv {
					t.Fatalf("JWK crv %q, want %q", crv, si.crv)
				}
				x, y := dec("x"), dec("y")
				if len(x) != si.coord || len(y) != si.coord {
					t.Fatalf("JWK coordinates of %d and %d bytes, want %d (RFC 7518 6.2.1.2)", len(x), len(y), si.coord)
				}
				curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[si.crv]
				key, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
				if err != nil {
					t.Fatalf("JWK point: %v", err)
				}
				rebuilt = key
			case "OKP":
				if crv := str("crv"); crv != si.crv {
					t.Fatalf("JWK crv %q, want %q", crv, si.crv)
				}
				x := dec("x")
				if len(x) != ed25519.PublicKeySize {
					t.Fatalf("JWK x of %d bytes", len(x))
				}
				rebuilt = ed25519.PublicKey(x)
			case "AKP":
				if _, ok := jwk["crv"]; ok {
					t.Fatal("AKP JWK with a crv")
				}
				if a := str("alg"); a != si.jwkAlg {
					t.Fatalf("JWK alg %q, want %q", a, si.jwkAlg)
				}
				raw := dec("pub")
				if !bytes.Equal(raw, spkiKey) {
					t.Fatal("JWK pub differs from the SPKI public key")
				}
				key, err := si.pq.UnmarshalBinaryPublicKey(raw)
				if err != nil {
					t.Fatalf("JWK pub: %v", err)
				}
				rebuilt = key
			case "RSA":
				if _, ok := jwk["crv"]; ok {
					t.Fatal("RSA JWK with a crv")
				}
				n, e := dec("n"), dec("e")
				if len(n) == 0 || n[0] == 0 || len(e) == 0 || e[0] == 0 {
					t.Fatalf("JWK n or e with leading zeros or empty (RFC 7518 6.3.1): n %x e %x", n[:min(len(n), 4)], e)
				}
				if len(n)*8 != si.rsaBits {
					t.Fatalf("JWK modulus of %d bits, want %d", len(n)*8, si.rsaBits)
				}
				rebuilt = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
			}
			if !want.Equal(rebuilt) {
				t.Fatal("JWK rebuilds another public key")
			}
			// Stable, and different for another key.
			again, err := k.Public()
			if err != nil || !bytes.Equal(again.DER, pk.DER) || again.PEM != pk.PEM {
				t.Fatalf("Public is not stable: %v", err)
			}
			o, err := signKey(t, alg, 1).Public()
			if err != nil || bytes.Equal(o.DER, pk.DER) {
				t.Fatalf("another key has the same public key: %v", err)
			}
		})
	}
}

// TestSignWrongPurpose checks that signing operations refuse encrypt and MAC
// keys, and that encrypt and MAC operations refuse signing keys. Asymmetric
// encryption keys have a public key, but do not sign.
func TestSignWrongPurpose(t *testing.T) {
	t.Parallel()
	enc := newKey(t, crypto.AES256GCM, idA, 1, 0x13)
	c := seal(t, enc, []byte("pt"), crypto.Binding{})
	for _, alg := range encryptAlgorithms() {
		if !isAsymmetric(alg) {
			continue
		}
		k := newKey(t, alg, idA, 1, 0x13)
		for _, mt := range []crypto.MessageType{crypto.MessageRaw, crypto.MessageDigest} {
			if sig, err := k.Sign(make([]byte, 32), mt, ""); !errors.Is(err, crypto.ErrWrongPurpose) || sig != nil {
				t.Errorf("%s: Sign(%s) = %x, %v; want ErrWrongPurpose", alg, mt, sig, err)
			}
			if ok, err := k.Verify(make([]byte, 32), make([]byte, 64), mt, ""); !errors.Is(err, crypto.ErrWrongPurpose) || ok {
				t.Errorf("%s: Verify(%s) = %v, %v; want ErrWrongPurpose", alg, mt, ok, err)
			}
		}
		if pk, err := k.Public(); err != nil || len(pk.Raw) == 0 {
			t.Errorf("%s: Public = %v, %v; want the public key", alg, pk, err)
		}
	}
	for _, alg := range append(symmetricAlgorithms(), macAlgorithms()...) {
		k := newKey(t, alg, idA, 1, 0x13)
		for _, mt := range []crypto.MessageType{crypto.MessageRaw, crypto.MessageDigest} {
			if sig, err := k.Sign(make([]byte, 32), mt, ""); !errors.Is(err, crypto.ErrWrongPurpose) || sig != nil {
				t.Errorf("%s: Sign(%s) = %x, %v; want ErrWrongPurpose", alg, mt, sig, err)
			}
			if ok, err := k.Verify(make([]byte, 32), make([]byte, 64), mt, ""); !errors.Is(err, crypto.ErrWrongPurpose) || ok {
				t.Errorf("%s: Verify(%s) = %v, %v; want ErrWrongPurpose", alg, mt, ok, err)
			}
		}
		if pk, err := k.Public(); !errors.Is(err, crypto.ErrWrongPurpose) || pk != nil {
			t.Errorf("%s: Public = %v, %v; want ErrWrongPurpose", alg, pk, err)
		}
	}
	for _, alg := range signAlgorithms() {
		k := signKey(t, alg, 0)
		if c, err := k.Seal([]byte("pt"), sampleBinding()); !errors.Is(err, crypto.ErrWrongPurpose) || c != nil {
			t.Errorf("%s: Seal = %v, %v; want ErrWrongPurpose", alg, c, err)
		}
		if pt, err := k.Open(c, crypto.Binding{}); !errors.Is(err, crypto.ErrWrongPurpose) || pt != nil {
			t.Errorf("%s: Open = %q, %v; want ErrWrongPurpose", alg, pt, err)
		}
		if tag, err := k.MAC([]byte("data")); !errors.Is(err, crypto.ErrWrongPurpose) || tag != nil {
			t.Errorf("%s: MAC = %x, %v; want ErrWrongPurpose", alg, tag, err)
		}
		if ok, err := k.VerifyMAC([]byte("data"), make([]byte, 32)); !errors.Is(err, crypto.ErrWrongPurpose) || ok {
			t.Errorf("%s: VerifyMAC = %v, %v; want ErrWrongPurpose", alg, ok, err)
		}
	}
}

// TestSignRejectsForeignMaterial feeds each signing algorithm the material
// of every other one, and keys of the right family with the wrong
// parameters or encoding.
func TestSignRejectsForeignMaterial(t *testing.T) {
	t.Parallel()
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256 := privateOf(t, crypto.ECDSAP256, 0).(*ecdsa.PrivateKey)
	rsa2048 := privateOf(t, crypto.RSA2048, 0).(*rsa.PrivateKey)
	ed := privateOf(t, crypto.Ed25519, 0).(ed25519.PrivateKey)
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	spki := func(k gocrypto.Signer) []byte {
		der, err := x509.MarshalPKIXPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	foreign := map[string][]byte{
		"p224-pkcs8":    pkcs8(p224),
		"p256-sec1":     sec1,
		"rsa2048-pkcs1": x509.MarshalPKCS1PrivateKey(rsa2048),
		"p256-spki":     spki(p256),
		"rsa2048-spki":  spki(rsa2048),
		"ed25519-seed":  ed.Seed(),
		"ed25519-raw":   ed,
		"garbage":       pattern(200),
		// ML-DSA material: any 32 bytes are a FIPS 204 seed, which no
		// other signing algorithm may take.
		"mldsa-seed": material(mldsaSeedSize, 0x5e).Reveal(),
	}
	for _, alg := range signAlgorithms() {
		own := signMaterial(t, alg, 0)
		for _, n := range []int{own.Len() - 1, own.Len() / 2, 1} {
			foreign[fmt.Sprintf("%s-truncated-to-%d", alg, n)] = bytes.Clone(own.Reveal()[:n])
		}
		if isMLDSA(alg) {
			// 33 and 64 bytes: a seed with a byte more, and seed || seed.
			foreign[fmt.Sprintf("%s-truncated-extended-to-33", alg)] = append(bytes.Clone(own.Reveal()), 0)
			foreign[fmt.Sprintf("%s-truncated-doubled-to-64", alg)] = append(bytes.Clone(own.Reveal()), own.Reveal()...)
		}
	}
	for _, alg := range signAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			check := func(name string, der []byte) {
				t.Helper()
				if isMLDSA(alg) && len(der) == mldsaSeedSize {
					// Every 32-byte string is an ML-DSA seed: checked
					// to be accepted below, not refused.
					return
				}
				k, err := crypto.NewVersionKey(idA, 1, alg, secret.New(bytes.Clone(der)))
				if err == nil || k != nil {
					t.Errorf("%s material accepted", name)
					return
				}
				if len(der) >= 8 && strings.Contains(err.Error(), fmt.Sprintf("%x", der[len(der)-8:])) {
					t.Errorf("%s: error reveals key material: %v", name, err)
				}
			}
			for _, other := range signAlgorithms() {
				if other == alg {
					continue
				}
				m := signMaterial(t, other, 0)
				check(string(other), m.Reveal())
				m.Wipe()
			}
			for name, der := range foreign {
				if strings.HasPrefix(name, string(alg)+"-truncated") || !strings.Contains(name, "-truncated") {
					check(name, der)
				}
			}
			for _, other := range append(symmetricAlgorithms(), macAlgorithms()...) {
				check(string(other)+"-material", material(other.KeySize(), 9).Reveal())
			}
			for _, other := range asymmetricAlgorithms() {
				if isRSA(alg) && info(t, other).rsaBits == signSpec(t, alg).rsaBits {
					// The same format, PKCS#8 RSA: what keeps signing and
					// decryption keys apart is the purpose stored with the
					// material, not the material.
					continue
				}
				m := keyMaterial(t, other, 9)
				check(string(other)+"-material", m.Reveal())
				m.Wipe()
			}
			if isMLDSA(alg) {
				for _, n := range []int{0, 1, 16, 31, 33, 48, 64} {
					check(fmt.Sprintf("%d-byte seed", n), material(n, 0x21).Reveal())
				}
				// Any 32 bytes make a key, and the same one each time.
				m := material(mldsaSeedSize, 0x5e)
				k1, err1 := crypto.NewVersionKey(idA, 1, alg, m)
				k2, err2 := crypto.NewVersionKey(idA, 1, alg, m)
				if err1 != nil || err2 != nil {
					t.Fatalf("32-byte seed refused: %v, %v", err1, err2)
				}
				p1, err1 := k1.Public()
				p2, err2 := k2.Public()
				if err1 != nil || err2 != nil || !bytes.Equal(p1.DER, p2.DER) {
					t.Fatalf("one seed, two public keys (%v, %v)", err1, err2)
				}
			}
		})
	}
	// And the other way round: encrypt and MAC keys refuse PKCS#8 material
	// (all have fixed sizes, which no PKCS#8 key here has). For asymmetric
	// encryption keys see TestAsymmetricMaterialValidation.
	for _, alg := range append(symmetricAlgorithms(), macAlgorithms()...) {
		for _, salg := range signAlgorithms() {
			m := signMaterial(t, salg, 0)
			if m.Len() == alg.KeySize() {
				continue
			}
			if _, err := crypto.NewVersionKey(idA, 1, alg, m); err == nil {
				t.Errorf("%s accepted %s material", alg, salg)
			}
		}
	}
}
