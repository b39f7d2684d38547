package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// newPolicyCommand groups the crypto policy commands.
func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show, reload and check the crypto policy",
		Long: `The crypto policy (the server's policy_file) says which algorithms and
strengths are allowed, the longest cryptoperiod per algorithm, whether keys
must rotate and how often, and which labels every key carries. Keys that
break it cannot be created; "arca policy check" lists existing keys that
break it now.`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	cmd.AddCommand(newPolicyShowCommand(), newPolicyReloadCommand(), newPolicyCheckCommand())
	return cmd
}

func newPolicyShowCommand() *cobra.Command {
	return policyCommand("show", "Show the crypto policy in force", "", (*client.Client).GetPolicy)
}

func newPolicyReloadCommand() *cobra.Command {
	return policyCommand("reload", "Make the server re-read its policy file",
		"Make the server re-read its policy file. An invalid file is refused and the policy in force stays.",
		(*client.Client).ReloadPolicy)
}

// policyCommand is a policy subcommand that makes one call and prints the
// policy it returns, as JSON.
func policyCommand(use, short, long string, call func(*client.Client, context.Context) (*client.Policy, error)) *cobra.Command {
	return callCommand(use, short, long, func(cmd *cobra.Command, c *client.Client) (*client.Policy, error) {
		return call(c, cmd.Context())
	}, nil)
}

// callCommand builds a command without arguments that makes one call to
// the server and prints its result: as JSON with --json or when human is
// nil, otherwise with human.
func callCommand[T any](use, short, long string, call func(*cobra.Command, *client.Client) (T, error), human func(io.Writer, T) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Long: long,
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			res, err := call(cmd, c)
			if err != nil {
				return err
			}
			if human == nil || g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			return human(cmd.OutOrStdout(), res)
		},
	}
}

func newPolicyCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "List keys that break the crypto policy, and why",
		Long: `List every key that breaks the crypto policy in force, with each rule it
breaks. Exits with status 3 when any key is non-compliant, so scripts and
monitoring can act on it.`,
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			res, err := c.CheckPolicy(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				err = printJSON(cmd.OutOrStdout(), res)
			} else {
				err = printPolicyCheck(cmd.OutOrStdout(), res)
			}
			if err == nil && !res.Compliant {
				return &exitCodeError{code: exitNonCompliant}
			}
			return err
		},
	}
}

// exitNonCompliant is the exit status of "policy check" when keys break
// the policy.
const exitNonCompliant = 3

func printPolicyCheck(w io.Writer, res *client.PolicyCheck) error {
	if res.Compliant {
		_, err := fmt.Fprintln(w, "All keys comply with the crypto policy.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tRULE\tPROBLEM")
	for _, k := range res.Keys {
		for _, v := range k.Violations {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Name, v.Rule, v.Message)
		}
	}
	return tw.Flush()
}

func newKeyHealthCommand() *cobra.Command {
	return &cobra.Command{
		Use:          "health",
		Short:        "Report keys that need attention, with counts by state",
		Long:         "Report keys overdue for rotation, near their usage bound, past their cryptoperiod, or scheduled for destruction, with counts by state.",
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			rep, err := c.KeyHealth(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			return printKeyHealth(cmd.OutOrStdout(), rep)
		},
	}
}

func printKeyHealth(w io.Writer, rep *client.KeyHealth) error {
	var states []string
	for _, st := range []string{"pre-active", "active", "suspended", "deactivated", "compromised", "destroy-scheduled", "destroyed"} {
		states = append(states, fmt.Sprintf("%s %d", st, rep.ByState[st]))
	}
	fmt.Fprintf(w, "Keys: %d (%s)\n", rep.Total, strings.Join(states, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, sec := range []struct {
		title string
		items []client.KeyAttention
	}{
		{"Overdue for rotation", rep.OverdueRotation}, {"Near usage bound", rep.NearUsageBound},
		{"Past cryptoperiod", rep.PastCryptoperiod}, {"Scheduled for destruction", rep.ScheduledDestruction},
	} {
		fmt.Fprintf(tw, "\n%s: %d\n", sec.title, len(sec.items))
		for _, a := range sec.items {
			due := ""
			if !a.Due.IsZero() {
				due = formatTime(a.Due)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Name, a.Reason, due)
		}
	}
	return tw.Flush()
}
