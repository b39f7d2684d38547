package kms

import (
	"context"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/crypto"
)

// caller is who makes a request in an audit step.
type caller int

const (
	anonymous caller = iota // a Request without an identity
	rootUser                // the root token's identity
	appUser                 // an authenticated identity that is not root
	noRequest               // a context without any Request
)

// auditStep is one call and the single audit record it must produce.
type auditStep struct {
	name    string
	who     caller
	call    func(ctx context.Context) error
	op      string
	outcome string
	code    Code
}

// TestEveryCallWritesOneAuditRecord drives a service from uninitialised to
// sealed again through every public operation, succeeding and failing, and
// checks that each call appends exactly one record with the right
// operation, outcome, error code, request id and identity.
func TestEveryCallWritesOneAuditRecord(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	app := &Identity{ID: "app-accessor", Name: "app", Method: "token"}

	var (
		shares []string
		key    *Key
		other  *Key
		ct     string // a ciphertext of key, bound to ctxBinding
	)
	ctxBinding := crypto.Binding{Context: map[string]string{"purpose": "audit-test"}}
	allowed := func(name string, who caller, op string, call func(context.Context) error) auditStep {
		return auditStep{name, who, call, op, audit.OutcomeAllowed, ""}
	}
	failed := func(name string, who caller, op string, code Code, call func(context.Context) error) auditStep {
		return auditStep{name, who, call, op, audit.OutcomeFailed, code}
	}
	denied := func(name string, who caller, op string, code Code, call func(context.Context) error) auditStep {
		return auditStep{name, who, call, op, audit.OutcomeDenied, code}
	}
	err1 := func(_ any, err error) error { return err }

	// Operations that need an authenticated caller, for the denial steps.
	guarded := []struct {
		name string
		op   string
		call func(ctx context.Context) error
	}{
		{"CreateKey", OpKeyCreate, func(ctx context.Context) error {
			return err1(e.svc.CreateKey(ctx, CreateKeyRequest{Name: "intruder"}))
		}},
		{"GetKey", OpKeyGet, func(ctx context.Context) error { return err1(e.svc.GetKey(ctx, "audited")) }},
		{"ListKeys", OpKeyList, func(ctx context.Context) error { return err1(e.svc.ListKeys(ctx, ListKeysRequest{})) }},
		{"RotateKey", OpKeyRotate, func(ctx context.Context) error { return err1(e.svc.RotateKey(ctx, RotateRequest{Key: "audited"})) }},
		{"ListVersions", OpKeyVersions, func(ctx context.Context) error {
			return err1(e.svc.ListVersions(ctx, ListVersionsRequest{Key: "audited"}))
		}},
		{"Encrypt", OpEncrypt, func(ctx context.Context) error {
			return err1(e.svc.Encrypt(ctx, EncryptRequest{Key: "audited", Plaintext: []byte("x")}))
		}},
		{"Decrypt", OpDecrypt, func(ctx context.Context) error {
			return err1(e.svc.Decrypt(ctx, DecryptRequest{Ciphertext: ct, Binding: ctxBinding}))
		}},
		{"Rewrap", OpRewrap, func(ctx context.Context) error {
			return err1(e.svc.Rewrap(ctx, DecryptRequest{Key: "audited", Ciphertext: ct, Binding: ctxBinding}))
		}},
		{"GenerateDataKey", OpDataKey, func(ctx context.Context) error {
			return err1(e.svc.GenerateDataKey(ctx, DataKeyRequest{Key: "audited"}))
		}},
		{"Random", OpRandom, func(ctx context.Context) error { return err1(e.svc.Random(ctx, 8)) }},
		{"BatchEncrypt", OpBatchEncrypt, func(ctx context.Context) error {
			return err1(e.svc.BatchEncrypt(ctx, []EncryptRequest{{Key: "audited", Plaintext: []byte("x")}}))
		}},
		{"BatchDecrypt", OpBatchDecrypt, func(ctx context.Context) error {
			return err1(e.svc.BatchDecrypt(ctx, []DecryptRequest{{Ciphertext: ct, Binding: ctxBinding}}))
		}},
		{"BatchRewrap", OpBatchRewrap, func(ctx context.Context) error {
			return err1(e.svc.BatchRewrap(ctx, []DecryptRequest{{Key: "audited", Ciphertext: ct, Binding: ctxBinding}}))
		}},
		{"Seal", OpSeal, func(ctx context.Context) error { return err1(e.svc.Seal(ctx)) }},
	}

	steps := []auditStep{
		// Uninitialised.
		allowed("health", anonymous, OpHealth, func(ctx context.Context) error { return err1(e.svc.AuditedStatus(ctx, OpHealth)) }),
		allowed("seal status", anonymous, OpSealStatus, func(ctx context.Context) error {
			return err1(e.svc.AuditedStatus(ctx, OpSealStatus))
		}),
		failed("unseal before init", anonymous, OpUnseal, CodeNotInitialized, func(ctx context.Context) error {
			return err1(e.svc.Unseal(ctx, "arca-share-1-AAAA"))
		}),
		failed("encrypt before init", appUser, OpEncrypt, CodeNotInitialized, func(ctx context.Context) error {
			return err1(e.svc.Encrypt(ctx, EncryptRequest{Key: "audited"}))
		}),
		allowed("reset unseal", anonymous, OpUnseal, func(ctx context.Context) error { return err1(e.svc.ResetUnseal(ctx)) }),
		failed("init with threshold above shares", anonymous, OpInit, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.Init(ctx, 1, 2))
		}),
		allowed("init", anonymous, OpInit, func(ctx context.Context) error {
			res, err := e.svc.Init(ctx, 3, 2)
			if err == nil {
				shares, e.rootToken = res.Shares, res.RootToken
			}
			return err
		}),
		failed("init again", anonymous, OpInit, CodeAlreadyInitialized, func(ctx context.Context) error {
			return err1(e.svc.Init(ctx, 3, 2))
		}),
		// Sealed.
		failed("malformed share", anonymous, OpUnseal, CodeInvalidShare, func(ctx context.Context) error {
			return err1(e.svc.Unseal(ctx, "not a share"))
		}),
		failed("encrypt while sealed", appUser, OpEncrypt, CodeSealed, func(ctx context.Context) error {
			return err1(e.svc.Encrypt(ctx, EncryptRequest{Key: "audited"}))
		}),
		allowed("first share", anonymous, OpUnseal, func(ctx context.Context) error { return err1(e.svc.Unseal(ctx, shares[0])) }),
		failed("same share twice", anonymous, OpUnseal, CodeInvalidShare, func(ctx context.Context) error {
			return err1(e.svc.Unseal(ctx, shares[0]))
		}),
		allowed("first share again", anonymous, OpUnseal, func(ctx context.Context) error { return err1(e.svc.Unseal(ctx, shares[0])) }),
		allowed("second share unseals", anonymous, OpUnseal, func(ctx context.Context) error {
			st, err := e.svc.Unseal(ctx, shares[1])
			if err == nil && st.Sealed {
				t.Errorf("still sealed after the threshold of shares")
			}
			return err
		}),
		allowed("share while unsealed", anonymous, OpUnseal, func(ctx context.Context) error { return err1(e.svc.Unseal(ctx, shares[2])) }),
		// Adapter refusals.
		denied("reject: bad token", anonymous, OpAuthenticate, CodeUnauthorized, func(ctx context.Context) error {
			return e.svc.Reject(ctx, OpAuthenticate, errUnauthorized)
		}),
		failed("reject: unknown route", anonymous, OpUnknownRoute, CodeNotFound, func(ctx context.Context) error {
			return e.svc.Reject(ctx, OpUnknownRoute, Errorf(CodeNotFound, "no such route"))
		}),
		failed("reject: bad body", rootUser, OpInvalidRequest, CodeInvalidJSON, func(ctx context.Context) error {
			return e.svc.Reject(ctx, OpInvalidRequest, Errorf(CodeInvalidJSON, "bad json"))
		}),
		// Keys.
		allowed("create key", rootUser, OpKeyCreate, func(ctx context.Context) error {
			k, err := e.svc.CreateKey(ctx, CreateKeyRequest{Name: "audited", Labels: map[string]string{"team": "a"}})
			key = k
			return err
		}),
		allowed("create second key", rootUser, OpKeyCreate, func(ctx context.Context) error {
			k, err := e.svc.CreateKey(ctx, CreateKeyRequest{Name: "other", Algorithm: "chacha20-poly1305"})
			other = k
			return err
		}),
		failed("create existing key", rootUser, OpKeyCreate, CodeKeyExists, func(ctx context.Context) error {
			return err1(e.svc.CreateKey(ctx, CreateKeyRequest{Name: "audited"}))
		}),
		failed("create key with bad name", rootUser, OpKeyCreate, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.CreateKey(ctx, CreateKeyRequest{Name: "-bad"}))
		}),
		failed("create key with bad algorithm", rootUser, OpKeyCreate, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.CreateKey(ctx, CreateKeyRequest{Name: "good", Algorithm: "rot13"}))
		}),
		allowed("get key", rootUser, OpKeyGet, func(ctx context.Context) error { return err1(e.svc.GetKey(ctx, "audited")) }),
		failed("get missing key", rootUser, OpKeyGet, CodeKeyNotFound, func(ctx context.Context) error {
			return err1(e.svc.GetKey(ctx, "missing"))
		}),
		allowed("list keys", rootUser, OpKeyList, func(ctx context.Context) error {
			res, err := e.svc.ListKeys(ctx, ListKeysRequest{Labels: map[string]string{"team": "a"}})
			if err == nil && len(res.Keys) != 1 {
				t.Errorf("ListKeys by label returned %d keys, want 1", len(res.Keys))
			}
			return err
		}),
		failed("list keys with bad limit", rootUser, OpKeyList, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.ListKeys(ctx, ListKeysRequest{Limit: -1}))
		}),
		failed("list keys with bad page token", rootUser, OpKeyList, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.ListKeys(ctx, ListKeysRequest{PageToken: "!!"}))
		}),
		allowed("rotate key", rootUser, OpKeyRotate, func(ctx context.Context) error { return err1(e.svc.RotateKey(ctx, RotateRequest{Key: "audited"})) }),
		failed("rotate missing key", rootUser, OpKeyRotate, CodeKeyNotFound, func(ctx context.Context) error {
			return err1(e.svc.RotateKey(ctx, RotateRequest{Key: "missing"}))
		}),
		allowed("list versions", rootUser, OpKeyVersions, func(ctx context.Context) error {
			return err1(e.svc.ListVersions(ctx, ListVersionsRequest{Key: "audited"}))
		}),
		failed("list versions of missing key", rootUser, OpKeyVersions, CodeKeyNotFound, func(ctx context.Context) error {
			return err1(e.svc.ListVersions(ctx, ListVersionsRequest{Key: "missing"}))
		}),
		// Crypto.
		allowed("encrypt", rootUser, OpEncrypt, func(ctx context.Context) error {
			res, err := e.svc.Encrypt(ctx, EncryptRequest{Key: "audited", Plaintext: []byte("audited secret"), Binding: ctxBinding})
			if err == nil {
				ct = res.Ciphertext
			}
			return err
		}),
		failed("encrypt under missing key", rootUser, OpEncrypt, CodeKeyNotFound, func(ctx context.Context) error {
			return err1(e.svc.Encrypt(ctx, EncryptRequest{Key: "missing", Plaintext: []byte("x")}))
		}),
		failed("encrypt too much", rootUser, OpEncrypt, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.Encrypt(ctx, EncryptRequest{Key: "audited", Plaintext: make([]byte, MaxPlaintextSize+1)}))
		}),
		allowed("decrypt", rootUser, OpDecrypt, func(ctx context.Context) error {
			return err1(e.svc.Decrypt(ctx, DecryptRequest{Ciphertext: ct, Binding: ctxBinding}))
		}),
		failed("decrypt garbage", rootUser, OpDecrypt, CodeInvalidCiphertext, func(ctx context.Context) error {
			return err1(e.svc.Decrypt(ctx, DecryptRequest{Ciphertext: "arca:v1:garbage"}))
		}),
		failed("decrypt with wrong context", rootUser, OpDecrypt, CodeDecryptionFailed, func(ctx context.Context) error {
			return err1(e.svc.Decrypt(ctx, DecryptRequest{Ciphertext: ct}))
		}),
		failed("decrypt naming another key", rootUser, OpDecrypt, CodeWrongKey, func(ctx context.Context) error {
			return err1(e.svc.Decrypt(ctx, DecryptRequest{Key: other.Name, Ciphertext: ct, Binding: ctxBinding}))
		}),
		allowed("rewrap", rootUser, OpRewrap, func(ctx context.Context) error {
			return err1(e.svc.Rewrap(ctx, DecryptRequest{Key: key.ID, Ciphertext: ct, Binding: ctxBinding}))
		}),
		failed("rewrap without key", rootUser, OpRewrap, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.Rewrap(ctx, DecryptRequest{Ciphertext: ct, Binding: ctxBinding}))
		}),
		allowed("generate data key", rootUser, OpDataKey, func(ctx context.Context) error {
			return err1(e.svc.GenerateDataKey(ctx, DataKeyRequest{Key: "audited", Bits: 128}))
		}),
		allowed("generate data key without plaintext", rootUser, OpDataKey, func(ctx context.Context) error {
			return err1(e.svc.GenerateDataKey(ctx, DataKeyRequest{Key: "audited", WithoutPlaintext: true}))
		}),
		failed("generate data key of bad size", rootUser, OpDataKey, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.GenerateDataKey(ctx, DataKeyRequest{Key: "audited", Bits: 100}))
		}),
		allowed("random", rootUser, OpRandom, func(ctx context.Context) error { return err1(e.svc.Random(ctx, 32)) }),
		failed("random of zero bytes", rootUser, OpRandom, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.Random(ctx, 0))
		}),
		failed("random too large", rootUser, OpRandom, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.Random(ctx, MaxRandomBytes+1))
		}),
		allowed("batch encrypt with a failing item", rootUser, OpBatchEncrypt, func(ctx context.Context) error {
			res, err := e.svc.BatchEncrypt(ctx, []EncryptRequest{{Key: "audited", Plaintext: []byte("a")}, {Key: "missing"}})
			if err == nil && (res[0].Err != nil || CodeOf(res[1].Err) != CodeKeyNotFound) {
				t.Errorf("batch items: %+v, %+v", res[0].Err, res[1].Err)
			}
			return err
		}),
		failed("empty batch", rootUser, OpBatchEncrypt, CodeInvalidArgument, func(ctx context.Context) error {
			return err1(e.svc.BatchEncrypt(ctx, nil))
		}),
		failed("batch too large", rootUser, OpBatchEncrypt, CodeBatchTooLarge, func(ctx context.Context) error {
			return err1(e.svc.BatchEncrypt(ctx, make([]EncryptRequest, MaxBatchItems+1)))
		}),
		allowed("batch decrypt", rootUser, OpBatchDecrypt, func(ctx context.Context) error {
			return err1(e.svc.BatchDecrypt(ctx, []DecryptRequest{{Ciphertext: ct, Binding: ctxBinding}}))
		}),
		allowed("batch rewrap", rootUser, OpBatchRewrap, func(ctx context.Context) error {
			return err1(e.svc.BatchRewrap(ctx, []DecryptRequest{{Key: "audited", Ciphertext: ct, Binding: ctxBinding}}))
		}),
	}
	// Every guarded operation, without an identity (with and without a
	// Request in the context) and with an identity that is not root.
	for _, g := range guarded {
		steps = append(steps,
			denied(g.name+" anonymously", anonymous, g.op, CodeUnauthorized, g.call),
			denied(g.name+" without a request", noRequest, g.op, CodeUnauthorized, g.call),
			denied(g.name+" as non-root", appUser, g.op, CodeForbidden, g.call),
		)
	}
	steps = append(steps,
		allowed("seal", rootUser, OpSeal, func(ctx context.Context) error { return err1(e.svc.Seal(ctx)) }),
		failed("seal while sealed", rootUser, OpSeal, CodeSealed, func(ctx context.Context) error { return err1(e.svc.Seal(ctx)) }),
		failed("random while sealed", rootUser, OpRandom, CodeSealed, func(ctx context.Context) error { return err1(e.svc.Random(ctx, 8)) }),
		failed("list keys while sealed", rootUser, OpKeyList, CodeSealed, func(ctx context.Context) error {
			return err1(e.svc.ListKeys(ctx, ListKeysRequest{}))
		}),
		allowed("share after seal", anonymous, OpUnseal, func(ctx context.Context) error { return err1(e.svc.Unseal(ctx, shares[1])) }),
	)

	for _, st := range steps {
		var (
			ctx context.Context
			req *Request
		)
		switch st.who {
		case noRequest:
			ctx = context.Background()
		default:
			req = &Request{ID: nextRequestID(), Interface: "test"}
			switch st.who {
			case rootUser:
				req.Identity = e.root
			case appUser:
				req.Identity = app
			}
			ctx = WithRequest(context.Background(), req)
		}
		before := len(readAuditRecords(t, e.auditPath))
		err := st.call(ctx)
		recs := readAuditRecords(t, e.auditPath)
		if len(recs) != before+1 {
			t.Errorf("%s: wrote %d audit records, want 1", st.name, len(recs)-before)
			continue
		}
		if got := CodeOf(err); got != st.code {
			t.Errorf("%s: error code %q (err = %v), want %q", st.name, got, err, st.code)
		}
		r := recs[len(recs)-1]
		if r.Operation != st.op || r.Outcome != st.outcome || r.ErrorCode != string(st.code) {
			t.Errorf("%s: audited operation=%q outcome=%q error_code=%q, want %q %q %q",
				st.name, r.Operation, r.Outcome, r.ErrorCode, st.op, st.outcome, st.code)
		}
		wantID, wantReq, wantIface := "", "", ""
		if req != nil {
			wantReq, wantIface = req.ID, "test"
			if req.Identity != nil {
				wantID = req.Identity.ID
			}
		}
		if r.RequestID != wantReq || r.Interface != wantIface || r.Identity != wantID {
			t.Errorf("%s: audited request_id=%q interface=%q identity=%q, want %q %q %q",
				st.name, r.RequestID, r.Interface, r.Identity, wantReq, wantIface, wantID)
		}
		if r.Time.IsZero() {
			t.Errorf("%s: audit record has no time", st.name)
		}
		// The root identity is available once the server is unsealed.
		if e.root == nil && !e.svc.Status().Sealed {
			id, err := e.svc.Authenticate(context.Background(), e.rootToken)
			if err != nil {
				t.Fatalf("Authenticate(root token): %v", err)
			}
			e.root = id
		}
	}

	// Key-bearing records name the key and version they used.
	for _, r := range readAuditRecords(t, e.auditPath) {
		if r.Operation == OpKeyRotate && r.Outcome == audit.OutcomeAllowed && (r.KeyID != key.ID || r.KeyVersion != 2) {
			t.Errorf("rotation audited with key %q version %d, want %q version 2", r.KeyID, r.KeyVersion, key.ID)
		}
		if r.Operation == OpBatchEncrypt && r.Outcome == audit.OutcomeAllowed && r.BatchSize != 2 {
			t.Errorf("batch audited with size %d, want 2", r.BatchSize)
		}
		if strings.Contains(r.RequestID, e.rootToken) || strings.Contains(r.Identity, e.rootToken) {
			t.Errorf("audit record holds the root token")
		}
	}
}

// TestUnauditedHelpersWriteNothing pins which public methods are not
// requests of their own: Status and Ping report state, and Authenticate is
// the adapter's first step, whose failure the adapter audits with Reject
// and whose success is audited by the operation that follows.
func TestUnauditedHelpersWriteNothing(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	for _, c := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Status", func(context.Context) error { e.svc.Status(); return nil }},
		{"Ping", e.svc.Ping},
		{"Authenticate(root)", func(ctx context.Context) error { _, err := e.svc.Authenticate(ctx, e.rootToken); return err }},
		{"Authenticate(bad)", func(ctx context.Context) error {
			_, err := e.svc.Authenticate(ctx, "arca_bad")
			if CodeOf(err) != CodeUnauthorized {
				return err
			}
			return nil
		}},
	} {
		before := len(readAuditRecords(t, e.auditPath))
		if err := c.call(anonCtx()); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if n := len(readAuditRecords(t, e.auditPath)) - before; n != 0 {
			t.Errorf("%s wrote %d audit records, want 0", c.name, n)
		}
	}
}

// TestInitDevIsAudited: the dev-mode initialisation writes one sys.init
// record, inside the transaction that stores the seal configuration.
func TestInitDevIsAudited(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	token := "arca_dev-root-token-0123456789"
	got, err := e.svc.InitDev(anonCtx(), token)
	if err != nil {
		t.Fatalf("InitDev: %v", err)
	}
	if got != token {
		t.Errorf("InitDev returned token %q, want %q", got, token)
	}
	recs := readAuditRecords(t, e.auditPath)
	if len(recs) != 1 || recs[0].Operation != OpInit || recs[0].Outcome != audit.OutcomeAllowed {
		t.Fatalf("InitDev audited %+v, want one allowed %s record", recs, OpInit)
	}
	if st := e.svc.Status(); !st.Initialized || st.Sealed || st.Shares != 1 || st.Threshold != 1 {
		t.Errorf("status after InitDev = %+v, want initialised and unsealed with 1 of 1", st)
	}
	id, err := e.svc.Authenticate(context.Background(), token)
	if err != nil || !id.Root {
		t.Errorf("Authenticate(dev root token) = %+v, %v", id, err)
	}
	if _, err := e.svc.InitDev(anonCtx(), "short"); err == nil {
		t.Error("InitDev accepted a malformed root token")
	}
}
