package audit

import (
	"context"
	"time"
)

// Outcomes of a request.
const (
	// OutcomeAllowed means the request was authorised and succeeded.
	OutcomeAllowed = "allowed"
	// OutcomeDenied means authentication or authorisation refused the request.
	OutcomeDenied = "denied"
	// OutcomeFailed means the request was authorised but failed (bad input,
	// unknown key, sealed server, ...).
	OutcomeFailed = "failed"
)

// Record is one audited request. Every field is safe to store: identities are
// token accessors (never tokens), and no field carries plaintext or keys.
type Record struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	// Node names the server that handled the request (its host name unless
	// configured), for deployments of several nodes.
	Node string `json:"node,omitempty"`
	// ApprovalID names the approval (dual control) the request executed.
	ApprovalID string `json:"approval_id,omitempty"`
	// Interface is the door the request came through, e.g. "rest".
	Interface string `json:"interface"`
	// Source is the client's network address.
	Source string `json:"source,omitempty"`
	// Identity is the authenticated identity (a token accessor), empty when
	// the request was not authenticated.
	Identity string `json:"identity,omitempty"`
	// AuthMethod is how the identity authenticated, e.g. "token".
	AuthMethod string `json:"auth_method,omitempty"`
	// Credential names the credential used: a token's accessor (never the
	// token).
	Credential string `json:"credential,omitempty"`
	// Operation is the service operation, e.g. "key.encrypt".
	Operation string `json:"operation"`
	// KeyID and KeyVersion name the key version used, when there is one.
	KeyID      string `json:"key_id,omitempty"`
	KeyVersion uint32 `json:"key_version,omitempty"`
	// FromVersion is, for a rewrap, the key version that had made the
	// ciphertext (KeyVersion is the one that re-encrypted it).
	FromVersion uint32 `json:"from_version,omitzero"`
	// CompromisedUse marks a decryption that used a compromised key or
	// version because the caller explicitly allowed it.
	CompromisedUse bool `json:"compromised_use,omitempty"`
	// Resource names a non-key object the operation acted on, such as an
	// import token's id.
	Resource string `json:"resource,omitempty"`
	// BatchKeys accounts, for a batch, for the items of each key it used,
	// so that a key's uses are found even in a batch that also used others
	// (whose record then has no KeyID).
	BatchKeys []BatchKey `json:"batch_keys,omitempty"`
	// BatchSize is the item count of a batch operation.
	BatchSize int `json:"batch_size,omitempty"`
	// Outcome is OutcomeAllowed, OutcomeDenied or OutcomeFailed.
	Outcome string `json:"outcome"`
	// ContextHMAC is the request's encryption context, each value replaced
	// by its hex HMAC-SHA256 under the deployment's audit key.
	ContextHMAC map[string]string `json:"context_hmac,omitempty"`
	// DenyReason is why access control denied the request, e.g.
	// "condition_source_address" or "no_matching_allow".
	DenyReason string `json:"deny_reason,omitempty"`
	// ErrorCode is the stable error code of a denied or failed request.
	ErrorCode string `json:"error_code,omitempty"`
	// LatencyMicros is the time from receiving the request to auditing it.
	LatencyMicros int64 `json:"latency_us"`
}

// Log makes records durable. Write returns only once the record is durable,
// or with an error if it could not be made durable; callers must then fail
// the request.
type Log interface {
	Write(ctx context.Context, r *Record) error
	Close() error
}

// Discard is a Log that keeps nothing. It exists for benchmarks that measure
// the cost of auditing; servers never use it.
type Discard struct{}

// Write drops the record.
func (Discard) Write(context.Context, *Record) error { return nil }

// Close does nothing.
func (Discard) Close() error { return nil }

// BatchKey is one key's part of a batch: its items that succeeded, the
// ciphertexts they made per key version, and the rewraps away from each
// version (versions as decimal strings, for JSON).
type BatchKey struct {
	KeyID     string         `json:"key_id"`
	Items     int            `json:"items"`
	Made      map[string]int `json:"made,omitempty"`
	Rewrapped map[string]int `json:"rewrapped,omitempty"`
}
