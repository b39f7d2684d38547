package kms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/keywrap"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names of key import and export in audit records.
const (
	OpImportToken = "key.import_token"
	OpKeyImport   = "key.import"
	OpKeyExport   = "key.export"
	// OpImportTokenExpire names the scheduler's deletion of an unused,
	// expired import token (and its wrapping private key).
	OpImportTokenExpire = "key.import_token.expire"
	nsImportTokens      = storage.Namespace("import_tokens")
	importTokenAAD      = "arca/v1/import-token\x00"
	maxWrappedInput     = keywrap.MaxMaterial + 1024
)

// Import token lifetimes.
const (
	DefaultImportTokenTTL = time.Hour
	MaxImportTokenTTL     = 24 * time.Hour
	MinImportTokenTTL     = time.Minute
)

// ImportTokenRequest asks for a one-time import wrapping key.
type ImportTokenRequest struct {
	// Scheme is the wrapping scheme (keywrap); empty means RSA-OAEP + AES-KWP.
	Scheme string
	// TTL is how long the token stays usable; zero means an hour.
	TTL time.Duration
}

// ImportToken is a one-time wrapping public key for one import. Its private
// key stays in the server, sealed under the keyring, and is deleted by the
// import that uses it or when it expires.
type ImportToken struct {
	ID        string
	Scheme    keywrap.Scheme
	PublicKey string // PEM SubjectPublicKeyInfo
	ExpiresAt time.Time
}

// importTokenRecord is the stored form of an import token. PrivateKey is
// sealed under the keyring, bound to the token id.
type importTokenRecord struct {
	ID         string         `json:"id"`
	Scheme     keywrap.Scheme `json:"scheme"`
	PrivateKey []byte         `json:"private_key"`
	CreatedAt  time.Time      `json:"created_at"`
	CreatedBy  string         `json:"created_by"`
	ExpiresAt  time.Time      `json:"expires_at"`
}

// ImportMaterial is key material wrapped under an import token's public key.
type ImportMaterial struct {
	Token           string
	WrappedMaterial []byte
	// Plaintext, instead of Token and WrappedMaterial, is material that
	// reached the server in clear inside an adapter's own authenticated,
	// encrypted channel (KMIP Register over mutual TLS). The service wipes
	// it.
	Plaintext *secret.Bytes
}

// CreateImportToken generates a one-time import wrapping key pair and
// returns its public key. Key material wrapped under it can be imported once,
// before it expires.
func (s *Service) CreateImportToken(ctx context.Context, req ImportTokenRequest) (tok *ImportToken, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpImportToken, t, err); err != nil {
			tok = nil
		}
	}()
	kr, id, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if !access.AllowsSomewhere(id.Policies, access.KeyImport) && !id.Root {
		t.denyReason = string(access.ReasonNoAllow)
		return nil, Errorf(CodeForbidden, "identity %q may not import keys: %s", id.IdentityName, access.ReasonNoAllow)
	}
	scheme, err := keywrap.ParseScheme(req.Scheme)
	if err != nil {
		return nil, Errorf(CodeInvalidArgument, "%s", err.Error())
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultImportTokenTTL
	}
	if ttl < MinImportTokenTTL || ttl > MaxImportTokenTTL {
		return nil, Errorf(CodeInvalidArgument, "ttl must be between 1m and 24h")
	}
	priv, pub, err := keywrap.GenerateKey(scheme)
	if err != nil {
		return nil, internal("generate import wrapping key", err)
	}
	defer priv.Wipe()
	now := s.now().UTC()
	rec := &importTokenRecord{ID: uuid.NewString(), Scheme: scheme, CreatedAt: now, CreatedBy: id.ID, ExpiresAt: now.Add(ttl)}
	if rec.PrivateKey, err = kr.Seal(priv.Reveal(), []byte(importTokenAAD+rec.ID)); err != nil {
		return nil, internal("seal import wrapping key", err)
	}
	t.resource = rec.ID
	err = s.update(ctx, OpImportToken, t, func(tx storage.Tx) error {
		v, err := encodeRecord(kr, nsImportTokens, rec.ID, rec)
		if err != nil {
			return err
		}
		_, err = tx.Create(nsImportTokens, rec.ID, v)
		return err
	})
	if err != nil {
		return nil, storageError("create import token", err)
	}
	return &ImportToken{ID: rec.ID, Scheme: scheme, PublicKey: pub, ExpiresAt: rec.ExpiresAt}, nil
}

var errTokenSpent = Errorf(CodeImportTokenNotFound, "the import token was used by another import")

// unwrapImport unwraps imported material with its token's private key and
// checks it is valid material for alg. It returns the material (the caller
// wipes it) and a function that spends the token inside the transaction
// that stores the material, so a token imports at most once.
func (s *Service) unwrapImport(ctx context.Context, kr *seal.Keyring, alg crypto.Algorithm, im *ImportMaterial, t *target) (*secret.Bytes, func(storage.Tx) error, error) {
	if im.Plaintext != nil {
		material := im.Plaintext.Clone()
		im.Plaintext.Wipe()
		if err := validMaterial(alg, material); err != nil {
			material.Wipe()
			return nil, nil, err
		}
		return material, func(storage.Tx) error { return nil }, nil
	}
	if !isUUID(im.Token) {
		return nil, nil, Errorf(CodeImportTokenNotFound, "import token %q not found", truncate(im.Token, 64))
	}
	if len(im.WrappedMaterial) == 0 || len(im.WrappedMaterial) > maxWrappedInput {
		return nil, nil, Errorf(CodeInvalidArgument, "wrapped_material must be 1 to %d bytes", maxWrappedInput)
	}
	t.resource = im.Token
	var rec importTokenRecord
	var rev uint64
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		rev, err = getRecord(tx, kr, nsImportTokens, im.Token, &rec)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, Errorf(CodeImportTokenNotFound, "import token %q not found: it never existed, was used, or expired", im.Token)
	}
	if err != nil {
		return nil, nil, storageError("load import token", err)
	}
	if rec.ID != im.Token {
		return nil, nil, errTampered(nsImportTokens, im.Token)
	}
	if !s.now().Before(rec.ExpiresAt) {
		return nil, nil, Errorf(CodeImportTokenNotFound, "import token %q expired at %s", im.Token, rec.ExpiresAt.Format(time.RFC3339))
	}
	priv, err := s.openSealed(ctx, kr, rec.PrivateKey, []byte(importTokenAAD+rec.ID))
	if err != nil {
		return nil, nil, errTampered(nsImportTokens, im.Token)
	}
	defer priv.Wipe()
	material, err := keywrap.Unwrap(rec.Scheme, priv, im.WrappedMaterial)
	if err != nil {
		return nil, nil, Errorf(CodeInvalidImport, "wrapped_material does not unwrap under import token %q (%s): it was altered or wrapped for another key", im.Token, rec.Scheme)
	}
	if err := validMaterial(alg, material); err != nil {
		material.Wipe()
		return nil, nil, err
	}
	consume := func(tx storage.Tx) error {
		// Spend the token only if it is still the one read: a concurrent
		// import of the same token makes this one fail.
		cur, err := tx.Get(nsImportTokens, im.Token)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && cur.Revision != rev) {
			return errTokenSpent
		}
		if err != nil {
			return err
		}
		return tx.Delete(nsImportTokens, im.Token)
	}
	return material, consume, nil
}

// validMaterial checks imported material is usable as a version of alg,
// saying what is expected without echoing it.
func validMaterial(alg crypto.Algorithm, m *secret.Bytes) error {
	vk, err := crypto.NewVersionKey([16]byte{}, 1, alg, m)
	if err != nil || vk == nil {
		return Errorf(CodeInvalidImport, "the unwrapped material is not a valid %s key: %s", alg, materialFormat(alg))
	}
	return nil
}

// materialFormat describes the material a key of alg imports and exports.
func materialFormat(alg crypto.Algorithm) string {
	switch alg.Purpose() {
	case crypto.PurposeEncrypt, crypto.PurposeMAC:
		return fmt.Sprintf("%d raw bytes", alg.KeySize())
	}
	switch alg {
	case crypto.MLDSA44, crypto.MLDSA65, crypto.MLDSA87, crypto.X25519MLKEM768:
		return "the 32-byte seed"
	case crypto.MLKEM768, crypto.MLKEM1024:
		return "the 64-byte seed d || z"
	}
	return "a PKCS#8 DER private key of the key's algorithm and size"
}

// importedVersion unwraps imported material into version v of a new key.
func (s *Service) importedVersion(ctx context.Context, kr *seal.Keyring, keyID string, alg crypto.Algorithm, v uint32, im *ImportMaterial, by string, now time.Time, t *target) (*versionRecord, func(storage.Tx) error, error) {
	material, consume, err := s.unwrapImport(ctx, kr, alg, im, t)
	if err != nil {
		return nil, nil, err
	}
	defer material.Wipe()
	vr, err := s.sealVersion(kr, keyID, alg, v, material, s.imported(), by, now)
	if err != nil {
		return nil, nil, internal("seal imported material", err)
	}
	return vr, consume, nil
}

// ImportVersionRequest imports new material into a key of external origin
// as its new primary version: how such keys rotate.
type ImportVersionRequest struct {
	Key string
	ImportMaterial
	// CompromiseVersions marks these older versions compromised in the same
	// step: the emergency rotation of a key with imported material.
	CompromiseVersions []uint32
	// ActivatePending activates a pre-active key pending import together
	// with its first material (needing key:lifecycle as well), so that
	// either both happen or neither does: the AWS KMS API's import.
	ActivatePending bool
}

// ImportKeyVersion adds a version with imported material to a key of
// external origin and makes it primary. Older versions keep decrypting and
// verifying.
func (s *Service) ImportKeyVersion(ctx context.Context, req ImportVersionRequest) (key *Key, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyImport, t, err); err != nil {
			key = nil
		}
	}()
	kr, id, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	ck, err := s.resolveFor(ctx, kr, req.Key, t, access.KeyImport)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyImport, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	activate := req.ActivatePending && ck.rec.PrimaryVersion == 0 && ck.rec.State == lifecycle.PreActive
	if len(req.CompromiseVersions) > 0 || activate {
		if err := s.authorize(ctx, t, access.KeyLifecycle, keyResource(ck.rec), nil); err != nil {
			return nil, err
		}
	}
	if ck.rec.Origin != OriginExternal {
		return nil, Errorf(CodeUnsupportedOperation, "key %q was generated by the server: only keys created from imported material take imported versions", ck.rec.Name)
	}
	versions, err := compromiseList(req.CompromiseVersions)
	if err != nil {
		return nil, err
	}
	material, consume, err := s.unwrapImport(ctx, kr, ck.rec.Algorithm, &req.ImportMaterial, t)
	if err != nil {
		return nil, err
	}
	defer material.Wipe()
	rec, err := s.rotate(ctx, kr, ck.rec.ID, OpKeyImport, t, rotateOptions{by: id.ID, imported: material, consume: consume, compromise: versions, activateFirst: activate})
	if err != nil {
		return nil, err
	}
	return rec.public(), nil
}

// ExportRequest asks for a key version's material wrapped to the caller's
// public key.
type ExportRequest struct {
	Key     string
	Version uint32 // 0: the primary version
	// Scheme is the wrapping scheme; empty means RSA-OAEP + AES-KWP.
	Scheme string
	// WrappingKey is the PEM public key the material is wrapped to.
	WrappingKey string
}

// ExportResult is exported material, wrapped; never in clear.
type ExportResult struct {
	KeyID           string
	KeyVersion      uint32
	Algorithm       crypto.Algorithm
	Scheme          keywrap.Scheme
	WrappedMaterial []byte
}

// ExportKey returns a version of an exportable key wrapped to the caller's
// public key, in the format import takes, so the material can move to
// another Arca (or any KMS importing that format) without ever being in
// clear outside a server. Keys not created exportable never export, and
// compromised or destroyed versions do not either.
func (s *Service) ExportKey(ctx context.Context, req ExportRequest) (res *ExportResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyExport, t, err); err != nil {
			res = nil
		}
	}()
	scheme, err := keywrap.ParseScheme(req.Scheme)
	if err != nil {
		return nil, Errorf(CodeInvalidArgument, "%s", err.Error())
	}
	wrapTo := hashOf([]byte(req.WrappingKey))
	var out *ExportResult
	err = s.exportMaterial(ctx, t, req.Key, req.Version, nil,
		func(name string) string {
			return fmt.Sprintf("export version %d of key %q wrapped (%s) to the public key with SHA-256 %s", t.keyVersion, name, scheme, wrapTo[:16])
		},
		[]string{string(scheme), wrapTo},
		func(ck *cachedKey, material *secret.Bytes) error {
			wrapped, err := keywrap.Wrap(scheme, req.WrappingKey, material.Reveal())
			if errors.Is(err, keywrap.ErrPublicKey) {
				return Errorf(CodeInvalidArgument, "wrapping_key: %s", err.Error())
			}
			if err != nil {
				return internal("wrap exported material", err)
			}
			out = &ExportResult{KeyID: ck.rec.ID, KeyVersion: t.keyVersion, Algorithm: ck.rec.Algorithm, Scheme: scheme, WrappedMaterial: wrapped}
			return nil
		})
	return out, err
}

// RawExport is a key version's material in clear, for an adapter that
// sends it inside its own authenticated, encrypted channel (KMIP Get over
// mutual TLS). The caller wipes Material.
type RawExport struct {
	KeyID      string
	KeyVersion uint32
	Algorithm  crypto.Algorithm
	Material   *secret.Bytes
}

// RawExportRequest asks for a key version's material in clear.
type RawExportRequest struct {
	Key     string
	Version uint32 // 0: the primary version
	// Accept, if set, vets the key's algorithm against what the caller's
	// protocol asked for (a key format), before the material is read or
	// the export counted as done.
	Accept func(crypto.Algorithm) error
}

// ExportKeyMaterial returns a version of an exportable key in clear: the
// same permission (key:export), checks and dual control as ExportKey, for
// protocols whose channel is the protection (KMIP Get over mutual TLS).
// The audit record marks the export as raw.
func (s *Service) ExportKeyMaterial(ctx context.Context, req RawExportRequest) (res *RawExport, err error) {
	t := &target{resource: "raw"}
	defer func() {
		if err = s.finish(ctx, OpKeyExport, t, err); err != nil {
			if res != nil {
				res.Material.Wipe()
			}
			res = nil
		}
	}()
	err = s.exportMaterial(ctx, t, req.Key, req.Version, req.Accept,
		func(name string) string {
			return fmt.Sprintf("export version %d of key %q in clear over an authenticated channel", t.keyVersion, name)
		},
		[]string{"raw"},
		func(ck *cachedKey, material *secret.Bytes) error {
			res = &RawExport{KeyID: ck.rec.ID, KeyVersion: t.keyVersion, Algorithm: ck.rec.Algorithm, Material: material.Clone()}
			return nil
		})
	return res, err
}

// exportMaterial runs the checks every export makes (key:export on an
// exportable key, a version that may still decrypt and is not
// compromised, dual control over exactly this export, summarised and
// keyed by summary and parts) and hands the version's material to with,
// wiping it afterwards.
func (s *Service) exportMaterial(ctx context.Context, t *target, key string, version uint32, accept func(crypto.Algorithm) error, summary func(name string) string, parts []string, with func(*cachedKey, *secret.Bytes) error) error {
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	ck, err := s.resolveFor(ctx, kr, key, t, access.KeyExport)
	if err != nil {
		return err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyExport, keyResource(ck.rec), nil); err != nil {
		return err
	}
	if accept != nil {
		if err := accept(ck.rec.Algorithm); err != nil {
			return err
		}
	}
	if !ck.rec.Exportable {
		return Errorf(CodeKeyNotExportable, "key %q is not exportable: only keys created with exportable: true can be exported", ck.rec.Name)
	}
	// Export is a decrypt-class use (deactivated keys still export their
	// material to migrate it); compromised material never leaves.
	if _, err := s.usableVersion(ctx, kr, ck, version, use{op: lifecycle.Decrypt, purpose: ck.rec.Algorithm.Purpose(), verb: "export"}, t); err != nil {
		if CodeOf(err) == CodeKeyCompromised {
			return Errorf(CodeKeyCompromised, "key %q (version %d) is compromised: compromised material is never exported", ck.rec.Name, t.keyVersion)
		}
		return err
	}
	if err := s.dualControl(ctx, kr, t, gated{action: access.KeyExport, op: OpKeyExport, keyID: ck.rec.ID,
		summary: summary(ck.rec.Name), parts: append([]string{fmt.Sprint(t.keyVersion)}, parts...)}); err != nil {
		return err
	}
	_, material, err := s.versionMaterial(ctx, kr, ck, t.keyVersion)
	if err != nil {
		return err
	}
	if material == nil {
		return Errorf(CodeUnsupportedOperation, "key %q is in the HSM: its material never leaves it", ck.rec.Name)
	}
	defer material.Wipe()
	return with(ck, material)
}

// expireImportTokens deletes import tokens that expired unused, so their
// wrapping private keys do not outlive their purpose. Each deletion is
// audited as a scheduler request.
func (s *Service) expireImportTokens(ctx context.Context, kr *seal.Keyring, now time.Time) (int, error) {
	var expired []string
	err := s.store.View(ctx, func(tx storage.Tx) error {
		after := ""
		for {
			page, err := tx.List(nsImportTokens, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
			if err != nil {
				return err
			}
			for _, it := range page.Items {
				var rec importTokenRecord
				if err := decodeRecord(kr, nsImportTokens, it.Key, it.Value, &rec); err != nil {
					return err
				}
				if !now.Before(rec.ExpiresAt) {
					expired = append(expired, it.Key)
				}
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	if err != nil {
		return 0, fmt.Errorf("kms: list import tokens: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range expired {
		bctx, t := s.backgroundRequest(ctx), &target{resource: id}
		err := s.update(bctx, OpImportTokenExpire, t, func(tx storage.Tx) error {
			return tx.Delete(nsImportTokens, id)
		})
		if errors.Is(err, storage.ErrNotFound) {
			continue // used or deleted meanwhile
		}
		if err != nil {
			errs = append(errs, s.finish(bctx, OpImportTokenExpire, t, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
