package rest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/arcakms/arca/internal/kms"
)

// TestSealedServer checks every route of a sealed server: authenticated
// routes answer 503 sealed whatever the token, body or query (the seal is
// checked before anything else), while the unauthenticated routes still
// answer. Two ways to be sealed are covered: sealing a running server
// through the API, and restarting an initialised server (which always
// starts sealed, with no tokens cached).
func TestSealedServer(t *testing.T) {
	t.Run("sealed through the API", func(t *testing.T) {
		env := newDevEnv(t)
		rec := env.serve(http.MethodPost, "/v1/sys/seal", "", nil, true)
		if rec.Code != http.StatusOK {
			t.Fatalf("seal: %d %s", rec.Code, rec.Body)
		}
		if st := decodeSealStatus(t, rec); !st.Sealed || !st.Initialized {
			t.Fatalf("seal answered %+v", st)
		}
		checkSealedRoutes(t, env)
	})
	t.Run("restarted", func(t *testing.T) {
		dir := t.TempDir()
		first, err := openRestEnv(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := first.devInit(); err != nil {
			first.close()
			t.Fatal(err)
		}
		if err := first.seedKeys(); err != nil {
			first.close()
			t.Fatal(err)
		}
		first.close()
		env, err := openRestEnv(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(env.close)
		env.token = first.token // valid, but unverifiable while sealed
		checkSealedRoutes(t, env)
	})
}

// TestUninitialisedServer checks the same for a server that was never
// initialised: authenticated routes answer 503 not_initialized.
func TestUninitialisedServer(t *testing.T) {
	env, err := openRestEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.close)
	env.token = "arca_not-a-real-token-0123456789"
	for _, rt := range env.h.Routes() {
		if !rt.Auth {
			continue
		}
		for _, withToken := range []bool{false, true} {
			rec := env.serve(rt.Method, fillPath(rt.Path, "alpha"), "", nil, withToken)
			wantError(t, rt.Method+" "+rt.Path, rec, kms.CodeNotInitialized)
		}
	}
	rec := env.serve(http.MethodGet, "/v1/health", "", nil, false)
	if msg := checkEnvelope(rec); msg != "" || rec.Code != http.StatusServiceUnavailable {
		t.Errorf("health: %d %s %s", rec.Code, msg, rec.Body)
	}
	rec = env.serve(http.MethodPost, "/v1/sys/unseal", "application/json", []byte(`{"share":"x"}`), false)
	wantError(t, "unseal", rec, kms.CodeNotInitialized)
}

type sealStatusBody struct {
	Initialized, Sealed         bool
	Shares, Threshold, Progress int
	Version                     string
}

func decodeSealStatus(t *testing.T, rec *httptest.ResponseRecorder) sealStatusBody {
	t.Helper()
	if msg := checkEnvelope(rec); msg != "" {
		t.Fatalf("seal status: %s", msg)
	}
	var st sealStatusBody
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("seal status %s: %v", rec.Body, err)
	}
	return st
}

func checkSealedRoutes(t *testing.T, env *restEnv) {
	t.Helper()
	if !env.svc.Status().Sealed {
		t.Fatal("the server is not sealed")
	}
	bogus := *env
	bogus.token = "arca_bogus-token-000000000000000"
	malformed := *env
	malformed.token = "" // "Bearer " with nothing after it
	seen := map[string]bool{}
	for _, rt := range env.h.Routes() {
		target := fillPath(rt.Path, "alpha")
		where := rt.Method + " " + rt.Path
		if !rt.Auth {
			seen[where] = true
			continue
		}
		// Authenticated: sealed, whatever else is wrong with the request.
		requests := []struct {
			what        string
			e           *restEnv
			withToken   bool
			target      string
			contentType string
			body        []byte
		}{
			{"root token", env, true, target, "", nil},
			{"no token", env, false, target, "", nil},
			{"unknown token", &bogus, true, target, "", nil},
			{"empty bearer", &malformed, true, target, "", nil},
			{"root token, malformed body", env, true, target, "application/json", []byte(`{"no_such_field":`)},
			{"root token, wrong content type", env, true, target, "text/plain", []byte(`{}`)},
			{"root token, query", env, true, target + "?limit=1&bogus=1", "", nil},
		}
		for _, r := range requests {
			rec := r.e.serve(rt.Method, r.target, r.contentType, r.body, r.withToken)
			wantError(t, where+" ("+r.what+")", rec, kms.CodeSealed)
		}
	}

	// Unauthenticated routes still answer.
	rec := env.serve(http.MethodGet, "/v1/health", "", nil, false)
	if msg := checkEnvelope(rec); msg != "" {
		t.Errorf("health: %s", msg)
	}
	var health struct {
		Initialized, Sealed bool
		Version             string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &health); err != nil || rec.Code != http.StatusServiceUnavailable || !health.Sealed || !health.Initialized {
		t.Errorf("health: %d %s (%v), want 503 with initialized and sealed", rec.Code, rec.Body, err)
	}

	rec = env.serve(http.MethodGet, "/v1/sys/seal-status", "", nil, false)
	if st := decodeSealStatus(t, rec); rec.Code != http.StatusOK || !st.Sealed || !st.Initialized || st.Shares != 1 || st.Threshold != 1 || st.Progress != 0 {
		t.Errorf("seal-status: %d %s", rec.Code, rec.Body)
	}

	rec = env.serve(http.MethodPost, "/v1/sys/init", "application/json", []byte(`{"shares":3,"threshold":2}`), false)
	wantError(t, "init", rec, kms.CodeAlreadyInitialized)

	rec = env.serve(http.MethodPost, "/v1/sys/unseal", "", nil, false)
	wantError(t, "unseal without a share", rec, kms.CodeInvalidArgument)
	rec = env.serve(http.MethodPost, "/v1/sys/unseal", "application/json", []byte(`{"share":"not-a-share"}`), false)
	wantError(t, "unseal with a malformed share", rec, kms.CodeInvalidShare)
	rec = env.serve(http.MethodPost, "/v1/sys/unseal", "application/json", []byte(`{"reset":true}`), false)
	if st := decodeSealStatus(t, rec); rec.Code != http.StatusOK || !st.Sealed {
		t.Errorf("unseal reset: %d %s", rec.Code, rec.Body)
	}
	rec = env.serve(http.MethodPost, "/v1/sys/unseal", "application/json", []byte(`{"no_such_field":1}`), false)
	wantError(t, "unseal with an unknown field", rec, kms.CodeUnknownField)

	// Root token generation needs an unsealed server.
	rec = env.serve(http.MethodPost, "/v1/sys/generate-root", "application/json", []byte(`{"share":"not-a-share"}`), false)
	wantError(t, "generate-root while sealed", rec, kms.CodeSealed)

	// Routing errors are unchanged by the seal.
	wantError(t, "unknown route", env.serve(http.MethodGet, "/v1/nope", "", nil, true), kms.CodeNotFound)
	wantError(t, "wrong method", env.serve(http.MethodDelete, "/v1/keys", "", nil, true), kms.CodeMethodNotAllowed)

	// The routes checked above are exactly the unauthenticated ones.
	want := []string{"GET /v1/health", "GET /v1/sys/seal-status", "POST /v1/sys/init", "POST /v1/sys/unseal", "POST /v1/sys/generate-root"}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("unauthenticated route %s is not in the route table", w)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("unauthenticated routes %v, this test checks %v", seen, want)
	}
	if !env.svc.Status().Sealed {
		t.Error("the server is no longer sealed")
	}
}
