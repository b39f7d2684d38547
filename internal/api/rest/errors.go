package rest

import (
	"errors"
	"net/http"

	"github.com/arcakms/arca/internal/kms"
)

// statusOf maps every error code to its HTTP status, in one table.
var statusOf = map[kms.Code]int{
	kms.CodeInvalidArgument:      http.StatusBadRequest,
	kms.CodeUnsupportedOperation: http.StatusBadRequest,
	kms.CodeInvalidCiphertext:    http.StatusBadRequest,
	kms.CodeDecryptionFailed:     http.StatusBadRequest,
	kms.CodeWrongKey:             http.StatusBadRequest,
	kms.CodeInvalidShare:         http.StatusBadRequest,
	kms.CodeBatchTooLarge:        http.StatusBadRequest,
	kms.CodeInvalidJSON:          http.StatusBadRequest,
	kms.CodeUnknownField:         http.StatusBadRequest,
	kms.CodeInvalidBase64:        http.StatusBadRequest,
	kms.CodeUnauthorized:         http.StatusUnauthorized,
	kms.CodeForbidden:            http.StatusForbidden,
	kms.CodeKeyNotFound:          http.StatusNotFound,
	kms.CodeKeyVersionNotFound:   http.StatusNotFound,
	kms.CodeNotFound:             http.StatusNotFound,
	kms.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	kms.CodeRequestTimeout:       http.StatusRequestTimeout,
	kms.CodeKeyExists:            http.StatusConflict,
	kms.CodeAlreadyInitialized:   http.StatusConflict,
	kms.CodeConflict:             http.StatusConflict,
	kms.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	kms.CodeUnsupportedMedia:     http.StatusUnsupportedMediaType,
	kms.CodeRateLimited:          http.StatusTooManyRequests,
	kms.CodeIllegalTransition:    http.StatusConflict,
	kms.CodeKeyPreActive:         http.StatusConflict,
	kms.CodeKeySuspended:         http.StatusConflict,
	kms.CodeKeyDeactivated:       http.StatusConflict,
	kms.CodeKeyCompromised:       http.StatusConflict,
	kms.CodeKeyDestroyScheduled:  http.StatusConflict,
	kms.CodeKeyDestroyed:         http.StatusGone,
	kms.CodeVersionNotPrimary:    http.StatusConflict,
	kms.CodeVersionBelowMinimum:  http.StatusConflict,
	kms.CodePolicyViolation:      http.StatusUnprocessableEntity,
	kms.CodeKeyNotExportable:     http.StatusConflict,
	kms.CodeImportTokenNotFound:  http.StatusNotFound,
	kms.CodeInvalidImport:        http.StatusBadRequest,
	kms.CodeUsageBoundReached:    http.StatusConflict,
	kms.CodeIdentityNotFound:     http.StatusNotFound,
	kms.CodeAccessPolicyNotFound: http.StatusNotFound,
	kms.CodeTokenNotFound:        http.StatusNotFound,
	kms.CodeSoDViolation:         http.StatusConflict,
	kms.CodeApprovalRequired:     http.StatusForbidden,
	kms.CodeMFANotEnrolled:       http.StatusConflict,
	kms.CodeMFAFailed:            http.StatusUnauthorized,
	kms.CodeApprovalNotFound:     http.StatusNotFound,
	kms.CodeApprovalNotUsable:    http.StatusConflict,
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

// errorBody is the one error shape of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    kms.Code `json:"code"`
	Message string   `json:"message"`
	// ApprovalID names the pending approval of an approval_required error.
	ApprovalID string `json:"approval_id,omitempty"`
}

// requestError marks a failure detected by the adapter itself, before the
// service was called; such failures are audited through Service.Reject.
type requestError struct{ err *kms.Error }

func (e requestError) Error() string { return e.err.Error() }
func (e requestError) Unwrap() error { return e.err }

func reject(code kms.Code, format string, args ...any) error {
	return requestError{kms.Errorf(code, format, args...)}
}

func isRequestError(err error) bool {
	var re requestError
	return errors.As(err, &re)
}
