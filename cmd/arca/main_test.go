package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"gopkg.in/yaml.v3"

	"github.com/arcakms/arca/internal/cli"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/server"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"arca": func() { os.Exit(cli.Main()) }})
}

// devRootToken is the dev server token the scripts use.
const devRootToken = "arca_testscript-root-token-0123456789"

// TestScripts runs the CLI golden scripts in testdata/script against a real
// server started for each script: a dev server, or, for scripts whose name
// starts with "operator", a fresh uninitialised server over real files.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			cfg := config.Default()
			cfg.Listen = "127.0.0.1:0"
			cfg.Storage.Path = filepath.Join(env.WorkDir, "data", "arca.db")
			cfg.Audit.Path = filepath.Join(env.WorkDir, "data", "audit.log")
			dev := !strings.HasPrefix(filepath.Base(env.WorkDir), "script-operator")
			// Scripts that ship a policy.yaml run under that crypto policy.
			if p := filepath.Join(env.WorkDir, "policy.yaml"); fileExists(p) {
				cfg.PolicyFile = p
			}
			// Scripts that ship an approvals.yaml run with those
			// dual-control rules (the server config's approvals list).
			if b, err := os.ReadFile(filepath.Join(env.WorkDir, "approvals.yaml")); err == nil {
				if err := yaml.Unmarshal(b, &cfg.Approvals); err != nil {
					return err
				}
			}
			opts := server.Options{Dev: dev, DevRootToken: devRootToken, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if !dev {
				opts.DevRootToken = ""
			}
			srv, err := server.Start(context.Background(), cfg, opts)
			if err != nil {
				return err
			}
			env.Defer(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			})
			env.Setenv("ARCA_ADDR", srv.URL())
			env.Setenv("AUDIT_LOG", srv.AuditPath())
			if dev {
				env.Setenv("ARCA_TOKEN", srv.RootToken())
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"field":     cmdField,
			"jsonfield": cmdJSONField,
			"envfile":   cmdEnvFile,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "ci" {
				return os.Getenv("CI") == "true", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// cmdField extracts a value from the previous command's stdout into a file:
// "field PREFIX N FILE" writes the text after PREFIX on the N-th line (from
// 1) that starts with PREFIX. Scripts use it to carry shares and tokens
// from one command to the next.
func cmdField(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: field PREFIX N FILE")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		ts.Fatalf("field: bad N %q", args[1])
	}
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile("stdout")))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), args[0]); ok {
			if n--; n == 0 {
				if err := os.WriteFile(ts.MkAbs(args[2]), []byte(strings.TrimSpace(rest)+"\n"), 0o600); err != nil {
					ts.Fatalf("field: %v", err)
				}
				return
			}
		}
	}
	ts.Fatalf("field: no line %d starting with %q", n, args[0])
}

// cmdJSONField writes a top-level string field of the JSON object in the
// previous command's stdout to a file: "jsonfield NAME FILE".
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonfield NAME FILE")
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &obj); err != nil {
		ts.Fatalf("jsonfield: stdout is not a JSON object: %v", err)
	}
	v, ok := obj[args[0]].(string)
	if !ok {
		ts.Fatalf("jsonfield: no string field %q", args[0])
	}
	if err := os.WriteFile(ts.MkAbs(args[1]), []byte(v+"\n"), 0o600); err != nil {
		ts.Fatalf("jsonfield: %v", err)
	}
}

// cmdEnvFile sets an environment variable to the trimmed content of a file:
// "envfile NAME FILE".
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile NAME FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
