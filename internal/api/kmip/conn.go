package kmip

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
)

// conn is one client connection: a TLS session whose verified client
// certificate names the caller, carrying any number of request messages,
// one at a time, each answered before the next is read.
type conn struct {
	s      *Server
	nc     net.Conn
	tc     *tls.Conn
	br     *bufio.Reader
	source string // the client's IP address, as access conditions expect

	mu   sync.Mutex
	idle bool // waiting for the first byte of a request
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, source: hostOf(nc.RemoteAddr())}
}

func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// serve runs the connection until the client leaves, an error makes the
// stream unusable, or the server closes. A panic ends only this
// connection.
func (c *conn) serve() {
	defer func() {
		if p := recover(); p != nil {
			c.s.log.Error("kmip: panic serving connection; connection closed", "source", c.source, "panic", p, "stack", string(debug.Stack()))
		}
		_ = c.nc.Close()
	}()
	cert, err := c.handshake()
	if err != nil {
		c.s.log.Debug("kmip: TLS handshake failed", "source", c.source, "error", err)
		return
	}
	for {
		if !c.waitForRequest() {
			return
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(c.s.opts.ReadTimeout))
		raw, err := ttlv.ReadMessage(c.br, c.s.opts.MaxMessageSize)
		if err != nil {
			c.readFailed(err)
			return
		}
		resp, keep := c.s.handleMessage(context.Background(), c, cert, raw)
		clear(raw) // the request may have carried key material or plaintext
		if resp != nil {
			if err := c.write(resp.bytes); err != nil {
				resp.done()
				c.s.log.Debug("kmip: write failed; connection closed", "source", c.source, "error", err)
				return
			}
			resp.done()
		}
		if !keep {
			return
		}
	}
}

// handshake completes TLS within HandshakeTimeout and returns the
// client's verified leaf certificate.
func (c *conn) handshake() (*x509.Certificate, error) {
	done, ok := c.s.startHandshake(c.source)
	if !ok {
		return nil, errors.New("too many TLS handshakes under way from this source")
	}
	defer done()
	c.tc = tls.Server(c.nc, c.s.tls)
	c.nc = c.tc
	c.br = bufio.NewReaderSize(c.tc, 16<<10)
	ctx, cancel := context.WithTimeout(context.Background(), c.s.opts.HandshakeTimeout)
	defer cancel()
	_ = c.tc.SetDeadline(time.Now().Add(c.s.opts.HandshakeTimeout))
	if err := c.tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	_ = c.tc.SetDeadline(time.Time{})
	st := c.tc.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return nil, errors.New("no verified client certificate")
	}
	return st.VerifiedChains[0][0], nil
}

// waitForRequest waits up to IdleTimeout for the first byte of the next
// request. It returns false when the client left, idled too long, or the
// server is closing.
func (c *conn) waitForRequest() bool {
	c.mu.Lock()
	if c.s.closing.Load() {
		c.mu.Unlock()
		return false
	}
	c.idle = true
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
	c.mu.Unlock()

	_, err := c.br.Peek(1)

	c.mu.Lock()
	c.idle = false
	c.mu.Unlock()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && !c.s.closing.Load() {
			c.s.log.Debug("kmip: idle connection closed", "source", c.source)
		}
		return false
	}
	return true
}

// wake closes the connection if it is idle, so that Close need not wait
// for IdleTimeout; a connection receiving or processing a request is left
// to finish it and then sees that the server is closing.
func (c *conn) wake() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle {
		_ = c.nc.SetReadDeadline(time.Now())
	}
}

// readFailed logs why a request could not be framed. After a framing
// error the stream cannot be resynchronised, so the connection closes.
func (c *conn) readFailed(err error) {
	switch {
	case errors.Is(err, io.EOF):
	case errors.Is(err, ttlv.ErrMalformed):
		c.s.log.Info("kmip: malformed message framing; connection closed", "source", c.source, "error", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.s.log.Info("kmip: request not received within the read timeout; connection closed", "source", c.source)
	default:
		c.s.log.Debug("kmip: read failed; connection closed", "source", c.source, "error", err)
	}
}

func (c *conn) write(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	_, err := c.nc.Write(b)
	return err
}
