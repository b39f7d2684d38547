package kmip

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// python is the interpreter the Debian python3-pykmip package installs
// into.
const python = "/usr/bin/python3"

// requirePyKMIP skips the test when PyKMIP is not installed, except under
// CI=true, where a missing PyKMIP is a failure.
func requirePyKMIP(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import kmip.pie.client; print(kmip.__version__)").CombinedOutput()
	if err == nil {
		t.Logf("PyKMIP %s", strings.TrimSpace(string(out)))
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PyKMIP is required under CI (install python3-pykmip): %v: %s", err, out)
	}
	t.Skipf("PyKMIP not installed (%v)", err)
}

// TestPyKMIP runs PyKMIP's ProxyKmipClient against the server at KMIP 1.2,
// 1.4 and 2.0: create, activate, locate, attributes, get, encrypt and
// decrypt (AES-GCM), register, revoke, destroy, and an unknown id that
// must fail with Item Not Found.
func TestPyKMIP(t *testing.T) {
	requirePyKMIP(t)
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("pykmip", nil, allKeyActions)
	dir := t.TempDir()
	certPath, keyPath := cert.writePEM(t, dir, "client")
	caPath := filepath.Join(dir, "ca.crt")
	writeFile(t, caPath, pemCert(e.ca.der))
	// An empty configuration file, so that no system-wide PyKMIP
	// configuration changes what the test does.
	confPath := filepath.Join(dir, "pykmip.conf")
	writeFile(t, confPath, []byte("[client]\n"))
	host, port, _ := net.SplitHostPort(e.addr)

	for _, v := range []string{"1.2", "1.4", "2.0"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, "testdata/pykmip_client.py", host, port, certPath, keyPath, caPath, confPath, v)
			cmd.Env = append(os.Environ(), "PYTHONWARNINGS=ignore", "HOME="+dir)
			out, err := cmd.CombinedOutput()
			t.Logf("PyKMIP at KMIP %s:\n%s", v, out)
			if err != nil {
				t.Fatalf("PyKMIP at KMIP %s failed: %v", v, err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if lines[len(lines)-1] != "PASS" {
				t.Fatalf("PyKMIP at KMIP %s did not pass", v)
			}
			for _, s := range []string{"create", "activate", "locate", "get_attributes", "get", "encrypt_decrypt", "register", "revoke", "destroy", "unknown_id"} {
				if !strings.Contains(string(out), "ok "+s) {
					t.Errorf("step %s did not run", s)
				}
			}
		})
	}

	// Every request PyKMIP made was audited as a KMIP request of its
	// identity.
	t.Cleanup(func() {
		id := e.identityID("pykmip")
		n := 0
		for _, r := range e.auditRecords() {
			if r.Identity == id {
				n++
				if r.Interface != "kmip" {
					t.Errorf("audit record of %s through interface %q", r.Operation, r.Interface)
				}
			}
		}
		if n < 30 {
			t.Errorf("%d audit records of the PyKMIP identity", n)
		}
	})
}
