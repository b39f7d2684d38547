package transit

import (
	"context"
	"net/http"
	"strings"

	"github.com/arcakms/arca/internal/kms"
)

// MethodList is Vault's LIST verb; Vault clients also send it as
// GET with ?list=true.
const MethodList = "LIST"

// Body limits. Vault's write paths take one item or a batch of up to
// kms.MaxBatchItems items, each bounded by the service.
const (
	smallBody = 64 << 10 // key management and random
	opBody    = 8 << 20  // cryptographic operations, which may be batches
)

var writeMethods = []string{http.MethodPost, http.MethodPut}

// route declares one endpoint under a mount.
type route struct {
	// pattern is the path after /v1/<mount>/: literal segments and the
	// wildcards {name} (a key), {arg} (an algorithm or a byte count) and
	// {sub} (the random source of random/<source>/<bytes>).
	pattern string
	methods []string
	// op names the operation in audit records of requests refused before
	// the service runs.
	op      string
	maxBody int64
	// query lists the query parameters the route takes.
	query  []string
	handle func(ctx context.Context, c *call) (*reply, error)
}

// reply is a handler's result: Vault's data object, optional warnings, and
// what to wipe once the response is written (plaintext, data keys).
type reply struct {
	status int
	data   any
	// raw, when set, is written instead of Vault's envelope (an empty
	// list's {"errors":[]}).
	raw      any
	warnings []string
	wipe     func()
}

// Route describes an endpoint for listing (documentation and tests).
type Route struct {
	// Methods are the HTTP methods served; Pattern is the path after
	// /v1/<mount>/.
	Methods []string
	Pattern string
	// MaxBody bounds the request body, in bytes.
	MaxBody int64
}

// Routes lists every endpoint served under each mount, so that the set of
// paths is pinned by a test and can be documented.
func (h *Handler) Routes() []Route {
	out := make([]Route, 0, len(h.routes))
	for _, rt := range h.routes {
		out = append(out, Route{Methods: rt.methods, Pattern: rt.pattern, MaxBody: rt.maxBody})
	}
	return out
}

// Mounts returns the mounts served, longest first.
func (h *Handler) Mounts() []string { return append([]string(nil), h.mounts...) }

func (h *Handler) routeTable() []route {
	w := writeMethods
	return []route{
		{"keys", []string{MethodList, http.MethodGet}, kms.OpKeyList, smallBody, []string{"list"}, h.listKeys},
		{"keys/{name}", []string{http.MethodGet}, kms.OpKeyGet, smallBody, nil, h.readKey},
		{"keys/{name}", w, kms.OpKeyCreate, smallBody, nil, h.createKey},
		{"keys/{name}", []string{http.MethodDelete}, kms.OpKeyLifecycle, smallBody, nil, h.deleteKey},
		{"keys/{name}/rotate", w, kms.OpKeyRotate, smallBody, nil, h.rotateKey},
		{"keys/{name}/config", w, kms.OpKeyUpdate, smallBody, nil, h.configKey},
		{"encrypt/{name}", w, kms.OpEncrypt, opBody, nil, h.encrypt},
		{"decrypt/{name}", w, kms.OpDecrypt, opBody, nil, h.decrypt},
		{"rewrap/{name}", w, kms.OpRewrap, opBody, nil, h.rewrap},
		{"datakey/plaintext/{name}", w, kms.OpDataKey, smallBody, nil, h.dataKey(true)},
		{"datakey/wrapped/{name}", w, kms.OpDataKey, smallBody, nil, h.dataKey(false)},
		{"hmac/{name}", w, kms.OpGenerateMAC, opBody, nil, h.hmac},
		{"hmac/{name}/{arg}", w, kms.OpGenerateMAC, opBody, nil, h.hmac},
		{"sign/{name}", w, kms.OpSign, opBody, nil, h.sign},
		{"sign/{name}/{arg}", w, kms.OpSign, opBody, nil, h.sign},
		{"verify/{name}", w, kms.OpVerify, opBody, nil, h.verify},
		{"verify/{name}/{arg}", w, kms.OpVerify, opBody, nil, h.verify},
		{"random", w, kms.OpRandom, smallBody, nil, h.random},
		{"random/{arg}", w, kms.OpRandom, smallBody, nil, h.random},
		{"random/{sub}/{arg}", w, kms.OpRandom, smallBody, nil, h.random},
	}
}

// matches reports whether the path segments after the mount fit the
// route's pattern, and returns the wildcards' values. Several routes may
// share a pattern with different methods: match picks the first route of
// the pattern whose methods include the request's, see Handler.match.
func (rt *route) matches(segs []string) (pathParams, bool) {
	pat := strings.Split(rt.pattern, "/")
	if len(pat) != len(segs) {
		return pathParams{}, false
	}
	var p pathParams
	for i, s := range pat {
		switch s {
		case "{name}":
			p.name = segs[i]
		case "{arg}":
			p.arg = segs[i]
		case "{sub}":
			p.sub = segs[i]
		default:
			if segs[i] != s {
				return pathParams{}, false
			}
			continue
		}
		if segs[i] == "" {
			return pathParams{}, false
		}
	}
	return p, true
}
