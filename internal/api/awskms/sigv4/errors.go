package sigv4

import "errors"

// ErrUnknownAccessKey is the error a Credentials implementation returns,
// possibly wrapped, when it holds no secret for the access key id it was
// asked about. Verify turns it into an *Error with CodeUnrecognizedClient so
// that the client is told its key is unknown rather than that the server
// failed.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key")

// Code is the AWS error type name (the "__type" of an AWS JSON error body) a
// server compatible with AWS KMS returns for an authentication failure.
// AWS SDKs and the AWS CLI branch on these names, for example to retry with a
// corrected clock, so they are kept exactly as AWS spells them.
type Code string

// The AWS error types an authentication failure maps to.
const (
	// CodeMissingAuthenticationToken: the request carries no Authorization
	// header at all.
	CodeMissingAuthenticationToken Code = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the Authorization header, or a header the
	// signature depends on, is missing, malformed or names an unsupported
	// algorithm.
	CodeIncompleteSignature Code = "IncompleteSignatureException"
	// CodeUnrecognizedClient: the access key id is unknown, or the request
	// carries a session token Arca cannot have issued.
	CodeUnrecognizedClient Code = "UnrecognizedClientException"
	// CodeInvalidSignature: the signature is well formed but wrong, expired,
	// or scoped to the wrong service, region or date.
	CodeInvalidSignature Code = "InvalidSignatureException"
)

// Reason is a stable, machine-readable cause of a verification failure, meant
// for audit records and metrics. Several reasons share one Code; the reason
// tells them apart without matching message text.
type Reason string

// The reasons Verify reports. Each is listed with the Code it comes with.
const (
	// ReasonMissingAuthorization (CodeMissingAuthenticationToken): no
	// Authorization header, or an empty one.
	ReasonMissingAuthorization Reason = "missing_authorization"
	// ReasonMalformedAuthorization (CodeIncompleteSignature): the
	// Authorization header is too long, repeated, lacks or repeats one of
	// Credential, SignedHeaders and Signature, or has a malformed or empty
	// component.
	ReasonMalformedAuthorization Reason = "malformed_authorization"
	// ReasonUnsupportedAlgorithm (CodeIncompleteSignature): the header names
	// an algorithm other than AWS4-HMAC-SHA256 (Signature Version 2, SigV4a,
	// a bearer token, ...).
	ReasonUnsupportedAlgorithm Reason = "unsupported_algorithm"
	// ReasonMissingDate (CodeIncompleteSignature): neither X-Amz-Date nor
	// Date is present.
	ReasonMissingDate Reason = "missing_date"
	// ReasonMalformedDate (CodeIncompleteSignature): X-Amz-Date or Date is
	// repeated or cannot be parsed.
	ReasonMalformedDate Reason = "malformed_date"
	// ReasonUnsignedHeader (CodeIncompleteSignature): a header that must be
	// covered by the signature (host, the date header in use, or one of
	// Verifier.RequireSigned present in the request) is not in SignedHeaders.
	ReasonUnsignedHeader Reason = "unsigned_header"
	// ReasonMissingSignedHeader (CodeIncompleteSignature): SignedHeaders names
	// a header the request does not carry.
	ReasonMissingSignedHeader Reason = "missing_signed_header"
	// ReasonMalformedRequest (CodeIncompleteSignature): the request itself
	// cannot be put in canonical form (an invalid escape in the query string,
	// a repeated X-Amz-Content-Sha256 header).
	ReasonMalformedRequest Reason = "malformed_request"
	// ReasonSecurityTokenUnsupported (CodeUnrecognizedClient): the request
	// carries X-Amz-Security-Token; Arca issues no temporary credentials.
	ReasonSecurityTokenUnsupported Reason = "security_token_unsupported"
	// ReasonUnknownAccessKey (CodeUnrecognizedClient): Credentials reported
	// ErrUnknownAccessKey for the access key id of the credential scope.
	ReasonUnknownAccessKey Reason = "unknown_access_key"
	// ReasonWrongService (CodeInvalidSignature): the credential scope names a
	// service other than Verifier.Service.
	ReasonWrongService Reason = "wrong_service"
	// ReasonWrongRegion (CodeInvalidSignature): Verifier.Region is set and the
	// credential scope names another region.
	ReasonWrongRegion Reason = "wrong_region"
	// ReasonScopeDateMismatch (CodeInvalidSignature): the date of the
	// credential scope is not the date of X-Amz-Date (or Date).
	ReasonScopeDateMismatch Reason = "scope_date_mismatch"
	// ReasonClockSkew (CodeInvalidSignature): the request time is more than
	// Verifier.MaxSkew away from the server's clock, in either direction.
	ReasonClockSkew Reason = "clock_skew"
	// ReasonUnsignedPayload (CodeInvalidSignature): X-Amz-Content-Sha256 asks
	// for an unsigned or streaming payload, which is not accepted.
	ReasonUnsignedPayload Reason = "unsigned_payload"
	// ReasonPayloadHashMismatch (CodeInvalidSignature): X-Amz-Content-Sha256
	// differs from the SHA-256 of the body the server received.
	ReasonPayloadHashMismatch Reason = "payload_hash_mismatch"
	// ReasonSignatureMismatch (CodeInvalidSignature): the signature does not
	// match the one computed from the request and the access key's secret.
	ReasonSignatureMismatch Reason = "signature_mismatch"
)

// Error is an authentication failure found by Verify. Callers map Code to
// the AWS error type of the response, Reason to their audit record, and may
// send Message to the client.
//
// No part of an Error ever contains the secret key, the signing key or the
// signature the server computed. Message is also free of anything the server
// looked up, so it is safe to return to an unauthenticated client; Err, and
// so the text of Error(), may carry what a Credentials implementation put in
// its own error.
type Error struct {
	// Code is the AWS error type name to return to the client.
	Code Code
	// Reason is the stable cause, for audit and metrics.
	Reason Reason
	// Message is a human-readable explanation, safe to send to the client.
	Message string
	// Err is the underlying cause when there is one (for example the error
	// from Credentials that wraps ErrUnknownAccessKey), for logs and for
	// errors.Is; it is not meant for the client.
	Err error
}

// Error returns the reason and message, followed by the underlying cause
// when there is one.
func (e *Error) Error() string {
	s := "sigv4: " + string(e.Reason) + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause, so that errors.Is(err,
// ErrUnknownAccessKey) holds for an unknown access key.
func (e *Error) Unwrap() error { return e.Err }

// newError builds an *Error; kept short because every check calls it.
func newError(code Code, reason Reason, msg string) *Error {
	return &Error{Code: code, Reason: reason, Message: msg}
}

// incomplete reports a missing or malformed part of the signature.
func incomplete(reason Reason, msg string) *Error {
	return newError(CodeIncompleteSignature, reason, msg)
}

// invalid reports a well-formed but unacceptable signature.
func invalid(reason Reason, msg string) *Error {
	return newError(CodeInvalidSignature, reason, msg)
}
