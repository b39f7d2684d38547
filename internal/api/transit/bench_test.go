package transit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
)

// BenchmarkEncrypt1KiB encrypts 1 KiB through each door over loopback
// HTTP, in parallel, with the same service, store and audit log (group
// committed, without fsync): the difference is the adapters' cost.
func BenchmarkEncrypt1KiB(b *testing.B) {
	e := newEnv(b, Options{})
	e.must(b, 200, "PUT", "/v1/transit/keys/bench", ``)
	pt := make([]byte, 1024)
	_, _ = rand.Read(pt)
	p64 := base64.StdEncoding.EncodeToString(pt)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	doors := []struct {
		name, url, header, value string
	}{
		{"transit", e.srv.URL + "/v1/transit/encrypt/bench", "X-Vault-Token", e.token},
		{"rest", e.rest.URL + "/v1/keys/bench/encrypt", "Authorization", "Bearer " + e.token},
	}
	body := []byte(`{"plaintext":"` + p64 + `"}`)
	for _, d := range doors {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(pt)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, err := http.NewRequest(http.MethodPost, d.url, bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					req.Header.Set(d.header, d.value)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
