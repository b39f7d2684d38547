package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The canonical request is the exact byte string a client signs:
//
//	HTTPMethod          \n
//	CanonicalURI        \n
//	CanonicalQueryString\n
//	CanonicalHeaders    (one "name:value\n" line per signed header)
//	                    \n
//	SignedHeaders       \n
//	HexSHA256(payload)
//
// The server rebuilds it from what it received; any difference in any byte
// makes the signatures differ.

// headerSource gives the values of one header of a request, in the order
// received, and whether the request carries it at all.
type headerSource func(lowerName string) ([]string, bool)

// requestHeaders returns the headerSource of a request received by net/http.
// Host is taken from r.Host (net/http moves it out of r.Header), and
// Content-Length and Transfer-Encoding from the fields net/http keeps them
// in when it removes them from r.Header.
func requestHeaders(r *http.Request) headerSource {
	return func(name string) ([]string, bool) {
		switch name {
		case "host":
			return []string{r.Host}, r.Host != ""
		case "content-length":
			if vs := r.Header.Values("Content-Length"); len(vs) > 0 {
				return vs, true
			}
			if r.ContentLength > 0 {
				return []string{strconv.FormatInt(r.ContentLength, 10)}, true
			}
			return nil, false
		case "transfer-encoding":
			if vs := r.Header.Values("Transfer-Encoding"); len(vs) > 0 {
				return vs, true
			}
			return r.TransferEncoding, len(r.TransferEncoding) > 0
		}
		vs := r.Header.Values(name)
		return vs, len(vs) > 0
	}
}

// canonicalRequest builds the canonical request of a request: method, the
// path as sent (r.URL.EscapedPath), the raw query, and the signed headers,
// ending with payloadHash, the hex SHA-256 of the body.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) (string, *Error) {
	return buildCanonicalRequest(r.Method, r.URL.EscapedPath(), r.URL.RawQuery,
		requestHeaders(r), signedHeaders, payloadHash)
}

// buildCanonicalRequest builds the canonical request from its parts. path is
// the request path as it appeared on the wire (still percent-encoded) and
// rawQuery the query string without the '?'.
func buildCanonicalRequest(method, path, rawQuery string, headers headerSource,
	signedHeaders []string, payloadHash string) (string, *Error) {
	query, err := canonicalQuery(rawQuery)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(method) + 2*len(path) + len(query) + 64*len(signedHeaders) + len(payloadHash) + 16)
	b.WriteString(method)
	b.WriteByte('\n')
	writeCanonicalURI(&b, path)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		values, ok := headers(name)
		if !ok {
			return "", incomplete(ReasonMissingSignedHeader,
				"SignedHeaders lists "+quoteName(name)+", which the request does not carry.")
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			writeHeaderValue(&b, v)
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// writeCanonicalURI writes the canonical URI of a path as sent on the wire.
//
// For every AWS service but S3, AWS defines it as the path normalized as in
// RFC 3986 (empty, "." and ".." segments removed), with each segment then
// URI-encoded. Because the wire form is already percent-encoded, this encodes
// it a second time ("%20" becomes "%2520"), as AWS's signers do. An empty path
// is "/".
func writeCanonicalURI(b *strings.Builder, path string) {
	segments := normalizePath(path)
	if len(segments) == 0 {
		b.WriteByte('/')
		return
	}
	for _, s := range segments {
		b.WriteByte('/')
		uriEncode(b, s)
	}
	if trailingSlash(path) {
		b.WriteByte('/')
	}
}

// normalizePath splits path on '/' and resolves it as RFC 3986's
// remove_dot_segments does, also dropping empty segments (so "//a//" is
// "/a/"). It returns the remaining segments.
func normalizePath(path string) []string {
	var out []string
	for s := range strings.SplitSeq(path, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return out
}

// trailingSlash reports whether the normalized form of path ends with '/':
// when the path does, or when its last segment is "." or "..", both of which
// resolve to a directory.
func trailingSlash(path string) bool {
	return strings.HasSuffix(path, "/") || strings.HasSuffix(path, "/.") || strings.HasSuffix(path, "/..")
}

// canonicalQuery returns the canonical query string: every parameter decoded
// (with '+' read as a space, as form encoding writes it), re-encoded with
// uriEncode, and sorted by name and then by value; a parameter without '='
// gets an empty value.
func canonicalQuery(rawQuery string) (string, *Error) {
	if rawQuery == "" {
		return "", nil
	}
	type param struct{ key, value string }
	var params []param
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", incomplete(ReasonMalformedRequest, "The query string has an invalid percent-encoding.")
		}
		params = append(params, param{uriEncodeString(dk), uriEncodeString(dv)})
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String(), nil
}

// writeHeaderValue writes v with leading and trailing white space removed
// and each inner run of spaces collapsed to one space.
func writeHeaderValue(b *strings.Builder, v string) {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
}

// uriEncode writes s with every byte except the unreserved characters
// A-Z a-z 0-9 - . _ ~ written as %XY with upper-case hex digits, as AWS's
// UriEncode defines it (space is %20, never '+').
func uriEncode(b *strings.Builder, s string) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
}

// uriEncodeString is uriEncode into a new string.
func uriEncodeString(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	uriEncode(&b, s)
	return b.String()
}
