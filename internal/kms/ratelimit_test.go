package kms

import (
	"context"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
)

// TestPerIdentityRateLimit: an identity over its budget is refused with
// rate_limited and a retry delay, without affecting other identities, and
// is served again once its bucket refills.
func TestPerIdentityRateLimit(t *testing.T) {
	t.Parallel()
	clock := &lcClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newTestEnv(t, envConfig{now: clock.Now})
	e.initAndUnseal(3, 2)
	a := &accEnv{testEnv: e, clock: clock}
	busy := a.login(t, "busy", []access.Binding{role(access.RoleCryptoUser)})
	calm := a.login(t, "calm", []access.Binding{role(access.RoleCryptoUser)})
	e.svc.limits = newLimiters(RateLimit{RequestsPerSecond: 1, Burst: 3})
	for i := range 3 {
		if _, err := a.svc.Random(a.as(t, busy, ""), 8); err != nil {
			t.Fatalf("request %d within the burst: %v", i+1, err)
		}
	}
	_, err := a.svc.Random(a.as(t, busy, ""), 8)
	wantCode(t, "request over the burst", err, CodeRateLimited)
	if e := AsError(err); e.RetryAfter < time.Second {
		t.Fatalf("RetryAfter %v", e.RetryAfter)
	}
	if _, err := a.svc.Random(a.as(t, calm, ""), 8); err != nil {
		t.Fatalf("another identity: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := a.svc.Random(a.as(t, busy, ""), 8); err != nil {
		t.Fatalf("after the bucket refilled: %v", err)
	}
}

// TestFailedAuthenticationsBrakeTheSource: after ten wrong tokens from one
// address within a minute, that address is refused (even with a valid
// token) until the minute has passed; other addresses are unaffected.
func TestFailedAuthenticationsBrakeTheSource(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	from := func(src string) context.Context {
		return WithRequest(context.Background(), &Request{ID: nextRequestID(), Source: src})
	}
	for range authFailureLimit {
		_, err := a.svc.Authenticate(from("203.0.113.9"), tokenPrefix+"guess")
		wantCode(t, "wrong token", err, CodeUnauthorized)
	}
	_, err := a.svc.Authenticate(from("203.0.113.9"), a.rootToken)
	wantCode(t, "valid token from a braked address", err, CodeRateLimited)
	if _, err := a.svc.Authenticate(from("198.51.100.1"), a.rootToken); err != nil {
		t.Fatalf("another address: %v", err)
	}
	a.clock.Advance(authFailureWindow)
	if _, err := a.svc.Authenticate(from("203.0.113.9"), a.rootToken); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestSealingIsNeverRateLimited: the emergency brake works even for an
// identity over its budget.
func TestSealingIsNeverRateLimited(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	e.svc.limits = newLimiters(RateLimit{RequestsPerSecond: 0.001, Burst: 1})
	if _, err := e.svc.Random(e.ctx(), 8); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Random(e.ctx(), 8)
	wantCode(t, "over the budget", err, CodeRateLimited)
	if st, err := e.svc.Seal(e.ctx()); err != nil || !st.Sealed {
		t.Fatalf("seal over the budget: %+v %v", st, err)
	}
}
