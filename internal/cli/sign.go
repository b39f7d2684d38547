package cli

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arcakms/arca/client"
)

func newSignCommand() *cobra.Command {
	var req client.SignRequest
	src := inputSource{inlineFlag: "message"}
	cmd := &cobra.Command{
		Use:   "sign KEY",
		Short: "Sign a message or digest with a signing key",
		Long: `Sign a message (from --message, --in or stdin) with the primary version of a
signing key and print the signature in base64. With --message-type digest
the input is the message's digest under the key's hash (SHA-256 for P-256
and RSA, SHA-384 for P-384, SHA-512 for P-521); ed25519 and ML-DSA sign
messages only.`,
		Example:      "  arca sign releases --in release.tar.gz.sha256 --message-type digest",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if req.Message, err = src.read(cmd, "the message"); err != nil {
				return err
			}
			res, err := c.Sign(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(res.Signature))
			return err
		},
	}
	cmd.Flags().StringVar(&src.inline, "message", "", "the message, as a string")
	cmd.Flags().StringVar(&src.file, "in", "", `file holding the message ("-" for stdin)`)
	cmd.Flags().StringVar(&req.MessageType, "message-type", "raw", "raw or digest")
	cmd.Flags().StringVar(&req.Padding, "padding", "", "RSA only: pss (default) or pkcs1v15")
	return cmd
}

// errBadSignature ends verify with exit status 1.
var errBadSignature = errors.New("the signature is not valid")

func newVerifyCommand() *cobra.Command {
	var (
		req client.VerifyRequest
		sig string
	)
	src := inputSource{inlineFlag: "message"}
	cmd := &cobra.Command{
		Use:          "verify KEY",
		Short:        "Verify a signature (exit status 1 if it is not valid)",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if req.Signature, err = base64.StdEncoding.DecodeString(sig); err != nil || sig == "" {
				return usageErrorf(cmd, "--signature must be the base64 signature")
			}
			if req.Message, err = src.read(cmd, "the message"); err != nil {
				return err
			}
			res, err := c.Verify(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return printVerdict(cmd, g, res, res.Valid, errBadSignature)
		},
	}
	cmd.Flags().StringVar(&sig, "signature", "", "the signature, base64")
	cmd.Flags().IntVar(&req.KeyVersion, "version", 0, "key version that signed (default: the primary)")
	cmd.Flags().StringVar(&src.inline, "message", "", "the message, as a string")
	cmd.Flags().StringVar(&src.file, "in", "", `file holding the message ("-" for stdin)`)
	cmd.Flags().StringVar(&req.MessageType, "message-type", "raw", "raw or digest")
	cmd.Flags().StringVar(&req.Padding, "padding", "", "RSA only: pss (default) or pkcs1v15")
	return cmd
}

func newKeyPublicKeyCommand() *cobra.Command {
	var (
		version int
		format  string
	)
	cmd := &cobra.Command{
		Use:          "public-key KEY",
		Short:        "Print a signing or asymmetric encryption key's public key (PEM, DER or raw in base64, or JWK)",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			pub, err := c.GetPublicKey(cmd.Context(), args[0], version)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !g.json() && (format == "pem" && pub.PEM == "" || format == "der" && pub.DER == nil ||
				format == "jwk" && pub.JWK == nil || format == "raw" && pub.Raw == nil) {
				return fmt.Errorf("a %s public key has no %s form; try --format raw or -o json", pub.Algorithm, format)
			}
			switch {
			case g.json():
				return printJSON(out, pub)
			case format == "pem":
				_, err = fmt.Fprint(out, pub.PEM)
			case format == "der":
				_, err = fmt.Fprintln(out, base64.StdEncoding.EncodeToString(pub.DER))
			case format == "jwk":
				err = printJSON(out, pub.JWK)
			case format == "raw":
				_, err = fmt.Fprintln(out, base64.StdEncoding.EncodeToString(pub.Raw))
			default:
				return usageErrorf(cmd, "--format must be pem, der, raw or jwk")
			}

			return err
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "key version (default: the primary)")
	cmd.Flags().StringVar(&format, "format", "pem", "pem, der (base64), raw (base64; asymmetric encryption keys) or jwk")
	return cmd
}

func newDataKeyPairCommand() *cobra.Command {
	var (
		b   bindingFlags
		req client.DataKeyPairRequest
	)
	cmd := &cobra.Command{
		Use:   "datakey-pair KEY",
		Short: "Generate a key pair whose private key is wrapped under KEY",
		Long: `Generate a signing key pair (--spec, e.g. ecdsa-p256, ed25519, rsa-3072,
ml-dsa-65) for use outside Arca. Prints the public key (PEM), the private
key encrypted under KEY (an arca:v1 ciphertext; decrypt it with "arca
decrypt"), and, unless --without-plaintext, the private key itself in
base64 (PKCS#8 DER, or the 32-byte seed for ML-DSA).`,
		Example:      "  arca datakey-pair wrapping-key --spec ed25519 --without-plaintext",
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, c, err := connect(cmd)
			if err != nil {
				return err
			}
			if req.AssociatedData, req.Context, err = b.values(cmd); err != nil {
				return err
			}
			res, err := c.GenerateDataKeyPair(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			out := cmd.OutOrStdout()
			fmt.Fprint(out, res.PublicKeyPEM)
			fmt.Fprintf(out, "private_key_ciphertext: %s\n", res.PrivateKeyCiphertext)
			if res.PrivateKey != nil {
				fmt.Fprintf(out, "private_key: %s\n", base64.StdEncoding.EncodeToString(res.PrivateKey))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&req.KeySpec, "spec", "ecdsa-p256", "key pair algorithm: a signing or asymmetric encryption algorithm")
	cmd.Flags().BoolVar(&req.WithoutPlaintext, "without-plaintext", false, "return only the wrapped private key")
	b.register(cmd)
	return cmd
}
