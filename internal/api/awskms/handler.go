package awskms

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/arcakms/arca/internal/api/awskms/sigv4"
	"github.com/arcakms/arca/internal/kms"
)

// TargetPrefix starts the X-Amz-Target header of every KMS request.
const TargetPrefix = "TrentService."

// contentType is the media type of requests and responses.
const contentType = "application/x-amz-json-1.1"

// DefaultAccount is the account id in ARNs when none is configured: twelve
// digits, as clients that parse ARNs (SOPS) expect.
const DefaultAccount = "000000000000"

// Options configure the handler.
type Options struct {
	// Account is the 12-digit account id of ARNs (DefaultAccount if empty).
	Account string
	// Region, if set, is the only region accepted in credential scopes;
	// otherwise any region is, and ARNs carry the request's.
	Region string
	// MaxBody bounds request bodies (default 1 MiB).
	MaxBody int64
	// MaxSkew bounds the difference between a request's signing time and
	// the server's clock (default 5 minutes).
	MaxSkew time.Duration
	// Now is the clock (time.Now if nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Handler serves the AWS KMS JSON API.
type Handler struct {
	svc      *kms.Service
	opts     Options
	verifier *sigv4.Verifier
	ops      map[string]operation
}

// operation is one TrentService operation: the service operation it is
// audited as when the adapter refuses it, and what it runs.
type operation struct {
	op  string
	run func(c *call, body []byte) (any, error)
}

// call is one authenticated request.
type call struct {
	h      *Handler
	ctx    context.Context
	region string
}

// New returns the handler.
func New(svc *kms.Service, opts Options) *Handler {
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, opts: opts,
		verifier: &sigv4.Verifier{Service: "kms", Region: opts.Region, MaxSkew: opts.MaxSkew, Now: opts.Now}}
	h.ops = operations()
	return h
}

// IsRequest reports whether r is for this API (it carries a TrentService
// target), so that a server can route it here.
func IsRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := kms.NewRequest("aws-kms", r.RemoteAddr, h.opts.Now())
	ctx := kms.WithRequest(r.Context(), req)
	w.Header().Set("X-Amzn-Requestid", req.ID)
	w.Header().Set("Cache-Control", "no-store")
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.opts.Logger.Error("panic serving request", "request_id", req.ID, "panic", p)
			h.writeError(w, h.svc.Reject(ctx, kms.OpInvalidRequest, kms.Errorf(kms.CodeInternal, "internal error")))
		}
	}()
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	o, ok := h.ops[name]
	if !ok || r.Method != http.MethodPost || r.URL.Path != "/" {
		h.refuse(ctx, w, kms.OpUnknownRoute, unsupported("unknown operation "+truncate(name, 64)))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		h.refuse(ctx, w, o.op, &apiError{Type: "SerializationException", Message: "Content-Type must be " + contentType, Status: http.StatusBadRequest})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		h.refuse(ctx, w, o.op, validation("the request body could not be read or is too large"))
		return
	}
	c, err := h.authenticate(ctx, r, body)
	if err != nil {
		h.refuse(ctx, w, o.op, err)
		return
	}
	req.Identity = kms.RequestFrom(c.ctx).Identity
	res, err := o.run(c, body)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && !ae.result {
			h.refuse(ctx, w, o.op, ae) // refused here, before the service: audit it
			return
		}
		h.writeError(w, err) // the service audited it
		return
	}
	h.writeJSON(w, http.StatusOK, res)
	if wp, ok := res.(interface{ wipe() }); ok {
		wp.wipe()
	}
}

// authenticate verifies the request's signature with its access key and
// attaches the key's identity to the request.
func (h *Handler) authenticate(ctx context.Context, r *http.Request, body []byte) (*call, error) {
	p, err := h.verifier.Prepare(r, body)
	if err != nil {
		return nil, err
	}
	id, err := h.svc.AuthenticateAccessKey(ctx, p.AccessKeyID(), p.Check)
	if err != nil {
		var se *sigv4.Error
		switch {
		case errors.As(err, &se):
			return nil, err
		case errors.Is(err, kms.ErrUnknownAccessKey):
			return nil, &apiError{Type: "UnrecognizedClientException", Message: "The security token included in the request is invalid.", Status: http.StatusBadRequest}
		}
		return nil, err
	}
	kms.RequestFrom(ctx).Identity = id
	return &call{h: h, ctx: ctx, region: p.Result().Region}, nil
}

// refuse audits a request refused by the adapter (or by authentication)
// and answers it.
func (h *Handler) refuse(ctx context.Context, w http.ResponseWriter, op string, err error) {
	ae := toAPIError(err)
	code := kms.CodeOf(err)
	var ke *kms.Error
	if !errors.As(err, &ke) {
		code = serviceCode(ae)
	}
	if rerr := h.svc.Reject(ctx, op, kms.Errorf(code, "%s", ae.Message)); kms.CodeOf(rerr) == kms.CodeAuditUnavailable {
		h.writeError(w, rerr)
		return
	}
	h.writeAPIError(w, ae)
}

func (h *Handler) writeError(w http.ResponseWriter, err error) { h.writeAPIError(w, toAPIError(err)) }

func (h *Handler) writeAPIError(w http.ResponseWriter, e *apiError) {
	h.writeJSON(w, e.Status, map[string]string{"__type": e.Type, "message": e.Message})
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		h.opts.Logger.Error("encode response", "error", err)
		status, b = http.StatusInternalServerError, []byte(`{"__type":"KMSInternalException","message":"internal error"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decode reads an operation's JSON request into v. Members the adapter
// does not model are ignored, as AWS does; malformed JSON or a member of
// the wrong type is a SerializationException.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !jsontext.Value(body).IsValid() {
		return &apiError{Type: "SerializationException", Message: "the request body is not valid JSON", Status: http.StatusBadRequest}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{Type: "SerializationException", Message: "the request body does not match the operation's input", Status: http.StatusBadRequest}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
