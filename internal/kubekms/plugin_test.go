package kubekms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	kmsapi "k8s.io/kms/apis/v2"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/kubekms"
)

// dek returns a random 32-byte data key, what kube-apiserver encrypts.
func dek(t testing.TB) []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func TestStatusEncryptDecrypt(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), a.token, secretsKey)
	wantKeyID := kubekms.KeyID(a.key.ID, 1)

	st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{})
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.Healthz != "ok" || st.Version != "v2" || st.KeyId != wantKeyID {
		t.Fatalf("Status = %q %q %q, want ok v2 %q", st.Healthz, st.Version, st.KeyId, wantKeyID)
	}

	plaintext := dek(t)
	enc, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: "uid-enc"})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if enc.KeyId != wantKeyID {
		t.Errorf("Encrypt key_id = %q, want %q", enc.KeyId, wantKeyID)
	}
	// Binary format v1: 23-byte header with a 12-byte nonce, then the
	// plaintext and the 16-byte tag.
	if want := 23 + 12 + len(plaintext) + 16; len(enc.Ciphertext) != want || len(enc.Ciphertext) > kubekms.MaxCiphertext {
		t.Errorf("ciphertext is %d bytes, want %d (at most %d)", len(enc.Ciphertext), want, kubekms.MaxCiphertext)
	}
	if bytes.Contains(enc.Ciphertext, plaintext) {
		t.Error("ciphertext contains the plaintext")
	}
	if len(enc.Annotations) == 0 {
		t.Error("no annotations")
	}
	for k := range enc.Annotations {
		if !fqdn.MatchString(k) || len(k) > 253 {
			t.Errorf("annotation key %q is not a fully qualified domain name", k)
		}
	}

	dec, err := p.kms.Decrypt(kubeCtx(t), &kmsapi.DecryptRequest{
		Ciphertext: enc.Ciphertext, KeyId: enc.KeyId, Annotations: enc.Annotations, Uid: "uid-dec",
	})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(dec.Plaintext, plaintext) {
		t.Fatal("Decrypt did not return the plaintext")
	}

	// The ciphertext is Arca's own: the SDK decrypts its text form.
	text := "arca:v1:" + base64.RawURLEncoding.EncodeToString(enc.Ciphertext)
	out, err := a.root.Decrypt(context.Background(), secretsKey, client.DecryptRequest{Ciphertext: text})
	if err != nil || !bytes.Equal(out.Plaintext, plaintext) {
		t.Fatalf("SDK decrypt of the plugin's ciphertext: %v", err)
	}

	// Logs name calls but never hold the plaintext or the token.
	logs := p.logs.String()
	for _, secret := range []string{a.token, base64.StdEncoding.EncodeToString(plaintext), string(plaintext)} {
		if strings.Contains(logs, secret) {
			t.Fatal("the plugin's logs hold a secret")
		}
	}
	if !strings.Contains(logs, "uid-enc") {
		t.Error("the plugin's logs do not name the request uid")
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), a.token, secretsKey)
	v1 := kubekms.KeyID(a.key.ID, 1)
	v2 := kubekms.KeyID(a.key.ID, 2)

	plaintext := dek(t)
	old, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: "1"})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{}); err != nil || st.KeyId != v1 {
		t.Fatalf("Status before rotation = %v, %v; want key_id %q", st, err, v1)
	}

	if _, err := a.root.RotateKey(context.Background(), secretsKey); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	// Status may answer from its one-second cache; the new key id shows
	// within a couple of seconds.
	deadline := time.Now().Add(2 * kubekms.DefaultStatusTTL)
	for {
		st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{})
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		if st.KeyId == v2 && st.Healthz == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Status key_id = %q after rotation, want %q", st.KeyId, v2)
		}
		time.Sleep(50 * time.Millisecond)
	}

	dec, err := p.kms.Decrypt(kubeCtx(t), &kmsapi.DecryptRequest{Ciphertext: old.Ciphertext, KeyId: old.KeyId, Annotations: old.Annotations, Uid: "2"})
	if err != nil || !bytes.Equal(dec.Plaintext, plaintext) {
		t.Fatalf("Decrypt of a version-1 ciphertext after rotation: %v", err)
	}
	enc, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: "3"})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if enc.KeyId != v2 {
		t.Fatalf("Encrypt after rotation: key_id %q, want %q", enc.KeyId, v2)
	}
	if _, err := p.kms.Decrypt(kubeCtx(t), &kmsapi.DecryptRequest{Ciphertext: enc.Ciphertext, KeyId: enc.KeyId, Annotations: enc.Annotations, Uid: "4"}); err != nil {
		t.Fatalf("Decrypt of a version-2 ciphertext: %v", err)
	}
}

// TestRotationSeenByEncrypt checks that an Encrypt under a new version
// drops the cached Status at once, without waiting for its TTL.
func TestRotationSeenByEncrypt(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPluginWith(t, kubekms.Config{Key: secretsKey, Client: sdk(t, a.srv.URL(), a.token), StatusTTL: time.Hour})
	if _, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.root.RotateKey(context.Background(), secretsKey); err != nil {
		t.Fatal(err)
	}
	if _, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"}); err != nil {
		t.Fatal(err)
	}
	st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{})
	if want := kubekms.KeyID(a.key.ID, 2); err != nil || st.KeyId != want {
		t.Fatalf("Status = %v, %v; want key_id %q", st, err, want)
	}
}

// timed runs call and fails the test if it takes kube-apiserver's budget
// or more.
func timed[T any](t *testing.T, what string, call func(context.Context) (T, error)) (T, error) {
	t.Helper()
	start := time.Now()
	r, err := call(context.Background())
	if d := time.Since(start); d >= kubeBudget {
		t.Errorf("%s took %v, not under %v", what, d, kubeBudget)
	} else {
		t.Logf("%s answered in %v", what, d.Round(time.Millisecond))
	}
	return r, err
}

// unhealthyWithin polls Status until healthz is not ok, and fails unless
// that happens, and every call answers, within kube-apiserver's budget.
func unhealthyWithin(t *testing.T, p *plugin, since time.Time) *kmsapi.StatusResponse {
	t.Helper()
	for {
		start := time.Now()
		st, err := p.kms.Status(context.Background(), &kmsapi.StatusRequest{})
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		if d := time.Since(start); d >= kubeBudget {
			t.Errorf("Status took %v, not under %v", d, kubeBudget)
		}
		if st.Healthz != "ok" {
			d := time.Since(since)
			if d >= kubeBudget {
				t.Errorf("healthz turned non-ok after %v, not under %v", d, kubeBudget)
			}
			t.Logf("healthz non-ok %v after the server went away", d.Round(time.Millisecond))
			return st
		}
		if time.Since(since) > kubeBudget {
			t.Fatalf("healthz still ok %v after the server went away", kubeBudget)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSealedServer(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), a.token, secretsKey)
	if st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{}); err != nil || st.Healthz != "ok" {
		t.Fatalf("Status = %v, %v", st, err)
	}
	enc, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.root.Seal(context.Background()); err != nil {
		t.Fatalf("seal: %v", err)
	}
	sealed := time.Now()
	st := unhealthyWithin(t, p, sealed)
	if !strings.Contains(st.Healthz, "sealed") || st.KeyId != kubekms.KeyID(a.key.ID, 1) {
		t.Errorf("Status of a sealed server = %q, key_id %q", st.Healthz, st.KeyId)
	}
	_, err = timed(t, "Encrypt", func(ctx context.Context) (*kmsapi.EncryptResponse, error) {
		return p.kms.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "2"})
	})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Encrypt on a sealed server: %v, want Unavailable", err)
	}
	_, err = timed(t, "Decrypt", func(ctx context.Context) (*kmsapi.DecryptResponse, error) {
		return p.kms.Decrypt(ctx, &kmsapi.DecryptRequest{Ciphertext: enc.Ciphertext, KeyId: enc.KeyId, Annotations: enc.Annotations, Uid: "3"})
	})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Decrypt on a sealed server: %v, want Unavailable", err)
	}
}

func TestStoppedServer(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), a.token, secretsKey)
	if st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{}); err != nil || st.Healthz != "ok" {
		t.Fatalf("Status = %v, %v", st, err)
	}
	stopArca(t, a.srv)
	stopped := time.Now()
	unhealthyWithin(t, p, stopped)
	_, err := timed(t, "Encrypt", func(ctx context.Context) (*kmsapi.EncryptResponse, error) {
		return p.kms.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"})
	})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Encrypt on a stopped server: %v, want Unavailable", err)
	}
}

// TestHangingServer points the plugin at a server that accepts
// connections and never answers: every call must still end in time.
func TestHangingServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn // accepted, never read, never answered
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	p := startPlugin(t, "http://"+ln.Addr().String(), "some-token", secretsKey)

	st, err := timed(t, "Status", func(ctx context.Context) (*kmsapi.StatusResponse, error) {
		return p.kms.Status(ctx, &kmsapi.StatusRequest{})
	})
	if err != nil || st.Healthz == "ok" {
		t.Errorf("Status of a hanging server = %v, %v; want a non-ok healthz", st, err)
	}
	_, err = timed(t, "Encrypt", func(ctx context.Context) (*kmsapi.EncryptResponse, error) {
		return p.kms.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"})
	})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Encrypt on a hanging server: %v, want DeadlineExceeded", err)
	}
}

func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), a.token, otherKey)

	st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{})
	if err != nil || st.Healthz == "ok" || !strings.Contains(st.Healthz, "forbidden") {
		t.Errorf("Status for a key the identity may not read = %v, %v", st, err)
	}
	_, err = p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("Encrypt with another key: %v, want PermissionDenied", err)
	}

	// A ciphertext of the other key, made by someone allowed to, does not
	// decrypt through it either.
	made, err := a.root.Encrypt(context.Background(), otherKey, client.EncryptRequest{Plaintext: dek(t)})
	if err != nil {
		t.Fatal(err)
	}
	ct, kid := binary(t, made)
	_, err = p.kms.Decrypt(kubeCtx(t), &kmsapi.DecryptRequest{Ciphertext: ct, KeyId: kid, Annotations: annotations(), Uid: "2"})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("Decrypt with another key: %v, want PermissionDenied", err)
	}
}

func TestBadToken(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), "not-a-token", secretsKey)
	st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{})
	if err != nil || st.Healthz == "ok" || st.KeyId != "" {
		t.Errorf("Status with a bad token = %v, %v", st, err)
	}
	_, err = p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("Encrypt with a bad token: %v, want Unauthenticated", err)
	}
}

// TestReloadAfter401 checks that a plugin whose token was replaced (its
// token file rewritten) picks up the new one on the next 401.
func TestReloadAfter401(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	var reloads atomic.Int32
	p := startPluginWith(t, kubekms.Config{
		Key:    secretsKey,
		Client: sdk(t, a.srv.URL(), "revoked-token"),
		Reload: func() (*client.Client, error) {
			reloads.Add(1)
			return client.New(a.srv.URL(), client.WithToken(a.token))
		},
	})
	if _, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"}); err != nil {
		t.Fatalf("Encrypt after a reload: %v", err)
	}
	if _, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "2"}); err != nil {
		t.Fatal(err)
	}
	if n := reloads.Load(); n != 1 {
		t.Errorf("credentials reloaded %d times, want 1", n)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPlugin(t, a.srv.URL(), a.token, secretsKey)
	good, err := p.kms.Encrypt(kubeCtx(t), &kmsapi.EncryptRequest{Plaintext: dek(t), Uid: "1"})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good.Ciphertext)
		b[i] ^= 1
		return b
	}
	last := len(good.Ciphertext) - 1
	made, err := a.root.Encrypt(context.Background(), otherKey, client.EncryptRequest{Plaintext: dek(t)})
	if err != nil {
		t.Fatal(err)
	}
	otherCT, otherKeyID := binary(t, made)
	renamed := flip(5) // names a key that does not exist
	renamedKeyID := kubekms.KeyID(uuid.UUID(renamed[2:18]).String(), 1)

	encrypts := []struct {
		name      string
		plaintext []byte
	}{
		{"empty plaintext", nil},
		{"plaintext too long", make([]byte, kubekms.MaxCiphertext)},
	}
	for _, tc := range encrypts {
		_, err := timed(t, tc.name, func(ctx context.Context) (*kmsapi.EncryptResponse, error) {
			return p.kms.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: tc.plaintext, Uid: "e"})
		})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", tc.name, err)
		}
	}

	decrypts := []struct {
		name        string
		ciphertext  []byte
		keyID       string
		annotations map[string][]byte
	}{
		{"tampered sealed part", flip(last), good.KeyId, good.Annotations},
		{"tampered nonce", flip(30), good.KeyId, good.Annotations},
		{"tampered algorithm", flip(1), good.KeyId, good.Annotations},
		{"truncated", good.Ciphertext[:30], good.KeyId, good.Annotations},
		{"empty ciphertext", nil, good.KeyId, good.Annotations},
		{"wrong format version", flip(0), good.KeyId, good.Annotations},
		{"too long", append(bytes.Clone(good.Ciphertext), make([]byte, kubekms.MaxCiphertext)...), good.KeyId, good.Annotations},
		{"key id of another version", good.Ciphertext, kubekms.KeyID(a.key.ID, 2), good.Annotations},
		{"key id of another key", flip(5), good.KeyId, good.Annotations},
		{"ciphertext of another key", otherCT, otherKeyID, good.Annotations},
		{"ciphertext of no key", renamed, renamedKeyID, good.Annotations},
		{"empty key id", good.Ciphertext, "", good.Annotations},
		{"unknown annotation", good.Ciphertext, good.KeyId, map[string][]byte{kubekms.FormatAnnotation: []byte(kubekms.FormatCiphertextV1), "x.example.com": nil}},
		{"missing annotation", good.Ciphertext, good.KeyId, nil},
		{"unknown format", good.Ciphertext, good.KeyId, map[string][]byte{kubekms.FormatAnnotation: []byte("arca-ciphertext-v9")}},
	}
	for _, tc := range decrypts {
		_, err := timed(t, tc.name, func(ctx context.Context) (*kmsapi.DecryptResponse, error) {
			return p.kms.Decrypt(ctx, &kmsapi.DecryptRequest{Ciphertext: tc.ciphertext, KeyId: tc.keyID, Annotations: tc.annotations, Uid: "d"})
		})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", tc.name, err)
		}
	}

	// The plugin still works after all that.
	if _, err := p.kms.Decrypt(kubeCtx(t), &kmsapi.DecryptRequest{Ciphertext: good.Ciphertext, KeyId: good.KeyId, Annotations: good.Annotations, Uid: "2"}); err != nil {
		t.Fatalf("Decrypt after bad requests: %v", err)
	}
}

// binary returns the binary form and plugin key id of an SDK ciphertext.
func binary(t *testing.T, r *client.EncryptResponse) ([]byte, string) {
	t.Helper()
	ct, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(r.Ciphertext, "arca:v1:"))
	if err != nil {
		t.Fatal(err)
	}
	return ct, kubekms.KeyID(r.KeyID, r.KeyVersion)
}

func annotations() map[string][]byte {
	return map[string][]byte{kubekms.FormatAnnotation: []byte(kubekms.FormatCiphertextV1)}
}

func TestKeepTokenAlive(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	logs := &syncBuffer{}
	for _, tc := range []struct{ token, want string }{
		{a.token, "kms-plugin token renewed"},
		{a.srv.RootToken(), "kms-plugin token does not renew"},
	} {
		p, err := kubekms.New(kubekms.Config{Key: secretsKey, Client: sdk(t, a.srv.URL(), tc.token), Logger: slogTo(logs)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.KeepTokenAlive(ctx); close(done) }()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), tc.want); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the logs: %s", tc.want, logs)
			}
		}
		cancel()
		<-done
	}
}

// TestStatusUnhealthyWhileTheKeyCannotEncrypt: the server answers, but a
// suspended key would fail every Encrypt, so Status is not ok until the
// key is resumed.
func TestStatusUnhealthyWhileTheKeyCannotEncrypt(t *testing.T) {
	t.Parallel()
	a := startArca(t)
	p := startPluginWith(t, kubekms.Config{Key: secretsKey, Client: sdk(t, a.srv.URL(), a.token), StatusTTL: time.Millisecond})
	healthz := func() string {
		t.Helper()
		st, err := p.kms.Status(kubeCtx(t), &kmsapi.StatusRequest{})
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		return st.Healthz
	}
	if h := healthz(); h != "ok" {
		t.Fatalf("healthz %q with an active key", h)
	}
	for _, step := range []struct{ action, want string }{{"suspend", "not ok"}, {"resume", "ok"}} {
		if _, err := a.root.ChangeKeyState(context.Background(), secretsKey, client.LifecycleRequest{Action: step.action}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // past the Status cache
		if h := healthz(); (h == "ok") != (step.want == "ok") {
			t.Fatalf("healthz %q after %s", h, step.action)
		}
	}
}
