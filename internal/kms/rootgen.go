package kms

import (
	"context"
	"strings"

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
	proof, err := s.rootGen.Add(*cfg, sh)
	if err != nil {
		return nil, &Error{Code: CodeInvalidShare, Message: "the shares do not reconstruct this server's root key; submitted shares were discarded", Err: err}
	}
	res = &RootGeneration{Progress: s.rootGen.Progress(), Threshold: cfg.Threshold}
	if proof == nil {
		return res, nil
	}
	// The shares reconstructed the root key: that is the proof; the
	// keyring it opened is not needed.
	proof.Wipe()
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

// CancelGenerateRoot discards the shares submitted for root generation.
func (s *Service) CancelGenerateRoot(ctx context.Context) error {
	s.rootGen.Reset()
	return s.finish(ctx, OpGenerateRoot, &target{resource: "cancel"}, nil)
}
