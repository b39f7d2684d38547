package cli

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

func newMACCommand() *cobra.Command {
	src := inputSource{inlineFlag: "data"}
	cmd := &cobra.Command{
		Use:   "mac KEY",
		Short: "Compute an HMAC of data with an HMAC key",
		Long: `Compute an HMAC of data (from --data, the file named by --in, or stdin) with
the primary version of an HMAC key, and print it in base64. With -o json the
key version is printed too: keep it to verify after the key rotates.`,
		Example:      "  arca mac webhooks --data 'payload'",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			data, err := src.read(cmd, "the data")
			if err != nil {
				return err
			}
			res, err := c.GenerateMAC(cmd.Context(), args[0], data)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(res.MAC))
			return err
		},
	}
	cmd.Flags().StringVar(&src.inline, "data", "", "data to authenticate, as a string")
	cmd.Flags().StringVar(&src.file, "in", "", `file to authenticate ("-" for stdin)`)
	return cmd
}

// errMACMismatch ends verify-mac with exit status 1.
var errMACMismatch = errors.New("the MAC does not match")

func newVerifyMACCommand() *cobra.Command {
	var (
		mac     string
		version int
	)
	src := inputSource{inlineFlag: "data"}
	cmd := &cobra.Command{
		Use:   "verify-mac KEY",
		Short: "Check an HMAC of data (exit status 1 if it does not match)",
		Long: `Check in constant time that --mac (base64) is the HMAC of the data under
the key's primary version, or under --version. Prints "valid" and exits 0,
or exits 1 when the MAC does not match.`,
		Example:      "  arca verify-mac webhooks --mac 3q2+7w== --data 'payload'",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			tag, err := base64.StdEncoding.DecodeString(mac)
			if err != nil || mac == "" {
				return usageErrorf(cmd, "--mac must be the base64 MAC")
			}
			data, err := src.read(cmd, "the data")
			if err != nil {
				return err
			}
			res, err := c.VerifyMAC(cmd.Context(), args[0], client.VerifyMACRequest{Data: data, MAC: tag, KeyVersion: version})
			if err != nil {
				return err
			}
			return printVerdict(cmd, g, res, res.Valid, errMACMismatch)
		},
	}
	cmd.Flags().StringVar(&mac, "mac", "", "the MAC to check, base64")
	cmd.Flags().IntVar(&version, "version", 0, "key version that made the MAC (default: the primary)")
	cmd.Flags().StringVar(&src.inline, "data", "", "the data, as a string")
	cmd.Flags().StringVar(&src.file, "in", "", `file holding the data ("-" for stdin)`)
	return cmd
}
