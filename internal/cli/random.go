package cli

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

// defaultRandomBytes is the number of bytes "arca random" returns by
// default (enough for a 256-bit secret).
const defaultRandomBytes = 32

func newRandomCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "random [N]",
		Short: "Print N random bytes from the server (default 32)",
		Long: `Print N random bytes (1-1024, default 32) from the server's entropy source,
encoded as base64 (default) or hex.`,
		Args:         usageArgs(cobra.MaximumNArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			n := defaultRandomBytes
			if len(args) == 1 {
				if n, err = strconv.Atoi(args[0]); err != nil || n < 1 {
					return usageErrorf(cmd, "N must be a positive integer, got %q", args[0])
				}
			}
			var encode func([]byte) string
			switch format {
			case "base64":
				encode = base64.StdEncoding.EncodeToString
			case "hex":
				encode = hex.EncodeToString
			default:
				return usageErrorf(cmd, "invalid --format %q: use base64 or hex", format)
			}
			b, err := c.Random(cmd.Context(), n)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), struct {
					Random []byte `json:"random"`
				}{b})
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), encode(b))
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "base64", "text encoding: base64 or hex")
	return cmd
}
