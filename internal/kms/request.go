package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"time"

	"github.com/arcakms/arca/internal/access"
)

// Identity is an authenticated caller.
type Identity struct {
	// ID is a stable, non-secret identifier (the identity's id, or the
	// root token's accessor); audit records name it.
	ID string
	// Name is a human-readable name.
	Name string
	// Method is how the identity authenticated, e.g. "token".
	Method string
	// Credential names the credential used (a token accessor), for audit.
	Credential string
	// Root marks the initial root token, which may do everything.
	Root bool
	// IdentityID and IdentityName name the identity a token belongs to
	// (empty for the root token).
	IdentityID, IdentityName string
	// Policies are the identity's effective access policies: its roles'
	// and its attached policies, read when it authenticated.
	Policies []access.Policy
	// MFAAt is when the identity last proved a second factor (zero: not in
	// this session).
	MFAAt time.Time
	// DuringOutage marks an identity authenticated from memory while
	// storage was unreachable (see Options.OutageGrace): it may only use
	// cached keys for cryptography.
	DuringOutage bool
}

// Request describes one incoming request for authorisation and audit. The
// adapter creates it when the request arrives and attaches it to the context.
type Request struct {
	// ID is unique per request and returned to the caller.
	ID string
	// Interface names the adapter, e.g. "rest".
	Interface string
	// Source is the client's network address.
	Source string
	// Received is when the request arrived.
	Received time.Time
	// Identity is set once the caller has authenticated.
	Identity *Identity
	// ApprovalID names the approved request under dual control that this
	// request executes, if any.
	ApprovalID string
}

// NewRequest starts the Request of one call through an adapter named
// iface: a fresh random id, the client's address (its host, if addr is
// host:port) and the time it was received.
func NewRequest(iface, addr string, received time.Time) *Request {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return &Request{ID: newRequestID(), Interface: iface, Source: addr, Received: received}
}

// newRequestID returns 96 random bits in hex.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type requestKey struct{}

// WithRequest attaches r to ctx.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the Request attached to ctx, or an empty one.
func RequestFrom(ctx context.Context) *Request {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return r
	}
	return &Request{}
}
