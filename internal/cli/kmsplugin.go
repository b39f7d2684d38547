package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/kubekms"
)

type kmsPluginFlags struct {
	socket    string
	key       string
	tokenFile string
	timeout   time.Duration
	logLevel  string
}

// newKMSPluginCommand returns "arca kms-plugin".
func newKMSPluginCommand() *cobra.Command {
	f := &kmsPluginFlags{}
	cmd := &cobra.Command{
		Use:   "kms-plugin --socket PATH --key NAME",
		Short: "Run the Kubernetes KMS v2 plugin",
		Long: `Run the Kubernetes KMS v2 plugin beside kube-apiserver.

The plugin serves kube-apiserver's KMS v2 gRPC API on the unix socket
--socket (mode 0600) and encrypts kube-apiserver's data keys with the Arca
key --key, calling the server at --addr under its own identity: a token
from --token-file or ARCA_TOKEN (renewed before it expires), or a client
certificate (--client-cert, --client-key). The identity needs the
crypto-user role on the key.

Status is healthy while the server answers for the key, and reports the
key id "<key id>:v<primary version>", which changes when the key rotates.
Every call answers within --timeout. SIGTERM or SIGINT stops the plugin
gracefully. See docs/operations.md, "Kubernetes KMS v2 plugin".`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runKMSPlugin(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.socket, "socket", "", "unix socket to serve kube-apiserver on, e.g. /var/run/kmsplugin/arca.sock (required)")
	fl.StringVar(&f.key, "key", "", "name of the Arca key that encrypts kube-apiserver's data keys (required)")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding the plugin's token, re-read when the server answers 401 (instead of ARCA_TOKEN)")
	fl.DurationVar(&f.timeout, "timeout", kubekms.DefaultTimeout, "bound on each call, retries included; keep it under kube-apiserver's KMS timeout, 3s unless configured")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

func runKMSPlugin(cmd *cobra.Command, f *kmsPluginFlags) error {
	switch {
	case f.socket == "":
		return usageErrorf(cmd, "--socket is required")
	case f.key == "":
		return usageErrorf(cmd, "--key is required")
	case f.timeout <= 0 || f.timeout > time.Minute:
		return usageErrorf(cmd, "--timeout must be more than 0 and at most 1m")
	}
	switch f.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return usageErrorf(cmd, "invalid --log-level %q: use debug, info, warn or error", f.logLevel)
	}
	g, err := loadGlobalFlags(cmd)
	if err != nil {
		return err
	}
	g.approval = "" // the plugin never executes approved requests
	if f.tokenFile != "" {
		if lookupFlag(cmd, flagToken).Changed {
			return usageErrorf(cmd, "give --token-file or --token, not both")
		}
		if g.token, err = readTokenFile(f.tokenFile); err != nil {
			return err
		}
	}
	if g.token == "" && g.clientCert == "" {
		return usageErrorf(cmd, "the plugin needs its own identity: set ARCA_TOKEN, or give --token-file or --client-cert")
	}
	newClient := func(token string) (*client.Client, error) {
		gc := *g
		gc.token = token
		return gc.client()
	}
	c, err := newClient(g.token)
	if err != nil {
		return err
	}
	logger := newLogger(cmd.ErrOrStderr(), f.logLevel)
	cfg := kubekms.Config{Key: f.key, Client: c, Logger: logger, Timeout: f.timeout}
	if f.tokenFile != "" {
		cfg.Reload = func() (*client.Client, error) {
			token, err := readTokenFile(f.tokenFile)
			if err != nil {
				return nil, err
			}
			return newClient(token)
		}
	}
	plugin, err := kubekms.New(cfg)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait() // after stop: the helpers below end with ctx
	if g.token != "" {
		wg.Go(func() { plugin.KeepTokenAlive(ctx) })
	}
	wg.Go(func() {
		// Say at start whether the server answers for the key; the plugin
		// serves either way, and Status reports the same to kube-apiserver.
		if st, err := plugin.Status(ctx); err == nil && st.Healthz == "ok" {
			logger.Info("kms-plugin ready", "addr", c.Address(), "key", f.key, "key_id", st.KeyID)
		}
	})
	err = kubekms.Serve(ctx, f.socket, plugin, logger)
	stop()
	return err
}

// readTokenFile reads a token file, ignoring surrounding white space (a
// trailing newline, typically).
func readTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("the token file %s is empty", path)
	}
	return token, nil
}
