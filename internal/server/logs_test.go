package server

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

func TestServerLogNeverHoldsSecrets(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig(t.TempDir())
	srv, err := Start(context.Background(), cfg, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, dir: "", srv: srv, url: srv.URL(), http: newHTTPClient()}
	t.Cleanup(n.stop)
	shares := initNode(t, n)
	const marker = "LOG-PLAINTEXT-MARKER-92d1"
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "logged"})
	ct := n.encrypt("logged", marker, map[string]string{"ctx": "LOG-CONTEXT-7731"})
	dk := n.must(200, "POST", "/v1/keys/logged/datakey", nil)
	n.call("POST", "/v1/keys/logged/decrypt", map[string]any{"ciphertext": ct, "context": map[string]string{"ctx": "wrong"}})
	n.callWith("GET", "/v1/keys", "arca_"+marker, "", nil)
	n.call("POST", "/v1/sys/unseal", map[string]string{"share": shares[0]})
	n.stop()
	out := logs.Bytes()
	for what, s := range map[string]string{
		"plaintext": marker, "plaintext base64": b64(marker), "context": "LOG-CONTEXT-7731",
		"root token": n.token, "data key": dk.str("plaintext"), "share": shares[0],
	} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("server log contains the %s", what)
		}
	}
}
