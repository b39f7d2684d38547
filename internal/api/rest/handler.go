package rest

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/policy"
)

// Options configures the REST handler.
type Options struct {
	// Logger receives operational logs. Defaults to slog.Default().
	Logger *slog.Logger
	// LoadPolicy re-reads the crypto policy for POST /v1/policy/reload;
	// nil reloads the permissive default.
	LoadPolicy func() (*policy.Policy, error)
}

// Handler serves the REST API.
type Handler struct {
	svc  *kms.Service
	log  *slog.Logger
	mux  *http.ServeMux
	opts Options
}

// New returns the REST API handler over svc.
func New(svc *kms.Service, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{svc: svc, log: opts.Logger, mux: http.NewServeMux(), opts: opts}
	byPattern := map[string][]route{}
	var patterns []string
	for _, rt := range h.routes() {
		if _, ok := byPattern[rt.path]; !ok {
			patterns = append(patterns, rt.path)
		}
		byPattern[rt.path] = append(byPattern[rt.path], rt)
	}
	for _, p := range patterns {
		h.mux.Handle(p, h.dispatch(byPattern[p]))
	}
	h.mux.Handle("/", h.dispatch(nil))
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := kms.NewRequest("rest", r.RemoteAddr, time.Now())
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
			h.log.Error("panic serving request", "request_id", req.ID, "panic", p)
			h.writeError(w, req, h.svc.Reject(ctx, kms.OpInvalidRequest, kms.Errorf(kms.CodeInternal, "internal error")))
		}
	}()
	if p := r.URL.Path; p == "" || path.Clean(p) != p {
		// ServeMux would answer a non-canonical path with a redirect;
		// API clients get a plain, audited 404 instead.
		h.writeError(w, req, h.svc.Reject(ctx, kms.OpUnknownRoute, kms.Errorf(kms.CodeNotFound, "no such endpoint")))
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(ctx))
}

// dispatch serves one path pattern: it picks the route for the method,
// bounds the body, authenticates, and runs the handler.
func (h *Handler) dispatch(routes []route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		req := kms.RequestFrom(ctx)
		i := slices.IndexFunc(routes, func(rt route) bool { return rt.method == r.Method })
		if i < 0 {
			code, op := kms.CodeNotFound, kms.OpUnknownRoute
			msg := "no such endpoint"
			if len(routes) > 0 {
				code, op, msg = kms.CodeMethodNotAllowed, routes[0].op, "method not allowed"
				w.Header().Set("Allow", allowed(routes))
			}
			h.writeError(w, req, h.svc.Reject(ctx, op, kms.Errorf(code, "%s", msg)))
			return
		}
		rt := routes[i]
		r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody)
		if rt.auth {
			id, err := h.authenticate(ctx, r)
			if err != nil {
				h.writeError(w, req, h.svc.Reject(ctx, rt.op, err))
				return
			}
			req.Identity = id
		}
		if r.Method != http.MethodGet && r.URL.RawQuery != "" {
			h.writeError(w, req, h.svc.Reject(ctx, rt.op, kms.Errorf(kms.CodeInvalidArgument, "this endpoint takes no query parameters")))
			return
		}
		status, resp, err := rt.handle(ctx, r)
		if err != nil {
			if isRequestError(err) {
				err = h.svc.Reject(ctx, rt.op, err)
			}
			h.writeError(w, req, err)
			return
		}
		if st, ok := resp.(streamer); ok {
			st.stream(w, status)
			return
		}
		h.writeJSON(w, status, resp)
		if wp, ok := resp.(wiper); ok {
			wp.wipe()
		}
	})
}

// streamer is implemented by responses that are not JSON (a backup file).
type streamer interface {
	stream(w http.ResponseWriter, status int)
}

// wiper is implemented by responses that carry plaintext or data keys; the
// dispatcher wipes them once the response has been written.
type wiper interface{ wipe() }

func allowed(routes []route) string {
	var m []string
	for _, rt := range routes {
		m = append(m, rt.method)
	}
	return strings.Join(m, ", ")
}

// authenticate reads "Authorization: Bearer <token>"; without one, a
// client certificate verified by the TLS layer authenticates the identity
// bound to its public key.
func (h *Handler) authenticate(ctx context.Context, r *http.Request) (*kms.Identity, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if r.Header.Get("Authorization") == "" && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return h.svc.AuthenticateCertificate(ctx, r.TLS.VerifiedChains[0][0])
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		// The service reports sealed/uninitialised before anything else.
		if _, err := h.svc.Authenticate(ctx, ""); kms.CodeOf(err) != kms.CodeUnauthorized {
			return nil, err
		}
		return nil, kms.Errorf(kms.CodeUnauthorized, "missing bearer token")
	}
	return h.svc.Authenticate(ctx, token)
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		h.log.Error("encode response", "error", err)
		status, body = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func (h *Handler) writeError(w http.ResponseWriter, req *kms.Request, err error) {
	e := kms.AsError(err)
	if e.Code == kms.CodeInternal {
		h.log.Error("internal error", "request_id", req.ID, "error", err)
		e = &kms.Error{Code: kms.CodeInternal, Message: "internal error; see the server log for request " + req.ID}
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter/time.Second)))
	}
	h.writeJSON(w, httpStatus(e.Code), errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, ApprovalID: e.ApprovalID}})
}

// ApprovalHeader carries the id of an approved request under dual control
// that a request executes.
const ApprovalHeader = "Arca-Approval"
