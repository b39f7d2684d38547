package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// Exit codes of the arca command.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// Main runs the arca command with os.Args and returns its exit code: 0 on
// success, 1 on error, 2 on a usage error. cmd/arca calls
// os.Exit(cli.Main()).
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// run executes the root command on args with the given streams, prints any
// error, and returns the exit code. Tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return report(stderr, root.ExecuteContext(ctx))
}

// NewRootCommand returns a fresh arca command tree. Each call builds new
// commands and flags, so tests can run it repeatedly.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "arca",
		Short: "Command-line client for the Arca key management server",
		Long: `arca talks to an Arca key management server over its REST API.

The server address, token and CA certificate are taken from the flags
--addr, --token and --ca-cert, or else from the environment variables
ARCA_ADDR, ARCA_TOKEN and ARCA_CACERT; flags win over the environment.
Prefer ARCA_TOKEN to --token: command-line flags are visible to other
users in the process list.

Exit codes: 0 success, 1 error, 2 usage error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          groupArgs,
		RunE:          groupRun,
	}
	addGlobalFlags(root)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return newUsageError(cmd, err)
	})
	addCommands(root)
	return root
}

// addCommands attaches every subcommand to root. It lists each constructor
// explicitly so that the command set is visible in one place.
func addCommands(root *cobra.Command) {
	root.AddCommand(
		newDataKeyPairCommand(),
		newSignCommand(),
		newVerifyCommand(),
		newMACCommand(),
		newVerifyMACCommand(),
		newPolicyCommand(),
		newOperatorCommand(),
		newKeyCommand(),
		newEncryptCommand(),
		newDecryptCommand(),
		newRewrapCommand(),
		newDataKeyCommand(),
		newRandomCommand(),
		newIdentityCommand(),
		newTokenCommand(),
		newAccessKeyCommand(),
		newAccessPolicyCommand(),
		newApprovalCommand(),
		newMFACommand(),
		newAccessCommand(),
		newAuditCommand(),
		newBackupCommand(),
		newLoginCommand(),
		// server and bench commands are added in server.go and bench.go
		newServerCommand(),
		newBenchCommand(),
		newKMSPluginCommand(),
	)
}

// groupArgs rejects arguments to a command that only groups subcommands:
// whatever is left is an unknown subcommand, which is a usage error.
func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return newUsageError(cmd, errors.New(msg))
}

// groupRun shows the help of a command that only groups subcommands.
func groupRun(cmd *cobra.Command, _ []string) error {
	return cmd.Help()
}

// usageError is a command-line mistake; it exits with code 2 and points to
// the command's usage.
type usageError struct {
	err     error
	useLine string
	path    string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func newUsageError(cmd *cobra.Command, err error) error {
	useLine := cmd.UseLine()
	if cmd.HasAvailableSubCommands() {
		useLine = cmd.CommandPath() + " <command> [flags]"
	}
	return &usageError{err: err, useLine: useLine, path: cmd.CommandPath()}
}

func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return newUsageError(cmd, fmt.Errorf(format, args...))
}

// usageArgs wraps a positional-argument validator so that its failures are
// usage errors.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return newUsageError(cmd, err)
		}
		return nil
	}
}

// exitCodeError ends the command with a specific exit code after it has
// printed its output; nothing more is printed.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

// report prints err in the CLI's format and returns the exit code.
// API errors print as "arca: <message> (code: <code>)".
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "arca: %s\nUsage: %s\nRun '%s --help' for more information.\n", ue.err, ue.useLine, ue.path)
		return exitUsage
	}
	var ae *client.Error
	if errors.As(err, &ae) {
		msg := ae.Message
		if msg == "" {
			msg = "request failed"
		}
		if ae.Code != "" {
			fmt.Fprintf(w, "arca: %s (code: %s)\n", msg, ae.Code)
		} else {
			fmt.Fprintf(w, "arca: %s\n", msg)
		}
		return exitError
	}
	fmt.Fprintf(w, "arca: %s\n", strings.TrimPrefix(err.Error(), "arca: "))
	return exitError
}
