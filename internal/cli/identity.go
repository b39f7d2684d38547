package cli

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/arcakms/arca/client"
)

// newIdentityCommand groups identity management.
func newIdentityCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Manage identities: the applications and people that call Arca",
		Long: `Identities are applications (type service) and people (type human). Each
holds built-in roles on scopes of keys and named access policies, and
authenticates with tokens ("arca token create"). See docs/access.md.`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	cmd.AddCommand(newIdentityCreateCommand(), newIdentityListCommand(), newIdentityShowCommand(),
		newIdentityUpdateCommand(), newIdentityDeleteCommand())
	return cmd
}

// parseRoles reads --role values: ROLE or ROLE=SELECTOR[,SELECTOR...].
func parseRoles(cmd *cobra.Command, vals []string) ([]client.Role, error) {
	var out []client.Role
	for _, v := range vals {
		name, scope, found := strings.Cut(v, "=")
		r := client.Role{Role: name}
		if found {
			if scope == "" {
				return nil, usageErrorf(cmd, "invalid --role %q: give ROLE or ROLE=SELECTOR[,SELECTOR...]", v)
			}
			r.Scope = strings.Split(scope, ",")
		}
		out = append(out, r)
	}
	return out, nil
}

const roleFlagHelp = `built-in role, optionally on a scope: ROLE or ROLE=key:GLOB[,label:K=V...] (repeatable); roles: admin, key-custodian, crypto-user, auditor, approver`

func newIdentityCreateCommand() *cobra.Command {
	var req client.CreateIdentityRequest
	var roles, certs []string
	cmd := &cobra.Command{
		Use:          "create NAME",
		Short:        "Create an identity",
		Example:      "  arca identity create billing-api --type service --role crypto-user=key:billing-*\n  arca identity create alice --type human --role key-custodian",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			req.Name = args[0]
			if req.Roles, err = parseRoles(cmd, roles); err != nil {
				return err
			}
			if len(certs) > 0 {
				if req.Certificates, err = certFingerprints(certs); err != nil {
					return err
				}
			}
			id, err := c.CreateIdentity(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printIdentityResult(cmd, g, id)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Type, "type", "service", "service (an application) or human (a person)")
	f.StringVar(&req.Owner, "owner", "", "owning team or person")
	f.StringArrayVar(&roles, "role", nil, roleFlagHelp)
	f.StringArrayVar(&req.Policies, "policy", nil, "attach this access policy (repeatable)")
	f.StringArrayVar(&certs, "cert", nil, "bind this client certificate (PEM file) for mutual TLS (repeatable)")
	return cmd
}

// certFingerprints reads PEM certificate files and returns their public-key
// fingerprints, the form the server binds.
func certFingerprints(files []string) ([]string, error) {
	out := []string{}
	for _, f := range files {
		raw, err := readFileLimited(f)
		if err != nil {
			return nil, err
		}
		block, _ := pem.Decode(raw)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: no PEM CERTIFICATE", f)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, client.CertificateFingerprint(cert))
	}
	return out, nil
}

func printIdentityResult(cmd *cobra.Command, g *globalFlags, id *client.Identity) error {
	if g.json() {
		return printJSON(cmd.OutOrStdout(), id)
	}
	return printIdentity(cmd.OutOrStdout(), id)
}

func printIdentity(w io.Writer, id *client.Identity) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", id.Name)
	fmt.Fprintf(tw, "ID:\t%s\n", id.ID)
	fmt.Fprintf(tw, "Type:\t%s\n", id.Type)
	fmt.Fprintf(tw, "Status:\t%s\n", id.Status)
	fmt.Fprintf(tw, "Owner:\t%s\n", orDash(id.Owner))
	fmt.Fprintf(tw, "Roles:\t%s\n", orDash(formatRoles(id.Roles)))
	fmt.Fprintf(tw, "Policies:\t%s\n", orDash(strings.Join(id.Policies, ", ")))
	fmt.Fprintf(tw, "Certificates:\t%d bound\n", len(id.Certificates))
	fmt.Fprintf(tw, "Created:\t%s by %s\n", formatTime(id.CreatedAt), orDash(id.CreatedBy))
	return tw.Flush()
}

func formatRoles(roles []client.Role) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = r.Role
		if len(r.Scope) > 0 {
			parts[i] += "=" + strings.Join(r.Scope, ",")
		}
	}
	return strings.Join(parts, " ")
}

func newIdentityListCommand() *cobra.Command {
	return queryCommand(&cobra.Command{Use: "list", Short: "List identities", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) ([]client.Identity, error) {
			return c.ListIdentities(cmd.Context())
		},
		func(w io.Writer, ids []client.Identity) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tSTATUS\tROLES")
			for _, id := range ids {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id.Name, id.Type, id.Status, orDash(formatRoles(id.Roles)))
			}
			return tw.Flush()
		})
}

func newIdentityShowCommand() *cobra.Command {
	return queryCommand(&cobra.Command{Use: "show IDENTITY", Short: "Show an identity", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) (*client.Identity, error) {
			return c.GetIdentity(cmd.Context(), args[0])
		}, printIdentity)
}

func newIdentityUpdateCommand() *cobra.Command {
	var status, owner string
	var roles, policies, certs []string
	cmd := &cobra.Command{
		Use:   "update IDENTITY",
		Short: "Enable or disable an identity, or replace its roles or policies",
		Long: `Change an identity. --disable denies its very next request (its tokens stay
but do not work until --enable). --role and --policy replace the whole list
(give --role none or --policy none to clear it).`,
		Example:      "  arca identity update billing-api --disable\n  arca identity update alice --role key-custodian=key:team-a-*",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			var req client.UpdateIdentityRequest
			fl := cmd.Flags()
			switch {
			case fl.Changed("enable") && fl.Changed("disable"):
				return usageErrorf(cmd, "give --enable or --disable, not both")
			case fl.Changed("enable"):
				status = "active"
				req.Status = &status
			case fl.Changed("disable"):
				status = "disabled"
				req.Status = &status
			}
			if fl.Changed("owner") {
				req.Owner = &owner
			}
			if fl.Changed("role") {
				rs := []client.Role{}
				if !(len(roles) == 1 && roles[0] == "none") {
					if rs, err = parseRoles(cmd, roles); err != nil {
						return err
					}
				}
				req.Roles = &rs
			}
			if fl.Changed("cert") {
				fps := []string{}
				if !(len(certs) == 1 && certs[0] == "none") {
					if fps, err = certFingerprints(certs); err != nil {
						return err
					}
				}
				req.Certificates = &fps
			}
			if fl.Changed("policy") {
				ps := []string{}
				if !(len(policies) == 1 && policies[0] == "none") {
					ps = policies
				}
				req.Policies = &ps
			}
			id, err := c.UpdateIdentity(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return printIdentityResult(cmd, g, id)
		},
	}
	f := cmd.Flags()
	f.Bool("enable", false, "let the identity authenticate again")
	f.Bool("disable", false, "deny every request of the identity")
	f.StringVar(&owner, "owner", "", "owning team or person")
	f.StringArrayVar(&roles, "role", nil, roleFlagHelp+`; replaces the list ("none" clears it)`)
	f.StringArrayVar(&policies, "policy", nil, `access policy (repeatable); replaces the list ("none" clears it)`)
	f.StringArrayVar(&certs, "cert", nil, `client certificate PEM file for mutual TLS (repeatable); replaces the list ("none" clears it)`)
	return cmd
}

func newIdentityDeleteCommand() *cobra.Command {
	return doCommand(&cobra.Command{Use: "delete IDENTITY", Short: "Delete an identity and all its tokens", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			return c.DeleteIdentity(cmd.Context(), args[0])
		},
		func(args []string) string { return fmt.Sprintf("Identity %s deleted.", args[0]) })
}

// newTokenCommand groups token management.
func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:          "token",
		Short:        "Issue, renew and revoke identities' tokens",
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	var ttl, name string
	create := queryCommand(&cobra.Command{
		Use:   "create IDENTITY",
		Short: "Issue a token for an identity (shown once)",
		Long: `Issue a bearer token for an identity. The token is printed once: the server
keeps only its SHA-256 hash. Its accessor (not secret) names it in audit
records and revokes it.`,
		Args: usageArgs(cobra.ExactArgs(1)),
	},
		func(cmd *cobra.Command, c *client.Client, args []string) (*client.Token, error) {
			return c.CreateToken(cmd.Context(), args[0], ttl, name)
		},
		func(w io.Writer, tok *client.Token) error {
			_, err := fmt.Fprintf(w, "Token: %s\nAccessor: %s\nExpires: %s\n", tok.Token, tok.Accessor, formatTime(tok.ExpiresAt))
			return err
		})
	create.Flags().StringVar(&ttl, "ttl", "", "lifetime and renewal period, e.g. 8h or 90d (1m to 365d; default 30d)")
	create.Flags().StringVar(&name, "name", "", "what the token is for, e.g. the host it is deployed on")
	revoke := doCommand(&cobra.Command{Use: "revoke ACCESSOR", Short: "Revoke a token by its accessor; its next use is refused", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			return c.RevokeToken(cmd.Context(), args[0])
		},
		func(args []string) string { return fmt.Sprintf("Token %s revoked.", args[0]) })
	renew := queryCommand(&cobra.Command{Use: "renew", Short: "Extend your own token by its TTL from now", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) (*client.Token, error) {
			return c.RenewToken(cmd.Context())
		},
		func(w io.Writer, tok *client.Token) error {
			_, err := fmt.Fprintf(w, "Token %s now expires %s.\n", tok.Accessor, formatTime(tok.ExpiresAt))
			return err
		})
	cmd.AddCommand(create, revoke, renew)
	return cmd
}

// newAccessPolicyCommand groups access policy management.
func newAccessPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access-policy",
		Short: "Manage named access policies attached to identities",
		Long: `Access policies are statements that allow or deny actions on keys, with
conditions (source address, time window, encryption context, MFA). Attach
them with "arca identity create|update --policy NAME". See docs/access.md.`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	var file string
	put := &cobra.Command{
		Use:          "put NAME --file FILE",
		Short:        "Create or replace an access policy from a YAML or JSON file",
		Example:      "  arca access-policy put pci-decrypt --file pci-decrypt.yaml",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if file == "" {
				return usageErrorf(cmd, "--file is required")
			}
			raw, err := readFileLimited(file)
			if err != nil {
				return err
			}
			var p client.AccessPolicy
			if err := yaml.Unmarshal(raw, &p); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			// Round-trip through JSON so YAML maps become JSON objects.
			b, err := json.Marshal(yamlToJSON(p))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &p); err != nil {
				return err
			}
			out, err := c.PutAccessPolicy(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), out)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Access policy %s saved (%d statements).\n", args[0], len(out.Statements))
			return err
		},
	}
	put.Flags().StringVarP(&file, "file", "f", "", "policy file (YAML or JSON) with description and statements")
	show := queryCommand(&cobra.Command{Use: "show NAME", Short: "Show an access policy", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) (*client.AccessPolicy, error) {
			return c.GetAccessPolicy(cmd.Context(), args[0])
		},
		func(w io.Writer, p *client.AccessPolicy) error { return printJSON(w, p) })
	list := queryCommand(&cobra.Command{Use: "list", Short: "List access policies", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) ([]client.AccessPolicy, error) {
			return c.ListAccessPolicies(cmd.Context())
		},
		func(w io.Writer, ps []client.AccessPolicy) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATEMENTS\tDESCRIPTION")
			for _, p := range ps {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", p.Name, len(p.Statements), orDash(p.Description))
			}
			return tw.Flush()
		})
	del := doCommand(&cobra.Command{Use: "delete NAME", Short: "Delete an access policy no identity uses", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			return c.DeleteAccessPolicy(cmd.Context(), args[0])
		},
		func(args []string) string { return fmt.Sprintf("Access policy %s deleted.", args[0]) })
	cmd.AddCommand(put, show, list, del)
	return cmd
}

// yamlToJSON converts the map[string]any values YAML produces (whose nested
// maps may have non-string keys) into values encoding/json accepts.
func yamlToJSON(v any) any {
	switch x := v.(type) {
	case client.AccessPolicy:
		for i := range x.Statements {
			if x.Statements[i].Conditions != nil {
				x.Statements[i].Conditions = yamlToJSON(x.Statements[i].Conditions).(map[string]any)
			}
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = yamlToJSON(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = yamlToJSON(e)
		}
		return out
	case []any:
		for i := range x {
			x[i] = yamlToJSON(x[i])
		}
		return x
	}
	return v
}
