package transit

import (
	"errors"
	"net/http"

	"github.com/arcakms/arca/internal/kms"
)

// statusOf maps every error code to the HTTP status a Vault client expects,
// in one table. Vault answers invalid input and refusals by a key's state
// or policy with 400, access refusals with 403, unknown keys with 404 and
// a sealed server with 503; codes not listed are 500.
var statusOf = map[kms.Code]int{
	kms.CodeInvalidArgument:      http.StatusBadRequest,
	kms.CodeUnsupportedOperation: http.StatusBadRequest,
	kms.CodeInvalidCiphertext:    http.StatusBadRequest,
	kms.CodeDecryptionFailed:     http.StatusBadRequest,
	kms.CodeWrongKey:             http.StatusBadRequest,
	kms.CodeBatchTooLarge:        http.StatusBadRequest,
	kms.CodeInvalidJSON:          http.StatusBadRequest,
	kms.CodeUnknownField:         http.StatusBadRequest,
	kms.CodeInvalidBase64:        http.StatusBadRequest,
	kms.CodeInvalidImport:        http.StatusBadRequest,
	kms.CodeKeyExists:            http.StatusBadRequest,
	kms.CodeConflict:             http.StatusBadRequest,
	kms.CodePolicyViolation:      http.StatusBadRequest,
	kms.CodeIllegalTransition:    http.StatusBadRequest,
	kms.CodeKeyPreActive:         http.StatusBadRequest,
	kms.CodeKeySuspended:         http.StatusBadRequest,
	kms.CodeKeyDeactivated:       http.StatusBadRequest,
	kms.CodeKeyCompromised:       http.StatusBadRequest,
	kms.CodeKeyDestroyScheduled:  http.StatusBadRequest,
	kms.CodeKeyDestroyed:         http.StatusBadRequest,
	kms.CodeVersionNotPrimary:    http.StatusBadRequest,
	kms.CodeVersionBelowMinimum:  http.StatusBadRequest,
	kms.CodeKeyNotExportable:     http.StatusBadRequest,
	kms.CodeUsageBoundReached:    http.StatusBadRequest,
	kms.CodeSoDViolation:         http.StatusBadRequest,
	kms.CodeUnauthorized:         http.StatusForbidden,
	kms.CodeForbidden:            http.StatusForbidden,
	kms.CodeApprovalRequired:     http.StatusForbidden,
	kms.CodeKeyNotFound:          http.StatusNotFound,
	kms.CodeKeyVersionNotFound:   http.StatusNotFound,
	kms.CodeNotFound:             http.StatusNotFound,
	kms.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	kms.CodeRequestTimeout:       http.StatusRequestTimeout,
	kms.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	kms.CodeRateLimited:          http.StatusTooManyRequests,
	kms.CodeRecordTampered:       http.StatusInternalServerError,
	kms.CodeInternal:             http.StatusInternalServerError,
	kms.CodeSealed:               http.StatusServiceUnavailable,
	kms.CodeNotInitialized:       http.StatusServiceUnavailable,
	kms.CodeAuditUnavailable:     http.StatusServiceUnavailable,
	kms.CodeUnavailable:          http.StatusServiceUnavailable,
	kms.CodeStorageUnavailable:   http.StatusServiceUnavailable,
	kms.CodeServiceShuttingDown:  http.StatusServiceUnavailable,
}

// httpStatus returns the status for an error's code (500 if unmapped).
func httpStatus(code kms.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is Vault's error shape.
type errorBody struct {
	Errors []string `json:"errors"`
}

// permissionDenied is Vault's message for a missing, unknown or expired
// token, which clients and scripts match on.
const permissionDenied = "permission denied"

// errorMessage is the text of an error in Vault's errors list. A failed
// authentication reads exactly as Vault's; an access refusal starts the
// same way and then gives the service's reason. Internal errors leak
// nothing but the request id to look up in the server log.
func errorMessage(e *kms.Error, requestID string) string {
	switch e.Code {
	case kms.CodeUnauthorized:
		return permissionDenied
	case kms.CodeForbidden:
		return permissionDenied + ": " + e.Message
	case kms.CodeApprovalRequired:
		return permissionDenied + ": " + e.Message + " (approval " + e.ApprovalID + ")"
	case kms.CodeInternal, kms.CodeRecordTampered:
		return "internal error; see the server log for request " + requestID
	}
	return e.Message
}

// itemMessage is the text of one batch item's error.
func itemMessage(e *kms.Error) string {
	if e.Code == kms.CodeInternal || e.Code == kms.CodeRecordTampered {
		return "internal error"
	}
	return errorMessage(e, "")
}

// requestError marks a failure the adapter detected before the service
// was called; such failures are audited through Service.Reject.
type requestError struct{ err *kms.Error }

func (e requestError) Error() string { return e.err.Error() }
func (e requestError) Unwrap() error { return e.err }

// reject returns a request error with a stable code.
func reject(code kms.Code, format string, args ...any) error {
	return requestError{kms.Errorf(code, format, args...)}
}

func isRequestError(err error) bool {
	var re requestError
	return errors.As(err, &re)
}
