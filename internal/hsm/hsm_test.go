package hsm_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/hsm"
	"github.com/arcakms/arca/internal/hsm/hsmtest"
)

// TestAESKeyInTheToken: a generated key encrypts and decrypts through the
// token, binds its associated data, refuses to show its value, and is found
// again by a new connection.
func TestAESKeyInTheToken(t *testing.T) {
	cfg := hsmtest.Token(t)
	h, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.GenerateAESKey("root"); err != nil {
		t.Fatal(err)
	}
	if err := h.GenerateAESKey("root"); err == nil {
		t.Fatal("a second key took a used label")
	}
	blob, err := h.Encrypt("root", []byte("keyring key"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent use of the session pool.
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			pt, err := h.Decrypt("root", blob, []byte("aad"))
			if err != nil || !bytes.Equal(pt.Reveal(), []byte("keyring key")) {
				t.Errorf("decrypt: %v", err)
			}
		})
	}
	wg.Wait()
	if _, err := h.Decrypt("root", blob, []byte("other")); !errors.Is(err, hsm.ErrDecrypt) {
		t.Fatalf("other aad: %v", err)
	}
	if v, err := h.PrivateValue("root"); err == nil {
		t.Fatalf("the token revealed the key's value (%d bytes)", len(v))
	}
	h.Close()

	h2, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if pt, err := h2.Decrypt("root", blob, []byte("aad")); err != nil || string(pt.Reveal()) != "keyring key" {
		t.Fatalf("after reopening: %v", err)
	}
	if _, err := h2.Decrypt("missing", blob, nil); !errors.Is(err, hsm.ErrNoKey) {
		t.Fatalf("missing key: %v", err)
	}
}

// TestUnavailableToken: a wrong PIN, an unknown token and a missing module
// are each ErrUnavailable.
func TestUnavailableToken(t *testing.T) {
	cfg := hsmtest.Token(t)
	for name, c := range map[string]hsm.Config{
		"wrong pin":     {Module: cfg.Module, TokenLabel: cfg.TokenLabel, PIN: "0000"},
		"no such token": {Module: cfg.Module, TokenLabel: "absent", PIN: cfg.PIN},
		"no module":     {Module: "/nonexistent/libpkcs11.so", TokenLabel: cfg.TokenLabel, PIN: cfg.PIN},
	} {
		if h, err := hsm.Open(c); !errors.Is(err, hsm.ErrUnavailable) {
			if h != nil {
				h.Close()
			}
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestKeyPairsInTheToken: key pairs generated in the token sign digests
// that Go's own verifiers accept (ECDSA P-256 and P-384, RSA-PSS and
// PKCS #1 v1.5), never show their private value, and are gone once
// destroyed.
func TestKeyPairsInTheToken(t *testing.T) {
	h, err := hsm.Open(hsmtest.Token(t))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, kind := range []hsm.PairKind{hsm.ECP256, hsm.ECP384, hsm.RSA2048} {
		label := "pair-" + string(kind)
		pub, err := h.GenerateKeyPair(label, kind)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if _, err := h.GenerateKeyPair(label, kind); err == nil {
			t.Fatalf("%s: a second pair took a used label", kind)
		}
		signer := h.Signer(label, pub)
		hash := crypto.SHA256
		if kind == hsm.ECP384 {
			hash = crypto.SHA384
		}
		d := hash.New()
		d.Write([]byte("message"))
		digest := d.Sum(nil)
		switch p := pub.(type) {
		case *ecdsa.PublicKey:
			sig, err := signer.Sign(rand.Reader, digest, hash)
			if err != nil || !ecdsa.VerifyASN1(p, digest, sig) {
				t.Fatalf("%s: ECDSA signature: %v", kind, err)
			}
		case *rsa.PublicKey:
			pss, err := signer.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: hash})
			if err != nil {
				t.Fatal(err)
			}
			if err := rsa.VerifyPSS(p, hash, digest, pss, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: hash}); err != nil {
				t.Fatalf("%s: PSS signature: %v", kind, err)
			}
			v15, err := signer.Sign(rand.Reader, digest, hash)
			if err != nil {
				t.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(p, hash, digest, v15); err != nil {
				t.Fatalf("%s: PKCS #1 v1.5 signature: %v", kind, err)
			}
		default:
			t.Fatalf("%s: public key %T", kind, pub)
		}
		if v, err := h.PrivateValue(label); err == nil {
			t.Fatalf("%s: the token revealed the private key (%d bytes)", kind, len(v))
		}
		if err := h.DestroyKey(label); err != nil {
			t.Fatal(err)
		}
		if _, err := signer.Sign(rand.Reader, digest, hash); !errors.Is(err, hsm.ErrNoKey) {
			t.Fatalf("%s: sign after destroy: %v", kind, err)
		}
	}
}

// TestGCMWithCallerNonce: SealGCM and OpenGCM with the caller's nonce and
// associated data, as HSM-protected AES keys use them.
func TestGCMWithCallerNonce(t *testing.T) {
	h, err := hsm.Open(hsmtest.Token(t))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.GenerateAESKey("data"); err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	ct, err := h.SealGCM("data", nonce, []byte("plaintext"), []byte("header"))
	if err != nil || len(ct) != len("plaintext")+16 {
		t.Fatalf("seal: %d bytes, %v", len(ct), err)
	}
	if pt, err := h.OpenGCM("data", nonce, ct, []byte("header")); err != nil || string(pt) != "plaintext" {
		t.Fatalf("open: %v", err)
	}
	if _, err := h.OpenGCM("data", nonce, ct, []byte("other")); !errors.Is(err, hsm.ErrDecrypt) {
		t.Fatalf("open with other associated data: %v", err)
	}
	if _, err := h.SealGCM("data", nonce[:8], nil, nil); err == nil {
		t.Fatal("a short nonce was accepted")
	}
	if v, err := h.PrivateValue("data"); err == nil {
		t.Fatalf("the token revealed the AES key (%d bytes)", len(v))
	}
}

// TestReconnectUnderLoad: dropping the connection (as a broken token
// does) while other calls are in flight neither crashes nor fails them,
// and a caller's mistake does not drop it.
func TestReconnectUnderLoad(t *testing.T) {
	cfg := hsmtest.Token(t)
	r := hsm.NewReconnecting(cfg)
	defer r.Close()
	if err := r.GenerateAESKey("k"); err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 12)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				ct, err := r.SealGCM("k", nonce, []byte("data"), nil)
				if err != nil {
					t.Errorf("seal: %v", err)
					return
				}
				if pt, err := r.OpenGCM("k", nonce, ct, nil); err != nil || string(pt) != "data" {
					t.Errorf("open: %q, %v", pt, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			r.Close() // as a broken token does; the next call reopens it
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()

	// A caller's mistakes do not drop the connection.
	if _, err := r.SealGCM("k", nonce, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	h := r.Current()
	if _, err := r.SealGCM("k", []byte("short"), []byte("data"), nil); err == nil {
		t.Error("a 5-byte nonce was accepted")
	}
	if _, err := r.SealGCM("no-such-key", nonce, []byte("data"), nil); !errors.Is(err, hsm.ErrNoKey) {
		t.Errorf("a missing key: %v", err)
	}
	if _, err := r.OpenGCM("k", nonce, []byte("not a ciphertext of this key"), nil); err == nil {
		t.Error("a forged ciphertext opened")
	}
	if r.Current() != h {
		t.Error("a caller's mistake dropped the connection to the token")
	}
}

// TestKeysHaveOnlyTheirUses: the token's keys are sensitive, never
// extractable, unmodifiable, and usable only for what Arca does with them.
func TestKeysHaveOnlyTheirUses(t *testing.T) {
	h, err := hsm.Open(hsmtest.Token(t))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.GenerateAESKey("aes"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.GenerateKeyPair("ec", hsm.ECP256); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		label   string
		private bool
		want    map[string]bool
	}{
		{"aes", false, map[string]bool{"sensitive": true, "extractable": false, "modifiable": false, "encrypt": true, "decrypt": true,
			"sign": false, "verify": false, "derive": false, "wrap": false, "unwrap": false}},
		{"ec", true, map[string]bool{"sensitive": true, "extractable": false, "modifiable": false, "sign": true,
			"sign_recover": false, "decrypt": false, "derive": false, "unwrap": false}},
	} {
		got, err := h.Flags(c.label, c.private)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range c.want {
			if v, ok := got[name]; !ok || v != want {
				t.Errorf("%s: %s = %v (present %v), want %v", c.label, name, v, ok, want)
			}
		}
	}
}

// TestHMACKeyInTheToken: the token computes HMACs under a key it made and
// keeps (sensitive, not extractable, sign and verify only); equal inputs
// give equal MACs of the hash's length, and other inputs or keys others.
func TestHMACKeyInTheToken(t *testing.T) {
	h, err := hsm.Open(hsmtest.Token(t))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for kind, size := range map[hsm.HMACKind]int{hsm.HMACSHA256: 32, hsm.HMACSHA384: 48, hsm.HMACSHA512: 64} {
		for _, label := range []string{string(kind), string(kind) + "-2"} {
			if err := h.GenerateHMACKey(label, kind); err != nil {
				t.Fatal(err)
			}
		}
		m1, err := h.HMAC(string(kind), kind, []byte("data"))
		if err != nil || len(m1) != size {
			t.Fatalf("%s: %d-byte MAC, %v", kind, len(m1), err)
		}
		m2, _ := h.HMAC(string(kind), kind, []byte("data"))
		m3, _ := h.HMAC(string(kind), kind, []byte("other data"))
		m4, _ := h.HMAC(string(kind)+"-2", kind, []byte("data"))
		if !bytes.Equal(m1, m2) || bytes.Equal(m1, m3) || bytes.Equal(m1, m4) {
			t.Fatalf("%s: MACs do not behave as MACs", kind)
		}
		flags, err := h.Flags(string(kind), false)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"sensitive": true, "extractable": false, "modifiable": false, "sign": true, "verify": true, "encrypt": false, "derive": false} {
			if flags[name] != want {
				t.Errorf("%s key: %s = %v", kind, name, flags[name])
			}
		}
		if v, err := h.PrivateValue(string(kind)); err == nil {
			t.Fatalf("%s: the token revealed the key (%d bytes)", kind, len(v))
		}
	}
	if err := h.GenerateHMACKey(string(hsm.HMACSHA256), hsm.HMACSHA256); err == nil {
		t.Fatal("a second key took a used label")
	}
}
