package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/internal/bench"
)

// newBenchCommand returns "arca bench".
func newBenchCommand() *cobra.Command {
	var cfg bench.Config
	var compareNoop bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a running Arca server",
		Long: `Drive a running Arca server with concurrent clients for a fixed time and
print requests per second and latency percentiles (p50, p99, max).

With --compare-noop the same load is first sent to an in-process no-op HTTP
handler that decodes the same JSON body: the HTTP ceiling of this machine,
measured in the same run, so the server's figure can be read as a ratio.

--addr may list several nodes of a cluster, separated by commas: the key is
set up on the first, and the clients are spread over all of them in turn.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := loadGlobalFlags(cmd)
			if err != nil {
				return err
			}
			cfg.Addr, cfg.Token = g.addr, g.token
			if g.caCert != "" {
				if cfg.TLS, err = tlsConfigFromCAFile(g.caCert); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			var noop bench.Result
			if compareNoop {
				if noop, err = bench.RunNoop(cmd.Context(), cfg); err != nil {
					return err
				}
				fmt.Fprintln(out, noop)
			}
			res, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, res)
			if compareNoop && noop.PerSec > 0 {
				fmt.Fprintf(out, "ratio arca/noop: %.2f\n", res.PerSec/noop.PerSec)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.Op, "op", bench.OpEncrypt, "operation: encrypt, decrypt or datakey")
	fl.StringVar(&cfg.Key, "key", "", "key to use (default: create a fresh aes-256-gcm key)")
	fl.IntVar(&cfg.Size, "size", 1024, "plaintext size in bytes (encrypt, decrypt)")
	fl.IntVar(&cfg.Clients, "clients", 16, "concurrent clients")
	fl.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured duration")
	fl.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before measuring")
	fl.BoolVar(&compareNoop, "compare-noop", false, "also measure a no-op HTTP handler in the same run")
	return cmd
}
