package cli

import (
	"bufio"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/backup"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/server"
)

// newBackupCommand groups backup commands.
func newBackupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Take, verify and restore encrypted backups",
		Long: `A backup is one consistent snapshot of every record of the server (keys,
identities, policies, ...), encrypted and signed with keys derived from the
keyring: it is restored only with a threshold of the unseal shares of the
server that made it, into an empty store of either backend (so it is also the
way from bbolt to PostgreSQL and back).`,
		Args:         groupArgs,
		RunE:         groupRun,
		SilenceUsage: true,
	}
	pubCmd := queryCommand(&cobra.Command{Use: "public-key", Short: "Print the public key that verifies this server's backups (PEM)", Args: usageArgs(cobra.NoArgs)},
		func(cmd *cobra.Command, c *client.Client, _ []string) (*client.AuditPublicKey, error) {
			return c.BackupPublicKey(cmd.Context())
		},
		func(w io.Writer, k *client.AuditPublicKey) error {
			_, err := fmt.Fprint(w, k.PEM)
			return err
		})
	cmd.AddCommand(newBackupCreateCommand(), pubCmd, newBackupVerifyCommand(), newBackupRestoreCommand())
	return cmd
}

func newBackupCreateCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:          "create -f FILE",
		Short:        "Take a backup of the server into FILE (needs sys:backup)",
		Args:         usageArgs(cobra.NoArgs),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf(cmd, "--file FILE is required")
			}
			_, c, err := connect(cmd)
			if err != nil {
				return err
			}
			// Written aside, then linked into place (which fails if FILE
			// exists), so FILE is never a partial backup nor overwritten.
			if _, err := os.Lstat(out); err == nil {
				return fmt.Errorf("%s exists; backups are never overwritten", out)
			}
			tmp := out + ".partial"
			f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			n, err := c.Backup(cmd.Context(), f)
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Link(tmp, out)
			}
			_ = os.Remove(tmp)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Backup written to %s (%d bytes).\n", out, n)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "file", "f", "", "file to write (must not exist)")
	return cmd
}

func newBackupVerifyCommand() *cobra.Command {
	var keyFile, configFile string
	var withShares bool
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a backup's signature, offline (and with --shares, every record)",
		Long: `Check a backup file offline. Without --public-key the signature is checked
with the key the file names, which proves only that the file is intact; with
the PEM of "arca backup public-key" it also proves where it came from.

With --shares, a threshold of the unseal shares is read from stdin, one per
line (for a backup made under the PKCS#11 seal, --config names the server
configuration whose HSM opens it instead): every record is then decrypted and
its MAC checked, as a restore would.
Exits 1 if the backup does not verify.`,
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := optionalPublicKey(keyFile)
			if err != nil {
				return err
			}
			var unlock *openUnlock
			if withShares || configFile != "" {
				if unlock, err = backupUnlock(cmd, args[0], pub, configFile); err != nil {
					return err
				}
				defer unlock.close()
			}
			check, err := verifyBackup(args[0], pub, unlock)
			if err != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "NOT VALID: %v\n", err)
				return &exitCodeError{code: 1}
			}
			signer := "the key named in the file (give --public-key to check where it came from)"
			if pub != nil {
				signer = "the given public key"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "OK: %s backup of %s, made %s on %s, signed by %s.\n",
				check.Header.Format, check.Header.ServerVersion, check.Header.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), check.Header.Node, signer)
			if unlock != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%d records decrypted, every MAC verified.\n", check.Records)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "public-key", "", `PEM file with the backup public key ("arca backup public-key")`)
	cmd.Flags().BoolVar(&withShares, "shares", false, "read unseal shares from stdin and check every record")
	cmd.Flags().StringVar(&configFile, "config", "", "server configuration with the HSM (seal.type pkcs11) of a backup made under the PKCS#11 seal: check every record")
	return cmd
}

// verifyBackup checks the signature only, or everything given an unlock.
func verifyBackup(path string, pub ed25519.PublicKey, unlock *openUnlock) (*kms.BackupCheck, error) {
	if unlock != nil {
		return kms.CheckBackup(path, pub, unlock.Unlock, nil)
	}
	f, err := backup.Open(path, pub)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return &kms.BackupCheck{Header: f.Header}, nil
}

func newBackupRestoreCommand() *cobra.Command {
	var keyFile, configFile string
	cmd := &cobra.Command{
		Use:   "restore FILE --config arca.yaml",
		Short: "Restore a backup into the empty store of a configuration, offline",
		Long: `Restore a backup into the storage that a server configuration names (storage.type
bolt or postgres; ARCA_STORAGE_DSN and the other ARCA_* variables apply), which
must be empty. A threshold of the unseal shares of the server that made the
backup is read from stdin, one per line (at a terminal, one per prompt, an empty
line to finish); a backup made under the PKCS#11 seal is opened by the HSM of
the configuration (seal.type pkcs11) instead. The backup is checked in full before anything is written.
Then start the server on that configuration and unseal it with the same shares.`,
		Args:         usageArgs(cobra.ExactArgs(1)),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if configFile == "" {
				return usageErrorf(cmd, "--config is required: it names the store to restore into")
			}
			pub, err := optionalPublicKey(keyFile)
			if err != nil {
				return err
			}
			cfg := config.Default()
			if err := cfg.LoadFile(configFile); err != nil {
				return err
			}
			if err := cfg.LoadEnv(os.LookupEnv); err != nil {
				return err
			}
			unlock, err := backupUnlock(cmd, args[0], pub, configFile)
			if err != nil {
				return err
			}
			defer unlock.close()
			store, err := server.OpenStore(cmd.Context(), cfg.Storage)
			if err != nil {
				return err
			}
			defer store.Close()
			check, err := kms.RestoreBackup(cmd.Context(), store, args[0], pub, unlock.Unlock)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored %d records from the backup made %s on %s.\nStart the server and unseal it with the same shares.\n",
				check.Records, check.Header.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), check.Header.Node)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "public-key", "", `PEM file with the backup public key ("arca backup public-key"), to check where the backup came from`)
	cmd.Flags().StringVar(&configFile, "config", "", "server configuration whose storage receives the backup")
	return cmd
}

// optionalPublicKey reads an Ed25519 PEM public key if a file is named.
func optionalPublicKey(path string) (ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	return readEd25519PublicKey(path)
}

// readShares reads unseal shares from stdin, one per line, until EOF or an
// empty line; at a terminal each is read without echo.
func readShares(cmd *cobra.Command) ([]string, error) {
	in := cmd.InOrStdin()
	var shares []string
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		for {
			fmt.Fprintf(cmd.ErrOrStderr(), "Unseal share %d (input hidden; empty to finish): ", len(shares)+1)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(cmd.ErrOrStderr())
			if err != nil {
				return nil, fmt.Errorf("reading unseal shares: %w", err)
			}
			if s := strings.TrimSpace(string(b)); s != "" {
				shares = append(shares, s)
				continue
			}
			break
		}
	} else {
		sc := bufio.NewScanner(io.LimitReader(in, maxInput))
		for sc.Scan() {
			s := strings.TrimSpace(sc.Text())
			if s == "" {
				break
			}
			shares = append(shares, s)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading unseal shares: %w", err)
		}
	}
	if len(shares) == 0 {
		return nil, usageErrorf(cmd, "no unseal shares given on stdin")
	}
	return shares, nil
}

// openUnlock is a kms.Unlock with the HSM connection it may hold.
type openUnlock struct {
	kms.Unlock
	close func()
}

// backupUnlock prepares what opens a backup's keyring: the HSM of the
// configuration for a backup made under the PKCS#11 seal, otherwise shares
// read from stdin.
func backupUnlock(cmd *cobra.Command, path string, pub ed25519.PublicKey, configFile string) (*openUnlock, error) {
	f, err := backup.Open(path, pub)
	if err != nil {
		return nil, err
	}
	var sealType struct {
		Type string `json:"type"`
	}
	err = json.Unmarshal(f.Header.Seal, &sealType)
	f.Close()
	if err != nil {
		return nil, backup.ErrFormat
	}
	if sealType.Type != "pkcs11" {
		shares, err := readShares(cmd)
		if err != nil {
			return nil, err
		}
		return &openUnlock{Unlock: kms.Unlock{Shares: shares}, close: func() {}}, nil
	}
	if configFile == "" {
		return nil, usageErrorf(cmd, "the backup was made under the PKCS#11 seal: --config must name a configuration with its HSM")
	}
	cfg := config.Default()
	if err := cfg.LoadFile(configFile); err != nil {
		return nil, err
	}
	h, err := server.OpenHSM(cfg.Seal)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, usageErrorf(cmd, "the backup was made under the PKCS#11 seal, and %s configures no HSM (seal.type pkcs11)", configFile)
	}
	return &openUnlock{Unlock: kms.Unlock{HSM: h}, close: h.Close}, nil
}
