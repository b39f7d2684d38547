package kms

import (
	"context"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/secret"
)

// DecryptRawOAEP decrypts a bare RSAES-OAEP ciphertext (SHA-256,
// MGF1-SHA-256, no label) that someone made with the public key of an
// rsa-oaep key, outside Arca's ciphertext format: what clients of the AWS
// KMS API do after GetPublicKey. Nothing in it names a version or binds a
// context, so every version of the key that may decrypt is tried, newest
// first, and the one that opened it is audited. Needs key:decrypt.
// Prefer Arca's own ciphertexts, which name their key and version and bind
// their context.
func (s *Service) DecryptRawOAEP(ctx context.Context, key string, ciphertext []byte) (res *PlaintextResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpDecrypt, t, err); err != nil && res != nil {
			res.Plaintext.Wipe()
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if key == "" {
		return nil, Errorf(CodeInvalidArgument, "the key is required: a bare RSA-OAEP ciphertext does not name one")
	}
	ck, err := s.resolveFor(ctx, kr, key, t, access.KeyDecrypt)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyDecrypt, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	switch ck.rec.Algorithm {
	case crypto.RSAOAEP2048, crypto.RSAOAEP3072, crypto.RSAOAEP4096:
	default:
		return nil, Errorf(CodeUnsupportedOperation, "key %q is an %s key: only rsa-oaep keys decrypt bare RSA-OAEP ciphertexts", ck.rec.Name, ck.rec.Algorithm)
	}
	var refused error
	tried := 0
	for v := ck.rec.PrimaryVersion; v >= 1 && v >= ck.rec.MinDecryptionVersion; v-- {
		ve, err := s.usableVersion(ctx, kr, ck, v, use{op: lifecycle.Decrypt, purpose: crypto.PurposeEncrypt, verb: "decrypt"}, t)
		if err != nil {
			refused = err // a version its state (or its key's) keeps from decrypting
			continue
		}
		tried++
		if pt, err := ve.vk.OpenRawOAEP(ciphertext); err == nil {
			t.keyVersion = v
			return &PlaintextResult{KeyID: ck.rec.ID, KeyVersion: v, Plaintext: secret.New(pt)}, nil
		}
	}
	t.keyVersion = 0
	if tried == 0 && refused != nil {
		return nil, refused
	}
	return nil, Errorf(CodeDecryptionFailed, "the ciphertext does not open with any version of key %q that may decrypt", ck.rec.Name)
}
