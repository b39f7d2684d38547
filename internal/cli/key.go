package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// newKeyCommand groups the key management commands.
func newKeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create, list, inspect and rotate keys",
		Long: `Create, list, inspect and rotate keys. KEY arguments accept a key's name
or its id.`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	cmd.AddCommand(
		newKeyCreateCommand(),
		newKeyListCommand(),
		newKeyShowCommand(),
		newKeyRotateCommand(),
		newKeyVersionsCommand(),
		newKeyLifecycleCommand(),
		newKeyUpdateCommand(),
		newKeyHealthCommand(),
		newKeyPublicKeyCommand(),
		newKeyImportTokenCommand(),
		newKeyImportCommand(),
		newKeyExportCommand(),
		newKeyImpactCommand(),
	)
	return cmd
}

func newKeyCreateCommand() *cobra.Command {
	var req client.CreateKeyRequest
	var labels []string
	var pf policyFlags
	var imp importFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a key",
		Long: `Create a key. NAME is 1-128 characters from [A-Za-z0-9._-], starting with a
letter or digit. Labels (--label k=v, repeatable) can later select keys in
"arca key list --label".

With --material (or --wrapped-material and --import-token) the key is created
from your own material instead of generated material (bring your own key):
its origin is "external" and it rotates by "arca key import". See "arca key
import --help" for material formats.`,
		Example:      "  arca key create billing --description invoices --label team=payments --owner payments-team",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			req.Name = args[0]
			if req.Labels, err = parsePairs(cmd, "label", labels); err != nil {
				return err
			}
			if req.KeyPolicy, err = pf.policy(cmd); err != nil {
				return err
			}
			if imp.given() {
				if req.Import, err = imp.importMaterial(cmd, c); err != nil {
					return err
				}
			}
			k, err := c.CreateKey(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printKeyResult(cmd, g, k)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Algorithm, "algorithm", client.AlgorithmAES256GCM,
		"algorithm: aes-256-gcm, chacha20-poly1305, xchacha20-poly1305, aes-256-siv (deterministic), hmac-sha256|384|512, ecdsa-p256|p384|p521, ed25519, rsa-2048|3072|4096, ml-dsa-44|65|87 (signing), rsa-oaep-2048|3072|4096, ml-kem-768|1024, x25519-ml-kem-768 (asymmetric encryption)")
	f.StringVar(&req.Description, "description", "", "free-text description")
	f.StringArrayVar(&labels, "label", nil, "label as key=value (repeatable)")
	f.StringVar(&req.Owner, "owner", "", "owning team or person")
	pf.register(cmd, false)
	f.BoolVar(&req.Derived, "derived", false, "derive a subkey per encryption context (HKDF-SHA256); every use then needs --context")
	f.BoolVar(&req.Exportable, "exportable", false, "allow \"arca key export\" (wrapped only); cannot be turned on later")
	f.StringVar(&req.Protection, "protection", "software", "software, or hsm: every version is generated in the server's HSM and never leaves it (aes-256-gcm, ecdsa-p256|p384, rsa-2048|3072|4096)")
	imp.register(cmd)
	f.BoolVar(&req.PreActive, "pre-active", false, "create the key pre-active: unusable until \"arca key lifecycle KEY activate\"")
	return cmd
}

func newKeyListCommand() *cobra.Command {
	var (
		labels    []string
		limit     int
		pageToken string
		all       bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys",
		Long: `List keys, one page at a time (--limit, --page-token) or all of them (--all).
--label k=v (repeatable) keeps only keys carrying every given label.`,
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if limit < 0 {
				return usageErrorf(cmd, "--limit must be positive")
			}
			opts := client.ListKeysOptions{Limit: limit, PageToken: pageToken}
			if opts.Labels, err = parsePairs(cmd, "label", labels); err != nil {
				return err
			}
			var res *client.ListKeysResponse
			if all {
				res = &client.ListKeysResponse{Keys: []client.Key{}}
				for k, err := range c.AllKeys(cmd.Context(), opts) {
					if err != nil {
						return err
					}
					res.Keys = append(res.Keys, k)
				}
			} else if res, err = c.ListKeys(cmd.Context(), opts); err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if err := printKeyTable(cmd.OutOrStdout(), res.Keys); err != nil {
				return err
			}
			if res.NextPageToken != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "More keys: use --page-token %s (or --all)\n", res.NextPageToken)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&labels, "label", nil, "keep keys with this label, as key=value (repeatable; all must match)")
	f.IntVar(&limit, "limit", 0, "page size, 1-1000 (server default 100)")
	f.StringVar(&pageToken, "page-token", "", "page token printed by the previous page")
	f.BoolVar(&all, "all", false, "fetch every page")
	return cmd
}

func newKeyShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:          "show KEY",
		Short:        "Show a key's metadata",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			k, err := c.GetKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printKeyResult(cmd, g, k)
		},
	}
}

func newKeyRotateCommand() *cobra.Command {
	var opts client.RotateOptions
	cmd := &cobra.Command{
		Use:   "rotate KEY",
		Short: "Create a new primary version of a key",
		Long: `Create a new version of the key and make it primary: new encryptions use
it, while ciphertexts of older versions still decrypt (and can be moved to
the new version with "arca rewrap").

With --compromise-version (repeatable) it is an emergency rotation: the
given old versions are marked compromised in the same step, so they no
longer decrypt without --allow-compromised.`,
		Example:      "  arca key rotate billing\n  arca key rotate billing --compromise-version 3",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			k, err := c.RotateKeyWith(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			return printKeyResult(cmd, g, k)
		},
	}
	cmd.Flags().IntSliceVar(&opts.CompromiseVersions, "compromise-version", nil, "mark this old version compromised (repeatable)")
	return cmd
}

// policyFlags are the key policy flags of "key create" and "key update".
type policyFlags struct {
	rotationPeriod       string
	usageBound           uint64
	minDecryptionVersion int
	activateAt           string
	deactivateAt         string
}

func (f *policyFlags) register(cmd *cobra.Command, update bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.rotationPeriod, "rotation-period", "", `rotate automatically at this age of the primary version, e.g. 90d ("0": never)`)
	fl.Uint64Var(&f.usageBound, "usage-bound", 0, "encryptions per version before the key rotates by itself (default 2^30, at most 2^32)")
	fl.StringVar(&f.activateAt, "activate-at", "", "activate the key at this time (RFC 3339); before it the key is pre-active")
	fl.StringVar(&f.deactivateAt, "deactivate-at", "", "deactivate the key at this time (RFC 3339)")
	if update {
		fl.IntVar(&f.minDecryptionVersion, "min-decryption-version", 0, "refuse ciphertexts of versions below this")
	}
}

// policy returns the policy fields given on the command line.
func (f *policyFlags) policy(cmd *cobra.Command) (client.KeyPolicy, error) {
	var p client.KeyPolicy
	fl := cmd.Flags()
	if fl.Changed("rotation-period") {
		p.RotationPeriod = &f.rotationPeriod
	}
	if fl.Changed("usage-bound") {
		p.UsageBound = &f.usageBound
	}
	if fl.Changed("min-decryption-version") {
		p.MinDecryptionVersion = &f.minDecryptionVersion
	}
	for _, tf := range []struct {
		name string
		val  string
		dst  **time.Time
	}{{"activate-at", f.activateAt, &p.ActivateAt}, {"deactivate-at", f.deactivateAt, &p.DeactivateAt}} {
		if !fl.Changed(tf.name) {
			continue
		}
		ts, err := time.Parse(time.RFC3339, tf.val)
		if err != nil {
			return p, usageErrorf(cmd, "--%s must be an RFC 3339 time such as 2027-01-01T00:00:00Z", tf.name)
		}
		*tf.dst = &ts
	}
	return p, nil
}

func newKeyUpdateCommand() *cobra.Command {
	var pf policyFlags
	cmd := &cobra.Command{
		Use:   "update KEY",
		Short: "Change a key's rotation and use policy",
		Long: `Change a key's rotation period, usage bound, minimum decryption version, or
activation and deactivation times. Only the flags given change.`,
		Example:      "  arca key update billing --rotation-period 90d --usage-bound 100000000",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			p, err := pf.policy(cmd)
			if err != nil {
				return err
			}
			k, err := c.UpdateKeyPolicy(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			return printKeyResult(cmd, g, k)
		},
	}
	pf.register(cmd, true)
	return cmd
}

func newKeyVersionsCommand() *cobra.Command {
	return &cobra.Command{
		Use:          "versions KEY",
		Short:        "List every version of a key with its provenance",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			res := &client.ListVersionsResponse{Versions: []client.KeyVersion{}}
			for v, err := range c.AllVersions(cmd.Context(), args[0], client.ListVersionsOptions{}) {
				if err != nil {
					return err
				}
				res.Versions = append(res.Versions, v)
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			return printVersionTable(cmd.OutOrStdout(), res.Versions)
		},
	}
}

// printKeyResult prints a key in the selected format.
func printKeyResult(cmd *cobra.Command, g *globalFlags, k *client.Key) error {
	if g.json() {
		return printJSON(cmd.OutOrStdout(), k)
	}
	return printKey(cmd.OutOrStdout(), k)
}

func newKeyLifecycleCommand() *cobra.Command {
	var (
		version int
		req     client.LifecycleRequest
	)
	cmd := &cobra.Command{
		Use:   "lifecycle KEY ACTION",
		Short: "Change the lifecycle state of a key or of one of its versions",
		Long: `Apply a lifecycle action to a key, or with --version to one of its versions.

Actions: activate, suspend, resume, deactivate, compromise,
schedule-destruction (--waiting-days, 1-365, default 30) and
cancel-destruction. The legal transitions and what each state permits are
in docs/lifecycle.md; an illegal transition fails with illegal_transition.
A key scheduled for destruction still decrypts until its deadline, then its
material is erased and its ciphertexts fail with key_destroyed.`,
		Example: `  arca key lifecycle billing suspend
  arca key lifecycle billing deactivate
  arca key lifecycle billing schedule-destruction --waiting-days 30
  arca key lifecycle billing compromise --version 3`,
		Args:         usageArgs(cobra.ExactArgs(2)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			req.Action = args[1]
			if version == 0 {
				k, err := c.ChangeKeyState(cmd.Context(), args[0], req)
				if err != nil {
					return err
				}
				return printKeyResult(cmd, g, k)
			}
			v, err := c.ChangeVersionState(cmd.Context(), args[0], version, req)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), v)
			}
			return printVersionTable(cmd.OutOrStdout(), []client.KeyVersion{*v})
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "apply the action to this key version instead of the key")
	cmd.Flags().IntVar(&req.WaitingDays, "waiting-days", 0, "destruction waiting period in days (schedule-destruction; default 30)")
	return cmd
}
