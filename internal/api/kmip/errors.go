package kmip

import (
	"errors"
	"fmt"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/kms"
)

// requestError is a failure the adapter detects itself, before or instead
// of a service call: a missing field, an unsupported parameter, an object
// type Arca does not hold. The dispatcher audits it through
// Service.Reject, so that every request leaves a record even when it never
// reached an operation. reason is the KMIP Result Reason to send; code is
// the Arca error code recorded in the audit log.
type requestError struct {
	reason ttlv.ResultReason
	code   kms.Code
	msg    string
	// audited marks a refusal made after a service call that already
	// wrote the request's audit record.
	audited bool
}

func (e *requestError) Error() string { return fmt.Sprintf("%s: %s", e.reason, e.msg) }

// Unwrap exposes the equivalent service error, so that kms.CodeOf and
// Service.Reject see the Arca code.
func (e *requestError) Unwrap() error { return &kms.Error{Code: e.code, Message: e.msg} }

// Constructors for the request errors the operations raise. Each picks
// the Arca code that the REST adapter would record for the same mistake.
func invalidField(format string, args ...any) error {
	return &requestError{reason: ttlv.ResultReasonInvalidField, code: kms.CodeInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

func missingData(format string, args ...any) error {
	return &requestError{reason: ttlv.ResultReasonMissingData, code: kms.CodeInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

func notSupported(format string, args ...any) error {
	return &requestError{reason: ttlv.ResultReasonFeatureNotSupported, code: kms.CodeInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

func opNotSupported(format string, args ...any) error {
	return &requestError{reason: ttlv.ResultReasonOperationNotSupported, code: kms.CodeNotFound, msg: fmt.Sprintf(format, args...)}
}

func itemNotFound(format string, args ...any) error {
	return &requestError{reason: ttlv.ResultReasonItemNotFound, code: kms.CodeKeyNotFound, msg: fmt.Sprintf(format, args...)}
}

func withReason(reason ttlv.ResultReason, code kms.Code, format string, args ...any) error {
	return &requestError{reason: reason, code: code, msg: fmt.Sprintf(format, args...)}
}

// needsAudit reports whether err is a refusal of the adapter that no
// service call has audited yet.
func needsAudit(err error) bool {
	var re *requestError
	return errors.As(err, &re) && !re.audited
}

// afterService marks a request error raised after a service call that
// audited the request.
func afterService(err error) error {
	var re *requestError
	if errors.As(err, &re) {
		re.audited = true
	}
	return err
}

// reasonOf maps every Arca error code to a KMIP Result Reason, in one
// table. Codes that name a lifecycle refusal use Wrong Key Lifecycle State,
// which KMIP 2.0 defines; 1.x has no such reason and gets Illegal
// Operation, its reason for an operation the object's state forbids. The
// Result Message always carries Arca's code and message.
func reasonOf(code kms.Code, v version) ttlv.ResultReason {
	switch code {
	case kms.CodeKeyNotFound, kms.CodeKeyVersionNotFound, kms.CodeNotFound, kms.CodeIdentityNotFound,
		kms.CodeAccessPolicyNotFound, kms.CodeTokenNotFound, kms.CodeApprovalNotFound, kms.CodeImportTokenNotFound:
		return ttlv.ResultReasonItemNotFound
	case kms.CodeUnauthorized:
		return ttlv.ResultReasonAuthenticationNotSuccessful
	case kms.CodeForbidden, kms.CodeApprovalRequired, kms.CodeApprovalNotUsable,
		kms.CodeMFAFailed, kms.CodeMFANotEnrolled, kms.CodeSoDViolation:
		return ttlv.ResultReasonPermissionDenied
	case kms.CodeInvalidArgument, kms.CodeInvalidCiphertext, kms.CodeWrongKey, kms.CodeInvalidImport,
		kms.CodeInvalidJSON, kms.CodeUnknownField, kms.CodeInvalidBase64, kms.CodePolicyViolation, kms.CodeBatchTooLarge:
		return ttlv.ResultReasonInvalidField
	case kms.CodePayloadTooLarge:
		return ttlv.ResultReasonInvalidMessage
	case kms.CodeDecryptionFailed:
		return ttlv.ResultReasonCryptographicFailure
	case kms.CodeUnsupportedOperation, kms.CodeMethodNotAllowed:
		return ttlv.ResultReasonOperationNotSupported
	case kms.CodeKeyNotExportable:
		return ttlv.ResultReasonNotExtractable
	case kms.CodeKeyExists:
		return ttlv.ResultReasonObjectAlreadyExists
	case kms.CodeIllegalTransition, kms.CodeKeyPreActive, kms.CodeKeySuspended, kms.CodeKeyDeactivated,
		kms.CodeKeyCompromised, kms.CodeKeyDestroyScheduled, kms.CodeVersionNotPrimary,
		kms.CodeVersionBelowMinimum, kms.CodeUsageBoundReached:
		if v.atLeast(2, 0) {
			return ttlv.ResultReasonWrongKeyLifecycleState
		}
		return ttlv.ResultReasonIllegalOperation
	case kms.CodeKeyDestroyed:
		if v.atLeast(2, 0) {
			return ttlv.ResultReasonObjectDestroyed
		}
		return ttlv.ResultReasonIllegalOperation
	case kms.CodeRateLimited:
		if v.atLeast(2, 0) {
			return ttlv.ResultReasonServerLimitExceeded
		}
		return ttlv.ResultReasonGeneralFailure
	case kms.CodeInternal, kms.CodeRecordTampered:
		if v.atLeast(2, 0) {
			return ttlv.ResultReasonInternalServerError
		}
		return ttlv.ResultReasonGeneralFailure
	}
	// sealed, not_initialized, audit_unavailable, unavailable,
	// storage_unavailable, shutting_down, conflict, request_timeout: the
	// request may succeed later; the message says why.
	return ttlv.ResultReasonGeneralFailure
}

// failure is the Result Reason and Result Message of a failed batch item.
type failure struct {
	reason ttlv.ResultReason
	msg    string
}

// failureOf turns any error of an operation into what the client sees.
// Internal errors say only that they happened and name the request id
// whose server log entry has the cause.
func failureOf(err error, v version, requestID string) failure {
	var re *requestError
	if errors.As(err, &re) {
		return failure{reason: re.reason, msg: re.msg}
	}
	e := kms.AsError(err)
	if e.Code == kms.CodeInternal {
		return failure{reason: reasonOf(e.Code, v), msg: "internal error; see the server log for request " + requestID}
	}
	msg := string(e.Code) + ": " + e.Message
	if e.ApprovalID != "" {
		msg += " (approval " + e.ApprovalID + ")"
	}
	return failure{reason: reasonOf(e.Code, v), msg: msg}
}
