package server

import (
	"testing"
)

// combinations returns every k-subset of indices 0..n-1.
func combinations(n, k int) [][]int {
	var out [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
	return out
}

func TestRestartSealsAndAnyThreeOfFiveSharesUnseal(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())

	st := n.must(200, "GET", "/v1/sys/seal-status", nil)
	if st.body["initialized"] != false || st.body["sealed"] != true {
		t.Fatalf("new server should be uninitialised and sealed: %s", st.raw)
	}
	wantError(t, n.callWith("POST", "/v1/keys", "arca_whatever-token", "application/json", `{"name":"k"}`), 503, "not_initialized")

	shares := initNode(t, n)
	wantError(t, n.call("POST", "/v1/sys/init", map[string]int{"shares": 5, "threshold": 3}), 409, "already_initialized")
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "payroll"})
	ct := n.encrypt("payroll", "salary: 1 000 000", map[string]string{"dept": "hr"})

	n.restart()
	st = n.must(200, "GET", "/v1/sys/seal-status", nil)
	if st.body["initialized"] != true || st.body["sealed"] != true || st.body["threshold"] != 3.0 || st.body["shares"] != 5.0 {
		t.Fatalf("restarted server should be initialised and sealed: %s", st.raw)
	}
	h := n.call("GET", "/v1/health", nil)
	if h.status != 503 || h.body["sealed"] != true {
		t.Fatalf("health of a sealed server: %d %s", h.status, h.raw)
	}
	for _, p := range []struct{ method, path string }{
		{"POST", "/v1/keys/payroll/encrypt"}, {"POST", "/v1/decrypt"}, {"GET", "/v1/keys"}, {"POST", "/v1/random"},
	} {
		wantError(t, n.call(p.method, p.path, `{}`), 503, "sealed")
	}

	// Two shares leave the server sealed.
	n.must(200, "POST", "/v1/sys/unseal", map[string]string{"share": shares[3]})
	st = n.must(200, "POST", "/v1/sys/unseal", map[string]string{"share": shares[1]})
	if st.body["sealed"] != true || st.body["progress"] != 2.0 {
		t.Fatalf("two shares must not unseal: %s", st.raw)
	}
	wantError(t, n.call("POST", "/v1/decrypt", map[string]string{"ciphertext": ct}), 503, "sealed")
	// Submitting the same share twice is refused and discards progress.
	wantError(t, n.call("POST", "/v1/sys/unseal", map[string]string{"share": shares[1]}), 400, "invalid_share")
	if st := n.must(200, "GET", "/v1/sys/seal-status", nil); st.body["progress"] != 0.0 || st.body["sealed"] != true {
		t.Fatalf("progress after a bad share: %s", st.raw)
	}

	// Every 3-subset of the 5 shares unseals, and old ciphertexts decrypt.
	for _, subset := range combinations(5, 3) {
		for _, i := range subset {
			n.must(200, "POST", "/v1/sys/unseal", map[string]string{"share": shares[i]})
		}
		if got := n.decrypt(ct, map[string]string{"dept": "hr"}); got != "salary: 1 000 000" {
			t.Fatalf("subset %v: decrypted %q", subset, got)
		}
		n.must(200, "POST", "/v1/sys/seal", nil)
		wantError(t, n.call("POST", "/v1/decrypt", map[string]string{"ciphertext": ct}), 503, "sealed")
	}

	// Shares of another server do not unseal this one, even a full quorum.
	other := startNode(t, t.TempDir())
	otherShares := initNode(t, other)
	for _, s := range otherShares[:2] {
		n.must(200, "POST", "/v1/sys/unseal", map[string]string{"share": s})
	}
	wantError(t, n.call("POST", "/v1/sys/unseal", map[string]string{"share": otherShares[2]}), 400, "invalid_share")
	if st := n.must(200, "GET", "/v1/sys/seal-status", nil); st.body["sealed"] != true {
		t.Fatalf("foreign shares unsealed the server: %s", st.raw)
	}

	// Malformed share, reset.
	wantError(t, n.call("POST", "/v1/sys/unseal", map[string]string{"share": "arca-share-1-AAAA"}), 400, "invalid_share")
	n.must(200, "POST", "/v1/sys/unseal", map[string]string{"share": shares[0]})
	if st := n.must(200, "POST", "/v1/sys/unseal", map[string]bool{"reset": true}); st.body["progress"] != 0.0 {
		t.Fatalf("reset did not discard progress: %s", st.raw)
	}
}

func TestInitParameters(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	for _, p := range []map[string]int{
		{"shares": 5, "threshold": 1}, {"shares": 3, "threshold": 4}, {"shares": 256, "threshold": 3}, {"shares": 0, "threshold": 0},
	} {
		wantError(t, n.call("POST", "/v1/sys/init", p), 400, "invalid_argument")
	}
	if st := n.must(200, "GET", "/v1/sys/seal-status", nil); st.body["initialized"] != false {
		t.Fatalf("rejected init changed state: %s", st.raw)
	}
}

func TestDevServerIsUnsealedAndLoopbackOnly(t *testing.T) {
	t.Parallel()
	n := startDev(t)
	if h := n.must(200, "GET", "/v1/health", nil); h.body["sealed"] != false {
		t.Fatalf("dev server sealed: %s", h.raw)
	}
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "dev"})
	if got := n.decrypt(n.encrypt("dev", "x", nil), nil); got != "x" {
		t.Fatalf("dev round trip: %q", got)
	}
	cfg := testConfig(t.TempDir())
	cfg.Listen = "0.0.0.0:0"
	if _, err := Start(t.Context(), cfg, Options{Dev: true, Logger: quietLogger()}); err == nil {
		t.Fatal("dev server started on a non-loopback address")
	}
	if _, err := Start(t.Context(), cfg, Options{Logger: quietLogger()}); err == nil {
		t.Fatal("plain HTTP server started on a non-loopback address")
	}
}
