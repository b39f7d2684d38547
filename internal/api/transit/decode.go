package transit

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/policy"
)

// call is one authenticated request being served: its path parameters,
// its query and its body, read once.
type call struct {
	r *http.Request
	// header is the response's, for headers an error needs (Allow).
	header http.Header
	// name is the key; arg the trailing algorithm or byte count (or a
	// random source); sub the random source of random/<source>/<bytes>.
	name, arg, sub string
	// list is ?list=true.
	list bool
	body []byte
}

// readQuery accepts only the query parameters a route takes.
func (c *call) readQuery(allowed []string) error {
	if c.r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		return reject(kms.CodeInvalidArgument, "malformed query string")
	}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return reject(kms.CodeInvalidArgument, "unknown query parameter %q", truncate(k, 64))
		}
		if len(v) != 1 {
			return reject(kms.CodeInvalidArgument, "query parameter %q given more than once", k)
		}
	}
	if s := q.Get("list"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return reject(kms.CodeInvalidArgument, "list must be true or false")
		}
		c.list = b
	}
	return nil
}

// readBody reads the body, already bounded by the route's limit.
func (c *call) readBody() error {
	b, err := readAll(c.r.Body)
	if err != nil {
		return err
	}
	c.body = b
	return nil
}

// decodeOptions make decoding strict: unknown members and duplicate names
// are errors (duplicates are rejected by default).
var decodeOptions = json.JoinOptions(json.RejectUnknownMembers(true))

// decode reads the body into v strictly. An empty body is {}, and so is
// null, which the Vault client sends for a write without data ("vault
// write -f"). Vault clients send JSON without a Content-Type, so none is
// required; a token header is, which no browser form can send across
// origins.
func (c *call) decode(v any) error {
	trimmed := bytes.Trim(c.body, " \t\r\n")
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	// Syntax first, so that malformed JSON is always invalid_json whatever
	// member the decoder would have met first.
	if !jsontext.Value(c.body).IsValid() {
		return reject(kms.CodeInvalidJSON, "request body is not valid JSON (syntax, duplicate member names or invalid UTF-8)")
	}
	if trimmed[0] != '{' {
		return reject(kms.CodeInvalidJSON, "request body must be a JSON object")
	}
	if err := json.Unmarshal(c.body, v, decodeOptions); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError turns a JSON error into a stable code and a message that
// names the offending field but never echoes values.
func decodeError(err error) error {
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
	case sem != nil && sem.GoType == reflect.TypeFor[[]byte]() && sem.JSONKind == '"':
		// Binary fields are standard, padded base64, as Vault clients
		// encode them.
		return reject(kms.CodeInvalidBase64, "invalid base64%s", field)
	case sem != nil:
		return reject(kms.CodeInvalidJSON, "wrong JSON type or value%s", field)
	default:
		return reject(kms.CodeInvalidJSON, "request body is not valid JSON")
	}
}

// errLoose is the cause of a failed loose value; decodeError names the field.
var errLoose = errors.New("invalid value")

// unquote returns the content of a JSON string, or the raw token (a
// number, a literal) as text.
func unquote(b []byte) string {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "\x00" // matches no valid value
		}
		return s
	}
	return string(b)
}

// flexInt is an integer that Vault clients send as a JSON number or as a
// string of digits (the vault CLI sends every key=value as a string).
// null and "" leave it unset.
type flexInt struct {
	n   int64
	set bool
}

// UnmarshalJSON accepts 256, "256", "" and null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := unquote(b)
	if s == "null" {
		s = ""
	}
	return f.parse(s)
}

// parse reads a decimal integer; "" leaves it unset.
func (f *flexInt) parse(s string) error {
	if s == "" {
		*f = flexInt{}
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errLoose
	}
	*f = flexInt{n: n, set: true}
	return nil
}

// uint32In returns the value if it lies in [lo, hi], else an error naming
// the field.
func (f flexInt) uint32In(field string, lo, hi int64) (uint32, error) {
	if !f.set {
		return 0, nil
	}
	if f.n < lo || f.n > hi || f.n > math.MaxUint32 {
		return 0, reject(kms.CodeInvalidArgument, "%s must be between %d and %d", field, lo, hi)
	}
	return uint32(f.n), nil
}

// flexBool is a boolean sent as true/false or as a string strconv.ParseBool
// reads ("true", "1", "f", ...), as Vault accepts.
type flexBool bool

// UnmarshalJSON accepts true, "true", "1", "" (false) and null.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := unquote(b)
	if s == "null" || s == "" {
		*f = false
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errLoose
	}
	*f = flexBool(v)
	return nil
}

// flexDuration is a period sent as a number of seconds, a string of
// digits (seconds), or a duration string: Go's ("36h") or Arca's whole
// days, weeks or years ("90d"). "0" means none.
type flexDuration struct {
	d   time.Duration
	set bool
}

// UnmarshalJSON accepts 3600, "3600", "1h", "90d", "" and null.
func (f *flexDuration) UnmarshalJSON(b []byte) error {
	s := unquote(b)
	s = strings.TrimSpace(s)
	if s == "null" || s == "" {
		*f = flexDuration{}
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return errLoose
		}
		*f = flexDuration{d: time.Duration(n) * time.Second, set: true}
		return nil
	}
	if strings.HasSuffix(s, "s") {
		if n, err := strconv.ParseInt(strings.TrimSuffix(s, "s"), 10, 64); err == nil && n >= 0 && n <= math.MaxInt64/int64(time.Second) {
			*f = flexDuration{d: time.Duration(n) * time.Second, set: true}
			return nil
		}
	}
	d, err := policy.ParseDuration(s)
	if err != nil {
		return errLoose
	}
	*f = flexDuration{d: d, set: true}
	return nil
}

// unsupportedIf refuses a Vault field Arca does not implement when the
// caller sets it, rather than silently ignoring it.
func unsupportedIf(set bool, field, why string) error {
	if set {
		return reject(kms.CodeInvalidArgument, "%s is not supported: %s", field, why)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
