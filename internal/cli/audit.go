package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/internal/audit"
)

// newAuditCommand groups audit log commands.
func newAuditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:          "audit",
		Short:        "Verify audit logs",
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	verify := &cobra.Command{
		Use:   "verify FILE...",
		Short: "Check an audit log's hash chain, offline",
		Long: `Check the hash chain of audit log files, offline (no server is contacted).
Every record carries its sequence number and the SHA-256 of the previous
record, so an edited, deleted, inserted or reordered record breaks the chain
where it was touched; the command reports the first such place and exits 1.
Give rotated files in order, oldest first: the chain runs across them.`,
		Example:      "  arca audit verify /var/lib/arca/audit.log",
		Args:         usageArgs(cobra.MinimumNArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := loadGlobalFlags(cmd)
			if err != nil {
				return err
			}
			rep, err := audit.Verify(args)
			if err != nil {
				return err
			}
			if g.json() {
				if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else if rep.OK() {
				fmt.Fprintf(cmd.OutOrStdout(), "OK: %d records, hash chain intact.\n", rep.Records)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "TAMPERED: %s record at %s line %d: %s\n", rep.Problem, rep.File, rep.Line, rep.Detail)
			}
			if !rep.OK() {
				return &exitCodeError{code: 1}
			}
			return nil
		},
	}
	cmd.AddCommand(verify)
	return cmd
}
