package kms

import (
	"errors"
	"fmt"
	"time"

	"github.com/arcakms/arca/internal/storage"
)

// Code is a stable, machine-readable error code. Adapters map codes to their
// protocol's error shapes (HTTP status, KMIP result reason, ...).
type Code string

// Error codes. They are part of the API: never rename one.
const (
	CodeInvalidArgument Code = "invalid_argument"
	// CodeUnsupportedOperation: the key's algorithm does not do this
	// operation (e.g. encrypt with an HMAC key).
	CodeUnsupportedOperation Code = "unsupported_operation"
	CodeInvalidCiphertext    Code = "invalid_ciphertext"
	CodeDecryptionFailed     Code = "decryption_failed"
	CodeWrongKey             Code = "wrong_key"
	CodeInvalidShare         Code = "invalid_share"
	CodeBatchTooLarge        Code = "batch_too_large"
	CodeUnauthorized         Code = "unauthorized"
	CodeForbidden            Code = "forbidden"
	CodeKeyNotFound          Code = "key_not_found"
	CodeKeyVersionNotFound   Code = "key_version_not_found"
	CodeKeyExists            Code = "key_exists"
	CodeAlreadyInitialized   Code = "already_initialized"
	CodeRecordTampered       Code = "record_tampered"
	CodeInternal             Code = "internal"
	CodeSealed               Code = "sealed"
	CodeNotInitialized       Code = "not_initialized"
	CodeAuditUnavailable     Code = "audit_unavailable"
	CodeConflict             Code = "conflict"
	CodeUnavailable          Code = "unavailable"
	// CodeStorageUnavailable: the shared database cannot be reached; nothing
	// was changed and the request may be retried.
	CodeStorageUnavailable  Code = "storage_unavailable"
	CodeInvalidJSON         Code = "invalid_json"
	CodeUnknownField        Code = "unknown_field"
	CodeInvalidBase64       Code = "invalid_base64"
	CodeNotFound            Code = "not_found"
	CodeMethodNotAllowed    Code = "method_not_allowed"
	CodePayloadTooLarge     Code = "payload_too_large"
	CodeUnsupportedMedia    Code = "unsupported_media_type"
	CodeRateLimited         Code = "rate_limited"
	CodeRequestTimeout      Code = "request_timeout"
	CodeServiceShuttingDown Code = "shutting_down"

	// Lifecycle refusals; the values equal package lifecycle's codes.
	CodeIllegalTransition   Code = "illegal_transition"
	CodeKeyPreActive        Code = "key_pre_active"
	CodeKeySuspended        Code = "key_suspended"
	CodeKeyDeactivated      Code = "key_deactivated"
	CodeKeyCompromised      Code = "key_compromised"
	CodeKeyDestroyScheduled Code = "key_destroy_scheduled"
	CodeKeyDestroyed        Code = "key_destroyed"
	CodeVersionNotPrimary   Code = "version_not_primary"
	// CodeVersionBelowMinimum refuses a ciphertext of a version older than
	// the key's min_decryption_version.
	CodeVersionBelowMinimum Code = "version_below_minimum"
	// CodeKeyNotExportable refuses to export a key not created exportable.
	CodeKeyNotExportable Code = "key_not_exportable"
	// CodeImportTokenNotFound: the import token is unknown, used or expired.
	CodeImportTokenNotFound Code = "import_token_not_found"
	// CodeUsageBoundReached: the primary version of a key with imported
	// material has done all the encryptions its usage bound allows; the
	// server cannot rotate such a key, new material must be imported.
	CodeUsageBoundReached Code = "usage_bound_reached"
	// CodeIdentityNotFound: no identity has that name or id.
	CodeIdentityNotFound Code = "identity_not_found"
	// CodeAccessPolicyNotFound: no access policy has that name.
	CodeAccessPolicyNotFound Code = "access_policy_not_found"
	// CodeTokenNotFound: no token has that accessor.
	CodeTokenNotFound Code = "token_not_found"
	// CodeApprovalRequired: the action is under dual control; a pending
	// approval was recorded (Error.ApprovalID).
	CodeApprovalRequired Code = "approval_required"
	// CodeApprovalNotFound: no approval has that id.
	CodeApprovalNotFound Code = "approval_not_found"
	// CodeApprovalNotUsable: the approval is not in a state, or not for a
	// request, that allows what was asked.
	CodeApprovalNotUsable Code = "approval_not_usable"
	// CodeMFAFailed: a TOTP code was wrong, expired or replayed, or TOTP is
	// locked after repeated failures.
	CodeMFAFailed Code = "mfa_failed"
	// CodeMFANotEnrolled: the identity has no (confirmed) TOTP enrolment.
	CodeMFANotEnrolled Code = "mfa_not_enrolled"
	// CodeSoDViolation refuses grants that separation of duties keeps apart.
	CodeSoDViolation Code = "separation_of_duties"
	// CodeInvalidImport: imported material did not unwrap, or is not a
	// valid key of the key's algorithm.
	CodeInvalidImport Code = "invalid_import"
)

// Error is a failure with a stable code and a message that is safe to show to
// the caller: it never contains secrets or echoes secret input. Err, when
// set, is the underlying cause for the server log only.
type Error struct {
	Code    Code
	Message string
	Err     error
	// ApprovalID names the pending approval of a CodeApprovalRequired
	// refusal.
	ApprovalID string
	// RetryAfter says when a CodeRateLimited request may be retried.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internal wraps an unexpected error. Its cause is logged, never shown.
func internal(op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, storage.ErrUnavailable) {
		return &Error{Code: CodeStorageUnavailable, Message: "the database cannot be reached; nothing was changed, retry later", Err: fmt.Errorf("%s: %w", op, err)}
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: fmt.Errorf("%s: %w", op, err)}
}

// CodeOf returns the code of err: the Code of an *Error in its chain, or
// CodeInternal for any other non-nil error, or "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError converts err to an *Error; errors without one become CodeInternal
// with a generic message.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

var (
	errSealed         = Errorf(CodeSealed, "the server is sealed")
	errNotInitialized = Errorf(CodeNotInitialized, "the server is not initialised")
	errUnauthorized   = Errorf(CodeUnauthorized, "missing or invalid token")
)
