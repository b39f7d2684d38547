package kms

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/arcakms/arca/internal/access"
)

// TestTOTPLoginSatisfiesMFAConditions: a human enrols TOTP, confirms it,
// and logs in for a session token; a statement requiring MFA allows the
// session token and denies the plain token (condition_mfa), and denies
// the session once the MFA is older than mfa_max_age. Codes are single-use,
// wrong codes lock TOTP, service identities have none, an admin resets it.
func TestTOTPLoginSatisfiesMFAConditions(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	a.putPolicy(t, access.Policy{Name: "mfa-decrypt", Statements: []access.Statement{{
		Effect: access.Allow, Actions: []string{"key:encrypt"}, Resources: []string{"key:*"},
		Conditions: access.Conditions{MFA: true, MFAMaxAge: access.Duration(10 * time.Minute)},
	}}})
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: "alice", Type: IdentityHuman, Policies: []string{"mfa-decrypt"}}); err != nil {
		t.Fatal(err)
	}
	plain := a.issue(t, "alice", 0).Token

	// Without MFA the statement does not apply.
	ctx, _, err := a.encryptAs(t, plain, "", "k", nil)
	a.wantDenied(t, "encrypt without MFA", ctx, err, access.ReasonMFA)

	// Login needs a confirmed enrolment.
	_, err = a.svc.Login(a.as(t, plain, ""), "123456")
	wantCode(t, "login before enrolment", err, CodeMFANotEnrolled)
	enr, err := a.svc.EnrollTOTP(a.as(t, plain, ""))
	if err != nil || enr.Secret == "" || enr.URL == "" {
		t.Fatalf("enroll: %+v %v", enr, err)
	}
	code := func() string {
		t.Helper()
		c, err := totp.GenerateCode(enr.Secret, a.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, err = a.svc.Login(a.as(t, plain, ""), code())
	wantCode(t, "login before confirmation", err, CodeMFANotEnrolled)
	wantCode(t, "confirm with a wrong code", a.svc.ConfirmTOTP(a.as(t, plain, ""), "abcdef"), CodeMFAFailed)
	if err := a.svc.ConfirmTOTP(a.as(t, plain, ""), code()); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	// The confirmation's code is spent: the same code cannot log in.
	_, err = a.svc.Login(a.as(t, plain, ""), code())
	wantCode(t, "replayed code", err, CodeMFAFailed)

	a.clock.Advance(30 * time.Second)
	sess, err := a.svc.Login(a.as(t, plain, ""), code())
	if err != nil || sess.ExpiresAt.Sub(a.clock.Now()) != SessionTTL {
		t.Fatalf("login: %+v %v", sess, err)
	}
	ctx, _, err = a.encryptAs(t, sess.Token, "", "k", nil)
	a.wantAllowed(t, "encrypt with a fresh MFA session", ctx, err)
	ctx, _, err = a.encryptAs(t, plain, "", "k", nil)
	a.wantDenied(t, "the plain token still lacks MFA", ctx, err, access.ReasonMFA)

	// Older than mfa_max_age: denied; past the session's life: unauthenticated.
	a.clock.Advance(11 * time.Minute)
	ctx, _, err = a.encryptAs(t, sess.Token, "", "k", nil)
	a.wantDenied(t, "MFA older than mfa_max_age", ctx, err, access.ReasonMFA)
	a.clock.Advance(5 * time.Minute)
	wantAuth(t, "expired session", a.svc, sess.Token, false)

	// Five wrong codes lock TOTP for a while, even for right codes.
	for range mfaMaxFailures {
		_, err = a.svc.Login(a.as(t, plain, ""), "000000x")
		wantCode(t, "wrong code", err, CodeMFAFailed)
	}
	a.clock.Advance(30 * time.Second)
	_, err = a.svc.Login(a.as(t, plain, ""), code())
	wantCode(t, "right code while locked", err, CodeMFAFailed)
	a.clock.Advance(mfaLockout)
	if _, err := a.svc.Login(a.as(t, plain, ""), code()); err != nil {
		t.Fatalf("login after the lockout: %v", err)
	}

	// Enrolled once; an admin resets; services and root have no TOTP.
	_, err = a.svc.EnrollTOTP(a.as(t, plain, ""))
	wantCode(t, "second enrolment", err, CodeConflict)
	if err := a.svc.ResetTOTP(a.ctx(), "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.EnrollTOTP(a.as(t, plain, "")); err != nil {
		t.Fatalf("enroll after reset: %v", err)
	}
	svcTok := a.login(t, "robot", nil)
	_, err = a.svc.EnrollTOTP(a.as(t, svcTok, ""))
	wantCode(t, "service identity enrols", err, CodeUnsupportedOperation)
	_, err = a.svc.EnrollTOTP(a.ctx())
	wantCode(t, "root token enrols", err, CodeUnsupportedOperation)
}
