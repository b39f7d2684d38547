package kms

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage"
)

// Access keys are the credentials of request-signing protocols (AWS
// Signature Version 4): an access key id, public, and a secret the client
// signs with. Unlike a bearer token, the server needs the secret itself to
// check a signature, so it is stored sealed by the keyring (never as a
// hash) and opened only inside AuthenticateAccessKey, which hands it to
// the caller's check and wipes it.

// Operation names of access keys, in audit records.
const (
	OpAccessKeyCreate = "access_key.create"
	OpAccessKeyList   = "access_key.list"
	OpAccessKeyDelete = "access_key.delete"
)

const nsAccessKeys storage.Namespace = "access_keys"

const (
	accessKeyAAD = "arca/v1/access-key\x00"
	// accessKeyPrefix starts every access key id, as AKIA does AWS's.
	accessKeyPrefix = "ARCA"
)

// AccessKey describes an access key without its secret.
type AccessKey struct {
	ID         string
	IdentityID string
	CreatedAt  time.Time
	CreatedBy  string
}

// IssuedAccessKey is a new access key with its secret, shown once.
type IssuedAccessKey struct {
	AccessKey
	Secret string
}

type accessKeyRecord struct {
	ID         string    `json:"id"`
	IdentityID string    `json:"identity_id"`
	Secret     []byte    `json:"secret"` // sealed by the keyring
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
}

func (r *accessKeyRecord) public() AccessKey {
	return AccessKey{ID: r.ID, IdentityID: r.IdentityID, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy}
}

// validAccessKeyID reports whether id has the shape of an access key id.
func validAccessKeyID(id string) bool {
	if len(id) != len(accessKeyPrefix)+16 || !strings.HasPrefix(id, accessKeyPrefix) {
		return false
	}
	for _, c := range id[len(accessKeyPrefix):] {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// CreateAccessKey issues an access key to an identity. Issuing a credential
// needs token:create, and is under that action's dual control.
func (s *Service) CreateAccessKey(ctx context.Context, identity string) (out *IssuedAccessKey, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpAccessKeyCreate, t, err); err != nil {
			out = nil
		}
	}()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.TokenCreate, access.Resource{}, nil); err != nil {
		return nil, err
	}
	idBytes := make([]byte, 10)
	sec := make([]byte, 30)
	if _, err := rand.Read(idBytes); err != nil {
		return nil, internal("generate access key", err)
	}
	if _, err := rand.Read(sec); err != nil {
		return nil, internal("generate access key", err)
	}
	secretText := base64.RawURLEncoding.EncodeToString(sec) // 40 characters
	secret.Zero(sec)
	rec := &accessKeyRecord{ID: accessKeyPrefix + base32.StdEncoding.EncodeToString(idBytes), CreatedAt: s.now().UTC(), CreatedBy: caller.ID}
	if rec.Secret, err = kr.Seal([]byte(secretText), []byte(accessKeyAAD+rec.ID)); err != nil {
		return nil, internal("seal access key", err)
	}
	spend, err := s.dualControlIn(ctx, kr, t, gated{action: access.TokenCreate, op: OpAccessKeyCreate,
		summary: fmt.Sprintf("issue an access key for identity %q", identity),
		parts:   []string{"access-key", identity}})
	if err != nil {
		return nil, err
	}
	t.resource = rec.ID
	err = s.update(ctx, OpAccessKeyCreate, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		ir, _, err := loadIdentity(tx, kr, identity)
		if err != nil {
			return err
		}
		if ir.Status != StatusActive {
			return Errorf(CodeConflict, "identity %q is disabled", ir.Name)
		}
		rec.IdentityID = ir.ID
		v, err := encodeRecord(kr, nsAccessKeys, rec.ID, rec)
		if err != nil {
			return err
		}
		_, err = tx.Create(nsAccessKeys, rec.ID, v)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, identityNotFound(identity)
	}
	if err != nil {
		return nil, storageError("create access key", err)
	}
	return &IssuedAccessKey{AccessKey: rec.public(), Secret: secretText}, nil
}

// ListAccessKeys lists the access keys of an identity (all identities if
// identity is empty). Needs identity:read.
func (s *Service) ListAccessKeys(ctx context.Context, identity string) (out []AccessKey, err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpAccessKeyList, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.IdentityRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		id := ""
		if identity != "" {
			ir, _, err := loadIdentity(tx, kr, identity)
			if err != nil {
				return err
			}
			id = ir.ID
		}
		return eachItem(tx, nsAccessKeys, func(it storage.Item) error {
			var rec accessKeyRecord
			if err := decodeRecord(kr, nsAccessKeys, it.Key, it.Value, &rec); err != nil {
				return err
			}
			if id == "" || rec.IdentityID == id {
				out = append(out, rec.public())
			}
			return nil
		})
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, identityNotFound(identity)
	}
	if err != nil {
		return nil, storageError("list access keys", err)
	}
	return out, nil
}

// DeleteAccessKey revokes an access key. Needs token:revoke.
func (s *Service) DeleteAccessKey(ctx context.Context, id string) (err error) {
	t := &target{resource: truncate(id, 64)}
	defer func() { err = s.finish(ctx, OpAccessKeyDelete, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.TokenRevoke, access.Resource{}, nil); err != nil {
		return err
	}
	if !validAccessKeyID(id) {
		return Errorf(CodeNotFound, "access key %q not found", truncate(id, 64))
	}
	err = s.update(ctx, OpAccessKeyDelete, t, func(tx storage.Tx) error {
		return tx.Delete(nsAccessKeys, id)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return Errorf(CodeNotFound, "access key %q not found", id)
	}
	if err != nil {
		return storageError("delete access key", err)
	}
	return nil
}

// AuthenticateAccessKey resolves an access key id to its identity, after
// check, given the key's secret, has accepted the request's signature. The
// secret never leaves this call: it is wiped when check returns. An
// unknown key, a disabled identity or a failed check is CodeUnauthorized,
// with check's error wrapped so the adapter can answer in its protocol's
// terms. The key, its identity and its policies are read on every call,
// as for tokens.
func (s *Service) AuthenticateAccessKey(ctx context.Context, id string, check func(secret []byte) error) (*Identity, error) {
	kr, err := s.unsealed()
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authBrake(ctx); err != nil {
		return nil, err
	}
	fail := func(err error) (*Identity, error) {
		s.limits.failed(RequestFrom(ctx).Source, s.now())
		return nil, &Error{Code: CodeUnauthorized, Message: "the request signature or access key is not valid", Err: err}
	}
	if !validAccessKeyID(id) {
		return fail(ErrUnknownAccessKey)
	}
	var rec accessKeyRecord
	var ident *Identity
	err = s.store.View(ctx, func(tx storage.Tx) error {
		if _, err := getRecord(tx, kr, nsAccessKeys, id, &rec); err != nil {
			return err
		}
		if rec.ID != id {
			return errTampered(nsAccessKeys, id)
		}
		ir, _, err := loadIdentity(tx, kr, rec.IdentityID)
		if err != nil {
			return err
		}
		if ir.Status != StatusActive {
			return errUnauthorized
		}
		ident, err = s.identityFromRecord(tx, kr, ir)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return fail(ErrUnknownAccessKey)
	}
	if errors.Is(err, errUnauthorized) {
		return fail(err)
	}
	if err != nil {
		return nil, storageError("authenticate access key", err)
	}
	sec, err := s.openSealed(ctx, kr, rec.Secret, []byte(accessKeyAAD+rec.ID))
	if err != nil {
		return nil, errTampered(nsAccessKeys, id)
	}
	err = check(sec.Reveal())
	sec.Wipe()
	if err != nil {
		return fail(err)
	}
	ident.Method, ident.Credential = "access-key", rec.ID
	return ident, nil
}

// ErrUnknownAccessKey means no access key has the id.
var ErrUnknownAccessKey = errors.New("unknown access key")

// deleteAccessKeysOf deletes every access key of an identity (deleted
// with it).
func deleteAccessKeysOf(tx storage.Tx, kr *seal.Keyring, identityID string) error {
	var ids []string
	err := eachItem(tx, nsAccessKeys, func(it storage.Item) error {
		var rec accessKeyRecord
		if err := decodeRecord(kr, nsAccessKeys, it.Key, it.Value, &rec); err != nil {
			return err
		}
		if rec.IdentityID == identityID {
			ids = append(ids, it.Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := tx.Delete(nsAccessKeys, id); err != nil {
			return err
		}
	}
	return nil
}
