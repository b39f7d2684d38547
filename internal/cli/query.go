package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// queryCommand builds a command that makes one API call and prints its
// result: as JSON with -o json, else with text. It is the shape of most
// read and single-step commands.
func queryCommand[T any](cmd *cobra.Command, call func(cmd *cobra.Command, c *client.Client, args []string) (T, error), text func(w io.Writer, v T) error) *cobra.Command {
	cmd.SilenceUsage = true
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		g, c, err := connect(cmd)
		if err != nil {
			return err
		}
		v, err := call(cmd, c, args)
		if err != nil {
			return err
		}
		if g.json() {
			return printJSON(cmd.OutOrStdout(), v)
		}
		return text(cmd.OutOrStdout(), v)
	}
	return cmd
}

// doCommand builds a command that makes one API call with no result to
// show and confirms it with a line of text.
func doCommand(cmd *cobra.Command, call func(cmd *cobra.Command, c *client.Client, args []string) error, done func(args []string) string) *cobra.Command {
	cmd.SilenceUsage = true
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		_, c, err := connect(cmd)
		if err != nil {
			return err
		}
		if err := call(cmd, c, args); err != nil {
			return err
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), done(args))
		return err
	}
	return cmd
}
