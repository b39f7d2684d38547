package rest

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arcakms/arca/internal/kms"
)

// These tests keep docs/openapi.yaml from drifting away from the code: the
// documented routes must be exactly those of the route table, with the same
// authentication and body limits, and the documented error codes exactly
// those of statusOf, each under its HTTP status.

const openAPIFile = "../../../docs/openapi.yaml"

// oaMethods are the operation keys of an OpenAPI path item.
var oaMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPI is the parsed document with helpers to follow local $refs.
type openAPI struct {
	root map[string]any
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatalf("read %s: %v", openAPIFile, err)
	}
	var root any
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatalf("parse %s: %v", openAPIFile, err)
	}
	m, ok := asMap(root)
	if !ok {
		t.Fatalf("%s: top level is not a mapping", openAPIFile)
	}
	doc := &openAPI{root: m}
	if v, _ := m["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("%s: openapi version is %q, want 3.1.x", openAPIFile, v)
	}
	return doc
}

// asMap returns v as a string-keyed map (YAML mappings may decode with
// non-string keys, e.g. an unquoted status code).
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out, true
	}
	return nil, false
}

func asList(v any) ([]any, bool) {
	l, ok := v.([]any)
	return l, ok
}

// pointer returns the node at a local reference "#/a/b".
func (d *openAPI) pointer(ref string) (any, error) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not a local reference", ref)
	}
	var cur any = d.root
	for _, tok := range strings.Split(p, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := asMap(cur)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside a mapping", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// resolve follows $ref until it reaches a node without one. Sibling keywords
// of a $ref (allowed in OpenAPI 3.1 schemas) are dropped: callers only use
// resolve for responses, examples and the structural parts of schemas.
func (d *openAPI) resolve(v any) (map[string]any, error) {
	for range 32 {
		m, ok := asMap(v)
		if !ok {
			return nil, fmt.Errorf("expected a mapping, got %T", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var err error
		if v, err = d.pointer(ref); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("$ref chain too long (a cycle?)")
}

// oaOperation is one documented operation.
type oaOperation struct {
	method, path string // "GET", "/v1/keys"
	op           map[string]any
}

func (o oaOperation) String() string { return o.method + " " + o.path }

func (d *openAPI) operations(t *testing.T) []oaOperation {
	t.Helper()
	paths, ok := asMap(d.root["paths"])
	if !ok {
		t.Fatalf("%s: no paths", openAPIFile)
	}
	var out []oaOperation
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item, err := d.resolve(paths[p])
		if err != nil {
			t.Fatalf("%s: path %s: %v", openAPIFile, p, err)
		}
		for _, m := range oaMethods {
			if raw, ok := item[m]; ok {
				op, ok := asMap(raw)
				if !ok {
					t.Fatalf("%s: %s %s is not a mapping", openAPIFile, strings.ToUpper(m), p)
				}
				out = append(out, oaOperation{method: strings.ToUpper(m), path: p, op: op})
			}
		}
	}
	return out
}

// routePath turns a ServeMux pattern path into its OpenAPI form ({name...}
// wildcards become {name}).
func routePath(p string) string {
	return regexp.MustCompile(`\{([A-Za-z0-9_]+)\.\.\.\}`).ReplaceAllString(p, "{$1}")
}

func routeTable(t *testing.T) map[string]Route {
	t.Helper()
	// New does not use the service while building the route table.
	routes := New(nil, Options{}).Routes()
	if len(routes) == 0 {
		t.Fatal("Routes() is empty")
	}
	out := map[string]Route{}
	for _, rt := range routes {
		k := rt.Method + " " + routePath(rt.Path)
		if _, dup := out[k]; dup {
			t.Fatalf("Routes() lists %s twice", k)
		}
		out[k] = rt
	}
	return out
}

// TestOpenAPIRoutes checks that the document describes exactly the routes
// the handler serves, with the same authentication and body limit.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := routeTable(t)
	ops := map[string]oaOperation{}
	for _, o := range doc.operations(t) {
		ops[o.String()] = o
	}

	for _, k := range slices.Sorted(maps.Keys(routes)) {
		if _, ok := ops[k]; !ok {
			t.Errorf("route %s is served (routes.go) but not documented in docs/openapi.yaml", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ops)) {
		if _, ok := routes[k]; !ok {
			t.Errorf("docs/openapi.yaml documents %s, which is not in the route table (routes.go)", k)
		}
	}

	schemes, _ := asMap(mapAt(doc.root, "components", "securitySchemes"))
	for _, k := range slices.Sorted(maps.Keys(routes)) {
		o, ok := ops[k]
		if !ok {
			continue
		}
		rt := routes[k]

		// Authentication: the operation's own security, else the global one.
		sec, explicit := o.op["security"]
		if !explicit {
			sec = doc.root["security"]
		}
		reqs, _ := asList(sec)
		if rt.Auth {
			if err := checkBearer(reqs, schemes); err != nil {
				t.Errorf("%s: routes.go requires a bearer token, but the document's security %s", k, err)
			}
		} else if !explicit || len(reqs) != 0 {
			t.Errorf("%s: routes.go serves it without authentication, but the document does not declare `security: []` on it (effective security: %v)", k, sec)
		}

		// Body limit.
		switch v := o.op["x-max-body-bytes"].(type) {
		case int:
			if int64(v) != rt.MaxBody {
				t.Errorf("%s: x-max-body-bytes is %d, routes.go limits the body to %d bytes", k, v, rt.MaxBody)
			}
		default:
			t.Errorf("%s: x-max-body-bytes is missing or not an integer (routes.go limits the body to %d bytes)", k, rt.MaxBody)
		}
	}
}

// checkBearer reports why reqs does not require a bearer token.
func checkBearer(reqs []any, schemes map[string]any) error {
	if len(reqs) == 0 {
		return fmt.Errorf("is empty (unauthenticated)")
	}
	for _, r := range reqs {
		m, ok := asMap(r)
		if !ok || len(m) == 0 {
			return fmt.Errorf("has an empty requirement {}, which makes authentication optional")
		}
		for name := range m {
			s, ok := asMap(schemes[name])
			if !ok {
				return fmt.Errorf("names security scheme %q, which components.securitySchemes does not define", name)
			}
			typ, _ := s["type"].(string)
			scheme, _ := s["scheme"].(string)
			if typ != "http" || !strings.EqualFold(scheme, "bearer") {
				return fmt.Errorf("uses scheme %q of type %q/%q, not http bearer", name, typ, scheme)
			}
		}
	}
	return nil
}

func mapAt(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := asMap(v)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestOpenAPIErrorCodes checks that the Error schema's code enum is exactly
// the set of codes in statusOf.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	enum, err := errorCodeEnum(doc)
	if err != nil {
		t.Fatalf("docs/openapi.yaml: Error schema: %v", err)
	}
	documented := map[kms.Code]bool{}
	for _, c := range enum {
		s, ok := c.(string)
		if !ok {
			t.Errorf("Error schema code enum has a non-string value %v", c)
			continue
		}
		if documented[kms.Code(s)] {
			t.Errorf("Error schema code enum lists %q twice", s)
		}
		documented[kms.Code(s)] = true
	}
	for _, c := range slices.Sorted(maps.Keys(statusOf)) {
		if !documented[c] {
			t.Errorf("error code %q (HTTP %d) is in statusOf (errors.go) but missing from the Error schema's code enum in docs/openapi.yaml", c, statusOf[c])
		}
	}
	for _, c := range slices.Sorted(maps.Keys(documented)) {
		if _, ok := statusOf[c]; !ok {
			t.Errorf("the Error schema's code enum in docs/openapi.yaml lists %q, which statusOf (errors.go) does not map", c)
		}
	}
}

// errorCodeEnum finds components.schemas.Error → error → code → enum.
func errorCodeEnum(doc *openAPI) ([]any, error) {
	errSchema, err := doc.resolve(mapAt(doc.root, "components", "schemas", "Error"))
	if err != nil {
		return nil, err
	}
	detail, err := doc.resolve(mapAt(errSchema, "properties", "error"))
	if err != nil {
		return nil, fmt.Errorf("properties.error: %v", err)
	}
	code, err := doc.resolve(mapAt(detail, "properties", "code"))
	if err != nil {
		return nil, fmt.Errorf("properties.error.properties.code: %v", err)
	}
	enum, ok := asList(code["enum"])
	if !ok || len(enum) == 0 {
		return nil, fmt.Errorf("properties.error.properties.code has no enum")
	}
	return enum, nil
}

// TestOpenAPIErrorResponses checks every documented response: it carries
// X-Request-Id, and an error response (4xx/5xx) uses the Error schema and
// lists as examples only codes that statusOf maps to its status.
func TestOpenAPIErrorResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, o := range doc.operations(t) {
		responses, ok := asMap(o.op["responses"])
		if !ok || len(responses) == 0 {
			t.Errorf("%s: no responses", o)
			continue
		}
		for _, st := range slices.Sorted(maps.Keys(responses)) {
			status, err := strconv.Atoi(st)
			if err != nil {
				t.Errorf("%s: response %q is not a status code", o, st)
				continue
			}
			checkResponse(t, doc, fmt.Sprintf("%s response %d", o, status), status, responses[st])
		}
	}
	// Shared responses that no operation uses (e.g. NotFound) are checked
	// for consistency: all their codes must share one status.
	comp, _ := asMap(mapAt(doc.root, "components", "responses"))
	for _, name := range slices.Sorted(maps.Keys(comp)) {
		checkResponse(t, doc, "components.responses."+name, 0, comp[name])
	}
	// Any error object in any example names a known code.
	walk(doc.root, "", func(path string, m map[string]any) {
		e, ok := asMap(m["error"])
		if !ok {
			return
		}
		if code, ok := e["code"].(string); ok {
			if _, known := statusOf[kms.Code(code)]; !known {
				t.Errorf("docs/openapi.yaml %s: example uses error code %q, which statusOf (errors.go) does not define", path, code)
			}
		}
	})
}

// checkResponse checks one response; status 0 means "any single status".
func checkResponse(t *testing.T, doc *openAPI, where string, status int, raw any) {
	t.Helper()
	resp, err := doc.resolve(raw)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if _, ok := asMap(mapAt(resp, "headers", "X-Request-Id")); !ok {
		t.Errorf("%s: does not declare the X-Request-Id header", where)
	}
	if _, binary := asMap(mapAt(resp, "content", "application/octet-stream")); binary && status != 0 && status < 400 {
		return // a file (a backup), not JSON; errors are still JSON
	}
	media, ok := asMap(mapAt(resp, "content", "application/json"))
	if !ok {
		t.Errorf("%s: no application/json content", where)
		return
	}
	codes, err := errorExampleCodes(doc, media)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if status != 0 && status < 400 {
		return
	}
	if status >= 400 || len(codes) > 0 {
		if !refersTo(doc, media["schema"], "#/components/schemas/Error", 0) {
			t.Errorf("%s: error response does not use the Error schema", where)
		}
		if len(codes) == 0 {
			t.Errorf("%s: error response lists no error code examples", where)
		}
	}
	for _, c := range codes {
		want, known := statusOf[kms.Code(c)]
		switch {
		case !known:
			t.Errorf("%s: documents error code %q, which statusOf (errors.go) does not define", where, c)
		case status != 0 && want != status:
			t.Errorf("%s: documents error code %q, which errors.go maps to HTTP %d", where, c, want)
		case status == 0 && want != statusOf[kms.Code(codes[0])]:
			t.Errorf("%s: mixes error codes of different statuses: %q (HTTP %d) and %q (HTTP %d)", where, codes[0], statusOf[kms.Code(codes[0])], c, want)
		}
	}
}

// errorExampleCodes returns the error codes of a media type's examples that
// are Error bodies ({"error":{"code":...}}).
func errorExampleCodes(doc *openAPI, media map[string]any) ([]string, error) {
	var values []any
	if v, ok := media["example"]; ok {
		values = append(values, v)
	}
	examples, _ := asMap(media["examples"])
	for _, name := range slices.Sorted(maps.Keys(examples)) {
		ex, err := doc.resolve(examples[name])
		if err != nil {
			return nil, fmt.Errorf("example %q: %v", name, err)
		}
		values = append(values, ex["value"])
	}
	var codes []string
	for _, v := range values {
		if code, ok := mapAt(v, "error", "code").(string); ok {
			codes = append(codes, code)
		}
	}
	return codes, nil
}

// refersTo reports whether schema is, or offers as a oneOf/anyOf/allOf
// alternative, a $ref to target.
func refersTo(doc *openAPI, schema any, target string, depth int) bool {
	m, ok := asMap(schema)
	if !ok || depth > 8 {
		return false
	}
	if ref, ok := m["$ref"].(string); ok {
		if ref == target {
			return true
		}
		next, err := doc.pointer(ref)
		return err == nil && refersTo(doc, next, target, depth+1)
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		alts, _ := asList(m[k])
		for _, a := range alts {
			if refersTo(doc, a, target, depth+1) {
				return true
			}
		}
	}
	return false
}

// walk calls fn for every mapping in v, with its path in the document.
func walk(v any, path string, fn func(path string, m map[string]any)) {
	if m, ok := asMap(v); ok {
		fn(path, m)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			walk(m[k], path+"/"+k, fn)
		}
		return
	}
	if l, ok := asList(v); ok {
		for i, e := range l {
			walk(e, path+"/"+strconv.Itoa(i), fn)
		}
	}
}

// TestOpenAPIRequestBodiesStrict checks that every object schema a request
// body can contain rejects unknown members, as decode does.
func TestOpenAPIRequestBodiesStrict(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, o := range doc.operations(t) {
		rb, ok := o.op["requestBody"]
		if !ok {
			continue
		}
		body, err := doc.resolve(rb)
		if err != nil {
			t.Errorf("%s: requestBody: %v", o, err)
			continue
		}
		media, ok := asMap(mapAt(body, "content", "application/json"))
		if !ok {
			t.Errorf("%s: requestBody has no application/json content", o)
			continue
		}
		checkStrict(t, doc, fmt.Sprintf("%s request body", o), media["schema"], map[string]bool{})
	}
}

func checkStrict(t *testing.T, doc *openAPI, where string, schema any, seen map[string]bool) {
	t.Helper()
	m, ok := asMap(schema)
	if !ok {
		return
	}
	if ref, ok := m["$ref"].(string); ok {
		if seen[ref] {
			return
		}
		seen[ref] = true
		next, err := doc.pointer(ref)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		checkStrict(t, doc, where+" → "+strings.TrimPrefix(ref, "#/components/schemas/"), next, seen)
	}
	if props, ok := asMap(m["properties"]); ok {
		if ap, ok := m["additionalProperties"].(bool); !ok || ap {
			t.Errorf("%s: object schema with properties must set additionalProperties: false (the server rejects unknown members)", where)
		}
		for _, name := range slices.Sorted(maps.Keys(props)) {
			checkStrict(t, doc, where+"."+name, props[name], seen)
		}
	}
	checkStrict(t, doc, where+"[]", m["items"], seen)
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		alts, _ := asList(m[k])
		for _, a := range alts {
			checkStrict(t, doc, where, a, seen)
		}
	}
}
