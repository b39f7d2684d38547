package kms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage"
)

// Key is a key's metadata. It never holds key material.
type Key struct {
	ID             string
	Name           string
	Algorithm      crypto.Algorithm
	Description    string
	Labels         map[string]string
	Owner          string
	PrimaryVersion uint32
	CreatedAt      time.Time
	CreatedBy      string
	UpdatedAt      time.Time
	// State is the key's lifecycle state (see package lifecycle).
	State lifecycle.State
	// Policy is the key's rotation and use policy.
	Policy KeyPolicy
	// Derived keys use a subkey per encryption context.
	Derived bool
	// DestroyAt is when a destroy-scheduled key will be destroyed.
	DestroyAt time.Time
	// DestroyedAt and DestroyedBy record the destruction of a destroyed key.
	DestroyedAt time.Time
	DestroyedBy string
}

// Provenance records where a key version's material came from.
type Provenance struct {
	Generator     string `json:"generator"`
	EntropySource string `json:"entropy_source"`
	ServerVersion string `json:"server_version"`
}

// KeyVersion is one version of a key, without its material.
type KeyVersion struct {
	Version    uint32
	Algorithm  crypto.Algorithm
	CreatedAt  time.Time
	CreatedBy  string
	Provenance Provenance
	// State is the version's own lifecycle state; the key's state applies too.
	State       lifecycle.State
	DestroyAt   time.Time
	DestroyedAt time.Time
	DestroyedBy string
}

// tombstone is the lifecycle bookkeeping shared by key and version records.
type tombstone struct {
	State lifecycle.State `json:"state"`
	// PriorState is the state before destruction was scheduled, restored by
	// cancel-destruction.
	PriorState  lifecycle.State `json:"prior_state,omitempty"`
	DestroyAt   time.Time       `json:"destroy_at,omitzero"`
	DestroyedAt time.Time       `json:"destroyed_at,omitzero"`
	DestroyedBy string          `json:"destroyed_by,omitempty"`
}

// CreateKeyRequest describes a new key.
type CreateKeyRequest struct {
	Name        string
	Algorithm   string
	Description string
	Labels      map[string]string
	Owner       string
	// PreActive creates the key in the pre-active state: it cannot be used
	// until it is activated.
	PreActive bool
	// Derived makes every operation use a subkey derived from the
	// encryption context, which then is required.
	Derived bool
	// Policy sets the key's rotation and use policy.
	Policy PolicyUpdate
}

// keyRecord is the stored form of Key.
type keyRecord struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Algorithm      crypto.Algorithm  `json:"algorithm"`
	Description    string            `json:"description,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	Owner          string            `json:"owner,omitempty"`
	PrimaryVersion uint32            `json:"primary_version"`
	CreatedAt      time.Time         `json:"created_at"`
	CreatedBy      string            `json:"created_by"`
	UpdatedAt      time.Time         `json:"updated_at"`
	// Derived keys derive a subkey per encryption context (HKDF-SHA256).
	Derived bool `json:"derived,omitempty"`
	keyPolicy
	tombstone
}

// keyPolicy is a key's rotation and use policy, stored with the key.
type keyPolicy struct {
	// PrimarySince is when the current primary version became primary.
	PrimarySince time.Time `json:"primary_since"`
	// RotationPeriod rotates the key automatically once the primary
	// version is this old; zero means no scheduled rotation.
	RotationPeriod time.Duration `json:"rotation_period,omitempty"`
	// MinDecryptionVersion refuses decryption of ciphertexts of older
	// versions; zero or one allows every version.
	MinDecryptionVersion uint32 `json:"min_decryption_version,omitempty"`
	// UsageBound is how many encryptions one version may perform before
	// the key rotates; zero means DefaultUsageBound.
	UsageBound uint64 `json:"usage_bound,omitempty"`
	// ActivateAt and DeactivateAt move the key between states on time.
	ActivateAt   time.Time `json:"activate_at,omitzero"`
	DeactivateAt time.Time `json:"deactivate_at,omitzero"`
}

// versionRecord is the stored form of a key version. Material is the key
// material sealed under the keyring key, bound to key id, version and purpose.
type versionRecord struct {
	KeyID      string           `json:"key_id"`
	Version    uint32           `json:"version"`
	Algorithm  crypto.Algorithm `json:"algorithm"`
	Purpose    string           `json:"purpose"`
	CreatedAt  time.Time        `json:"created_at"`
	CreatedBy  string           `json:"created_by"`
	Provenance Provenance       `json:"provenance"`
	// Material is absent once the version is destroyed.
	Material []byte `json:"material,omitempty"`
	// UsageReserved is how many encryptions have been reserved for this
	// version, in blocks; the in-memory count never passes it.
	UsageReserved uint64 `json:"usage_reserved,omitempty"`
	tombstone
}

// nameIndex is the stored value of a name → id index entry.
type nameIndex struct {
	ID string `json:"id"`
}

func (r *keyRecord) public() *Key {
	return &Key{
		ID: r.ID, Name: r.Name, Algorithm: r.Algorithm, Description: r.Description,
		Labels: maps.Clone(r.Labels), Owner: r.Owner, PrimaryVersion: r.PrimaryVersion,
		CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt,
		State: r.State, DestroyAt: r.DestroyAt, DestroyedAt: r.DestroyedAt, DestroyedBy: r.DestroyedBy,
		Derived: r.Derived,
		Policy: KeyPolicy{
			PrimarySince: r.PrimarySince, RotationPeriod: r.RotationPeriod, MinDecryptionVersion: r.MinDecryptionVersion,
			UsageBound: r.usageBound(), ActivateAt: r.ActivateAt, DeactivateAt: r.DeactivateAt,
		},
	}
}

// KeyPolicy is the public form of a key's rotation and use policy.
type KeyPolicy struct {
	PrimarySince         time.Time
	RotationPeriod       time.Duration
	MinDecryptionVersion uint32
	UsageBound           uint64
	ActivateAt           time.Time
	DeactivateAt         time.Time
}

func (r *versionRecord) public() KeyVersion {
	return KeyVersion{
		Version: r.Version, Algorithm: r.Algorithm, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, Provenance: r.Provenance,
		State: r.State, DestroyAt: r.DestroyAt, DestroyedAt: r.DestroyedAt, DestroyedBy: r.DestroyedBy,
	}
}

func versionKey(keyID string, v uint32) string { return fmt.Sprintf("%s/%010d", keyID, v) }

// materialAAD binds sealed material to its key, version and purpose, so a
// record cannot be moved onto another key or version.
func materialAAD(keyID string, v uint32, purpose string) []byte {
	return fmt.Appendf(nil, "arca/v1/key-material\x00%s\x00%d\x00%s", keyID, v, purpose)
}

var (
	namePattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	labelKeyPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]{0,62}$`)
	maxLabels         = 64
	maxLabelValue     = 256
	maxDescription    = 1024
	maxOwner          = 256
	errKeyNameInvalid = Errorf(CodeInvalidArgument, "name must be 1-128 characters of [A-Za-z0-9._-], start with a letter or digit, and not be a UUID")
)

func (r *CreateKeyRequest) validate() (crypto.Algorithm, error) {
	if !namePattern.MatchString(r.Name) || isUUID(r.Name) {
		return "", errKeyNameInvalid
	}
	if r.Algorithm == "" {
		r.Algorithm = string(crypto.AES256GCM)
	}
	alg, err := crypto.ParseAlgorithm(r.Algorithm)
	if err != nil {
		return "", Errorf(CodeInvalidArgument, "algorithm must be one of %v", crypto.Algorithms())
	}
	if len(r.Description) > maxDescription || !printable(r.Description) {
		return "", Errorf(CodeInvalidArgument, "description must be at most %d printable characters", maxDescription)
	}
	if len(r.Owner) > maxOwner || !printable(r.Owner) {
		return "", Errorf(CodeInvalidArgument, "owner must be at most %d printable characters", maxOwner)
	}
	if err := validateLabels(r.Labels); err != nil {
		return "", err
	}
	if err := r.Policy.validate(); err != nil {
		return "", err
	}
	if r.Derived && (alg.Purpose() != crypto.PurposeEncrypt) {
		return "", Errorf(CodeInvalidArgument, "only encryption keys can be derived")
	}
	if v := r.Policy.MinDecryptionVersion; v != nil && *v > 1 {
		return "", Errorf(CodeInvalidArgument, "min_decryption_version of a new key can be at most 1")
	}
	return alg, nil
}

func validateLabels(labels map[string]string) error {
	if len(labels) > maxLabels {
		return Errorf(CodeInvalidArgument, "at most %d labels", maxLabels)
	}
	for k, v := range labels {
		if !labelKeyPattern.MatchString(k) {
			return Errorf(CodeInvalidArgument, "label keys must be 1-63 characters of [a-z0-9._/-] starting with a letter or digit")
		}
		if len(v) > maxLabelValue || !printable(v) {
			return Errorf(CodeInvalidArgument, "label values must be at most %d printable characters", maxLabelValue)
		}
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// newVersion generates fresh material for version v of a key and returns its
// record, sealed under the keyring.
func (s *Service) newVersion(kr *seal.Keyring, keyID string, alg crypto.Algorithm, v uint32, by string, now time.Time) (*versionRecord, error) {
	material, err := crypto.GenerateMaterial(alg)
	if err != nil {
		return nil, err
	}
	defer material.Wipe()
	return s.sealVersion(kr, keyID, alg, v, material, by, now)
}

// sealVersion builds the record of version v from fresh material, sealed
// under the keyring and bound to key, version and purpose.
func (s *Service) sealVersion(kr *seal.Keyring, keyID string, alg crypto.Algorithm, v uint32, material *secret.Bytes, by string, now time.Time) (*versionRecord, error) {
	purpose := string(alg.Purpose())
	sealed, err := kr.Seal(material.Reveal(), materialAAD(keyID, v, purpose))
	if err != nil {
		return nil, err
	}
	return &versionRecord{
		KeyID: keyID, Version: v, Algorithm: alg, Purpose: purpose, CreatedAt: now, CreatedBy: by,
		Provenance: Provenance{Generator: "arca", EntropySource: "crypto/rand", ServerVersion: s.serverVersion},
		Material:   sealed,
		tombstone:  tombstone{State: lifecycle.Active},
	}, nil
}

func putVersion(tx storage.Tx, kr *seal.Keyring, vr *versionRecord) error {
	k := versionKey(vr.KeyID, vr.Version)
	v, err := encodeRecord(kr, nsKeyVersions, k, vr)
	if err != nil {
		return err
	}
	_, err = tx.Create(nsKeyVersions, k, v)
	return err
}

// CreateKey creates a key with its first version.
func (s *Service) CreateKey(ctx context.Context, req CreateKeyRequest) (key *Key, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyCreate, t, err); err != nil {
			key = nil
		}
	}()
	kr, id, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	alg, err := req.validate()
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	rec := &keyRecord{
		ID: uuid.NewString(), Name: req.Name, Algorithm: alg, Description: req.Description,
		Labels: maps.Clone(req.Labels), Owner: req.Owner, PrimaryVersion: 1,
		CreatedAt: now, CreatedBy: id.ID, UpdatedAt: now, Derived: req.Derived,
		tombstone: tombstone{State: lifecycle.Active},
	}
	rec.keyPolicy = req.Policy.record(now)
	if err := policyViolation(s.Policy().CheckCreate(policyKey(rec))); err != nil {
		return nil, err
	}
	if req.PreActive || (!rec.ActivateAt.IsZero() && rec.ActivateAt.After(now)) {
		rec.State = lifecycle.PreActive
	}
	t.keyID, t.keyVersion = rec.ID, 1
	vr, err := s.newVersion(kr, rec.ID, alg, 1, id.ID, now)
	if err != nil {
		return nil, internal("create key", err)
	}
	err = s.update(ctx, OpKeyCreate, t, func(tx storage.Tx) error {
		idx, err := encodeRecord(kr, nsKeyNames, rec.Name, nameIndex{ID: rec.ID})
		if err != nil {
			return err
		}
		if _, err := tx.Create(nsKeyNames, rec.Name, idx); err != nil {
			return err
		}
		kv, err := encodeRecord(kr, nsKeys, rec.ID, rec)
		if err != nil {
			return err
		}
		if _, err := tx.Create(nsKeys, rec.ID, kv); err != nil {
			return err
		}
		return putVersion(tx, kr, vr)
	})
	if errors.Is(err, storage.ErrExists) {
		return nil, Errorf(CodeKeyExists, "a key named %q already exists", req.Name)
	}
	if err != nil {
		return nil, storageError("create key", err)
	}
	return rec.public(), nil
}

// loadKey reads a key by name or id from storage and verifies it.
func loadKey(tx storage.Tx, kr *seal.Keyring, ref string) (*keyRecord, uint64, error) {
	if !isUUID(ref) && !namePattern.MatchString(ref) {
		return nil, 0, storage.ErrNotFound // no key can have this name
	}
	id := ref
	if !isUUID(ref) {
		var idx nameIndex
		if _, err := getRecord(tx, kr, nsKeyNames, ref, &idx); err != nil {
			return nil, 0, err
		}
		id = idx.ID
	}
	rec := new(keyRecord)
	rev, err := getRecord(tx, kr, nsKeys, id, rec)
	if err != nil {
		return nil, 0, err
	}
	if !isUUID(ref) && rec.Name != ref {
		return nil, 0, errTampered(nsKeyNames, ref)
	}
	return rec, rev, nil
}

func keyNotFound(ref string) *Error {
	return Errorf(CodeKeyNotFound, "key %q not found", truncate(ref, 140))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// resolve returns the cached key for a name or id, loading it on a miss.
func (s *Service) resolve(ctx context.Context, kr *seal.Keyring, ref string) (*cachedKey, error) {
	if ck := s.keys.lookup(ref); ck != nil {
		return ck, nil
	}
	if !isUUID(ref) && !namePattern.MatchString(ref) {
		return nil, keyNotFound(ref)
	}
	var rec *keyRecord
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		rec, _, err = loadKey(tx, kr, ref)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, keyNotFound(ref)
	}
	if err != nil {
		return nil, storageError("load key", err)
	}
	return s.keys.add(rec), nil
}

// GetKey returns a key's metadata.
func (s *Service) GetKey(ctx context.Context, ref string) (key *Key, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyGet, t, err); err != nil {
			key = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	ck, err := s.resolve(ctx, kr, ref)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	return ck.rec.public(), nil
}

// ListKeysRequest selects a page of keys.
type ListKeysRequest struct {
	Limit     int
	PageToken string
	// Labels filters keys: every label must match exactly.
	Labels map[string]string
}

// ListKeysResult is one page of keys, ordered by name.
type ListKeysResult struct {
	Keys          []*Key
	NextPageToken string
}

func decodePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) == 0 || len(b) > 256 || !storage.ValidKey(string(b)) {
		return "", Errorf(CodeInvalidArgument, "invalid page_token")
	}
	return string(b), nil
}

func encodePageToken(after string) string {
	if after == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(after))
}

func validateLimit(limit int) error {
	if limit < 0 || limit > storage.MaxListLimit {
		return Errorf(CodeInvalidArgument, "limit must be between 1 and %d", storage.MaxListLimit)
	}
	return nil
}

// ListKeys returns keys ordered by name, optionally filtered by labels.
func (s *Service) ListKeys(ctx context.Context, req ListKeysRequest) (res *ListKeysResult, err error) {
	defer func() {
		if err = s.finish(ctx, OpKeyList, nil, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := validateLimit(req.Limit); err != nil {
		return nil, err
	}
	if err := validateLabels(req.Labels); err != nil {
		return nil, err
	}
	after, err := decodePageToken(req.PageToken)
	if err != nil {
		return nil, err
	}
	limit := storage.ClampLimit(req.Limit)
	res = &ListKeysResult{}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		for {
			page, err := tx.List(nsKeyNames, storage.ListOptions{After: after, Limit: limit})
			if err != nil {
				return err
			}
			for _, it := range page.Items {
				after = it.Key
				var idx nameIndex
				if err := decodeRecord(kr, nsKeyNames, it.Key, it.Value, &idx); err != nil {
					return err
				}
				rec := new(keyRecord)
				if _, err := getRecord(tx, kr, nsKeys, idx.ID, rec); err != nil {
					return err
				}
				if !labelsMatch(rec.Labels, req.Labels) {
					continue
				}
				res.Keys = append(res.Keys, rec.public())
				if len(res.Keys) == limit {
					if page.Next != "" || it.Key != page.Items[len(page.Items)-1].Key {
						res.NextPageToken = encodePageToken(after)
					}
					return nil
				}
			}
			if page.Next == "" {
				return nil
			}
		}
	})
	if err != nil {
		return nil, storageError("list keys", err)
	}
	return res, nil
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// ListVersionsRequest selects a page of a key's versions.
type ListVersionsRequest struct {
	Key       string
	Limit     int
	PageToken string
}

// ListVersionsResult is one page of versions, oldest first.
type ListVersionsResult struct {
	Versions      []KeyVersion
	NextPageToken string
}

// ListVersions returns a key's versions, oldest first, without material.
func (s *Service) ListVersions(ctx context.Context, req ListVersionsRequest) (res *ListVersionsResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyVersions, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := validateLimit(req.Limit); err != nil {
		return nil, err
	}
	after, err := decodePageToken(req.PageToken)
	if err != nil {
		return nil, err
	}
	ck, err := s.resolve(ctx, kr, req.Key)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	prefix := ck.rec.ID + "/"
	if after != "" && len(after) <= len(prefix) {
		return nil, Errorf(CodeInvalidArgument, "invalid page_token")
	}
	res = &ListVersionsResult{}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		page, err := tx.List(nsKeyVersions, storage.ListOptions{Prefix: prefix, After: after, Limit: req.Limit})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			var vr versionRecord
			if err := decodeRecord(kr, nsKeyVersions, it.Key, it.Value, &vr); err != nil {
				return err
			}
			res.Versions = append(res.Versions, vr.public())
		}
		res.NextPageToken = encodePageToken(page.Next)
		return nil
	})
	if err != nil {
		return nil, storageError("list versions", err)
	}
	return res, nil
}
