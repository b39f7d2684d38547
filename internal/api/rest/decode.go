package rest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/arcakms/arca/internal/kms"
)

// decodeOptions make decoding strict: unknown members and duplicate names
// are errors (duplicates are rejected by default), as is trailing data.
var decodeOptions = json.JoinOptions(json.RejectUnknownMembers(true))

// decode reads the request body (already bounded by the route's limit) into
// v. An empty body is accepted as {} so that POSTs without parameters need no
// body; a non-empty body must be application/json.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return reject(kms.CodePayloadTooLarge, "request body exceeds %d bytes", tooLarge.Limit)
		}
		return reject(kms.CodeInvalidJSON, "could not read the request body")
	}
	if len(body) == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return reject(kms.CodeUnsupportedMedia, "request body must be sent with Content-Type: application/json")
	}
	// Syntax first, so that malformed JSON is always invalid_json whatever
	// member the decoder would have met first.
	if !jsontext.Value(body).IsValid() {
		return reject(kms.CodeInvalidJSON, "request body is not valid JSON (syntax, duplicate member names or invalid UTF-8)")
	}
	if err := json.Unmarshal(body, v, decodeOptions); err != nil {
		return decodeError(err)
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return reject(kms.CodeInvalidJSON, "request body must be a JSON object")
	}
	return nil
}

// decodeError turns a JSON error into a stable code and a message that
// names the offending field but never echoes values.
func decodeError(err error) error {
	var corrupt base64.CorruptInputError
	var sem *json.SemanticError
	field := ""
	if errors.As(err, &sem) && sem.JSONPointer != "" {
		field = " at " + string(sem.JSONPointer)
	}
	switch {
	case errors.Is(err, json.ErrUnknownName):
		return reject(kms.CodeUnknownField, "unknown field%s", field)
	case errors.Is(err, jsontext.ErrDuplicateName):
		return reject(kms.CodeInvalidJSON, "duplicate field in request body")
	case errors.As(err, &corrupt):
		return reject(kms.CodeInvalidBase64, "invalid base64%s", field)
	case sem != nil:
		return reject(kms.CodeInvalidJSON, "wrong JSON type or value%s", field)
	default:
		return reject(kms.CodeInvalidJSON, "request body is not valid JSON")
	}
}

// query is a strict reader of URL query parameters: any parameter the
// handler did not ask for is an error.
type query struct {
	v    url.Values
	used map[string]bool
	err  error
}

func newQuery(r *http.Request) *query {
	v, err := url.ParseQuery(r.URL.RawQuery)
	q := &query{v: v, used: map[string]bool{}}
	if err != nil {
		q.err = reject(kms.CodeInvalidArgument, "malformed query string")
	}
	return q
}

func (q *query) str(name string) string {
	q.used[name] = true
	vals := q.v[name]
	if len(vals) > 1 && q.err == nil {
		q.err = reject(kms.CodeInvalidArgument, "query parameter %q given more than once", name)
	}
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

func (q *query) all(name string) []string {
	q.used[name] = true
	return q.v[name]
}

func (q *query) int(name string) int {
	s := q.str(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if (err != nil || n < 1) && q.err == nil {
		q.err = reject(kms.CodeInvalidArgument, "query parameter %q must be a positive integer", name)
	}
	return n
}

// done reports the first error, or an unknown parameter.
func (q *query) done() error {
	if q.err != nil {
		return q.err
	}
	for name := range q.v {
		if !q.used[name] {
			return reject(kms.CodeInvalidArgument, "unknown query parameter %q", truncate(name, 64))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
