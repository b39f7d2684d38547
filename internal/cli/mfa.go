package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// newMFACommand groups TOTP enrolment and login.
func newMFACommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Enrol TOTP (RFC 6238) and manage it",
		Long: `People (human identities) enrol an authenticator app with "arca mfa enroll"
and confirm it with a first code; "arca login" then exchanges their token and
a code for a short-lived session token that satisfies access policies
requiring MFA.`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	enroll := queryCommand(&cobra.Command{Use: "enroll", Short: "Start your TOTP enrolment (prints the secret once)", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) (*client.TOTPEnrolment, error) {
			return c.EnrollTOTP(cmd.Context())
		},
		func(w io.Writer, e *client.TOTPEnrolment) error {
			_, err := fmt.Fprintf(w, "Add this to your authenticator app, then run \"arca mfa confirm --code CODE\":\n%s\nSecret: %s\n", e.URL, e.Secret)
			return err
		})
	var code string
	confirm := doCommand(&cobra.Command{Use: "confirm --code CODE", Short: "Confirm your TOTP enrolment with a first code", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			return c.ConfirmTOTP(cmd.Context(), code)
		},
		func([]string) string { return "TOTP confirmed." })
	confirm.Flags().StringVar(&code, "code", "", "the code your authenticator app shows")
	reset := doCommand(&cobra.Command{Use: "reset IDENTITY", Short: "Remove an identity's TOTP enrolment (lost device)", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			return c.ResetTOTP(cmd.Context(), args[0])
		},
		func(args []string) string { return fmt.Sprintf("TOTP of %s reset.", args[0]) })
	cmd.AddCommand(enroll, confirm, reset)
	return cmd
}

func newLoginCommand() *cobra.Command {
	var code string
	cmd := queryCommand(&cobra.Command{
		Use:   "login --code CODE",
		Short: "Exchange your token and a TOTP code for a session token with MFA",
		Long: `Exchange your token and a TOTP code for a session token (valid 15 minutes)
that satisfies access policies requiring MFA. Use it as ARCA_TOKEN.`,
		Example: "  export ARCA_TOKEN=$(arca login --code 123456 -o json | jq -r .token)",
		Args:    usageArgs(cobra.NoArgs),
	},
		func(cmd *cobra.Command, c *client.Client, _ []string) (*client.Session, error) {
			return c.Login(cmd.Context(), code)
		},
		func(w io.Writer, s *client.Session) error {
			_, err := fmt.Fprintf(w, "Token: %s\nAccessor: %s\nExpires: %s\n", s.Token, s.Accessor, formatTime(s.ExpiresAt))
			return err
		})
	cmd.Flags().StringVar(&code, "code", "", "the code your authenticator app shows")
	return cmd
}
