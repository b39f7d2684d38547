package kms

import (
	"context"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names, as they appear in audit records.
const (
	OpHealth           = "sys.health"
	OpSealStatus       = "sys.seal_status"
	OpInit             = "sys.init"
	OpUnseal           = "sys.unseal"
	OpSeal             = "sys.seal"
	OpKeyCreate        = "key.create"
	OpKeyGet           = "key.get"
	OpKeyList          = "key.list"
	OpKeyRotate        = "key.rotate"
	OpKeyVersions      = "key.versions"
	OpEncrypt          = "key.encrypt"
	OpDecrypt          = "key.decrypt"
	OpRewrap           = "key.rewrap"
	OpDataKey          = "key.generate_data_key"
	OpKeyUpdate        = "key.update"
	OpKeyLifecycle     = "key.lifecycle"
	OpVersionLifecycle = "key.version.lifecycle"
	OpRandom           = "random"
	OpBatchEncrypt     = "batch.encrypt"
	OpBatchDecrypt     = "batch.decrypt"
	OpBatchRewrap      = "batch.rewrap"
	OpAuthenticate     = "authenticate"
	OpUnknownRoute     = "unknown"
	OpInvalidRequest   = "invalid_request"
)

// target is what an operation acted on, for the audit record.
type target struct {
	keyID      string
	keyVersion uint32
	batchSize  int
	// resource names a non-key object acted on (an import token id).
	resource string
	// denyReason is the access-control reason of a denial.
	denyReason string
	// fromVersion is the version a rewrapped ciphertext was made by.
	fromVersion uint32
	// batchKeys tallies, for a batch, the successful items of each key.
	batchKeys map[string]*batchTally
	// contextHMAC is the request's encryption context with each value
	// replaced by its audit HMAC.
	contextHMAC map[string]string
	// compromisedUse marks a decrypt that used a compromised key or
	// version under allow_compromised.
	compromisedUse bool
	// alias is the alias the key reference named, and aliasOf the name of
	// the key it resolved to: refusals name the alias, not the key.
	alias, aliasOf string
	// audited is set once the success record was written inside a storage
	// transaction (see update), so finish does not write a second one.
	audited bool
}

// finish writes the audit record of an operation and returns the error the
// caller must see: err itself, or CodeAuditUnavailable if the record could not
// be made durable, in which case the operation's result must be withheld.
func (s *Service) finish(ctx context.Context, op string, t *target, err error) error {
	if t != nil && t.audited {
		return err
	}
	req := RequestFrom(ctx)
	rec := &audit.Record{
		Time:      s.now().UTC(),
		RequestID: req.ID,
		Interface: req.Interface,
		Node:      s.node,
		// The approval a request presented, whether or not it executed.
		ApprovalID: req.ApprovalID,
		Source:     req.Source,
		Operation:  op,
		Outcome:    audit.OutcomeAllowed,
	}
	if req.Identity != nil {
		rec.Identity, rec.AuthMethod, rec.Credential = req.Identity.ID, req.Identity.Method, req.Identity.Credential
	}
	if !req.Received.IsZero() {
		rec.LatencyMicros = s.now().Sub(req.Received).Microseconds()
	}
	if t != nil {
		rec.KeyID, rec.KeyVersion, rec.BatchSize = t.keyID, t.keyVersion, t.batchSize
		rec.CompromisedUse, rec.Resource, rec.DenyReason = t.compromisedUse, t.resource, t.denyReason
		rec.ContextHMAC, rec.FromVersion = t.contextHMAC, t.fromVersion
		rec.BatchKeys = t.batchRecord()
	}
	if err != nil {
		code := CodeOf(err)
		rec.ErrorCode = string(code)
		rec.Outcome = audit.OutcomeFailed
		if code == CodeUnauthorized || code == CodeForbidden {
			rec.Outcome = audit.OutcomeDenied
		}
		if code == CodeInternal || code == CodeRecordTampered {
			s.log.Error("operation failed", "request_id", req.ID, "operation", op, "error", err)
		}
	}
	if werr := s.audit.Write(ctx, rec); werr != nil {
		s.log.Error("audit write failed; withholding result", "request_id", req.ID, "operation", op, "error", werr)
		return &Error{Code: CodeAuditUnavailable, Message: "the audit log is unavailable; the request was not completed", Err: werr}
	}
	return err
}

// Reject audits a request that an adapter refused before it reached an
// operation (unknown route, malformed body, failed authentication) and
// returns the error to send, which becomes CodeAuditUnavailable if the
// refusal itself could not be audited.
func (s *Service) Reject(ctx context.Context, op string, err error) error {
	return s.finish(ctx, op, nil, err)
}

// update runs fn in a storage transaction and, if fn succeeds, writes the
// operation's success record before the transaction commits. A change that
// cannot be audited is therefore rolled back, never made. If the commit
// itself fails after the record was written, the deferred finish records the
// failure as well: the log may over-report an attempt, never under-report a
// change.
func (s *Service) update(ctx context.Context, op string, t *target, fn func(tx storage.Tx) error) error {
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if err := s.finish(ctx, op, t, nil); err != nil {
			return err
		}
		t.audited = true
		return nil
	})
	if err != nil {
		t.audited = false
	}
	return err
}

// recordContext keeps, for the audit record, the encryption context with
// each value replaced by its HMAC under the audit key: auditors can check
// whether a value was used (arca audit hmac), the log reveals none. Keys
// stay readable. A batch records the context of its first item that has
// one.
func (t *target) recordContext(kr *seal.Keyring, ctx map[string]string) {
	if len(ctx) == 0 || t.contextHMAC != nil {
		return
	}
	out := make(map[string]string, len(ctx))
	for k, v := range ctx {
		sum, err := kr.AuditHMAC([]byte(v))
		if err != nil {
			return // recorded without context rather than with a clear value
		}
		out[k] = hex.EncodeToString(sum)
	}
	t.contextHMAC = out
}

// batchTally is one key's part of a batch.
type batchTally struct {
	items           int
	made, rewrapped map[uint32]int
}

// countItem adds a successful batch item: its key, and for operations that
// return ciphertexts (makes), the version that made it and, for a rewrap,
// the version it was moved away from.
func (t *target) countItem(it *target, makes bool) {
	if it.keyID == "" {
		return
	}
	if t.batchKeys == nil {
		t.batchKeys = map[string]*batchTally{}
	}
	b := t.batchKeys[it.keyID]
	if b == nil {
		b = &batchTally{made: map[uint32]int{}, rewrapped: map[uint32]int{}}
		t.batchKeys[it.keyID] = b
	}
	b.items++
	if !makes || it.keyVersion == 0 {
		return
	}
	if it.fromVersion != 0 {
		b.rewrapped[it.fromVersion]++
	}
	b.made[it.keyVersion]++
}

// batchRecord renders the batch tallies for the audit record, by key id.
func (t *target) batchRecord() []audit.BatchKey {
	if len(t.batchKeys) == 0 {
		return nil
	}
	out := make([]audit.BatchKey, 0, len(t.batchKeys))
	for id, b := range t.batchKeys {
		out = append(out, audit.BatchKey{KeyID: id, Items: b.items, Made: versionCounts(b.made), Rewrapped: versionCounts(b.rewrapped)})
	}
	slices.SortFunc(out, func(a, b audit.BatchKey) int { return strings.Compare(a.KeyID, b.KeyID) })
	return out
}

// versionCounts renders per-version counts for a record (nil when empty).
func versionCounts(m map[uint32]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for v, n := range m {
		out[strconv.FormatUint(uint64(v), 10)] = n
	}
	return out
}
