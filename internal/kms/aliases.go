package kms

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Aliases are extra names of keys, which can move from one key to another
// (the AWS KMS API's aliases): a client that names a key by alias follows
// it when the alias is updated, while the key's own name never changes.
//
// Any operation that takes a key reference takes "alias/NAME" too. It
// resolves to the key the alias points to, then authorizes and audits on
// that key; a caller who may not use that key is refused in the alias's
// name, so an alias does not reveal the name of a key outside the caller's
// grants. Where no alias NAME exists, "alias/NAME" names the key NAME.
//
// Aliases and key names share one name space: an alias cannot take a key's
// name, nor a key an alias's. Creating, moving or deleting an alias needs
// key:update on the keys it points to and on the alias itself, which
// policies see as a key of the alias's name with its target's labels; so a
// custodian of "team-a-*" keys names aliases "team-a-*" only.

// AliasPrefix marks a key reference as an alias name.
const AliasPrefix = "alias/"

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

// CreateAlias names key by alias name. Needs key:update on the key and on
// the alias (see [AliasPrefix]).
func (s *Service) CreateAlias(ctx context.Context, name, key string) (*Alias, error) {
	return s.setAlias(ctx, OpAliasCreate, name, key, true)
}

// UpdateAlias moves an alias to another key of the same purpose. Needs
// key:update on both keys and on the alias.
func (s *Service) UpdateAlias(ctx context.Context, name, key string) (*Alias, error) {
	return s.setAlias(ctx, OpAliasUpdate, name, key, false)
}

// aliasResource is the access-control view of alias name pointing to key:
// a key of the alias's name with the key's labels.
func aliasResource(name string, key *keyRecord) access.Resource {
	return access.Resource{Key: name, Labels: key.Labels}
}

func (s *Service) setAlias(ctx context.Context, op, name, key string, create bool) (out *Alias, err error) {
	t := &target{resource: truncate(name, 140), alias: name}
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
	if err := s.authorize(ctx, t, access.KeyUpdate, aliasResource(name, ck.rec), nil); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	rec := &aliasRecord{Name: name, KeyID: ck.rec.ID, CreatedAt: now, UpdatedAt: now}
	err = s.update(ctx, op, t, func(tx storage.Tx) error {
		if create {
			if _, err := tx.Get(nsKeyNames, name); err == nil {
				return errAliasIsKeyName
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
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
		t.alias, t.aliasOf = name, old.Name // refusals name the alias, not its key
		if err := s.authorize(ctx, t, access.KeyUpdate, aliasResource(name, old), nil); err != nil {
			return err
		}
		if err := s.authorize(ctx, t, access.KeyUpdate, keyResource(old), nil); err != nil {
			return err
		}
		if p := old.Algorithm.Purpose(); p != ck.rec.Algorithm.Purpose() {
			// Clients that name the alias would break, or worse, silently
			// change what they do.
			return Errorf(CodeInvalidArgument, "alias %q names a key of purpose %s: it can only move to another such key, not to a key of purpose %s",
				name, p, ck.rec.Algorithm.Purpose())
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
	case errors.Is(err, errAliasIsKeyName):
		return nil, Errorf(CodeKeyExists, "%q is the name of a key: aliases and key names share one name space", name)
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

// errAliasIsKeyName refuses an alias that would take a key's name, and
// errKeyNameIsAlias a key that would take an alias's.
var (
	errAliasIsKeyName = errors.New("the alias name is a key name")
	errKeyNameIsAlias = errors.New("the key name is an alias name")
)

// DeleteAlias removes an alias; the key is untouched. Needs key:update on
// the key it names and on the alias.
func (s *Service) DeleteAlias(ctx context.Context, name string) (err error) {
	t := &target{resource: truncate(name, 140), alias: name}
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
		t.alias, t.aliasOf = name, key.Name // refusals name the alias, not its key
		if err := s.authorize(ctx, t, access.KeyUpdate, aliasResource(name, key), nil); err != nil {
			return err
		}
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

// resolveAlias resolves "alias/name" for an operation performing action:
// the key the alias points to, or else the key called name. The operation
// then authorizes on the key; a refusal names the alias, not the key.
func (s *Service) resolveAlias(ctx context.Context, kr *seal.Keyring, name string, t *target, action access.Action) (*cachedKey, error) {
	if !namePattern.MatchString(name) {
		return nil, s.maskNotFound(ctx, t, aliasNotFound(name), name, action)
	}
	var rec aliasRecord
	err := s.store.View(ctx, func(tx storage.Tx) error {
		_, err := getRecord(tx, kr, nsAliases, name, &rec)
		return err
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		ck, err := s.resolve(ctx, kr, name) // a key name serves as an alias
		return ck, s.maskNotFound(ctx, t, err, name, action)
	case err != nil:
		return nil, storageError("resolve alias", err)
	}
	ck, err := s.resolve(ctx, kr, rec.KeyID)
	if err != nil {
		return nil, s.maskNotFound(ctx, t, err, name, action)
	}
	t.alias, t.aliasOf = name, ck.rec.Name
	return ck, nil
}

// canonicalRef turns an alias reference into the id of the key it names,
// for operations that read the key inside their own transaction; any other
// reference is returned as it is.
func (s *Service) canonicalRef(ctx context.Context, kr *seal.Keyring, ref string, t *target, action access.Action) (string, error) {
	if !strings.HasPrefix(ref, AliasPrefix) {
		return ref, nil
	}
	ck, err := s.resolveFor(ctx, kr, ref, t, action)
	if err != nil {
		return "", err
	}
	return ck.rec.ID, nil
}
