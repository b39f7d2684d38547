package kms

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/shamir"
	"github.com/arcakms/arca/internal/storage"
)

// HSM is what the PKCS#11 seal and HSM-protected keys need of a token
// (hsm.HSM and hsm.Reconnecting implement it): AES-GCM under a key that
// never leaves it, making such keys, and key pairs that sign in it.
type HSM interface {
	seal.Wrapper
	HasKey(label string) (bool, error)
	KeyHSM
}

// Operation names of the seal's life, in audit records.
const (
	OpRekey       = "sys.rekey"
	OpRotateRoot  = "sys.rotate_root"
	OpMigrateSeal = "sys.migrate_seal"
	OpAutoUnseal  = "sys.unseal.hsm"
)

// DefaultHSMKeyLabel names the token key of the PKCS#11 seal by default.
const DefaultHSMKeyLabel = "arca-root"

// SealChange is the result of a rekey, a root rotation or a seal
// migration: the new shares of a Shamir seal, or the new recovery shares
// of a PKCS#11 seal (each shown once), or none.
type SealChange struct {
	Type              string
	Shares            []string
	Threshold         int
	RecoveryShares    []string
	RecoveryThreshold int
	KeyLabel          string
	KeyringGeneration uint32
}

// InitHSM initialises the server with the PKCS#11 seal: the keyring key is
// encrypted by the token's AES key labelled Options.HSMKeyLabel, generated
// in the token if it does not exist (non-extractable) or used as it is. The
// server is unsealed at once and will unseal itself at every start. It
// returns the root token and, when recoveryShares is not zero, the shares
// of a recovery key (see seal.Recovery) of which recoveryThreshold
// authorise a break-glass root token.
func (s *Service) InitHSM(ctx context.Context, recoveryShares, recoveryThreshold int) (res *InitResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpInit, t, err); err != nil {
			res = nil
		}
	}()
	if s.hsm == nil {
		return nil, Errorf(CodeInvalidArgument, "this server has no PKCS#11 seal configured (seal.type pkcs11)")
	}
	if (recoveryShares == 0) != (recoveryThreshold == 0) {
		return nil, Errorf(CodeInvalidArgument, "give both recovery_shares and recovery_threshold, or neither")
	}
	if err := s.ensureHSMKey(s.hsmLabel); err != nil {
		return nil, err
	}
	t.resource = s.hsmLabel
	res, kr, err := s.initializeWith(ctx, t, "", func() (*seal.Initialized, error) {
		in, err := seal.InitializeHSM(s.hsm, s.hsmLabel, s.now())
		if err != nil || recoveryShares == 0 {
			return in, err
		}
		if in.Config.Recovery, in.Shares, err = in.Keyring.NewRecovery(recoveryShares, recoveryThreshold); err != nil {
			in.Keyring.Wipe()
			if errors.Is(err, seal.ErrInvalidParams) {
				return nil, errInvalidShareParams
			}
			return nil, err
		}
		return in, nil
	})
	if err != nil {
		return nil, err
	}
	res.RecoveryShares, res.Shares = res.Shares, nil
	if !s.keyring.CompareAndSwap(nil, kr) {
		kr.Wipe()
	}
	return res, nil
}

// ensureHSMKey makes the token key labelled label if it does not exist.
func (s *Service) ensureHSMKey(label string) error {
	ok, err := s.hsm.HasKey(label)
	if err != nil {
		return &Error{Code: CodeUnavailable, Message: "the HSM cannot be used: " + err.Error(), Err: err}
	}
	if ok {
		return nil
	}
	if err := s.hsm.GenerateAESKey(label); err != nil {
		return &Error{Code: CodeUnavailable, Message: "the HSM did not generate the seal key", Err: err}
	}
	return nil
}

// AutoUnseal unseals a server whose seal is PKCS#11 by having the token
// decrypt the keyring key. It does nothing if the server is unsealed or
// its seal is Shamir. On failure the server stays sealed and the reason
// is kept for the seal status; the caller retries.
func (s *Service) AutoUnseal(ctx context.Context) error {
	cfg := s.sealConfig.Load()
	if cfg == nil {
		s.refreshSealConfig()
		if cfg = s.sealConfig.Load(); cfg == nil {
			return nil
		}
	}
	if cfg.Type != seal.TypePKCS11 || s.keyring.Load() != nil {
		return nil
	}
	if s.hsm == nil {
		err := errors.New("the seal is PKCS#11 but no HSM is configured (seal.type pkcs11)")
		s.sealErr.Store(err.Error())
		return err
	}
	kr, err := seal.OpenHSM(*cfg, s.hsm)
	if err != nil {
		s.sealErr.Store(err.Error())
		return err
	}
	if err := s.loadGenerations(ctx, kr); err != nil {
		kr.Wipe()
		s.sealErr.Store(err.Error())
		return err
	}
	if err := s.finish(s.backgroundRequest(ctx), OpAutoUnseal, &target{resource: cfg.KeyLabel}, nil); err != nil {
		kr.Wipe()
		return err
	}
	s.sealErr.Store("")
	if !s.keyring.CompareAndSwap(nil, kr) {
		kr.Wipe()
	}
	return nil
}

// Rekey replaces the Shamir root key with a new one split into shares of
// which threshold unseal: the keyring key is sealed anew, nothing else
// changes, and the old shares no longer unseal. Under the PKCS#11 seal it
// replaces the recovery key the same way. Needs sys:rekey.
func (s *Service) Rekey(ctx context.Context, shares, threshold int) (*SealChange, error) {
	return s.changeSeal(ctx, OpRekey, []string{fmt.Sprint(shares), fmt.Sprint(threshold)}, func(kr *seal.Keyring, cur *seal.Config) (seal.Config, []string, error) {
		if cur.Type == seal.TypePKCS11 {
			next := *cur
			recovery, out, err := s.newRecovery(kr, shares, threshold)
			next.Recovery = recovery
			return next, out, err
		}
		return s.sealShamir(kr, shares, threshold)
	})
}

// newRecovery makes a recovery key for the PKCS#11 seal of keyring kr and
// returns its shares as text.
func (s *Service) newRecovery(kr *seal.Keyring, n, threshold int) (*seal.Recovery, []string, error) {
	r, shares, err := kr.NewRecovery(n, threshold)
	if errors.Is(err, seal.ErrInvalidParams) {
		return nil, nil, errInvalidShareParams
	}
	if err != nil {
		return nil, nil, internal("recovery key", err)
	}
	out, err := sharesText(shares)
	if err != nil {
		return nil, nil, err
	}
	return r, out, nil
}

// RotateRoot replaces the root key and seals the keyring key under the new
// one: new shares (same count and threshold) for Shamir, a new token key
// for PKCS#11 (the old one is left in the token for the HSM's own
// retention). Needs sys:rekey.
func (s *Service) RotateRoot(ctx context.Context) (*SealChange, error) {
	return s.changeSeal(ctx, OpRotateRoot, nil, func(kr *seal.Keyring, cur *seal.Config) (seal.Config, []string, error) {
		if cur.Type == seal.TypePKCS11 {
			next, _, err := s.sealHSM(kr, fmt.Sprintf("%s-%d", s.hsmLabel, s.now().UnixNano()))
			next.Recovery = cur.Recovery // bound to the keyring, which stays
			return next, nil, err
		}
		return s.sealShamir(kr, cur.Shares, cur.Threshold)
	})
}

// MigrateSeal moves the seal to another type without touching any key
// version: only the keyring key is sealed anew, under the token's key
// ("pkcs11") or under a new root key split into shares ("shamir"). Needs
// sys:rekey.
func (s *Service) MigrateSeal(ctx context.Context, to string, shares, threshold int) (*SealChange, error) {
	return s.changeSeal(ctx, OpMigrateSeal, []string{to, fmt.Sprint(shares), fmt.Sprint(threshold)}, func(kr *seal.Keyring, cur *seal.Config) (seal.Config, []string, error) {
		if to == cur.Type {
			return seal.Config{}, nil, Errorf(CodeInvalidArgument, "the seal is already %s", to)
		}
		switch to {
		case seal.TypePKCS11:
			next, _, err := s.sealHSM(kr, s.hsmLabel)
			if err != nil || shares == 0 {
				return next, nil, err
			}
			recovery, out, err := s.newRecovery(kr, shares, threshold)
			next.Recovery = recovery
			return next, out, err
		case seal.TypeShamir:
			return s.sealShamir(kr, shares, threshold)
		}
		return seal.Config{}, nil, Errorf(CodeInvalidArgument, "seal type must be shamir or pkcs11")
	})
}

func (s *Service) sealShamir(kr *seal.Keyring, n, threshold int) (seal.Config, []string, error) {
	cfg, shares, err := kr.SealShamir(n, threshold, s.now())
	if errors.Is(err, seal.ErrInvalidParams) {
		return seal.Config{}, nil, errInvalidShareParams
	}
	if err != nil {
		return seal.Config{}, nil, internal("seal", err)
	}
	out, err := sharesText(shares)
	if err != nil {
		return seal.Config{}, nil, err
	}
	return cfg, out, nil
}

// sharesText encodes shares for operators, wiping them.
func sharesText(shares []shamir.Share) ([]string, error) {
	var out []string
	for i := range shares {
		txt, err := shares[i].MarshalText()
		shares[i].Wipe()
		if err != nil {
			for j := i + 1; j < len(shares); j++ {
				shares[j].Wipe()
			}
			return nil, internal("encode shares", err)
		}
		out = append(out, string(txt))
	}
	return out, nil
}

func (s *Service) sealHSM(kr *seal.Keyring, label string) (seal.Config, []string, error) {
	if s.hsm == nil {
		return seal.Config{}, nil, Errorf(CodeInvalidArgument, "this server has no PKCS#11 seal configured (seal.type pkcs11)")
	}
	if err := s.ensureHSMKey(label); err != nil {
		return seal.Config{}, nil, err
	}
	cfg, err := kr.SealHSM(s.hsm, label, s.now())
	if err != nil {
		return seal.Config{}, nil, &Error{Code: CodeUnavailable, Message: "the HSM did not seal the keyring key", Err: err}
	}
	return cfg, nil, nil
}

// changeSeal replaces the stored seal configuration with the one next
// makes, in one audited transaction. Under dual control, an approval covers
// the operation with exactly these params.
func (s *Service) changeSeal(ctx context.Context, op string, params []string, next func(*seal.Keyring, *seal.Config) (seal.Config, []string, error)) (res *SealChange, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, op, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.SysRekey, access.Resource{}, nil); err != nil {
		return nil, err
	}
	if err := s.dualControl(ctx, kr, t, gated{action: access.SysRekey, op: op, summary: op + " " + fmt.Sprint(params), parts: append([]string{op}, params...)}); err != nil {
		return nil, err
	}
	cur := s.sealConfig.Load()
	cfg, shares, err := next(kr, cur)
	if err != nil {
		return nil, err
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, internal("seal", err)
	}
	t.resource = cfg.Type
	err = s.update(ctx, op, t, func(tx storage.Tx) error {
		it, err := tx.Get(nsSys, sealConfigKey)
		if err != nil {
			return err
		}
		// The change was made from the configuration this node holds:
		// another node may have changed the stored one meanwhile (and this
		// one not heard of it yet), and that change must not be undone.
		var stored seal.Config
		if err := json.Unmarshal(it.Value, &stored); err != nil || !sameSeal(&stored, cur) {
			return errSealChanged
		}
		_, err = tx.CompareAndSwap(nsSys, sealConfigKey, cfgJSON, it.Revision)
		return err
	})
	if errors.Is(err, errSealChanged) || errors.Is(err, storage.ErrConflict) {
		s.refreshSealConfig()
		return nil, Errorf(CodeConflict, "the seal configuration changed meanwhile (on another node?); try again")
	}
	if err != nil {
		return nil, storageError("store the seal configuration", err)
	}
	s.sealConfig.Store(&cfg)
	s.unsealer.Reset()
	s.rootGen.Reset() // shares collected for the old root or recovery key
	res = &SealChange{Type: cfg.Type, KeyLabel: cfg.KeyLabel, KeyringGeneration: cfg.KeyringGeneration}
	if cfg.Type == seal.TypePKCS11 {
		res.RecoveryShares = shares
		if cfg.Recovery != nil {
			res.RecoveryThreshold = cfg.Recovery.Threshold
		}
	} else {
		res.Shares, res.Threshold = shares, cfg.Threshold
	}
	return res, nil
}

// errSealChanged refuses a seal change made from a configuration that is
// no longer the stored one.
var errSealChanged = errors.New("the stored seal configuration changed")

// sameSeal reports whether two seal configurations are the same one.
func sameSeal(a, b *seal.Config) bool {
	if a.Type != b.Type || a.Shares != b.Shares || a.Threshold != b.Threshold || a.KeyLabel != b.KeyLabel ||
		a.KeyringGeneration != b.KeyringGeneration || !bytes.Equal(a.Check, b.Check) || !bytes.Equal(a.EncryptedKeyring, b.EncryptedKeyring) {
		return false
	}
	switch {
	case a.Recovery == nil || b.Recovery == nil:
		return a.Recovery == b.Recovery
	default:
		return bytes.Equal(a.Recovery.MAC, b.Recovery.MAC) && bytes.Equal(a.Recovery.Check, b.Recovery.Check)
	}
}
