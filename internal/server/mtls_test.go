package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/client"
)

// testCA issues certificates for the mTLS test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate (server or client) and its key.
func (ca *testCA) issue(t testing.TB, cn string, server bool) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMutualTLSIdentities runs mTLS end to end with certificates generated
// here: a client certificate bound to an identity authenticates it without
// a token, with that identity's permissions; a valid certificate bound to
// no identity, or one from another CA, is refused; unbinding the
// certificate refuses its very next request; require_client_cert refuses
// connections without one.
func TestMutualTLSIdentities(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, other := newTestCA(t, "arca test clients"), newTestCA(t, "someone else")
	srvCert, _ := ca.issue(t, "arca", true)
	kder, err := x509.MarshalPKCS8PrivateKey(srvCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.TLS.CertFile, cfg.TLS.KeyFile, cfg.TLS.ClientCAFile = filepath.Join(dir, "srv.pem"), filepath.Join(dir, "srv.key"), filepath.Join(dir, "ca.pem")
	writePEM(t, cfg.TLS.CertFile, "CERTIFICATE", srvCert.Certificate[0])
	writePEM(t, cfg.TLS.KeyFile, "PRIVATE KEY", kder)
	if err := os.WriteFile(cfg.TLS.ClientCAFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), cfg, Options{Dev: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	connect := func(cert *tls.Certificate, token string) *client.Client {
		t.Helper()
		tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		opts := []client.Option{client.WithTLSConfig(tc)}
		if token != "" {
			opts = append(opts, client.WithToken(token))
		}
		c, err := client.New(srv.URL(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	root := connect(nil, srv.RootToken())
	bound, boundLeaf := ca.issue(t, "orders-api", false)
	unbound, _ := ca.issue(t, "stranger", false)
	foreign, _ := other.issue(t, "orders-api", false)

	for _, name := range []string{"app-1", "other-1"} {
		if _, err := root.CreateKey(ctx, client.CreateKeyRequest{Name: name, Algorithm: client.AlgorithmAES256GCM}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.CreateIdentity(ctx, client.CreateIdentityRequest{Name: "orders-api", Type: "service",
		Roles: []client.Role{{Role: "crypto-user", Scope: []string{"key:app-*"}}}, Certificates: []string{client.CertificateFingerprint(boundLeaf)}}); err != nil {
		t.Fatal(err)
	}

	// The bound certificate authenticates orders-api, with its permissions.
	app := connect(&bound, "")
	ct, err := app.Encrypt(ctx, "app-1", client.EncryptRequest{Plaintext: []byte("over mTLS")})
	if err != nil {
		t.Fatalf("encrypt as the certificate's identity: %v", err)
	}
	if pt, err := app.Decrypt(ctx, "", client.DecryptRequest{Ciphertext: ct.Ciphertext}); err != nil || string(pt.Plaintext) != "over mTLS" {
		t.Fatalf("decrypt: %v", err)
	}
	_, err = app.Encrypt(ctx, "other-1", client.EncryptRequest{Plaintext: []byte("x")})
	wantClientCode(t, "outside the identity's scope", err, client.CodeForbidden)

	// A valid certificate bound to no identity is not authenticated.
	_, err = connect(&unbound, "").Encrypt(ctx, "app-1", client.EncryptRequest{Plaintext: []byte("x")})
	wantClientCode(t, "unbound certificate", err, client.CodeUnauthorized)
	// A certificate of another CA is not even offered (it matches none of
	// the server's acceptable CAs), or fails the handshake: never served.
	_, err = connect(&foreign, "").Encrypt(ctx, "app-1", client.EncryptRequest{Plaintext: []byte("x")})
	var ce *client.Error
	if err == nil || (errors.As(err, &ce) && ce.Code != client.CodeUnauthorized) {
		t.Fatalf("certificate of another CA: %v, want refusal", err)
	}
	// A token still works, and wins over the certificate.
	if _, err := connect(&unbound, srv.RootToken()).GetKey(ctx, "other-1"); err != nil {
		t.Fatalf("token over TLS: %v", err)
	}

	// The audit record names the method and the certificate.
	log, err := os.ReadFile(srv.AuditPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"auth_method":"mtls"`) || !strings.Contains(string(log), `"credential":"cert:`+client.CertificateFingerprint(boundLeaf)[:16]) {
		t.Fatal("no audit record of the mTLS identity")
	}

	// Unbinding the certificate refuses its very next request.
	none := []string{}
	if _, err := root.UpdateIdentity(ctx, "orders-api", client.UpdateIdentityRequest{Certificates: &none}); err != nil {
		t.Fatal(err)
	}
	_, err = app.Encrypt(ctx, "app-1", client.EncryptRequest{Plaintext: []byte("x")})
	wantClientCode(t, "unbound after update", err, client.CodeUnauthorized)

	// A certificate binds to one identity only.
	fp := client.CertificateFingerprint(boundLeaf)
	if _, err := root.UpdateIdentity(ctx, "orders-api", client.UpdateIdentityRequest{Certificates: &[]string{fp}}); err != nil {
		t.Fatal(err)
	}
	_, err = root.CreateIdentity(ctx, client.CreateIdentityRequest{Name: "copycat", Type: "service", Certificates: []string{fp}})
	wantClientCode(t, "certificate bound twice", err, "conflict")
}

func TestRequireClientCertRefusesConnectionsWithout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, "arca test clients")
	srvCert, _ := ca.issue(t, "arca", true)
	kder, err := x509.MarshalPKCS8PrivateKey(srvCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.TLS.CertFile, cfg.TLS.KeyFile, cfg.TLS.ClientCAFile = filepath.Join(dir, "srv.pem"), filepath.Join(dir, "srv.key"), filepath.Join(dir, "ca.pem")
	cfg.TLS.RequireClientCert = true
	writePEM(t, cfg.TLS.CertFile, "CERTIFICATE", srvCert.Certificate[0])
	writePEM(t, cfg.TLS.KeyFile, "PRIVATE KEY", kder)
	if err := os.WriteFile(cfg.TLS.ClientCAFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), cfg, Options{Dev: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	c, err := client.New(srv.URL(), client.WithToken(srv.RootToken()), client.WithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListKeys(context.Background(), client.ListKeysOptions{}); err == nil {
		t.Fatal("a connection without a client certificate was served")
	}
	cert, _ := ca.issue(t, "any", false)
	c, err = client.New(srv.URL(), client.WithToken(srv.RootToken()), client.WithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListKeys(context.Background(), client.ListKeysOptions{}); err != nil {
		t.Fatalf("token with a client certificate: %v", err)
	}
}

func wantClientCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: %v, want code %s", what, err, code)
	}
}
