package server

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// flipInFile flips one byte inside every occurrence of marker in the file
// at path, the way a disk error or an attacker with file access would.
func flipInFile(t *testing.T, path string, marker []byte, offset int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := bytes.Index(data, marker); i >= 0; {
		data[i+offset] ^= 0x01
		n++
		j := bytes.Index(data[i+1:], marker)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if n == 0 {
		t.Fatalf("marker %q not found in %s", marker, path)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// editStore opens the stopped node's bbolt file and runs fn in a write transaction.
func editStore(t *testing.T, path string, fn func(tx storage.Tx) error) {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func unsealWith(n *node, shares []string) {
	for _, s := range shares[:3] {
		n.must(200, "POST", "/v1/sys/unseal", map[string]string{"share": s})
	}
}

func TestByteFlippedInStoredKeyRecordIsReportedAsTampered(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	shares := initNode(t, n)
	n.must(201, "POST", "/v1/keys", map[string]any{"name": "victim", "description": "to be tampered with"})
	n.must(201, "POST", "/v1/keys", map[string]any{"name": "bystander"})
	ct := n.encrypt("bystander", "still fine", nil)
	n.stop()

	// Change "to be tampered with" to "uo be tampered with" on disk.
	flipInFile(t, n.cfgPath(), []byte(`"to be tampered with"`), 1)
	n.restart()
	unsealWith(n, shares)
	wantError(t, n.call("GET", "/v1/keys/victim", nil), 500, "record_tampered")
	wantError(t, n.call("POST", "/v1/keys/victim/encrypt", map[string]string{"plaintext": b64("x")}), 500, "record_tampered")
	wantError(t, n.call("GET", "/v1/keys", nil), 500, "record_tampered")
	// Other keys are unaffected.
	if got := n.decrypt(ct, nil); got != "still fine" {
		t.Fatalf("bystander: %q", got)
	}
}

func TestTamperedOrSwappedKeyMaterialIsNeverUsed(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	shares := initNode(t, n)
	a := n.must(201, "POST", "/v1/keys", map[string]any{"name": "a"}).str("id")
	b := n.must(201, "POST", "/v1/keys", map[string]any{"name": "b"}).str("id")
	n.must(200, "POST", "/v1/keys/a/rotate", nil)
	ctA1 := n.encrypt("a", "a-secret", nil) // version 2
	ctB := n.encrypt("b", "b-secret", nil)
	n.stop()

	va1, va2, vb1 := a+"/0000000001", a+"/0000000002", b+"/0000000001"
	editStore(t, n.cfgPath(), func(tx storage.Tx) error {
		// Flip one byte of a's version 2 record body.
		it, err := tx.Get("key_versions", va2)
		if err != nil {
			return err
		}
		v := append([]byte(nil), it.Value...)
		v[len(v)-5] ^= 0x01
		if _, err := tx.Put("key_versions", va2, v); err != nil {
			return err
		}
		// Move a's version 1 record onto b's version 1.
		it, err = tx.Get("key_versions", va1)
		if err != nil {
			return err
		}
		_, err = tx.Put("key_versions", vb1, it.Value)
		return err
	})
	n.restart()
	unsealWith(n, shares)
	wantError(t, n.call("POST", "/v1/decrypt", map[string]string{"ciphertext": ctA1}), 500, "record_tampered")
	wantError(t, n.call("POST", "/v1/decrypt", map[string]string{"ciphertext": ctB}), 500, "record_tampered")
}

func (n *node) cfgPath() string { return testConfig(n.dir).Storage.Path }
