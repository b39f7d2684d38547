package kms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/seal"
)

// TestSealWipesAndUnsealReloads seals a working service: every operation
// then fails with CodeSealed and nothing stays cached; after unsealing with
// another set of shares, old ciphertexts decrypt from material reloaded from
// storage.
func TestSealWipesAndUnsealReloads(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(5, 3)

	type sample struct {
		key        string
		plaintext  []byte
		ciphertext string
		binding    crypto.Binding
	}
	var samples []sample
	for _, alg := range encryptAlgorithms() {
		k := e.createKey("seal-"+string(alg), string(alg))
		for v := range 3 {
			if v > 0 {
				if _, err := e.svc.RotateKey(e.ctx(), RotateRequest{Key: k.ID}); err != nil {
					t.Fatalf("RotateKey: %v", err)
				}
			}
			b := crypto.Binding{Context: map[string]string{"v": fmt.Sprint(v)}}
			pt := randomBytes(t, 33)
			ct, err := e.svc.Encrypt(e.ctx(), EncryptRequest{Key: k.Name, Plaintext: pt, Binding: b})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			samples = append(samples, sample{k.Name, pt, ct.Ciphertext, b})
			dk, err := e.svc.GenerateDataKey(e.ctx(), DataKeyRequest{Key: k.ID})
			if err != nil {
				t.Fatalf("GenerateDataKey: %v", err)
			}
			samples = append(samples, sample{k.Name, bytes.Clone(dk.Plaintext.Reveal()), dk.Ciphertext, crypto.Binding{}})
			dk.Plaintext.Wipe()
		}
	}
	if n, _ := cacheSize(e.svc); n == 0 {
		t.Fatal("no key cached before sealing: the test would prove nothing")
	}

	st, err := e.svc.Seal(e.ctx())
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if !st.Sealed || !st.Initialized || st.Progress != 0 {
		t.Errorf("status after Seal = %+v, want initialised, sealed, no progress", st)
	}
	if e.svc.keyring.Load() != nil {
		t.Error("keyring still loaded after Seal")
	}
	if ids, names := cacheSize(e.svc); ids != 0 || names != 0 {
		t.Errorf("key cache holds %d keys and %d names after Seal, want none", ids, names)
	}

	ct0 := samples[0].ciphertext
	ops := []struct {
		name string
		call func(ctx context.Context) (any, error)
	}{
		{"Encrypt", func(ctx context.Context) (any, error) {
			return e.svc.Encrypt(ctx, EncryptRequest{Key: "seal-aes-256-gcm", Plaintext: []byte("x")})
		}},
		{"Decrypt", func(ctx context.Context) (any, error) {
			return e.svc.Decrypt(ctx, DecryptRequest{Ciphertext: ct0, Binding: samples[0].binding})
		}},
		{"Rewrap", func(ctx context.Context) (any, error) {
			return e.svc.Rewrap(ctx, DecryptRequest{Key: samples[0].key, Ciphertext: ct0, Binding: samples[0].binding})
		}},
		{"GetKey", func(ctx context.Context) (any, error) { return e.svc.GetKey(ctx, "seal-aes-256-gcm") }},
		{"ListKeys", func(ctx context.Context) (any, error) { return e.svc.ListKeys(ctx, ListKeysRequest{}) }},
		{"ListVersions", func(ctx context.Context) (any, error) {
			return e.svc.ListVersions(ctx, ListVersionsRequest{Key: "seal-aes-256-gcm"})
		}},
		{"CreateKey", func(ctx context.Context) (any, error) {
			return e.svc.CreateKey(ctx, CreateKeyRequest{Name: "while-sealed"})
		}},
		{"RotateKey", func(ctx context.Context) (any, error) {
			return e.svc.RotateKey(ctx, RotateRequest{Key: "seal-aes-256-gcm"})
		}},
		{"GenerateDataKey", func(ctx context.Context) (any, error) {
			return e.svc.GenerateDataKey(ctx, DataKeyRequest{Key: "seal-aes-256-gcm"})
		}},
		{"Random", func(ctx context.Context) (any, error) { return e.svc.Random(ctx, 16) }},
		{"BatchEncrypt", func(ctx context.Context) (any, error) {
			return e.svc.BatchEncrypt(ctx, []EncryptRequest{{Key: "seal-aes-256-gcm", Plaintext: []byte("x")}})
		}},
		{"BatchDecrypt", func(ctx context.Context) (any, error) {
			return e.svc.BatchDecrypt(ctx, []DecryptRequest{{Ciphertext: ct0}})
		}},
		{"Seal", func(ctx context.Context) (any, error) {
			return nil, func() error { _, err := e.svc.Seal(ctx); return err }()
		}},
		{"Authenticate", func(ctx context.Context) (any, error) { return e.svc.Authenticate(ctx, e.rootToken) }},
	}
	before := snapshotStore(t, e.store)
	for _, op := range ops {
		res, err := op.call(e.ctx())
		wantCode(t, op.name+" while sealed", err, CodeSealed)
		if err != nil && !isNil(res) {
			t.Errorf("%s while sealed returned a result with its error: %+v", op.name, res)
		}
	}
	if d := before.diff(snapshotStore(t, e.store)); d != "" {
		t.Errorf("operations on a sealed server changed the store:\n%s", d)
	}

	// Unseal with a different set of shares.
	e.unseal(e.shares[2:]...)
	if ids, _ := cacheSize(e.svc); ids != 0 {
		t.Fatalf("%d keys cached right after unsealing, want none", ids)
	}
	id, err := e.svc.Authenticate(context.Background(), e.rootToken)
	if err != nil || !id.Root {
		t.Fatalf("Authenticate(root token) after unseal = %+v, %v", id, err)
	}
	for i, s := range samples {
		pt, err := e.svc.Decrypt(requestCtx(id), DecryptRequest{Ciphertext: s.ciphertext, Binding: s.binding})
		if err != nil {
			t.Fatalf("Decrypt(sample %d) after unseal: %v", i, err)
		}
		if !bytes.Equal(pt.Plaintext.Reveal(), s.plaintext) {
			t.Fatalf("sample %d decrypted to other bytes after unseal", i)
		}
		pt.Plaintext.Wipe()
	}
	if ids, _ := cacheSize(e.svc); ids != len(encryptAlgorithms()) {
		t.Errorf("%d keys cached after decrypting, want %d (reloaded from storage)", ids, len(encryptAlgorithms()))
	}
	if _, err := e.svc.Encrypt(requestCtx(id), EncryptRequest{Key: "seal-chacha20-poly1305", Plaintext: []byte("again")}); err != nil {
		t.Errorf("Encrypt after unseal: %v", err)
	}
}

// isNil reports whether v is nil or a nil pointer or slice in an interface.
func isNil(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case *CiphertextResult:
		return x == nil
	case *PlaintextResult:
		return x == nil
	case *DataKeyResult:
		return x == nil
	case *Key:
		return x == nil
	case *ListKeysResult:
		return x == nil
	case *ListVersionsResult:
		return x == nil
	case *Identity:
		return x == nil
	case []byte:
		return x == nil
	case []BatchResult:
		return x == nil
	}
	return false
}

// TestSealDuringOperations seals and unseals repeatedly while requests that
// already passed the seal check are running, as happens when an operator
// seals a busy server. Requests may fail with CodeSealed, but none may
// panic, report tampering, or leave records that can no longer be verified.
//
// Not parallel: the race detector blames whichever tests run at the time,
// so this test runs alone.
func TestSealDuringOperations(t *testing.T) {
	// One cached key forces cold loads (keyring MAC checks and material
	// unsealing) on most requests.
	e := newTestEnv(t, envConfig{maxCachedKeys: 1})
	e.initAndUnseal(3, 2)
	const keys = 4
	var cts []string
	for i := range keys {
		k := e.createKey(fmt.Sprintf("busy-%d", i), "")
		ct, err := e.svc.Encrypt(e.ctx(), EncryptRequest{Key: k.ID, Plaintext: []byte("payload")})
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct.Ciphertext)
	}

	var (
		mu         sync.Mutex
		panics     []string
		unexpected []string
		created    []string
		seq        atomic.Int64
	)
	call := func(what string, fn func() error) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				panics = append(panics, fmt.Sprintf("%s: %v", what, r))
				mu.Unlock()
			}
		}()
		switch code := CodeOf(fn()); code {
		case "", CodeSealed:
		default:
			mu.Lock()
			unexpected = append(unexpected, fmt.Sprintf("%s: %s", what, code))
			mu.Unlock()
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx := e.ctx()
				switch (w + i) % 4 {
				case 0:
					name := fmt.Sprintf("new-%d", seq.Add(1))
					call("CreateKey", func() error {
						_, err := e.svc.CreateKey(ctx, CreateKeyRequest{Name: name})
						if err == nil {
							mu.Lock()
							created = append(created, name)
							mu.Unlock()
						}
						return err
					})
				case 1:
					call("RotateKey", func() error {
						_, err := e.svc.RotateKey(ctx, RotateRequest{Key: fmt.Sprintf("busy-%d", i%keys)})
						return err
					})
				case 2:
					call("Decrypt", func() error {
						pt, err := e.svc.Decrypt(ctx, DecryptRequest{Ciphertext: cts[i%keys]})
						if err == nil {
							pt.Plaintext.Wipe()
						}
						return err
					})
				case 3:
					call("Encrypt", func() error {
						_, err := e.svc.Encrypt(ctx, EncryptRequest{Key: fmt.Sprintf("busy-%d", i%keys), Plaintext: []byte("x")})
						return err
					})
				}
			}
		})
	}
	deadline := time.Now().Add(time.Second)
	cycles := 0
	for ; time.Now().Before(deadline); cycles++ {
		time.Sleep(time.Millisecond)
		if _, err := e.svc.Seal(e.ctx()); err != nil {
			t.Fatalf("Seal: %v", err)
		}
		e.unseal(e.shares[:2]...)
	}
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("requests racing Seal did not finish within 30s")
	}

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d seal/unseal cycles, %d keys created", cycles, len(created))
	for i, p := range panics {
		if i == 5 {
			t.Errorf("... and %d more panics", len(panics)-5)
			break
		}
		t.Errorf("panic in a request racing Seal: %s", p)
	}
	for i, u := range unexpected {
		if i == 5 {
			t.Errorf("... and %d more unexpected errors", len(unexpected)-5)
			break
		}
		t.Errorf("unexpected error in a request racing Seal: %s", u)
	}
	// Whatever was committed must still verify under the keyring.
	var unreadable []string
	names := append(created, "busy-0", "busy-1", "busy-2", "busy-3")
	for _, name := range names {
		if _, err := e.svc.GetKey(e.ctx(), name); err != nil {
			if len(unreadable) < 3 {
				t.Errorf("key %q is unreadable after the seal storm: %v", name, err)
			}
			unreadable = append(unreadable, name)
		}
	}
	if len(unreadable) > 0 {
		t.Errorf("%d of %d keys are unreadable after the seal storm (records committed with a wiped keyring): %v",
			len(unreadable), len(names), unreadable[:min(len(unreadable), 10)])
	}
	for req := (ListKeysRequest{Limit: 500}); ; {
		page, err := e.svc.ListKeys(e.ctx(), req)
		if err != nil {
			t.Errorf("ListKeys after the seal storm: %v", err)
			break
		}
		if page.NextPageToken == "" {
			break
		}
		req.PageToken = page.NextPageToken
	}
}

// keyringWiped reports whether kr's record MAC key has been erased: a wiped
// keyring MACs under the empty key.
func keyringWiped(kr *seal.Keyring) bool {
	m := hmac.New(sha256.New, nil)
	m.Write([]byte{0, 0, 0, 5})
	m.Write([]byte("probe"))
	return hmac.Equal(m.Sum(nil), kr.MAC([]byte("probe")))
}

// TestSealWipesKeyringAfterEachOperation runs each operation, succeeding
// and failing, then seals: the keyring the operation used must be wiped at
// once. An operation that kept a hold on the keyring would leave the key
// material in memory after sealing.
func TestSealWipesKeyringAfterEachOperation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	k := e.createKey("held", "")
	ct, err := e.svc.Encrypt(e.ctx(), EncryptRequest{Key: k.Name, Plaintext: []byte("held")})
	if err != nil {
		t.Fatal(err)
	}
	app := &Identity{ID: "app", Method: "token"}
	err1 := func(_ any, err error) error { return err }
	ops := []struct {
		name string
		call func() error
	}{
		{"nothing", func() error { return nil }},
		{"Authenticate", func() error { return err1(e.svc.Authenticate(anonCtx(), e.rootToken)) }},
		{"Authenticate unknown", func() error { return err1(e.svc.Authenticate(anonCtx(), "arca_unknown-token-0000")) }},
		{"Authenticate malformed", func() error { return err1(e.svc.Authenticate(anonCtx(), "nope")) }},
		{"CreateKey", func() error { return err1(e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: "held-" + nextRequestID()})) }},
		{"CreateKey existing", func() error { return err1(e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: "held"})) }},
		{"CreateKey invalid", func() error { return err1(e.svc.CreateKey(e.ctx(), CreateKeyRequest{Name: "-"})) }},
		{"CreateKey as non-root", func() error { return err1(e.svc.CreateKey(requestCtx(app), CreateKeyRequest{Name: "x"})) }},
		{"CreateKey anonymously", func() error { return err1(e.svc.CreateKey(anonCtx(), CreateKeyRequest{Name: "x"})) }},
		{"GetKey", func() error { return err1(e.svc.GetKey(e.ctx(), "held")) }},
		{"GetKey missing", func() error { return err1(e.svc.GetKey(e.ctx(), "missing")) }},
		{"ListKeys", func() error { return err1(e.svc.ListKeys(e.ctx(), ListKeysRequest{})) }},
		{"ListKeys invalid", func() error { return err1(e.svc.ListKeys(e.ctx(), ListKeysRequest{Limit: -1})) }},
		{"RotateKey", func() error { return err1(e.svc.RotateKey(e.ctx(), RotateRequest{Key: "held"})) }},
		{"RotateKey missing", func() error { return err1(e.svc.RotateKey(e.ctx(), RotateRequest{Key: "missing"})) }},
		{"ListVersions", func() error { return err1(e.svc.ListVersions(e.ctx(), ListVersionsRequest{Key: "held"})) }},
		{"ListVersions missing", func() error { return err1(e.svc.ListVersions(e.ctx(), ListVersionsRequest{Key: "missing"})) }},
		{"Encrypt", func() error { return err1(e.svc.Encrypt(e.ctx(), EncryptRequest{Key: "held", Plaintext: []byte("x")})) }},
		{"Encrypt missing", func() error { return err1(e.svc.Encrypt(e.ctx(), EncryptRequest{Key: "missing"})) }},
		{"Decrypt", func() error { return err1(e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: ct.Ciphertext})) }},
		{"Decrypt garbage", func() error { return err1(e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: "x"})) }},
		{"Decrypt wrong context", func() error {
			return err1(e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: ct.Ciphertext, Binding: crypto.Binding{AssociatedData: []byte("x")}}))
		}},
		{"Rewrap", func() error {
			return err1(e.svc.Rewrap(e.ctx(), DecryptRequest{Key: "held", Ciphertext: ct.Ciphertext}))
		}},
		{"Rewrap without key", func() error { return err1(e.svc.Rewrap(e.ctx(), DecryptRequest{Ciphertext: ct.Ciphertext})) }},
		{"GenerateDataKey", func() error { return err1(e.svc.GenerateDataKey(e.ctx(), DataKeyRequest{Key: "held"})) }},
		{"GenerateDataKey invalid", func() error { return err1(e.svc.GenerateDataKey(e.ctx(), DataKeyRequest{Key: "held", Bits: 1})) }},
		{"Random", func() error { return err1(e.svc.Random(e.ctx(), 8)) }},
		{"Random invalid", func() error { return err1(e.svc.Random(e.ctx(), -1)) }},
		{"BatchEncrypt", func() error {
			return err1(e.svc.BatchEncrypt(e.ctx(), []EncryptRequest{{Key: "held", Plaintext: []byte("x")}, {Key: "missing"}}))
		}},
		{"BatchEncrypt empty", func() error { return err1(e.svc.BatchEncrypt(e.ctx(), nil)) }},
		{"BatchDecrypt", func() error { return err1(e.svc.BatchDecrypt(e.ctx(), []DecryptRequest{{Ciphertext: ct.Ciphertext}})) }},
		{"BatchRewrap", func() error {
			return err1(e.svc.BatchRewrap(e.ctx(), []DecryptRequest{{Key: "held", Ciphertext: ct.Ciphertext}}))
		}},
		{"AuditedStatus", func() error { return err1(e.svc.AuditedStatus(anonCtx(), OpSealStatus)) }},
		{"Unseal while unsealed", func() error { return err1(e.svc.Unseal(anonCtx(), e.shares[2])) }},
		{"ResetUnseal", func() error { return err1(e.svc.ResetUnseal(anonCtx())) }},
		{"Reject", func() error { return e.svc.Reject(anonCtx(), OpUnknownRoute, Errorf(CodeNotFound, "x")) }},
	}
	for _, op := range ops {
		kr := e.svc.keyring.Load()
		if kr == nil || keyringWiped(kr) {
			t.Fatalf("%s: no usable keyring before the operation", op.name)
		}
		_ = op.call()
		if _, err := e.svc.Seal(e.ctx()); err != nil {
			t.Fatalf("%s: Seal: %v", op.name, err)
		}
		if !keyringWiped(kr) {
			t.Errorf("%s: the keyring was not wiped by Seal after the operation returned", op.name)
		}
		e.unseal(e.shares[:2]...)
	}
}
