package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

// bindingFlags are the associated data and context bound to a ciphertext;
// decrypt and rewrap must present the values used to encrypt.
type bindingFlags struct {
	aad     string
	context []string
}

func (b *bindingFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.aad, "aad", "", "associated data (bound to the ciphertext, not stored in it)")
	cmd.Flags().StringArrayVar(&b.context, "context", nil, "encryption context as key=value (repeatable, order-independent)")
}

// values returns the associated data (nil when not given) and the context.
func (b *bindingFlags) values(cmd *cobra.Command) ([]byte, map[string]string, error) {
	var aad []byte
	if cmd.Flags().Changed("aad") {
		aad = []byte(b.aad)
	}
	ctx, err := parsePairs(cmd, "context", b.context)
	return aad, ctx, err
}

// readCiphertext reads a ciphertext and trims the surrounding whitespace
// (such as the newline that "arca encrypt" prints).
func readCiphertext(cmd *cobra.Command, src *inputSource) (string, error) {
	b, err := src.read(cmd, "the ciphertext")
	if err != nil {
		return "", err
	}
	ct := string(bytes.TrimSpace(b))
	if ct == "" {
		return "", usageErrorf(cmd, "no ciphertext given (use --ciphertext, --in or stdin)")
	}
	return ct, nil
}

func newEncryptCommand() *cobra.Command {
	var b bindingFlags
	var publicKey string
	src := inputSource{inlineFlag: "plaintext"}
	cmd := &cobra.Command{
		Use:   "encrypt KEY | encrypt --public-key FILE",
		Short: "Encrypt data with a key and print the ciphertext",
		Long: `Encrypt data with the key's primary version and print the ciphertext on one
line. The data comes from --plaintext, from the file named by --in, or from
stdin, byte for byte (at most 64 KiB).

With --public-key, encryption happens here, offline, to an asymmetric
encryption key (rsa-oaep-*, ml-kem-*, x25519-ml-kem-768): FILE is the JSON
of "arca key public-key KEY -o json". The server is not contacted; only it
can decrypt the result.`,
		Example: `  arca encrypt billing --plaintext 'card 4111' --context tenant=42
  arca encrypt billing --in secret.txt > secret.txt.arca
  arca key public-key escrow -o json > escrow.json
  arca encrypt --public-key escrow.json --in dek.bin > dek.arca`,
		Args:         usageArgs(cobra.MaximumNArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (publicKey == "") == (len(args) == 0) {
				return usageErrorf(cmd, "give either KEY or --public-key FILE")
			}
			if publicKey != "" {
				return sealOffline(cmd, &b, &src, publicKey)
			}
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			aad, bctx, err := b.values(cmd)
			if err != nil {
				return err
			}
			pt, err := src.read(cmd, "the plaintext")
			if err != nil {
				return err
			}
			res, err := c.Encrypt(cmd.Context(), args[0], client.EncryptRequest{Plaintext: pt, AssociatedData: aad, Context: bctx})
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), res.Ciphertext)
			return err
		},
	}
	cmd.Flags().StringVar(&src.inline, "plaintext", "", "data to encrypt, as a string")
	cmd.Flags().StringVar(&src.file, "in", "", `file to encrypt ("-" for stdin)`)
	cmd.Flags().StringVar(&publicKey, "public-key", "", `encrypt offline to this public key (JSON of "arca key public-key KEY -o json")`)
	b.register(cmd)
	return cmd
}

// sealOffline encrypts to an asymmetric key's public key without the server.
func sealOffline(cmd *cobra.Command, b *bindingFlags, src *inputSource, path string) error {
	g, err := loadGlobalFlags(cmd)
	if err != nil {
		return err
	}
	raw, err := readFileLimited(path)
	if err != nil {
		return err
	}
	var pub client.PublicKey
	if err := json.Unmarshal(raw, &pub); err != nil {
		return fmt.Errorf("%s: not the JSON of \"arca key public-key KEY -o json\": %w", path, err)
	}
	aad, bctx, err := b.values(cmd)
	if err != nil {
		return err
	}
	pt, err := src.read(cmd, "the plaintext")
	if err != nil {
		return err
	}
	ct, err := client.SealTo(&pub, pt, aad, bctx)
	if err != nil {
		return err
	}
	if g.json() {
		return printJSON(cmd.OutOrStdout(), client.EncryptResponse{KeyID: pub.KeyID, KeyVersion: pub.KeyVersion, Ciphertext: ct})
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), ct)
	return err
}

func newDecryptCommand() *cobra.Command {
	var (
		b                bindingFlags
		out              string
		allowCompromised bool
	)
	src := inputSource{inlineFlag: "ciphertext"}
	cmd := &cobra.Command{
		Use:   "decrypt [KEY]",
		Short: "Decrypt a ciphertext and write the plaintext",
		Long: `Decrypt a ciphertext and write the raw plaintext bytes to stdout, or to the
file named by --out (created with mode 0600). The ciphertext comes from
--ciphertext, from the file named by --in, or from stdin.

With KEY the ciphertext must belong to that key (else the error code is
wrong_key); without it the server finds the key from the ciphertext.
--aad and --context must repeat the values given to encrypt.`,
		Example:      `  arca decrypt billing --in secret.txt.arca --out secret.txt --context tenant=42`,
		Args:         usageArgs(cobra.MaximumNArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if out != "" && g.json() {
				return usageErrorf(cmd, "--out writes raw plaintext and cannot be combined with --output json")
			}
			aad, bctx, err := b.values(cmd)
			if err != nil {
				return err
			}
			ct, err := readCiphertext(cmd, &src)
			if err != nil {
				return err
			}
			var key string
			if len(args) == 1 {
				key = args[0]
			}
			res, err := c.Decrypt(cmd.Context(), key, client.DecryptRequest{Ciphertext: ct, AssociatedData: aad, Context: bctx, AllowCompromised: allowCompromised})
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if out != "" {
				return writePrivateFile(out, res.Plaintext)
			}
			_, err = cmd.OutOrStdout().Write(res.Plaintext)
			return err
		},
	}
	cmd.Flags().StringVar(&src.inline, "ciphertext", "", "ciphertext to decrypt")
	cmd.Flags().StringVar(&src.file, "in", "", `file holding the ciphertext ("-" for stdin)`)
	cmd.Flags().StringVar(&out, "out", "", "write the plaintext to this file (mode 0600) instead of stdout")
	cmd.Flags().BoolVar(&allowCompromised, "allow-compromised", false, "decrypt even with a compromised key or version (audited as such)")
	b.register(cmd)
	return cmd
}

// writePrivateFile writes data to path, readable by the owner only, even if
// the file already existed with wider permissions.
func writePrivateFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newRewrapCommand() *cobra.Command {
	var (
		b                bindingFlags
		allowCompromised bool
	)
	src := inputSource{inlineFlag: "ciphertext"}
	cmd := &cobra.Command{
		Use:   "rewrap KEY",
		Short: "Re-encrypt a ciphertext under the key's primary version",
		Long: `Re-encrypt a ciphertext under the key's current primary version, without
revealing the plaintext, and print the new ciphertext. Use it after
"arca key rotate". The ciphertext comes from --ciphertext, from the file
named by --in, or from stdin; --aad and --context must repeat the values
given to encrypt.`,
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			aad, bctx, err := b.values(cmd)
			if err != nil {
				return err
			}
			ct, err := readCiphertext(cmd, &src)
			if err != nil {
				return err
			}
			res, err := c.Rewrap(cmd.Context(), args[0], client.RewrapRequest{Ciphertext: ct, AssociatedData: aad, Context: bctx, AllowCompromised: allowCompromised})
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), res.Ciphertext)
			return err
		},
	}
	cmd.Flags().StringVar(&src.inline, "ciphertext", "", "ciphertext to rewrap")
	cmd.Flags().BoolVar(&allowCompromised, "allow-compromised", false, "rewrap even from a compromised key version (audited as such)")
	cmd.Flags().StringVar(&src.file, "in", "", `file holding the ciphertext ("-" for stdin)`)
	b.register(cmd)
	return cmd
}

func newDataKeyCommand() *cobra.Command {
	var (
		b                bindingFlags
		bits             int
		withoutPlaintext bool
	)
	cmd := &cobra.Command{
		Use:   "datakey KEY",
		Short: "Generate a data key for envelope encryption",
		Long: `Generate a fresh data key, wrapped under KEY. Prints the wrapped key
("ciphertext: ...", to store next to the data) and, unless
--without-plaintext, the key itself in base64 ("plaintext: ...", to use
and then forget). Recover the data key later with "arca decrypt".`,
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if bits != 128 && bits != 256 && bits != 512 {
				return usageErrorf(cmd, "--bits must be 128, 256 or 512")
			}
			aad, bctx, err := b.values(cmd)
			if err != nil {
				return err
			}
			res, err := c.GenerateDataKey(cmd.Context(), args[0], client.DataKeyRequest{
				Bits: bits, WithoutPlaintext: withoutPlaintext, AssociatedData: aad, Context: bctx,
			})
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			if _, err := fmt.Fprintf(w, "ciphertext: %s\n", res.Ciphertext); err != nil {
				return err
			}
			if res.Plaintext != nil {
				_, err = fmt.Fprintf(w, "plaintext: %s\n", base64.StdEncoding.EncodeToString(res.Plaintext))
			}
			return err
		},
	}
	cmd.Flags().IntVar(&bits, "bits", 256, "data key size in bits: 128, 256 or 512 (AES-256-SIV, XTS)")
	cmd.Flags().BoolVar(&withoutPlaintext, "without-plaintext", false, "return only the wrapped data key")
	b.register(cmd)
	return cmd
}
