package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// newApprovalCommand groups the dual-control (quorum approval) commands.
func newApprovalCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approval",
		Short: "List, approve and cancel requests under dual control",
		Long: `Actions the server puts under dual control (key destruction, export,
decryption with a compromised key, access policy and grant changes) are not
executed at once: the request is recorded as pending and the command prints
its approval id. Other identities with the approver role approve it with
"arca approval approve ID"; the requester then repeats the same command with
--approval ID, within the approval's lifetime. See docs/access.md.`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	var pending bool
	list := queryCommand(&cobra.Command{Use: "list", Short: "List approval requests, newest first", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) ([]client.Approval, error) {
			return c.ListApprovals(cmd.Context(), pending)
		},
		func(w io.Writer, as []client.Approval) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tAPPROVALS\tREQUESTED BY\tEXPIRES\tSUMMARY")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\t%s\t%s\n", a.ID, a.Status, len(a.Approvals), a.Required, a.RequestedByName, formatTime(a.ExpiresAt), a.Summary)
			}
			return tw.Flush()
		})
	list.Flags().BoolVar(&pending, "pending", false, "only requests still waiting for approvals")
	show := approvalAction("show ID", "Show an approval request and who approved it", func(c *client.Client, cmd *cobra.Command, id string) (*client.Approval, error) {
		return c.GetApproval(cmd.Context(), id)
	})
	approve := approvalAction("approve ID", "Approve another identity's pending request", func(c *client.Client, cmd *cobra.Command, id string) (*client.Approval, error) {
		return c.Approve(cmd.Context(), id)
	})
	cancel := approvalAction("cancel ID", "Cancel a pending or approved request (your own, or with approval:cancel)", func(c *client.Client, cmd *cobra.Command, id string) (*client.Approval, error) {
		return c.CancelApproval(cmd.Context(), id)
	})
	cmd.AddCommand(list, show, approve, cancel)
	return cmd
}

// approvalAction builds a command that acts on one approval and prints it.
func approvalAction(use, short string, do func(*client.Client, *cobra.Command, string) (*client.Approval, error)) *cobra.Command {
	return queryCommand(&cobra.Command{Use: use, Short: short, Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) (*client.Approval, error) {
			return do(c, cmd, args[0])
		}, printApproval)
}

func printApproval(w io.Writer, a *client.Approval) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "ID:\t%s\n", a.ID)
	fmt.Fprintf(tw, "Status:\t%s\n", a.Status)
	fmt.Fprintf(tw, "Action:\t%s\n", a.Action)
	fmt.Fprintf(tw, "Summary:\t%s\n", a.Summary)
	fmt.Fprintf(tw, "Requested:\t%s by %s\n", formatTime(a.CreatedAt), a.RequestedByName)
	fmt.Fprintf(tw, "Expires:\t%s\n", formatTime(a.ExpiresAt))
	fmt.Fprintf(tw, "Approvals:\t%d of %d\n", len(a.Approvals), a.Required)
	for _, v := range a.Approvals {
		fmt.Fprintf(tw, "\t%s at %s\n", v.ByName, formatTime(v.At))
	}
	return tw.Flush()
}
