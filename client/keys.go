package client

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Algorithms accepted by CreateKey.
const (
	// AlgorithmAES256GCM is AES-256 in Galois/Counter Mode.
	AlgorithmAES256GCM = "aes-256-gcm"
	// AlgorithmChaCha20Poly1305 is ChaCha20-Poly1305 (RFC 8439), for
	// platforms without AES hardware.
	AlgorithmChaCha20Poly1305 = "chacha20-poly1305"
	// AlgorithmXChaCha20Poly1305 is XChaCha20-Poly1305 (192-bit nonces).
	AlgorithmXChaCha20Poly1305 = "xchacha20-poly1305"
	// AlgorithmAES256SIV is deterministic encryption (RFC 5297), for
	// equality search: equal plaintexts give equal ciphertexts.
	AlgorithmAES256SIV = "aes-256-siv"
	// HMAC algorithms, for GenerateMAC and VerifyMAC.
	AlgorithmHMACSHA256 = "hmac-sha256"
	AlgorithmHMACSHA384 = "hmac-sha384"
	AlgorithmHMACSHA512 = "hmac-sha512"
)

// Key is a key's metadata; key material never leaves the server.
type Key struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Algorithm   string            `json:"algorithm"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
	Owner       string            `json:"owner"`
	// PrimaryVersion is the version that encrypts; older versions still
	// decrypt.
	PrimaryVersion int       `json:"primary_version"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      string    `json:"created_by"`
	UpdatedAt      time.Time `json:"updated_at"`
	// State is the key's lifecycle state, e.g. "active" (see docs/lifecycle.md).
	State string `json:"state"`
	// Derived keys use a subkey per encryption context.
	Derived bool `json:"derived,omitempty"`
	// PrimarySince is when the primary version became primary.
	PrimarySince time.Time `json:"primary_since"`
	// RotationPeriod (e.g. "90d") rotates the key automatically; empty: none.
	RotationPeriod string `json:"rotation_period,omitempty"`
	// MinDecryptionVersion refuses ciphertexts of older versions.
	MinDecryptionVersion int `json:"min_decryption_version,omitempty"`
	// UsageBound is how many encryptions a version performs before the key
	// rotates by itself.
	UsageBound uint64 `json:"usage_bound"`
	// ActivateAt and DeactivateAt change the key's state on time.
	ActivateAt   time.Time `json:"activate_at,omitzero"`
	DeactivateAt time.Time `json:"deactivate_at,omitzero"`
	// DestroyAt is when a destroy-scheduled key will be destroyed.
	DestroyAt time.Time `json:"destroy_at,omitzero"`
	// DestroyedAt and DestroyedBy describe a destroyed key's tombstone.
	DestroyedAt time.Time `json:"destroyed_at,omitzero"`
	DestroyedBy string    `json:"destroyed_by,omitempty"`
}

// KeyVersion is one version of a key's material, with its provenance.
type KeyVersion struct {
	Version    int        `json:"version"`
	Algorithm  string     `json:"algorithm"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	Provenance Provenance `json:"provenance"`
	// State is the version's own lifecycle state; the key's state applies too.
	State       string    `json:"state"`
	DestroyAt   time.Time `json:"destroy_at,omitzero"`
	DestroyedAt time.Time `json:"destroyed_at,omitzero"`
	DestroyedBy string    `json:"destroyed_by,omitempty"`
}

// LifecycleRequest is one lifecycle action: activate, suspend, resume,
// deactivate, compromise, schedule-destruction or cancel-destruction.
type LifecycleRequest struct {
	Action string `json:"action"`
	// WaitingDays is the destruction waiting period (1–365, default 30),
	// only for schedule-destruction.
	WaitingDays int `json:"waiting_days,omitempty"`
}

// Provenance records how a key version's material was generated.
type Provenance struct {
	Generator     string `json:"generator"`
	EntropySource string `json:"entropy_source"`
	ServerVersion string `json:"server_version"`
}

// CreateKeyRequest is the body of POST /v1/keys. Name and Algorithm are
// required; the other fields are optional.
type CreateKeyRequest struct {
	Name        string            `json:"name"`
	Algorithm   string            `json:"algorithm"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Owner       string            `json:"owner,omitempty"`
	// PreActive creates the key pre-active: unusable until activated.
	PreActive bool `json:"pre_active,omitempty"`
	// Derived makes every operation use a subkey derived (HKDF-SHA256) from
	// the encryption context, which is then required.
	Derived bool `json:"derived,omitempty"`
	KeyPolicy
}

// KeyPolicy sets a key's rotation and use policy. Nil fields are left
// unchanged (on create: defaults).
type KeyPolicy struct {
	// RotationPeriod such as "90d", "36h"; "0" removes scheduled rotation.
	RotationPeriod       *string    `json:"rotation_period,omitempty"`
	MinDecryptionVersion *int       `json:"min_decryption_version,omitempty"`
	UsageBound           *uint64    `json:"usage_bound,omitempty"`
	ActivateAt           *time.Time `json:"activate_at,omitempty"`
	DeactivateAt         *time.Time `json:"deactivate_at,omitempty"`
}

// RotateOptions qualify a rotation. CompromiseVersions makes it an
// emergency rotation: those versions are marked compromised at once.
type RotateOptions struct {
	CompromiseVersions []int `json:"compromise_versions,omitempty"`
}

// ListKeysOptions selects a page of keys. Zero values use the server's
// defaults (limit 100, first page, no label filter).
type ListKeysOptions struct {
	// Limit is the page size, 1–1000.
	Limit int
	// PageToken is the NextPageToken of the previous page.
	PageToken string
	// Labels keeps only keys carrying all of these labels.
	Labels map[string]string
}

// ListKeysResponse is one page of keys.
type ListKeysResponse struct {
	Keys []Key `json:"keys"`
	// NextPageToken is empty on the last page.
	NextPageToken string `json:"next_page_token"`
}

// ListVersionsOptions selects a page of key versions.
type ListVersionsOptions struct {
	// Limit is the page size, 1–1000 (server default 100).
	Limit int
	// PageToken is the NextPageToken of the previous page.
	PageToken string
}

// ListVersionsResponse is one page of a key's versions.
type ListVersionsResponse struct {
	Versions []KeyVersion `json:"versions"`
	// NextPageToken is empty on the last page.
	NextPageToken string `json:"next_page_token"`
}

// errPageLoop guards the iterators against a server returning the same page
// token forever.
var errPageLoop = errors.New("arca: server returned the same page token twice")

// CreateKey calls POST /v1/keys.
func (c *Client) CreateKey(ctx context.Context, req CreateKeyRequest) (*Key, error) {
	var out Key
	if _, err := c.do(ctx, http.MethodPost, "/v1/keys", nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetKey calls GET /v1/keys/{key}; key is a name or an id.
func (c *Client) GetKey(ctx context.Context, key string) (*Key, error) {
	p, err := keyPath(key, "")
	if err != nil {
		return nil, err
	}
	var out Key
	if _, err := c.do(ctx, http.MethodGet, p, nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListKeys calls GET /v1/keys for one page.
func (c *Client) ListKeys(ctx context.Context, opts ListKeysOptions) (*ListKeysResponse, error) {
	q := pageQuery(opts.Limit, opts.PageToken)
	names := make([]string, 0, len(opts.Labels))
	for k := range opts.Labels {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		q.Add("label", k+"="+opts.Labels[k])
	}
	var out ListKeysResponse
	if _, err := c.do(ctx, http.MethodGet, "/v1/keys", q, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllKeys iterates over every key matching opts, fetching pages of
// opts.Limit as needed, starting at opts.PageToken. It stops at the first
// error, which it yields.
func (c *Client) AllKeys(ctx context.Context, opts ListKeysOptions) iter.Seq2[Key, error] {
	return func(yield func(Key, error) bool) {
		for {
			page, err := c.ListKeys(ctx, opts)
			if err != nil {
				yield(Key{}, err)
				return
			}
			for _, k := range page.Keys {
				if !yield(k, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			if page.NextPageToken == opts.PageToken {
				yield(Key{}, errPageLoop)
				return
			}
			opts.PageToken = page.NextPageToken
		}
	}
}

// RotateKey calls POST /v1/keys/{key}/rotate, which makes a new primary
// version, and returns the updated key.
func (c *Client) RotateKey(ctx context.Context, key string) (*Key, error) {
	return c.RotateKeyWith(ctx, key, RotateOptions{})
}

// RotateKeyWith calls POST /v1/keys/{key}/rotate with options, e.g. an
// emergency rotation that marks old versions compromised.
func (c *Client) RotateKeyWith(ctx context.Context, key string, opts RotateOptions) (*Key, error) {
	p, err := keyPath(key, "/rotate")
	if err != nil {
		return nil, err
	}
	var out Key
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, opts, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateKeyPolicy calls PATCH /v1/keys/{key} to change the key's rotation
// and use policy.
func (c *Client) UpdateKeyPolicy(ctx context.Context, key string, p KeyPolicy) (*Key, error) {
	path, err := keyPath(key, "")
	if err != nil {
		return nil, err
	}
	var out Key
	if _, err := c.do(ctx, http.MethodPatch, path, nil, true, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChangeKeyState calls POST /v1/keys/{key}/lifecycle.
func (c *Client) ChangeKeyState(ctx context.Context, key string, req LifecycleRequest) (*Key, error) {
	p, err := keyPath(key, "/lifecycle")
	if err != nil {
		return nil, err
	}
	var out Key
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChangeVersionState calls POST /v1/keys/{key}/versions/{version}/lifecycle.
func (c *Client) ChangeVersionState(ctx context.Context, key string, version int, req LifecycleRequest) (*KeyVersion, error) {
	if version < 1 {
		return nil, errors.New("arca: version must be at least 1")
	}
	p, err := keyPath(key, "/versions/"+strconv.Itoa(version)+"/lifecycle")
	if err != nil {
		return nil, err
	}
	var out KeyVersion
	if _, err := c.do(ctx, http.MethodPost, p, nil, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListVersions calls GET /v1/keys/{key}/versions for one page.
func (c *Client) ListVersions(ctx context.Context, key string, opts ListVersionsOptions) (*ListVersionsResponse, error) {
	p, err := keyPath(key, "/versions")
	if err != nil {
		return nil, err
	}
	var out ListVersionsResponse
	if _, err := c.do(ctx, http.MethodGet, p, pageQuery(opts.Limit, opts.PageToken), true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllVersions iterates over every version of key, fetching pages as needed.
// It stops at the first error, which it yields.
func (c *Client) AllVersions(ctx context.Context, key string, opts ListVersionsOptions) iter.Seq2[KeyVersion, error] {
	return func(yield func(KeyVersion, error) bool) {
		for {
			page, err := c.ListVersions(ctx, key, opts)
			if err != nil {
				yield(KeyVersion{}, err)
				return
			}
			for _, v := range page.Versions {
				if !yield(v, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			if page.NextPageToken == opts.PageToken {
				yield(KeyVersion{}, errPageLoop)
				return
			}
			opts.PageToken = page.NextPageToken
		}
	}
}

// pageQuery encodes the paging parameters that are set.
func pageQuery(limit int, pageToken string) url.Values {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	return q
}
