package kmip

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arcakms/arca/internal/kms"
)

// Defaults for the zero fields of Options.
const (
	// DefaultMaxMessageSize bounds one request message, header included.
	DefaultMaxMessageSize = 1 << 20
	// DefaultReadTimeout bounds the TLS handshake and the reading of one
	// request once its first byte has arrived.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds the writing of one response.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a connection that sends nothing for this
	// long between requests.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxConns bounds the connections served at once.
	DefaultMaxConns = 1024
	// DefaultHandshakeTimeout bounds the TLS handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultMaxHandshakesPerSource bounds the connections one source
	// address may hold in the TLS handshake at once.
	DefaultMaxHandshakesPerSource = 32
)

// Options configures a Server.
type Options struct {
	// TLSConfig holds the server's certificates and the client CAs
	// (ClientCAs). The server clones it and enforces what KMIP needs over
	// it: TLS 1.2 or later and a client certificate that verifies against
	// ClientCAs, whose public key maps to an Arca identity. Required.
	TLSConfig *tls.Config
	// Logger receives operational logs (never key material). Defaults to
	// slog.Default().
	Logger *slog.Logger
	// MaxMessageSize bounds one request message, header included, before
	// any of it is buffered (default DefaultMaxMessageSize).
	MaxMessageSize int
	// ReadTimeout bounds the reading of one request once it has started
	// (default DefaultReadTimeout), so a client that stalls mid-message is
	// dropped.
	ReadTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake (default
	// DefaultHandshakeTimeout), and MaxHandshakesPerSource the handshakes
	// one source address may have under way (default
	// DefaultMaxHandshakesPerSource): a client without a certificate
	// cannot hold the connection slots for long, nor all of them.
	HandshakeTimeout       time.Duration
	MaxHandshakesPerSource int
	// WriteTimeout bounds the writing of one response (default
	// DefaultWriteTimeout), so a client that does not read is dropped.
	WriteTimeout time.Duration
	// IdleTimeout closes a connection idle between requests for this long
	// (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// MaxConns bounds the connections served at once; further clients wait
	// in the listen backlog (default DefaultMaxConns).
	MaxConns int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.MaxHandshakesPerSource <= 0 {
		o.MaxHandshakesPerSource = DefaultMaxHandshakesPerSource
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	return o
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("kmip: server closed")

// Server serves KMIP over mutually authenticated TLS in front of a
// kms.Service. It is safe for concurrent use; one Server may Serve several
// listeners.
type Server struct {
	svc  *kms.Service
	opts Options
	log  *slog.Logger
	tls  *tls.Config
	err  error // configuration error, reported by Serve

	closing atomic.Bool
	slots   chan struct{} // one token per connection being served

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	wg        sync.WaitGroup

	hsMu       sync.Mutex
	handshakes map[string]int // handshakes under way, by source address
}

// NewServer returns a KMIP server over svc. Configuration errors (no
// TLSConfig, no certificate, no client CAs) are reported by Serve.
func NewServer(svc *kms.Service, opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		svc: svc, opts: opts, log: opts.Logger,
		slots:      make(chan struct{}, opts.MaxConns),
		listeners:  map[net.Listener]struct{}{},
		conns:      map[*conn]struct{}{},
		handshakes: map[string]int{},
	}
	s.tls, s.err = serverTLS(opts.TLSConfig)
	return s
}

// serverTLS clones the caller's configuration and enforces mutual TLS 1.2+.
func serverTLS(in *tls.Config) (*tls.Config, error) {
	if in == nil {
		return nil, errors.New("kmip: Options.TLSConfig is required")
	}
	if len(in.Certificates) == 0 && in.GetCertificate == nil && in.GetConfigForClient == nil {
		return nil, errors.New("kmip: Options.TLSConfig has no server certificate")
	}
	if in.ClientCAs == nil && in.GetConfigForClient == nil {
		return nil, errors.New("kmip: Options.TLSConfig has no ClientCAs: KMIP clients authenticate by certificate")
	}
	cfg := in.Clone()
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg, nil
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Close. It returns ErrServerClosed after Close, or the error that
// stopped accepting. ln is closed when Serve returns.
func (s *Server) Serve(ln net.Listener) error {
	if s.err != nil {
		_ = ln.Close()
		return s.err
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
	}()

	var backoff time.Duration
	for {
		s.slots <- struct{}{} // wait for a free connection slot
		nc, err := ln.Accept()
		if err != nil {
			<-s.slots
			if s.closing.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("kmip: accept: %w", err)
			}
			// Anything else (out of file descriptors, a connection reset
			// before it was accepted) passes: back off and keep serving.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("kmip: accept failed; retrying", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		if !s.track(c) {
			<-s.slots
			_ = nc.Close()
			return ErrServerClosed
		}
		go func() {
			defer func() {
				s.untrack(c)
				<-s.slots
			}()
			c.serve()
		}()
	}
}

// track registers a connection unless the server is closing.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Close stops the server gracefully: it stops accepting, lets every
// request being processed finish and its response be written, closes idle
// connections at once, and returns when all connections are closed.
// Requests still arriving are bounded by ReadTimeout.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing.Store(true)
	var err error
	for ln := range s.listeners {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, fmt.Errorf("kmip: close listener: %w", cerr))
		}
	}
	for c := range s.conns {
		c.wake()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// startHandshake counts a handshake from source, unless that source has
// MaxHandshakesPerSource under way; done ends it.
func (s *Server) startHandshake(source string) (done func(), ok bool) {
	source = handshakeSource(source)
	s.hsMu.Lock()
	defer s.hsMu.Unlock()
	if s.handshakes[source] >= s.opts.MaxHandshakesPerSource {
		return nil, false
	}
	s.handshakes[source]++
	return func() {
		s.hsMu.Lock()
		defer s.hsMu.Unlock()
		if s.handshakes[source]--; s.handshakes[source] <= 0 {
			delete(s.handshakes, source)
		}
	}, true
}

// handshakeSource is what the handshake limit counts by: the address, or
// for IPv6 its /64, which one client usually holds whole.
func handshakeSource(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Is4() || a.Is4In6() {
		return addr
	}
	p, err := a.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
