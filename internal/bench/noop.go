package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"
)

// noopRequest mirrors the body of the operations the load tool sends, so the
// no-op handler does the same decoding work as the server's HTTP layer.
type noopRequest struct {
	Plaintext  []byte            `json:"plaintext"`
	Ciphertext string            `json:"ciphertext"`
	Context    map[string]string `json:"context"`
}

// noopResponse has the shape of an encrypt response.
type noopResponse struct {
	KeyID      string `json:"key_id"`
	KeyVersion uint32 `json:"key_version"`
	Ciphertext string `json:"ciphertext"`
}

// NoopServer starts a loopback HTTP server whose handler decodes the same
// JSON body as Arca and answers with a fixed response: the ceiling of the
// HTTP stack on this machine. It returns its base URL and a stop function.
func NoopServer() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	fixed, err := json.Marshal(noopResponse{KeyID: "00000000-0000-4000-8000-000000000000", KeyVersion: 1, Ciphertext: "arca:v1:noop"})
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		var req noopRequest
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, `{"error":{"code":"invalid_json","message":"bad body"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixed)
	})}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// RunNoop measures the no-op handler with the same clients, duration and
// body as cfg (cfg.Addr and cfg.Token are ignored).
func RunNoop(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	url, stop, err := NoopServer()
	if err != nil {
		return Result{}, err
	}
	defer stop()
	plaintext := make([]byte, cfg.Size)
	c := cfg
	c.Addr, c.Token = url, ""
	res := drive(ctx, newHTTPClient(cfg.Clients, nil), c, "/noop", mustJSON(map[string]any{"plaintext": plaintext}))
	res.Target = "noop"
	return res, nil
}
