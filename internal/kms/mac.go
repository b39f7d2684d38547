package kms

import (
	"context"
	"errors"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
)

// Operation names of MAC calls.
const (
	OpGenerateMAC = "key.generate_mac"
	OpVerifyMAC   = "key.verify_mac"
)

// MaxMACDataSize bounds the data of one MAC call.
const MaxMACDataSize = 64 << 10

// MACRequest asks for the MAC of Data under the primary version of Key.
type MACRequest struct {
	Key  string
	Data []byte
	// Accept, if set, vets the key's algorithm against what the caller's
	// protocol asked for, before any MAC is computed (see
	// EncryptRequest.Accept).
	Accept func(crypto.Algorithm) error
}

// MACResult is a MAC and the key version that made it.
type MACResult struct {
	KeyID      string
	KeyVersion uint32
	MAC        []byte
}

// VerifyMACRequest asks whether MAC is the MAC of Data under a version of
// Key (the primary version when KeyVersion is 0).
type VerifyMACRequest struct {
	Key        string
	KeyVersion uint32
	Data       []byte
	MAC        []byte
	// Accept, if set, vets the key's algorithm before the MAC is checked
	// (see EncryptRequest.Accept).
	Accept func(crypto.Algorithm) error
}

// VerifyMACResult says whether the MAC matched, and under which version.
type VerifyMACResult struct {
	KeyID      string
	KeyVersion uint32
	Valid      bool
}

// GenerateMAC computes an HMAC of data under the key's primary version.
func (s *Service) GenerateMAC(ctx context.Context, req MACRequest) (res *MACResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpGenerateMAC, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if len(req.Data) > MaxMACDataSize {
		return nil, Errorf(CodeInvalidArgument, "data must be at most %d bytes", MaxMACDataSize)
	}
	ck, err := s.resolveFor(ctx, kr, req.Key, t, access.KeyMAC)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyMAC, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	if req.Accept != nil {
		if err := req.Accept(ck.rec.Algorithm); err != nil {
			return nil, err
		}
	}
	ve, err := s.usableVersion(ctx, kr, ck, 0, use{op: lifecycle.Encrypt, purpose: crypto.PurposeMAC, verb: "generate a MAC"}, t)
	if err != nil {
		return nil, err
	}
	tag, err := ve.vk.MAC(req.Data)
	var e *Error
	if errors.As(err, &e) {
		return nil, e // the HSM, unavailable
	}
	if err != nil {
		return nil, internal("generate mac", err)
	}
	return &MACResult{KeyID: ck.rec.ID, KeyVersion: ve.vk.Version(), MAC: tag}, nil
}

// VerifyMAC checks a MAC in constant time. A wrong MAC is a result
// (Valid false), not an error.
func (s *Service) VerifyMAC(ctx context.Context, req VerifyMACRequest) (res *VerifyMACResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpVerifyMAC, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if len(req.Data) > MaxMACDataSize || len(req.MAC) > 128 {
		return nil, Errorf(CodeInvalidArgument, "data must be at most %d bytes and mac at most 128", MaxMACDataSize)
	}
	ck, err := s.resolveFor(ctx, kr, req.Key, t, access.KeyMAC)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyMAC, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	if req.Accept != nil {
		if err := req.Accept(ck.rec.Algorithm); err != nil {
			return nil, err
		}
	}
	ve, err := s.usableVersion(ctx, kr, ck, req.KeyVersion, use{op: lifecycle.Decrypt, purpose: crypto.PurposeMAC, verb: "verify a MAC"}, t)
	if err != nil {
		return nil, macRefusal(ck, err)
	}
	ok, err := ve.vk.VerifyMAC(req.Data, req.MAC)
	var e *Error
	if errors.As(err, &e) {
		return nil, e // the HSM, unavailable
	}
	if err != nil {
		return nil, internal("verify mac", err)
	}
	return &VerifyMACResult{KeyID: ck.rec.ID, KeyVersion: t.keyVersion, Valid: ok}, nil
}

// macRefusal words a lifecycle refusal for MAC verification, which has no
// allow_compromised override: a compromised key's MACs prove nothing.
func macRefusal(ck *cachedKey, err error) error {
	if CodeOf(err) == CodeKeyCompromised {
		return Errorf(CodeKeyCompromised, "key %q or this version is compromised: its MACs are no longer verified", ck.rec.Name)
	}
	return err
}
