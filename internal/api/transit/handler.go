package transit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/arcakms/arca/internal/kms"
)

// DefaultMount is the mount served when Options.Mounts is empty: the path
// Vault gives its transit engine unless told otherwise.
const DefaultMount = "transit"

// ApprovalHeader carries the id of an approved request under dual control
// that a request executes, as on the REST API.
const ApprovalHeader = "Arca-Approval"

// Options configures the transit handler.
type Options struct {
	// Mounts are the engine paths served, each as /v1/<mount>/...; a mount
	// may have several segments ("team-a/transit"). Defaults to
	// [DefaultMount]. Tools name the mount in their key URLs (SOPS:
	// http://host/v1/<mount>/keys/<key>), so an operator can serve the one
	// their tools already use.
	Mounts []string
	// Logger receives operational logs (internal errors, with the request
	// id). Defaults to slog.Default().
	Logger *slog.Logger
}

// Handler serves the Vault-transit-compatible API. It is safe for
// concurrent use.
type Handler struct {
	svc    *kms.Service
	log    *slog.Logger
	mounts []string
	routes []route
}

// ValidateMount reports whether m can be served as a mount: one or more
// path segments of letters, digits and "._-", without leading or trailing
// slashes. Configuration checks mounts with it before New.
func ValidateMount(m string) error {
	if m == "" {
		return errors.New("transit: empty mount")
	}
	for seg := range strings.SplitSeq(m, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.Trim(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return fmt.Errorf("transit: mount %q must be path segments of [A-Za-z0-9._-] separated by single slashes", m)
		}
	}
	if m == "sys" || strings.HasPrefix(m, "sys/") {
		return fmt.Errorf("transit: mount %q would shadow the sys/ paths", m)
	}
	return nil
}

// New returns the transit handler over svc. It panics if a mount fails
// ValidateMount or is given twice: mounts come from checked configuration,
// so a bad one is a programming error.
func New(svc *kms.Service, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	mounts := opts.Mounts
	if len(mounts) == 0 {
		mounts = []string{DefaultMount}
	}
	h := &Handler{svc: svc, log: opts.Logger}
	for _, m := range mounts {
		if err := ValidateMount(m); err != nil {
			panic(err)
		}
		if slices.Contains(h.mounts, m) {
			panic(fmt.Sprintf("transit: mount %q given twice", m))
		}
		h.mounts = append(h.mounts, m)
	}
	// Longest mount first, so that "a/b" wins over "a" for /v1/a/b/...
	slices.SortFunc(h.mounts, func(a, b string) int { return len(b) - len(a) })
	h.routes = h.routeTable()
	return h
}

// ServeHTTP implements http.Handler for paths /v1/<mount>/...
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := kms.NewRequest("transit", r.RemoteAddr, time.Now())
	req.ApprovalID = r.Header.Get(ApprovalHeader)
	w.Header().Set("X-Request-Id", req.ID)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	ctx := kms.WithRequest(r.Context(), req)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving transit request", "request_id", req.ID, "panic", p)
			h.writeError(w, req, h.svc.Reject(ctx, kms.OpInvalidRequest, kms.Errorf(kms.CodeInternal, "internal error")))
		}
	}()
	rt, params, status := h.match(r.Method, r.URL.Path)
	switch status {
	case http.StatusNotFound:
		h.writeError(w, req, h.svc.Reject(ctx, kms.OpUnknownRoute, kms.Errorf(kms.CodeNotFound, "unsupported path")))
		return
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", strings.Join(rt.methods, ", "))
		h.writeError(w, req, h.svc.Reject(ctx, rt.op, kms.Errorf(kms.CodeMethodNotAllowed, "unsupported operation")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody)
	id, err := h.authenticate(ctx, r)
	if err != nil {
		h.writeError(w, req, h.svc.Reject(ctx, rt.op, err))
		return
	}
	req.Identity = id
	if err := refuseVaultFeatures(r.Header); err != nil {
		h.writeError(w, req, h.svc.Reject(ctx, rt.op, err))
		return
	}
	c := &call{r: r, header: w.Header(), name: params.name, arg: params.arg, sub: params.sub}
	if err := c.readQuery(rt.query); err != nil {
		h.writeError(w, req, h.svc.Reject(ctx, rt.op, err))
		return
	}
	if err := c.readBody(); err != nil {
		h.writeError(w, req, h.svc.Reject(ctx, rt.op, err))
		return
	}
	out, err := rt.handle(ctx, c)
	if err != nil {
		if isRequestError(err) {
			err = h.svc.Reject(ctx, rt.op, err)
		}
		h.writeError(w, req, err)
		return
	}
	if out.wipe != nil {
		defer out.wipe()
	}
	status = out.status
	if status == 0 {
		status = http.StatusOK
	}
	if out.raw != nil {
		h.writeJSON(w, status, out.raw)
		return
	}
	h.writeJSON(w, status, envelope{RequestID: req.ID, Data: out.data, Warnings: out.warnings, MountType: "transit"})
}

// pathParams are the variable parts of a matched path.
type pathParams struct {
	// name is the key name; arg is the optional trailing algorithm or
	// byte count; sub is the random source of random/<source>/<bytes>.
	name, arg, sub string
}

// match finds the route for a method and path. It returns 404 for a path
// no route serves (including non-canonical paths and paths outside the
// mounts), 405 when the route exists but not for this method.
func (h *Handler) match(method, p string) (*route, pathParams, int) {
	if p == "" || path.Clean(p) != p {
		return nil, pathParams{}, http.StatusNotFound
	}
	rest, ok := strings.CutPrefix(p, "/v1/")
	if !ok {
		return nil, pathParams{}, http.StatusNotFound
	}
	for _, m := range h.mounts {
		sub, ok := strings.CutPrefix(rest, m+"/")
		if !ok {
			continue
		}
		segs := strings.Split(sub, "/")
		var found *route
		var allowed []string
		for i := range h.routes {
			rt := &h.routes[i]
			params, ok := rt.matches(segs)
			if !ok || (found != nil && rt.pattern != found.pattern) {
				continue
			}
			if slices.Contains(rt.methods, method) {
				return rt, params, http.StatusOK
			}
			if found == nil {
				found = rt
			}
			allowed = append(allowed, rt.methods...)
		}
		if found == nil {
			return nil, pathParams{}, http.StatusNotFound
		}
		// The path exists, not for this method: found names the
		// operation in the audit record, with every method allowed.
		return &route{pattern: found.pattern, op: found.op, methods: allowed}, pathParams{}, http.StatusMethodNotAllowed
	}
	return nil, pathParams{}, http.StatusNotFound
}

// authenticate reads the token from X-Vault-Token, as Vault clients send
// it, or else from "Authorization: Bearer"; without either, a client
// certificate verified by the TLS layer authenticates the identity bound
// to its public key, as on the REST API.
func (h *Handler) authenticate(ctx context.Context, r *http.Request) (*kms.Identity, error) {
	token := r.Header.Get("X-Vault-Token")
	if token == "" {
		if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			token = t
		}
	}
	if token == "" && r.Header.Get("Authorization") == "" && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return h.svc.AuthenticateCertificate(ctx, r.TLS.VerifiedChains[0][0])
	}
	if token == "" {
		// The service reports sealed or uninitialised before anything else.
		if _, err := h.svc.Authenticate(ctx, ""); kms.CodeOf(err) != kms.CodeUnauthorized {
			return nil, err
		}
		return nil, kms.Errorf(kms.CodeUnauthorized, "missing token")
	}
	return h.svc.Authenticate(ctx, token)
}

// refuseVaultFeatures refuses the request headers of Vault features Arca
// does not have, rather than ignoring them: a namespace would silently
// become Arca's single key space, and a response that was asked to be
// wrapped would come back in clear.
func refuseVaultFeatures(hd http.Header) error {
	if hd.Get("X-Vault-Namespace") != "" {
		return reject(kms.CodeInvalidArgument, "namespaces are not supported: unset VAULT_NAMESPACE (X-Vault-Namespace)")
	}
	if hd.Get("X-Vault-Wrap-TTL") != "" {
		return reject(kms.CodeInvalidArgument, "response wrapping is not supported: unset VAULT_WRAP_TTL (X-Vault-Wrap-TTL)")
	}
	return nil
}

// envelope is Vault's response shape; only data and warnings carry
// anything here, the lease and wrapping fields are always empty.
type envelope struct {
	RequestID     string   `json:"request_id"`
	LeaseID       string   `json:"lease_id"`
	Renewable     bool     `json:"renewable"`
	LeaseDuration int      `json:"lease_duration"`
	Data          any      `json:"data"`
	WrapInfo      any      `json:"wrap_info"`
	Warnings      []string `json:"warnings"`
	Auth          any      `json:"auth"`
	MountType     string   `json:"mount_type"`
}

// encodeOptions write nil slices and maps as null, as Vault does.
var encodeOptions = json.JoinOptions(json.FormatNilSliceAsNull(true), json.FormatNilMapAsNull(true))

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v, encodeOptions)
	if err != nil {
		h.log.Error("encode transit response", "error", err)
		status, body = http.StatusInternalServerError, []byte(`{"errors":["internal error"]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func (h *Handler) writeError(w http.ResponseWriter, req *kms.Request, err error) {
	e := kms.AsError(err)
	if e.Code == kms.CodeInternal || e.Code == kms.CodeRecordTampered {
		h.log.Error("internal error", "request_id", req.ID, "error", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	h.writeJSON(w, httpStatus(e.Code), errorBody{Errors: []string{errorMessage(e, req.ID)}})
}

// readAll reads a bounded body.
func readAll(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, reject(kms.CodePayloadTooLarge, "request body exceeds %d bytes", tooLarge.Limit)
		}
		return nil, reject(kms.CodeInvalidJSON, "could not read the request body")
	}
	return body, nil
}
