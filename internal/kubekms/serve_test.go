package kubekms_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	kmsapi "k8s.io/kms/apis/v2"

	"github.com/arcakms/arca/internal/kubekms"
)

func TestSocket(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p, err := kubekms.New(kubekms.Config{Key: secretsKey, Client: sdk(t, a.srv.URL(), a.token), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(sock string) (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- kubekms.Serve(ctx, sock, p, quietLogger()) }()
		return cancel, served
	}

	t.Run("stale socket is replaced, mode 0600, removed at shutdown", func(t *testing.T) {
		sock := socketPath(t)
		stale, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		stale.(*net.UnixListener).SetUnlinkOnClose(false)
		stale.Close() // a plugin that died: its socket file stays
		if _, err := os.Stat(sock); err != nil {
			t.Fatalf("no stale socket: %v", err)
		}

		cancel, served := serve(sock)
		waitForSocket(t, sock, served)
		fi, err := os.Stat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("socket mode %v, want 0600", mode)
		}
		kms := dial(t, sock)
		if st, err := kms.Status(kubeCtx(t), &kmsapi.StatusRequest{}); err != nil || st.Healthz != "ok" {
			t.Fatalf("Status = %v, %v", st, err)
		}

		// A second plugin on the same socket does not steal it.
		err = kubekms.Serve(context.Background(), sock, p, quietLogger())
		if err == nil || !strings.Contains(err.Error(), "another process") {
			t.Errorf("second Serve on a live socket: %v", err)
		}

		start := time.Now()
		cancel()
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
		if d := time.Since(start); d > kubekms.ShutdownGrace {
			t.Errorf("shutdown took %v", d)
		}
		if _, err := os.Lstat(sock); !os.IsNotExist(err) {
			t.Errorf("socket left after shutdown: %v", err)
		}
	})

	t.Run("a file that is not a socket is left alone", func(t *testing.T) {
		sock := socketPath(t)
		if err := os.WriteFile(sock, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := kubekms.Serve(context.Background(), sock, p, quietLogger())
		if err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("Serve over a regular file: %v", err)
		}
		if b, err := os.ReadFile(sock); err != nil || string(b) != "data" {
			t.Errorf("the file was changed: %q, %v", b, err)
		}
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	c := sdk(t, "http://127.0.0.1:1", "t")
	for _, cfg := range []kubekms.Config{
		{Client: c},
		{Key: "k"},
		{Key: "k", Client: c, Timeout: -1},
	} {
		if _, err := kubekms.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// TestUnreadableCiphertextIsAudited: a ciphertext the plugin cannot read
// still goes to the server, which refuses it and audits the refusal, so
// bad payloads leave a trace where the operators look.
func TestUnreadableCiphertextIsAudited(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), a.token, secretsKey)
	st, err := p.kms.Status(context.Background(), &kmsapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte{0xEE}, 80)
	_, err = p.kms.Decrypt(context.Background(), &kmsapi.DecryptRequest{Ciphertext: garbage, KeyId: st.KeyId, Uid: "bad",
		Annotations: map[string][]byte{"format.kms.arca.dev": []byte("arca-ciphertext-v1")}})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("decrypt of garbage: %v", err)
	}
	log, err := os.ReadFile(a.srv.AuditPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte(`"operation":"key.decrypt"`)) || !bytes.Contains(log, []byte(`"error_code":"invalid_ciphertext"`)) {
		t.Fatal("the server did not audit the refused ciphertext")
	}
}
