package kubekms_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	kmsapi "k8s.io/kms/apis/v2"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/kubekms"
	"github.com/arcakms/arca/internal/server"
)

// Names used by every test server.
const (
	secretsKey = "k8s-secrets" // the plugin's key
	otherKey   = "other-app"   // a key the plugin's identity may not use
	pluginID   = "kube-apiserver-kms"
)

// kubeBudget is kube-apiserver's default time limit for a KMS v2 call.
const kubeBudget = 3 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// slogTo returns a debug-level logger writing to w.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// arca is a real dev-mode Arca server with the plugin's key, a second key,
// and a service identity that is a crypto-user of the plugin's key only.
type arca struct {
	srv   *server.Server
	root  *client.Client
	token string // the plugin identity's token
	key   *client.Key
}

// startArca starts a dev server (in-memory root key, temporary files) and
// sets it up as an operator would for the plugin.
func startArca(tb testing.TB) *arca {
	tb.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	srv, err := server.Start(context.Background(), cfg, server.Options{Dev: true, Logger: quietLogger()})
	if err != nil {
		tb.Fatalf("start arca: %v", err)
	}
	tb.Cleanup(func() { stopArca(tb, srv) })
	root, err := client.New(srv.URL(), client.WithToken(srv.RootToken()))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	key, err := root.CreateKey(ctx, client.CreateKeyRequest{Name: secretsKey, Algorithm: client.AlgorithmAES256GCM})
	if err != nil {
		tb.Fatalf("create key: %v", err)
	}
	if _, err := root.CreateKey(ctx, client.CreateKeyRequest{Name: otherKey, Algorithm: client.AlgorithmAES256GCM}); err != nil {
		tb.Fatalf("create key: %v", err)
	}
	if _, err := root.CreateIdentity(ctx, client.CreateIdentityRequest{
		Name: pluginID, Type: "service",
		Roles: []client.Role{{Role: "crypto-user", Scope: []string{"key:" + secretsKey}}},
	}); err != nil {
		tb.Fatalf("create identity: %v", err)
	}
	tok, err := root.CreateToken(ctx, pluginID, "1d", "kms-plugin")
	if err != nil {
		tb.Fatalf("create token: %v", err)
	}
	return &arca{srv: srv, root: root, token: tok.Token, key: key}
}

func stopArca(tb testing.TB, srv *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx) // a test may have stopped it already
}

// sdk returns a client of addr with token.
func sdk(tb testing.TB, addr, token string) *client.Client {
	tb.Helper()
	c, err := client.New(addr, client.WithToken(token))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// socketPath returns a socket path in a new short temporary directory:
// unix socket paths are limited to about 100 bytes, and t.TempDir's can
// be longer.
func socketPath(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "kms")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "p.sock")
}

// plugin is a running plugin and a kube-apiserver-like gRPC client of it.
type plugin struct {
	kms  kmsapi.KeyManagementServiceClient
	sock string
	logs *syncBuffer
}

// startPlugin runs the plugin for key on the server at addr with token,
// on a new socket, until the test ends.
func startPlugin(tb testing.TB, addr, token, key string) *plugin {
	tb.Helper()
	return startPluginWith(tb, kubekms.Config{Key: key, Client: sdk(tb, addr, token)})
}

// startPluginWith runs the plugin with cfg (its Logger is set here).
func startPluginWith(tb testing.TB, cfg kubekms.Config) *plugin {
	tb.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slogTo(logs)
	p, err := kubekms.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	sock := socketPath(tb)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- kubekms.Serve(ctx, sock, p, cfg.Logger) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	waitForSocket(tb, sock, served)
	return &plugin{kms: dial(tb, sock), sock: sock, logs: logs}
}

// waitForSocket waits until Serve answers on the socket.
func waitForSocket(tb testing.TB, sock string, served chan error) {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-served:
			tb.Fatalf("Serve returned early: %v", err)
		default:
		}
	}
	tb.Fatalf("socket %s never appeared", sock)
}

// dial connects to a plugin the way kube-apiserver does.
func dial(tb testing.TB, sock string) kmsapi.KeyManagementServiceClient {
	tb.Helper()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return kmsapi.NewKeyManagementServiceClient(conn)
}

// kubeCtx is the context of one call, with kube-apiserver's budget.
func kubeCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), kubeBudget)
	tb.Cleanup(cancel)
	return ctx
}

// fqdn is kube-apiserver's test for annotation keys
// (validation.IsFullyQualifiedDomainName): a lower-case RFC 1123
// subdomain of at least two labels, at most 253 characters.
var fqdn = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
