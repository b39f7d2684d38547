package kubekms

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/kms/pkg/service"

	"github.com/arcakms/arca/client"
)

// Config is what a Plugin needs.
type Config struct {
	// Key is the name (or id) of the Arca key that encrypts
	// kube-apiserver's data keys. The plugin's identity needs key:read,
	// key:encrypt and key:decrypt on it (the crypto-user role).
	Key string
	// Client calls the Arca server under the plugin's own identity.
	Client *client.Client
	// Reload, if set, builds a new Client with fresh credentials, for
	// example by reading the token file again. The plugin calls it when the
	// server answers 401, at most once a second, and retries the request
	// once with the new Client.
	Reload func() (*client.Client, error)
	// Logger receives the plugin's logs; nil means slog.Default().
	Logger *slog.Logger
	// Timeout bounds each call, retries included; zero means
	// DefaultTimeout. Keep it under kube-apiserver's KMS timeout (3 s by
	// default).
	Timeout time.Duration
	// StatusTTL is how long a Status answer is reused; zero means
	// DefaultStatusTTL.
	StatusTTL time.Duration
}

// Plugin implements k8s.io/kms's service.Service with an Arca key. It is
// safe for concurrent use.
type Plugin struct {
	key     string
	client  atomic.Pointer[client.Client]
	log     *slog.Logger
	timeout time.Duration
	status  statusCache

	reloadFn   func() (*client.Client, error)
	reloadMu   sync.Mutex
	lastReload time.Time
}

var _ service.Service = (*Plugin)(nil)

// New returns a Plugin for cfg. It does not contact the server: the
// server may be sealed or away when the plugin starts, and Status reports
// that until it answers.
func New(cfg Config) (*Plugin, error) {
	if cfg.Key == "" {
		return nil, errors.New("kubekms: no key given")
	}
	if cfg.Client == nil {
		return nil, errors.New("kubekms: no client given")
	}
	if cfg.Timeout < 0 || cfg.StatusTTL < 0 {
		return nil, errors.New("kubekms: negative timeout or status TTL")
	}
	p := &Plugin{key: cfg.Key, log: cfg.Logger, timeout: cfg.Timeout, reloadFn: cfg.Reload}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	p.status.init(cfg.StatusTTL)
	p.client.Store(cfg.Client)
	return p, nil
}

// Encrypt encrypts one data key of kube-apiserver under the primary
// version of the plugin's key. The request uid is only logged: Decrypt
// gets a different one, so it cannot be bound to the ciphertext.
func (p *Plugin) Encrypt(ctx context.Context, uid string, plaintext []byte) (*service.EncryptResponse, error) {
	start := time.Now()
	switch {
	case len(plaintext) == 0:
		return nil, status.Error(codes.InvalidArgument, "arca kms-plugin: encrypt: empty plaintext")
	case len(plaintext) >= MaxCiphertext:
		return nil, status.Errorf(codes.InvalidArgument, "arca kms-plugin: encrypt: plaintext of %d bytes cannot make a ciphertext of at most %d bytes", len(plaintext), MaxCiphertext)
	}
	var resp *client.EncryptResponse
	err := p.call(ctx, func(ctx context.Context, c *client.Client) error {
		var err error
		resp, err = c.Encrypt(ctx, p.key, client.EncryptRequest{Plaintext: plaintext})
		return err
	})
	if err != nil {
		return nil, p.fail("encrypt", uid, start, err)
	}
	ct, err := compact(resp.Ciphertext)
	if err != nil {
		return nil, p.fail("encrypt", uid, start, status.Errorf(codes.Internal, "arca kms-plugin: encrypt: %v", err))
	}
	if len(ct) > MaxCiphertext {
		return nil, p.fail("encrypt", uid, start, status.Errorf(codes.FailedPrecondition,
			"arca kms-plugin: encrypt: key %s made a ciphertext of %d bytes, more than %d: use a symmetric key (aes-256-gcm)", p.key, len(ct), MaxCiphertext))
	}
	keyID := KeyID(resp.KeyID, resp.KeyVersion)
	p.status.seen(keyID)
	p.log.Debug("kms-plugin encrypt", "uid", uid, "key_id", keyID, "duration", time.Since(start))
	return &service.EncryptResponse{
		Ciphertext:  ct,
		KeyID:       keyID,
		Annotations: map[string][]byte{FormatAnnotation: []byte(FormatCiphertextV1)},
	}, nil
}

// Decrypt decrypts a data key that Encrypt made, under whichever version
// of the plugin's key made it. It refuses a ciphertext whose key id or
// annotations are not those Encrypt returned with it, and one made with
// another Arca key (the server checks that, by the key named in the path).
func (p *Plugin) Decrypt(ctx context.Context, uid string, req *service.DecryptRequest) ([]byte, error) {
	start := time.Now()
	if err := checkAnnotations(req.Annotations); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "arca kms-plugin: decrypt: %v", err)
	}
	keyID, err := ciphertextKeyID(req.Ciphertext)
	switch {
	case err != nil && len(req.Ciphertext) > MaxCiphertext:
		return nil, status.Errorf(codes.InvalidArgument, "arca kms-plugin: decrypt: %v", err)
	case err != nil:
		// A ciphertext this plugin cannot read goes to the server all the
		// same: the server judges it, and its refusal is audited.
		keyID = req.KeyID
	}
	if req.KeyID != keyID {
		return nil, status.Errorf(codes.InvalidArgument, "arca kms-plugin: decrypt: the request's key id does not match the ciphertext's (%s)", keyID)
	}
	text := expand(req.Ciphertext)
	var plaintext []byte
	err = p.call(ctx, func(ctx context.Context, c *client.Client) error {
		resp, err := c.Decrypt(ctx, p.key, client.DecryptRequest{Ciphertext: text})
		if err != nil {
			return err
		}
		plaintext = resp.Plaintext
		return nil
	})
	if err != nil {
		return nil, p.fail("decrypt", uid, start, err)
	}
	p.log.Debug("kms-plugin decrypt", "uid", uid, "key_id", keyID, "duration", time.Since(start))
	return plaintext, nil
}

// fail logs a failed call and returns its gRPC error.
func (p *Plugin) fail(op, uid string, start time.Time, err error) error {
	err = grpcError(op, err)
	p.log.Warn("kms-plugin "+op+" failed", "uid", uid, "key", p.key, "duration", time.Since(start), "error", err)
	return err
}

// reload replaces the client through Config.Reload, at most once per
// reloadInterval, and reports whether it did.
func (p *Plugin) reload() bool {
	if p.reloadFn == nil {
		return false
	}
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if time.Since(p.lastReload) < reloadInterval {
		return false
	}
	p.lastReload = time.Now()
	c, err := p.reloadFn()
	if err != nil {
		p.log.Error("kms-plugin could not reload its credentials", "error", err)
		return false
	}
	if old := p.client.Swap(c); old != c {
		old.CloseIdleConnections()
	}
	p.log.Info("kms-plugin reloaded its credentials after a 401")
	return true
}
