package kms

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/backup"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/shamir"
	"github.com/arcakms/arca/internal/storage"
)

// OpBackup and OpBackupPublicKey name backups and requests for their
// public key in audit records.
const (
	OpBackup          = "sys.backup"
	OpBackupPublicKey = "sys.backup.public_key"
)

// Backup writes to w a backup of every stored record (package backup): one
// consistent snapshot of keys (their material sealed as stored),
// identities, policies and everything else, encrypted and signed with keys
// derived from the keyring. It needs sys:backup and returns the number of
// records. If it fails, what was written to w is not a backup.
func (s *Service) Backup(ctx context.Context, w io.Writer) (n int, err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpBackup, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.SysBackup, access.Resource{}, nil); err != nil {
		return 0, err
	}
	keys, err := kr.BackupKeys()
	if err != nil {
		return 0, internal("backup keys", err)
	}
	defer keys.Encryption.Wipe()
	cfg, err := json.Marshal(s.sealConfig.Load())
	if err != nil {
		return 0, internal("encode the seal configuration", err)
	}
	bw, err := backup.NewWriter(w, backup.Header{CreatedAt: s.now().UTC(), Node: s.node, ServerVersion: s.serverVersion, Seal: cfg}, keys)
	if err != nil {
		return 0, internal("write backup", err)
	}
	err = s.store.View(storage.LongRunning(ctx), func(tx storage.Tx) error {
		nss, err := tx.Namespaces()
		if err != nil {
			return err
		}
		for _, ns := range nss {
			for after := ""; ; {
				page, err := tx.List(ns, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
				if err != nil {
					return err
				}
				for _, it := range page.Items {
					if err := bw.Add(backup.Record{NS: string(ns), Key: it.Key, Value: it.Value}); err != nil {
						return err
					}
				}
				if after = page.Next; after == "" {
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, storageError("read the snapshot", err)
	}
	if err := bw.Close(); err != nil {
		return 0, internal("write backup", err)
	}
	t.resource = fmt.Sprintf("%d records", bw.Count())
	return bw.Count(), nil
}

// BackupPublicKey returns the public key that verifies this server's
// backups (arca backup verify --public-key). It needs sys:backup.
func (s *Service) BackupPublicKey(ctx context.Context) (pub ed25519.PublicKey, err error) {
	t := &target{}
	defer func() { err = s.finish(ctx, OpBackupPublicKey, t, err) }()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.SysBackup, access.Resource{}, nil); err != nil {
		return nil, err
	}
	keys, err := kr.BackupKeys()
	if err != nil {
		return nil, internal("backup keys", err)
	}
	keys.Encryption.Wipe()
	return keys.Signing.Public().(ed25519.PublicKey), nil
}

// Unlock opens the keyring of a backup offline: with a threshold of the
// shares of a Shamir seal (text form), or with the HSM of a PKCS#11 seal.
type Unlock struct {
	Shares []string
	HSM    seal.Wrapper
}

func (u Unlock) open(cfg seal.Config) (*seal.Keyring, error) {
	if cfg.Type == seal.TypePKCS11 {
		if u.HSM == nil {
			return nil, fmt.Errorf("this backup was made under a PKCS#11 seal: its HSM (seal.type pkcs11) is needed to open it")
		}
		kr, err := seal.OpenHSM(cfg, u.HSM)
		if err != nil {
			return nil, fmt.Errorf("the HSM does not open the keyring of this backup: %w", err)
		}
		return kr, nil
	}
	parsed := make([]shamir.Share, len(u.Shares))
	for i, sh := range u.Shares {
		if err := parsed[i].UnmarshalText([]byte(strings.TrimSpace(sh))); err != nil {
			return nil, fmt.Errorf("share %d is malformed", i+1)
		}
	}
	kr, err := seal.Open(cfg, parsed)
	if err != nil {
		return nil, fmt.Errorf("the shares do not open the keyring of this backup: %w", err)
	}
	return kr, nil
}

// BackupCheck is what checking or restoring a backup found.
type BackupCheck struct {
	Header  backup.Header
	Records int
}

// CheckBackup opens the backup at path, checks its signature (against pub,
// if given), rebuilds the keyring from shares (text form, a threshold of the
// shares of the server that made it, or its HSM), decrypts every record and checks each
// record's MAC; fn, if not nil, receives each record. It is offline: it
// needs no server, and the keyring is wiped when it returns.
func CheckBackup(path string, pub ed25519.PublicKey, unlock Unlock, fn func(backup.Record) error) (*BackupCheck, error) {
	f, err := backup.Open(path, pub)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cfg seal.Config
	if err := json.Unmarshal(f.Header.Seal, &cfg); err != nil {
		return nil, fmt.Errorf("%w: unreadable seal configuration", backup.ErrFormat)
	}
	kr, err := unlock.open(cfg)
	if err != nil {
		return nil, err
	}
	defer kr.Wipe()
	keys, err := kr.BackupKeys()
	if err != nil {
		return nil, err
	}
	defer keys.Encryption.Wipe()
	n, err := f.Records(keys, func(r backup.Record) error {
		if r.NS != string(nsSys) { // the seal configuration is the one record not MAC'd
			var raw jsontext.Value
			if err := decodeRecord(kr, storage.Namespace(r.NS), r.Key, r.Value, &raw); err != nil {
				return fmt.Errorf("%w: record %s/%d fails its MAC", backup.ErrCorrupt, r.NS, len(r.Key))
			}
		}
		if fn != nil {
			return fn(r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &BackupCheck{Header: f.Header, Records: n}, nil
}

// ErrStoreNotEmpty refuses a restore into a store that holds records.
var ErrStoreNotEmpty = errors.New("the store is not empty: restore only into a new database or file")

// RestoreBackup checks a backup as CheckBackup does and writes its records
// into store, which must be empty, in transactions of up to 1000 records.
// The seal configuration is written last, so a restore cut short leaves a
// store that is not initialised rather than one that is incomplete. The
// server is then started on the store and unsealed with the same shares.
func RestoreBackup(ctx context.Context, store storage.Store, path string, pub ed25519.PublicKey, unlock Unlock) (*BackupCheck, error) {
	ctx = storage.LongRunning(ctx)
	err := store.View(ctx, func(tx storage.Tx) error {
		nss, err := tx.Namespaces()
		if err == nil && len(nss) > 0 {
			return ErrStoreNotEmpty
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Check everything before writing anything.
	if _, err := CheckBackup(path, pub, unlock, nil); err != nil {
		return nil, err
	}
	var batch, last []backup.Record
	flush := func() error {
		err := store.Update(ctx, func(tx storage.Tx) error {
			for _, r := range batch {
				if _, err := tx.Create(storage.Namespace(r.NS), r.Key, r.Value); err != nil {
					return fmt.Errorf("restore %s: %w", r.NS, err)
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	check, err := CheckBackup(path, pub, unlock, func(r backup.Record) error {
		if r.NS == string(nsSys) && r.Key == sealConfigKey {
			last = append(last, r)
			return nil
		}
		if batch = append(batch, r); len(batch) == 1000 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	batch = append(batch, last...)
	if err := flush(); err != nil {
		return nil, err
	}
	return check, nil
}

// ScheduledBackup is Backup run by the scheduler (the leader's scheduled
// backups), audited as the "scheduler" identity.
func (s *Service) ScheduledBackup(ctx context.Context, w io.Writer) (int, error) {
	return s.Backup(s.backgroundRequest(ctx), w)
}
