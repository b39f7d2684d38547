package kms

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// storedMaterialGenerations reads, from the raw store, the keyring
// generation of every key version's sealed material.
func storedMaterialGenerations(t *testing.T, st storage.Store) map[uint32]int {
	t.Helper()
	gens := map[uint32]int{}
	err := st.View(context.Background(), func(tx storage.Tx) error {
		return eachItem(tx, nsKeyVersions, func(it storage.Item) error {
			var vr struct {
				Material []byte `json:"material"`
			}
			if err := json.Unmarshal(it.Value[1+seal.MACSize:], &vr); err != nil {
				return err
			}
			if g, ok := seal.BlobGeneration(vr.Material); ok {
				gens[g]++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return gens
}

// TestRotateKeyring: a rotation seals new material under a new
// generation while old ciphertexts still decrypt; the scheduler's rewrap
// moves every blob (key versions, TOTP secrets, import tokens) to it; a
// restart (seal, unseal with shares) loads the generations; a tampered
// generations record keeps the server sealed.
func TestRotateKeyring(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	ctx := e.ctx()
	var cts []string
	for _, name := range []string{"a", "b", "c"} {
		e.createKey(name, "aes-256-gcm")
		cts = append(cts, encryptSome(t, e.svc, ctx, name))
	}
	if _, err := e.svc.CreateImportToken(ctx, ImportTokenRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := storedMaterialGenerations(t, e.store); got[1] != 3 || len(got) != 1 {
		t.Fatalf("before rotation: material generations %v", got)
	}

	st, err := e.svc.RotateKeyring(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != 2 || len(st.Generations) != 2 || st.Generations[0].Blobs != 4 || st.Generations[1].Blobs != 0 {
		t.Fatalf("status after rotation: %+v", st)
	}
	if _, err := e.svc.RotateKey(ctx, RotateRequest{Key: "a"}); err != nil {
		t.Fatal(err)
	}
	e.createKey("d", "aes-256-gcm")
	cts = append(cts, encryptSome(t, e.svc, ctx, "a"), encryptSome(t, e.svc, ctx, "d"))
	if got := storedMaterialGenerations(t, e.store); got[1] != 3 || got[2] != 2 {
		t.Fatalf("new versions after rotation: material generations %v", got)
	}
	decryptAll(t, e.svc, ctx, cts)

	rep, err := e.svc.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.RewrappedBlobs != 4 {
		t.Fatalf("rewrap moved %d blobs, want 4 (3 versions, 1 import token)", rep.RewrappedBlobs)
	}
	if got := storedMaterialGenerations(t, e.store); got[2] != 5 || len(got) != 1 {
		t.Fatalf("after rewrap: material generations %v", got)
	}
	if st, err = e.svc.KeyringStatus(ctx); err != nil || st.Generations[0].Blobs != 0 || st.Generations[1].Blobs != 6 {
		t.Fatalf("status after rewrap: %+v, %v", st, err)
	}
	if rep, err = e.svc.RunDue(context.Background()); err != nil || rep.RewrappedBlobs != 0 {
		t.Fatalf("a second pass: %+v, %v", rep, err)
	}
	e.svc.keys.reset()
	decryptAll(t, e.svc, ctx, cts)

	// A restart: the generations come back with the shares.
	if _, err := e.svc.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	e.unseal(e.shares[:2]...)
	decryptAll(t, e.svc, ctx, cts)
	if st, err = e.svc.KeyringStatus(ctx); err != nil || st.Current != 2 {
		t.Fatalf("status after unseal: %+v, %v", st, err)
	}

	// A tampered generations record: the server stays sealed.
	if _, err := e.svc.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	err = e.store.Update(context.Background(), func(tx storage.Tx) error {
		it, err := tx.Get(nsSys, keyringGenerationsKey)
		if err != nil {
			return err
		}
		it.Value[len(it.Value)-1] ^= 1
		_, err = tx.Put(nsSys, keyringGenerationsKey, it.Value)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range e.shares[:2] {
		_, err = e.svc.Unseal(anonCtx(), sh)
	}
	wantCode(t, "unseal with tampered generations", err, CodeRecordTampered)
	if !e.svc.Status().Sealed {
		t.Fatal("unsealed over a tampered generations record")
	}
}

// TestRotateKeyringNeedsRekeyPermission: a key custodian may not rotate
// the keyring.
func TestRotateKeyringNeedsRekeyPermission(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	cctx := rootCtx(t, a.svc, a.login(t, "custodian", []access.Binding{role(access.RoleKeyCustodian)}))
	_, err := a.svc.RotateKeyring(cctx)
	wantCode(t, "rotate keyring as custodian", err, CodeForbidden)
	if _, err := a.svc.KeyringStatus(cctx); err == nil {
		t.Fatal("a custodian read the keyring status")
	}
}

// TestConcurrentKeyringRotations: rotations racing each other each either
// add one generation or are refused as a conflict, the keyring in memory
// agrees with the stored one, and what was sealed after them opens again
// after a restart.
func TestConcurrentKeyringRotations(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(1, 1)
	ctx := e.ctx()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			_, err := e.svc.RotateKeyring(ctx)
			switch CodeOf(err) {
			case "":
				mu.Lock()
				ok++
				mu.Unlock()
			case CodeConflict:
			default:
				t.Errorf("rotate: %v", err)
			}
		})
	}
	wg.Wait()
	st, err := e.svc.KeyringStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok == 0 || st.Current != uint32(1+ok) || len(st.Generations) != 1+ok {
		t.Fatalf("%d rotations succeeded; status %+v", ok, st)
	}
	e.createKey("after", "aes-256-gcm")
	ct := encryptSome(t, e.svc, ctx, "after")
	if _, err := e.svc.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	e.unseal(e.shares[:1]...)
	decryptAll(t, e.svc, ctx, []string{ct})
	if st, err := e.svc.KeyringStatus(ctx); err != nil || st.Current != uint32(1+ok) {
		t.Fatalf("after a restart: %+v, %v", st, err)
	}
}
