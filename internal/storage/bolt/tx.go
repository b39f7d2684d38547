package bolt

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/arcakms/arca/internal/storage"
)

// tx implements storage.Tx on a bbolt transaction. Errors name the operation
// and namespace but never the key: keys can be token hashes, which do not
// belong in logs.
type tx struct {
	// btx is nil once the function given to View or Update has returned, so
	// a Tx kept past its transaction fails instead of touching freed memory.
	btx *bbolt.Tx
}

var _ storage.Tx = (*tx)(nil)

// Get returns the record stored under key, or storage.ErrNotFound.
func (t *tx) Get(ns storage.Namespace, key string) (storage.Item, error) {
	if err := t.checkKey("get", ns, key, false); err != nil {
		return storage.Item{}, err
	}
	b := t.btx.Bucket([]byte(ns))
	if b == nil {
		return storage.Item{}, fmt.Errorf("bolt: get %s: %w", ns, storage.ErrNotFound)
	}
	raw := b.Get([]byte(key))
	if raw == nil {
		return storage.Item{}, fmt.Errorf("bolt: get %s: %w", ns, storage.ErrNotFound)
	}
	rev, value, err := decodeRecord(raw)
	if err != nil {
		return storage.Item{}, fmt.Errorf("bolt: get %s: %w", ns, err)
	}
	return storage.Item{Key: key, Value: value, Revision: rev}, nil
}

// Create stores value under a new key at the namespace's next revision, or
// fails with storage.ErrExists.
func (t *tx) Create(ns storage.Namespace, key string, value []byte) (uint64, error) {
	b, err := t.writeBucket("create", ns, key)
	if err != nil {
		return 0, err
	}
	k := []byte(key)
	if b.Get(k) != nil {
		return 0, fmt.Errorf("bolt: create %s: %w", ns, storage.ErrExists)
	}
	return put("create", ns, b, k, value)
}

// Put stores value under key at the namespace's next revision, whether or
// not the key exists.
func (t *tx) Put(ns storage.Namespace, key string, value []byte) (uint64, error) {
	b, err := t.writeBucket("put", ns, key)
	if err != nil {
		return 0, err
	}
	k := []byte(key)
	if raw := b.Get(k); raw != nil {
		// Refuse to overwrite a record this package did not write.
		if _, err := revision(raw); err != nil {
			return 0, fmt.Errorf("bolt: put %s: %w", ns, err)
		}
	}
	return put("put", ns, b, k, value)
}

// CompareAndSwap stores value under an existing key whose revision is rev.
func (t *tx) CompareAndSwap(ns storage.Namespace, key string, value []byte, rev uint64) (uint64, error) {
	if err := t.checkKey("compare-and-swap", ns, key, true); err != nil {
		return 0, err
	}
	b := t.btx.Bucket([]byte(ns))
	if b == nil {
		return 0, fmt.Errorf("bolt: compare-and-swap %s: %w", ns, storage.ErrNotFound)
	}
	k := []byte(key)
	raw := b.Get(k)
	if raw == nil {
		return 0, fmt.Errorf("bolt: compare-and-swap %s: %w", ns, storage.ErrNotFound)
	}
	cur, err := revision(raw)
	if err != nil {
		return 0, fmt.Errorf("bolt: compare-and-swap %s: %w", ns, err)
	}
	if cur != rev {
		return 0, fmt.Errorf("bolt: compare-and-swap %s: have revision %d, want %d: %w", ns, cur, rev, storage.ErrConflict)
	}
	return put("compare-and-swap", ns, b, k, value)
}

// Delete removes key, or fails with storage.ErrNotFound.
func (t *tx) Delete(ns storage.Namespace, key string) error {
	if err := t.checkKey("delete", ns, key, true); err != nil {
		return err
	}
	b := t.btx.Bucket([]byte(ns))
	if b == nil {
		return fmt.Errorf("bolt: delete %s: %w", ns, storage.ErrNotFound)
	}
	k := []byte(key)
	if b.Get(k) == nil {
		return fmt.Errorf("bolt: delete %s: %w", ns, storage.ErrNotFound)
	}
	if err := b.Delete(k); err != nil {
		return mapError("delete "+string(ns), err)
	}
	return nil
}

// List returns one page of ns in byte-wise ascending key order. A non-empty
// Prefix or After must satisfy the key rules, as every key it could match or
// follow does.
func (t *tx) List(ns storage.Namespace, opts storage.ListOptions) (storage.Page, error) {
	if err := t.check("list", ns, false); err != nil {
		return storage.Page{}, err
	}
	if (opts.Prefix != "" && !storage.ValidKey(opts.Prefix)) || (opts.After != "" && !storage.ValidKey(opts.After)) {
		return storage.Page{}, fmt.Errorf("bolt: list %s: prefix or after: %w", ns, storage.ErrInvalidKey)
	}
	limit := storage.ClampLimit(opts.Limit)
	b := t.btx.Bucket([]byte(ns))
	if b == nil {
		return storage.Page{}, nil
	}
	prefix := []byte(opts.Prefix)
	c := b.Cursor()
	var k, v []byte
	if opts.After != "" && opts.After >= opts.Prefix {
		after := []byte(opts.After)
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
	} else {
		// Every key with the prefix sorts after an After below the prefix.
		k, v = c.Seek(prefix)
	}
	var page storage.Page
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if v == nil {
			continue // a nested bucket, which this package never creates
		}
		if len(page.Items) == limit {
			page.Next = page.Items[limit-1].Key
			break
		}
		rev, value, err := decodeRecord(v)
		if err != nil {
			return storage.Page{}, fmt.Errorf("bolt: list %s: %w", ns, err)
		}
		page.Items = append(page.Items, storage.Item{Key: string(k), Value: value, Revision: rev})
	}
	return page, nil
}

// Namespaces returns the namespaces that hold at least one item, in
// ascending order (bbolt iterates buckets by name).
func (t *tx) Namespaces() ([]storage.Namespace, error) {
	if t.btx == nil {
		return nil, fmt.Errorf("bolt: namespaces: transaction used after it ended: %w", berrors.ErrTxClosed)
	}
	var out []storage.Namespace
	err := t.btx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		if k, _ := b.Cursor().First(); k != nil {
			out = append(out, storage.Namespace(name))
		}
		return nil
	})
	if err != nil {
		return nil, mapError("namespaces", err)
	}
	return out, nil
}

// check rejects calls on an ended transaction, with an empty namespace, or
// writes in a read-only transaction.
func (t *tx) check(op string, ns storage.Namespace, write bool) error {
	switch {
	case t.btx == nil:
		return fmt.Errorf("bolt: %s: transaction used after it ended: %w", op, berrors.ErrTxClosed)
	case ns == "":
		return fmt.Errorf("bolt: %s: empty namespace", op)
	case write && !t.btx.Writable():
		return fmt.Errorf("bolt: %s %s: %w", op, ns, storage.ErrReadOnly)
	}
	return nil
}

// checkKey is check for an operation on one key, which must also satisfy
// the contract's key rules. The error never includes the key itself: keys
// can be token hashes.
func (t *tx) checkKey(op string, ns storage.Namespace, key string, write bool) error {
	if err := t.check(op, ns, write); err != nil {
		return err
	}
	if !storage.ValidKey(key) {
		return fmt.Errorf("bolt: %s %s: %d-byte key: %w", op, ns, len(key), storage.ErrInvalidKey)
	}
	return nil
}

// writeBucket checks a write of key and returns ns's bucket for it,
// creating the bucket on first use.
func (t *tx) writeBucket(op string, ns storage.Namespace, key string) (*bbolt.Bucket, error) {
	if err := t.checkKey(op, ns, key, true); err != nil {
		return nil, err
	}
	b, err := t.btx.CreateBucketIfNotExists([]byte(ns))
	if err != nil {
		return nil, mapError(op+" "+string(ns)+": create bucket", err)
	}
	return b, nil
}

// put writes value under k at the bucket's next revision and returns it.
func put(op string, ns storage.Namespace, b *bbolt.Bucket, k []byte, value []byte) (uint64, error) {
	rev, err := nextRevision(b)
	if err != nil {
		return 0, mapError(op+" "+string(ns), err)
	}
	if err := b.Put(k, encodeRecord(rev, value)); err != nil {
		return 0, mapError(op+" "+string(ns), err)
	}
	return rev, nil
}

// nextRevision advances the bucket's sequence and returns it. The sequence
// is stored with the bucket and buckets are never removed, so a revision is
// never handed out twice in a namespace, also not across Delete and Create;
// a rolled-back transaction rolls the sequence back too, but none of its
// revisions were ever seen outside it.
func nextRevision(b *bbolt.Bucket) (uint64, error) {
	return b.NextSequence()
}
