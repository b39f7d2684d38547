package kubekms

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/status"
	"k8s.io/kms/pkg/service"

	"github.com/arcakms/arca/client"
)

// DefaultStatusTTL is how long Status reuses its last answer.
// kube-apiserver calls Status for its health checks and to learn the key
// id; a short cache spares the server bursts of them, while a sealed or
// stopped server still turns healthz non-ok within about a second.
const DefaultStatusTTL = time.Second

// APIVersion is the KMS API version Status reports.
const APIVersion = "v2"

// healthzOK is the healthz of a plugin whose server answered.
const healthzOK = "ok"

// statusCache holds the last Status answer. One caller at a time asks the
// server for a new one; the others wait for it or for their context.
type statusCache struct {
	ttl     time.Duration
	refresh chan struct{} // a one-slot lock, held while asking the server

	mu      sync.Mutex
	keyID   string // the last key id the server gave; "" before the first
	healthz string
	at      time.Time // when the answer was made; zero means stale
}

func (c *statusCache) init(ttl time.Duration) {
	if ttl == 0 {
		ttl = DefaultStatusTTL
	}
	c.ttl = ttl
	c.refresh = make(chan struct{}, 1)
}

// fresh returns the cached answer if it is younger than the TTL.
func (c *statusCache) fresh() (*service.StatusResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= c.ttl {
		return nil, false
	}
	return &service.StatusResponse{Version: APIVersion, Healthz: c.healthz, KeyID: c.keyID}, true
}

// seen records that Encrypt used keyID: if it is not the cached key id,
// the key has rotated and the cached answer is dropped.
func (c *statusCache) seen(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if keyID != c.keyID {
		c.at = time.Time{}
	}
}

// Status reports whether the Arca server answers for the plugin's key,
// and the key id of the key's primary version. A server that does not
// answer (stopped, sealed, or refusing the plugin's identity) gives a
// healthz other than "ok", with the reason, and the last key id known.
func (p *Plugin) Status(ctx context.Context) (*service.StatusResponse, error) {
	if r, ok := p.status.fresh(); ok {
		return r, nil
	}
	select {
	case p.status.refresh <- struct{}{}:
		defer func() { <-p.status.refresh }()
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if r, ok := p.status.fresh(); ok {
		return r, nil // another caller asked meanwhile
	}
	var key *client.Key
	err := p.call(ctx, func(ctx context.Context, c *client.Client) error {
		var err error
		key, err = c.GetKey(ctx, p.key)
		return err
	})
	if ctx.Err() != nil {
		// The caller gave up: that says nothing of the server.
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return p.status.store(p, key, err), nil
}

// store caches the outcome of asking the server and logs changes of
// health or key id.
func (c *statusCache) store(p *Plugin, key *client.Key, err error) *service.StatusResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	wasOK := c.healthz == healthzOK
	if err == nil && (key.State != "active" || key.PrimaryVersion == 0) {
		// The server answers, but Encrypt would fail: kube-apiserver must
		// see that in Status, its only health signal.
		err = fmt.Errorf("key %q is %s with primary version %d: it cannot encrypt", p.key, key.State, key.PrimaryVersion)
	}
	if err != nil {
		c.healthz = status.Convert(grpcError("status", err)).Message()
		if wasOK || c.at.IsZero() {
			p.log.Warn("kms-plugin unhealthy", "key", p.key, "error", c.healthz)
		}
	} else {
		keyID := KeyID(key.ID, key.PrimaryVersion)
		if c.keyID != "" && keyID != c.keyID {
			p.log.Info("kms-plugin key rotated", "key", p.key, "old_key_id", c.keyID, "key_id", keyID)
		}
		if !wasOK {
			p.log.Info("kms-plugin healthy", "key", p.key, "key_id", keyID)
		}
		c.keyID, c.healthz = keyID, healthzOK
	}
	c.at = time.Now()
	return &service.StatusResponse{Version: APIVersion, Healthz: c.healthz, KeyID: c.keyID}
}
