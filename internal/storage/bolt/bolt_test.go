package bolt_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/bolt"
	"github.com/arcakms/arca/internal/storage/storagetest"
)

// openTemp opens a store on a new file in t's temporary directory and closes
// it when the test ends.
func openTemp(t testing.TB, opts bolt.Options) *bolt.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "arca.db"), opts)
}

// openAt opens a store at path and closes it when the test ends.
func openAt(t testing.TB, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openTemp(t, bolt.Options{NoSync: true})
	})
}

func TestDataSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "arca.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	err = s.Update(ctx, func(tx storage.Tx) error {
		if _, err := tx.Put("keys", "k1", []byte("one")); err != nil {
			return err
		}
		if _, err := tx.Put("keys", "k1", []byte("one, again")); err != nil {
			return err
		}
		_, err := tx.Create("tokens", "t1", []byte("token"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx storage.Tx) error {
		it, err := tx.Get("keys", "k1")
		if err != nil {
			return err
		}
		if string(it.Value) != "one, again" || it.Revision != 2 {
			t.Errorf("after reopen keys/k1 = %q rev %d, want %q rev 2", it.Value, it.Revision, "one, again")
		}
		if it, err = tx.Get("tokens", "t1"); err != nil || string(it.Value) != "token" || it.Revision != 1 {
			t.Errorf("after reopen tokens/t1 = %q rev %d, %v", it.Value, it.Revision, err)
		}
		rev, err := tx.CompareAndSwap("keys", "k1", []byte("three"), 2)
		if err != nil || rev != 3 {
			t.Errorf("CAS after reopen = %d, %v; want revision 3", rev, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The namespace's revision counter survives a reopen too, so a key
	// deleted and created again does not reuse a revision.
	s = openAt(t, path, bolt.Options{})
	err = s.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Delete("keys", "k1"); err != nil {
			return err
		}
		rev, err := tx.Create("keys", "k1", []byte("four"))
		if err != nil || rev != 4 {
			t.Errorf("re-Create after reopen = %d, %v; want revision 4", rev, err)
		}
		if rev, err = tx.Create("tokens", "t2", nil); err != nil || rev != 2 {
			t.Errorf("Create in tokens after reopen = %d, %v; want revision 2", rev, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenCreatesPrivateFileAndDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, "arca.db")
	s := openAt(t, path, bolt.Options{NoSync: true})
	if s.Path() != path {
		t.Fatalf("Path() = %q, want %q", s.Path(), path)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700 | os.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != want {
			t.Errorf("%s has mode %v, want %v", p, got, want)
		}
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestOpenRejectsNonDatabaseFile(t *testing.T) {
	for name, content := range map[string][]byte{
		"short": []byte("not a database\n"),
		"pages": bytes.Repeat([]byte("this is not a bbolt file. "), 2000),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "arca.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(path, bolt.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open of a non-database file succeeded")
			}
			if !errors.Is(err, bolt.ErrNotDatabase) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open error = %q, want ErrNotDatabase naming %s", err, path)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
				t.Fatalf("failed Open modified the file")
			}
		})
	}
}

func TestOpenFailsWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "arca.db")
	first, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, timeout := range []time.Duration{100 * time.Millisecond, 0} {
		want := timeout
		if want == 0 {
			want = bolt.DefaultTimeout
		}
		start := time.Now()
		second, err := bolt.Open(path, bolt.Options{Timeout: timeout})
		elapsed := time.Since(start)
		if err == nil {
			second.Close()
			t.Fatal("second Open of a locked file succeeded")
		}
		if !errors.Is(err, bolt.ErrLocked) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open error = %q, want ErrLocked naming %s", err, path)
		}
		// bbolt polls the lock every 50ms and stops one poll early.
		if elapsed < want-100*time.Millisecond {
			t.Fatalf("Open gave up after %v, want about %v", elapsed, want)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, bolt.Options{Timeout: 100 * time.Millisecond}) // the lock is released
}

func TestTxUsedAfterItsTransactionFails(t *testing.T) {
	s := openTemp(t, bolt.Options{NoSync: true})
	var kept storage.Tx
	if err := s.View(t.Context(), func(tx storage.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Get("ns", "k"); err == nil {
		t.Fatal("Get on an ended transaction succeeded")
	}
	if err := s.Update(t.Context(), func(tx storage.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Put("ns", "k", nil); err == nil {
		t.Fatal("Put on an ended transaction succeeded")
	}
}

func TestEmptyNamespaceIsRejected(t *testing.T) {
	s := openTemp(t, bolt.Options{NoSync: true})
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Put("", "k", []byte("v"))
		return err
	})
	if err == nil {
		t.Fatal("Put in the empty namespace succeeded")
	}
}

// TestOnDiskLayout pins the layout documented in the package comment: one
// bucket per namespace, values prefixed with an 8-byte big-endian revision
// taken from the bucket's sequence, which Delete leaves alone.
func TestOnDiskLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "arca.db")
	s, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		for _, v := range []string{"first", "second", "third"} {
			if _, err := tx.Put("keys", "k", []byte(v)); err != nil {
				return err
			}
		}
		if _, err := tx.Create("keys", "gone", []byte("x")); err != nil {
			return err
		}
		return tx.Delete("keys", "gone")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		var buckets []string
		_ = tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			buckets = append(buckets, string(name))
			return nil
		})
		if len(buckets) != 1 || buckets[0] != "keys" {
			t.Errorf("buckets = %q, want [keys]", buckets)
		}
		b := tx.Bucket([]byte("keys"))
		raw := b.Get([]byte("k"))
		want := binary.BigEndian.AppendUint64(nil, 3)
		want = append(want, "third"...)
		if !bytes.Equal(raw, want) {
			t.Errorf("stored bytes = %q, want %q", raw, want)
		}
		if seq := b.Sequence(); seq != 4 {
			t.Errorf("bucket sequence = %d, want 4", seq)
		}
		if n := b.Stats().KeyN; n != 1 {
			t.Errorf("bucket holds %d keys, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCorruptRecordIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "arca.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("keys"))
		if err != nil {
			return err
		}
		if err := b.Put([]byte("short"), []byte{0, 1, 2}); err != nil {
			return err
		}
		return b.Put([]byte("zero"), make([]byte, 12))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openAt(t, path, bolt.Options{NoSync: true})
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		for _, key := range []string{"short", "zero"} {
			if _, err := tx.Get("keys", key); !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("Get(%s) = %v, want ErrCorrupt", key, err)
			}
			if _, err := tx.Put("keys", key, nil); !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("Put(%s) = %v, want ErrCorrupt", key, err)
			}
			if _, err := tx.CompareAndSwap("keys", key, nil, 1); !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("CompareAndSwap(%s) = %v, want ErrCorrupt", key, err)
			}
		}
		if _, err := tx.List("keys", storage.ListOptions{}); !errors.Is(err, storage.ErrCorrupt) {
			t.Errorf("List = %v, want ErrCorrupt", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestErrorsDoNotNameTheKey: keys can be token hashes, so errors about a
// record name the operation and namespace but never the key.
func TestErrorsDoNotNameTheKey(t *testing.T) {
	s := openTemp(t, bolt.Options{NoSync: true})
	const secret = "tok-5f2b9c0e7d"
	if err := s.Update(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Create("tokens", secret, []byte("v"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var errs []error
	_ = s.View(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Get("tokens", secret+"x")
		errs = append(errs, err)
		_, err = tx.Get("tokens", secret+"\x00")
		errs = append(errs, err)
		_, err = tx.Put("tokens", secret, nil)
		errs = append(errs, err)
		_, err = tx.List("tokens", storage.ListOptions{Prefix: secret + "\xff"})
		errs = append(errs, err)
		return nil
	})
	for _, fn := range []func(storage.Tx) error{
		func(tx storage.Tx) error { _, err := tx.Create("tokens", secret, nil); return err },
		func(tx storage.Tx) error { _, err := tx.CompareAndSwap("tokens", secret, nil, 99); return err },
		func(tx storage.Tx) error { return tx.Delete("tokens", secret+"x") },
	} {
		errs = append(errs, s.Update(t.Context(), fn))
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("an operation expected to fail succeeded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error names the key: %v", err)
		}
	}
}
