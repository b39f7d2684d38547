package kms

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/arcakms/arca/internal/audit"
)

// openFullLog returns a real FileLog on /dev/full, where every write fails
// with ENOSPC. Without /dev/full the test is skipped, except under CI.
func openFullLog(t *testing.T) *audit.FileLog {
	t.Helper()
	if _, err := os.Stat("/dev/full"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("/dev/full is required under CI: %v", err)
		}
		t.Skipf("no /dev/full: %v", err)
	}
	return openAuditFile(t, "/dev/full", false, 0)
}

// TestInitFailsClosedWithoutAudit: an Init that cannot be audited returns
// CodeAuditUnavailable, no shares or token, and leaves the store empty.
func TestInitFailsClosedWithoutAudit(t *testing.T) {
	t.Parallel()
	full := openFullLog(t)
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "arca.db"))
	svc := newService(t, store, full, envConfig{})

	res, err := svc.Init(anonCtx(), 5, 3)
	wantCode(t, "Init with a failing audit log", err, CodeAuditUnavailable)
	if res != nil {
		t.Errorf("Init returned a result (%d shares) although it failed", len(res.Shares))
	}
	if st := svc.Status(); st.Initialized {
		t.Errorf("service reports itself initialised after a failed Init: %+v", st)
	}
	if d := (storeSnapshot{}).diff(snapshotStore(t, store)); d != "" {
		t.Errorf("failed Init left records in the store:\n%s", d)
	}

	// A new service over the same store agrees, and can initialise it.
	good := openAuditFile(t, filepath.Join(dir, "audit.log"), false, 0)
	again := newService(t, store, good, envConfig{})
	if st := again.Status(); st.Initialized {
		t.Fatalf("new service over the store reports initialised: %+v", st)
	}
	if _, err := again.Init(anonCtx(), 3, 2); err != nil {
		t.Fatalf("Init over the untouched store: %v", err)
	}
}

// initializedStore initialises and unseals a service over a fresh store with
// a good audit log, creates key "k" and encrypts under it, then closes
// everything. It returns the database path, the shares and a ciphertext.
func initializedStore(t *testing.T) (dbPath, rootToken string, shares []string) {
	t.Helper()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(5, 3)
	e.createKey("k", "")
	e.svc.Close()
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	return e.dbPath, e.rootToken, e.shares
}

// TestUnsealFailsClosedWithoutAudit: unsealing cannot complete while the
// audit log fails, and the keyring is not kept in memory.
func TestUnsealFailsClosedWithoutAudit(t *testing.T) {
	t.Parallel()
	full := openFullLog(t)
	dbPath, _, shares := initializedStore(t)
	store := openStore(t, dbPath)
	svc := newService(t, store, full, envConfig{})
	before := snapshotStore(t, store)

	for i, sh := range shares[:3] {
		st, err := svc.Unseal(anonCtx(), sh)
		wantCode(t, "Unseal with a failing audit log", err, CodeAuditUnavailable)
		if !st.Sealed {
			t.Errorf("share %d: status reports unsealed: %+v", i+1, st)
		}
	}
	if svc.keyring.Load() != nil {
		t.Error("the keyring was stored although the unseal could not be audited")
	}
	if _, err := svc.Authenticate(context.Background(), "arca_whatever-token"); CodeOf(err) != CodeSealed {
		t.Errorf("Authenticate after an unaudited unseal: %v, want %s", err, CodeSealed)
	}
	if d := before.diff(snapshotStore(t, store)); d != "" {
		t.Errorf("failed unseal changed the store:\n%s", d)
	}
}

// TestUnauditedShareIsNotKept: a share whose submission could not be
// audited was answered with "the request was not completed", so it must not
// count towards unsealing. Otherwise, once the audit log works again, the
// server unseals with shares whose submission the log never recorded.
func TestUnauditedShareIsNotKept(t *testing.T) {
	t.Parallel()
	full := openFullLog(t)
	dbPath, _, shares := initializedStore(t)
	store := openStore(t, dbPath)
	svc := newService(t, store, full, envConfig{})

	for _, sh := range shares[:2] {
		_, err := svc.Unseal(anonCtx(), sh)
		wantCode(t, "Unseal with a failing audit log", err, CodeAuditUnavailable)
	}
	if p := svc.Status().Progress; p != 0 {
		t.Errorf("unseal progress is %d after two unaudited submissions, want 0", p)
	}

	// The audit log recovers; one more share is submitted and audited.
	goodPath := filepath.Join(t.TempDir(), "audit.log")
	svc.audit = openAuditFile(t, goodPath, false, 0)
	st, err := svc.Unseal(anonCtx(), shares[2])
	if err != nil {
		t.Fatalf("Unseal with a working audit log: %v", err)
	}
	recs := readAuditRecords(t, goodPath)
	if !st.Sealed && len(recs) < 3 {
		t.Errorf("the server unsealed with 3 shares but the audit log records %d share submissions", len(recs))
	}
}

// TestChangesRollBackWithoutAudit: on an unsealed service whose audit log
// starts failing, CreateKey and RotateKey return CodeAuditUnavailable and
// change neither the store nor the cache; Seal still seals.
func TestChangesRollBackWithoutAudit(t *testing.T) {
	t.Parallel()
	full := openFullLog(t)
	dbPath, rootToken, shares := initializedStore(t)
	store := openStore(t, dbPath)
	good := openAuditFile(t, filepath.Join(t.TempDir(), "audit.log"), false, 0)
	svc := newService(t, store, good, envConfig{})
	for _, sh := range shares[:3] {
		if _, err := svc.Unseal(anonCtx(), sh); err != nil {
			t.Fatalf("Unseal: %v", err)
		}
	}
	root, err := svc.Authenticate(context.Background(), rootToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx := func() context.Context { return requestCtx(root) }
	k, err := svc.GetKey(ctx(), "k") // cache the key
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := svc.Encrypt(ctx(), EncryptRequest{Key: "k", Plaintext: []byte("kept secret")})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotStore(t, store)

	// The audit log fails from now on.
	svc.audit = full

	created, err := svc.CreateKey(ctx(), CreateKeyRequest{Name: "unaudited"})
	wantCode(t, "CreateKey", err, CodeAuditUnavailable)
	if created != nil {
		t.Errorf("CreateKey returned a key although it failed: %+v", created)
	}
	rotated, err := svc.RotateKey(ctx(), RotateRequest{Key: "k"})
	wantCode(t, "RotateKey", err, CodeAuditUnavailable)
	if rotated != nil {
		t.Errorf("RotateKey returned a key although it failed: %+v", rotated)
	}
	ct, err := svc.Encrypt(ctx(), EncryptRequest{Key: "k", Plaintext: []byte("x")})
	wantCode(t, "Encrypt", err, CodeAuditUnavailable)
	if ct != nil {
		t.Errorf("Encrypt returned a ciphertext although its audit failed")
	}
	pt, err := svc.Decrypt(ctx(), DecryptRequest{Ciphertext: sealed.Ciphertext})
	wantCode(t, "Decrypt", err, CodeAuditUnavailable)
	if pt != nil {
		t.Errorf("Decrypt returned a plaintext although its audit failed")
	}
	dk, err := svc.GenerateDataKey(ctx(), DataKeyRequest{Key: "k"})
	wantCode(t, "GenerateDataKey", err, CodeAuditUnavailable)
	if dk != nil {
		t.Errorf("GenerateDataKey returned a data key although its audit failed")
	}
	rnd, err := svc.Random(ctx(), 16)
	wantCode(t, "Random", err, CodeAuditUnavailable)
	if rnd != nil {
		t.Errorf("Random returned bytes although its audit failed")
	}
	if d := before.diff(snapshotStore(t, store)); d != "" {
		t.Errorf("unaudited changes reached the store:\n%s", d)
	}
	if ck := svc.keys.lookup("k"); ck == nil || ck.rec.PrimaryVersion != k.PrimaryVersion {
		t.Errorf("the cache changed after an unaudited rotation")
	}
	if svc.keys.lookup("unaudited") != nil {
		t.Errorf("an unaudited key is cached")
	}

	// With the audit log back, the store shows neither change.
	svc.audit = good
	got, err := svc.GetKey(ctx(), "k")
	if err != nil || got.PrimaryVersion != 1 {
		t.Errorf("GetKey(k) = %+v, %v; want primary version 1", got, err)
	}
	vs, err := svc.ListVersions(ctx(), ListVersionsRequest{Key: "k"})
	if err != nil || len(vs.Versions) != 1 {
		t.Errorf("ListVersions(k) = %+v, %v; want one version", vs, err)
	}
	_, err = svc.GetKey(ctx(), "unaudited")
	wantCode(t, "GetKey(unaudited)", err, CodeKeyNotFound)

	// Seal is the emergency brake: it seals even when it cannot be audited.
	svc.audit = full
	_, err = svc.Seal(ctx())
	wantCode(t, "Seal", err, CodeAuditUnavailable)
	if !svc.Status().Sealed {
		t.Error("Seal did not seal when its audit record failed")
	}
}
