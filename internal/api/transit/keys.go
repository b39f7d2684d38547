package transit

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/storage"
)

// maxPublicKeys bounds how many versions' public keys a key read returns
// (the most recent ones): each is read through the service and audited.
const maxPublicKeys = 100

// keyData is Vault's description of a key (GET keys/<name>), plus the
// Arca id, algorithm and lifecycle state, which Vault clients ignore.
type keyData struct {
	Name                 string         `json:"name"`
	Type                 string         `json:"type"`
	Keys                 map[string]any `json:"keys"`
	LatestVersion        uint32         `json:"latest_version"`
	MinAvailableVersion  uint32         `json:"min_available_version"`
	MinDecryptionVersion uint32         `json:"min_decryption_version"`
	MinEncryptionVersion uint32         `json:"min_encryption_version"`
	DeletionAllowed      bool           `json:"deletion_allowed"`
	Derived              bool           `json:"derived"`
	KDF                  string         `json:"kdf,omitempty"`
	ConvergentEncryption bool           `json:"convergent_encryption"`
	Exportable           bool           `json:"exportable"`
	AllowPlaintextBackup bool           `json:"allow_plaintext_backup"`
	ImportedKey          bool           `json:"imported_key"`
	AutoRotatePeriod     int64          `json:"auto_rotate_period"`
	SupportsEncryption   bool           `json:"supports_encryption"`
	SupportsDecryption   bool           `json:"supports_decryption"`
	SupportsDerivation   bool           `json:"supports_derivation"`
	SupportsSigning      bool           `json:"supports_signing"`
	ArcaKeyID            string         `json:"arca_key_id"`
	ArcaAlgorithm        string         `json:"arca_algorithm"`
	ArcaState            string         `json:"arca_state"`
}

// publicKeyEntry is one version of an asymmetric key in keyData.Keys.
type publicKeyEntry struct {
	CreationTime time.Time `json:"creation_time"`
	Name         string    `json:"name"`
	PublicKey    string    `json:"public_key"`
}

// describe builds Vault's key description from the key's metadata, its
// versions and, for asymmetric keys, their public keys, each read through
// the service (and audited).
func (h *Handler) describe(ctx context.Context, k *kms.Key) (*reply, error) {
	alg := k.Algorithm
	d := &keyData{
		Name: k.Name, Type: vaultType(alg), Keys: map[string]any{},
		LatestVersion: k.PrimaryVersion, MinDecryptionVersion: max(k.Policy.MinDecryptionVersion, 1),
		Derived: k.Derived, Exportable: k.Exportable, ImportedKey: k.Origin == kms.OriginExternal,
		AutoRotatePeriod:   int64(k.Policy.RotationPeriod / time.Second),
		SupportsEncryption: alg.Encrypts(), SupportsDecryption: alg.Encrypts(),
		SupportsDerivation: alg.Purpose() == crypto.PurposeEncrypt, SupportsSigning: alg.Purpose() == crypto.PurposeSign,
		ArcaKeyID: k.ID, ArcaAlgorithm: string(alg), ArcaState: string(k.State),
	}
	if k.Derived {
		d.KDF = "hkdf_sha256"
	}
	var warnings []string
	versions, err := h.liveVersions(ctx, k.ID)
	if kms.CodeOf(err) == kms.CodeForbidden {
		// The caller may create, rotate or configure the key without
		// reading it: the change is made, its versions are not shown.
		return &reply{data: d, warnings: []string{"key versions are not shown: " + errorMessage(kms.AsError(err), "")}}, nil
	}
	if err != nil {
		return nil, err
	}
	asymmetric := alg.Purpose() == crypto.PurposeSign || alg.Purpose() == crypto.PurposeAsymmetric
	if asymmetric && len(versions) > maxPublicKeys {
		warnings = append(warnings, fmt.Sprintf("public keys of the %d most recent versions only", maxPublicKeys))
		versions = versions[len(versions)-maxPublicKeys:]
	}
	for _, v := range versions {
		label := strconv.FormatUint(uint64(v.Version), 10)
		if !asymmetric {
			d.Keys[label] = v.CreatedAt.Unix()
			continue
		}
		pub, err := h.svc.GetPublicKey(ctx, k.ID, v.Version)
		if lifecycleRefusal(err) {
			continue // a version the key's state keeps from use
		}
		if err != nil {
			return nil, err
		}
		text, err := publicKeyText(alg, pub.PublicKey)
		if err != nil {
			return nil, err
		}
		d.Keys[label] = publicKeyEntry{CreationTime: v.CreatedAt, Name: publicKeyName(alg), PublicKey: text}
	}
	return &reply{data: d, warnings: warnings}, nil
}

// liveVersions lists a key's versions that are not destroyed, oldest first.
func (h *Handler) liveVersions(ctx context.Context, keyID string) ([]kms.KeyVersion, error) {
	var out []kms.KeyVersion
	page := ""
	for {
		res, err := h.svc.ListVersions(ctx, kms.ListVersionsRequest{Key: keyID, Limit: storage.MaxListLimit, PageToken: page})
		if err != nil {
			return nil, err
		}
		for _, v := range res.Versions {
			if v.State != lifecycle.Destroyed {
				out = append(out, v)
			}
		}
		if res.NextPageToken == "" {
			return out, nil
		}
		page = res.NextPageToken
	}
}

// lifecycleRefusal reports a refusal by the state of a key or version.
func lifecycleRefusal(err error) bool {
	switch kms.CodeOf(err) {
	case kms.CodeKeyPreActive, kms.CodeKeySuspended, kms.CodeKeyDeactivated, kms.CodeKeyCompromised,
		kms.CodeKeyDestroyScheduled, kms.CodeKeyDestroyed, kms.CodeVersionBelowMinimum, kms.CodeKeyVersionNotFound:
		return true
	}
	return false
}

// publicKeyName is Vault's name of an asymmetric key's curve or size.
func publicKeyName(a crypto.Algorithm) string {
	switch a {
	case crypto.ECDSAP256:
		return "P-256"
	case crypto.ECDSAP384:
		return "P-384"
	case crypto.ECDSAP521:
		return "P-521"
	}
	return string(a)
}

// publicKeyText is a public key as Vault gives it: ed25519 as the standard
// base64 of the raw 32 bytes, every other type as PEM.
func publicKeyText(a crypto.Algorithm, pub *crypto.PublicKey) (string, error) {
	if a != crypto.Ed25519 {
		return pub.PEM, nil
	}
	k, err := x509.ParsePKIXPublicKey(pub.DER)
	if err != nil {
		return "", fmt.Errorf("transit: parse ed25519 public key: %w", err)
	}
	raw, ok := k.(ed25519.PublicKey)
	if !ok {
		return "", fmt.Errorf("transit: public key of an ed25519 key is a %T", k)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// listKeys serves LIST keys and GET keys?list=true: the names of the keys
// the caller may read, all pages. An empty list is Vault's 404 with an
// empty errors list.
func (h *Handler) listKeys(ctx context.Context, c *call) (*reply, error) {
	if c.r.Method == http.MethodGet && !c.list {
		c.header.Set("Allow", MethodList)
		return nil, reject(kms.CodeMethodNotAllowed, "unsupported operation: read keys with LIST or GET ?list=true")
	}
	var names []string
	page := ""
	for {
		res, err := h.svc.ListKeys(ctx, kms.ListKeysRequest{Limit: storage.MaxListLimit, PageToken: page})
		if err != nil {
			return nil, err
		}
		for _, k := range res.Keys {
			names = append(names, k.Name)
		}
		if res.NextPageToken == "" {
			break
		}
		page = res.NextPageToken
	}
	if len(names) == 0 {
		return &reply{status: http.StatusNotFound, raw: errorBody{Errors: []string{}}}, nil
	}
	return &reply{data: map[string]any{"keys": names}}, nil
}

// readKey serves GET keys/<name>.
func (h *Handler) readKey(ctx context.Context, c *call) (*reply, error) {
	k, err := h.svc.GetKey(ctx, c.name)
	if err != nil {
		return nil, err
	}
	return h.describe(ctx, k)
}

// createKeyRequest is Vault's key creation.
type createKeyRequest struct {
	Type                 string       `json:"type"`
	Derived              flexBool     `json:"derived"`
	ConvergentEncryption flexBool     `json:"convergent_encryption"`
	Exportable           flexBool     `json:"exportable"`
	AllowPlaintextBackup flexBool     `json:"allow_plaintext_backup"`
	AutoRotatePeriod     flexDuration `json:"auto_rotate_period"`
	KeySize              flexInt      `json:"key_size"`
	Context              string       `json:"context"`
	ManagedKeyName       string       `json:"managed_key_name"`
	ManagedKeyID         string       `json:"managed_key_id"`
}

func (req *createKeyRequest) validate() (crypto.Algorithm, error) {
	for _, err := range []error{
		unsupportedIf(bool(req.ConvergentEncryption), "convergent_encryption", "use an aes-256-siv key for deterministic encryption"),
		unsupportedIf(bool(req.AllowPlaintextBackup), "allow_plaintext_backup", "Arca never exports key material in plaintext"),
		unsupportedIf(req.Context != "", "context", "a key's context is given on each operation"),
		unsupportedIf(req.ManagedKeyName != "" || req.ManagedKeyID != "", "managed keys", "Arca keeps HSM keys itself (protection hsm)"),
	} {
		if err != nil {
			return "", err
		}
	}
	return algorithmFor(req.Type, req.KeySize)
}

// createKey serves POST/PUT keys/<name>. As in Vault, creating a key that
// exists changes nothing and answers the existing key with a warning.
func (h *Handler) createKey(ctx context.Context, c *call) (*reply, error) {
	var req createKeyRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	alg, err := req.validate()
	if err != nil {
		return nil, err
	}
	create := kms.CreateKeyRequest{Name: c.name, Algorithm: string(alg), Derived: bool(req.Derived), Exportable: bool(req.Exportable)}
	if req.AutoRotatePeriod.set {
		create.Policy.RotationPeriod = &req.AutoRotatePeriod.d
	}
	k, err := h.svc.CreateKey(ctx, create)
	if kms.CodeOf(err) == kms.CodeKeyExists {
		if k, err = h.svc.GetKey(ctx, c.name); err != nil {
			return nil, err
		}
		out, err := h.describe(ctx, k)
		if err != nil {
			return nil, err
		}
		out.warnings = append(out.warnings, fmt.Sprintf("key %q already existed; nothing was changed", c.name))
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return h.describe(ctx, k)
}

// deleteKey refuses DELETE keys/<name>: Arca destroys keys only through
// their lifecycle, which schedules destruction after a waiting period and
// may require approval. A Vault key reads deletion_allowed false, so Vault
// clients expect this refusal.
func (h *Handler) deleteKey(context.Context, *call) (*reply, error) {
	return nil, reject(kms.CodeUnsupportedOperation,
		"deletion is not allowed for this key: Arca destroys keys only through their lifecycle, which schedules destruction after a waiting period (arca key destroy, or POST /v1/keys/<key>/lifecycle)")
}

// managedKeyRequest is the body of rotate: Vault's managed key fields,
// refused when set.
type managedKeyRequest struct {
	ManagedKeyName string `json:"managed_key_name"`
	ManagedKeyID   string `json:"managed_key_id"`
}

// rotateKey serves POST/PUT keys/<name>/rotate and answers the key as
// read afterwards, as recent Vault versions do.
func (h *Handler) rotateKey(ctx context.Context, c *call) (*reply, error) {
	var req managedKeyRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := unsupportedIf(req.ManagedKeyName != "" || req.ManagedKeyID != "", "managed keys", "Arca keeps HSM keys itself (protection hsm)"); err != nil {
		return nil, err
	}
	k, err := h.svc.RotateKey(ctx, kms.RotateRequest{Key: c.name})
	if err != nil {
		return nil, err
	}
	return h.describe(ctx, k)
}

// configRequest is Vault's key configuration. Arca maps
// min_decryption_version and auto_rotate_period to the key's policy;
// settings Arca fixes (exportability, deletion, backups, encryption with
// older versions) are refused when changed from Arca's value.
type configRequest struct {
	MinDecryptionVersion flexInt      `json:"min_decryption_version"`
	MinEncryptionVersion flexInt      `json:"min_encryption_version"`
	DeletionAllowed      flexBool     `json:"deletion_allowed"`
	Exportable           flexBool     `json:"exportable"`
	AllowPlaintextBackup flexBool     `json:"allow_plaintext_backup"`
	AutoRotatePeriod     flexDuration `json:"auto_rotate_period"`
}

// configKey serves POST/PUT keys/<name>/config.
func (h *Handler) configKey(ctx context.Context, c *call) (*reply, error) {
	var req configRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	for _, err := range []error{
		unsupportedIf(bool(req.DeletionAllowed), "deletion_allowed", "Arca destroys keys only through their lifecycle"),
		unsupportedIf(bool(req.Exportable), "exportable", "exportability is fixed when an Arca key is created"),
		unsupportedIf(bool(req.AllowPlaintextBackup), "allow_plaintext_backup", "Arca never exports key material in plaintext"),
		unsupportedIf(req.MinEncryptionVersion.set && req.MinEncryptionVersion.n != 0, "min_encryption_version", "Arca encrypts with the primary version only"),
	} {
		if err != nil {
			return nil, err
		}
	}
	var u kms.PolicyUpdate
	if req.MinDecryptionVersion.set {
		v, err := req.MinDecryptionVersion.uint32In("min_decryption_version", 0, 1<<32-1)
		if err != nil {
			return nil, err
		}
		u.MinDecryptionVersion = &v
	}
	if req.AutoRotatePeriod.set {
		u.RotationPeriod = &req.AutoRotatePeriod.d
	}
	var k *kms.Key
	var err error
	if u.MinDecryptionVersion == nil && u.RotationPeriod == nil {
		k, err = h.svc.GetKey(ctx, c.name)
	} else {
		k, err = h.svc.UpdateKeyPolicy(ctx, c.name, u)
	}
	if err != nil {
		return nil, err
	}
	return h.describe(ctx, k)
}
