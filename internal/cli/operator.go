package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/arcakms/arca/client"
)

// exitSealed is the exit code of "operator status" for a sealed server.
const exitSealed = 2

// newOperatorCommand groups the server lifecycle commands.
func newOperatorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:          "operator",
		Short:        "Initialise, unseal, seal and inspect the server",
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	cmd.AddCommand(
		newOperatorInitCommand(),
		newOperatorUnsealCommand(),
		newOperatorGenerateRootCommand(),
		newOperatorSealCommand(),
		newOperatorStatusCommand(),
	)
	cmd.AddCommand(newOperatorSealChangeCommands()...)
	return cmd
}

func newOperatorInitCommand() *cobra.Command {
	var shares, threshold, recoveryShares, recoveryThreshold int
	var sealType string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Initialise a new server and print its unseal shares and root token",
		Long: `Initialise a new server. The root key is split into --shares unseal shares,
any --threshold of which unseal the server.

With --seal pkcs11 (a server configured with seal.type pkcs11) the root key
is an AES-256 key inside the HSM instead, generated there if missing: there
are no unseal shares, and the server unseals itself at every start. Give
--recovery-shares and --recovery-threshold to split a recovery key whose
shares, like unseal shares under Shamir, authorise a break-glass root token
(operator generate-root); without one that way back is closed.

The shares and the root token are printed exactly once: the server keeps no
copy. Hand each share to a different custodian.`,
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			req := client.InitRequest{Shares: shares, Threshold: threshold}
			if sealType == "pkcs11" {
				req = client.InitRequest{Seal: sealType, RecoveryShares: recoveryShares, RecoveryThreshold: recoveryThreshold}
				threshold = 0
			} else if recoveryShares != 0 || recoveryThreshold != 0 {
				return usageErrorf(cmd, "--recovery-shares and --recovery-threshold apply to --seal pkcs11")
			}
			res, err := c.Init(cmd.Context(), req)
			if err != nil {
				return err
			}
			if sealType == "pkcs11" && !g.json() {
				if err := printRecoveryShares(cmd.OutOrStdout(), res.RecoveryShares, recoveryThreshold); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "Root token: %s\n\nThe root key is in the HSM; the server unseals itself. The root token is shown exactly once.\n", res.RootToken)
				return err
			}
			if g.json() {
				fmt.Fprintln(cmd.ErrOrStderr(), initWarning(threshold, shares))
				return printJSON(cmd.OutOrStdout(), res)
			}
			return printInit(cmd.OutOrStdout(), res, threshold)
		},
	}
	cmd.Flags().IntVar(&shares, "shares", 5, "number of unseal shares to split the root key into")
	cmd.Flags().IntVar(&threshold, "threshold", 3, "number of shares needed to unseal")
	cmd.Flags().StringVar(&sealType, "seal", "shamir", "shamir, or pkcs11 for a root key in the HSM")
	cmd.Flags().IntVar(&recoveryShares, "recovery-shares", 0, "with --seal pkcs11: number of recovery shares (0: no recovery key)")
	cmd.Flags().IntVar(&recoveryThreshold, "recovery-threshold", 0, "with --seal pkcs11: recovery shares needed for a break-glass root token")
	return cmd
}

// printRecoveryShares prints a PKCS#11 seal's new recovery shares, if any.
func printRecoveryShares(w io.Writer, shares []string, threshold int) error {
	for i, s := range shares {
		if _, err := fmt.Fprintf(w, "Recovery share %d: %s\n", i+1, s); err != nil {
			return err
		}
	}
	if len(shares) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\nWARNING: the recovery shares are shown exactly once. They unseal nothing, but any %d of the %d\n"+
		"create a new root token (operator generate-root): hand each to a different custodian.\n\n", threshold, len(shares))
	return err
}

// newSealChangeCommand is one of rekey, rotate-root and migrate-seal: it
// calls the server and prints the new shares, if any, once.
func newSealChangeCommand(use, short, long string, call func(cmd *cobra.Command, c *client.Client) (*client.SealChange, error)) *cobra.Command {
	return callCommand(use, short, long, call, func(w io.Writer, res *client.SealChange) error {
		if res.Type == "pkcs11" {
			if err := printRecoveryShares(w, res.RecoveryShares, res.RecoveryThreshold); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "The keyring key is sealed by the HSM key %q; the server unseals itself.\n", res.KeyLabel)
			return err
		}
		return printInit(w, &client.InitResponse{Shares: res.Shares}, res.Threshold)
	})
}

func newOperatorSealChangeCommands() []*cobra.Command {
	var shares, threshold int
	rekey := newSealChangeCommand("rekey --shares N --threshold M", "Replace the root key (Shamir) or the recovery key (PKCS#11) with new shares",
		"Replace the Shamir root key with a new one split into --shares shares, any --threshold of which\nunseal. The new shares are printed once; the old ones no longer unseal. Key versions and\nciphertexts are untouched. Under the PKCS#11 seal, replace (or create) the recovery key the\nsame way: the old recovery shares no longer create root tokens. Needs sys:rekey.",
		func(cmd *cobra.Command, c *client.Client) (*client.SealChange, error) {
			return c.Rekey(cmd.Context(), shares, threshold)
		})
	rekey.Flags().IntVar(&shares, "shares", 5, "number of new shares")
	rekey.Flags().IntVar(&threshold, "threshold", 3, "number of new shares needed to unseal")
	rotate := newSealChangeCommand("rotate-root", "Replace the root key (new shares, or a new HSM key)",
		"Seal the keyring key under a new root key: new shares with the same count and threshold\n(Shamir), or a new key in the HSM (PKCS#11). Needs sys:rekey.",
		func(cmd *cobra.Command, c *client.Client) (*client.SealChange, error) {
			return c.RotateRoot(cmd.Context())
		})
	var to string
	var mShares, mThreshold int
	migrate := newSealChangeCommand("migrate-seal --to pkcs11|shamir", "Move the seal between Shamir shares and the HSM",
		"Seal the keyring key under the HSM's key (--to pkcs11; the server then unseals itself) or\nunder a new root key split into --shares shares (--to shamir). Only the keyring key's seal\nchanges: every key version and ciphertext stays as it is. Needs sys:rekey.",
		func(cmd *cobra.Command, c *client.Client) (*client.SealChange, error) {
			if to == "pkcs11" && !cmd.Flags().Changed("shares") && !cmd.Flags().Changed("threshold") {
				mShares, mThreshold = 0, 0 // a recovery key only when asked for
			}
			return c.MigrateSeal(cmd.Context(), to, mShares, mThreshold)
		})
	migrate.Flags().StringVar(&to, "to", "", "pkcs11 or shamir")
	migrate.Flags().IntVar(&mShares, "shares", 5, "number of shares: unseal shares (--to shamir), or recovery shares (--to pkcs11; none unless given)")
	migrate.Flags().IntVar(&mThreshold, "threshold", 3, "shares needed to unseal (--to shamir), or to create a root token (--to pkcs11)")
	return []*cobra.Command{rekey, rotate, migrate, newKeyringCommand("rotate-keyring", "Make a new keyring key for new writes; older data moves to it in the background",
		"Create a new keyring generation: everything written from now on is sealed by it, while\nolder generations keep opening what they sealed until the server's background rewrap has\nmoved it (see keyring-status). Shares, the HSM key and ciphertexts are untouched. Needs\nsys:rekey.",
		(*client.Client).RotateKeyring),
		newKeyringCommand("keyring-status", "Show the keyring generations and what each still seals",
			"List the keyring generations, the current one, and how many stored blobs each still seals\n(0 for every old generation once the background rewrap is done). Needs sys:rekey.",
			(*client.Client).KeyringStatus)}
}

// newKeyringCommand is rotate-keyring or keyring-status: both print the
// keyring generations.
func newKeyringCommand(use, short, long string, call func(*client.Client, context.Context) (*client.KeyringStatus, error)) *cobra.Command {
	return callCommand(use, short, long, func(cmd *cobra.Command, c *client.Client) (*client.KeyringStatus, error) {
		return call(c, cmd.Context())
	}, func(w io.Writer, st *client.KeyringStatus) error {
		for _, gen := range st.Generations {
			mark := ""
			if gen.Current {
				mark = " (current)"
			}
			if _, err := fmt.Fprintf(w, "generation %d%s: %d sealed blobs\n", gen.Generation, mark, gen.Blobs); err != nil {
				return err
			}
		}
		return nil
	})
}

func initWarning(threshold, shares int) string {
	return fmt.Sprintf("WARNING: the unseal shares and the root token are shown exactly once; the server keeps no copy.\n"+
		"Store them safely now: any %d of the %d shares unseal the server, and without them its keys are lost.", threshold, shares)
}

func printInit(w io.Writer, res *client.InitResponse, threshold int) error {
	for i, s := range res.Shares {
		if _, err := fmt.Fprintf(w, "Unseal share %d: %s\n", i+1, s); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "Root token: %s\n\n%s\n", res.RootToken, initWarning(threshold, len(res.Shares)))
	return err
}

func newOperatorUnsealCommand() *cobra.Command {
	var reset bool
	cmd := &cobra.Command{
		Use:   "unseal [SHARE]",
		Short: "Submit one unseal share, or reset the unseal progress",
		Long: `Submit one unseal share. The server unseals once enough distinct shares
have been submitted. Without SHARE the share is read as one line from stdin
(which keeps it out of the shell history and the process list).

With --reset, discard the shares submitted so far.`,
		Args:         usageArgs(cobra.MaximumNArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if reset && len(args) > 0 {
				return usageErrorf(cmd, "give either SHARE or --reset, not both")
			}
			var share string
			if !reset {
				if share, err = readShare(cmd, args); err != nil {
					return err
				}
			}
			var st *client.SealStatus
			if reset {
				st, err = c.UnsealReset(cmd.Context())
			} else {
				st, err = c.Unseal(cmd.Context(), share)
			}
			if err != nil {
				return err
			}
			return printStatus(cmd, g, st)
		},
	}
	cmd.Flags().BoolVar(&reset, "reset", false, "discard the shares submitted so far")
	return cmd
}

func newOperatorGenerateRootCommand() *cobra.Command {
	var cancel bool
	cmd := &cobra.Command{
		Use:   "generate-root [SHARE]",
		Short: "Break glass: create a new root token with a quorum of unseal (or recovery) shares",
		Long: `Submit one unseal share towards a new root token, on an unsealed server:
once as many distinct shares as unsealing needs have been submitted, the
server prints a new root token (once). Under the PKCS#11 seal, submit
recovery shares instead. This is the way back in after the
root token was revoked and no administrator is left. Each submission is
audited. Without SHARE the share is read from stdin.

With --cancel, discard the shares submitted so far.`,
		Args:         usageArgs(cobra.MaximumNArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if cancel {
				if len(args) > 0 {
					return usageErrorf(cmd, "give either SHARE or --cancel, not both")
				}
				if err := c.CancelGenerateRoot(cmd.Context()); err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), "Root token generation cancelled.")
				return err
			}
			share, err := readShare(cmd, args)
			if err != nil {
				return err
			}
			res, err := c.GenerateRoot(cmd.Context(), share)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if res.RootToken != "" {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "Root token: %s\nRevoke it (arca token revoke) as soon as an administrator identity is restored.\n", res.RootToken)
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Progress: %d of %d shares\n", res.Progress, res.Threshold)
			return err
		},
	}
	cmd.Flags().BoolVar(&cancel, "cancel", false, "discard the shares submitted so far")
	return cmd
}

// readShare returns the share argument, or reads one line from stdin. At a
// terminal the share is read without echo.
func readShare(cmd *cobra.Command, args []string) (string, error) {
	if len(args) == 1 {
		if args[0] == "" {
			return "", usageErrorf(cmd, "empty unseal share")
		}
		return args[0], nil
	}
	in := cmd.InOrStdin()
	var share string
	var err error
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), "Unseal share (input hidden): ")
		var b []byte
		b, err = term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		share = strings.TrimSpace(string(b))
	} else {
		share, err = readLine(in)
	}
	if err != nil {
		return "", fmt.Errorf("reading the unseal share: %w", err)
	}
	if share == "" {
		return "", usageErrorf(cmd, "no unseal share given (pass SHARE or write it to stdin)")
	}
	return share, nil
}

func newOperatorSealCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "seal",
		Short: "Seal the server, wiping its keys from memory",
		Long: `Seal the server: it wipes its keys from memory and refuses every
operation until it is unsealed again with the threshold of shares.`,
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			st, err := c.Seal(cmd.Context())
			if err != nil {
				return err
			}
			return printStatus(cmd, g, st)
		},
	}
}

func newOperatorStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether the server is initialised and sealed",
		Long: `Show whether the server is initialised and sealed, and the unseal progress.

Exit codes: 0 the server is unsealed, 1 error, 2 the server is sealed (or
not initialised). Scripts can test "arca operator status" like
"vault status".`,
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			st, err := c.SealStatus(cmd.Context())
			if err != nil {
				return err
			}
			if err := printStatus(cmd, g, st); err != nil {
				return err
			}
			if st.Sealed || !st.Initialized {
				return &exitCodeError{code: exitSealed}
			}
			return nil
		},
	}
}

// printStatus prints a seal status in the selected format.
func printStatus(cmd *cobra.Command, g *globalFlags, st *client.SealStatus) error {
	if g.json() {
		return printJSON(cmd.OutOrStdout(), st)
	}
	return printSealStatus(cmd.OutOrStdout(), st)
}
