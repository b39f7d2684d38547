package kms

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/hsm"
	"github.com/arcakms/arca/internal/hsm/hsmtest"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// hsmNode is a service over a store that stays, with its own connection
// to the token, so a test can restart it.
type hsmNode struct {
	t     *testing.T
	store storage.Store
	dir   string
	cfg   hsm.Config
	now   func() time.Time
}

// newHSMNode is an hsmNode over a new store in a temporary directory and
// a new token.
func newHSMNode(t *testing.T) *hsmNode {
	t.Helper()
	dir := t.TempDir()
	return &hsmNode{t: t, store: openStore(t, filepath.Join(dir, "arca.db")), dir: dir, cfg: hsmtest.Token(t)}
}

// start builds a new service over the store, with the token if hsmCfg is
// set (a fresh connection, as a restarted process would make).
func (n *hsmNode) start(withHSM bool) *Service {
	n.t.Helper()
	opts := Options{Store: n.store, Audit: openAuditFile(n.t, filepath.Join(n.dir, "audit.log"), false, 0), Logger: quietLogger(), Version: "test", Now: n.now}
	if withHSM {
		h, err := hsm.Open(n.cfg)
		if err != nil {
			n.t.Fatal(err)
		}
		n.t.Cleanup(h.Close)
		opts.HSM = h
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(s.Close)
	return s
}

func rootCtx(t *testing.T, s *Service, token string) context.Context {
	t.Helper()
	id, err := s.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return requestCtx(id)
}

func decryptAll(t *testing.T, s *Service, ctx context.Context, cts []string) {
	t.Helper()
	for _, ct := range cts {
		if _, err := s.Decrypt(ctx, DecryptRequest{Ciphertext: ct}); err != nil {
			t.Fatalf("decrypt: %v", err)
		}
	}
}

func encryptSome(t *testing.T, s *Service, ctx context.Context, key string) string {
	t.Helper()
	r, err := s.Encrypt(ctx, EncryptRequest{Key: key, Plaintext: []byte("data under " + key)})
	if err != nil {
		t.Fatal(err)
	}
	return r.Ciphertext
}

// TestPKCS11SealUnsealsItself: init with the PKCS#11 seal unseals at once;
// a restarted service unseals itself through the token and decrypts old
// ciphertexts; without the token it stays sealed and says why; shares are
// refused.
func TestPKCS11SealUnsealsItself(t *testing.T) {
	t.Parallel()
	n := newHSMNode(t)
	s := n.start(true)
	res, err := s.InitHSM(anonCtx(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shares) != 0 || s.Status().Sealed || s.Status().Type != "pkcs11" {
		t.Fatalf("after InitHSM: %+v %+v", res, s.Status())
	}
	ctx := rootCtx(t, s, res.RootToken)
	if _, err := s.CreateKey(ctx, CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	cts := []string{encryptSome(t, s, ctx, "k")}
	s.Close()

	s2 := n.start(true)
	if !s2.Status().Sealed {
		t.Fatal("a new service starts unsealed before AutoUnseal")
	}
	if err := s2.AutoUnseal(context.Background()); err != nil || s2.Status().Sealed {
		t.Fatalf("AutoUnseal: %v %+v", err, s2.Status())
	}
	decryptAll(t, s2, rootCtx(t, s2, res.RootToken), cts)
	if _, err := s2.Unseal(anonCtx(), "arca-share-1-AAAA"); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("a share given to a PKCS#11 seal: %v", err)
	}
	s2.Close()

	// No token: sealed, with the reason.
	s3 := n.start(false)
	if err := s3.AutoUnseal(context.Background()); err == nil {
		t.Fatal("unsealed without the HSM")
	}
	if st := s3.Status(); !st.Sealed || st.Reason == "" {
		t.Fatalf("status without the HSM: %+v", st)
	}
	// A token whose key is not the seal key.
	other := hsmtest.Token(t)
	h, err := hsm.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.GenerateAESKey(DefaultHSMKeyLabel); err != nil {
		t.Fatal(err)
	}
	s4, err := New(context.Background(), Options{Store: n.store, Audit: openAuditFile(t, filepath.Join(n.dir, "audit4.log"), false, 0), Logger: quietLogger(), HSM: h})
	if err != nil {
		t.Fatal(err)
	}
	defer s4.Close()
	if err := s4.AutoUnseal(context.Background()); err == nil || !s4.Status().Sealed {
		t.Fatal("another token's key opened the seal")
	}
}

// TestSealMigrationAndRekey: Shamir → PKCS#11 → Shamir keeps every
// ciphertext decryptable; rekey and root rotation make new shares and the
// old ones stop unsealing; a PKCS#11 root rotation moves to a new token key.
func TestSealMigrationAndRekey(t *testing.T) {
	t.Parallel()
	n := newHSMNode(t)
	s := n.start(true)
	init, err := s.Init(anonCtx(), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	unsealWith := func(s *Service, shares ...string) error {
		for _, sh := range shares {
			if _, err := s.Unseal(anonCtx(), sh); err != nil {
				return err
			}
		}
		if s.Status().Sealed {
			return errSealed
		}
		return nil
	}
	if err := unsealWith(s, init.Shares[:2]...); err != nil {
		t.Fatal(err)
	}
	ctx := rootCtx(t, s, init.RootToken)
	if _, err := s.CreateKey(ctx, CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	cts := []string{encryptSome(t, s, ctx, "k")}

	// Shamir → PKCS#11.
	ch, err := s.MigrateSeal(ctx, "pkcs11", 0, 0)
	if err != nil || ch.Type != "pkcs11" || len(ch.Shares) != 0 {
		t.Fatalf("migrate to pkcs11: %+v %v", ch, err)
	}
	cts = append(cts, encryptSome(t, s, ctx, "k"))
	s.Close()
	s = n.start(true)
	if err := s.AutoUnseal(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx = rootCtx(t, s, init.RootToken)
	decryptAll(t, s, ctx, cts)

	// A PKCS#11 root rotation: a new token key.
	ch, err = s.RotateRoot(ctx)
	if err != nil || ch.KeyLabel == DefaultHSMKeyLabel {
		t.Fatalf("rotate root in the HSM: %+v %v", ch, err)
	}
	s.Close()
	s = n.start(true)
	if err := s.AutoUnseal(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx = rootCtx(t, s, init.RootToken)
	decryptAll(t, s, ctx, cts)

	// PKCS#11 → Shamir, 3 of 5.
	ch, err = s.MigrateSeal(ctx, "shamir", 5, 3)
	if err != nil || len(ch.Shares) != 5 || ch.Threshold != 3 {
		t.Fatalf("migrate to shamir: %+v %v", ch, err)
	}
	migrated := ch.Shares
	s.Close()
	s = n.start(false)
	if err := unsealWith(s, init.Shares[:2]...); err == nil {
		t.Fatal("the first shares unseal after migrating away and back")
	}
	s.unsealer.Reset()
	if err := unsealWith(s, migrated[1:4]...); err != nil {
		t.Fatal(err)
	}
	ctx = rootCtx(t, s, init.RootToken)
	decryptAll(t, s, ctx, cts)

	// Rekey to 2 of 2: the old shares stop unsealing.
	ch, err = s.Rekey(ctx, 2, 2)
	if err != nil || len(ch.Shares) != 2 {
		t.Fatalf("rekey: %+v %v", ch, err)
	}
	rekeyed := ch.Shares
	if _, err := s.Rekey(ctx, 1, 2); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("rekey with a threshold over the shares: %v", err)
	}
	// Root rotation: new shares, same 2 of 2.
	ch, err = s.RotateRoot(ctx)
	if err != nil || len(ch.Shares) != 2 {
		t.Fatalf("rotate root: %+v %v", ch, err)
	}
	rotated := ch.Shares
	s.Close()
	s = n.start(false)
	for _, old := range [][]string{migrated[:3], rekeyed} {
		if err := unsealWith(s, old...); err == nil {
			t.Fatal("old shares still unseal")
		}
		s.unsealer.Reset()
	}
	if err := unsealWith(s, rotated...); err != nil {
		t.Fatal(err)
	}
	decryptAll(t, s, rootCtx(t, s, init.RootToken), cts)
}

// TestBackupUnderPKCS11Seal: a backup made under the PKCS#11 seal is opened
// by the HSM, not shares, and a store restored from it unseals itself and
// decrypts old ciphertexts.
func TestBackupUnderPKCS11Seal(t *testing.T) {
	t.Parallel()
	n := newHSMNode(t)
	s := n.start(true)
	res, err := s.InitHSM(anonCtx(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := rootCtx(t, s, res.RootToken)
	if _, err := s.CreateKey(ctx, CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	cts := []string{encryptSome(t, s, ctx, "k")}
	path := filepath.Join(n.dir, "hsm.arcabak")
	takeBackup(t, s, ctx, path)
	if _, err := CheckBackup(path, nil, Unlock{Shares: []string{"arca-share-1-AAAA"}}, nil); err == nil {
		t.Fatal("a PKCS#11 backup opened without the HSM")
	}
	h, err := hsm.Open(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	target := &hsmNode{t: t, store: openStore(t, filepath.Join(t.TempDir(), "restored.db")), dir: t.TempDir(), cfg: n.cfg}
	if _, err := RestoreBackup(t.Context(), target.store, path, nil, Unlock{HSM: h}); err != nil {
		t.Fatal(err)
	}
	restored := target.start(true)
	if err := restored.AutoUnseal(context.Background()); err != nil {
		t.Fatal(err)
	}
	decryptAll(t, restored, rootCtx(t, restored, res.RootToken), cts)
}

// TestPKCS11RecoveryShares: a PKCS#11 seal made with a recovery key gives
// its shares once; any threshold of them creates a root token (break
// glass), other shares do not, and a recovery key written into the stored
// configuration by someone without the keyring is refused. A rekey
// replaces the recovery key (the old shares stop working), a root rotation
// keeps it, and without one the server says how to make it.
func TestPKCS11RecoveryShares(t *testing.T) {
	t.Parallel()
	n := newHSMNode(t)
	s := n.start(true)
	res, err := s.InitHSM(anonCtx(), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shares) != 0 || len(res.RecoveryShares) != 3 {
		t.Fatalf("init: %d unseal shares, %d recovery shares", len(res.Shares), len(res.RecoveryShares))
	}
	ctx := rootCtx(t, s, res.RootToken)
	breakGlass := func(shares ...string) (*RootGeneration, error) {
		t.Helper()
		var g *RootGeneration
		var err error
		for _, sh := range shares {
			if g, err = s.GenerateRoot(anonCtx(), sh); err != nil {
				return nil, err
			}
		}
		return g, nil
	}
	g, err := breakGlass(res.RecoveryShares[2], res.RecoveryShares[0])
	if err != nil || g.Token == "" {
		t.Fatalf("two of three recovery shares: %+v, %v", g, err)
	}
	if _, err := s.CreateKey(rootCtx(t, s, g.Token), CreateKeyRequest{Name: "after-break-glass"}); err != nil {
		t.Fatalf("the new root token: %v", err)
	}

	// A rotation of the token key keeps the recovery key.
	if _, err := s.RotateRoot(ctx); err != nil {
		t.Fatal(err)
	}
	if g, err := breakGlass(res.RecoveryShares[1], res.RecoveryShares[2]); err != nil || g.Token == "" {
		t.Fatalf("recovery shares after a root rotation: %+v, %v", g, err)
	}

	// A rekey replaces it.
	ch, err := s.Rekey(ctx, 2, 2)
	if err != nil || ch.Type != "pkcs11" || len(ch.RecoveryShares) != 2 || len(ch.Shares) != 0 {
		t.Fatalf("rekey: %+v, %v", ch, err)
	}
	_, err = breakGlass(res.RecoveryShares[0], res.RecoveryShares[1])
	wantCode(t, "old recovery shares after a rekey", err, CodeInvalidShare)
	if g, err := breakGlass(ch.RecoveryShares...); err != nil || g.Token == "" {
		t.Fatalf("new recovery shares: %+v, %v", g, err)
	}

	// A recovery key of someone's own, written into the stored
	// configuration, does not pass: it is not bound to the keyring.
	other := newHSMNode(t)
	os2 := other.start(true)
	ores, err := os2.InitHSM(anonCtx(), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	forged := *s.sealConfig.Load()
	forged.Recovery = os2.sealConfig.Load().Recovery
	s.sealConfig.Store(&forged)
	_, err = breakGlass(ores.RecoveryShares[0])
	wantCode(t, "a recovery key bound to another keyring", err, CodeRecordTampered)

	// Without a recovery key, break glass says how to make one.
	plain := newHSMNode(t)
	ps := plain.start(true)
	if _, err := ps.InitHSM(anonCtx(), 0, 0); err != nil {
		t.Fatal(err)
	}
	_, err = ps.GenerateRoot(anonCtx(), ores.RecoveryShares[0])
	wantCode(t, "break glass without a recovery key", err, CodeInvalidArgument)
}

// TestSealConfigurationWrittenBehindTheServer: a seal configuration
// written into the store by someone else (a Shamir one of their own, on a
// PKCS#11 server) makes no root token; a seal change made from a
// configuration that another node has since replaced is refused, not
// undone; a reloaded configuration discards root-generation shares
// collected for the old one; and recovery parameters are checked.
func TestSealConfigurationWrittenBehindTheServer(t *testing.T) {
	t.Parallel()
	n := newHSMNode(t)
	s := n.start(true)
	_, err := s.InitHSM(anonCtx(), 3, 0)
	wantCode(t, "recovery shares without a threshold", err, CodeInvalidArgument)
	_, err = s.InitHSM(anonCtx(), 3, 5)
	wantCode(t, "a recovery threshold above the shares", err, CodeInvalidArgument)
	res, err := s.InitHSM(anonCtx(), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := rootCtx(t, s, res.RootToken)
	writeSeal := func(cfg seal.Config) {
		t.Helper()
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = n.store.Update(context.Background(), func(tx storage.Tx) error {
			_, err := tx.Put(nsSys, sealConfigKey, b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	genuine := *s.sealConfig.Load()

	// One recovery share is in when another node rekeys: the reload
	// discards it.
	if g, err := s.GenerateRoot(anonCtx(), res.RecoveryShares[0]); err != nil || g.Progress != 1 {
		t.Fatalf("first recovery share: %+v, %v", g, err)
	}
	other := genuine
	other.Recovery, _, err = runningKeyring(t, s).NewRecovery(2, 2)
	if err != nil {
		t.Fatal(err)
	}
	writeSeal(other)
	s.Invalidate(storage.Change{NS: nsSys, Key: sealConfigKey})
	if p := s.rootGen.Progress(); p != 0 {
		t.Fatalf("root-generation progress after the seal changed elsewhere: %d", p)
	}

	// This node's view is now stale: a change made from it is refused.
	s.sealConfig.Store(&genuine)
	_, err = s.RotateRoot(ctx)
	wantCode(t, "a root rotation from a stale configuration", err, CodeConflict)
	if cur := s.sealConfig.Load(); !sameSeal(cur, &other) {
		t.Fatal("the refused change did not reload the stored configuration")
	}

	// A Shamir configuration of someone's own makes no root token.
	forged, err := seal.Initialize(1, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	writeSeal(forged.Config)
	s.Invalidate(storage.Change{NS: nsSys, Key: sealConfigKey})
	share, err := forged.Shares[0].MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GenerateRoot(anonCtx(), string(share))
	wantCode(t, "root generation with a forged seal configuration", err, CodeRecordTampered)
}

func runningKeyring(t *testing.T, s *Service) *seal.Keyring {
	t.Helper()
	kr := s.keyring.Load()
	if kr == nil {
		t.Fatal("sealed")
	}
	return kr
}
