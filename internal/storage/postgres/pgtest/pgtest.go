// Package pgtest gives tests a real PostgreSQL to run against: the server at
// ARCA_TEST_POSTGRES_DSN (default: postgres@127.0.0.1:5432, database test),
// and a fresh schema per test, dropped when the test ends.
//
// Without a reachable server a test is skipped, except under CI=true, where
// it fails: CI installs and starts PostgreSQL (scripts/ensure-postgres).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server tests use unless ARCA_TEST_POSTGRES_DSN says otherwise.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN returns the test server's DSN, once it has checked that it answers.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ARCA_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = DefaultDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI and does not answer: %v", err)
		}
		t.Skipf("PostgreSQL is not reachable (set ARCA_TEST_POSTGRES_DSN, or run make test as root to install it): %v", err)
	}
	_ = conn.Close(ctx)
	return dsn
}

// Schema returns the name of a schema no other test uses, and drops it, with
// everything in it, when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "arca_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Conn opens a plain connection to the test server with schema first on
// the search path, for tests that look at tables directly.
func Conn(t testing.TB, schema string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// Addr returns the host:port of the test server, and Via the test DSN
// pointed at another address (a proxy in front of the server).
func Addr(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(DSN(t))
	if err != nil || u.Host == "" {
		t.Fatalf("ARCA_TEST_POSTGRES_DSN must be a postgres:// URL with a host: %v", err)
	}
	return u.Host
}

// Via returns the test DSN with its address replaced by addr.
func Via(t testing.TB, addr string) string {
	t.Helper()
	u, err := url.Parse(DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// Proxy forwards TCP connections to the test server until Cut, which closes
// every connection and refuses new ones until Restore: a database that
// becomes unreachable mid-run, without stopping the shared server.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

// StartProxy starts a proxy in front of the test server, closed when the
// test ends.
func StartProxy(t testing.TB) *Proxy {
	t.Helper()
	target := Addr(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.Cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go pipe(c, u)
			go pipe(u, c)
		}
	}()
	return p
}

func pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

// Addr is the proxy's host:port, for Via.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore accepts connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
