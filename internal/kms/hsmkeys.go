package kms

import (
	"context"
	gocrypto "crypto"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/hsm"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// HSM-protected keys: the material of every version is generated inside
// the token (non-extractable, sensitive) and never leaves it; the token
// performs AES-GCM and signs. Their ciphertexts and signatures are those
// of software keys of the same algorithm, so the API is the same; the
// version records hold the token object's label and, for signing keys,
// the public key (for verification, done here).

// Protection levels of a key.
const (
	// ProtectionSoftware keys have material sealed by the keyring and
	// used in this process.
	ProtectionSoftware = "software"
	// ProtectionHSM keys live in the HSM of the PKCS#11 seal.
	ProtectionHSM = "hsm"
)

// KeyHSM is what HSM-protected keys need of a token (hsm.HSM and
// hsm.Reconnecting implement it).
type KeyHSM interface {
	GenerateAESKey(label string) error
	GenerateKeyPair(label string, kind hsm.PairKind) (gocrypto.PublicKey, error)
	SealGCM(label string, nonce, plaintext, aad []byte) ([]byte, error)
	OpenGCM(label string, nonce, sealed, aad []byte) ([]byte, error)
	Signer(label string, pub gocrypto.PublicKey) gocrypto.Signer
	GenerateHMACKey(label string, kind hsm.HMACKind) error
	HMAC(label string, kind hsm.HMACKind, data []byte) ([]byte, error)
	DestroyKey(label string) error
}

// hsmPairKinds are the signing algorithms an HSM-protected key may have,
// with the token's key pair kind.
var hsmPairKinds = map[crypto.Algorithm]hsm.PairKind{
	crypto.ECDSAP256: hsm.ECP256,
	crypto.ECDSAP384: hsm.ECP384,
	crypto.RSA2048:   hsm.RSA2048,
	crypto.RSA3072:   hsm.RSA3072,
	crypto.RSA4096:   hsm.RSA4096,
}

// hsmHMACKinds are the MAC algorithms an HSM-protected key may have, with
// the token's HMAC key kind.
var hsmHMACKinds = map[crypto.Algorithm]hsm.HMACKind{
	crypto.HMACSHA256: hsm.HMACSHA256,
	crypto.HMACSHA384: hsm.HMACSHA384,
	crypto.HMACSHA512: hsm.HMACSHA512,
}

// hsmAlgorithms lists, for messages, what protection hsm supports.
const hsmAlgorithms = "aes-256-gcm, ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, hmac-sha256, hmac-sha384, hmac-sha512"

// hsmSupports reports whether protection hsm supports alg.
func hsmSupports(alg crypto.Algorithm) bool {
	_, pair := hsmPairKinds[alg]
	_, mac := hsmHMACKinds[alg]
	return pair || mac || alg == crypto.AES256GCM
}

// validateProtection checks a new key's protection level against its
// algorithm and options, and returns it normalised.
func (r *CreateKeyRequest) validateProtection(alg crypto.Algorithm) (string, error) {
	switch r.Protection {
	case "", ProtectionSoftware:
		return ProtectionSoftware, nil
	case ProtectionHSM:
	default:
		return "", Errorf(CodeInvalidArgument, "protection must be %q or %q", ProtectionSoftware, ProtectionHSM)
	}
	if !hsmSupports(alg) {
		return "", Errorf(CodeInvalidArgument, "protection hsm supports %s", hsmAlgorithms)
	}
	switch {
	case r.Exportable:
		return "", Errorf(CodeInvalidArgument, "HSM-protected keys never leave the HSM: they cannot be exportable")
	case r.Import != nil || r.PendingImport:
		return "", Errorf(CodeInvalidArgument, "HSM-protected keys are generated in the HSM: they cannot be imported")
	case r.Derived:
		return "", Errorf(CodeInvalidArgument, "HSM-protected keys cannot be derived")
	}
	return ProtectionHSM, nil
}

// hsmKey is a key generated in the token for one version.
type hsmKey struct {
	label string
	// publicKey is the SubjectPublicKeyInfo of a key pair.
	publicKey []byte
}

// hsmUnavailable reports a token failure as a 503 that names no secret.
func hsmUnavailable(what string, err error) *Error {
	return &Error{Code: CodeUnavailable, Message: "the HSM " + what + "; retry later", Err: err}
}

// generateHSMKey has the token generate the material of a new version of
// an alg key. Each version is its own token object, labelled
// arca-key-<random uuid>.
func (s *Service) generateHSMKey(alg crypto.Algorithm) (*hsmKey, error) {
	if s.hsm == nil {
		return nil, Errorf(CodeInvalidArgument, "this server has no HSM configured (seal.pkcs11)")
	}
	hk := &hsmKey{label: versionLabelPrefix + uuid.NewString()}
	if alg == crypto.AES256GCM {
		if err := s.hsm.GenerateAESKey(hk.label); err != nil {
			return nil, hsmUnavailable("did not generate the key", err)
		}
		return hk, nil
	}
	if kind, ok := hsmHMACKinds[alg]; ok {
		if err := s.hsm.GenerateHMACKey(hk.label, kind); err != nil {
			return nil, hsmUnavailable("did not generate the key", err)
		}
		return hk, nil
	}
	pub, err := s.hsm.GenerateKeyPair(hk.label, hsmPairKinds[alg])
	if err != nil {
		return nil, hsmUnavailable("did not generate the key", err)
	}
	if hk.publicKey, err = x509.MarshalPKIXPublicKey(pub); err != nil {
		s.discardHSMKey(hk)
		return nil, internal("encode the public key", err)
	}
	return hk, nil
}

// discardHSMKey destroys a key generated for a version that was never
// stored.
func (s *Service) discardHSMKey(hk *hsmKey) {
	if hk == nil {
		return
	}
	if err := s.hsm.DestroyKey(hk.label); err != nil {
		s.log.Warn("destroy an unused HSM key", "label", hk.label, "error", err)
	}
}

// hsmGenerated is the provenance of material generated by the token.
func (s *Service) hsmGenerated() Provenance {
	return Provenance{Generator: "pkcs11", EntropySource: "hsm", ServerVersion: s.serverVersion}
}

// hsmVersion is the record of version v of an HSM-protected key.
func (s *Service) hsmVersion(keyID string, alg crypto.Algorithm, v uint32, hk *hsmKey, by string, now time.Time) *versionRecord {
	return &versionRecord{
		KeyID: keyID, Version: v, Algorithm: alg, Purpose: string(alg.Purpose()), CreatedAt: now, CreatedBy: by,
		Provenance: s.hsmGenerated(),
		HSMLabel:   hk.label,
		PublicKey:  hk.publicKey,
		tombstone:  tombstone{State: lifecycle.Active},
	}
}

// hsmVersionKey builds the ready-to-use version whose material is the
// token object of vr.
func (s *Service) hsmVersionKey(id [16]byte, vr *versionRecord) (*crypto.VersionKey, error) {
	if s.hsm == nil {
		return nil, Errorf(CodeUnavailable, "version %d of this key is in an HSM, and this server has none configured", vr.Version)
	}
	if vr.Algorithm == crypto.AES256GCM {
		return crypto.NewExternalVersionKey(id, vr.Version, vr.Algorithm, hsmAEAD{s.hsm, vr.HSMLabel}, nil)
	}
	if kind, ok := hsmHMACKinds[vr.Algorithm]; ok {
		return crypto.NewExternalMACVersionKey(id, vr.Version, vr.Algorithm, hsmMAC{s.hsm, vr.HSMLabel, kind})
	}
	pub, err := x509.ParsePKIXPublicKey(vr.PublicKey)
	if err != nil {
		return nil, err
	}
	return crypto.NewExternalVersionKey(id, vr.Version, vr.Algorithm, nil, hsmSigner{s.hsm.Signer(vr.HSMLabel, pub)})
}

// hsmAEAD is the token's AES-GCM under one key, with token failures
// reported as 503s and failed authentication as crypto.ErrDecrypt.
type hsmAEAD struct {
	h     KeyHSM
	label string
}

func (a hsmAEAD) SealGCM(nonce, plaintext, ad []byte) ([]byte, error) {
	out, err := a.h.SealGCM(a.label, nonce, plaintext, ad)
	if err != nil {
		return nil, hsmUnavailable("did not encrypt", err)
	}
	return out, nil
}

func (a hsmAEAD) OpenGCM(nonce, sealed, ad []byte) ([]byte, error) {
	out, err := a.h.OpenGCM(a.label, nonce, sealed, ad)
	if errors.Is(err, hsm.ErrDecrypt) {
		return nil, crypto.ErrDecrypt
	}
	if err != nil {
		return nil, hsmUnavailable("did not decrypt", err)
	}
	return out, nil
}

// hsmMAC is the token's HMAC under one key, with token failures reported
// as 503s.
type hsmMAC struct {
	h     KeyHSM
	label string
	kind  hsm.HMACKind
}

func (m hsmMAC) MAC(data []byte) ([]byte, error) {
	out, err := m.h.HMAC(m.label, m.kind, data)
	if err != nil {
		return nil, hsmUnavailable("did not compute the MAC", err)
	}
	return out, nil
}

// hsmSigner reports the token's failures as 503s.
type hsmSigner struct{ gocrypto.Signer }

func (s hsmSigner) Sign(rand io.Reader, digest []byte, opts gocrypto.SignerOpts) ([]byte, error) {
	sig, err := s.Signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, hsmUnavailable("did not sign", err)
	}
	return sig, nil
}

// nsTokenObjects lists the HSM objects of destroyed versions still to be
// destroyed in the token, by label.
const nsTokenObjects storage.Namespace = "hsm_objects_to_destroy"

// tokenObject is an entry of nsTokenObjects.
type tokenObject struct {
	KeyID   string `json:"key_id"`
	Version uint32 `json:"version"`
}

// listTokenObject records, in the transaction that destroys version v of
// keyID, that its token object labelled label must be destroyed.
func listTokenObject(tx storage.Tx, kr *seal.Keyring, label, keyID string, v uint32) error {
	rec, err := encodeRecord(kr, nsTokenObjects, label, tokenObject{KeyID: keyID, Version: v})
	if err != nil {
		return err
	}
	_, err = tx.Put(nsTokenObjects, label, rec)
	return err
}

// destroyTokenObject destroys a listed token object and then its entry.
// Without the HSM it fails, and the scheduler retries.
func (s *Service) destroyTokenObject(ctx context.Context, kr *seal.Keyring, label string) error {
	if s.hsm == nil {
		return Errorf(CodeUnavailable, "HSM object %q awaits destruction, and this server has no HSM configured", label)
	}
	// The entry must pass its integrity check, and name a key version's
	// object, before anything is destroyed: a forged entry must not
	// destroy a live key, let alone the seal's.
	if !isVersionLabel(label) {
		return errTampered(nsTokenObjects, label)
	}
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var obj tokenObject
		_, err := getRecord(tx, kr, nsTokenObjects, label, &obj)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil // another node did it
	}
	if err != nil {
		return err
	}
	if err := s.hsm.DestroyKey(label); err != nil && !errors.Is(err, hsm.ErrNoKey) {
		return hsmUnavailable("did not destroy the key", err)
	}
	err = s.store.Update(ctx, func(tx storage.Tx) error { return tx.Delete(nsTokenObjects, label) })
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// versionLabelPrefix starts the label of every key version's token object.
const versionLabelPrefix = "arca-key-"

// isVersionLabel reports whether label is one generateHSMKey makes.
func isVersionLabel(label string) bool {
	id, ok := strings.CutPrefix(label, versionLabelPrefix)
	return ok && isUUID(id)
}

// destroyListedTokenObjects retries the destruction of every listed token
// object; it returns how many went.
func (s *Service) destroyListedTokenObjects(ctx context.Context, kr *seal.Keyring) (int, error) {
	var labels []string
	err := s.store.View(ctx, func(tx storage.Tx) error {
		return eachItem(tx, nsTokenObjects, func(it storage.Item) error {
			labels = append(labels, it.Key)
			return nil
		})
	})
	if err != nil {
		return 0, storageError("list HSM objects to destroy", err)
	}
	n := 0
	var errs []error
	for _, label := range labels {
		if err := s.destroyTokenObject(ctx, kr, label); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
