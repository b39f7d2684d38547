package kms

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/secret"
)

// OpKeyDerive names key derivation in audit records.
const OpKeyDerive = "key.derive"

// MaxDerivationInput bounds a derivation's salt and info.
const MaxDerivationInput = 1024

// Derivation methods.
const (
	// DeriveHKDFSHA256 is HKDF-SHA256 (RFC 5869) of the base material with
	// Salt and Info, as long as the new key needs (the default).
	DeriveHKDFSHA256 = "hkdf-sha256"
	// DeriveHMACSHA256 is HMAC-SHA256 of Info under the base material
	// (KMIP's HMAC derivation), for new keys of at most 32 bytes.
	DeriveHMACSHA256 = "hmac-sha256"
)

// DeriveKeyRequest derives a new key from a version of a symmetric key
// (KMIP DeriveKey) by Method. Key describes the new key (name, algorithm,
// labels, ...); it may not import or be HSM-protected.
type DeriveKeyRequest struct {
	Base        string
	BaseVersion uint32 // 0: the primary version
	Method      string // DeriveHKDFSHA256 if empty
	Salt, Info  []byte
	Key         CreateKeyRequest
}

// derivedMaterial is the first version of a derived key.
type derivedMaterial struct {
	material   *secret.Bytes
	provenance Provenance
}

// DeriveKey creates a key whose first version is derived from a base key.
// It needs key:derive on the base key and key:create on the new one; the
// base version must still be usable for decryption (derivation reads its
// material like an export would, but the result stays in the server).
// Later rotations of the new key generate fresh material.
func (s *Service) DeriveKey(ctx context.Context, req DeriveKeyRequest) (key *Key, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyDerive, t, err); err != nil {
			key = nil
		}
	}()
	kr, id, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if len(req.Salt) > MaxDerivationInput || len(req.Info) > MaxDerivationInput {
		return nil, Errorf(CodeInvalidArgument, "salt and info must be at most %d bytes", MaxDerivationInput)
	}
	switch req.Method {
	case "":
		req.Method = DeriveHKDFSHA256
	case DeriveHKDFSHA256:
	case DeriveHMACSHA256:
		if len(req.Salt) > 0 {
			return nil, Errorf(CodeInvalidArgument, "%s takes no salt", DeriveHMACSHA256)
		}
	default:
		return nil, Errorf(CodeInvalidArgument, "method must be %s or %s", DeriveHKDFSHA256, DeriveHMACSHA256)
	}
	if req.Key.Import != nil || req.Key.PendingImport || req.Key.Protection == ProtectionHSM {
		return nil, Errorf(CodeInvalidArgument, "a derived key is neither imported nor in the HSM")
	}
	alg, err := req.Key.validate()
	if err != nil {
		return nil, err
	}
	if p := alg.Purpose(); (p != crypto.PurposeEncrypt && p != crypto.PurposeMAC) || alg.KeySize() == 0 {
		return nil, Errorf(CodeInvalidArgument, "a derived key must be symmetric (encryption or MAC), not %s", alg)
	}
	if req.Method == DeriveHMACSHA256 && alg.KeySize() > sha256.Size {
		return nil, Errorf(CodeInvalidArgument, "%s gives 32 bytes; %s needs %d", DeriveHMACSHA256, alg, alg.KeySize())
	}
	base, err := s.resolveFor(ctx, kr, req.Base, t, access.KeyDerive)
	if err != nil {
		return nil, err
	}
	t.resource = base.rec.ID
	if err := s.authorize(ctx, t, access.KeyDerive, keyResource(base.rec), nil); err != nil {
		return nil, err
	}
	if p := base.rec.Algorithm.Purpose(); p != crypto.PurposeEncrypt && p != crypto.PurposeMAC {
		return nil, Errorf(CodeUnsupportedOperation, "key %q (%s) is not symmetric: only symmetric keys derive keys", base.rec.Name, base.rec.Algorithm)
	}
	if _, err := s.usableVersion(ctx, kr, base, req.BaseVersion, use{op: lifecycle.Decrypt, purpose: base.rec.Algorithm.Purpose(), verb: "derive from"}, t); err != nil {
		return nil, err
	}
	v := t.keyVersion
	_, material, err := s.versionMaterial(ctx, kr, base, v)
	if err != nil {
		return nil, err
	}
	if material == nil {
		return nil, Errorf(CodeUnsupportedOperation, "key %q is in the HSM: its material never leaves it, so it derives no keys here", base.rec.Name)
	}
	var out []byte
	if req.Method == DeriveHMACSHA256 {
		m := hmac.New(sha256.New, material.Reveal())
		m.Write(req.Info)
		out = m.Sum(nil)[:alg.KeySize()]
	} else {
		out, err = hkdf.Key(sha256.New, material.Reveal(), req.Salt, string(req.Info), alg.KeySize())
	}
	material.Wipe()
	if err != nil {
		return nil, internal("derive key", err)
	}
	d := &derivedMaterial{material: secret.New(out),
		provenance: Provenance{Generator: req.Method, EntropySource: fmt.Sprintf("key %s version %d", base.rec.ID, v), ServerVersion: s.serverVersion}}
	defer d.material.Wipe()
	return s.createKey(ctx, kr, id, OpKeyDerive, t, req.Key, alg, d)
}
