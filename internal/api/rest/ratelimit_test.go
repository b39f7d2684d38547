package rest

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/arcakms/arca/internal/kms"
)

// TestAuthFailuresGet429WithRetryAfter: after repeated wrong tokens from
// one address, its requests get 429 rate_limited with a Retry-After header.
func TestAuthFailuresGet429WithRetryAfter(t *testing.T) {
	e := newDevEnv(t)
	good := e.token
	e.token = "arca_wrong-guess"
	for range 10 {
		if rec := e.serve(http.MethodGet, "/v1/keys", "", nil, true); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token: %d %s", rec.Code, rec.Body)
		}
	}
	e.token = good
	rec := e.serve(http.MethodGet, "/v1/keys", "", nil, true)
	code, msg := parseError(rec)
	if rec.Code != http.StatusTooManyRequests || code != kms.CodeRateLimited || msg != "" {
		t.Fatalf("after 10 failures: %d %s (%s)", rec.Code, rec.Body, msg)
	}
	if s, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
}
