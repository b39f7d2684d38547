package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// newAccessKeyCommand groups the access keys of the AWS-KMS-compatible
// API.
func newAccessKeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access-key",
		Short: "Issue, list and revoke access keys for the AWS-KMS-compatible API",
		Long: `Access keys are the credentials of the AWS-KMS-compatible API: AWS tools and SDKs sign
requests with them (Signature Version 4), e.g.
  AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... aws kms encrypt --endpoint-url $ARCA_ADDR ...
Each is bound to an identity, whose roles and policies then apply.`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	create := queryCommand(&cobra.Command{Use: "create IDENTITY", Short: "Issue an access key for an identity (the secret is shown once)", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) (*client.AccessKey, error) {
			return c.CreateAccessKey(cmd.Context(), args[0])
		},
		func(w io.Writer, k *client.AccessKey) error {
			_, err := fmt.Fprintf(w, "Access key ID: %s\nSecret access key: %s\n", k.AccessKeyID, k.SecretAccessKey)
			return err
		})
	list := queryCommand(&cobra.Command{Use: "list IDENTITY", Short: "List an identity's access keys", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) ([]client.AccessKey, error) {
			return c.ListAccessKeys(cmd.Context(), args[0])
		},
		func(w io.Writer, keys []client.AccessKey) error {
			for _, k := range keys {
				if _, err := fmt.Fprintf(w, "%s\tcreated %s by %s\n", k.AccessKeyID, formatTime(k.CreatedAt), k.CreatedBy); err != nil {
					return err
				}
			}
			return nil
		})
	del := doCommand(&cobra.Command{Use: "delete ACCESS_KEY_ID", Short: "Revoke an access key; its next use is refused", Args: usageArgs(cobra.ExactArgs(1))},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			return c.DeleteAccessKey(cmd.Context(), args[0])
		},
		func(args []string) string { return fmt.Sprintf("Access key %s deleted.", args[0]) })
	cmd.AddCommand(create, list, del)
	return cmd
}
