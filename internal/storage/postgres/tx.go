package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/jackc/pgx/v5"

	"github.com/arcakms/arca/internal/storage"
)

// tx implements storage.Tx on a pgx transaction. Errors name the operation
// and namespace, never the key: keys can be token hashes.
type tx struct {
	ctx      context.Context
	ptx      pgx.Tx // nil once the transaction's function has returned
	writable bool
	store    *Store
	changes  []storage.Change
}

var _ storage.Tx = (*tx)(nil)

// Get returns the record stored under key, or storage.ErrNotFound.
func (t *tx) Get(ns storage.Namespace, key string) (storage.Item, error) {
	if err := t.checkKey("get", ns, key, false); err != nil {
		return storage.Item{}, err
	}
	it := storage.Item{Key: key}
	err := t.ptx.QueryRow(t.ctx, `SELECT value, revision FROM arca_items WHERE ns = $1 AND key = $2`, string(ns), key).
		Scan(&it.Value, &it.Revision)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Item{}, fmt.Errorf("postgres: get %s: %w", ns, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Item{}, t.store.mapError(t.ctx, "get "+string(ns), err)
	}
	if it.Revision == 0 {
		return storage.Item{}, fmt.Errorf("postgres: get %s: %w: revision 0", ns, storage.ErrCorrupt)
	}
	return it, nil
}

// Create stores value under a new key, or fails with storage.ErrExists
// (without aborting the transaction).
func (t *tx) Create(ns storage.Namespace, key string, value []byte) (uint64, error) {
	if err := t.checkKey("create", ns, key, true); err != nil {
		return 0, err
	}
	var rev uint64
	err := t.ptx.QueryRow(t.ctx, `INSERT INTO arca_items (ns, key, value, revision) VALUES ($1, $2, $3, nextval('arca_revision'))
		ON CONFLICT (ns, key) DO NOTHING RETURNING revision`, string(ns), key, nonNil(value)).Scan(&rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: create %s: %w", ns, storage.ErrExists)
	}
	if err != nil {
		return 0, t.store.mapError(t.ctx, "create "+string(ns), err)
	}
	t.changed(ns, key)
	return rev, nil
}

// Put stores value under key, whether or not it exists.
func (t *tx) Put(ns storage.Namespace, key string, value []byte) (uint64, error) {
	if err := t.checkKey("put", ns, key, true); err != nil {
		return 0, err
	}
	var rev uint64
	err := t.ptx.QueryRow(t.ctx, `INSERT INTO arca_items (ns, key, value, revision) VALUES ($1, $2, $3, nextval('arca_revision'))
		ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value, revision = nextval('arca_revision') RETURNING revision`,
		string(ns), key, nonNil(value)).Scan(&rev)
	if err != nil {
		return 0, t.store.mapError(t.ctx, "put "+string(ns), err)
	}
	t.changed(ns, key)
	return rev, nil
}

// CompareAndSwap stores value under an existing key whose revision is rev.
func (t *tx) CompareAndSwap(ns storage.Namespace, key string, value []byte, rev uint64) (uint64, error) {
	if err := t.checkKey("compare-and-swap", ns, key, true); err != nil {
		return 0, err
	}
	var next uint64
	err := t.ptx.QueryRow(t.ctx, `UPDATE arca_items SET value = $3, revision = nextval('arca_revision')
		WHERE ns = $1 AND key = $2 AND revision = $4 RETURNING revision`, string(ns), key, nonNil(value), rev).Scan(&next)
	if err == nil {
		t.changed(ns, key)
		return next, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, t.store.mapError(t.ctx, "compare-and-swap "+string(ns), err)
	}
	var cur uint64
	err = t.ptx.QueryRow(t.ctx, `SELECT revision FROM arca_items WHERE ns = $1 AND key = $2`, string(ns), key).Scan(&cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: compare-and-swap %s: %w", ns, storage.ErrNotFound)
	}
	if err != nil {
		return 0, t.store.mapError(t.ctx, "compare-and-swap "+string(ns), err)
	}
	return 0, fmt.Errorf("postgres: compare-and-swap %s: have revision %d, want %d: %w", ns, cur, rev, storage.ErrConflict)
}

// Delete removes key, or fails with storage.ErrNotFound.
func (t *tx) Delete(ns storage.Namespace, key string) error {
	if err := t.checkKey("delete", ns, key, true); err != nil {
		return err
	}
	tag, err := t.ptx.Exec(t.ctx, `DELETE FROM arca_items WHERE ns = $1 AND key = $2`, string(ns), key)
	if err != nil {
		return t.store.mapError(t.ctx, "delete "+string(ns), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete %s: %w", ns, storage.ErrNotFound)
	}
	t.changed(ns, key)
	return nil
}

// List returns one page of ns in byte-wise ascending key order.
func (t *tx) List(ns storage.Namespace, opts storage.ListOptions) (storage.Page, error) {
	if err := t.check("list", ns, false); err != nil {
		return storage.Page{}, err
	}
	if (opts.Prefix != "" && !storage.ValidKey(opts.Prefix)) || (opts.After != "" && !storage.ValidKey(opts.After)) {
		return storage.Page{}, fmt.Errorf("postgres: list %s: prefix or after: %w", ns, storage.ErrInvalidKey)
	}
	limit := storage.ClampLimit(opts.Limit)
	from := max(opts.Prefix, opts.After)
	rows, err := t.ptx.Query(t.ctx, `SELECT key, value, revision FROM arca_items
		WHERE ns = $1 AND key >= $2 AND key <> $3 AND starts_with(key, $4) ORDER BY key LIMIT $5`,
		string(ns), from, opts.After, opts.Prefix, limit+1)
	if err != nil {
		return storage.Page{}, t.store.mapError(t.ctx, "list "+string(ns), err)
	}
	var page storage.Page
	for rows.Next() {
		var it storage.Item
		if err := rows.Scan(&it.Key, &it.Value, &it.Revision); err != nil {
			rows.Close()
			return storage.Page{}, t.store.mapError(t.ctx, "list "+string(ns), err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return storage.Page{}, t.store.mapError(t.ctx, "list "+string(ns), err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].Key
	}
	return page, nil
}

// Namespaces returns the namespaces that hold at least one item, in
// ascending order.
func (t *tx) Namespaces() ([]storage.Namespace, error) {
	if t.ptx == nil {
		return nil, fmt.Errorf("postgres: namespaces: transaction used after it ended")
	}
	rows, err := t.ptx.Query(t.ctx, `SELECT DISTINCT ns COLLATE "C" AS ns FROM arca_items ORDER BY 1`)
	if err != nil {
		return nil, t.store.mapError(t.ctx, "namespaces", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, t.store.mapError(t.ctx, "namespaces", err)
	}
	out := make([]storage.Namespace, len(names))
	for i, n := range names {
		out[i] = storage.Namespace(n)
	}
	return out, nil
}

// check rejects calls on an ended transaction, with an empty namespace, or
// writes in a read-only transaction.
func (t *tx) check(op string, ns storage.Namespace, write bool) error {
	switch {
	case t.ptx == nil:
		return fmt.Errorf("postgres: %s: transaction used after it ended", op)
	case ns == "":
		return fmt.Errorf("postgres: %s: empty namespace", op)
	case write && !t.writable:
		return fmt.Errorf("postgres: %s %s: %w", op, ns, storage.ErrReadOnly)
	}
	return nil
}

// checkKey is check for an operation on one key, which must satisfy the
// contract's key rules. The error never includes the key.
func (t *tx) checkKey(op string, ns storage.Namespace, key string, write bool) error {
	if err := t.check(op, ns, write); err != nil {
		return err
	}
	if !storage.ValidKey(key) {
		return fmt.Errorf("postgres: %s %s: %d-byte key: %w", op, ns, len(key), storage.ErrInvalidKey)
	}
	return nil
}

// nonNil stores an empty value as an empty bytea, not NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// maxNotifyPayload keeps a notification under PostgreSQL's 8000-byte limit;
// a transaction that changed more says "everything" (All) instead.
const maxNotifyPayload = 7000

// changed remembers a written record for the commit's notification.
func (t *tx) changed(ns storage.Namespace, key string) {
	t.changes = append(t.changes, storage.Change{NS: ns, Key: key})
}

// notice is the payload of a change notification: the origin store, and
// the records changed, or All when there were too many to name.
type notice struct {
	Origin  string      `json:"o"`
	Changes [][2]string `json:"c,omitempty"`
	All     bool        `json:"all,omitzero"`
}

// notify sends, within the transaction (so only on commit), the names of the
// records it changed.
func (t *tx) notify(ctx context.Context) error {
	if len(t.changes) == 0 {
		return nil
	}
	n := notice{Origin: t.store.origin, Changes: make([][2]string, len(t.changes))}
	for i, c := range t.changes {
		n.Changes[i] = [2]string{string(c.NS), c.Key}
	}
	payload, err := json.Marshal(n)
	if err != nil || len(payload) > maxNotifyPayload {
		payload, _ = json.Marshal(notice{Origin: t.store.origin, All: true})
	}
	_, err = t.ptx.Exec(ctx, `SELECT pg_notify($1, $2)`, t.store.channel, string(payload))
	return err
}
