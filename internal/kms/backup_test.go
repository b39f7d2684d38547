package kms

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/arcakms/arca/internal/backup"
	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/postgres"
	"github.com/arcakms/arca/internal/storage/postgres/pgtest"
)

// made is what a server did before its backup: ciphertexts, a MAC and a
// signature to check after restores, and an identity that must survive.
type made struct {
	cts      []string
	mac, sig []byte
}

func useKeys(t *testing.T, svc *Service, ctx context.Context) made {
	t.Helper()
	var m made
	for _, k := range []CreateKeyRequest{{Name: "aes"}, {Name: "chacha", Algorithm: "chacha20-poly1305"}, {Name: "mac", Algorithm: "hmac-sha256"}, {Name: "signer", Algorithm: "ed25519"}} {
		if _, err := svc.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.RotateKey(ctx, RotateRequest{Key: "aes"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"aes", "chacha"} {
		r, err := svc.Encrypt(ctx, EncryptRequest{Key: k, Plaintext: []byte("secret of " + k)})
		if err != nil {
			t.Fatal(err)
		}
		m.cts = append(m.cts, r.Ciphertext)
	}
	mr, err := svc.GenerateMAC(ctx, MACRequest{Key: "mac", Data: []byte("data")})
	if err != nil {
		t.Fatal(err)
	}
	sr, err := svc.Sign(ctx, SignRequest{Key: "signer", Message: []byte("message")})
	if err != nil {
		t.Fatal(err)
	}
	m.mac, m.sig = mr.MAC, sr.Signature
	if _, err := svc.CreateIdentity(ctx, CreateIdentityRequest{Name: "app", Type: "service", Owner: "team"}); err != nil {
		t.Fatal(err)
	}
	return m
}

// check proves svc holds what useKeys made.
func (m made) check(t *testing.T, svc *Service, ctx context.Context) {
	t.Helper()
	for _, ct := range m.cts {
		if _, err := svc.Decrypt(ctx, DecryptRequest{Ciphertext: ct}); err != nil {
			t.Fatalf("decrypt after restore: %v", err)
		}
	}
	if r, err := svc.VerifyMAC(ctx, VerifyMACRequest{Key: "mac", Data: []byte("data"), MAC: m.mac}); err != nil || !r.Valid {
		t.Fatalf("MAC after restore: %+v %v", r, err)
	}
	if r, err := svc.Verify(ctx, VerifyRequest{Key: "signer", Message: []byte("message"), Signature: m.sig}); err != nil || !r.Valid {
		t.Fatalf("signature after restore: %+v %v", r, err)
	}
	if _, err := svc.GetIdentity(ctx, "app"); err != nil {
		t.Fatalf("identity after restore: %v", err)
	}
}

// takeBackup writes svc's backup to a file.
func takeBackup(t *testing.T, svc *Service, ctx context.Context, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// unsealedOn starts a service on store, unseals it with shares and returns
// it with a root context.
func unsealedOn(t *testing.T, store storage.Store, dir string, shares []string, rootToken string) (*Service, context.Context) {
	t.Helper()
	svc := newService(t, store, openAuditFile(t, filepath.Join(dir, "audit.log"), false, 0), envConfig{})
	for _, sh := range shares {
		if _, err := svc.Unseal(anonCtx(), sh); err != nil {
			t.Fatal(err)
		}
	}
	id, err := svc.Authenticate(context.Background(), rootToken)
	if err != nil {
		t.Fatalf("the root token after restore: %v", err)
	}
	return svc, requestCtx(id)
}

// TestBackupRestoreAcrossBackends: a bbolt server's backup restores into
// PostgreSQL, and that server's backup back into a new bbolt file; each
// restored server, unsealed with the original shares, decrypts, verifies
// MACs and signatures, and knows the identities and the root token.
func TestBackupRestoreAcrossBackends(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	m := useKeys(t, e.svc, e.ctx())
	dir := t.TempDir()
	fromBolt := filepath.Join(dir, "from-bolt.arcabak")
	takeBackup(t, e.svc, e.ctx(), fromBolt)
	pub, err := e.svc.BackupPublicKey(e.ctx())
	if err != nil {
		t.Fatal(err)
	}

	// bbolt → PostgreSQL, with other shares than the ones that unsealed.
	pg, err := postgres.Open(t.Context(), postgres.Options{DSN: pgtest.DSN(t), Schema: pgtest.Schema(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	check, err := RestoreBackup(t.Context(), pg, fromBolt, pub, Unlock{Shares: e.shares[1:3]})
	if err != nil {
		t.Fatal(err)
	}
	if check.Records == 0 || check.Header.Format != backup.Format {
		t.Fatalf("restore: %+v", check)
	}
	pgDir := t.TempDir()
	onPG, pgCtx := unsealedOn(t, pg, pgDir, e.shares[:2], e.rootToken)
	m.check(t, onPG, pgCtx)

	// PostgreSQL → a new bbolt file.
	fromPG := filepath.Join(dir, "from-pg.arcabak")
	takeBackup(t, onPG, pgCtx, fromPG)
	bolt2 := openStore(t, filepath.Join(t.TempDir(), "restored.db"))
	check2, err := RestoreBackup(t.Context(), bolt2, fromPG, pub, Unlock{Shares: e.shares[:2]})
	if err != nil {
		t.Fatal(err)
	}
	// The restored server adds records of its own (the audit-free reads
	// add none; its backup may hold more only through new writes).
	if check2.Records < check.Records {
		t.Fatalf("the second backup has %d records, fewer than the first's %d", check2.Records, check.Records)
	}
	onBolt, boltCtx := unsealedOn(t, bolt2, t.TempDir(), e.shares[1:], e.rootToken)
	m.check(t, onBolt, boltCtx)

	// A store that holds records is refused.
	if _, err := RestoreBackup(t.Context(), bolt2, fromPG, pub, Unlock{Shares: e.shares[:2]}); !errors.Is(err, ErrStoreNotEmpty) {
		t.Fatalf("restore into a used store: %v", err)
	}
}

// TestTamperedBackupsAreRefused: a changed byte anywhere, a cut tail, the
// wrong public key and another server's shares each fail, and a restore of
// them writes nothing.
func TestTamperedBackupsAreRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(1, 1)
	useKeys(t, e.svc, e.ctx())
	dir := t.TempDir()
	path := filepath.Join(dir, "good.arcabak")
	takeBackup(t, e.svc, e.ctx(), path)
	pub, err := e.svc.BackupPublicKey(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckBackup(path, pub, Unlock{Shares: e.shares}, nil); err != nil {
		t.Fatalf("untouched backup: %v", err)
	}
	hdr := bytes.IndexByte(good[9:], '\n') + 10
	for name, b := range map[string][]byte{
		"header edited":     bytes.Replace(good, []byte(`"node":"`), []byte(`"node":"X`), 1),
		"record flipped":    flip(good, hdr+len(good[hdr:])/2),
		"signature flipped": flip(good, len(good)-1),
		"tail cut":          good[:len(good)-100],
		"empty":             nil,
	} {
		p := filepath.Join(dir, "bad.arcabak")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := CheckBackup(p, pub, Unlock{Shares: e.shares}, nil); !errors.Is(err, backup.ErrSignature) && !errors.Is(err, backup.ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
		store := openStore(t, filepath.Join(t.TempDir(), "target.db"))
		if _, err := RestoreBackup(t.Context(), store, p, pub, Unlock{Shares: e.shares}); err == nil {
			t.Errorf("%s: restored", name)
		}
		if snap := snapshotStore(t, store); len(snap) != 0 {
			t.Errorf("%s: a refused restore wrote %d records", name, len(snap))
		}
	}
	// Another server's key and shares.
	other := newTestEnv(t, envConfig{})
	other.initAndUnseal(1, 1)
	otherPub, err := other.svc.BackupPublicKey(other.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckBackup(path, otherPub, Unlock{Shares: e.shares}, nil); !errors.Is(err, backup.ErrSignature) {
		t.Errorf("verified with another server's key: %v", err)
	}
	if _, err := CheckBackup(path, pub, Unlock{Shares: other.shares}, nil); err == nil {
		t.Error("opened with another server's shares")
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}
