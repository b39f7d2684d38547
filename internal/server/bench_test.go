package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/arcakms/arca/internal/config"
)

// benchServer starts a dev server for benchmarks; noSync turns off audit fsync.
func benchServer(b *testing.B, noSync bool) (*Server, *http.Client) {
	b.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Audit.NoSync = noSync
	srv, err := Start(context.Background(), cfg, Options{Dev: true, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	return srv, &http.Client{Transport: tr}
}

func benchPost(b *testing.B, hc *http.Client, url, token string, body []byte) []byte {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	return out
}

// BenchmarkEncrypt1KiB measures encrypt of 1 KiB over real HTTP, with the
// audit log fsync'd (group commit) and without fsync.
func BenchmarkEncrypt1KiB(b *testing.B) {
	for _, mode := range []struct {
		name   string
		noSync bool
	}{{"audit-fsync", false}, {"audit-nosync", true}} {
		b.Run(mode.name, func(b *testing.B) {
			srv, hc := benchServer(b, mode.noSync)
			benchPost(b, hc, srv.URL()+"/v1/keys", srv.RootToken(), []byte(`{"name":"bench"}`))
			body, _ := json.Marshal(map[string]any{"plaintext": make([]byte, 1024)})
			url := srv.URL() + "/v1/keys/bench/encrypt"
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchPost(b, hc, url, srv.RootToken(), body)
				}
			})
		})
	}
}
