package kms

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit bounds each identity's request rate: RequestsPerSecond on
// average, with bursts of up to Burst. Zero RequestsPerSecond means no
// limit.
type RateLimit struct {
	RequestsPerSecond float64
	Burst             int
}

// Limits of the failed-authentication brake: a source address with
// authFailureLimit failed authentications within authFailureWindow is
// refused (rate_limited) until the window has passed, which turns token
// guessing into a crawl.
const (
	authFailureLimit  = 10
	authFailureWindow = time.Minute
	maxTracked        = 100_000
)

// limiters holds the per-identity token buckets and the per-source
// authentication failure counts, both bounded in memory.
type limiters struct {
	mu       sync.Mutex
	cfg      RateLimit
	byID     map[string]*rate.Limiter
	failures map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	n     int
}

func newLimiters(cfg RateLimit) *limiters {
	return &limiters{cfg: cfg, byID: map[string]*rate.Limiter{}, failures: map[string]*failureWindow{}}
}

// allow takes one request of identity id from its bucket, or returns how
// long to wait.
func (l *limiters) allow(id string, now time.Time) (bool, time.Duration) {
	if l.cfg.RequestsPerSecond <= 0 {
		return true, 0
	}
	l.mu.Lock()
	lim, ok := l.byID[id]
	if !ok {
		if len(l.byID) >= maxTracked {
			clear(l.byID)
		}
		lim = rate.NewLimiter(rate.Limit(l.cfg.RequestsPerSecond), max(l.cfg.Burst, 1))
		l.byID[id] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// blocked reports whether source is braked for failed authentications, and
// until when.
func (l *limiters) blocked(source string, now time.Time) (bool, time.Duration) {
	if source == "" {
		return false, 0 // in-process callers have no address to brake
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.failures[source]
	if !ok || now.Sub(w.start) >= authFailureWindow {
		return false, 0
	}
	if w.n >= authFailureLimit {
		return true, authFailureWindow - now.Sub(w.start)
	}
	return false, 0
}

// failed counts one failed authentication from source.
func (l *limiters) failed(source string, now time.Time) {
	if source == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.failures[source]
	if !ok || now.Sub(w.start) >= authFailureWindow {
		if len(l.failures) >= maxTracked {
			clear(l.failures)
		}
		w = &failureWindow{start: now}
		l.failures[source] = w
	}
	w.n++
}

// rateLimited is the refusal of a request over its identity's or source's
// budget; RetryAfter says when to try again.
func rateLimited(what string, d time.Duration) *Error {
	secs := int(math.Ceil(d.Seconds()))
	return &Error{Code: CodeRateLimited, RetryAfter: time.Duration(secs) * time.Second,
		Message: fmt.Sprintf("%s: retry in %d s", what, secs)}
}

// throttle applies the identity's rate limit to the request in ctx.
func (s *Service) throttle(ctx context.Context, id *Identity) error {
	if ok, d := s.limits.allow(id.ID, s.now()); !ok {
		return rateLimited(fmt.Sprintf("identity %q is over its rate limit (%g requests/s)", callerName(id), s.limits.cfg.RequestsPerSecond), d)
	}
	return nil
}

// authBrake refuses authentication from a source with too many recent
// failures, and counts failures.
func (s *Service) authBrake(ctx context.Context) error {
	if ok, d := s.limits.blocked(RequestFrom(ctx).Source, s.now()); ok {
		return rateLimited("too many failed authentications from this address", d)
	}
	return nil
}
