// Package hsmtest gives tests a real SoftHSM2 token: a token of its own in
// a temporary directory, behind a private copy of the SoftHSM2 module (so
// each test's module instance scans the directory after its token exists).
//
// Without SoftHSM2 a test is skipped, except under CI=true, where it fails:
// make test installs the softhsm2 package.
package hsmtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/arcakms/arca/internal/hsm"
)

// Module is where Debian installs SoftHSM2.
const Module = "/usr/lib/softhsm/libsofthsm2.so"

// PIN is the user PIN of every test token.
const PIN = "1234"

var (
	confOnce sync.Once
	confErr  error
	// initMu serialises token creation in this process.
	initMu sync.Mutex
)

// setup points SoftHSM2 (SOFTHSM2_CONF, read by every module instance) at
// one temporary token directory for the whole test binary.
func setup() error {
	confOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arca-softhsm-")
		if err != nil {
			confErr = err
			return
		}
		tokens := filepath.Join(dir, "tokens")
		if err := os.MkdirAll(tokens, 0o700); err != nil {
			confErr = err
			return
		}
		conf := filepath.Join(dir, "softhsm2.conf")
		if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
			confErr = err
			return
		}
		confErr = os.Setenv("SOFTHSM2_CONF", conf)
	})
	return confErr
}

// Token creates a token with a unique label and returns the configuration
// that opens it, with its own copy of the module.
func Token(t testing.TB) hsm.Config {
	t.Helper()
	if _, err := os.Stat(Module); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SoftHSM2 is required under CI: %v", err)
		}
		t.Skipf("SoftHSM2 is not installed (%v); make test installs it as root", err)
	}
	if err := setup(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	label := "arca-" + hex.EncodeToString(b)
	// softhsm2-util picks the first free slot of the shared token
	// directory: two at once can pick the same one, so one at a time.
	initMu.Lock()
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "5678").CombinedOutput()
	initMu.Unlock()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v: %s", err, out)
	}
	lib, err := os.ReadFile(Module)
	if err != nil {
		t.Fatal(err)
	}
	module := filepath.Join(t.TempDir(), "libsofthsm2-"+label+".so")
	if err := os.WriteFile(module, lib, 0o700); err != nil {
		t.Fatal(err)
	}
	return hsm.Config{Module: module, TokenLabel: label, PIN: PIN}
}
