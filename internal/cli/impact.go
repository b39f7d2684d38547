package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

func newKeyImpactCommand() *cobra.Command {
	var versions []int
	var since, until, format string
	cmd := queryCommand(&cobra.Command{
		Use:   "impact KEY",
		Short: "Who used a key, for what and when (compromise impact report)",
		Long: `Report, from the audit trail, every identity that used the key: its count of
requests per operation, its refused requests, first and last use, source
addresses and key versions. The first thing to run when a key is declared
compromised. Needs report:read. --format csv writes one row per identity and
operation, for spreadsheets.`,
		Example: "  arca key impact billing --version 3 --since 2026-11-01T00:00:00Z --format csv > impact.csv",
		Args:    usageArgs(cobra.ExactArgs(1)),
	},
		func(cmd *cobra.Command, c *client.Client, args []string) (*client.KeyImpact, error) {
			var from, to time.Time
			var err error
			if since != "" {
				if from, err = time.Parse(time.RFC3339, since); err != nil {
					return nil, usageErrorf(cmd, "--since must be an RFC 3339 time")
				}
			}
			if until != "" {
				if to, err = time.Parse(time.RFC3339, until); err != nil {
					return nil, usageErrorf(cmd, "--until must be an RFC 3339 time")
				}
			}
			return c.KeyImpact(cmd.Context(), args[0], versions, from, to)
		},
		func(w io.Writer, rep *client.KeyImpact) error {
			if format == "csv" {
				return impactCSV(w, rep)
			}
			fmt.Fprintf(w, "Key %s (%s): %d audit records\n", rep.Key, rep.KeyID, rep.Records)
			for _, v := range rep.Versions {
				fmt.Fprintf(w, "version %d\tciphertexts made=%d\trewrapped away=%d\toutstanding=%d\n", v.Version, v.Made, v.RewrappedTo, v.Outstanding)
			}
			for _, u := range rep.Users {
				ops := make([]string, 0, len(u.Operations))
				for op, n := range u.Operations {
					ops = append(ops, fmt.Sprintf("%s=%d", op, n))
				}
				slices.Sort(ops)
				fmt.Fprintf(w, "%s\t%s\trefused=%d\tfirst=%s\tlast=%s\tversions=%s\tsources=%s\n", u.Identity, strings.Join(ops, " "), u.Refused,
					formatTime(u.FirstUse), formatTime(u.LastUse), strings.Join(u.Versions, ","), strings.Join(u.Sources, ","))
			}
			return nil
		})
	f := cmd.Flags()
	f.IntSliceVar(&versions, "version", nil, "only these key versions (repeatable)")
	f.StringVar(&since, "since", "", "only uses at or after this RFC 3339 time")
	f.StringVar(&until, "until", "", "only uses before this RFC 3339 time")
	f.StringVar(&format, "format", "text", "text or csv (with -o json: JSON)")
	return cmd
}

// impactCSV writes one row per identity and operation.
func impactCSV(w io.Writer, rep *client.KeyImpact) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"key", "identity", "auth_method", "operation", "count", "refused", "first_use", "last_use", "versions", "sources"})
	for _, u := range rep.Users {
		ops := make([]string, 0, len(u.Operations))
		for op := range u.Operations {
			ops = append(ops, op)
		}
		slices.Sort(ops)
		if len(ops) == 0 {
			ops = []string{""}
		}
		for _, op := range ops {
			_ = cw.Write([]string{rep.Key, u.Identity, u.AuthMethod, op, strconv.Itoa(u.Operations[op]), strconv.Itoa(u.Refused),
				u.FirstUse.UTC().Format(time.RFC3339), u.LastUse.UTC().Format(time.RFC3339), strings.Join(u.Versions, " "), strings.Join(u.Sources, " ")})
		}
	}
	cw.Flush()
	return cw.Error()
}
