package kms

import (
	"context"
	"errors"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/storage"
)

// Aliases are extra names of keys, which can move from one key to another
// (the AWS KMS API's aliases): a client that names a key by alias follows
// it when the alias is updated, while the key's own name never changes. An
// alias is resolved before the operation, which then authorizes and audits
// on the key it resolves to.

// Operation names of aliases, in audit records.
const (
	OpAliasCreate = "alias.create"
	OpAliasUpdate = "alias.update"
	OpAliasDelete = "alias.delete"
	OpAliasList   = "alias.list"
)

const nsAliases storage.Namespace = "aliases"

// Alias is a name for a key.
type Alias struct {
	Name      string
	KeyID     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

type aliasRecord struct {
	Name      string    `json:"name"`
	KeyID     string    `json:"key_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (r *aliasRecord) public() Alias {
	return Alias{Name: r.Name, KeyID: r.KeyID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func aliasNotFound(name string) *Error {
	return Errorf(CodeKeyNotFound, "alias %q not found", truncate(name, 140))
}

// CreateAlias names key by alias name. Needs key:update on the key.
func (s *Service) CreateAlias(ctx context.Context, name, key string) (*Alias, error) {
	return s.setAlias(ctx, OpAliasCreate, name, key, true)
}

// UpdateAlias moves an alias to another key. Needs key:update on both
// keys.
func (s *Service) UpdateAlias(ctx context.Context, name, key string) (*Alias, error) {
	return s.setAlias(ctx, OpAliasUpdate, name, key, false)
}

func (s *Service) setAlias(ctx context.Context, op, name, key string, create bool) (out *Alias, err error) {
	t := &target{resource: truncate(name, 140)}
	defer func() {
		if err = s.finish(ctx, op, t, err); err != nil {
			out = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if !namePattern.MatchString(name) || isUUID(name) {
		return nil, Errorf(CodeInvalidArgument, "alias names are 1-128 letters, digits and . _ - (not starting with . or -), and not a UUID")
	}
	ck, err := s.resolveFor(ctx, kr, key, t, access.KeyUpdate)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyUpdate, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	rec := &aliasRecord{Name: name, KeyID: ck.rec.ID, CreatedAt: now, UpdatedAt: now}
	err = s.update(ctx, op, t, func(tx storage.Tx) error {
		if create {
			v, err := encodeRecord(kr, nsAliases, name, rec)
			if err != nil {
				return err
			}
			_, err = tx.Create(nsAliases, name, v)
			return err
		}
		var cur aliasRecord
		rev, err := getRecord(tx, kr, nsAliases, name, &cur)
		if err != nil {
			return err
		}
		old, _, err := loadKey(tx, kr, cur.KeyID)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, t, access.KeyUpdate, keyResource(old), nil); err != nil {
			return err
		}
		rec.CreatedAt = cur.CreatedAt
		v, err := encodeRecord(kr, nsAliases, name, rec)
		if err != nil {
			return err
		}
		_, err = tx.CompareAndSwap(nsAliases, name, v, rev)
		return err
	})
	switch {
	case errors.Is(err, storage.ErrExists):
		return nil, Errorf(CodeKeyExists, "alias %q already exists", name)
	case errors.Is(err, storage.ErrNotFound):
		return nil, aliasNotFound(name)
	case err != nil:
		return nil, storageError(op, err)
	}
	a := rec.public()
	return &a, nil
}

// DeleteAlias removes an alias; the key is untouched. Needs key:update on
// the key it names.
func (s *Service) DeleteAlias(ctx context.Context, name string) (err error) {
	t := &target{resource: truncate(name, 140)}
	defer func() { err = s.finish(ctx, OpAliasDelete, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	if !namePattern.MatchString(name) {
		return aliasNotFound(name)
	}
	err = s.update(ctx, OpAliasDelete, t, func(tx storage.Tx) error {
		var cur aliasRecord
		if _, err := getRecord(tx, kr, nsAliases, name, &cur); err != nil {
			return err
		}
		key, _, err := loadKey(tx, kr, cur.KeyID)
		if err != nil {
			return err
		}
		t.keyID = key.ID
		if err := s.authorize(ctx, t, access.KeyUpdate, keyResource(key), nil); err != nil {
			return err
		}
		return tx.Delete(nsAliases, name)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return aliasNotFound(name)
	}
	if err != nil {
		return storageError("delete alias", err)
	}
	return nil
}

// ListAliases lists the aliases of keys the caller may read, of one key if
// key is not empty. Needs key:list.
func (s *Service) ListAliases(ctx context.Context, key string) (out []Alias, err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpAliasList, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if id := RequestFrom(ctx).Identity; !id.Root && !access.AllowsSomewhere(id.Policies, access.KeyList) {
		t.denyReason = string(access.ReasonNoAllow)
		return nil, Errorf(CodeForbidden, "identity %q may not %s: %s", id.IdentityName, access.KeyList, access.ReasonNoAllow)
	}
	keyID := ""
	if key != "" {
		ck, err := s.resolveFor(ctx, kr, key, t, access.KeyRead)
		if err != nil {
			return nil, err
		}
		keyID = ck.rec.ID
	}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		return eachItem(tx, nsAliases, func(it storage.Item) error {
			var rec aliasRecord
			if err := decodeRecord(kr, nsAliases, it.Key, it.Value, &rec); err != nil {
				return err
			}
			if keyID != "" && rec.KeyID != keyID {
				return nil
			}
			k, _, err := loadKey(tx, kr, rec.KeyID)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if s.may(ctx, access.KeyRead, keyResource(k)) {
				out = append(out, rec.public())
			}
			return nil
		})
	})
	if err != nil {
		return nil, storageError("list aliases", err)
	}
	return out, nil
}

// ResolveAlias returns the id of the key an alias names, for an adapter
// to operate on; the operation then authorizes and audits on that key.
// An unknown alias is key_not_found; nothing is audited here (the adapter
// audits the refused request).
func (s *Service) ResolveAlias(ctx context.Context, name string) (string, error) {
	kr, err := s.unsealed()
	if err != nil {
		return "", err
	}
	defer kr.Release()
	if !namePattern.MatchString(name) {
		return "", aliasNotFound(name)
	}
	var rec aliasRecord
	err = s.store.View(ctx, func(tx storage.Tx) error {
		_, err := getRecord(tx, kr, nsAliases, name, &rec)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return "", aliasNotFound(name)
	}
	if err != nil {
		return "", storageError("resolve alias", err)
	}
	return rec.KeyID, nil
}
