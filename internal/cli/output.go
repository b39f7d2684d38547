package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// printJSON writes v as indented JSON followed by a newline; the SDK types'
// field names mirror the API, so this prints API-shaped documents.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// formatTime prints timestamps in UTC, RFC 3339; the zero time is "-".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// orDash returns s, or "-" when empty, so that text output has no holes.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatLabels prints labels as sorted k=v pairs separated by commas.
func formatLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}

// printSealStatus writes a seal status as aligned "Field: value" lines.
func printSealStatus(w io.Writer, st *client.SealStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Initialized:\t%t\n", st.Initialized)
	fmt.Fprintf(tw, "Sealed:\t%t\n", st.Sealed)
	if st.Type != "" {
		fmt.Fprintf(tw, "Seal type:\t%s\n", st.Type)
	}
	if st.Reason != "" {
		fmt.Fprintf(tw, "Sealed because:\t%s\n", st.Reason)
	}
	fmt.Fprintf(tw, "Shares:\t%d\n", st.Shares)
	fmt.Fprintf(tw, "Threshold:\t%d\n", st.Threshold)
	fmt.Fprintf(tw, "Progress:\t%d/%d\n", st.Progress, st.Threshold)
	fmt.Fprintf(tw, "Version:\t%s\n", orDash(st.Version))
	return tw.Flush()
}

// printKey writes a key's metadata as aligned "Field: value" lines.
func printKey(w io.Writer, k *client.Key) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", k.Name)
	fmt.Fprintf(tw, "ID:\t%s\n", k.ID)
	fmt.Fprintf(tw, "Algorithm:\t%s\n", k.Algorithm)
	fmt.Fprintf(tw, "State:\t%s\n", orDash(k.State))
	fmt.Fprintf(tw, "Origin:\t%s\n", orDash(k.Origin))
	fmt.Fprintf(tw, "Exportable:\t%t\n", k.Exportable)
	fmt.Fprintf(tw, "Protection:\t%s\n", k.Protection)
	if !k.DestroyAt.IsZero() {
		fmt.Fprintf(tw, "Destroy at:\t%s\n", formatTime(k.DestroyAt))
	}
	if !k.DestroyedAt.IsZero() {
		fmt.Fprintf(tw, "Destroyed:\t%s by %s\n", formatTime(k.DestroyedAt), orDash(k.DestroyedBy))
	}
	fmt.Fprintf(tw, "Primary version:\t%d (since %s)\n", k.PrimaryVersion, formatTime(k.PrimarySince))
	fmt.Fprintf(tw, "Rotation period:\t%s\n", orDash(k.RotationPeriod))
	if countsUsage(k.Algorithm) {
		fmt.Fprintf(tw, "Usage bound:\t%d encryptions per version\n", k.UsageBound)
	}
	if k.MinDecryptionVersion > 0 {
		fmt.Fprintf(tw, "Min decryption version:\t%d\n", k.MinDecryptionVersion)
	}
	if !k.ActivateAt.IsZero() {
		fmt.Fprintf(tw, "Activate at:\t%s\n", formatTime(k.ActivateAt))
	}
	if !k.DeactivateAt.IsZero() {
		fmt.Fprintf(tw, "Deactivate at:\t%s\n", formatTime(k.DeactivateAt))
	}
	fmt.Fprintf(tw, "Description:\t%s\n", orDash(k.Description))
	fmt.Fprintf(tw, "Owner:\t%s\n", orDash(k.Owner))
	fmt.Fprintf(tw, "Labels:\t%s\n", orDash(formatLabels(k.Labels)))
	fmt.Fprintf(tw, "Created:\t%s by %s\n", formatTime(k.CreatedAt), orDash(k.CreatedBy))
	fmt.Fprintf(tw, "Updated:\t%s\n", formatTime(k.UpdatedAt))
	return tw.Flush()
}

// countsUsage reports whether keys of the algorithm have a usage bound:
// the symmetric encryption algorithms, whose nonces wear a key out.
func countsUsage(alg string) bool {
	switch alg {
	case client.AlgorithmAES256GCM, client.AlgorithmChaCha20Poly1305, client.AlgorithmXChaCha20Poly1305, client.AlgorithmAES256SIV:
		return true
	}
	return false
}

// printKeyTable writes keys as a table: NAME ID ALGORITHM PRIMARY CREATED.
func printKeyTable(w io.Writer, keys []client.Key) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tALGORITHM\tSTATE\tPRIMARY\tCREATED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", k.Name, k.ID, k.Algorithm, orDash(k.State), k.PrimaryVersion, formatTime(k.CreatedAt))
	}
	return tw.Flush()
}

// printVersionTable writes key versions as a table.
func printVersionTable(w io.Writer, versions []client.KeyVersion) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tALGORITHM\tCREATED\tCREATED BY\tGENERATOR\tENTROPY SOURCE\tSERVER VERSION")
	for _, v := range versions {
		p := v.Provenance
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, orDash(v.State), v.Algorithm, formatTime(v.CreatedAt), orDash(v.CreatedBy),
			orDash(p.Generator), orDash(p.EntropySource), orDash(p.ServerVersion))
	}
	return tw.Flush()
}

// printVerdict reports a verification: the result as JSON, or "valid" in
// text; invalid becomes the command's error (exit status 1) either way.
func printVerdict(cmd *cobra.Command, g *globalFlags, res any, valid bool, invalid error) error {
	if g.json() {
		if err := printJSON(cmd.OutOrStdout(), res); err != nil {
			return err
		}
	} else if valid {
		fmt.Fprintln(cmd.OutOrStdout(), "valid")
	}
	if !valid {
		return invalid
	}
	return nil
}
