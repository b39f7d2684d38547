package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Health is the answer of GET /v1/health.
type Health struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Version     string `json:"version"`
	// Node is the node's name; Role is standalone, leader or follower;
	// Storage is ok or unreachable.
	Node    string `json:"node"`
	Role    string `json:"role"`
	Storage string `json:"storage"`
}

// SealStatus describes initialisation and the unseal progress; it is the
// answer of the seal-status, unseal and seal endpoints.
type SealStatus struct {
	Initialized bool `json:"initialized"`
	Sealed      bool `json:"sealed"`
	// Threshold is the number of shares needed to unseal.
	Threshold int `json:"threshold"`
	// Shares is the number of shares the root key was split into.
	Shares int `json:"shares"`
	// Progress is the number of shares submitted so far towards unsealing.
	Progress int    `json:"progress"`
	Version  string `json:"version"`
	// Type is the seal type (shamir or pkcs11), and Reason why a PKCS#11
	// seal did not open yet.
	Type   string `json:"type,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// InitRequest is the body of POST /v1/sys/init: split the root key into
// Shares shares of which Threshold unseal the server.
type InitRequest struct {
	Shares    int `json:"shares,omitzero"`
	Threshold int `json:"threshold,omitzero"`
	// Seal is "shamir" (default) or "pkcs11" (no unseal shares).
	Seal string `json:"seal,omitempty"`
	// RecoveryShares and RecoveryThreshold, for a pkcs11 seal, split a
	// recovery key whose shares authorise break-glass root token
	// generation (none if zero).
	RecoveryShares    int `json:"recovery_shares,omitzero"`
	RecoveryThreshold int `json:"recovery_threshold,omitzero"`
}

// InitResponse holds the unseal shares and the root token. The server shows
// them exactly once; the caller must store them safely.
type InitResponse struct {
	Shares    []string `json:"shares"`
	RootToken string   `json:"root_token"`
	// RecoveryShares are the recovery key's shares of a pkcs11 seal.
	RecoveryShares []string `json:"recovery_shares,omitempty"`
}

// Health calls GET /v1/health. The server answers 503 while sealed or not
// initialised, with the same body; Health returns that body without error so
// that callers can inspect Sealed and Initialized. Other failures are errors.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	const path = "/v1/health"
	r, err := c.send(ctx, http.MethodGet, path, nil, false, nil)
	if err != nil {
		return nil, err
	}
	if r.status == http.StatusOK || r.status == http.StatusServiceUnavailable {
		var body struct {
			Health
			Error *errorDetail `json:"error"`
		}
		if json.Unmarshal(r.body, &body) == nil && body.Error == nil {
			h := body.Health
			return &h, nil
		}
		if r.status == http.StatusOK {
			return nil, fmt.Errorf("arca: decoding response of GET %s (request id %s): unexpected body", path, r.requestID)
		}
	}
	return nil, newError(r.status, r.requestID, r.body)
}

// SealStatus calls GET /v1/sys/seal-status (no token needed).
func (c *Client) SealStatus(ctx context.Context) (*SealStatus, error) {
	var out SealStatus
	if _, err := c.do(ctx, http.MethodGet, "/v1/sys/seal-status", nil, false, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Init calls POST /v1/sys/init, which initialises a new server. The response
// holds secrets that are never shown again.
func (c *Client) Init(ctx context.Context, req InitRequest) (*InitResponse, error) {
	var out InitResponse
	if _, err := c.do(ctx, http.MethodPost, "/v1/sys/init", nil, false, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Unseal calls POST /v1/sys/unseal with one share and returns the progress;
// the server is unsealed once Threshold distinct shares have been submitted.
func (c *Client) Unseal(ctx context.Context, share string) (*SealStatus, error) {
	body := struct {
		Share string `json:"share"`
	}{share}
	var out SealStatus
	if _, err := c.do(ctx, http.MethodPost, "/v1/sys/unseal", nil, false, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UnsealReset calls POST /v1/sys/unseal with {"reset":true}, discarding the
// shares submitted so far.
func (c *Client) UnsealReset(ctx context.Context) (*SealStatus, error) {
	body := struct {
		Reset bool `json:"reset"`
	}{true}
	var out SealStatus
	if _, err := c.do(ctx, http.MethodPost, "/v1/sys/unseal", nil, false, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Seal calls POST /v1/sys/seal, which wipes keys from the server's memory;
// it needs a token.
func (c *Client) Seal(ctx context.Context) (*SealStatus, error) {
	var out SealStatus
	if _, err := c.do(ctx, http.MethodPost, "/v1/sys/seal", nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RootGeneration is the progress of a break-glass root token generation.
type RootGeneration struct {
	Progress  int    `json:"progress"`
	Threshold int    `json:"threshold"`
	RootToken string `json:"root_token,omitempty"`
}

// GenerateRoot calls POST /v1/sys/generate-root with one unseal share;
// once the threshold is reached the response holds a new root token.
func (c *Client) GenerateRoot(ctx context.Context, share string) (*RootGeneration, error) {
	var out RootGeneration
	if _, err := c.do(ctx, http.MethodPost, "/v1/sys/generate-root", nil, false, map[string]string{"share": share}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelGenerateRoot discards the shares submitted for root generation.
func (c *Client) CancelGenerateRoot(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodPost, "/v1/sys/generate-root", nil, false, map[string]bool{"cancel": true}, nil)
	return err
}

// AuditPublicKey is the key that verifies audit log checkpoints.
type AuditPublicKey struct {
	PublicKey []byte `json:"public_key"`
	PEM       string `json:"pem"`
}

// AuditPublicKey calls GET /v1/audit/public-key.
func (c *Client) AuditPublicKey(ctx context.Context) (*AuditPublicKey, error) {
	var out AuditPublicKey
	if _, err := c.do(ctx, http.MethodGet, "/v1/audit/public-key", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AuditHMAC calls POST /v1/audit/hmac: the HMAC under which audit records
// carry value (an encryption-context value), to search the log for it.
func (c *Client) AuditHMAC(ctx context.Context, value string) (string, error) {
	var out struct {
		HMAC string `json:"hmac"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/audit/hmac", nil, true, map[string]string{"value": value}, &out); err != nil {
		return "", err
	}
	return out.HMAC, nil
}

// AuditSearch filters audit records (GET /v1/audit/records); empty fields
// match everything.
type AuditSearch struct {
	Identity, KeyID, Operation, Outcome string
	From, To                            time.Time
	Limit                               int
	PageToken                           string
}

// AuditRecords is one page of audit records, newest first. Records are
// returned as the server's JSON objects.
type AuditRecords struct {
	Records       []map[string]any `json:"records"`
	NextPageToken string           `json:"next_page_token,omitempty"`
}

// SearchAudit calls GET /v1/audit/records.
func (c *Client) SearchAudit(ctx context.Context, s AuditSearch) (*AuditRecords, error) {
	q := url.Values{}
	for k, v := range map[string]string{"identity": s.Identity, "key_id": s.KeyID, "operation": s.Operation, "outcome": s.Outcome, "page_token": s.PageToken} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !s.From.IsZero() {
		q.Set("from", s.From.UTC().Format(time.RFC3339))
	}
	if !s.To.IsZero() {
		q.Set("to", s.To.UTC().Format(time.RFC3339))
	}
	if s.Limit > 0 {
		q.Set("limit", strconv.Itoa(s.Limit))
	}
	var out AuditRecords
	if _, err := c.do(ctx, http.MethodGet, "/v1/audit/records", q, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Backup calls POST /v1/sys/backup and copies the backup file to w; it
// returns the number of bytes written. A failure after some bytes were
// written leaves w holding no usable backup.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	resp, err := c.roundTrip(ctx, http.MethodPost, c.base+"/v1/sys/backup", true, strings.NewReader("{}"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		return 0, newError(resp.StatusCode, resp.Header.Get("X-Request-Id"), data)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("arca: reading the backup: %w", err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("arca: the backup was cut short: %d of %d bytes", n, resp.ContentLength)
	}
	return n, nil
}

// BackupPublicKey calls GET /v1/sys/backup/public-key: the key that
// verifies this server's backups.
func (c *Client) BackupPublicKey(ctx context.Context) (*AuditPublicKey, error) {
	var out AuditPublicKey
	if _, err := c.do(ctx, http.MethodGet, "/v1/sys/backup/public-key", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SealChange is the answer of a rekey, a root rotation or a seal migration:
// the new shares of a Shamir seal, shown once.
type SealChange struct {
	Type              string   `json:"type"`
	Shares            []string `json:"shares,omitempty"`
	Threshold         int      `json:"threshold,omitempty"`
	RecoveryShares    []string `json:"recovery_shares,omitempty"`
	RecoveryThreshold int      `json:"recovery_threshold,omitempty"`
	KeyLabel          string   `json:"key_label,omitempty"`
	KeyringGeneration uint32   `json:"keyring_generation"`
}

// Rekey calls POST /v1/sys/rekey: new Shamir shares, or under a pkcs11
// seal new recovery shares.
func (c *Client) Rekey(ctx context.Context, shares, threshold int) (*SealChange, error) {
	return c.sealChange(ctx, "/v1/sys/rekey", map[string]int{"shares": shares, "threshold": threshold})
}

// RotateRoot calls POST /v1/sys/rotate-root: a new root key.
func (c *Client) RotateRoot(ctx context.Context) (*SealChange, error) {
	return c.sealChange(ctx, "/v1/sys/rotate-root", struct{}{})
}

// MigrateSeal calls POST /v1/sys/seal/migrate: to "pkcs11", or to
// "shamir" with shares and threshold.
func (c *Client) MigrateSeal(ctx context.Context, to string, shares, threshold int) (*SealChange, error) {
	return c.sealChange(ctx, "/v1/sys/seal/migrate", map[string]any{"to": to, "shares": shares, "threshold": threshold})
}

func (c *Client) sealChange(ctx context.Context, path string, body any) (*SealChange, error) {
	var out SealChange
	if _, err := c.do(ctx, http.MethodPost, path, nil, true, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// KeyringGeneration is one keyring generation and how many stored blobs it
// still seals.
type KeyringGeneration struct {
	Generation uint32    `json:"generation"`
	CreatedAt  time.Time `json:"created_at"`
	Current    bool      `json:"current"`
	Blobs      int       `json:"blobs"`
}

// KeyringStatus lists the keyring generations, oldest first.
type KeyringStatus struct {
	Current     uint32              `json:"current_generation"`
	Generations []KeyringGeneration `json:"generations"`
}

// RotateKeyring calls POST /v1/sys/keyring/rotate: a new keyring
// generation seals new writes; the server moves older blobs to it in the
// background.
func (c *Client) RotateKeyring(ctx context.Context) (*KeyringStatus, error) {
	var out KeyringStatus
	if _, err := c.do(ctx, http.MethodPost, "/v1/sys/keyring/rotate", nil, true, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// KeyringStatus calls GET /v1/sys/keyring.
func (c *Client) KeyringStatus(ctx context.Context) (*KeyringStatus, error) {
	var out KeyringStatus
	if _, err := c.do(ctx, http.MethodGet, "/v1/sys/keyring", nil, true, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
