package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/server"
)

// envDevRootToken sets the dev server's root token.
const envDevRootToken = "ARCA_DEV_ROOT_TOKEN"

type serverFlags struct {
	configFile   string
	listen       string
	tlsCert      string
	tlsKey       string
	storagePath  string
	auditPath    string
	logLevel     string
	policyFile   string
	dev          bool
	devRootToken string
}

// newServerCommand returns "arca server".
func newServerCommand() *cobra.Command {
	f := &serverFlags{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Arca server",
		Long: `Run the Arca server.

Settings come from built-in defaults, then the YAML file given with
--config, then ARCA_* environment variables (` + strings.Join(config.EnvNames(), ", ") + `),
then these flags; later sources win.

A normal server starts sealed (uninitialised on first start): initialise it
with "arca operator init" and unseal it with "arca operator unseal".

--dev starts a throwaway development server instead: initialised and
unsealed at once with a root key that exists only in this process, storage
and audit files in a temporary directory that is removed on exit, and
listening on loopback only. Never use it for real keys.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configFile, "config", "", "YAML configuration file")
	fl.StringVar(&f.listen, "listen", "", "listen address host:port (plain HTTP only on loopback)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fl.StringVar(&f.storagePath, "storage-path", "", "bbolt database file")
	fl.StringVar(&f.auditPath, "audit-path", "", "audit log file")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error")
	fl.StringVar(&f.policyFile, "policy-file", "", "crypto policy file (YAML); reloaded on SIGHUP")
	fl.BoolVar(&f.dev, "dev", false, "run a throwaway, auto-unsealed development server")
	fl.StringVar(&f.devRootToken, "dev-root-token", "", "root token of the dev server (env "+envDevRootToken+"; default random)")
	return cmd
}

// serverConfig merges defaults, file, environment and flags.
func serverConfig(cmd *cobra.Command, f *serverFlags) (config.Config, error) {
	cfg := config.Default()
	if f.configFile != "" {
		if err := cfg.LoadFile(f.configFile); err != nil {
			return cfg, err
		}
	}
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return cfg, err
	}
	set := func(name string, dst *string, v string) {
		if cmd.Flags().Changed(name) {
			*dst = v
		}
	}
	set("listen", &cfg.Listen, f.listen)
	set("tls-cert", &cfg.TLS.CertFile, f.tlsCert)
	set("tls-key", &cfg.TLS.KeyFile, f.tlsKey)
	set("storage-path", &cfg.Storage.Path, f.storagePath)
	set("audit-path", &cfg.Audit.Path, f.auditPath)
	set("log-level", &cfg.LogLevel, f.logLevel)
	set("policy-file", &cfg.PolicyFile, f.policyFile)
	return cfg, nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func runServer(cmd *cobra.Command, f *serverFlags) error {
	cfg, err := serverConfig(cmd, f)
	if err != nil {
		return err
	}
	if f.devRootToken == "" {
		f.devRootToken = os.Getenv(envDevRootToken)
	}
	if f.devRootToken != "" && !f.dev {
		return usageErrorf(cmd, "--dev-root-token needs --dev")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := newLogger(cmd.ErrOrStderr(), cfg.LogLevel)
	srv, err := server.Start(ctx, cfg, server.Options{Dev: f.dev, DevRootToken: f.devRootToken, Logger: logger})
	if err != nil {
		return err
	}
	if f.dev {
		printDevBanner(cmd.OutOrStdout(), srv.URL(), srv.RootToken())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
loop:
	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down")
			break loop
		case err := <-srv.Done():
			logger.Error("server stopped", "error", err)
			break loop
		case <-hup:
			if err := srv.ReloadPolicy(context.Background()); err != nil {
				logger.Error("crypto policy not reloaded", "error", err)
			} else {
				logger.Info("crypto policy reloaded")
			}
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func printDevBanner(w io.Writer, url, token string) {
	fmt.Fprintf(w, `
==================================================================
WARNING: DEVELOPMENT MODE. DO NOT USE FOR REAL KEYS.
The root key exists only in this process and all data is deleted
when it exits. Every key created here is lost on shutdown.
==================================================================

    export ARCA_ADDR=%s
    export ARCA_TOKEN=%s

`, url, token)
}
