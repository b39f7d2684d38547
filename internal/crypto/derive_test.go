package crypto

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/arcakms/arca/internal/secret"
)

func TestDeriveVersionKey(t *testing.T) {
	t.Parallel()
	root := secret.New(bytes.Repeat([]byte{7}, 32))
	id := [16]byte{1}
	ctx := map[string]string{"tenant": "acme", "app": "billing"}
	k1, err := DeriveVersionKey(id, 3, AES256GCM, root, ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The same context, in another map, derives the same subkey.
	k2, _ := DeriveVersionKey(id, 3, AES256GCM, root, map[string]string{"app": "billing", "tenant": "acme"})
	c, err := k1.Seal([]byte("x"), Binding{Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k2.Open(c, Binding{Context: ctx}); err != nil || string(pt) != "x" {
		t.Fatalf("same context: %q %v", pt, err)
	}
	// Another context derives another subkey.
	k3, _ := DeriveVersionKey(id, 3, AES256GCM, root, map[string]string{"tenant": "acme", "app": "billin"})
	if _, err := k3.Open(c, Binding{Context: ctx}); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("other context opened the ciphertext: %v", err)
	}
	// The subkey is HKDF-SHA256(material, no salt, label || canonical context).
	want, _ := hkdf.Key(sha256.New, root.Reveal(), nil, derivedInfo+string(canonicalContext(ctx)), 32)
	direct, _ := NewVersionKey(id, 3, AES256GCM, secret.New(want))
	if pt, err := direct.Open(c, Binding{Context: ctx}); err != nil || string(pt) != "x" {
		t.Fatalf("subkey is not the documented HKDF output: %v", err)
	}
	if _, err := DeriveVersionKey(id, 3, AES256GCM, root, nil); !errors.Is(err, ErrContextRequired) {
		t.Fatalf("no context: %v", err)
	}
	if _, err := DeriveVersionKey(id, 3, HMACSHA256, root, ctx); err == nil {
		t.Fatal("derived MAC key accepted")
	}
	// The canonical encoding cannot be confused by moving bytes between
	// keys and values.
	if bytes.Equal(canonicalContext(map[string]string{"ab": "c"}), canonicalContext(map[string]string{"a": "bc"})) {
		t.Fatal("ambiguous context encoding")
	}
}
