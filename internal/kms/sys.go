package kms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/shamir"
	"github.com/arcakms/arca/internal/storage"
)

// sealConfigKey is the key of the seal configuration in nsSys.
const sealConfigKey = "seal"

// SealStatus describes the seal state; it is public, so it holds nothing secret.
type SealStatus struct {
	Initialized bool
	Sealed      bool
	Shares      int
	Threshold   int
	// Progress is the number of unseal shares submitted so far.
	Progress int
	Version  string
	// Type is the seal type (shamir or pkcs11; empty before init), and
	// Reason why a PKCS#11 seal did not open, while sealed.
	Type, Reason string
}

// InitResult is returned exactly once by Init: the unseal shares (text form)
// and the initial root token. Nothing of it is stored.
type InitResult struct {
	Shares    []string
	RootToken string
	// RecoveryShares are the recovery key's shares of a PKCS#11 seal.
	RecoveryShares []string
}

func (s *Service) loadSealConfig(ctx context.Context) (*seal.Config, error) {
	var cfg *seal.Config
	err := s.store.View(ctx, func(tx storage.Tx) error {
		it, err := tx.Get(nsSys, sealConfigKey)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		cfg = new(seal.Config)
		if err := json.Unmarshal(it.Value, cfg); err != nil {
			return fmt.Errorf("decode seal configuration: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kms: load seal configuration: %w", err)
	}
	return cfg, nil
}

// Status returns the seal status.
func (s *Service) Status() SealStatus {
	st := SealStatus{Sealed: s.keyring.Load() == nil, Progress: s.unsealer.Progress(), Version: s.serverVersion}
	if cfg := s.sealConfig.Load(); cfg != nil {
		st.Initialized, st.Shares, st.Threshold, st.Type = true, cfg.Shares, cfg.Threshold, cfg.Type
	}
	if r, _ := s.sealErr.Load().(string); st.Sealed && r != "" {
		st.Reason = r
	}
	return st
}

// AuditedStatus returns the seal status and audits the request under op
// (OpHealth or OpSealStatus).
func (s *Service) AuditedStatus(ctx context.Context, op string) (SealStatus, error) {
	st := s.Status()
	return st, s.finish(ctx, op, nil, nil)
}

// Init initialises an uninitialised server: it creates the root key, splits
// it into shares, creates the keyring key and the root token. The server
// stays sealed until the shares are submitted.
func (s *Service) Init(ctx context.Context, shares, threshold int) (res *InitResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpInit, t, err); err != nil {
			res = nil
		}
	}()
	res, kr, err := s.initialize(ctx, t, shares, threshold, "")
	if kr != nil {
		kr.Wipe()
	}
	return res, err
}

// initialize does the work of Init and returns the unsealed keyring too, for
// dev mode. rootToken, if non-empty, is used instead of a random one.
func (s *Service) initialize(ctx context.Context, t *target, shares, threshold int, rootToken string) (*InitResult, *seal.Keyring, error) {
	return s.initializeWith(ctx, t, rootToken, func() (*seal.Initialized, error) {
		in, err := seal.Initialize(shares, threshold, s.now())
		if errors.Is(err, seal.ErrInvalidParams) {
			return nil, errInvalidShareParams
		}
		return in, err
	})
}

// errInvalidShareParams refuses share counts out of range.
var errInvalidShareParams = Errorf(CodeInvalidArgument, "shares must be 2..255 and threshold 2..shares (or 1 of 1)")

// initializeWith stores the seal configuration that create makes, with a
// root token, and returns the shares (if any) and the keyring.
func (s *Service) initializeWith(ctx context.Context, t *target, rootToken string, create func() (*seal.Initialized, error)) (*InitResult, *seal.Keyring, error) {
	if s.sealConfig.Load() != nil {
		return nil, nil, Errorf(CodeAlreadyInitialized, "the server is already initialised")
	}
	in, err := create()
	if err != nil {
		return nil, nil, storageError("init", err)
	}
	shares, err := sharesText(in.Shares) // wipes them
	if err != nil {
		in.Keyring.Wipe()
		return nil, nil, err
	}
	token, hash := rootToken, hashToken(rootToken)
	if token == "" {
		if token, hash, err = newToken(); err != nil {
			in.Keyring.Wipe()
			return nil, nil, internal("init", err)
		}
	}
	cfgJSON, err := json.Marshal(in.Config)
	if err != nil {
		in.Keyring.Wipe()
		return nil, nil, internal("init", err)
	}
	res := &InitResult{RootToken: token, Shares: shares}
	err = s.update(ctx, OpInit, t, func(tx storage.Tx) error {
		if _, err := tx.Create(nsSys, sealConfigKey, cfgJSON); err != nil {
			return err
		}
		return putToken(tx, in.Keyring, newRootTokenRecord(hash, s.now()))
	})
	if errors.Is(err, storage.ErrExists) {
		in.Keyring.Wipe()
		return nil, nil, Errorf(CodeAlreadyInitialized, "the server is already initialised")
	}
	if err != nil {
		in.Keyring.Wipe()
		return nil, nil, storageError("init", err)
	}
	cfg := in.Config
	s.sealConfig.Store(&cfg)
	return res, in.Keyring, nil
}

// InitDev initialises the server with a single share, unseals it at once and
// forgets the share: the root key then exists only in this process. It is
// for development servers, whose data cannot outlive the process. rootToken,
// if non-empty, becomes the root token. It returns the root token.
func (s *Service) InitDev(ctx context.Context, rootToken string) (string, error) {
	if rootToken != "" && !validTokenShape(rootToken) {
		return "", fmt.Errorf("kms: dev root token must start with %q and be 16..256 characters", tokenPrefix)
	}
	res, kr, err := s.initialize(ctx, &target{}, 1, 1, rootToken)
	if err != nil {
		return "", err
	}
	s.keyring.Store(kr)
	return res.RootToken, nil
}

func validTokenShape(t string) bool {
	return len(t) >= 16 && len(t) <= 256 && t[:len(tokenPrefix)] == tokenPrefix
}

// Unseal submits one share. Once the threshold is reached and the shares
// reconstruct the root key the server is unsealed, but only if that can be
// audited: an unseal whose record cannot be written leaves the server
// sealed. Submitting a share to an unsealed server is a no-op.
func (s *Service) Unseal(ctx context.Context, share string) (SealStatus, error) {
	kr, err := s.addShare(share)
	if err != nil || kr == nil {
		ferr := s.finish(ctx, OpUnseal, nil, err)
		if err == nil && ferr != nil {
			// A share whose submission cannot be audited is not kept.
			s.unsealer.Reset()
		}
		return s.Status(), ferr
	}
	if err := s.loadGenerations(ctx, kr); err != nil {
		kr.Wipe()
		s.unsealer.Reset()
		return s.Status(), s.finish(ctx, OpUnseal, nil, err)
	}
	if err := s.finish(ctx, OpUnseal, nil, nil); err != nil {
		kr.Wipe()
		return s.Status(), err
	}
	if !s.keyring.CompareAndSwap(nil, kr) {
		kr.Wipe()
	}
	return s.Status(), nil
}

// addShare parses one share and hands it to the unsealer. It returns the
// keyring once the threshold is reached.
func (s *Service) addShare(share string) (*seal.Keyring, error) {
	cfg := s.sealConfig.Load()
	if cfg == nil {
		// Another node sharing the store may have initialised it.
		s.refreshSealConfig()
		if cfg = s.sealConfig.Load(); cfg == nil {
			return nil, errNotInitialized
		}
	}
	if cfg.Type == seal.TypePKCS11 {
		return nil, Errorf(CodeInvalidArgument, "this server's seal is PKCS#11: it unseals itself through its HSM, not with shares")
	}
	if s.keyring.Load() != nil {
		return nil, nil
	}
	var sh shamir.Share
	if err := sh.UnmarshalText([]byte(strings.TrimSpace(share))); err != nil {
		return nil, Errorf(CodeInvalidShare, "the share is malformed")
	}
	kr, err := s.unsealer.Add(*cfg, sh)
	if err != nil {
		return nil, &Error{Code: CodeInvalidShare, Message: "the shares do not unseal this server; submitted shares were discarded", Err: err}
	}
	return kr, nil
}

// ResetUnseal discards the shares submitted so far.
func (s *Service) ResetUnseal(ctx context.Context) (SealStatus, error) {
	s.unsealer.Reset()
	return s.Status(), s.finish(ctx, OpUnseal, nil, nil)
}

// Seal wipes the keyring, every cached key and token from memory. The
// caller must be authenticated. Sealing is the emergency brake: it happens
// even if its audit record cannot be written (the caller then gets
// CodeAuditUnavailable, and the server is sealed).
func (s *Service) Seal(ctx context.Context) (st SealStatus, err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpSeal, t, err) }()
	kr, _, err := s.beginUnthrottled(ctx)
	if err != nil {
		return s.Status(), err
	}
	kr.Release()
	if err := s.authorize(ctx, t, access.SysSeal, access.Resource{}, nil); err != nil {
		return s.Status(), err
	}
	s.sealNow()
	return s.Status(), nil
}

// sealNow drops all key material held in memory.
func (s *Service) sealNow() {
	if kr := s.keyring.Swap(nil); kr != nil {
		kr.Retire()
	}
	s.keys.reset()
	s.unsealer.Reset()
	s.rootGen.Reset()
}

// Close seals the service. It does not close the store or the audit log,
// which the caller owns.
func (s *Service) Close() { s.sealNow() }
