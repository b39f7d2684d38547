// Package bench is Arca's load tool: it drives a running server with N
// concurrent clients for a fixed time and reports throughput and latency
// percentiles. It can measure a no-op HTTP handler in the same run, so a
// result can be read as a share of what the machine's HTTP stack allows.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
)

// Operations the load tool can drive.
const (
	OpEncrypt = "encrypt"
	OpDecrypt = "decrypt"
	OpDataKey = "datakey"
)

// Config describes one load run.
type Config struct {
	// Addr is the server's base URL, or several separated by commas (the
	// nodes of a cluster): setting up uses the first, and the clients are
	// spread over all of them in turn.
	Addr string
	// Token is the bearer token.
	Token string
	// Op is OpEncrypt, OpDecrypt or OpDataKey.
	Op string
	// Key is the key to use; empty creates a fresh aes-256-gcm key.
	Key string
	// Size is the plaintext size in bytes for encrypt and decrypt.
	Size int
	// Clients is the number of concurrent clients (connections).
	Clients int
	// Duration is how long to drive load after a short warm-up.
	Duration time.Duration
	// Warmup runs before measuring (default 1s).
	Warmup time.Duration
	// TLS configures HTTPS.
	TLS *tls.Config
}

// Result is the outcome of one run.
type Result struct {
	Target   string
	Op       string
	Clients  int
	Size     int
	Requests int
	Errors   int
	Elapsed  time.Duration
	PerSec   float64
	P50, P99 time.Duration
	Max      time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%-8s %-8s clients=%-3d size=%-6d req=%-8d err=%-5d req/s=%-9.0f p50=%-9s p99=%-9s max=%s",
		r.Target, r.Op, r.Clients, r.Size, r.Requests, r.Errors, r.PerSec,
		r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

func (cfg Config) validate() error {
	if cfg.Clients < 1 || cfg.Duration <= 0 || cfg.Size < 0 || cfg.Warmup < 0 {
		return errors.New("bench: clients must be >= 1, duration > 0, warmup and size >= 0")
	}
	if cfg.Op != OpEncrypt && cfg.Op != OpDecrypt && cfg.Op != OpDataKey {
		return fmt.Errorf("bench: unknown operation %q (encrypt, decrypt, datakey)", cfg.Op)
	}
	return nil
}

// Run prepares the key and request body for cfg.Op, then drives load.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	hc := newHTTPClient(cfg.Clients, cfg.TLS)
	all := cfg.Addr
	cfg.Addr, _, _ = strings.Cut(all, ",")
	key := cfg.Key
	if key == "" {
		key = "bench-" + randomHex(6)
		if _, err := post(ctx, hc, cfg, "/v1/keys", map[string]string{"name": key}); err != nil {
			return Result{}, fmt.Errorf("bench: create key: %w", err)
		}
	}
	plaintext := make([]byte, cfg.Size)
	_, _ = rand.Read(plaintext)
	var path string
	var body []byte
	switch cfg.Op {
	case OpEncrypt:
		path, body = "/v1/keys/"+key+"/encrypt", mustJSON(map[string]any{"plaintext": plaintext})
	case OpDecrypt:
		resp, err := post(ctx, hc, cfg, "/v1/keys/"+key+"/encrypt", map[string]any{"plaintext": plaintext})
		if err != nil {
			return Result{}, fmt.Errorf("bench: prepare ciphertext: %w", err)
		}
		var ct struct {
			Ciphertext string `json:"ciphertext"`
		}
		if err := json.Unmarshal(resp, &ct, json.RejectUnknownMembers(false)); err != nil {
			return Result{}, fmt.Errorf("bench: prepare ciphertext: %w", err)
		}
		path, body = "/v1/decrypt", mustJSON(map[string]any{"ciphertext": ct.Ciphertext})
	case OpDataKey:
		path, body = "/v1/keys/"+key+"/datakey", []byte(`{}`)
	default:
		return Result{}, fmt.Errorf("bench: unknown operation %q (encrypt, decrypt, datakey)", cfg.Op)
	}
	cfg.Addr = all
	res := drive(ctx, hc, cfg, path, body)
	res.Target = "arca"
	return res, nil
}

// drive sends the same request from cfg.Clients goroutines, first for the
// warm-up, then for cfg.Duration, recording each latency.
func drive(ctx context.Context, hc *http.Client, cfg Config, path string, body []byte) Result {
	warmup := cfg.Warmup
	if warmup == 0 {
		warmup = time.Second
	}
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(cfg.Duration)
	lat := make([][]time.Duration, cfg.Clients)
	errs := make([]int, cfg.Clients)
	var wg sync.WaitGroup
	addrs := strings.Split(cfg.Addr, ",")
	for c := range cfg.Clients {
		cfg := cfg
		cfg.Addr = addrs[c%len(addrs)]
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				err := send(ctx, hc, cfg, path, body)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs[c]++
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	var all []time.Duration
	res := Result{Op: cfg.Op, Clients: cfg.Clients, Size: cfg.Size, Elapsed: cfg.Duration}
	for c := range lat {
		all = append(all, lat[c]...)
		res.Errors += errs[c]
	}
	slices.Sort(all)
	res.Requests = len(all)
	res.PerSec = float64(len(all)) / cfg.Duration.Seconds()
	if len(all) > 0 {
		res.P50 = all[len(all)*50/100]
		res.P99 = all[min(len(all)-1, len(all)*99/100)]
		res.Max = all[len(all)-1]
	}
	return res
}

func send(ctx context.Context, hc *http.Client, cfg Config, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Addr+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func post(ctx context.Context, hc *http.Client, cfg Config, path string, v any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Addr+path, bytes.NewReader(mustJSON(v)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cfg.Token)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

func newHTTPClient(clients int, tlsConfig *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = clients * 2
	tr.MaxIdleConnsPerHost = clients * 2
	tr.MaxConnsPerHost = clients
	tr.TLSClientConfig = tlsConfig
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
