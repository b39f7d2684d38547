package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// newAccessCommand groups access reviews.
func newAccessCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:          "access",
		Short:        "Review who may do what",
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	matrix := queryCommand(&cobra.Command{
		Use:   "matrix",
		Short: "Print every identity's effective permissions, key by key",
		Long: `Print, for every identity, the actions it may perform on the server and on
each key: "allowed" (always), or "conditional" (only from some addresses,
at some times, with some context, or with MFA). Computed by the evaluator
that enforces access, for periodic access reviews (needs report:read).`,
		Args: usageArgs(cobra.NoArgs),
	},
		func(cmd *cobra.Command, c *client.Client, _ []string) (*client.AccessMatrix, error) {
			return c.AccessMatrix(cmd.Context())
		},
		func(w io.Writer, m *client.AccessMatrix) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "IDENTITY\tSTATUS\tRESOURCE\tACTIONS")
			for _, id := range m.Identities {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id.Name, id.Status, "(server)", orDash(grants(id.Server)))
				for _, k := range id.Keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id.Name, id.Status, "key "+k.Key, grants(k.Actions))
				}
			}
			return tw.Flush()
		})
	cmd.AddCommand(matrix)
	return cmd
}

// grants formats actions, conditional ones marked with "?".
func grants(m map[string]string) string {
	out := make([]string, 0, len(m))
	for a, g := range m {
		if g == "conditional" {
			a += "?"
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
