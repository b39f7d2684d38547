package kms

import (
	"context"
	"errors"
	"fmt"
	"github.com/arcakms/arca/internal/access"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/policy"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Options configures a Service.
type Options struct {
	// Store is the storage backend. Required.
	Store storage.Store
	// Audit receives one record per request. Required: a service without an
	// audit log does not run.
	Audit audit.Log
	// Logger receives operational logs (never secrets). Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock; tests inject a fake one. Defaults to time.Now.
	Now func() time.Time
	// Version is the server version recorded in key provenance.
	Version string
	// MaxCachedKeys bounds the in-memory key cache (default 100000).
	MaxCachedKeys int
	// Policy is the crypto policy in force; nil means policy.Default().
	Policy *policy.Policy
	// SoD are the separation-of-duties rules among roles; nil means
	// access.DefaultSoD.
	SoD []access.SoDRule
	// Approvals puts actions under dual control (see ApprovalRule); none
	// by default.
	Approvals map[access.Action]ApprovalRule
	// RateLimit bounds each identity's request rate; none by default.
	RateLimit RateLimit
	// Node names this server in audit records; the host name by default.
	Node string
	// Role reports the node's role in a cluster (RoleLeader or
	// RoleFollower) for its health; nil means RoleStandalone.
	Role func() string
	// OutageGrace lets cryptography with cached keys continue this long
	// into a storage outage, for credentials authenticated shortly before
	// it (see outageGrace); zero, the default, serves nothing without
	// storage.
	OutageGrace time.Duration
	// HSM, if set, is the token of the PKCS#11 seal, and HSMKeyLabel the
	// label of its seal key (default DefaultHSMKeyLabel).
	HSM         HSM
	HSMKeyLabel string
}

// Service implements every Arca operation. It is safe for concurrent use.
type Service struct {
	store         storage.Store
	audit         audit.Log
	log           *slog.Logger
	now           func() time.Time
	serverVersion string

	sealConfig atomic.Pointer[seal.Config]
	keyring    atomic.Pointer[seal.Keyring]
	// rewrapped is the keyring generation every stored blob was last
	// found sealed under (0: not checked since start).
	rewrapped atomic.Uint32
	// rotateKeyringMu serialises this node's keyring rotations.
	rotateKeyringMu sync.Mutex
	unsealer        seal.Unsealer
	// rootGen collects the shares of a break-glass root token generation.
	rootGen seal.Unsealer

	keys *keyCache
	// usage holds this node's usage trackers (*usage) by version key.
	usage     sync.Map
	policy    atomic.Pointer[policy.Policy]
	sod       []access.SoDRule
	approvals map[access.Action]ApprovalRule
	limits    *limiters
	node      string
	role      func() string
	grace     *outageGrace
	hsm       HSM
	hsmLabel  string
	// sealErr says why a PKCS#11 seal did not open (empty: it did, or the
	// seal is Shamir), for the seal status.
	sealErr atomic.Value
}

// New creates a Service over an opened store. It loads the seal
// configuration, if any; the service always starts sealed.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil || opts.Audit == nil {
		return nil, errors.New("kms: store and audit log are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxCachedKeys <= 0 {
		opts.MaxCachedKeys = 100_000
	}
	s := &Service{
		store: opts.Store, audit: opts.Audit, log: opts.Logger, now: opts.Now, serverVersion: opts.Version,
		keys: newKeyCache(opts.MaxCachedKeys), sod: opts.SoD, approvals: opts.Approvals, limits: newLimiters(opts.RateLimit), node: opts.Node, role: opts.Role,
		grace: newOutageGrace(opts.OutageGrace), hsm: opts.HSM, hsmLabel: opts.HSMKeyLabel,
	}
	if s.hsmLabel == "" {
		s.hsmLabel = DefaultHSMKeyLabel
	}
	if err := ValidateApprovalRules(opts.Approvals); err != nil {
		return nil, err
	}
	if s.sod == nil {
		s.sod = access.DefaultSoD
	}
	if s.node == "" {
		s.node, _ = os.Hostname()
	}
	if opts.Policy != nil {
		s.policy.Store(opts.Policy)
	}
	cfg, err := s.loadSealConfig(ctx)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		s.sealConfig.Store(cfg)
	}
	return s, nil
}

// unsealed returns the keyring, acquired for use (the caller must Release
// it), or the error that explains why there is none.
func (s *Service) unsealed() (*seal.Keyring, error) {
	if kr := s.keyring.Load(); kr != nil && kr.Acquire() {
		return kr, nil
	}
	if s.sealConfig.Load() == nil {
		return nil, errNotInitialized
	}
	return nil, errSealed
}

// identity returns the authenticated caller, or errUnauthorized: a request
// that reached an operation without an identity is refused (fail closed).
func identity(ctx context.Context) (*Identity, error) {
	id := RequestFrom(ctx).Identity
	if id == nil {
		return nil, errUnauthorized
	}
	return id, nil
}

// begin is the common prologue of an operation: the server must be
// unsealed and the caller authenticated. Each operation then authorises
// its action on its resource (authorize), once it knows the resource. On
// success the keyring is acquired: the operation must defer kr.Release(),
// so that sealing waits for it before wiping the keyring.
func (s *Service) begin(ctx context.Context) (*seal.Keyring, *Identity, error) {
	kr, id, err := s.beginUnthrottled(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := s.throttle(ctx, id); err != nil {
		kr.Release()
		return nil, nil, err
	}
	return kr, id, nil
}

// beginUnthrottled is begin without the rate limit, for the emergency
// brake (sealing), which must never wait.
func (s *Service) beginUnthrottled(ctx context.Context) (*seal.Keyring, *Identity, error) {
	if _, err := s.sealState(); err != nil {
		return nil, nil, err
	}
	id, err := identity(ctx)
	if err != nil {
		return nil, nil, err
	}
	kr, err := s.unsealed()
	if err != nil {
		return nil, nil, err
	}
	return kr, id, nil
}

// sealState reports, without acquiring anything, whether the service is
// unsealed, and if not, why.
func (s *Service) sealState() (bool, error) {
	if s.keyring.Load() != nil {
		return true, nil
	}
	if s.sealConfig.Load() == nil {
		return false, errNotInitialized
	}
	return false, errSealed
}

// Ping reports whether storage is reachable.
func (s *Service) Ping(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}
