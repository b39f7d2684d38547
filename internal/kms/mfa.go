package kms

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names of multi-factor authentication in audit records.
const (
	OpMFAEnroll  = "mfa.totp.enroll"
	OpMFAConfirm = "mfa.totp.confirm"
	OpMFAReset   = "mfa.totp.reset"
	OpLogin      = "auth.login"
)

const (
	nsMFA      storage.Namespace = "mfa"
	mfaAAD                       = "arca/v1/totp-secret\x00"
	totpPeriod                   = 30 * time.Second
	// SessionTTL is the lifetime of a session token from login.
	SessionTTL = 15 * time.Minute
	// mfaMaxFailures wrong codes in a row lock TOTP for mfaLockout.
	mfaMaxFailures = 5
	mfaLockout     = 5 * time.Minute
)

var totpOpts = totp.ValidateOpts{Period: uint(totpPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// mfaRecord is a human identity's TOTP enrolment. Secret is sealed under
// the keyring, bound to the identity.
type mfaRecord struct {
	IdentityID  string    `json:"identity_id"`
	Secret      []byte    `json:"secret"`
	Confirmed   bool      `json:"confirmed"`
	EnrolledAt  time.Time `json:"enrolled_at"`
	LastStep    int64     `json:"last_step"` // time step of the last accepted code
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// TOTPEnrolment is a new TOTP secret, shown once: the otpauth:// URL for an
// authenticator app and the base32 secret for manual entry.
type TOTPEnrolment struct {
	URL    string
	Secret string
}

// humanCaller returns the caller's identity record, refusing the root
// token and service identities: TOTP is for people.
func (s *Service) humanCaller(ctx context.Context, tx storage.Tx, kr *seal.Keyring) (*identityRecord, error) {
	id := RequestFrom(ctx).Identity
	if id == nil || id.IdentityID == "" {
		return nil, Errorf(CodeUnsupportedOperation, "multi-factor authentication is for human identities; the root token has none")
	}
	ir, _, err := loadIdentity(tx, kr, id.IdentityID)
	if err != nil {
		return nil, err
	}
	if ir.Type != IdentityHuman {
		return nil, Errorf(CodeUnsupportedOperation, "multi-factor authentication is for human identities; %q is a service", ir.Name)
	}
	return ir, nil
}

// EnrollTOTP starts the caller's own TOTP enrolment (RFC 6238: SHA-1, six
// digits, 30 s). Until confirmed with a code, the secret does not count.
// An identity with a confirmed enrolment must have it reset first.
func (s *Service) EnrollTOTP(ctx context.Context) (out *TOTPEnrolment, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpMFAEnroll, t, err); err != nil {
			out = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	err = s.update(ctx, OpMFAEnroll, t, func(tx storage.Tx) error {
		ir, err := s.humanCaller(ctx, tx, kr)
		if err != nil {
			return err
		}
		t.resource = ir.ID
		var cur mfaRecord
		if _, err := getRecord(tx, kr, nsMFA, ir.ID, &cur); err == nil && cur.Confirmed {
			return Errorf(CodeConflict, "identity %q already has TOTP; an administrator must reset it first", ir.Name)
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Arca", AccountName: ir.Name, SecretSize: 20})
		if err != nil {
			return internal("generate totp secret", err)
		}
		sealed, err := kr.Seal([]byte(key.Secret()), []byte(mfaAAD+ir.ID))
		if err != nil {
			return err
		}
		rec := mfaRecord{IdentityID: ir.ID, Secret: sealed, EnrolledAt: s.now().UTC()}
		v, err := encodeRecord(kr, nsMFA, ir.ID, &rec)
		if err != nil {
			return err
		}
		if _, err := tx.Put(nsMFA, ir.ID, v); err != nil {
			return err
		}
		out = &TOTPEnrolment{URL: key.URL(), Secret: key.Secret()}
		return nil
	})
	if err != nil {
		return nil, storageError("enroll totp", err)
	}
	return out, nil
}

// checkCode verifies a TOTP code against rec at now, in constant time, and
// refuses replays (a code of a time step already used) and codes while
// locked out. It updates rec's replay and failure state either way.
func (s *Service) checkCode(ctx context.Context, kr *seal.Keyring, rec *mfaRecord, code string, now time.Time) error {
	if now.Before(rec.LockedUntil) {
		return Errorf(CodeMFAFailed, "too many wrong codes: TOTP is locked until %s", rec.LockedUntil.Format(time.RFC3339))
	}
	secret, err := s.openSealed(ctx, kr, rec.Secret, []byte(mfaAAD+rec.IdentityID))
	if err != nil {
		return errTampered(nsMFA, rec.IdentityID)
	}
	defer secret.Wipe()
	step := now.Unix() / int64(totpPeriod/time.Second)
	matched := int64(-1)
	for _, st := range []int64{step - 1, step, step + 1} {
		want, err := totp.GenerateCodeCustom(string(secret.Reveal()), time.Unix(st*int64(totpPeriod/time.Second), 0), totpOpts)
		if err != nil {
			return internal("totp", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = st
		}
	}
	if matched < 0 || matched <= rec.LastStep {
		rec.Failures++
		if rec.Failures >= mfaMaxFailures {
			rec.LockedUntil, rec.Failures = now.Add(mfaLockout), 0
		}
		return Errorf(CodeMFAFailed, "the TOTP code is wrong, expired or already used")
	}
	rec.LastStep, rec.Failures = matched, 0
	return nil
}

// ConfirmTOTP completes the caller's enrolment with a first valid code.
func (s *Service) ConfirmTOTP(ctx context.Context, code string) (err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpMFAConfirm, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	return s.withMFA(ctx, kr, t, func(tx storage.Tx, ir *identityRecord, rec *mfaRecord) error {
		if rec.Confirmed {
			return Errorf(CodeConflict, "TOTP is already confirmed")
		}
		if err := s.checkCode(ctx, kr, rec, code, s.now()); err != nil {
			return err
		}
		rec.Confirmed = true
		return nil
	})
}

// withMFA loads the caller's enrolment, runs fn, and stores the record
// whether fn succeeded or not (failure counters must persist), auditing
// the change with op.
func (s *Service) withMFA(ctx context.Context, kr *seal.Keyring, t *target, fn func(tx storage.Tx, ir *identityRecord, rec *mfaRecord) error) error {
	var fnErr error
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		ir, err := s.humanCaller(ctx, tx, kr)
		if err != nil {
			return err
		}
		t.resource = ir.ID
		var rec mfaRecord
		rev, err := getRecord(tx, kr, nsMFA, ir.ID, &rec)
		if errors.Is(err, storage.ErrNotFound) {
			return Errorf(CodeMFANotEnrolled, "identity %q has no TOTP enrolment", ir.Name)
		}
		if err != nil {
			return err
		}
		fnErr = fn(tx, ir, &rec)
		v, err := encodeRecord(kr, nsMFA, ir.ID, &rec)
		if err != nil {
			return err
		}
		_, err = tx.CompareAndSwap(nsMFA, ir.ID, v, rev)
		return err
	})
	if err != nil {
		return storageError("totp", err)
	}
	return fnErr
}

// LoginResult is a session token: short-lived, marked as having passed MFA.
type LoginResult struct {
	Token     string
	Accessor  string
	ExpiresAt time.Time
}

// Login exchanges the caller's token and a TOTP code for a session token
// that carries the time of this second factor, so that policies requiring
// MFA (within a maximum age) allow its requests. Session tokens last
// SessionTTL and do not renew.
func (s *Service) Login(ctx context.Context, code string) (res *LoginResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpLogin, t, err); err != nil {
			res = nil
		}
	}()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	now := s.now().UTC()
	err = s.withMFA(ctx, kr, t, func(tx storage.Tx, ir *identityRecord, rec *mfaRecord) error {
		if !rec.Confirmed {
			return Errorf(CodeMFANotEnrolled, "TOTP enrolment of %q is not confirmed", ir.Name)
		}
		return s.checkCode(ctx, kr, rec, code, now)
	})
	if err != nil {
		return nil, err
	}
	token, hash, err := newToken()
	if err != nil {
		return nil, internal("generate token", err)
	}
	rec := &tokenRecord{Hash: hash, Accessor: "ses-" + uuid.NewString(), Name: "session", CreatedAt: now,
		ExpiresAt: now.Add(SessionTTL), IdentityID: caller.IdentityID, CreatedBy: caller.ID, MFAAt: now}
	err = s.update(ctx, OpLogin, t, func(tx storage.Tx) error {
		if err := putToken(tx, kr, rec); err != nil {
			return err
		}
		return putAccessor(tx, kr, rec)
	})
	if err != nil {
		return nil, storageError("login", err)
	}
	return &LoginResult{Token: token, Accessor: rec.Accessor, ExpiresAt: rec.ExpiresAt}, nil
}

// ResetTOTP removes an identity's TOTP enrolment (lost device); it then
// enrolls again. It needs identity:update.
func (s *Service) ResetTOTP(ctx context.Context, identity string) (err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpMFAReset, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.IdentityUpdate, access.Resource{}, nil); err != nil {
		return err
	}
	// Resetting lets the identity enrol a new device: a change of its
	// credentials, under the same dual control as its grants.
	spend, err := s.dualControlIn(ctx, kr, t, gated{action: access.IdentityUpdate, op: OpMFAReset,
		summary: fmt.Sprintf("reset the TOTP enrolment of identity %q", identity), parts: []string{"totp-reset", identity}})
	if err != nil {
		return err
	}
	err = s.update(ctx, OpMFAReset, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		ir, _, err := loadIdentity(tx, kr, identity)
		if errors.Is(err, storage.ErrNotFound) {
			return identityNotFound(identity)
		}
		if err != nil {
			return err
		}
		t.resource = ir.ID
		if err := tx.Delete(nsMFA, ir.ID); errors.Is(err, storage.ErrNotFound) {
			return Errorf(CodeMFANotEnrolled, "identity %q has no TOTP enrolment", ir.Name)
		} else if err != nil {
			return err
		}
		return nil
	})
	return storageErrorOrNil("reset totp", err)
}
