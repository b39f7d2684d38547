package kms

import (
	"context"

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
	ck, err := s.resolve(ctx, kr, req.Key)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := requirePurpose(ck, crypto.PurposeMAC, "generate a MAC"); err != nil {
		return nil, err
	}
	if err := checkKey(ck, lifecycle.Encrypt, false); err != nil {
		return nil, err
	}
	ve, err := s.version(ctx, kr, ck, ck.rec.PrimaryVersion)
	if err != nil {
		return nil, err
	}
	t.keyVersion = ve.vk.Version()
	if err := checkUse(ck, ve, lifecycle.Encrypt, false); err != nil {
		return nil, err
	}
	tag, err := ve.vk.MAC(req.Data)
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
	ck, err := s.resolve(ctx, kr, req.Key)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := requirePurpose(ck, crypto.PurposeMAC, "verify a MAC"); err != nil {
		return nil, err
	}
	if err := checkKey(ck, lifecycle.Decrypt, false); err != nil {
		return nil, macRefusal(ck, err)
	}
	v := req.KeyVersion
	if v == 0 {
		v = ck.rec.PrimaryVersion
	}
	t.keyVersion = v
	ve, err := s.version(ctx, kr, ck, v)
	if err != nil {
		return nil, err
	}
	if err := checkUse(ck, ve, lifecycle.Decrypt, false); err != nil {
		return nil, macRefusal(ck, err)
	}
	if v < ck.rec.MinDecryptionVersion {
		return nil, Errorf(CodeVersionBelowMinimum, "key %q no longer verifies version %d (min_decryption_version is %d)", ck.rec.Name, v, ck.rec.MinDecryptionVersion)
	}
	ok, err := ve.vk.VerifyMAC(req.Data, req.MAC)
	if err != nil {
		return nil, internal("verify mac", err)
	}
	return &VerifyMACResult{KeyID: ck.rec.ID, KeyVersion: v, Valid: ok}, nil
}

// macRefusal words a lifecycle refusal for MAC verification, which has no
// allow_compromised override: a compromised key's MACs prove nothing.
func macRefusal(ck *cachedKey, err error) error {
	if CodeOf(err) == CodeKeyCompromised {
		return Errorf(CodeKeyCompromised, "key %q or this version is compromised: its MACs are no longer verified", ck.rec.Name)
	}
	return err
}
