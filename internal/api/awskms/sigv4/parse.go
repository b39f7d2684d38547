package sigv4

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits on what the parser accepts. They are far above what any AWS client
// sends and keep the work done for a hostile header small and bounded.
const (
	// MaxAuthorizationLength is the longest Authorization header accepted,
	// in bytes.
	MaxAuthorizationLength = 8 << 10
	// MaxSignedHeaders is the largest number of names accepted in
	// SignedHeaders.
	MaxSignedHeaders = 64

	maxAccessKeyIDLength = 128
	maxScopeNameLength   = 64 // region and service
	maxHeaderNameLength  = 256
)

// Formats and fixed strings of the protocol.
const (
	// Algorithm is the only signing algorithm accepted.
	Algorithm = "AWS4-HMAC-SHA256"

	scopeTerminator = "aws4_request"
	amzDateLayout   = "20060102T150405Z" // ISO 8601 basic format, UTC
	scopeDateLayout = "20060102"
	signatureLength = 64 // hex digits of an HMAC-SHA256
)

// authorization is a parsed Authorization header.
type authorization struct {
	accessKeyID string
	date        string // YYYYMMDD from the credential scope
	region      string
	service     string
	scope       string // date/region/service/aws4_request, as sent

	signedHeaders []string // lower-case, strictly ascending, no duplicates
	signature     []byte   // the 32 bytes the client sent
}

// parseAuthorization parses the value of an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX
//
// The three components may come in any order, separated by commas with
// optional spaces or tabs around them; each must appear exactly once and be
// non-empty. Anything else is refused before any work proportional to a
// secret is done.
func parseAuthorization(h string) (*authorization, *Error) {
	if len(h) > MaxAuthorizationLength {
		return nil, incomplete(ReasonMalformedAuthorization,
			"Authorization header exceeds "+strconv.Itoa(MaxAuthorizationLength)+" bytes.")
	}
	h = strings.Trim(h, " \t")
	alg, params, _ := strings.Cut(h, " ")
	if alg != Algorithm {
		return nil, incomplete(ReasonUnsupportedAlgorithm,
			"Unsupported AWS 'algorithm': only "+Algorithm+" is accepted.")
	}

	var credential, signedHeaders, signature string
	var seen [3]bool
	parts := strings.Split(params, ",")
	if len(parts) > len(seen) {
		return nil, incomplete(ReasonMalformedAuthorization,
			"Authorization header has more than the Credential, SignedHeaders and Signature components.")
	}
	for _, part := range parts {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue // reported below as a missing component
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, incomplete(ReasonMalformedAuthorization,
				"Authorization header component is not of the form key=value.")
		}
		if value == "" {
			return nil, incomplete(ReasonMalformedAuthorization,
				"Authorization header component "+quoteName(key)+" is empty.")
		}
		var i int
		var dst *string
		switch key {
		case "Credential":
			i, dst = 0, &credential
		case "SignedHeaders":
			i, dst = 1, &signedHeaders
		case "Signature":
			i, dst = 2, &signature
		default:
			return nil, incomplete(ReasonMalformedAuthorization,
				"Authorization header has an unknown component "+quoteName(key)+".")
		}
		if seen[i] {
			return nil, incomplete(ReasonMalformedAuthorization,
				"Authorization header repeats the "+key+" component.")
		}
		seen[i] = true
		*dst = value
	}
	var missing []string
	for i, name := range [...]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			missing = append(missing, "Authorization header requires '"+name+"' parameter.")
		}
	}
	if missing != nil {
		return nil, incomplete(ReasonMalformedAuthorization, strings.Join(missing, " "))
	}

	a := &authorization{}
	if err := a.parseCredential(credential); err != nil {
		return nil, err
	}
	var err *Error
	if a.signedHeaders, err = parseSignedHeaders(signedHeaders); err != nil {
		return nil, err
	}
	if a.signature, err = parseSignature(signature); err != nil {
		return nil, err
	}
	return a, nil
}

// parseCredential parses AKID/YYYYMMDD/REGION/SERVICE/aws4_request into a.
func (a *authorization) parseCredential(c string) *Error {
	fields := strings.Split(c, "/")
	if len(fields) != 5 {
		return incomplete(ReasonMalformedAuthorization,
			"Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.")
	}
	akid, date, region, service, term := fields[0], fields[1], fields[2], fields[3], fields[4]
	switch {
	case !validAccessKeyID(akid):
		return incomplete(ReasonMalformedAuthorization, "Credential has an invalid access key id.")
	case !validScopeDate(date):
		return incomplete(ReasonMalformedAuthorization, "Credential has an invalid date; expected YYYYMMDD.")
	case !validScopeName(region):
		return incomplete(ReasonMalformedAuthorization, "Credential has an invalid region.")
	case !validScopeName(service):
		return incomplete(ReasonMalformedAuthorization, "Credential has an invalid service.")
	case term != scopeTerminator:
		return incomplete(ReasonMalformedAuthorization, "Credential must end with aws4_request.")
	}
	a.accessKeyID, a.date, a.region, a.service = akid, date, region, service
	a.scope = c[len(akid)+1:]
	return nil
}

// parseSignedHeaders parses the semicolon-separated SignedHeaders list. The
// names must be lower case and strictly ascending, which is how every
// conforming signer writes them; accepting other orders would let two
// different lists denote the same canonical request.
func parseSignedHeaders(s string) ([]string, *Error) {
	if n := strings.Count(s, ";") + 1; n > MaxSignedHeaders {
		return nil, incomplete(ReasonMalformedAuthorization,
			"SignedHeaders lists more than "+strconv.Itoa(MaxSignedHeaders)+" headers.")
	}
	names := strings.Split(s, ";")
	for i, name := range names {
		if !validHeaderName(name) {
			return nil, incomplete(ReasonMalformedAuthorization,
				"SignedHeaders must list non-empty lower-case header names separated by ';'.")
		}
		if i > 0 && names[i-1] >= name {
			if names[i-1] == name {
				return nil, incomplete(ReasonMalformedAuthorization, "SignedHeaders lists a header twice.")
			}
			return nil, incomplete(ReasonMalformedAuthorization, "SignedHeaders must be sorted.")
		}
	}
	return names, nil
}

// parseSignature decodes the 64 hex digits of the Signature component.
func parseSignature(s string) ([]byte, *Error) {
	if len(s) != signatureLength {
		return nil, incomplete(ReasonMalformedAuthorization, "Signature must be 64 hexadecimal digits.")
	}
	sig, err := hex.DecodeString(s)
	if err != nil {
		return nil, incomplete(ReasonMalformedAuthorization, "Signature must be 64 hexadecimal digits.")
	}
	return sig, nil
}

// requestTime returns the time the request was signed at, from X-Amz-Date or,
// when that header is absent, from Date; and the same time in the ISO 8601
// basic form the string to sign uses. The header used must be signed.
func requestTime(h http.Header, a *authorization) (time.Time, string, *Error) {
	if vs := h.Values("X-Amz-Date"); len(vs) > 0 {
		if len(vs) > 1 {
			return time.Time{}, "", incomplete(ReasonMalformedDate, "X-Amz-Date must be sent once.")
		}
		if !a.signs("x-amz-date") {
			return time.Time{}, "", incomplete(ReasonUnsignedHeader, "X-Amz-Date must be included in SignedHeaders.")
		}
		v := strings.TrimSpace(vs[0])
		t, err := time.Parse(amzDateLayout, v)
		if err != nil || len(v) != len(amzDateLayout) {
			return time.Time{}, "", incomplete(ReasonMalformedDate,
				"X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
		}
		return t, v, nil
	}
	vs := h.Values("Date")
	switch {
	case len(vs) == 0:
		return time.Time{}, "", incomplete(ReasonMissingDate,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	case len(vs) > 1:
		return time.Time{}, "", incomplete(ReasonMalformedDate, "Date must be sent once.")
	case !a.signs("date"):
		return time.Time{}, "", incomplete(ReasonUnsignedHeader,
			"X-Amz-Date or Date must be included in SignedHeaders.")
	}
	t, err := http.ParseTime(strings.TrimSpace(vs[0]))
	if err != nil {
		return time.Time{}, "", incomplete(ReasonMalformedDate, "Date is not a valid HTTP date.")
	}
	t = t.UTC()
	return t, t.Format(amzDateLayout), nil
}

// signs reports whether name (lower case) is in SignedHeaders.
func (a *authorization) signs(name string) bool {
	for _, s := range a.signedHeaders {
		if s == name {
			return true
		}
	}
	return false
}

// validAccessKeyID accepts 1 to 128 characters of letters, digits and the
// few punctuation marks that cannot be confused with the separators of the
// Authorization header.
func validAccessKeyID(s string) bool {
	if s == "" || len(s) > maxAccessKeyIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' && c != '+' && c != '@' {
			return false
		}
	}
	return true
}

// validScopeDate accepts an existing calendar date written YYYYMMDD.
func validScopeDate(s string) bool {
	if len(s) != len(scopeDateLayout) {
		return false
	}
	_, err := time.Parse(scopeDateLayout, s)
	return err == nil
}

// validScopeName accepts region and service names: 1 to 64 lower-case
// letters, digits and dashes.
func validScopeName(s string) bool {
	if s == "" || len(s) > maxScopeNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

// validHeaderName accepts a lower-case HTTP field name (an RFC 9110 token
// without upper-case letters) of at most 256 bytes.
func validHeaderName(s string) bool {
	if s == "" || len(s) > maxHeaderNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// quoteName quotes a component name for a message if it is short and
// printable, and otherwise names it generically, so that a message never
// carries arbitrary bytes from the request.
func quoteName(s string) string {
	if s == "" || len(s) > 32 {
		return "(unnamed)"
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' && s[i] != '_' {
			return "(unnamed)"
		}
	}
	return "'" + s + "'"
}
