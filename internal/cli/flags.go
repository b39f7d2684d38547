package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/arcakms/arca/client"
)

// Environment variables read when the matching flag is not given.
const (
	envAddr       = "ARCA_ADDR"
	envToken      = "ARCA_TOKEN"
	envCACert     = "ARCA_CACERT"
	envClientCert = "ARCA_CLIENT_CERT"
	envClientKey  = "ARCA_CLIENT_KEY"
)

// defaultAddr is the address of a local development server.
const defaultAddr = "http://127.0.0.1:8200"

// Output formats of --output.
const (
	outputText = "text"
	outputJSON = "json"
)

// userAgent identifies the CLI in server logs.
const userAgent = "arca-cli/1"

// Names of the global flags.
const (
	flagAddr       = "addr"
	flagToken      = "token"
	flagCACert     = "ca-cert"
	flagOutput     = "output"
	flagApproval   = "approval"
	flagClientCert = "client-cert"
	flagClientKey  = "client-key"
)

// globalFlags are the settings shared by every command, resolved from the
// persistent flags and the environment (flags win).
type globalFlags struct {
	addr       string
	token      string
	caCert     string
	output     string
	approval   string
	clientCert string
	clientKey  string
}

// addGlobalFlags declares the persistent flags on the root command.
func addGlobalFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.String(flagAddr, defaultAddr, "server address (env "+envAddr+")")
	pf.String(flagToken, "", "bearer token (env "+envToken+"; prefer the environment, flags show in the process list)")
	pf.String(flagCACert, "", "PEM file with the CA certificate(s) to verify the server's TLS certificate (env "+envCACert+")")
	pf.StringP(flagOutput, "o", outputText, "output format: text or json")
	pf.String(flagClientCert, "", "PEM client certificate for mutual TLS: authenticates its bound identity without a token (env "+envClientCert+")")
	pf.String(flagClientKey, "", "PEM private key of --client-cert (env "+envClientKey+")")
	pf.String(flagApproval, "", "execute the approved request under dual control with this approval id (see \"arca approval\")")
}

// loadGlobalFlags resolves the global settings for cmd (flag, else
// environment variable, else default) and validates --output.
func loadGlobalFlags(cmd *cobra.Command) (*globalFlags, error) {
	g := &globalFlags{
		addr:       resolveFlag(cmd, flagAddr, envAddr),
		token:      resolveFlag(cmd, flagToken, envToken),
		caCert:     resolveFlag(cmd, flagCACert, envCACert),
		output:     resolveFlag(cmd, flagOutput, ""),
		approval:   resolveFlag(cmd, flagApproval, ""),
		clientCert: resolveFlag(cmd, flagClientCert, envClientCert),
		clientKey:  resolveFlag(cmd, flagClientKey, envClientKey),
	}
	if (g.clientCert == "") != (g.clientKey == "") {
		return nil, usageErrorf(cmd, "give --client-cert and --client-key together")
	}
	switch g.output {
	case outputText, outputJSON:
	default:
		return nil, usageErrorf(cmd, "invalid --output %q: use text or json", g.output)
	}
	return g, nil
}

// lookupFlag finds a flag of cmd, including inherited persistent flags.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	if f := cmd.InheritedFlags().Lookup(name); f != nil {
		return f
	}
	return cmd.Root().PersistentFlags().Lookup(name)
}

// resolveFlag returns the flag's value if it was given, else the non-empty
// environment variable env (if any), else the flag's default.
func resolveFlag(cmd *cobra.Command, name, env string) string {
	f := lookupFlag(cmd, name)
	if f == nil {
		return ""
	}
	if f.Changed {
		return f.Value.String()
	}
	if env != "" {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return f.DefValue
}

// json reports whether JSON output was asked for.
func (g *globalFlags) json() bool { return g.output == outputJSON }

// client builds an SDK client from the global settings. The bench command
// reuses it, so one client (and its connection pool) serves all workers.
func (g *globalFlags) client() (*client.Client, error) {
	opts := []client.Option{client.WithUserAgent(userAgent)}
	if g.token != "" {
		opts = append(opts, client.WithToken(g.token))
	}
	if g.approval != "" {
		opts = append(opts, client.WithApproval(g.approval))
	}
	if g.caCert != "" || g.clientCert != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if g.caCert != "" {
			var err error
			if cfg, err = tlsConfigFromCAFile(g.caCert); err != nil {
				return nil, err
			}
		}
		if g.clientCert != "" {
			pair, err := tls.LoadX509KeyPair(g.clientCert, g.clientKey)
			if err != nil {
				return nil, fmt.Errorf("loading the client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		opts = append(opts, client.WithTLSConfig(cfg))
	}
	return client.New(g.addr, opts...)
}

// tlsConfigFromCAFile returns a TLS config that trusts only the CA
// certificates in the PEM file at path.
func tlsConfigFromCAFile(path string) (*tls.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("no PEM certificate found in %s", path)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// parsePairs parses repeated k=v flag values into a map. A value may
// contain "="; the key may not be empty nor repeated. No values give nil.
func parsePairs(cmd *cobra.Command, flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(vals))
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf(cmd, "invalid --%s %q: use key=value", flag, kv)
		}
		if _, dup := m[k]; dup {
			return nil, usageErrorf(cmd, "--%s %q given more than once", flag, k)
		}
		m[k] = v
	}
	return m, nil
}

// connect resolves the global settings of cmd and builds the SDK client
// from them: the common prologue of every command that talks to a server.
func connect(cmd *cobra.Command) (*globalFlags, *client.Client, error) {
	g, err := loadGlobalFlags(cmd)
	if err != nil {
		return nil, nil, err
	}
	c, err := g.client()
	if err != nil {
		return nil, nil, err
	}
	return g, c, nil
}
