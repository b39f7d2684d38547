package cli

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/audit"
)

// newAuditCommand groups audit log commands.
func newAuditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:          "audit",
		Short:        "Verify audit logs and get the key that signs their checkpoints",
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	var keyFile string
	verify := &cobra.Command{
		Use:   "verify FILE...",
		Short: "Check an audit log's hash chain, offline",
		Long: `Check the hash chain of audit log files, offline (no server is contacted).
Every record carries its sequence number and the SHA-256 of the previous
record, so an edited, deleted, inserted or reordered record breaks the chain
where it was touched; the command reports the first such place and exits 1.
Give rotated files in order, oldest first: the chain runs across them.

With --public-key (the PEM of "arca audit public-key"), signed checkpoints
are verified too: a forged checkpoint is reported, and the report says how
many records follow the last checkpoint (a truncation or rewrite of those
cannot be ruled out).`,
		Example:      "  arca audit verify /var/lib/arca/audit.log",
		Args:         usageArgs(cobra.MinimumNArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := loadGlobalFlags(cmd)
			if err != nil {
				return err
			}
			var pub ed25519.PublicKey
			if keyFile != "" {
				if pub, err = readEd25519PublicKey(keyFile); err != nil {
					return err
				}
			}
			rep, err := audit.Verify(args, pub)
			if err != nil {
				return err
			}
			if g.json() {
				if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else if rep.OK() {
				fmt.Fprintf(cmd.OutOrStdout(), "OK: %d records, hash chain intact.\n", rep.Records)
				if pub != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%d signed checkpoints verified; %d records after the last one.\n", rep.Checkpoints, rep.Unprotected)
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "TAMPERED: %s record at %s line %d: %s\n", rep.Problem, rep.File, rep.Line, rep.Detail)
			}
			if !rep.OK() {
				return &exitCodeError{code: 1}
			}
			return nil
		},
	}
	verify.Flags().StringVar(&keyFile, "public-key", "", `PEM file with the audit public key ("arca audit public-key"), to verify checkpoints`)
	pubCmd := queryCommand(&cobra.Command{Use: "public-key", Short: "Print the public key that verifies audit checkpoints (PEM)", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) (*client.AuditPublicKey, error) {
			return c.AuditPublicKey(cmd.Context())
		},
		func(w io.Writer, k *client.AuditPublicKey) error {
			_, err := fmt.Fprint(w, k.PEM)
			return err
		})
	var value string
	hmacCmd := queryCommand(&cobra.Command{
		Use:   "hmac --value VALUE",
		Short: "Print the HMAC under which audit records carry a context value",
		Long: `Audit records carry encryption-context values only as HMAC-SHA256 under the
deployment's audit key. Print the HMAC of VALUE, then search the log for it
(grep) to see which requests used it. Needs audit:read.`,
		Example: "  grep \"$(arca audit hmac --value tenant-42)\" /var/lib/arca/audit.log",
		Args:    usageArgs(cobra.NoArgs),
	},
		func(cmd *cobra.Command, c *client.Client, _ []string) (map[string]string, error) {
			sum, err := c.AuditHMAC(cmd.Context(), value)
			return map[string]string{"hmac": sum}, err
		},
		func(w io.Writer, m map[string]string) error {
			_, err := fmt.Fprintln(w, m["hmac"])
			return err
		})
	hmacCmd.Flags().StringVar(&value, "value", "", "the context value to look for")
	var sq client.AuditSearch
	var since, until string
	search := queryCommand(&cobra.Command{
		Use:   "search",
		Short: "Search the audit trail by identity, key, operation, outcome and time",
		Long: `Search the server's audit trail, newest first, through its index (needs
audit:read). Filters combine; --page-token continues a previous page.`,
		Example: "  arca audit search --key-id 3f2c... --operation key.decrypt --since 2026-11-01T00:00:00Z",
		Args:    usageArgs(cobra.NoArgs),
	},
		func(cmd *cobra.Command, c *client.Client, _ []string) (*client.AuditRecords, error) {
			var err error
			if since != "" {
				if sq.From, err = time.Parse(time.RFC3339, since); err != nil {
					return nil, usageErrorf(cmd, "--since must be an RFC 3339 time")
				}
			}
			if until != "" {
				if sq.To, err = time.Parse(time.RFC3339, until); err != nil {
					return nil, usageErrorf(cmd, "--until must be an RFC 3339 time")
				}
			}
			return c.SearchAudit(cmd.Context(), sq)
		},
		func(w io.Writer, res *client.AuditRecords) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tIDENTITY\tOPERATION\tKEY\tOUTCOME\tCODE")
			for _, r := range res.Records {
				fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\t%v\n", r["time"], orDash(str(r["identity"])), r["operation"], orDash(str(r["key_id"])), r["outcome"], orDash(str(r["error_code"])))
			}
			if res.NextPageToken != "" {
				fmt.Fprintf(tw, "\nMore: --page-token %s\n", res.NextPageToken)
			}
			return tw.Flush()
		})
	sf := search.Flags()
	sf.StringVar(&sq.Identity, "identity", "", "identity id (or a root token's accessor)")
	sf.StringVar(&sq.KeyID, "key-id", "", "key id")
	sf.StringVar(&sq.Operation, "operation", "", "operation, e.g. key.decrypt")
	sf.StringVar(&sq.Outcome, "outcome", "", "allowed, denied or failed")
	sf.StringVar(&since, "since", "", "records at or after this RFC 3339 time")
	sf.StringVar(&until, "until", "", "records before this RFC 3339 time")
	sf.IntVar(&sq.Limit, "limit", 0, "records per page (default 100, at most 1000)")
	sf.StringVar(&sq.PageToken, "page-token", "", "continue after a previous page")
	cmd.AddCommand(verify, pubCmd, hmacCmd, search)
	return cmd
}

// readEd25519PublicKey reads a PEM "PUBLIC KEY" holding an Ed25519 key.
func str(v any) string {
	s, _ := v.(string)
	return s
}

func readEd25519PublicKey(path string) (ed25519.PublicKey, error) {
	raw, err := readFileLimited(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: no PEM PUBLIC KEY", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 public key", path)
	}
	return pub, nil
}
