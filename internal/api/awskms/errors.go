package awskms

import (
	"errors"
	"net/http"

	"github.com/arcakms/arca/internal/api/awskms/sigv4"
	"github.com/arcakms/arca/internal/kms"
)

// apiError is an AWS-style error: the exception name, its message and the
// HTTP status.
type apiError struct {
	Type    string
	Message string
	Status  int
	// result marks an answer to a request the service performed and
	// audited (an invalid signature is a verification's result): it is
	// not audited again as a refusal.
	result bool
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func validation(msg string) *apiError {
	return &apiError{Type: "ValidationException", Message: msg, Status: http.StatusBadRequest}
}

func unsupported(msg string) *apiError {
	return &apiError{Type: "UnsupportedOperationException", Message: msg, Status: http.StatusBadRequest}
}

// exceptions maps service codes to AWS exception names.
var exceptions = map[kms.Code]string{
	kms.CodeInvalidArgument:      "ValidationException",
	kms.CodeInvalidJSON:          "SerializationException",
	kms.CodeUnknownField:         "SerializationException",
	kms.CodeInvalidBase64:        "SerializationException",
	kms.CodeUnsupportedOperation: "InvalidKeyUsageException",
	kms.CodeInvalidCiphertext:    "InvalidCiphertextException",
	kms.CodeDecryptionFailed:     "InvalidCiphertextException",
	kms.CodeWrongKey:             "IncorrectKeyException",
	kms.CodeUnauthorized:         "UnrecognizedClientException",
	kms.CodeForbidden:            "AccessDeniedException",
	kms.CodeKeyNotFound:          "NotFoundException",
	kms.CodeKeyVersionNotFound:   "NotFoundException",
	kms.CodeNotFound:             "NotFoundException",
	kms.CodeIdentityNotFound:     "NotFoundException",
	kms.CodeKeyExists:            "AlreadyExistsException",
	kms.CodeConflict:             "ConflictException",
	kms.CodeIllegalTransition:    "KMSInvalidStateException",
	kms.CodeKeyPreActive:         "DisabledException",
	kms.CodeKeySuspended:         "DisabledException",
	kms.CodeKeyDeactivated:       "DisabledException",
	kms.CodeKeyCompromised:       "KMSInvalidStateException",
	kms.CodeKeyDestroyScheduled:  "KMSInvalidStateException",
	kms.CodeKeyDestroyed:         "KMSInvalidStateException",
	kms.CodeVersionBelowMinimum:  "KMSInvalidStateException",
	kms.CodeKeyNotExportable:     "KMSInvalidStateException",
	kms.CodeUsageBoundReached:    "KMSInvalidStateException",
	kms.CodeRateLimited:          "ThrottlingException",
	kms.CodePayloadTooLarge:      "ValidationException",
	kms.CodeBatchTooLarge:        "ValidationException",
	kms.CodeImportTokenNotFound:  "InvalidImportTokenException",
	kms.CodeInvalidImport:        "InvalidCiphertextException",
	kms.CodeApprovalRequired:     "AccessDeniedException",
	kms.CodeApprovalNotFound:     "AccessDeniedException",
	kms.CodeApprovalNotUsable:    "AccessDeniedException",
	kms.CodeSoDViolation:         "AccessDeniedException",
	kms.CodeMFAFailed:            "AccessDeniedException",
	kms.CodeMFANotEnrolled:       "AccessDeniedException",
	kms.CodeVersionNotPrimary:    "KMSInvalidStateException",
	kms.CodeRecordTampered:       "KMSInternalException",
}

// serverFaults are service codes that are the server's fault, not the
// request's: 5xx, which SDKs retry.
var serverFaults = map[kms.Code]int{
	kms.CodeSealed:              http.StatusServiceUnavailable,
	kms.CodeNotInitialized:      http.StatusServiceUnavailable,
	kms.CodeAuditUnavailable:    http.StatusServiceUnavailable,
	kms.CodeUnavailable:         http.StatusServiceUnavailable,
	kms.CodeStorageUnavailable:  http.StatusServiceUnavailable,
	kms.CodeServiceShuttingDown: http.StatusServiceUnavailable,
}

// toAPIError gives the AWS form of any error an operation returned.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &apiError{Type: sigv4Exception(se), Message: se.Message, Status: http.StatusBadRequest}
	}
	code := kms.CodeOf(err)
	msg := "internal error"
	var ke *kms.Error
	if errors.As(err, &ke) {
		msg = ke.Message
	}
	if st, ok := serverFaults[code]; ok {
		return &apiError{Type: "KMSInternalException", Message: msg, Status: st}
	}
	if t, ok := exceptions[code]; ok && code != kms.CodeRecordTampered {
		return &apiError{Type: t, Message: msg, Status: http.StatusBadRequest}
	}
	if ke != nil && code != kms.CodeInternal && code != kms.CodeRecordTampered {
		// A refusal of the request this table does not name yet: still
		// the caller's, never a server fault.
		return &apiError{Type: "ValidationException", Message: msg, Status: http.StatusBadRequest}
	}
	return &apiError{Type: "KMSInternalException", Message: "internal error", Status: http.StatusInternalServerError}
}

// sigv4Exception names the AWS exception of a signature failure.
func sigv4Exception(e *sigv4.Error) string {
	switch e.Code {
	case sigv4.CodeMissingAuthenticationToken:
		return "MissingAuthenticationTokenException"
	case sigv4.CodeIncompleteSignature:
		return "IncompleteSignatureException"
	case sigv4.CodeUnrecognizedClient:
		return "UnrecognizedClientException"
	}
	return "InvalidSignatureException"
}

// serviceCode gives the service code an adapter-level refusal is audited
// with.
func serviceCode(e *apiError) kms.Code {
	switch e.Type {
	case "ValidationException", "SerializationException":
		return kms.CodeInvalidArgument
	case "UnsupportedOperationException":
		return kms.CodeUnsupportedOperation
	case "NotFoundException":
		return kms.CodeNotFound
	}
	return kms.CodeUnauthorized
}
