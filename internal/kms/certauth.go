package kms

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"regexp"

	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// nsCertBindings maps a client certificate's public-key fingerprint to the
// identity it authenticates.
const nsCertBindings storage.Namespace = "cert_bindings"

var fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CertFingerprint is how a client certificate names its identity: the hex
// SHA-256 of its SubjectPublicKeyInfo. It survives re-issuing the
// certificate for the same key (renewal), and changes when the key does.
func CertFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// validFingerprints checks certificate fingerprints given for an identity.
func validFingerprints(fps []string) error {
	if len(fps) > 16 {
		return Errorf(CodeInvalidArgument, "at most 16 certificates per identity")
	}
	seen := map[string]bool{}
	for _, fp := range fps {
		if !fingerprintPattern.MatchString(fp) {
			return Errorf(CodeInvalidArgument, "certificates must be hex SHA-256 fingerprints of the certificate's public key (64 lowercase hex digits)")
		}
		if seen[fp] {
			return Errorf(CodeInvalidArgument, "certificate %s… is listed twice", fp[:16])
		}
		seen[fp] = true
	}
	return nil
}

// bindCertificates points each fingerprint at the identity, inside tx,
// replacing the bindings in old; a fingerprint bound to another identity
// is refused.
func bindCertificates(tx storage.Tx, kr *seal.Keyring, identityID string, old, next []string) error {
	for _, fp := range old {
		if err := tx.Delete(nsCertBindings, fp); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	for _, fp := range next {
		v, err := encodeRecord(kr, nsCertBindings, fp, nameIndex{ID: identityID})
		if err != nil {
			return err
		}
		if _, err := tx.Create(nsCertBindings, fp, v); errors.Is(err, storage.ErrExists) {
			return Errorf(CodeConflict, "certificate %s… is already bound to another identity", fp[:16])
		} else if err != nil {
			return err
		}
	}
	return nil
}

// AuthenticateCertificate maps a verified client certificate (the TLS
// layer checked its chain against the configured client CAs) to the
// identity its public key is bound to. Like Authenticate, it reads the
// binding and the identity on every request, so unbinding, disabling or
// deleting applies to the very next one.
func (s *Service) AuthenticateCertificate(ctx context.Context, cert *x509.Certificate) (*Identity, error) {
	kr, err := s.unsealed()
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authBrake(ctx); err != nil {
		return nil, err
	}
	fp := CertFingerprint(cert)
	var id *Identity
	err = s.store.View(ctx, func(tx storage.Tx) error {
		var idx nameIndex
		if _, err := getRecord(tx, kr, nsCertBindings, fp, &idx); err != nil {
			return err
		}
		ir, _, err := loadIdentity(tx, kr, idx.ID)
		if err != nil {
			return err
		}
		if ir.Status != StatusActive {
			return errUnauthorized
		}
		id, err = s.identityFromRecord(tx, kr, ir)
		return err
	})
	key := "cert:" + fp
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, errUnauthorized) {
		s.grace.forget(key)
		s.limits.failed(RequestFrom(ctx).Source, s.now())
		return nil, Errorf(CodeUnauthorized, "the client certificate is not bound to an active identity")
	}
	if err != nil {
		if id := s.grace.during(err, key, s.now()); id != nil {
			return id, nil
		}
		return nil, storageError("authenticate certificate", err)
	}
	id.Method, id.Credential = "mtls", "cert:"+fp[:16]
	s.grace.confirmed(key, id, cert.NotAfter, s.now())
	return id, nil
}
