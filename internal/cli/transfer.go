package cli

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// importFlags are the flags that give imported material: in clear, wrapped
// here under a fresh import token, or already wrapped under a token (for
// instance an export from another server).
type importFlags struct {
	material string
	wrapped  string
	token    string
	scheme   string
}

func (f *importFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.material, "material", "", "file with the key material in clear (raw bytes, or a PEM/DER PKCS#8 private key); it is wrapped here before it is sent")
	fl.StringVar(&f.wrapped, "wrapped-material", "", "file with material already wrapped under --import-token (base64 or binary), e.g. the wrapped_material of an export")
	fl.StringVar(&f.token, "import-token", "", "the import token --wrapped-material was wrapped for")
	fl.StringVar(&f.scheme, "scheme", "", "wrapping scheme for --material: rsa-oaep-sha256-aes-kwp (default) or ml-kem-768-hpke")
}

// given reports whether any import flag was used.
func (f *importFlags) given() bool {
	return f.material != "" || f.wrapped != "" || f.token != "" || f.scheme != ""
}

// importMaterial returns the wrapped material to send.
func (f *importFlags) importMaterial(cmd *cobra.Command, c *client.Client) (*client.ImportMaterial, error) {
	switch {
	case f.material != "" && (f.wrapped != "" || f.token != ""):
		return nil, usageErrorf(cmd, "give either --material, or --wrapped-material with --import-token")
	case f.scheme != "" && f.material == "":
		return nil, usageErrorf(cmd, "--scheme applies to --material (the scheme of --wrapped-material is its import token's)")
	case f.material != "":
		m, err := readMaterial(f.material)
		if err != nil {
			return nil, err
		}
		defer clear(m)
		tok, err := c.CreateImportToken(cmd.Context(), client.ImportTokenRequest{Scheme: f.scheme})
		if err != nil {
			return nil, err
		}
		return client.WrapForImport(tok, m)
	case f.wrapped != "" && f.token != "":
		b, err := readFileLimited(f.wrapped)
		if err != nil {
			return nil, err
		}
		if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err == nil {
			b = d
		}
		return &client.ImportMaterial{Token: f.token, WrappedMaterial: b}, nil
	}
	return nil, usageErrorf(cmd, "give --material, or --wrapped-material with --import-token")
}

func readFileLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, path)
}

// readMaterial reads clear key material: a PEM block's bytes, or the file's
// bytes as they are.
func readMaterial(path string) ([]byte, error) {
	b, err := readFileLimited(path)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(b); block != nil {
		clear(b)
		return block.Bytes, nil
	}
	return b, nil
}

func newKeyImportCommand() *cobra.Command {
	var f importFlags
	var compromise []int
	cmd := &cobra.Command{
		Use:   "import KEY",
		Short: "Give a key of external origin a new primary version from imported material",
		Long: `Import new material into a key created from imported material ("arca key
create --material"): it becomes the new primary version, while older
versions keep decrypting and verifying. This is how such keys rotate.

The material is wrapped here under a one-time import token's public key and
is never sent in clear. Material formats: raw bytes for symmetric and HMAC
keys; a PKCS#8 private key (PEM or DER) for RSA, ECDSA and Ed25519 keys; the
seed for ML-DSA (32 bytes) and ML-KEM (64 bytes) keys.

With --compromise-version (repeatable) it is an emergency rotation: the given
old versions are marked compromised in the same step.`,
		Example:      "  arca key import payments-byok --material new-key.bin",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			m, err := f.importMaterial(cmd, c)
			if err != nil {
				return err
			}
			k, err := c.ImportKeyVersion(cmd.Context(), args[0], client.ImportVersionRequest{ImportMaterial: *m, CompromiseVersions: compromise})
			if err != nil {
				return err
			}
			return printKeyResult(cmd, g, k)
		},
	}
	f.register(cmd)
	cmd.Flags().IntSliceVar(&compromise, "compromise-version", nil, "mark this old version compromised (repeatable)")
	return cmd
}

func newKeyImportTokenCommand() *cobra.Command {
	var req client.ImportTokenRequest
	cmd := &cobra.Command{
		Use:   "import-token",
		Short: "Get a one-time public key to wrap key material for import",
		Long: `Get a one-time import token: a wrapping public key whose private key stays in
the server. Wrap key material under it (RSA-OAEP-SHA256 + AES-KWP, or HPKE
with ML-KEM-768) with your own tooling, then import it with "arca key create
--wrapped-material F --import-token ID" or "arca key import". A token
imports once and expires (default 1h).`,
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			tok, err := c.CreateImportToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), tok)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Import token: %s\nScheme: %s\nExpires: %s\n%s", tok.ID, tok.Scheme, formatTime(tok.ExpiresAt), tok.PublicKey)
			return err
		},
	}
	cmd.Flags().StringVar(&req.Scheme, "scheme", "", "rsa-oaep-sha256-aes-kwp (default) or ml-kem-768-hpke")
	cmd.Flags().StringVar(&req.TTL, "ttl", "", "how long the token stays usable, 1m to 24h (default 1h)")
	return cmd
}

func newKeyExportCommand() *cobra.Command {
	var req client.ExportRequest
	var wrappingKey string
	cmd := &cobra.Command{
		Use:   "export KEY",
		Short: "Export an exportable key's material, wrapped to a public key",
		Long: `Export a version of a key created with --exportable, wrapped to a public key
(--wrapping-key, a PEM file: RSA 3072/4096 for rsa-oaep-sha256-aes-kwp,
ML-KEM-768 for ml-kem-768-hpke). Material is never exported in clear. The
output is what import takes: to move a key to another Arca, wrap to that
server's import token public key and import there with
"arca key create --wrapped-material F --import-token ID".`,
		Example:      "  arca key export signing-key --wrapping-key other-server-token.pem -o json",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if wrappingKey == "" {
				return usageErrorf(cmd, "--wrapping-key is required: material is only ever exported wrapped")
			}
			pub, err := readFileLimited(wrappingKey)
			if err != nil {
				return err
			}
			req.WrappingKey = string(pub)
			e, err := c.ExportKey(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), e)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(e.WrappedMaterial))
			return err
		},
	}
	cmd.Flags().StringVar(&wrappingKey, "wrapping-key", "", "PEM public key file to wrap the material to (required)")
	cmd.Flags().IntVar(&req.Version, "version", 0, "key version (default: the primary)")
	cmd.Flags().StringVar(&req.Scheme, "scheme", "", "rsa-oaep-sha256-aes-kwp (default) or ml-kem-768-hpke")
	return cmd
}
