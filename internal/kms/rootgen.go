package kms

import (
	"context"
	"crypto/hmac"
	"errors"
	"strings"

	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/shamir"
	"github.com/arcakms/arca/internal/storage"
)

// OpGenerateRoot names root token generation in audit records.
const OpGenerateRoot = "sys.generate_root"

// RootGeneration is the progress of a break-glass root token generation;
// Token is set, once, when the threshold of shares was reached.
type RootGeneration struct {
	Progress, Threshold int
	Token               string
}

// GenerateRoot is the break-glass path: on an unsealed server, a quorum of
// unseal share holders (the same threshold as unsealing) creates a new
// root token, for instance after the root token was revoked and every
// administrator lost. It needs no token: the shares are the credential.
// Shares that do not reconstruct this server's root key are all discarded.
// Every submission is audited; the token is returned once and stored only
// as its hash.
func (s *Service) GenerateRoot(ctx context.Context, share string) (res *RootGeneration, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpGenerateRoot, t, err); err != nil {
			if CodeOf(err) == CodeAuditUnavailable {
				s.rootGen.Reset() // a share whose submission is not audited is not kept
			}
			res = nil
		}
	}()
	if _, err := s.sealState(); err != nil {
		return nil, err
	}
	kr, err := s.unsealed()
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	cfg := s.sealConfig.Load()
	var sh shamir.Share
	if err := sh.UnmarshalText([]byte(strings.TrimSpace(share))); err != nil {
		return nil, Errorf(CodeInvalidShare, "the share is malformed")
	}
	done, threshold, err := s.collectRootShare(kr, cfg, sh)
	if err != nil {
		return nil, err
	}
	res = &RootGeneration{Progress: s.rootGen.Progress(), Threshold: threshold}
	if !done {
		return res, nil
	}
	token, hash, err := newToken()
	if err != nil {
		return nil, internal("generate root token", err)
	}
	rec := newRootTokenRecord(hash, s.now())
	t.resource = rec.Accessor
	err = s.update(ctx, OpGenerateRoot, t, func(tx storage.Tx) error { return putToken(tx, kr, rec) })
	if err != nil {
		return nil, storageError("store root token", err)
	}
	res.Token, res.Progress = token, 0
	return res, nil
}

// collectRootShare adds one share for root generation: an unseal share of
// a Shamir seal, or a recovery share of a PKCS#11 seal. done reports that
// the threshold was reached and the shares proved themselves (they
// reconstruct this server's root or recovery key).
func (s *Service) collectRootShare(kr *seal.Keyring, cfg *seal.Config, sh shamir.Share) (done bool, threshold int, err error) {
	if cfg.Type == seal.TypePKCS11 {
		if cfg.Recovery == nil {
			sh.Wipe()
			return false, 0, Errorf(CodeInvalidArgument, "this server's PKCS#11 seal has no recovery key: create one with operator rekey --shares N --threshold M")
		}
		done, err := s.rootGen.AddRecovery(kr, cfg.Recovery, sh)
		if errors.Is(err, seal.ErrTampered) {
			return false, 0, &Error{Code: CodeRecordTampered, Message: "the stored recovery key configuration failed its integrity check", Err: err}
		}
		if err != nil {
			return false, 0, &Error{Code: CodeInvalidShare, Message: "the shares do not reconstruct this server's recovery key; submitted shares were discarded", Err: err}
		}
		return done, cfg.Recovery.Threshold, nil
	}
	proof, err := s.rootGen.Add(*cfg, sh)
	if err != nil {
		return false, 0, &Error{Code: CodeInvalidShare, Message: "the shares do not reconstruct this server's root key; submitted shares were discarded", Err: err}
	}
	if proof == nil {
		return false, cfg.Threshold, nil
	}
	// The shares reconstructed a root key that opened a keyring. It must
	// be the one this server runs on: a seal configuration written into
	// the database by someone else would open theirs.
	defer proof.Wipe()
	probe := []byte("arca/v1/root-generation/proof")
	if proof.Generation() != kr.Generation() || !hmac.Equal(proof.MAC(probe), kr.MAC(probe)) {
		return false, 0, &Error{Code: CodeRecordTampered, Message: "the shares open a keyring other than this server's: the stored seal configuration is not the one this server runs on"}
	}
	return true, cfg.Threshold, nil
}

// CancelGenerateRoot discards the shares submitted for root generation.
func (s *Service) CancelGenerateRoot(ctx context.Context) error {
	s.rootGen.Reset()
	return s.finish(ctx, OpGenerateRoot, &target{resource: "cancel"}, nil)
}
