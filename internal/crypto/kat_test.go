package crypto

import (
	"bytes"
	gocrypto "crypto"
	"crypto/hpke"
	"encoding/hex"
	"testing"
)

// aeadVector is one AEAD known-answer test.
type aeadVector struct {
	source       string // file and tcId it was copied from
	key, iv, aad string
	msg, ct, tag string
}

// Known-answer tests for the AEAD constructions the package uses. VersionKey
// picks its own nonce and builds its own associated data, so these call the
// algorithm table's newAEAD directly.
//
// Copied from Project Wycheproof (C2SP/wycheproof commit dac1dd4729fd1f8d,
// testvectors_v1/, Apache License 2.0), whose files are in
// testdata/wycheproof and run in full by TestWycheproof. All are "valid"
// vectors with the algorithm's key and nonce sizes and a 128-bit tag. For
// aes-256-siv there is no nonce and the tag (the synthetic IV) comes first:
// ct holds the whole output and tag is empty.
var aeadVectors = map[Algorithm][]aeadVector{
	AES256GCM: {
		{
			source: "aes_gcm_test.json tcId 91",
			key:    "92ace3e348cd821092cd921aa3546374299ab46209691bc28b8752d17f123c20",
			iv:     "00112233445566778899aabb",
			aad:    "00000000ffffffff",
			msg:    "00010203040506070809",
			ct:     "e27abdd2d2a53d2f136b",
			tag:    "9a4a2579529301bcfb71c78d4060f52c",
		},
		{
			source: "aes_gcm_test.json tcId 93",
			key:    "80ba3192c803ce965ea371d5ff073cf0f43b6a2ab576b208426e11409c09b9b0",
			iv:     "4da5bf8dfd5852c1ea12379d",
			aad:    "",
			msg:    "",
			ct:     "",
			tag:    "4771a7c404a472966cea8f73c8bfe17a",
		},
		{
			source: "aes_gcm_test.json tcId 98",
			key:    "3b2458d8176e1621c0cc24c0c0e24c1e80d72f7ee9149a4b166176629616d011",
			iv:     "45aaa3e5d16d2d42dc03445d",
			aad:    "",
			msg:    "3ff1514b1c503915918f0c0c31094a6e1f",
			ct:     "73a6b6f45f6ccc5131e07f2caa1f2e2f56",
			tag:    "2d7379ec1db5952d4e95d30c340b1b1d",
		},
	},
	ChaCha20Poly1305: {
		{
			source: "chacha20_poly1305_test.json tcId 1 (RFC 7539 section 2.8.2)",
			key:    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
			iv:     "070000004041424344454647",
			aad:    "50515253c0c1c2c3c4c5c6c7",
			msg: "4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a20496620" +
				"4920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f7220746865206675747572" +
				"652c2073756e73637265656e20776f756c642062652069742e",
			ct: "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da" +
				"92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585" +
				"808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116",
			tag: "1ae10b594f09e26a7e902ecbd0600691",
		},
		{
			source: "chacha20_poly1305_test.json tcId 3",
			key:    "7a4cd759172e02eb204db2c3f5c746227df584fc1345196391dbb9577a250742",
			iv:     "a92ef0ac991dd516a3c6f689",
			aad:    "bd506764f2d2c410",
			msg:    "",
			ct:     "",
			tag:    "906fa6284b52f87b7359cbaa7563c709",
		},
		{
			source: "chacha20_poly1305_test.json tcId 5",
			key:    "46f0254965f769d52bdb4a70b443199f8ef207520d1220c55e4b70f0fda620ee",
			iv:     "ab0dca716ee051d2782f4403",
			aad:    "91ca6c592cbcca53",
			msg:    "51",
			ct:     "c4",
			tag:    "168310ca45b1f7c66cad4e99e43f72b9",
		},
	},
	XChaCha20Poly1305: {
		{
			source: "xchacha20_poly1305_test.json tcId 1 (draft-arciszewski-xchacha-02)",
			key:    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
			iv:     "404142434445464748494a4b4c4d4e4f5051525354555657",
			aad:    "50515253c0c1c2c3c4c5c6c7",
			msg: "4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a20496620" +
				"4920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f7220746865206675747572" +
				"652c2073756e73637265656e20776f756c642062652069742e",
			ct: "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda" +
				"7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b238" +
				"3565d3fff921f9664c97637da9768812f615c68b13b52e",
			tag: "c0875924c1c7987947deafd8780acf49",
		},
		{
			source: "xchacha20_poly1305_test.json tcId 2",
			key:    "ab1562faea9f47af3ae1c3d6d030e3af230255dff3df583ced6fbbcbf9d606a9",
			iv:     "6a5e0c4617e07091b605a4de2c02dde117de2ebd53b23497",
			tag:    "e2697ea6877aba39d9555a00e14db041",
		},
	},
	AES256SIV: {
		{
			source: "aes_siv_cmac_test.json tcId 297",
			key:    "aff6388fdd2908e0c3b610e3dcd410c8146a268d6befd5c45ffdd23508b5b311cc3a9d8f838f456436b289018682151dd57d8d65d1a823c06eca8ab8ee01da01",
			aad:    "d0bb2949a411e22d32964526",
			ct:     "e288d802a0e56ed7544a2e5775459389",
		},
		{
			source: "aes_siv_cmac_test.json tcId 302",
			key:    "c25cafc6018b98dfbb79a40ec89c575a4f88c4116489bba27707479800c0130235334a45dbe8d8dae3da8dcb45bbe5dce031b0f68ded544fda7eca30d6749442",
			aad:    "deeb0ccf3aef47a296ed1ca8f4ae5907",
			msg:    "beec61030fa3d670337196beade6aeaa",
			ct:     "5865208eab9163db85cab9f96d846234a2626aae22f5c17c9aad4b501f4416e4",
		},
	},
}

// encryptAlgorithms returns the encrypt-purpose algorithms of Algorithms().
func encryptAlgorithms() []Algorithm {
	var out []Algorithm
	for _, a := range Algorithms() {
		if a.Purpose() == PurposeEncrypt {
			out = append(out, a)
		}
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestAEADKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, alg := range encryptAlgorithms() {
		vectors := aeadVectors[alg]
		if len(vectors) == 0 {
			t.Errorf("no known-answer vectors for %s", alg)
		}
		for _, v := range vectors {
			t.Run(string(alg)+"/"+v.source, func(t *testing.T) {
				t.Parallel()
				key, iv, aad := unhex(t, v.key), unhex(t, v.iv), unhex(t, v.aad)
				msg, want := unhex(t, v.msg), unhex(t, v.ct+v.tag)
				aead, err := algorithms[alg].newAEAD(key)
				if err != nil {
					t.Fatal(err)
				}
				if got := aead.Seal(nil, iv, msg, aad); !bytes.Equal(got, want) {
					t.Fatalf("Seal\n got %x\nwant %x", got, want)
				}
				got, err := aead.Open(nil, iv, want, aad)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("Open = %x, %v; want %x", got, err, msg)
				}
				bad := bytes.Clone(want)
				bad[len(bad)-1] ^= 1
				if _, err := aead.Open(nil, iv, bad, aad); err == nil {
					t.Fatal("Open accepted a modified ciphertext")
				}
				bad = bytes.Clone(want)
				bad[0] ^= 0x80
				if _, err := aead.Open(nil, iv, bad, aad); err == nil {
					t.Fatal("Open accepted a modified ciphertext")
				}
			})
		}
	}
}

// TestAlgorithmTable pins the wire ids and sizes that docs/ciphertext.md
// specifies; changing any of them breaks every stored ciphertext. MAC
// algorithms have no wire id and no AEAD; asymmetric encryption algorithms
// have a wire id, no nonce and no AEAD of their own.
func TestAlgorithmTable(t *testing.T) {
	t.Parallel()
	want := map[Algorithm]struct {
		purpose          Purpose
		id               byte
		keySize, nonceSz int
		macSize          int
	}{
		AES256GCM:         {PurposeEncrypt, 1, 32, 12, 0},
		ChaCha20Poly1305:  {PurposeEncrypt, 2, 32, 12, 0},
		XChaCha20Poly1305: {PurposeEncrypt, 3, 32, 24, 0},
		AES256SIV:         {PurposeEncrypt, 4, 64, 0, 0},
		HMACSHA256:        {PurposeMAC, 0, 32, 0, 32},
		HMACSHA384:        {PurposeMAC, 0, 48, 0, 48},
		HMACSHA512:        {PurposeMAC, 0, 64, 0, 64},
		ECDSAP256:         {PurposeSign, 0, 0, 0, 0},
		ECDSAP384:         {PurposeSign, 0, 0, 0, 0},
		ECDSAP521:         {PurposeSign, 0, 0, 0, 0},
		Ed25519:           {PurposeSign, 0, 0, 0, 0},
		RSA2048:           {PurposeSign, 0, 0, 0, 0},
		RSA3072:           {PurposeSign, 0, 0, 0, 0},
		RSA4096:           {PurposeSign, 0, 0, 0, 0},
		MLDSA44:           {PurposeSign, 0, 0, 0, 0},
		MLDSA65:           {PurposeSign, 0, 0, 0, 0},
		MLDSA87:           {PurposeSign, 0, 0, 0, 0},
		RSAOAEP2048:       {PurposeAsymmetric, 5, 0, 0, 0},
		RSAOAEP3072:       {PurposeAsymmetric, 6, 0, 0, 0},
		RSAOAEP4096:       {PurposeAsymmetric, 7, 0, 0, 0},
		MLKEM768:          {PurposeAsymmetric, 8, 0, 0, 0},
		MLKEM1024:         {PurposeAsymmetric, 9, 0, 0, 0},
		X25519MLKEM768:    {PurposeAsymmetric, 10, 0, 0, 0},
	}
	// Asymmetric algorithms: RSA modulus size, or the HPKE KEM (its RFC 9180
	// / draft-ietf-hpke-pq id), its seed and encapsulated key sizes and the
	// SubjectPublicKeyInfo OID of FIPS 203 keys; and the sealed-part length
	// bounds the parser applies (max 0: none).
	wantAsym := map[Algorithm]struct {
		rsaBits              int
		kemID                uint16
		seed, enc            int
		oid                  string
		sealedMin, sealedMax int
	}{
		RSAOAEP2048:    {2048, 0, 0, 0, "", 256, 256},
		RSAOAEP3072:    {3072, 0, 0, 0, "", 384, 384},
		RSAOAEP4096:    {4096, 0, 0, 0, "", 512, 512},
		MLKEM768:       {0, 0x0041, 64, 1088, "2.16.840.1.101.3.4.4.2", 1088 + 16, 0},
		MLKEM1024:      {0, 0x0042, 64, 1568, "2.16.840.1.101.3.4.4.3", 1568 + 16, 0},
		X25519MLKEM768: {0, 0x647a, 32, 1120, "", 1120 + 16, 0},
	}
	if len(asymSpecs) != len(wantAsym) {
		t.Errorf("%d asymmetric specs, want %d", len(asymSpecs), len(wantAsym))
	}
	for alg, w := range wantAsym {
		a, ok := asymSpecs[alg]
		if !ok {
			t.Errorf("%s: no asymmetric spec", alg)
			continue
		}
		kemID, oid := uint16(0), ""
		if a.kem != nil {
			kemID = a.kem().ID()
		}
		if a.oid != nil {
			oid = a.oid.String()
		}
		if a.rsaBits != w.rsaBits || kemID != w.kemID || a.seed != w.seed || a.encSize != w.enc || oid != w.oid {
			t.Errorf("%s: rsa %d KEM %#04x seed %d enc %d OID %q; want %d %#04x %d %d %q", alg, a.rsaBits, kemID, a.seed, a.encSize, oid, w.rsaBits, w.kemID, w.seed, w.enc, w.oid)
		}
		if s := algorithms[alg]; s.sealedMin != w.sealedMin || s.sealedMax != w.sealedMax {
			t.Errorf("%s: sealed length bounds [%d, %d], want [%d, %d]", alg, s.sealedMin, s.sealedMax, w.sealedMin, w.sealedMax)
		}
		if a.kem == nil {
			continue
		}
		// The encapsulated key has the size the parser relies on.
		sk, err := a.kem().NewPrivateKey(make([]byte, w.seed))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		enc, _, err := hpke.NewSender(sk.PublicKey(), hpke.HKDFSHA256(), hpke.AES256GCM(), []byte(hpkeInfo))
		if err != nil || len(enc) != w.enc {
			t.Errorf("%s: encapsulated key of %d bytes (%v), want %d", alg, len(enc), err, w.enc)
		}
	}
	for alg, s := range algorithms {
		if _, ok := wantAsym[alg]; !ok && (s.sealedMin != 0 || s.sealedMax != 0) {
			t.Errorf("%s: sealed length bounds on a non-asymmetric algorithm", alg)
		}
	}
	if hpkeInfo != "arca/v1/asymmetric-encrypt" {
		t.Errorf("HPKE info %q changed: it is bound into every asymmetric ciphertext", hpkeInfo)
	}
	// Sign algorithms: hash (0 for ed25519 and ML-DSA, which sign
	// messages), key type; for ML-DSA the circl scheme name, the FIPS 204
	// SubjectPublicKeyInfo OID (2.16.840.1.101.3.4.3.17-19) and JWK "alg".
	wantSign := map[Algorithm]struct {
		hash    gocrypto.Hash
		curve   string
		rsaBits int
		ed      bool
		pq      string
		oid     string
		jwk     string
	}{
		ECDSAP256: {gocrypto.SHA256, "P-256", 0, false, "", "", ""},
		ECDSAP384: {gocrypto.SHA384, "P-384", 0, false, "", "", ""},
		ECDSAP521: {gocrypto.SHA512, "P-521", 0, false, "", "", ""},
		Ed25519:   {0, "", 0, true, "", "", ""},
		RSA2048:   {gocrypto.SHA256, "", 2048, false, "", "", ""},
		RSA3072:   {gocrypto.SHA256, "", 3072, false, "", "", ""},
		RSA4096:   {gocrypto.SHA256, "", 4096, false, "", "", ""},
		MLDSA44:   {0, "", 0, false, "ML-DSA-44", "2.16.840.1.101.3.4.3.17", "ML-DSA-44"},
		MLDSA65:   {0, "", 0, false, "ML-DSA-65", "2.16.840.1.101.3.4.3.18", "ML-DSA-65"},
		MLDSA87:   {0, "", 0, false, "ML-DSA-87", "2.16.840.1.101.3.4.3.19", "ML-DSA-87"},
	}
	if len(signSpecs) != len(wantSign) {
		t.Errorf("%d sign specs, want %d", len(signSpecs), len(wantSign))
	}
	for alg, w := range wantSign {
		s, ok := signSpecs[alg]
		if !ok {
			t.Errorf("%s: no sign spec", alg)
			continue
		}
		curve := ""
		if s.curve != nil {
			curve = s.curve.Params().Name
		}
		if s.hash != w.hash || curve != w.curve || s.rsaBits != w.rsaBits || s.ed25519 != w.ed {
			t.Errorf("%s: sign spec hash %v curve %q rsa %d ed25519 %v; want %v %q %d %v", alg, s.hash, curve, s.rsaBits, s.ed25519, w.hash, w.curve, w.rsaBits, w.ed)
		}
		pq := ""
		if s.pq != nil {
			pq = s.pq.Name()
			if s.pq.SeedSize() != 32 {
				t.Errorf("%s: seed size %d, want 32", alg, s.pq.SeedSize())
			}
		}
		oid := ""
		if s.pqOID != nil {
			oid = s.pqOID.String()
		}
		if pq != w.pq || oid != w.oid || s.pqJWK != w.jwk || s.messageOnly() != (w.ed || w.pq != "") {
			t.Errorf("%s: ML-DSA scheme %q OID %q JWK %q messageOnly %v; want %q %q %q", alg, pq, oid, s.pqJWK, s.messageOnly(), w.pq, w.oid, w.jwk)
		}
	}
	if len(algorithms) != len(want) {
		t.Fatalf("%d algorithms, want %d", len(algorithms), len(want))
	}
	if len(Algorithms()) != len(want) {
		t.Fatalf("Algorithms() lists %d, want %d", len(Algorithms()), len(want))
	}
	for alg, w := range want {
		s, ok := algorithms[alg]
		if !ok {
			t.Fatalf("%s missing", alg)
		}
		if s.purpose != w.purpose || s.id != w.id || s.keySize != w.keySize || s.nonceSize != w.nonceSz {
			t.Errorf("%s: purpose %s id %d key %d nonce %d; want %s %d %d %d", alg, s.purpose, s.id, s.keySize, s.nonceSize, w.purpose, w.id, w.keySize, w.nonceSz)
		}
		if w.purpose == PurposeAsymmetric {
			if s.newAEAD != nil || s.hash != nil {
				t.Errorf("%s: asymmetric algorithm with an AEAD constructor or an HMAC hash", alg)
			}
			a, spec, ok := algorithmByID(w.id)
			if !ok || a != alg || spec.id != w.id {
				t.Errorf("algorithmByID(%d) = %s, %v", w.id, a, ok)
			}
			continue
		}
		if w.purpose == PurposeSign {
			if s.newAEAD != nil || s.hash != nil {
				t.Errorf("%s: sign algorithm with an AEAD constructor or an HMAC hash", alg)
			}
			if _, _, ok := algorithmByID(s.id); ok && s.id != 0 {
				t.Errorf("%s: sign algorithm with a wire id", alg)
			}
			continue
		}
		if w.purpose == PurposeMAC {
			if s.newAEAD != nil || s.hash == nil {
				t.Errorf("%s: MAC algorithm with an AEAD constructor or without a hash", alg)
				continue
			}
			if n := s.hash().Size(); n != w.macSize {
				t.Errorf("%s: hash size %d, want %d", alg, n, w.macSize)
			}
			continue
		}
		if s.newAEAD == nil || s.hash != nil {
			t.Errorf("%s: encrypt algorithm without an AEAD constructor or with a hash", alg)
			continue
		}
		aead, err := s.newAEAD(make([]byte, s.keySize))
		if err != nil {
			t.Fatal(err)
		}
		if aead.NonceSize() != s.nonceSize || aead.Overhead() != tagSize {
			t.Errorf("%s: AEAD nonce size %d overhead %d; want %d %d", alg, aead.NonceSize(), aead.Overhead(), s.nonceSize, tagSize)
		}
		for _, n := range []int{0, 1, 31, 33, 63, 65} { // NewVersionKey checks sizes first; AES alone would take 16 or 24
			if n == s.keySize {
				continue
			}
			if _, err := s.newAEAD(make([]byte, n)); err == nil {
				t.Errorf("%s: constructor accepted a %d-byte key", alg, n)
			}
		}
		a, spec, ok := algorithmByID(w.id)
		if !ok || a != alg || spec.id != w.id {
			t.Errorf("algorithmByID(%d) = %s, %v", w.id, a, ok)
		}
	}
	for id := range 256 {
		a, spec, ok := algorithmByID(byte(id))
		if (id >= 1 && id <= 10) != ok {
			t.Errorf("algorithmByID(%d) = %s, %v", id, a, ok)
		}
		want := PurposeEncrypt
		if id > 4 {
			want = PurposeAsymmetric
		}
		if ok && spec.purpose != want {
			t.Errorf("algorithmByID(%d) = %s, of purpose %s; want %s", id, a, spec.purpose, want)
		}
	}
}

// TestAdditionalDataLayout pins the associated-data encoding byte for byte
// against the construction in docs/ciphertext.md.
func TestAdditionalDataLayout(t *testing.T) {
	t.Parallel()
	header := []byte{0xaa, 0xbb}
	cases := []struct {
		name string
		b    Binding
		want string // hex, after the header
	}{
		{"empty", Binding{}, "00000000" + "00000000"},
		{"empty-non-nil", Binding{AssociatedData: []byte{}, Context: map[string]string{}}, "00000000" + "00000000"},
		{"associated-data", Binding{AssociatedData: []byte("abc")}, "00000003616263" + "00000000"},
		{"context-sorted-by-key", Binding{Context: map[string]string{"tenant": "acme", "purpose": "billing"}},
			"00000000" + "00000002" +
				"00000007" + hex.EncodeToString([]byte("purpose")) + "00000007" + hex.EncodeToString([]byte("billing")) +
				"00000006" + hex.EncodeToString([]byte("tenant")) + "00000004" + hex.EncodeToString([]byte("acme"))},
		{"bytewise-order", Binding{Context: map[string]string{"b": "", "B": "", "ä": "", "": "x"}},
			// "" < "B" (0x42) < "b" (0x62) < "ä" (0xc3 0xa4)
			"00000000" + "00000004" +
				"00000000" + "00000001" + "78" +
				"00000001" + "42" + "00000000" +
				"00000001" + "62" + "00000000" +
				"00000002" + "c3a4" + "00000000"},
		{"both", Binding{AssociatedData: []byte{0}, Context: map[string]string{"k": "v"}},
			"0000000100" + "00000001" + "000000016b" + "0000000176"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := additionalData(header, tc.b)
			want := append(bytes.Clone(header), unhex(t, tc.want)...)
			if !bytes.Equal(got, want) {
				t.Fatalf("\n got %x\nwant %x", got, want)
			}
		})
	}
}
