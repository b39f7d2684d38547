// Package sigv4 verifies AWS Signature Version 4 on requests to Arca's
// AWS-KMS-compatible API.
//
// AWS tooling pointed at Arca with --endpoint-url (the AWS CLI, boto3, the
// AWS SDKs, sops) authenticates every request with Signature Version 4 in its
// header form:
//
//	Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/kms/aws4_request,
//	    SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=<64 hex digits>
//
// A Verifier rebuilds the canonical request from what the server received,
// derives the signing key from the secret of the access key named in the
// credential scope, and compares the signatures in constant time. It follows
// AWS's published description of the algorithm; the tests check it against
// AWS's Signature Version 4 test suite and against the signer of the AWS SDK
// for Go.
//
// What is accepted, and why:
//   - Only the header form with AWS4-HMAC-SHA256. Presigned URLs
//     (query-string authentication), Signature Version 2 and SigV4a are
//     refused: the KMS clients do not use them.
//   - The server always hashes the body itself. X-Amz-Content-Sha256, when
//     sent, must equal that hash; UNSIGNED-PAYLOAD and streaming payloads are
//     refused, so every byte of the body is covered by the signature.
//   - Requests carrying X-Amz-Security-Token are refused: Arca issues no
//     temporary credentials, so such a token cannot be valid here.
//   - The request time must be within Verifier.MaxSkew of the server's clock,
//     and the credential scope must name Verifier.Service and the date of
//     the request time.
//
// Failures are *Error values carrying the AWS error type to answer with
// (Code) and a stable cause for the audit log (Reason). Any other error from
// Verify is an internal failure, such as the credential store being
// unavailable, and must not be reported to the client as an authentication
// failure.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultMaxSkew is the clock skew accepted when Verifier.MaxSkew is not set:
// the five minutes AWS itself allows.
const DefaultMaxSkew = 5 * time.Minute

// DefaultRequireSigned lists the headers that must be signed whenever a
// request carries them, unless Verifier.RequireSigned says otherwise. In the
// AWS JSON protocol that KMS speaks, X-Amz-Target names the operation and
// Content-Type the protocol version; leaving either unsigned would let
// whoever relays a request turn, say, an Encrypt into a Decrypt. Every AWS
// SDK signs both. It must not be modified; set Verifier.RequireSigned
// instead.
var DefaultRequireSigned = []string{"content-type", "x-amz-target"}

// Credentials looks up the secret access key of an access key id.
//
// SecretKey returns ErrUnknownAccessKey, possibly wrapped, when there is no
// such key (or it is disabled); Verify then answers UnrecognizedClient. Any
// other error is treated as an internal failure. Verify neither modifies nor
// retains the returned slice.
type Credentials interface {
	SecretKey(ctx context.Context, accessKeyID string) ([]byte, error)
}

// CredentialsFunc adapts a function to the Credentials interface.
type CredentialsFunc func(ctx context.Context, accessKeyID string) ([]byte, error)

// SecretKey calls f.
func (f CredentialsFunc) SecretKey(ctx context.Context, accessKeyID string) ([]byte, error) {
	return f(ctx, accessKeyID)
}

// Verifier checks Signature Version 4 signatures. Its fields are read-only
// once it is in use; a Verifier is then safe for concurrent use.
type Verifier struct {
	// Service is the service name the credential scope must carry: "kms"
	// for the KMS-compatible API. Required.
	Service string
	// Region, if set, is the only region accepted in the credential scope.
	// When empty, any well-formed region is accepted and returned in
	// Result.Region, so clients configured for any AWS region work.
	Region string
	// MaxSkew is how far the request time may be from the server's clock,
	// in either direction. Zero or negative means DefaultMaxSkew.
	MaxSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Credentials resolves access key ids to secrets. Required.
	Credentials Credentials
	// RequireSigned lists header names (in any case) that must be in
	// SignedHeaders whenever the request carries them. Host and the date
	// header in use are always required. Nil means DefaultRequireSigned; an
	// empty non-nil slice requires nothing more.
	RequireSigned []string
}

// Result describes a request whose signature verified.
type Result struct {
	// AccessKeyID is the access key the request was signed with: the
	// authenticated principal.
	AccessKeyID string
	// Region is the region of the credential scope.
	Region string
	// Service is the service of the credential scope (Verifier.Service).
	Service string
	// Date is the time the client signed the request at (X-Amz-Date, or
	// Date when X-Amz-Date is absent), in UTC.
	Date time.Time
	// SignedHeaders are the lower-case names of the headers covered by the
	// signature, sorted. Headers not listed here were not authenticated.
	SignedHeaders []string
}

// Verify checks the Signature Version 4 signature of r.
//
// body is the complete request body, already read (and bounded in size) by
// the caller; the payload hash is computed from it, never taken from the
// request. The host is taken from r.Host and the path from r.URL, so r should
// be the request as net/http received it.
//
// On success Verify returns who signed the request. A failed check returns an
// *Error; any other error is an internal failure (a misconfigured Verifier,
// or Credentials failing for a reason other than ErrUnknownAccessKey).
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (Result, error) {
	if v == nil || v.Service == "" || v.Credentials == nil {
		return Result{}, errors.New("sigv4: verifier is not configured: Service and Credentials are required")
	}
	p, err := v.Prepare(r, body)
	if err != nil {
		return Result{}, err
	}
	secret, err := v.Credentials.SecretKey(ctx, p.AccessKeyID())
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return Result{}, &Error{Code: CodeUnrecognizedClient, Reason: ReasonUnknownAccessKey,
				Message: "The security token included in the request is invalid.", Err: err}
		}
		return Result{}, fmt.Errorf("sigv4: look up the secret of access key %q: %w", p.AccessKeyID(), err)
	}
	if err := p.Check(secret); err != nil {
		return Result{}, err
	}
	return p.Result(), nil
}

// Pending is a request whose signature is well formed, in time and over
// the right scope, headers and body, waiting only for the check against
// its access key's secret. It lets a caller keep the secret inside its
// own call (Check), instead of handing it to a Credentials lookup.
type Pending struct {
	a       *authorization
	t       time.Time
	amzDate string
	creq    string
}

// Prepare makes every check of Verify that needs no secret.
func (v *Verifier) Prepare(r *http.Request, body []byte) (*Pending, error) {
	if v == nil || v.Service == "" {
		return nil, errors.New("sigv4: verifier is not configured: Service is required")
	}
	authz := r.Header.Values("Authorization")
	switch {
	case len(authz) == 0 || len(authz) == 1 && strings.TrimSpace(authz[0]) == "":
		return nil, newError(CodeMissingAuthenticationToken, ReasonMissingAuthorization,
			"Missing Authentication Token")
	case len(authz) > 1:
		return nil, incomplete(ReasonMalformedAuthorization, "Authorization header must be sent once.")
	}
	a, e := parseAuthorization(authz[0])
	if e != nil {
		return nil, e
	}
	if len(r.Header.Values("X-Amz-Security-Token")) > 0 {
		return nil, newError(CodeUnrecognizedClient, ReasonSecurityTokenUnsupported,
			"The security token included in the request is invalid: temporary credentials are not supported.")
	}
	if !a.signs("host") {
		return nil, incomplete(ReasonUnsignedHeader, "Host must be included in SignedHeaders.")
	}
	t, amzDate, e := requestTime(r.Header, a)
	if e != nil {
		return nil, e
	}
	if e := v.checkScope(a, t); e != nil {
		return nil, e
	}
	if e := v.checkSkew(t, amzDate); e != nil {
		return nil, e
	}
	if e := v.checkRequired(r.Header, a); e != nil {
		return nil, e
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if e := checkContentSHA256(r.Header, payloadHash); e != nil {
		return nil, e
	}
	creq, e := canonicalRequest(r, a.signedHeaders, payloadHash)
	if e != nil {
		return nil, e
	}
	return &Pending{a: a, t: t, amzDate: amzDate, creq: creq}, nil
}

// AccessKeyID is the access key the request claims to be signed with.
func (p *Pending) AccessKeyID() string { return p.a.accessKeyID }

// Check compares, in constant time, the request's signature with the one
// secret gives. The derived keys are wiped; the secret stays the caller's.
func (p *Pending) Check(secret []byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("sigv4: the secret of access key %q is empty", p.a.accessKeyID)
	}
	key := deriveSigningKey(secret, p.a.date, p.a.region, p.a.service)
	want := hmacSHA256(key, stringToSign(p.amzDate, p.a.scope, p.creq))
	clear(key)
	ok := hmac.Equal(want, p.a.signature)
	clear(want)
	if !ok {
		return invalid(ReasonSignatureMismatch,
			"The request signature we calculated does not match the signature you provided. "+
				"Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// Result describes the request once Check has passed.
func (p *Pending) Result() Result {
	return Result{
		AccessKeyID:   p.a.accessKeyID,
		Region:        p.a.region,
		Service:       p.a.service,
		Date:          p.t,
		SignedHeaders: p.a.signedHeaders,
	}
}

// checkScope checks the service, region and date of the credential scope.
func (v *Verifier) checkScope(a *authorization, t time.Time) *Error {
	if a.service != v.Service {
		return invalid(ReasonWrongService, "Credential should be scoped to correct service: '"+v.Service+"'.")
	}
	if v.Region != "" && a.region != v.Region {
		return invalid(ReasonWrongRegion, "Credential should be scoped to a valid region: '"+v.Region+"'.")
	}
	if d := t.Format(scopeDateLayout); a.date != d {
		return invalid(ReasonScopeDateMismatch,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
				a.date+"' != '"+d+"'.")
	}
	return nil
}

// checkSkew refuses a request time more than MaxSkew from the server clock.
// The messages are the ones AWS uses, which clients recognise as clock skew.
func (v *Verifier) checkSkew(t time.Time, amzDate string) *Error {
	maxSkew := v.MaxSkew
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()
	switch {
	case n.Sub(t) > maxSkew:
		return invalid(ReasonClockSkew, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			amzDate, n.Add(-maxSkew).Format(amzDateLayout), n.Format(amzDateLayout), maxSkew))
	case t.Sub(n) > maxSkew:
		return invalid(ReasonClockSkew, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			amzDate, n.Add(maxSkew).Format(amzDateLayout), n.Format(amzDateLayout), maxSkew))
	}
	return nil
}

// checkRequired refuses a request that carries one of the RequireSigned
// headers without signing it.
func (v *Verifier) checkRequired(h http.Header, a *authorization) *Error {
	required := v.RequireSigned
	if required == nil {
		required = DefaultRequireSigned
	}
	for _, name := range required {
		lower := strings.ToLower(name)
		if len(h.Values(name)) > 0 && !a.signs(lower) {
			return incomplete(ReasonUnsignedHeader, "Header "+quoteName(name)+" must be included in SignedHeaders.")
		}
	}
	return nil
}

// checkContentSHA256 checks X-Amz-Content-Sha256 against the hash of the
// body the server received, when the client sent one.
func checkContentSHA256(h http.Header, payloadHash string) *Error {
	vs := h.Values("X-Amz-Content-Sha256")
	switch {
	case len(vs) == 0:
		return nil
	case len(vs) > 1:
		return incomplete(ReasonMalformedRequest, "X-Amz-Content-Sha256 must be sent once.")
	}
	v := strings.TrimSpace(vs[0])
	if v == "UNSIGNED-PAYLOAD" || strings.HasPrefix(v, "STREAMING-") {
		return invalid(ReasonUnsignedPayload, "Unsigned and streaming payloads are not supported; sign the payload.")
	}
	if !strings.EqualFold(v, payloadHash) {
		return invalid(ReasonPayloadHashMismatch,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return nil
}
