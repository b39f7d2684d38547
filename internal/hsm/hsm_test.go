package hsm_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"

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
	if v, err := h.KeyValue("root"); err == nil {
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
