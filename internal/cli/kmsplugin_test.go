package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	kmsapi "k8s.io/kms/apis/v2"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/server"
)

func TestKMSPluginRefusesBadSettings(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"kms-plugin", "--key", "k"}, exitUsage, "--socket is required"},
		{[]string{"kms-plugin", "--socket", "/tmp/s"}, exitUsage, "--key is required"},
		{[]string{"kms-plugin", "--socket", "/tmp/s", "--key", "k"}, exitUsage, "its own identity"},
		{[]string{"kms-plugin", "--socket", "/tmp/s", "--key", "k", "--token", "t", "--token-file", tokenFile}, exitUsage, "not both"},
		{[]string{"kms-plugin", "--socket", "/tmp/s", "--key", "k", "--token-file", dir + "/missing"}, exitError, "token file"},
		{[]string{"kms-plugin", "--socket", "/tmp/s", "--key", "k", "--token-file", tokenFile, "--timeout", "0s"}, exitUsage, "--timeout"},
		{[]string{"kms-plugin", "--socket", "/tmp/s", "--key", "k", "--token-file", tokenFile, "--log-level", "loud"}, exitUsage, "--log-level"},
		{[]string{"kms-plugin", "extra"}, exitUsage, ""},
	} {
		r := runCLI(t, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %+v", tc.args, r)
		}
	}
}

// TestKMSPlugin runs "arca kms-plugin" against a real dev server, acts as
// kube-apiserver on its socket, and stops it as a SIGTERM would.
func TestKMSPlugin(t *testing.T) {
	clearEnv(t)
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	srv, err := server.Start(context.Background(), cfg, server.Options{Dev: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	root, err := client.New(srv.URL(), client.WithToken(srv.RootToken()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := root.CreateKey(ctx, client.CreateKeyRequest{Name: "k8s", Algorithm: client.AlgorithmAES256GCM}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateIdentity(ctx, client.CreateIdentityRequest{Name: "kms", Type: "service", Roles: []client.Role{{Role: "crypto-user", Scope: []string{"key:k8s"}}}}); err != nil {
		t.Fatal(err)
	}
	tok, err := root.CreateToken(ctx, "kms", "", "")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "kms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tokenFile, sock := filepath.Join(dir, "token"), filepath.Join(dir, "p.sock")
	if err := os.WriteFile(tokenFile, []byte(tok.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- run(runCtx, []string{"kms-plugin", "--socket", sock, "--key", "k8s", "--addr", srv.URL(), "--token-file", tokenFile, "--log-level", "debug"},
			strings.NewReader(""), &stdout, stderr)
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the plugin never listened (exit %d): %s", <-exited, stderr.String())
		}
	}

	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kms := kmsapi.NewKeyManagementServiceClient(conn)
	callCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := kms.Status(callCtx, &kmsapi.StatusRequest{})
	if err != nil || st.Healthz != "ok" || st.Version != "v2" || !strings.HasSuffix(st.KeyId, ":v1") {
		t.Fatalf("Status = %v, %v", st, err)
	}
	enc, err := kms.Encrypt(callCtx, &kmsapi.EncryptRequest{Plaintext: []byte("0123456789abcdef0123456789abcdef"), Uid: "u1"})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	dec, err := kms.Decrypt(callCtx, &kmsapi.DecryptRequest{Ciphertext: enc.Ciphertext, KeyId: enc.KeyId, Annotations: enc.Annotations, Uid: "u2"})
	if err != nil || string(dec.Plaintext) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("Decrypt: %v", err)
	}

	// The token is renewed at start; let that finish before stopping.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stderr.String(), "kms-plugin token renewed"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the token was not renewed:\n%s", stderr.String())
		}
	}
	stop()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Fatalf("exit code %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin did not stop")
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left after shutdown: %v", err)
	}
	logs := stderr.String()
	for _, want := range []string{"kms-plugin listening", "kms-plugin token renewed", "kms-plugin shutting down", "u1"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, tok.Token) || strings.Contains(logs, "0123456789abcdef") {
		t.Errorf("logs hold a secret:\n%s", logs)
	}
}

// lockedBuffer is a bytes.Buffer that the plugin's logger may write while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
