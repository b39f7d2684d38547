package kms

import (
	"bytes"
	"context"
	gocrypto "crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/hsm"
	"github.com/arcakms/arca/internal/hsm/hsmtest"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// storedVersion reads the raw version record of key id, version v.
func storedVersion(t *testing.T, st storage.Store, id string, v uint32) versionRecord {
	t.Helper()
	var vr versionRecord
	err := st.View(context.Background(), func(tx storage.Tx) error {
		it, err := tx.Get(nsKeyVersions, versionKey(id, v))
		if err != nil {
			return err
		}
		return json.Unmarshal(it.Value[1+seal.MACSize:], &vr)
	})
	if err != nil {
		t.Fatal(err)
	}
	return vr
}

// noBlobIsMaterialOf scans every record of every namespace of the store
// and fails if any sealed blob in it opens as the material of version v of
// key id: what the keyring would seal that material as.
func noBlobIsMaterialOf(t *testing.T, s *Service, st storage.Store, id string, v uint32, purpose crypto.Purpose) {
	t.Helper()
	kr, err := s.unsealed()
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Release()
	aad := materialAAD(id, v, string(purpose))
	blobs := 0
	err = st.View(context.Background(), func(tx storage.Tx) error {
		nss, err := tx.Namespaces()
		if err != nil {
			return err
		}
		for _, ns := range nss {
			err := eachItem(tx, ns, func(it storage.Item) error {
				// Any byte run of the record that parses as a blob.
				for i := range it.Value {
					if _, ok := seal.BlobGeneration(it.Value[i:]); !ok {
						continue
					}
					blobs++
					for end := i + 33; end <= len(it.Value); end++ {
						if _, err := kr.Open(it.Value[i:end], aad); err == nil {
							t.Errorf("%s/%s holds the material of version %d", ns, it.Key, v)
						}
					}
				}
				// And every JSON byte string field, decoded.
				var fields map[string]any
				if len(it.Value) > 1+seal.MACSize && json.Unmarshal(it.Value[1+seal.MACSize:], &fields) == nil {
					if m, ok := fields["material"].(string); ok && m != "" && fields["key_id"] == id && fields["version"] == float64(v) {
						t.Errorf("%s/%s: version %d has stored material", ns, it.Key, v)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHSMProtectedKeys: keys created with protection hsm have every
// version generated in the token; encryption and signatures work through
// the same API as software keys (signatures verify offline with the
// public key); their material is in no record of the store, and the token
// refuses to reveal it (CKA_VALUE / CKA_PRIVATE_EXPONENT); rotation adds
// a token key, and destruction destroys it in the token.
// hsmServer is a server sealed by a SoftHSM2 token, for HSM-protected
// keys, with a clock the test moves and a second session of the token, as
// an attacker with the PIN would have.
type hsmServer struct {
	n      *hsmNode
	s      *Service
	ctx    context.Context
	clock  *lcClock
	direct *hsm.HSM
}

func newHSMServer(t *testing.T) *hsmServer {
	t.Helper()
	dir := t.TempDir()
	clock := &lcClock{now: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
	n := &hsmNode{t: t, store: openStore(t, filepath.Join(dir, "arca.db")), dir: dir, cfg: hsmtest.Token(t), now: clock.Now}
	s := n.start(true)
	res, err := s.InitHSM(anonCtx(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := hsm.Open(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	return &hsmServer{n: n, s: s, ctx: rootCtx(t, s, res.RootToken), clock: clock, direct: direct}
}

func TestHSMProtectedKeys(t *testing.T) {
	t.Parallel()
	h := newHSMServer(t)
	n, s, ctx, clock, direct := h.n, h.s, h.ctx, h.clock, h.direct

	for _, bad := range []CreateKeyRequest{
		{Name: "x1", Algorithm: "chacha20-poly1305", Protection: ProtectionHSM},
		{Name: "x2", Algorithm: "ed25519", Protection: ProtectionHSM},
		{Name: "x3", Algorithm: "aes-256-gcm", Protection: ProtectionHSM, Exportable: true},
		{Name: "x4", Algorithm: "aes-256-gcm", Protection: ProtectionHSM, Derived: true},
		{Name: "x5", Algorithm: "aes-256-gcm", Protection: "tpm"},
	} {
		_, err := s.CreateKey(ctx, bad)
		wantCode(t, "create "+bad.Name, err, CodeInvalidArgument)
	}

	soft, err := s.CreateKey(ctx, CreateKeyRequest{Name: "soft", Algorithm: "aes-256-gcm"})
	if err != nil || soft.Protection != ProtectionSoftware {
		t.Fatalf("software key: %+v, %v", soft, err)
	}
	if vr := storedVersion(t, n.store, soft.ID, 1); vr.Provenance.EntropySource != "crypto/rand" || len(vr.Material) == 0 {
		t.Fatalf("software version provenance %+v", vr.Provenance)
	}

	for _, alg := range []string{"aes-256-gcm", "ecdsa-p256", "ecdsa-p384", "rsa-2048"} {
		k, err := s.CreateKey(ctx, CreateKeyRequest{Name: "hsm-" + alg, Algorithm: alg, Protection: ProtectionHSM})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if k.Protection != ProtectionHSM {
			t.Fatalf("%s: protection %q", alg, k.Protection)
		}
		got, err := s.GetKey(ctx, k.Name)
		if err != nil || got.Protection != ProtectionHSM {
			t.Fatalf("%s: get: %+v, %v", alg, got, err)
		}
		vr := storedVersion(t, n.store, k.ID, 1)
		if vr.HSMLabel == "" || len(vr.Material) != 0 || vr.Provenance.Generator != "pkcs11" || vr.Provenance.EntropySource != "hsm" {
			t.Fatalf("%s: stored version: label %q, %d material bytes, provenance %+v", alg, vr.HSMLabel, len(vr.Material), vr.Provenance)
		}
		if v, err := direct.PrivateValue(vr.HSMLabel); err == nil || errors.Is(err, hsm.ErrNoKey) {
			t.Fatalf("%s: the token revealed the key's value (%d bytes) or has no key: %v", alg, len(v), err)
		}

		var old string // a result of version 1, checked after rotation
		var oldSig []byte
		if alg == "aes-256-gcm" {
			old = encryptSome(t, s, ctx, k.Name)
			pt, err := s.Decrypt(ctx, DecryptRequest{Ciphertext: old})
			if err != nil || string(pt.Plaintext.Reveal()) != "data under "+k.Name {
				t.Fatalf("decrypt: %v", err)
			}
			if _, err := s.Decrypt(ctx, DecryptRequest{Ciphertext: old, Binding: crypto.Binding{AssociatedData: []byte("other")}}); CodeOf(err) != CodeDecryptionFailed {
				t.Fatalf("decrypt with other associated data: %v", err)
			}
			noBlobIsMaterialOf(t, s, n.store, k.ID, 1, crypto.PurposeEncrypt)
		} else {
			pads := []crypto.Padding{""}
			if alg == "rsa-2048" {
				pads = append(pads, crypto.PaddingPKCS1v15)
			}
			pk, err := s.GetPublicKey(ctx, k.Name, 0)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := x509.ParsePKIXPublicKey(pk.DER)
			if err != nil {
				t.Fatal(err)
			}
			for _, pad := range pads {
				sig, err := s.Sign(ctx, SignRequest{Key: k.Name, Message: []byte("signed"), Padding: pad})
				if err != nil {
					t.Fatalf("%s %s: sign: %v", alg, pad, err)
				}
				verifyOffline(t, alg, pad, pub, []byte("signed"), sig.Signature)
				vres, err := s.Verify(ctx, VerifyRequest{Key: k.Name, Message: []byte("signed"), Signature: sig.Signature, Padding: pad})
				if err != nil || !vres.Valid {
					t.Fatalf("%s %s: verify: %+v, %v", alg, pad, vres, err)
				}
				oldSig = sig.Signature
			}
			noBlobIsMaterialOf(t, s, n.store, k.ID, 1, crypto.PurposeSign)
		}

		// Rotation makes a second token key; version 1 still works.
		if _, err := s.RotateKey(ctx, RotateRequest{Key: k.Name}); err != nil {
			t.Fatalf("%s: rotate: %v", alg, err)
		}
		vr2 := storedVersion(t, n.store, k.ID, 2)
		if vr2.HSMLabel == "" || vr2.HSMLabel == vr.HSMLabel || len(vr2.Material) != 0 {
			t.Fatalf("%s: rotated version: label %q", alg, vr2.HSMLabel)
		}
		if alg == "aes-256-gcm" {
			decryptAll(t, s, ctx, []string{old, encryptSome(t, s, ctx, k.Name)})
		} else if vres, err := s.Verify(ctx, VerifyRequest{Key: k.Name, KeyVersion: 1, Message: []byte("signed"), Signature: oldSig, Padding: crypto.PaddingPKCS1v15}); alg == "rsa-2048" && (err != nil || !vres.Valid) {
			t.Fatalf("%s: verify version 1 after rotation: %+v, %v", alg, vres, err)
		}

		// Destruction destroys the token objects.
		if _, err := s.ChangeKeyState(ctx, ChangeStateRequest{Key: k.Name, Action: "deactivate"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChangeKeyState(ctx, ChangeStateRequest{Key: k.Name, Action: "schedule-destruction", WaitingDays: 1}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(25 * time.Hour)
		if _, err := s.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, label := range []string{vr.HSMLabel, vr2.HSMLabel} {
			if _, err := direct.PrivateValue(label); !errors.Is(err, hsm.ErrNoKey) {
				t.Fatalf("%s: token key %s after destruction: %v", alg, label, err)
			}
		}
		if vr := storedVersion(t, n.store, k.ID, 1); vr.HSMLabel != "" {
			t.Fatalf("%s: destroyed version still names token key %q", alg, vr.HSMLabel)
		}
	}

	// Without the HSM, the server cannot make HSM-protected keys.
	plain := newTestEnv(t, envConfig{})
	plain.initAndUnseal(1, 1)
	_, err = plain.svc.CreateKey(plain.ctx(), CreateKeyRequest{Name: "h", Protection: ProtectionHSM})
	wantCode(t, "protection hsm without an HSM", err, CodeInvalidArgument)
}

// verifyOffline checks a signature with Go's verifiers and the public key.
func verifyOffline(t *testing.T, alg string, pad crypto.Padding, pub any, msg, sig []byte) {
	t.Helper()
	d256, d384 := sha256.Sum256(msg), sha512.Sum384(msg)
	var ok bool
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		d := d256[:]
		if alg == "ecdsa-p384" {
			d = d384[:]
		}
		ok = ecdsa.VerifyASN1(p, d, sig)
	case *rsa.PublicKey:
		if pad == crypto.PaddingPKCS1v15 {
			ok = rsa.VerifyPKCS1v15(p, gocrypto.SHA256, d256[:], sig) == nil
		} else {
			ok = rsa.VerifyPSS(p, gocrypto.SHA256, d256[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
	}
	if !ok {
		t.Fatalf("%s %s: the signature does not verify offline", alg, pad)
	}
}

// TestHSMObjectsOutliveAFailedDestruction: when the token cannot be
// reached at the destruction deadline, the version is destroyed all the
// same (its record no longer names the object, and it cannot come back),
// the object is listed, and a later pass destroys it in the token.
func TestHSMObjectsOutliveAFailedDestruction(t *testing.T) {
	t.Parallel()
	h := newHSMServer(t)
	n, s, ctx, clock, direct := h.n, h.s, h.ctx, h.clock, h.direct
	k, err := s.CreateKey(ctx, CreateKeyRequest{Name: "doomed", Algorithm: "ecdsa-p256", Protection: ProtectionHSM})
	if err != nil {
		t.Fatal(err)
	}
	label := storedVersion(t, n.store, k.ID, 1).HSMLabel
	if _, err := s.ChangeKeyState(ctx, ChangeStateRequest{Key: k.Name, Action: "deactivate"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeKeyState(ctx, ChangeStateRequest{Key: k.Name, Action: "schedule-destruction", WaitingDays: 1}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(25 * time.Hour)

	token := s.hsm
	s.hsm = nil // the token is away at the deadline
	rep, err := s.RunDue(context.Background())
	if rep.DestroyedKeys != 1 || err == nil {
		t.Fatalf("first pass without the token: %+v, %v", rep, err)
	}
	if vr := storedVersion(t, n.store, k.ID, 1); vr.State != lifecycle.Destroyed || vr.HSMLabel != "" {
		t.Fatalf("after the first pass the version is %s and names %q", vr.State, vr.HSMLabel)
	}
	if _, err := direct.PrivateValue(label); errors.Is(err, hsm.ErrNoKey) {
		t.Fatal("the token object went without the token")
	}

	s.hsm = token // it is back
	if rep, err = s.RunDue(context.Background()); err != nil || rep.DestroyedHSMObjects != 1 {
		t.Fatalf("second pass: %+v, %v", rep, err)
	}
	if _, err := direct.PrivateValue(label); !errors.Is(err, hsm.ErrNoKey) {
		t.Fatalf("token object after the second pass: %v", err)
	}
	if rep, err = s.RunDue(context.Background()); err != nil || rep.DestroyedHSMObjects != 0 {
		t.Fatalf("third pass: %+v, %v", rep, err)
	}

	// A forged entry (someone with write access to the database) does not
	// destroy a live key's object.
	live, err := s.CreateKey(ctx, CreateKeyRequest{Name: "live", Algorithm: "ecdsa-p256", Protection: ProtectionHSM})
	if err != nil {
		t.Fatal(err)
	}
	liveLabel := storedVersion(t, n.store, live.ID, 1).HSMLabel
	err = n.store.Update(context.Background(), func(tx storage.Tx) error {
		_, err := tx.Put(nsTokenObjects, liveLabel, []byte("forged"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunDue(context.Background()); CodeOf(err) != CodeRecordTampered {
		t.Fatalf("a pass over a forged entry: %v", err)
	}
	if _, err := s.Sign(ctx, SignRequest{Key: "live", Message: []byte("still here")}); err != nil {
		t.Fatalf("the live key after a forged entry: %v", err)
	}
}

// TestHSMProtectedMACKeys: HMAC keys with protection hsm are generated in
// the token, which computes their MACs; the store holds no material; a MAC
// verifies through the same API as a software key's, and after rotation
// under the version that made it; the token refuses to reveal the key.
func TestHSMProtectedMACKeys(t *testing.T) {
	t.Parallel()
	h := newHSMServer(t)
	n, s, ctx, direct := h.n, h.s, h.ctx, h.direct
	for alg, size := range map[string]int{"hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64} {
		k, err := s.CreateKey(ctx, CreateKeyRequest{Name: "mac-" + alg, Algorithm: alg, Protection: ProtectionHSM})
		if err != nil || k.Protection != ProtectionHSM {
			t.Fatalf("%s: %+v, %v", alg, k, err)
		}
		vr := storedVersion(t, n.store, k.ID, 1)
		if vr.HSMLabel == "" || len(vr.Material) != 0 || vr.Provenance.Generator != "pkcs11" {
			t.Fatalf("%s: stored version: label %q, %d material bytes, provenance %+v", alg, vr.HSMLabel, len(vr.Material), vr.Provenance)
		}
		noBlobIsMaterialOf(t, s, n.store, k.ID, 1, crypto.PurposeMAC)
		if v, err := direct.PrivateValue(vr.HSMLabel); err == nil || errors.Is(err, hsm.ErrNoKey) {
			t.Fatalf("%s: the token revealed the key's value (%d bytes) or has no key: %v", alg, len(v), err)
		}
		m, err := s.GenerateMAC(ctx, MACRequest{Key: k.Name, Data: []byte("message")})
		if err != nil || len(m.MAC) != size || m.KeyVersion != 1 {
			t.Fatalf("%s: MAC %+v, %v", alg, m, err)
		}
		verify := func(v uint32, data, mac []byte) bool {
			t.Helper()
			r, err := s.VerifyMAC(ctx, VerifyMACRequest{Key: k.Name, KeyVersion: v, Data: data, MAC: mac})
			if err != nil {
				t.Fatalf("%s: verify: %v", alg, err)
			}
			return r.Valid
		}
		if !verify(1, []byte("message"), m.MAC) || verify(1, []byte("massage"), m.MAC) {
			t.Fatalf("%s: verification wrong", alg)
		}
		if _, err := s.RotateKey(ctx, RotateRequest{Key: k.Name}); err != nil {
			t.Fatal(err)
		}
		if vr2 := storedVersion(t, n.store, k.ID, 2); vr2.HSMLabel == "" || vr2.HSMLabel == vr.HSMLabel {
			t.Fatalf("%s: rotated version label %q", alg, vr2.HSMLabel)
		}
		m2, err := s.GenerateMAC(ctx, MACRequest{Key: k.Name, Data: []byte("message")})
		if err != nil || m2.KeyVersion != 2 || bytes.Equal(m2.MAC, m.MAC) {
			t.Fatalf("%s: MAC after rotation %+v, %v", alg, m2, err)
		}
		if !verify(1, []byte("message"), m.MAC) || !verify(2, []byte("message"), m2.MAC) {
			t.Fatalf("%s: MACs of both versions must verify", alg)
		}
	}
}
