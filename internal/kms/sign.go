package kms

import (
	"context"
	"errors"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
)

// Operation names of signing calls.
const (
	OpSign         = "key.sign"
	OpVerify       = "key.verify"
	OpGetPublicKey = "key.get_public_key"
)

// MaxSignMessageSize bounds the message of one sign or verify call; larger
// messages are signed by digest.
const MaxSignMessageSize = 64 << 10

// SignRequest asks for a signature of Message under the primary version.
type SignRequest struct {
	Key         string
	Message     []byte
	MessageType crypto.MessageType
	Padding     crypto.Padding
}

// SignResult is a signature and the key version that made it.
type SignResult struct {
	KeyID      string
	KeyVersion uint32
	Signature  []byte
}

// VerifyRequest asks whether Signature signs Message under a version of
// Key (the primary when KeyVersion is 0).
type VerifyRequest struct {
	Key         string
	KeyVersion  uint32
	Message     []byte
	MessageType crypto.MessageType
	Padding     crypto.Padding
	Signature   []byte
}

// VerifyResult says whether the signature is valid.
type VerifyResult struct {
	KeyID      string
	KeyVersion uint32
	Valid      bool
}

// signError maps the crypto package's input errors to invalid_argument.
func signError(op string, err error) error {
	for _, e := range []error{crypto.ErrDigestLength, crypto.ErrDigestNotAllowed, crypto.ErrBadPadding, crypto.ErrBadMessageType} {
		if errors.Is(err, e) {
			return Errorf(CodeInvalidArgument, "%s", e.Error())
		}
	}
	return internal(op, err)
}

// Sign signs a message or digest with the primary version of a signing key.
func (s *Service) Sign(ctx context.Context, req SignRequest) (res *SignResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpSign, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if len(req.Message) > MaxSignMessageSize {
		return nil, Errorf(CodeInvalidArgument, "message must be at most %d bytes; sign large data by digest", MaxSignMessageSize)
	}
	ck, err := s.resolveFor(ctx, kr, req.Key, t, access.KeySign)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeySign, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	ve, err := s.usableVersion(ctx, kr, ck, 0, use{op: lifecycle.Encrypt, purpose: crypto.PurposeSign, verb: "sign"}, t)
	if err != nil {
		return nil, err
	}
	sig, err := ve.vk.Sign(req.Message, req.MessageType, req.Padding)
	if err != nil {
		return nil, signError("sign", err)
	}
	return &SignResult{KeyID: ck.rec.ID, KeyVersion: ve.vk.Version(), Signature: sig}, nil
}

// signingVersion resolves a signing key's version for verification or
// public-key export, applying the decrypt-class lifecycle rules.
func (s *Service) signingVersion(ctx context.Context, ref string, v uint32, p crypto.Purpose, t *target) (*versionEntry, error) {
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	verb, action, op := "verify signatures", access.KeyVerify, lifecycle.Decrypt
	if p == purposePublicKey {
		verb, action, op = "give a public key", access.KeyRead, lifecycle.ReadPublic
	}
	ck, err := s.resolveFor(ctx, kr, ref, t, action)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, action, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	return s.usableVersion(ctx, kr, ck, v, use{op: op, purpose: p, verb: verb}, t)
}

// Verify checks a signature. An invalid signature is a result, not an error.
func (s *Service) Verify(ctx context.Context, req VerifyRequest) (res *VerifyResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpVerify, t, err); err != nil {
			res = nil
		}
	}()
	if len(req.Message) > MaxSignMessageSize || len(req.Signature) > 8192 {
		return nil, Errorf(CodeInvalidArgument, "message must be at most %d bytes and signature at most 8192", MaxSignMessageSize)
	}
	ve, err := s.signingVersion(ctx, req.Key, req.KeyVersion, crypto.PurposeSign, t)
	if err != nil {
		return nil, err
	}
	ok, err := ve.vk.Verify(req.Message, req.Signature, req.MessageType, req.Padding)
	if err != nil {
		return nil, signError("verify", err)
	}
	return &VerifyResult{KeyID: t.keyID, KeyVersion: t.keyVersion, Valid: ok}, nil
}

// PublicKeyResult is a signing or asymmetric encryption key version's
// public key.
type PublicKeyResult struct {
	KeyID      string
	KeyVersion uint32
	Algorithm  crypto.Algorithm
	*crypto.PublicKey
}

// GetPublicKey returns the public key of a signing or asymmetric encryption
// key version (the primary
// when version is 0). Public keys are not secret, but their export is
// audited like every request.
func (s *Service) GetPublicKey(ctx context.Context, ref string, version uint32) (res *PublicKeyResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpGetPublicKey, t, err); err != nil {
			res = nil
		}
	}()
	ve, err := s.signingVersion(ctx, ref, version, purposePublicKey, t)
	if err != nil {
		return nil, err
	}
	pub, err := ve.vk.Public()
	if err != nil {
		return nil, internal("public key", err)
	}
	return &PublicKeyResult{KeyID: t.keyID, KeyVersion: t.keyVersion, Algorithm: ve.vk.Algorithm(), PublicKey: pub}, nil
}
