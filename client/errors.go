package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Error codes of the API (docs/api.md). They are stable: compare an *Error's
// Code with them (or use IsCode) rather than matching messages.
const (
	// CodeInvalidJSON (400): the body is not valid JSON, has trailing data,
	// or a field has the wrong type.
	CodeInvalidJSON = "invalid_json"
	// CodeUnknownField (400): the body has a field the endpoint does not
	// define.
	CodeUnknownField = "unknown_field"
	// CodeInvalidArgument (400): a field value is out of range or malformed.
	CodeInvalidArgument = "invalid_argument"
	// CodeInvalidBase64 (400): a binary field is not valid base64.
	CodeInvalidBase64 = "invalid_base64"
	// CodeInvalidCiphertext (400): the ciphertext cannot be parsed.
	CodeInvalidCiphertext = "invalid_ciphertext"
	// CodeDecryptionFailed (400): authentication of the ciphertext failed
	// (tampered, or wrong associated data or context).
	CodeDecryptionFailed = "decryption_failed"
	// CodeWrongKey (400): the ciphertext was made with another key than the
	// one named in the path.
	CodeWrongKey = "wrong_key"
	// CodeInvalidShare (400): an unseal share is malformed or duplicated, or
	// the shares do not reconstruct the root key.
	CodeInvalidShare = "invalid_share"
	// CodeBatchTooLarge (400): a batch exceeds 1000 items.
	CodeBatchTooLarge = "batch_too_large"
	// CodeUnauthorized (401): missing, malformed or unknown token.
	CodeUnauthorized = "unauthorized"
	// CodeForbidden (403): the identity may not perform this operation.
	CodeForbidden = "forbidden"
	// CodeKeyNotFound (404): no key with that name or id.
	CodeKeyNotFound = "key_not_found"
	// CodeKeyVersionNotFound (404): the key has no such version.
	CodeKeyVersionNotFound = "key_version_not_found"
	// CodeNotFound (404): no such endpoint.
	CodeNotFound = "not_found"
	// CodeMethodNotAllowed (405): the endpoint exists, the method does not.
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeKeyExists (409): a key with that name exists.
	CodeKeyExists = "key_exists"
	// CodeAlreadyInitialized (409): init on an initialised server.
	CodeAlreadyInitialized = "already_initialized"
	// CodePayloadTooLarge (413): the body is over the limit.
	CodePayloadTooLarge = "payload_too_large"
	// CodeUnsupportedMediaType (415): a body without
	// Content-Type: application/json.
	CodeUnsupportedMediaType = "unsupported_media_type"
	// CodeRecordTampered (500): a stored record failed its integrity check.
	CodeRecordTampered = "record_tampered"
	// CodeInternal (500): unexpected server error; details are in the server
	// log under the request id.
	CodeInternal = "internal"
	// CodeSealed (503): the server is sealed.
	CodeSealed = "sealed"
	// CodeNotInitialized (503): the server has not been initialised.
	CodeNotInitialized = "not_initialized"
	// CodeAuditUnavailable (503): the audit record could not be written; the
	// operation's result is withheld.
	CodeAuditUnavailable = "audit_unavailable"

	// Lifecycle and policy refusals (docs/lifecycle.md).

	// CodeIllegalTransition (409): the lifecycle action is not legal from
	// the current state.
	CodeIllegalTransition = "illegal_transition"
	// CodeKeyPreActive (409): the key or version is not activated yet.
	CodeKeyPreActive = "key_pre_active"
	// CodeKeySuspended (409): the key or version refuses every operation.
	CodeKeySuspended = "key_suspended"
	// CodeKeyDeactivated (409): the key or version decrypts but does not
	// encrypt.
	CodeKeyDeactivated = "key_deactivated"
	// CodeKeyCompromised (409): decrypt needs allow_compromised.
	CodeKeyCompromised = "key_compromised"
	// CodeKeyDestroyScheduled (409): the key decrypts until its deadline but
	// does not encrypt.
	CodeKeyDestroyScheduled = "key_destroy_scheduled"
	// CodeKeyDestroyed (410): the key or version was destroyed.
	CodeKeyDestroyed = "key_destroyed"
	// CodeVersionBelowMinimum (409): the ciphertext's version is below the
	// key's min_decryption_version.
	CodeVersionBelowMinimum = "version_below_minimum"
	// CodePolicyViolation (422): the key would break the crypto policy.
	CodePolicyViolation = "policy_violation"
	// CodeUnsupportedOperation (400): the key's algorithm does not do this
	// operation (e.g. encrypt with an HMAC key).
	CodeUnsupportedOperation = "unsupported_operation"
)

// Error is a failure reported by the server: a non-2xx response, or a failed
// item of a batch. It carries the API's stable error code so that callers
// can react to specific conditions (see IsCode).
type Error struct {
	// StatusCode is the HTTP status of the response; 0 for a batch item's
	// error (the batch response itself is 200).
	StatusCode int
	// Code is the API error code (one of the Code constants), or empty when
	// the response was not in the API's error shape, e.g. from a proxy.
	Code string
	// Message is the server's human-readable explanation, or a description
	// of the unexpected response when Code is empty.
	Message string
	// RequestID is the response's X-Request-Id, which names the request in
	// the server's audit log and logs; it may be empty.
	RequestID string
	// ApprovalID names the pending approval of an approval_required error:
	// once approvers approve it, repeat the request WithApproval(id).
	ApprovalID string
}

// Error formats the code, message, HTTP status and request id. The server's
// messages never echo request values, so the string holds no secrets.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("arca: ")
	b.WriteString(e.Code)
	if e.Code != "" && e.Message != "" {
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	var extra []string
	if e.StatusCode != 0 {
		extra = append(extra, "HTTP "+strconv.Itoa(e.StatusCode))
	}
	if e.RequestID != "" {
		extra = append(extra, "request id "+e.RequestID)
	}
	if len(extra) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(extra, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// IsCode reports whether err is, or wraps, an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// errorDetail is the inner object of the API's error shape.
type errorDetail struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	ApprovalID string `json:"approval_id"`
}

// errorBody is the API's error shape: {"error":{"code","message"}}.
type errorBody struct {
	Error *errorDetail `json:"error"`
}

// newError decodes an error response. A body that is not in the API's shape
// yields an Error without Code whose message describes the status only: the
// body is not quoted, since a proxy could echo the request in it.
func newError(status int, requestID string, body []byte) *Error {
	e := &Error{StatusCode: status, RequestID: requestID}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil && eb.Error.Code != "" {
		e.Code = eb.Error.Code
		e.Message = eb.Error.Message
		e.ApprovalID = eb.Error.ApprovalID
		return e
	}
	e.Message = "unexpected response from server: " + strconv.Itoa(status) + " " + http.StatusText(status)
	return e
}
