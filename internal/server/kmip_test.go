package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/config"
)

// TestKMIPServerWithPyKMIP: a server configured with kmip.listen serves
// KMIP over mutual TLS beside REST; the unmodified PyKMIP client, with a
// certificate bound to an identity over REST, runs its scripted session at
// KMIP 1.2, 1.4 and 2.0, and the requests are audited as that identity's
// KMIP requests.
func TestKMIPServerWithPyKMIP(t *testing.T) {
	t.Parallel()
	py := needTool(t, "/usr/bin/python3", "python3")
	if err := exec.Command(py, "-c", "import kmip.pie.client").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("PyKMIP is missing (Debian package python3-pykmip); make test installs it")
		}
		t.Skip("PyKMIP is missing (Debian package python3-pykmip)")
	}
	dir := t.TempDir()
	ca := newTestCA(t, "arca kmip clients")
	srvCert, _ := ca.issue(t, "arca", true)
	kder, err := x509.MarshalPKCS8PrivateKey(srvCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.TLS = config.TLS{CertFile: filepath.Join(dir, "srv.pem"), KeyFile: filepath.Join(dir, "srv.key"), ClientCAFile: filepath.Join(dir, "ca.pem")}
	cfg.KMIP.Listen = "127.0.0.1:0"
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
	if srv.KMIPAddr() == "" {
		t.Fatal("no KMIP listener")
	}

	// The client's certificate, bound to an identity allowed every key
	// action by an access policy.
	cert, leaf := ca.issue(t, "pykmip", false)
	ckder, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	writePEM(t, certPath, "CERTIFICATE", cert.Certificate[0])
	writePEM(t, keyPath, "PRIVATE KEY", ckder)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	root, err := client.New(srv.URL(), client.WithToken(srv.RootToken()), client.WithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := root.PutAccessPolicy(ctx, "kmip-keys", client.AccessPolicy{Statements: []client.PolicyStatement{{Effect: "allow", Actions: []string{"key:*"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateIdentity(ctx, client.CreateIdentityRequest{Name: "pykmip", Type: "service", Policies: []string{"kmip-keys"},
		Certificates: []string{client.CertificateFingerprint(leaf)}}); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "pykmip.conf")
	if err := os.WriteFile(conf, []byte("[client]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(srv.KMIPAddr())
	script, err := filepath.Abs("../api/kmip/testdata/pykmip_client.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.2", "1.4", "2.0"} {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		cmd := exec.CommandContext(cctx, py, script, host, port, certPath, keyPath, cfg.TLS.ClientCAFile, conf, v)
		cmd.Env = append(os.Environ(), "PYTHONWARNINGS=ignore", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		cancel()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err != nil || lines[len(lines)-1] != "PASS" {
			t.Fatalf("PyKMIP at KMIP %s: %v\n%s", v, err, out)
		}
	}
	n := 0
	for _, r := range readAuditLog(t, srv.AuditPath()) {
		if r.Interface == "kmip" && r.AuthMethod == "mtls" {
			n++
		}
	}
	if n < 30 {
		t.Fatalf("%d KMIP records of the PyKMIP identity", n)
	}
}
