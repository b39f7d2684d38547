package bolt_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/bolt"
)

func TestCompactRemovesOverwrittenBytesAndKeepsLiveData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "arca.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	marker := bytes.Repeat([]byte("SHRED-ME-"), 50)
	var keepRev uint64
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		if _, err := tx.Create("key_versions", "victim", marker); err != nil {
			return err
		}
		keepRev, err = tx.Create("keys", "keep", []byte("live data"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Put("key_versions", "victim", []byte("tombstone"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, marker[:40]) {
		t.Fatal("overwritten bytes are still in the file after Compact")
	}
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		it, err := tx.Get("keys", "keep")
		if err != nil || string(it.Value) != "live data" || it.Revision != keepRev {
			t.Fatalf("live record after compaction: %+v, %v", it, err)
		}
		rev, err := tx.Put("keys", "keep", []byte("new"))
		if err != nil || rev <= keepRev {
			t.Fatalf("revision after compaction %d (was %d): %v", rev, keepRev, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left behind: %v", err)
	}
}
