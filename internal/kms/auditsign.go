package kms

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
)

// OpAuditPublicKey names the audit public key request in audit records.
const OpAuditPublicKey = "audit.public_key"

// Checkpoint appends a signed checkpoint to the audit log, if it supports
// them: an Ed25519 signature, by a key derived from the keyring, over the
// sequence number and hash of the last record, so that `arca audit verify`
// with the public key detects a rewritten chain and bounds what a
// truncation can hide. It needs an unsealed server; with nothing logged
// since the last checkpoint it writes nothing.
func (s *Service) Checkpoint(ctx context.Context) error {
	cp, ok := s.audit.(audit.Checkpointer)
	if !ok {
		return nil
	}
	kr, err := s.unsealed()
	if err != nil {
		return err
	}
	defer kr.Release()
	key, err := kr.AuditSigningKey()
	if err != nil {
		return internal("audit signing key", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	return cp.Checkpoint(ctx, func(msg []byte) ([]byte, []byte, error) {
		return pub, ed25519.Sign(key, msg), nil
	})
}

// AuditPublicKey returns the public key that verifies audit checkpoints.
// It needs audit:read.
func (s *Service) AuditPublicKey(ctx context.Context) (pub ed25519.PublicKey, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpAuditPublicKey, t, err); err != nil {
			pub = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.AuditRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	key, err := kr.AuditSigningKey()
	if err != nil {
		return nil, internal("audit signing key", err)
	}
	return key.Public().(ed25519.PublicKey), nil
}

// OpAuditHMAC names the audit HMAC request in audit records.
const OpAuditHMAC = "audit.hmac"

// AuditHMAC returns the hex HMAC of value under the audit key: the form in
// which audit records carry encryption-context values. An auditor holding
// a value searches the log for it. It needs audit:read; the value itself is
// never logged.
func (s *Service) AuditHMAC(ctx context.Context, value string) (sum string, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpAuditHMAC, t, err); err != nil {
			sum = ""
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return "", err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.AuditRead, access.Resource{}, nil); err != nil {
		return "", err
	}
	if len(value) > MaxContextSize {
		return "", Errorf(CodeInvalidArgument, "value must be at most %d bytes", MaxContextSize)
	}
	b, err := kr.AuditHMAC([]byte(value))
	if err != nil {
		return "", internal("audit hmac", err)
	}
	return hex.EncodeToString(b), nil
}
