package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPrecedenceDefaultsFileEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "arca.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:9000\nstorage:\n  path: /tmp/x.db\naudit:\n  path: /tmp/a.log\n  checkpoint_interval: 15s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ARCA_LISTEN": "127.0.0.1:9100", "ARCA_AUDIT_NO_SYNC": "true"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9100" || c.Storage.Path != "/tmp/x.db" || !c.Audit.NoSync || c.Storage.Type != "bolt" ||
		c.Audit.CheckpointInterval != 15*time.Second {
		t.Fatalf("unexpected config %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownYAMLKeyIsAnError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "arca.yaml")
	if err := os.WriteFile(path, []byte("listn: 127.0.0.1:9000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(path); err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("want an error naming the unknown key, got %v", err)
	}
}

func TestValidateRefusesPlainHTTPOffLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		listen string
		tls    bool
		ok     bool
	}{
		{"127.0.0.1:8200", false, true},
		{"[::1]:8200", false, true},
		{"localhost:8200", false, true},
		{"0.0.0.0:8200", false, false},
		{":8200", false, false},
		{"10.1.2.3:8200", false, false},
		{"0.0.0.0:8200", true, true},
		{"nonsense", false, false},
	} {
		c := Default()
		c.Listen = tc.listen
		if tc.tls {
			c.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem"}
		}
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("listen %q tls=%v: got err %v, want ok=%v", tc.listen, tc.tls, err, tc.ok)
		}
	}
}

func TestValidateRejectsBadValues(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*Config){
		"half tls":     func(c *Config) { c.TLS.CertFile = "c.pem" },
		"storage type": func(c *Config) { c.Storage.Type = "etcd" },
		"log level":    func(c *Config) { c.LogLevel = "loud" },
		"no path":      func(c *Config) { c.Storage.Path = "" },
		"checkpoints":  func(c *Config) { c.Audit.CheckpointInterval = 0 },
	} {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	c := Default()
	if err := c.LoadEnv(func(k string) (string, bool) { return "maybe", k == "ARCA_AUDIT_NO_SYNC" }); err == nil {
		t.Error("bad boolean in env accepted")
	}
}
