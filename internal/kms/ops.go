package kms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/secret"
)

// Limits on operation inputs.
const (
	// MaxPlaintextSize bounds the plaintext of one encrypt call. Arca is for
	// keys and small secrets; bulk data is encrypted with a data key.
	MaxPlaintextSize = 64 << 10
	// MaxAssociatedDataSize bounds associated data.
	MaxAssociatedDataSize = 8 << 10
	// MaxContextEntries bounds the encryption context.
	MaxContextEntries = 64
	// MaxContextSize bounds the total bytes of the encryption context.
	MaxContextSize = 8 << 10
	// MaxRandomBytes bounds one random call.
	MaxRandomBytes = 1024
	// MaxBatchItems bounds the items of a batch call.
	MaxBatchItems = 1000
)

// EncryptRequest asks to encrypt Plaintext under the primary version of Key.
type EncryptRequest struct {
	Key       string
	Plaintext []byte
	Binding   crypto.Binding
	// Accept, if set, vets the key's algorithm against what the caller's
	// protocol asked for (a kind of key, a cipher mode, an IV length). It
	// runs once the caller is authorised on the key and before anything is
	// encrypted or counted; its error is returned as the operation's.
	Accept func(crypto.Algorithm) error
}

// DecryptRequest asks to decrypt Ciphertext (text form). Key is optional; if
// set, the ciphertext must belong to that key.
type DecryptRequest struct {
	Key        string
	Ciphertext string
	Binding    crypto.Binding
	// AllowCompromised permits decrypting with a compromised key or
	// version; each such use is marked in the audit record.
	AllowCompromised bool
}

// CiphertextResult is the result of encrypt and rewrap.
type CiphertextResult struct {
	KeyID      string
	KeyVersion uint32
	Ciphertext string
}

// PlaintextResult is the result of decrypt. Plaintext is the caller's to
// wipe once it has been sent.
type PlaintextResult struct {
	KeyID      string
	KeyVersion uint32
	Plaintext  *secret.Bytes
}

// DataKeyRequest asks for a fresh data key wrapped under Key.
type DataKeyRequest struct {
	Key              string
	Bits             int
	WithoutPlaintext bool
	Binding          crypto.Binding
}

// DataKeyResult holds the wrapped data key and, unless WithoutPlaintext,
// the data key itself (the caller wipes it once sent).
type DataKeyResult struct {
	CiphertextResult
	Plaintext *secret.Bytes
}

func validateBinding(b crypto.Binding) error {
	if len(b.AssociatedData) > MaxAssociatedDataSize {
		return Errorf(CodeInvalidArgument, "associated_data must be at most %d bytes", MaxAssociatedDataSize)
	}
	if len(b.Context) > MaxContextEntries {
		return Errorf(CodeInvalidArgument, "context must have at most %d entries", MaxContextEntries)
	}
	n := 0
	for k, v := range b.Context {
		n += len(k) + len(v)
		if k == "" {
			return Errorf(CodeInvalidArgument, "context keys must not be empty")
		}
	}
	if n > MaxContextSize {
		return Errorf(CodeInvalidArgument, "context must be at most %d bytes", MaxContextSize)
	}
	return nil
}

func parseKeyID(s string) ([16]byte, error) {
	u, err := uuid.Parse(s)
	return u, err
}

// encrypt seals plaintext under the primary version of key.
func (s *Service) encrypt(ctx context.Context, kr *seal.Keyring, req EncryptRequest, t *target, action access.Action) (*CiphertextResult, error) {
	key, plaintext, b := req.Key, req.Plaintext, req.Binding
	if len(plaintext) > MaxPlaintextSize {
		return nil, Errorf(CodeInvalidArgument, "plaintext must be at most %d bytes", MaxPlaintextSize)
	}
	if err := validateBinding(b); err != nil {
		return nil, err
	}
	t.recordContext(kr, b.Context)
	for attempt := 0; ; attempt++ {
		ck, err := s.resolveFor(ctx, kr, key, t, action)
		if err != nil {
			return nil, err
		}
		t.keyID = ck.rec.ID
		if err := s.authorize(ctx, t, action, keyResource(ck.rec), b.Context); err != nil {
			return nil, err
		}
		if req.Accept != nil {
			if err := req.Accept(ck.rec.Algorithm); err != nil {
				return nil, err
			}
		}
		ve, err := s.usableVersion(ctx, kr, ck, 0, use{op: lifecycle.Encrypt, purpose: crypto.PurposeEncrypt, verb: "encrypt"}, t)
		if err != nil {
			return nil, err
		}
		if ck.rec.Algorithm.Purpose() == crypto.PurposeEncrypt {
			// Nonce-based AEADs have a usage bound; public-key
			// encryption does not wear a key out.
			err = s.countEncryption(ctx, kr, ck, ve)
		}
		if errors.Is(err, errVersionExhausted) && ck.rec.Origin == OriginExternal {
			return nil, Errorf(CodeUsageBoundReached, "version %d of key %q has done the %d encryptions its usage bound allows; the key holds imported material, so import new material (arca key import) to continue", ve.vk.Version(), ck.rec.Name, ck.rec.usageBound())
		}
		if errors.Is(err, errVersionExhausted) && attempt < 5 {
			// The primary version has done all the encryptions its bound
			// allows: rotate (once, whoever gets there first) and retry.
			if err := s.rotateExhausted(ctx, kr, ck, ve.vk.Version()); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, storageError("count encryption", err)
		}
		vk, err := ve.forContext(ck.id, ck.rec.Algorithm, b.Context)
		if err != nil {
			return nil, derivedError(err)
		}
		c, err := vk.Seal(plaintext, b)
		if errors.Is(err, crypto.ErrPlaintextTooLong) {
			return nil, Errorf(CodeInvalidArgument, "key %q: %s", ck.rec.Name, err.Error())
		}
		if err != nil {
			return nil, internal("encrypt", err)
		}
		return &CiphertextResult{KeyID: ck.rec.ID, KeyVersion: ve.vk.Version(), Ciphertext: c.String()}, nil
	}
}

// decrypt opens a ciphertext; if key is set the ciphertext must be that key's.
func (s *Service) decrypt(ctx context.Context, kr *seal.Keyring, req DecryptRequest, t *target, action access.Action) (*cachedKey, *PlaintextResult, error) {
	key, ciphertext, b := req.Key, req.Ciphertext, req.Binding
	if err := validateBinding(b); err != nil {
		return nil, nil, err
	}
	t.recordContext(kr, b.Context)
	c, err := crypto.Parse(ciphertext)
	if err != nil {
		return nil, nil, &Error{Code: CodeInvalidCiphertext, Message: err.Error()}
	}
	keyID := uuid.UUID(c.KeyID).String()
	t.keyID, t.keyVersion = keyID, c.KeyVersion
	var ck *cachedKey
	ref := keyID
	if key != "" {
		ref = key
	}
	if ck, err = s.resolveFor(ctx, kr, ref, t, action); err != nil {
		return nil, nil, err
	}
	// Authorise on the key named (or found) before saying anything about
	// the ciphertext.
	if err := s.authorize(ctx, t, action, keyResource(ck.rec), b.Context); err != nil {
		t.keyID, t.keyVersion = ck.rec.ID, 0
		return nil, nil, err
	}
	if ck.rec.ID != keyID {
		t.keyID, t.keyVersion = ck.rec.ID, 0
		return nil, nil, Errorf(CodeWrongKey, "the ciphertext was not made with key %q", ck.rec.Name)
	}
	ve, err := s.usableVersion(ctx, kr, ck, c.KeyVersion,
		use{op: lifecycle.Decrypt, purpose: crypto.PurposeEncrypt, verb: "decrypt", allowCompromised: req.AllowCompromised}, t)
	if err != nil {
		return nil, nil, err
	}
	vk, err := ve.forContext(ck.id, ck.rec.Algorithm, b.Context)
	if err != nil {
		return nil, nil, derivedError(err)
	}
	if compromisedUse(ck, ve) {
		// Decrypting with compromised material is its own permission,
		// and may be under dual control.
		if err := s.authorize(ctx, t, access.KeyDecryptCompromised, keyResource(ck.rec), b.Context); err != nil {
			return nil, nil, err
		}
		op, verb := OpDecrypt, "decrypt"
		if action == access.KeyRewrap {
			op, verb = OpRewrap, "rewrap"
		}
		if err := s.dualControl(ctx, kr, t, gated{action: access.KeyDecryptCompromised, op: op, keyID: ck.rec.ID,
			summary: fmt.Sprintf("%s a ciphertext (SHA-256 %s) of compromised version %d of key %q", verb, hashOf([]byte(ciphertext))[:16], c.KeyVersion, ck.rec.Name),
			parts:   []string{string(action), hashOf([]byte(ciphertext)), hashOf(b.AssociatedData), hashOf(crypto.CanonicalContext(b.Context))}}); err != nil {
			return nil, nil, err
		}
	}
	pt, err := vk.Open(c, b)
	if errors.Is(err, crypto.ErrWrongKey) {
		return nil, nil, Errorf(CodeWrongKey, "the ciphertext does not match key %q", ck.rec.Name)
	}
	var hsmErr *Error
	if errors.As(err, &hsmErr) {
		return nil, nil, hsmErr
	}
	if err != nil {
		return nil, nil, Errorf(CodeDecryptionFailed, "decryption failed: the ciphertext was altered or the associated data or context differ")
	}
	if compromisedUse(ck, ve) {
		t.compromisedUse = true
	}
	return ck, &PlaintextResult{KeyID: keyID, KeyVersion: c.KeyVersion, Plaintext: secret.New(pt)}, nil
}

// Encrypt encrypts plaintext under the primary version of a key.
func (s *Service) Encrypt(ctx context.Context, req EncryptRequest) (res *CiphertextResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpEncrypt, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	return s.encrypt(ctx, kr, req, t, access.KeyEncrypt)
}

// Decrypt decrypts a ciphertext; the key and version come from the
// ciphertext itself.
func (s *Service) Decrypt(ctx context.Context, req DecryptRequest) (res *PlaintextResult, err error) {
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
	_, res, err = s.decrypt(ctx, kr, req, t, access.KeyDecrypt)
	return res, err
}

// rewrap decrypts and re-encrypts under the primary version of the same key.
// The plaintext never leaves this function and is wiped.
func (s *Service) rewrap(ctx context.Context, kr *seal.Keyring, req DecryptRequest, t *target) (*CiphertextResult, error) {
	if req.Key == "" {
		return nil, Errorf(CodeInvalidArgument, "key is required")
	}
	ck, pt, err := s.decrypt(ctx, kr, req, t, access.KeyRewrap)
	if err != nil {
		return nil, err
	}
	defer pt.Plaintext.Wipe()
	t.fromVersion = pt.KeyVersion
	return s.encrypt(ctx, kr, EncryptRequest{Key: ck.rec.ID, Plaintext: pt.Plaintext.Reveal(), Binding: req.Binding}, t, access.KeyRewrap)
}

// Rewrap re-encrypts a ciphertext under the key's current primary version
// without returning the plaintext.
func (s *Service) Rewrap(ctx context.Context, req DecryptRequest) (res *CiphertextResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpRewrap, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	return s.rewrap(ctx, kr, req, t)
}

// GenerateDataKey returns a fresh random data key (AES-128 or AES-256
// sized) and the same key encrypted under the primary version of Key.
func (s *Service) GenerateDataKey(ctx context.Context, req DataKeyRequest) (res *DataKeyResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpDataKey, t, err); err != nil && res != nil {
			res.Plaintext.Wipe()
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	bits := req.Bits
	if bits == 0 {
		bits = 256
	}
	if bits != 128 && bits != 256 && bits != 512 {
		return nil, Errorf(CodeInvalidArgument, "bits must be 128, 256 or 512")
	}
	dek, err := secret.Random(bits / 8)
	if err != nil {
		return nil, internal("generate data key", err)
	}
	ct, err := s.encrypt(ctx, kr, EncryptRequest{Key: req.Key, Plaintext: dek.Reveal(), Binding: req.Binding}, t, access.KeyDataKey)
	if err != nil {
		dek.Wipe()
		return nil, err
	}
	res = &DataKeyResult{CiphertextResult: *ct, Plaintext: dek}
	if req.WithoutPlaintext {
		dek.Wipe()
		res.Plaintext = nil
	}
	return res, nil
}

// Random returns n bytes from crypto/rand.
func (s *Service) Random(ctx context.Context, n int) (b []byte, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpRandom, t, err); err != nil {
			b = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	kr.Release()
	if err := s.authorize(ctx, t, access.RandomGenerate, access.Resource{}, nil); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxRandomBytes {
		return nil, Errorf(CodeInvalidArgument, "bytes must be between 1 and %d", MaxRandomBytes)
	}
	b = make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, internal("random", err)
	}
	return b, nil
}

// purposePublicKey is the purpose asked of keys whose public key is read:
// signing and asymmetric encryption keys serve it.
const purposePublicKey crypto.Purpose = "public-key"

// serves reports whether keys of algorithm a serve purpose p. Symmetric and
// asymmetric encryption keys both encrypt and decrypt.
func serves(a crypto.Algorithm, p crypto.Purpose) bool {
	switch p {
	case crypto.PurposeEncrypt:
		return a.Encrypts()
	case purposePublicKey:
		return a.Purpose() == crypto.PurposeSign || a.Purpose() == crypto.PurposeAsymmetric
	}
	return a.Purpose() == p
}

// requirePurpose refuses an operation the key's algorithm does not do.
func requirePurpose(ck *cachedKey, p crypto.Purpose, op string) error {
	if !serves(ck.rec.Algorithm, p) {
		return Errorf(CodeUnsupportedOperation, "key %q is an %s key: it cannot %s", ck.rec.Name, ck.rec.Algorithm, op)
	}
	return nil
}

// derivedError reports a derived key used without a context.
func derivedError(err error) error {
	if errors.Is(err, crypto.ErrContextRequired) {
		return Errorf(CodeInvalidArgument, "%s", err.Error())
	}
	return internal("derive subkey", err)
}
