package kms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/storage"
)

// Tests of identities, tokens and access control in the service: real
// bbolt store, real audit file, and requests made by identities
// authenticated with their own tokens, as an adapter would.

// accEnv is an initialised, unsealed service with a settable clock that
// starts on Thursday 2026-01-01 00:00 UTC.
type accEnv struct {
	*testEnv
	clock *lcClock
}

func newAccEnv(t *testing.T) *accEnv {
	t.Helper()
	clock := &lcClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newTestEnv(t, envConfig{now: clock.Now})
	e.initAndUnseal(3, 2)
	return &accEnv{testEnv: e, clock: clock}
}

func accPtr[T any](v T) *T { return &v }

// role is a binding of role to scope (nil: every key).
func role(name string, scope ...string) access.Binding {
	return access.Binding{Role: name, Scope: scope}
}

// newIdentity creates a service identity as root.
func (a *accEnv) newIdentity(t *testing.T, name string, roles []access.Binding, policies ...string) *IdentityInfo {
	t.Helper()
	info, err := a.svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: name, Type: IdentityService, Roles: roles, Policies: policies})
	if err != nil {
		t.Fatalf("CreateIdentity(%q): %v", name, err)
	}
	return info
}

// issue creates a token for an identity as root.
func (a *accEnv) issue(t *testing.T, identity string, ttl time.Duration) *IssuedToken {
	t.Helper()
	tok, err := a.svc.CreateToken(a.ctx(), CreateTokenRequest{Identity: identity, TTL: ttl})
	if err != nil {
		t.Fatalf("CreateToken(%q): %v", identity, err)
	}
	return tok
}

// login creates a service identity with grants and returns a token for it.
func (a *accEnv) login(t *testing.T, name string, roles []access.Binding, policies ...string) string {
	t.Helper()
	a.newIdentity(t, name, roles, policies...)
	return a.issue(t, name, 0).Token
}

// as authenticates token, as an adapter does for every request, and returns
// the context of one request from source.
func (a *accEnv) as(t *testing.T, token, source string) context.Context {
	t.Helper()
	id, err := a.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return WithRequest(context.Background(), &Request{ID: nextRequestID(), Interface: "test", Source: source, Identity: id})
}

// auditOf returns the one audit record of the request in ctx.
func (a *accEnv) auditOf(t *testing.T, ctx context.Context) audit.Record {
	t.Helper()
	id := RequestFrom(ctx).ID
	var found []audit.Record
	for _, r := range readAuditRecords(t, a.auditPath) {
		if r.RequestID == id {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("request %s has %d audit records, want 1: %+v", id, len(found), found)
	}
	return found[0]
}

// wantDenied checks that err is a denial for reason, and that the audit
// record of the request says so.
func (a *accEnv) wantDenied(t *testing.T, what string, ctx context.Context, err error, reason access.Reason) {
	t.Helper()
	if CodeOf(err) != CodeForbidden {
		t.Errorf("%s: err = %v, want code forbidden (%s)", what, err, reason)
		return
	}
	if !strings.Contains(err.Error(), string(reason)) {
		t.Errorf("%s: message %q does not name the reason %s", what, err.Error(), reason)
	}
	r := a.auditOf(t, ctx)
	if r.Outcome != audit.OutcomeDenied || r.ErrorCode != string(CodeForbidden) || r.DenyReason != string(reason) {
		t.Errorf("%s: audit outcome=%q error_code=%q deny_reason=%q, want denied/forbidden/%s", what, r.Outcome, r.ErrorCode, r.DenyReason, reason)
	}
	if id := RequestFrom(ctx).Identity; r.Identity != id.ID || r.Credential != id.Credential || r.Credential == "" {
		t.Errorf("%s: audit identity=%q credential=%q, want %q/%q", what, r.Identity, r.Credential, id.ID, id.Credential)
	}
}

// wantAllowed checks that err is nil and the request was audited allowed.
func (a *accEnv) wantAllowed(t *testing.T, what string, ctx context.Context, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	r := a.auditOf(t, ctx)
	if r.Outcome != audit.OutcomeAllowed || r.DenyReason != "" || r.ErrorCode != "" {
		t.Errorf("%s: audit outcome=%q deny_reason=%q error_code=%q, want allowed", what, r.Outcome, r.DenyReason, r.ErrorCode)
	}
}

func (a *accEnv) encryptAs(t *testing.T, token, source, key string, bctx map[string]string) (context.Context, string, error) {
	t.Helper()
	ctx := a.as(t, token, source)
	res, err := a.svc.Encrypt(ctx, EncryptRequest{Key: key, Plaintext: []byte("hello " + key), Binding: crypto.Binding{Context: bctx}})
	if err != nil {
		return ctx, "", err
	}
	return ctx, res.Ciphertext, nil
}

func (a *accEnv) rootEncrypt(t *testing.T, key string) string {
	t.Helper()
	res, err := a.svc.Encrypt(a.ctx(), EncryptRequest{Key: key, Plaintext: []byte("hello " + key)})
	if err != nil {
		t.Fatalf("root Encrypt(%s): %v", key, err)
	}
	return res.Ciphertext
}

func (a *accEnv) decryptAs(t *testing.T, token, ct string) (context.Context, string, error) {
	t.Helper()
	ctx := a.as(t, token, "")
	res, err := a.svc.Decrypt(ctx, DecryptRequest{Ciphertext: ct})
	if err != nil {
		return ctx, "", err
	}
	defer res.Plaintext.Wipe()
	return ctx, string(res.Plaintext.Reveal()), nil
}

func (a *accEnv) putPolicy(t *testing.T, p access.Policy) {
	t.Helper()
	if err := a.svc.PutAccessPolicy(a.ctx(), p); err != nil {
		t.Fatalf("PutAccessPolicy(%s): %v", p.Name, err)
	}
}

func wantAuth(t *testing.T, what string, svc *Service, token string, ok bool) *Identity {
	t.Helper()
	id, err := svc.Authenticate(context.Background(), token)
	if ok && err != nil {
		t.Fatalf("%s: Authenticate: %v", what, err)
	}
	if !ok && (CodeOf(err) != CodeUnauthorized || id != nil) {
		t.Fatalf("%s: Authenticate = %+v, %v; want unauthorized", what, id, err)
	}
	return id
}

func TestAccessIdentityLifecycle(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc

	cctx := a.ctx()
	app, err := svc.CreateIdentity(cctx, CreateIdentityRequest{Name: "svc-app", Type: IdentityService, Owner: "team payments",
		Roles: []access.Binding{role(access.RoleCryptoUser, "key:app-*")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(app.ID); err != nil || app.Name != "svc-app" || app.Type != IdentityService || app.Status != StatusActive ||
		app.Owner != "team payments" || !reflect.DeepEqual(app.Roles, []access.Binding{role(access.RoleCryptoUser, "key:app-*")}) ||
		len(app.Policies) != 0 || !app.CreatedAt.Equal(a.clock.Now()) || app.CreatedBy != a.root.ID {
		t.Fatalf("created identity = %+v", app)
	}
	if r := a.auditOf(t, cctx); r.Operation != OpIdentityCreate || r.Outcome != audit.OutcomeAllowed || r.Resource != app.ID || r.Identity != a.root.ID {
		t.Errorf("create audit = %+v", r)
	}
	alice, err := svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: "alice", Type: IdentityHuman, Owner: "alice@example.com",
		Roles: []access.Binding{role(access.RoleAuditor)}})
	if err != nil {
		t.Fatal(err)
	}
	if alice.Type != IdentityHuman || alice.ID == app.ID {
		t.Fatalf("human identity = %+v", alice)
	}

	// Duplicates and invalid requests change nothing.
	_, err = svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: "svc-app", Type: IdentityHuman})
	wantCode(t, "duplicate name", err, CodeConflict)
	bad := []struct {
		what string
		req  CreateIdentityRequest
	}{
		{"bad type", CreateIdentityRequest{Name: "robot", Type: "robot"}},
		{"no type", CreateIdentityRequest{Name: "robot"}},
		{"empty name", CreateIdentityRequest{Name: "", Type: IdentityService}},
		{"name with space", CreateIdentityRequest{Name: "a b", Type: IdentityService}},
		{"name starting with dash", CreateIdentityRequest{Name: "-x", Type: IdentityService}},
		{"name too long", CreateIdentityRequest{Name: strings.Repeat("n", 129), Type: IdentityService}},
		{"name is a uuid", CreateIdentityRequest{Name: uuid.NewString(), Type: IdentityService}},
		{"owner not printable", CreateIdentityRequest{Name: "ownerless", Type: IdentityService, Owner: "a\x00b"}},
		{"unknown role", CreateIdentityRequest{Name: "super", Type: IdentityService, Roles: []access.Binding{{Role: "superuser"}}}},
		{"bad scope", CreateIdentityRequest{Name: "scoped", Type: IdentityService, Roles: []access.Binding{role(access.RoleCryptoUser, "keys:app")}}},
	}
	for _, b := range bad {
		ctx := a.ctx()
		_, err := svc.CreateIdentity(ctx, b.req)
		wantCode(t, b.what, err, CodeInvalidArgument)
		if err != nil && AsError(err).Message == "" {
			t.Errorf("%s: empty message", b.what)
		}
		if r := a.auditOf(t, ctx); r.Outcome != audit.OutcomeFailed || r.ErrorCode != string(CodeInvalidArgument) {
			t.Errorf("%s: audit %+v", b.what, r)
		}
	}

	// Get by name and by id; list.
	for _, ref := range []string{"svc-app", app.ID} {
		got, err := svc.GetIdentity(a.ctx(), ref)
		if err != nil || !reflect.DeepEqual(got, app) {
			t.Errorf("GetIdentity(%s) = %+v, %v; want %+v", ref, got, err, app)
		}
	}
	_, err = svc.GetIdentity(a.ctx(), "nobody")
	wantCode(t, "get unknown", err, CodeIdentityNotFound)
	_, err = svc.GetIdentity(a.ctx(), uuid.NewString())
	wantCode(t, "get unknown id", err, CodeIdentityNotFound)
	list, err := svc.ListIdentities(a.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || !reflect.DeepEqual(list[0], alice) || !reflect.DeepEqual(list[1], app) {
		t.Fatalf("ListIdentities = %+v, want [alice svc-app]", list)
	}

	// Update status, owner, roles and policies.
	a.putPolicy(t, access.Policy{Name: "extra", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"random:generate"}}}})
	a.clock.Advance(time.Hour)
	newRoles := []access.Binding{role(access.RoleCryptoUser, "key:app-*", "key:web-*")}
	upd, err := svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "svc-app", Status: accPtr(StatusDisabled),
		Owner: accPtr("team web"), Roles: &newRoles, Policies: &[]string{"extra"}})
	if err != nil {
		t.Fatal(err)
	}
	want := *app
	want.Status, want.Owner, want.Roles, want.Policies, want.UpdatedAt = StatusDisabled, "team web", newRoles, []string{"extra"}, a.clock.Now()
	if !reflect.DeepEqual(upd, &want) {
		t.Fatalf("UpdateIdentity = %+v, want %+v", upd, &want)
	}
	if got, err := svc.GetIdentity(a.ctx(), app.ID); err != nil || !reflect.DeepEqual(got, &want) {
		t.Fatalf("after update GetIdentity = %+v, %v; want %+v", got, err, &want)
	}
	// A partial update leaves the other fields alone.
	upd, err = svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: app.ID, Status: accPtr(StatusActive)})
	if err != nil || upd.Status != StatusActive || upd.Owner != "team web" || !reflect.DeepEqual(upd.Roles, newRoles) || !reflect.DeepEqual(upd.Policies, []string{"extra"}) {
		t.Fatalf("partial update = %+v, %v", upd, err)
	}
	_, err = svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "svc-app", Status: accPtr(IdentityStatus("sleeping"))})
	wantCode(t, "bad status", err, CodeInvalidArgument)
	_, err = svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "svc-app", Owner: accPtr("x\ny")})
	wantCode(t, "bad owner", err, CodeInvalidArgument)
	_, err = svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "nobody", Status: accPtr(StatusActive)})
	wantCode(t, "update unknown", err, CodeIdentityNotFound)
	_, err = svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "svc-app", Roles: &[]access.Binding{{Role: "superuser"}}})
	wantCode(t, "update unknown role", err, CodeInvalidArgument)

	// Delete removes the identity and its tokens, even a cached token.
	tok := a.issue(t, "svc-app", 0)
	wantAuth(t, "before delete", svc, tok.Token, true)
	ctx := a.ctx()
	if err := svc.DeleteIdentity(ctx, "svc-app"); err != nil {
		t.Fatal(err)
	}
	if r := a.auditOf(t, ctx); r.Operation != OpIdentityDelete || r.Outcome != audit.OutcomeAllowed || r.Resource != app.ID {
		t.Errorf("delete audit = %+v", r)
	}
	wantAuth(t, "after delete", svc, tok.Token, false)
	_, err = svc.GetIdentity(a.ctx(), app.ID)
	wantCode(t, "get deleted", err, CodeIdentityNotFound)
	wantCode(t, "delete again", svc.DeleteIdentity(a.ctx(), "svc-app"), CodeIdentityNotFound)
	wantCode(t, "revoke token of deleted identity", svc.RevokeToken(a.ctx(), tok.Accessor), CodeTokenNotFound)
	err = a.store.View(context.Background(), func(tx storage.Tx) error {
		_, err := tx.Get(nsTokens, hashToken(tok.Token))
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("token record of deleted identity: %v, want not found", err)
	}
	// The name is free again; the old token does not come back with it.
	again := a.newIdentity(t, "svc-app", nil)
	if again.ID == app.ID {
		t.Fatal("re-created identity reuses the old id")
	}
	wantAuth(t, "old token after re-create", svc, tok.Token, false)
	if list, err := svc.ListIdentities(a.ctx()); err != nil || len(list) != 2 || list[1].ID != again.ID {
		t.Fatalf("ListIdentities after re-create = %+v, %v", list, err)
	}
}

func TestAccessTokens(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc
	t0 := a.clock.Now()
	info := a.newIdentity(t, "app", []access.Binding{role(access.RoleCryptoUser, "key:app-*")})

	tok, err := svc.CreateToken(a.ctx(), CreateTokenRequest{Identity: "app", Name: "host-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, tokenPrefix) || tok.Accessor == "" || strings.Contains(tok.Token, tok.Accessor) ||
		tok.IdentityID != info.ID || !tok.ExpiresAt.Equal(t0.Add(DefaultTokenTTL)) {
		t.Fatalf("CreateToken = %+v", tok)
	}
	id := wantAuth(t, "new token", svc, tok.Token, true)
	if id.Root || id.ID != info.ID || id.IdentityID != info.ID || id.IdentityName != "app" || id.Credential != tok.Accessor ||
		id.Method != "token" || len(id.Policies) != 1 {
		t.Fatalf("Authenticate = %+v", id)
	}

	// Bad requests.
	_, err = svc.CreateToken(a.ctx(), CreateTokenRequest{Identity: "nobody"})
	wantCode(t, "token for unknown identity", err, CodeIdentityNotFound)
	_, err = svc.CreateToken(a.ctx(), CreateTokenRequest{Identity: "app", TTL: MinTokenTTL - time.Second})
	wantCode(t, "ttl too short", err, CodeInvalidArgument)
	_, err = svc.CreateToken(a.ctx(), CreateTokenRequest{Identity: "app", TTL: MaxTokenTTL + time.Second})
	wantCode(t, "ttl too long", err, CodeInvalidArgument)

	// The store holds only the token's hash: scan the bbolt file and the
	// audit log.
	db, err := os.ReadFile(a.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(db, []byte(hashToken(tok.Token))) {
		t.Fatal("the token's hash is not in the database file: the scan sees nothing")
	}
	body := strings.TrimPrefix(tok.Token, tokenPrefix)
	for name, data := range map[string][]byte{"database": db, "audit log": mustRead(t, a.auditPath)} {
		if bytes.Contains(data, []byte(tok.Token)) || bytes.Contains(data, []byte(body)) {
			t.Errorf("the %s holds the token", name)
		}
		if bytes.Contains(data, []byte(a.rootToken)) || bytes.Contains(data, []byte(strings.TrimPrefix(a.rootToken, tokenPrefix))) {
			t.Errorf("the %s holds the root token", name)
		}
	}

	t.Run("revoke by accessor, cached", func(t *testing.T) {
		tk := a.issue(t, "app", 0)
		wantAuth(t, "first use", svc, tk.Token, true)
		wantAuth(t, "second use (cached)", svc, tk.Token, true)
		if err := svc.RevokeToken(a.ctx(), tk.Accessor); err != nil {
			t.Fatal(err)
		}
		wantAuth(t, "after revoke", svc, tk.Token, false)
		wantCode(t, "revoke again", svc.RevokeToken(a.ctx(), tk.Accessor), CodeTokenNotFound)
		wantCode(t, "revoke unknown", svc.RevokeToken(a.ctx(), "tok-nope"), CodeTokenNotFound)
		// Other tokens of the identity still work.
		wantAuth(t, "other token", svc, tok.Token, true)
	})

	t.Run("self revocation needs no permission", func(t *testing.T) {
		a.newIdentity(t, "bare", nil)
		tk := a.issue(t, "bare", 0)
		other := a.issue(t, "app", 0)
		ctx := a.as(t, tk.Token, "")
		err := svc.RevokeToken(ctx, other.Accessor)
		a.wantDenied(t, "revoke another's token", ctx, err, access.ReasonNoAllow)
		wantAuth(t, "token it failed to revoke", svc, other.Token, true)

		ctx = a.as(t, tk.Token, "")
		a.wantAllowed(t, "revoke own token", ctx, svc.RevokeToken(ctx, tk.Accessor))
		wantAuth(t, "after self revocation", svc, tk.Token, false)

		// token:revoke lets an admin revoke others' tokens.
		adm := a.login(t, "tok-admin", []access.Binding{role(access.RoleAdmin)})
		ctx = a.as(t, adm, "")
		a.wantAllowed(t, "admin revokes another's token", ctx, svc.RevokeToken(ctx, other.Accessor))
		wantAuth(t, "revoked by admin", svc, other.Token, false)
	})

	t.Run("renew", func(t *testing.T) {
		a.newIdentity(t, "renewer", nil)
		start := a.clock.Now()
		tk := a.issue(t, "renewer", time.Hour)
		if !tk.ExpiresAt.Equal(start.Add(time.Hour)) {
			t.Fatalf("ExpiresAt = %v", tk.ExpiresAt)
		}
		wantAuth(t, "fresh", svc, tk.Token, true)
		a.clock.Advance(50 * time.Minute)
		ctx := a.as(t, tk.Token, "")
		r, err := svc.RenewToken(ctx)
		a.wantAllowed(t, "renew", ctx, err)
		if err != nil {
			t.FailNow()
		}
		if r.Token != "" || r.Accessor != tk.Accessor || !r.ExpiresAt.Equal(start.Add(110*time.Minute)) {
			t.Fatalf("RenewToken = %+v, want expiry %v", r, start.Add(110*time.Minute))
		}
		a.clock.Advance(30 * time.Minute) // past the original expiry
		wantAuth(t, "past the original expiry", svc, tk.Token, true)
		a.clock.Advance(30 * time.Minute) // exactly the renewed expiry
		wantAuth(t, "at the renewed expiry", svc, tk.Token, false)
		// The root token does not renew.
		_, err = svc.RenewToken(a.ctx())
		wantCode(t, "renew root token", err, CodeUnsupportedOperation)
	})

	t.Run("expiry", func(t *testing.T) {
		a.newIdentity(t, "shortlived", nil)
		tk := a.issue(t, "shortlived", MinTokenTTL)
		wantAuth(t, "fresh", svc, tk.Token, true) // cached now
		a.clock.Advance(MinTokenTTL - time.Second)
		wantAuth(t, "just before expiry", svc, tk.Token, true)
		a.clock.Advance(time.Second)
		wantAuth(t, "at expiry", svc, tk.Token, false)
	})

	t.Run("disable and enable", func(t *testing.T) {
		a.createKey("app-1", "")
		a.newIdentity(t, "toggle", []access.Binding{role(access.RoleCryptoUser, "key:app-*")})
		tk := a.issue(t, "toggle", 0)
		ctx, _, err := a.encryptAs(t, tk.Token, "", "app-1", nil)
		a.wantAllowed(t, "encrypt while active", ctx, err)
		if _, err := svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "toggle", Status: accPtr(StatusDisabled)}); err != nil {
			t.Fatal(err)
		}
		wantAuth(t, "disabled", svc, tk.Token, false)
		_, err = svc.CreateToken(a.ctx(), CreateTokenRequest{Identity: "toggle"})
		wantCode(t, "token for disabled identity", err, CodeConflict)
		if _, err := svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "toggle", Status: accPtr(StatusActive)}); err != nil {
			t.Fatal(err)
		}
		ctx, _, err = a.encryptAs(t, tk.Token, "", "app-1", nil)
		a.wantAllowed(t, "encrypt re-enabled", ctx, err)
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAccessRootTokenRevocation(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc
	rootAccessor := a.root.Credential
	if rootAccessor == "" || !strings.HasPrefix(rootAccessor, "root-") {
		t.Fatalf("root credential = %q", rootAccessor)
	}
	err := svc.RevokeToken(a.ctx(), rootAccessor)
	wantCode(t, "revoke root without an admin", err, CodeConflict)
	wantAuth(t, "root after refused revocation", svc, a.rootToken, true)

	// Only an active admin counts; other roles do not.
	a.newIdentity(t, "custodian", []access.Binding{role(access.RoleKeyCustodian)})
	adm := a.login(t, "admin-1", []access.Binding{role(access.RoleAdmin)})
	if _, err := svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "admin-1", Status: accPtr(StatusDisabled)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "revoke root with a disabled admin", svc.RevokeToken(a.ctx(), rootAccessor), CodeConflict)
	wantAuth(t, "root still works", svc, a.rootToken, true)
	if _, err := svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "admin-1", Status: accPtr(StatusActive)}); err != nil {
		t.Fatal(err)
	}

	// A crypto-user may not revoke the root token even now.
	usr := a.login(t, "user-1", []access.Binding{role(access.RoleCryptoUser, "key:app-*")})
	ctx := a.as(t, usr, "")
	a.wantDenied(t, "crypto-user revokes root", ctx, svc.RevokeToken(ctx, rootAccessor), access.ReasonNoAllow)

	ctx = a.as(t, adm, "")
	a.wantAllowed(t, "admin revokes root", ctx, svc.RevokeToken(ctx, rootAccessor))
	wantAuth(t, "root after revocation", svc, a.rootToken, false)

	// The admin carries on managing the server.
	ctx = a.as(t, adm, "")
	_, err = svc.CreateIdentity(ctx, CreateIdentityRequest{Name: "after-root", Type: IdentityHuman})
	a.wantAllowed(t, "admin creates identity after root revocation", ctx, err)
}

// TestAccessRevokeRacesAuthenticate checks that a token revoked while an
// Authenticate of it is in flight does not come back through the token
// cache: the in-flight Authenticate has read the token record before the
// revocation, and puts it in the cache after it.
func TestAccessRevokeRacesAuthenticate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := &testEnv{tb: t, dir: dir, dbPath: filepath.Join(dir, "arca.db"), auditPath: filepath.Join(dir, "audit.log")}
	e.store = openStore(t, e.dbPath)
	hs := &accHookStore{Store: e.store}
	e.audit = openAuditFile(t, e.auditPath, false, 0)
	e.svc = newService(t, hs, e.audit, envConfig{})
	e.initAndUnseal(3, 2)
	a := &accEnv{testEnv: e}

	a.newIdentity(t, "racer", []access.Binding{role(access.RoleCryptoUser, "key:app-*")})
	tk := a.issue(t, "racer", 0)
	var revokeErr error
	hs.afterView.Store(accPtr(func() { revokeErr = a.svc.RevokeToken(a.ctx(), tk.Accessor) }))
	_, _ = a.svc.Authenticate(context.Background(), tk.Token) // linearised before the revocation: either answer is fine
	if hs.afterView.Load() != nil {
		t.Fatal("the hook did not run")
	}
	if revokeErr != nil {
		t.Fatalf("RevokeToken: %v", revokeErr)
	}
	id, err := a.svc.Authenticate(context.Background(), tk.Token)
	if CodeOf(err) != CodeUnauthorized {
		t.Fatalf("revoked token authenticates after a racing Authenticate: %+v, %v", id, err)
	}
}

// accHookStore runs a hook once, after the next View transaction ends.
type accHookStore struct {
	storage.Store
	afterView atomic.Pointer[func()]
}

func (s *accHookStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	err := s.Store.View(ctx, fn)
	if h := s.afterView.Swap(nil); h != nil {
		(*h)()
	}
	return err
}

func TestAccessRolesThroughOperations(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc
	for _, k := range []string{"app-1", "app-2", "other-1", "other-2"} {
		a.createKey(k, "")
	}
	otherCT := a.rootEncrypt(t, "other-1")
	other1, err := svc.GetKey(a.ctx(), "other-1")
	if err != nil {
		t.Fatal(err)
	}

	user := a.login(t, "app-user", []access.Binding{role(access.RoleCryptoUser, "key:app-*")})
	custodian := a.login(t, "custodian", []access.Binding{role(access.RoleKeyCustodian)})
	admin := a.login(t, "admin", []access.Binding{role(access.RoleAdmin)})
	auditor := a.login(t, "auditor", []access.Binding{role(access.RoleAuditor)})

	t.Run("crypto-user", func(t *testing.T) {
		ctx, ct, err := a.encryptAs(t, user, "", "app-1", nil)
		a.wantAllowed(t, "encrypt app-1", ctx, err)
		ctx, pt, err := a.decryptAs(t, user, ct)
		a.wantAllowed(t, "decrypt app-1", ctx, err)
		if pt != "hello app-1" {
			t.Errorf("decrypted %q", pt)
		}
		ctx, _, err = a.encryptAs(t, user, "", "other-1", nil)
		a.wantDenied(t, "encrypt other-1", ctx, err, access.ReasonNoAllow)
		if r := a.auditOf(t, ctx); r.Operation != OpEncrypt || r.KeyID != other1.ID {
			t.Errorf("denied encrypt audit: operation=%q key_id=%q, want %q/%q", r.Operation, r.KeyID, OpEncrypt, other1.ID)
		}
		ctx, _, err = a.decryptAs(t, user, otherCT)
		a.wantDenied(t, "decrypt other-1", ctx, err, access.ReasonNoAllow)

		ctx = a.as(t, user, "")
		_, err = svc.GetKey(ctx, "app-2")
		a.wantAllowed(t, "read app-2", ctx, err)
		ctx = a.as(t, user, "")
		_, err = svc.GetKey(ctx, "other-2")
		a.wantDenied(t, "read other-2", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, user, "")
		_, err = svc.ListKeys(ctx, ListKeysRequest{})
		a.wantDenied(t, "list keys", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, user, "")
		_, err = svc.RotateKey(ctx, RotateRequest{Key: "app-1"})
		a.wantDenied(t, "rotate app-1", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, user, "")
		_, err = svc.CreateKey(ctx, CreateKeyRequest{Name: "app-3"})
		a.wantDenied(t, "create app-3", ctx, err, access.ReasonNoAllow)
		// No way to grant itself more.
		ctx = a.as(t, user, "")
		_, err = svc.UpdateIdentity(ctx, UpdateIdentityRequest{Identity: "app-user", Roles: &[]access.Binding{role(access.RoleCryptoUser)}})
		a.wantDenied(t, "widen own scope", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, user, "")
		_, err = svc.CreateToken(ctx, CreateTokenRequest{Identity: "admin"})
		a.wantDenied(t, "token for the admin", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, user, "")
		err = svc.PutAccessPolicy(ctx, access.Policy{Name: "mine", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"*"}}}})
		a.wantDenied(t, "write a policy", ctx, err, access.ReasonNoAllow)
	})

	t.Run("key-custodian", func(t *testing.T) {
		ctx := a.as(t, custodian, "")
		k, err := svc.CreateKey(ctx, CreateKeyRequest{Name: "cust-1"})
		a.wantAllowed(t, "create", ctx, err)
		ctx = a.as(t, custodian, "")
		k2, err := svc.RotateKey(ctx, RotateRequest{Key: "cust-1"})
		a.wantAllowed(t, "rotate", ctx, err)
		if err == nil && (k == nil || k2.PrimaryVersion != 2) {
			t.Errorf("rotated key = %+v", k2)
		}
		ctx = a.as(t, custodian, "")
		_, err = svc.ChangeKeyState(ctx, ChangeStateRequest{Key: "cust-1", Action: "deactivate"})
		a.wantAllowed(t, "deactivate", ctx, err)
		ctx = a.as(t, custodian, "")
		k3, err := svc.ChangeKeyState(ctx, ChangeStateRequest{Key: "cust-1", Action: "schedule-destruction", WaitingDays: 7})
		a.wantAllowed(t, "schedule destruction", ctx, err)
		if err == nil && k3.State != "destroy-scheduled" {
			t.Errorf("state after scheduling destruction = %q", k3.State)
		}
		ctx, _, err = a.decryptAs(t, custodian, otherCT)
		a.wantDenied(t, "decrypt", ctx, err, access.ReasonNoAllow)
		ctx, _, err = a.encryptAs(t, custodian, "", "app-1", nil)
		a.wantDenied(t, "encrypt", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, custodian, "")
		_, err = svc.CreateIdentity(ctx, CreateIdentityRequest{Name: "sneaky", Type: IdentityService})
		a.wantDenied(t, "create identity", ctx, err, access.ReasonNoAllow)
	})

	t.Run("admin", func(t *testing.T) {
		ctx, _, err := a.encryptAs(t, admin, "", "app-1", nil)
		a.wantDenied(t, "encrypt", ctx, err, access.ReasonNoAllow)
		ctx, _, err = a.decryptAs(t, admin, otherCT)
		a.wantDenied(t, "decrypt", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, admin, "")
		_, err = svc.CreateKey(ctx, CreateKeyRequest{Name: "admin-key"})
		a.wantDenied(t, "create key", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, admin, "")
		_, err = svc.CreateIdentity(ctx, CreateIdentityRequest{Name: "by-admin", Type: IdentityHuman, Roles: []access.Binding{role(access.RoleApprover)}})
		a.wantAllowed(t, "create identity", ctx, err)
		ctx = a.as(t, admin, "")
		_, err = svc.CreateToken(ctx, CreateTokenRequest{Identity: "by-admin"})
		a.wantAllowed(t, "create token", ctx, err)
	})

	t.Run("auditor", func(t *testing.T) {
		ctx := a.as(t, auditor, "")
		k, err := svc.GetKey(ctx, "other-1")
		a.wantAllowed(t, "read key", ctx, err)
		if err == nil && k.ID != other1.ID {
			t.Errorf("GetKey = %+v", k)
		}
		ctx = a.as(t, auditor, "")
		_, err = svc.ListVersions(ctx, ListVersionsRequest{Key: "app-1"})
		a.wantAllowed(t, "list versions", ctx, err)
		ctx = a.as(t, auditor, "")
		res, err := svc.ListKeys(ctx, ListKeysRequest{})
		a.wantAllowed(t, "list keys", ctx, err)
		if err == nil && len(res.Keys) < 4 {
			t.Errorf("auditor lists %d keys", len(res.Keys))
		}
		ctx = a.as(t, auditor, "")
		_, err = svc.ListIdentities(ctx)
		a.wantAllowed(t, "list identities", ctx, err)
		ctx, _, err = a.encryptAs(t, auditor, "", "app-1", nil)
		a.wantDenied(t, "encrypt", ctx, err, access.ReasonNoAllow)
		ctx = a.as(t, auditor, "")
		a.wantDenied(t, "delete identity", ctx, svc.DeleteIdentity(ctx, "app-user"), access.ReasonNoAllow)
		wantAuth(t, "identity the auditor failed to delete", svc, user, true)
	})

	t.Run("scoped list", func(t *testing.T) {
		a.putPolicy(t, access.Policy{Name: "app-lister", Statements: []access.Statement{
			{Effect: access.Allow, Actions: []string{string(access.KeyList)}, Resources: []string{"*"}},
			{Effect: access.Allow, Actions: []string{string(access.KeyRead)}, Resources: []string{"key:app-*"}},
		}})
		lister := a.login(t, "lister", nil, "app-lister")
		ctx := a.as(t, lister, "")
		res, err := svc.ListKeys(ctx, ListKeysRequest{})
		a.wantAllowed(t, "list", ctx, err)
		if err != nil {
			return
		}
		var names []string
		for _, k := range res.Keys {
			names = append(names, k.Name)
		}
		if !reflect.DeepEqual(names, []string{"app-1", "app-2"}) || res.NextPageToken != "" {
			t.Errorf("ListKeys = %v (next %q), want [app-1 app-2]", names, res.NextPageToken)
		}
		// Page by page, the filter holds too.
		names = nil
		page := ""
		for i := 0; i < 10; i++ {
			res, err := svc.ListKeys(a.as(t, lister, ""), ListKeysRequest{Limit: 1, PageToken: page})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Keys) > 1 {
				t.Fatalf("page of %d keys with limit 1", len(res.Keys))
			}
			for _, k := range res.Keys {
				names = append(names, k.Name)
			}
			if page = res.NextPageToken; page == "" {
				break
			}
		}
		if !reflect.DeepEqual(names, []string{"app-1", "app-2"}) {
			t.Errorf("paged ListKeys = %v, want [app-1 app-2]", names)
		}
		ctx = a.as(t, lister, "")
		_, err = svc.GetKey(ctx, "other-1")
		a.wantDenied(t, "lister reads other-1", ctx, err, access.ReasonNoAllow)
	})
}

func TestAccessConditions(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc
	a.createKey("app-1", "")
	a.createKey("app-2", "")
	encryptOn := func(name string, c access.Conditions) access.Policy {
		return access.Policy{Name: name, Statements: []access.Statement{
			{Effect: access.Allow, Actions: []string{"key:encrypt"}, Resources: []string{"key:app-*"}, Conditions: c},
		}}
	}

	t.Run("source address", func(t *testing.T) {
		a.putPolicy(t, encryptOn("from-10", access.Conditions{SourceCIDRs: []string{"10.0.0.0/8"}}))
		tk := a.login(t, "net-user", nil, "from-10")
		ctx, _, err := a.encryptAs(t, tk, "10.1.2.3:5000", "app-1", nil)
		a.wantAllowed(t, "from 10.1.2.3", ctx, err)
		ctx, _, err = a.encryptAs(t, tk, "192.168.1.1:1", "app-1", nil)
		a.wantDenied(t, "from 192.168.1.1", ctx, err, access.ReasonSource)
		if r := a.auditOf(t, ctx); r.Source != "192.168.1.1:1" {
			t.Errorf("audit source = %q", r.Source)
		}
		ctx, _, err = a.encryptAs(t, tk, "", "app-1", nil)
		a.wantDenied(t, "unknown source", ctx, err, access.ReasonSource)
		ctx, _, err = a.encryptAs(t, tk, "[::ffff:10.9.9.9]:443", "app-1", nil)
		a.wantAllowed(t, "from IPv4-mapped 10.9.9.9", ctx, err)
	})

	t.Run("time window", func(t *testing.T) {
		a.putPolicy(t, encryptOn("office-hours", access.Conditions{TimeWindow: &access.TimeWindow{
			Start: "09:00", End: "17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}}))
		tk := a.login(t, "day-worker", nil, "office-hours")
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // Thursday
		set := func(d time.Duration) { a.clock.Advance(base.Add(d).Sub(a.clock.Now())) }
		set(8*time.Hour + 59*time.Minute)
		ctx, _, err := a.encryptAs(t, tk, "", "app-1", nil)
		a.wantDenied(t, "Thursday 08:59", ctx, err, access.ReasonTime)
		set(9 * time.Hour)
		ctx, _, err = a.encryptAs(t, tk, "", "app-1", nil)
		a.wantAllowed(t, "Thursday 09:00", ctx, err)
		set(17 * time.Hour)
		ctx, _, err = a.encryptAs(t, tk, "", "app-1", nil)
		a.wantDenied(t, "Thursday 17:00", ctx, err, access.ReasonTime)
		set(2*24*time.Hour + 10*time.Hour)
		ctx, _, err = a.encryptAs(t, tk, "", "app-1", nil)
		a.wantDenied(t, "Saturday 10:00", ctx, err, access.ReasonTime)
		set(4*24*time.Hour + 10*time.Hour)
		ctx, _, err = a.encryptAs(t, tk, "", "app-1", nil)
		a.wantAllowed(t, "Monday 10:00", ctx, err)
	})

	t.Run("encryption context", func(t *testing.T) {
		a.putPolicy(t, encryptOn("needs-tenant", access.Conditions{Context: map[string][]string{"tenant": nil}}))
		a.putPolicy(t, access.Policy{Name: "acme-only", Statements: []access.Statement{
			{Effect: access.Allow, Actions: []string{"key:decrypt"}, Resources: []string{"key:app-*"},
				Conditions: access.Conditions{Context: map[string][]string{"tenant": {"acme"}}}},
		}})
		tk := a.login(t, "tenant-user", nil, "needs-tenant", "acme-only")
		ctx, _, err := a.encryptAs(t, tk, "", "app-1", nil)
		a.wantDenied(t, "encrypt without context", ctx, err, access.ReasonContext)
		ctx, _, err = a.encryptAs(t, tk, "", "app-1", map[string]string{"region": "eu"})
		a.wantDenied(t, "encrypt with another context key", ctx, err, access.ReasonContext)
		ctx, ctAcme, err := a.encryptAs(t, tk, "", "app-1", map[string]string{"tenant": "acme"})
		a.wantAllowed(t, "encrypt with tenant", ctx, err)
		ctx, ctEvil, err := a.encryptAs(t, tk, "", "app-1", map[string]string{"tenant": "evil"})
		a.wantAllowed(t, "encrypt with another tenant", ctx, err)
		decrypt := func(ct string, tenant string) (context.Context, error) {
			ctx := a.as(t, tk, "")
			res, err := svc.Decrypt(ctx, DecryptRequest{Ciphertext: ct, Binding: crypto.Binding{Context: map[string]string{"tenant": tenant}}})
			if err == nil {
				res.Plaintext.Wipe()
			}
			return ctx, err
		}
		if ctAcme != "" {
			ctx, err = decrypt(ctAcme, "acme")
			a.wantAllowed(t, "decrypt tenant acme", ctx, err)
		}
		if ctEvil != "" {
			ctx, err = decrypt(ctEvil, "evil")
			a.wantDenied(t, "decrypt tenant evil", ctx, err, access.ReasonContext)
		}
	})

	t.Run("mfa", func(t *testing.T) {
		a.putPolicy(t, encryptOn("needs-mfa", access.Conditions{MFA: true}))
		tk := a.login(t, "mfa-user", nil, "needs-mfa")
		ctx, _, err := a.encryptAs(t, tk, "10.0.0.1:1", "app-1", nil)
		a.wantDenied(t, "encrypt without mfa", ctx, err, access.ReasonMFA)
	})

	t.Run("explicit deny beats a role", func(t *testing.T) {
		a.putPolicy(t, access.Policy{Name: "no-app-2", Statements: []access.Statement{
			{Effect: access.Deny, Actions: []string{"key:*"}, Resources: []string{"key:app-2"}},
		}})
		a.putPolicy(t, access.Policy{Name: "not-from-home", Statements: []access.Statement{
			{Effect: access.Deny, Actions: []string{"*"}, Conditions: access.Conditions{SourceCIDRs: []string{"192.168.0.0/16"}}},
		}})
		tk := a.login(t, "denied-user", []access.Binding{role(access.RoleCryptoUser, "key:app-*")}, "no-app-2", "not-from-home")
		ctx, _, err := a.encryptAs(t, tk, "10.0.0.1:1", "app-1", nil)
		a.wantAllowed(t, "encrypt app-1", ctx, err)
		ctx, _, err = a.encryptAs(t, tk, "10.0.0.1:1", "app-2", nil)
		a.wantDenied(t, "encrypt app-2", ctx, err, access.ReasonExplicitDeny)
		ctx = a.as(t, tk, "10.0.0.1:1")
		_, err = svc.GetKey(ctx, "app-2")
		a.wantDenied(t, "read app-2", ctx, err, access.ReasonExplicitDeny)
		ctx, _, err = a.encryptAs(t, tk, "192.168.1.1:1", "app-1", nil)
		a.wantDenied(t, "encrypt app-1 from home", ctx, err, access.ReasonExplicitDeny)
	})

	t.Run("root is not subject to conditions", func(t *testing.T) {
		ctx := WithRequest(context.Background(), &Request{ID: nextRequestID(), Interface: "test", Source: "192.168.1.1:1", Identity: a.root})
		_, err := svc.Encrypt(ctx, EncryptRequest{Key: "app-2", Plaintext: []byte("x")})
		a.wantAllowed(t, "root encrypts app-2 from 192.168.1.1", ctx, err)
	})
}

func TestAccessSeparationOfDuties(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc

	for _, roles := range [][]access.Binding{
		{role(access.RoleAdmin), role(access.RoleCryptoUser, "key:app-*")},
		{role(access.RoleCryptoUser, "key:app-*"), role(access.RoleAdmin)},
	} {
		ctx := a.ctx()
		_, err := svc.CreateIdentity(ctx, CreateIdentityRequest{Name: "both", Type: IdentityHuman, Roles: roles})
		wantCode(t, fmt.Sprintf("create with %v", roles), err, CodeSoDViolation)
		if err != nil {
			msg := AsError(err).Message
			if !strings.Contains(msg, "admin") || !strings.Contains(msg, "crypto-user") {
				t.Errorf("SoD message %q does not name both roles", msg)
			}
		}
		if r := a.auditOf(t, ctx); r.Outcome != audit.OutcomeFailed || r.ErrorCode != string(CodeSoDViolation) {
			t.Errorf("SoD audit = %+v", r)
		}
		_, err = svc.GetIdentity(a.ctx(), "both")
		wantCode(t, "refused identity exists?", err, CodeIdentityNotFound)
	}
	for _, roles := range [][]access.Binding{
		{role(access.RoleCryptoUser, "key:team-*"), role(access.RoleKeyCustodian, "key:team-b-*")},
		{role(access.RoleAuditor), role(access.RoleKeyCustodian, "key:x")},
		{role(access.RoleKeyCustodian, "label:team=b"), role(access.RoleCryptoUser, "key:team-a-*")},
	} {
		_, err := svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: "overlap", Type: IdentityHuman, Roles: roles})
		wantCode(t, fmt.Sprintf("create with %v", roles), err, CodeSoDViolation)
	}

	// Disjoint scopes are allowed, and each role applies on its own scope.
	for _, k := range []string{"team-a-1", "team-b-1"} {
		a.createKey(k, "")
	}
	tk := a.login(t, "split", []access.Binding{role(access.RoleCryptoUser, "key:team-a-*"), role(access.RoleKeyCustodian, "key:team-b-*")})
	ctx, _, err := a.encryptAs(t, tk, "", "team-a-1", nil)
	a.wantAllowed(t, "encrypt team-a-1", ctx, err)
	ctx, _, err = a.encryptAs(t, tk, "", "team-b-1", nil)
	a.wantDenied(t, "encrypt team-b-1", ctx, err, access.ReasonNoAllow)
	ctx = a.as(t, tk, "")
	_, err = svc.RotateKey(ctx, RotateRequest{Key: "team-b-1"})
	a.wantAllowed(t, "rotate team-b-1", ctx, err)
	ctx = a.as(t, tk, "")
	_, err = svc.RotateKey(ctx, RotateRequest{Key: "team-a-1"})
	a.wantDenied(t, "rotate team-a-1", ctx, err, access.ReasonNoAllow)

	// Adding a conflicting role is refused and changes nothing.
	before, err := svc.GetIdentity(a.ctx(), "split")
	if err != nil {
		t.Fatal(err)
	}
	raw := func() string {
		var out string
		err := a.store.View(context.Background(), func(tx storage.Tx) error {
			it, err := tx.Get(nsIdentities, before.ID)
			if err == nil {
				out = fmt.Sprintf("%d:%x", it.Revision, it.Value)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	rawBefore := raw()
	a.clock.Advance(time.Minute)
	roles := append(slices.Clone(before.Roles), role(access.RoleKeyCustodian, "key:team-a-1"))
	ctx = a.ctx()
	_, err = svc.UpdateIdentity(ctx, UpdateIdentityRequest{Identity: "split", Roles: &roles, Owner: accPtr("changed")})
	wantCode(t, "add a conflicting role", err, CodeSoDViolation)
	if err != nil && (!strings.Contains(err.Error(), "key-custodian") || !strings.Contains(err.Error(), "crypto-user")) {
		t.Errorf("SoD message %q does not name both roles", err.Error())
	}
	if r := a.auditOf(t, ctx); r.Outcome != audit.OutcomeFailed || r.ErrorCode != string(CodeSoDViolation) {
		t.Errorf("SoD update audit = %+v", r)
	}
	after, err := svc.GetIdentity(a.ctx(), "split")
	if err != nil || !reflect.DeepEqual(before, after) {
		t.Errorf("identity changed by a refused update: %+v -> %+v (%v)", before, after, err)
	}
	if raw() != rawBefore {
		t.Error("stored identity record changed by a refused update")
	}
	ctx = a.as(t, tk, "")
	_, err = svc.RotateKey(ctx, RotateRequest{Key: "team-a-1"})
	a.wantDenied(t, "rotate team-a-1 after refused update", ctx, err, access.ReasonNoAllow)
}

func TestAccessPolicies(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc
	allow := []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"}}}
	many := make([]access.Statement, 101)
	for i := range many {
		many[i] = allow[0]
	}

	bad := []struct {
		what string
		p    access.Policy
		want string // in the message
	}{
		{"no name", access.Policy{Statements: allow}, "name"},
		{"bad name", access.Policy{Name: "a policy", Statements: allow}, "name"},
		{"no statements", access.Policy{Name: "p"}, "no statements"},
		{"bad effect", access.Policy{Name: "p", Statements: []access.Statement{{Effect: "permit", Actions: []string{"key:encrypt"}}}}, "permit"},
		{"no actions", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow}}}, "actions"},
		{"unknown action", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:fly"}}}}, "key:fly"},
		{"bad resource", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"}, Resources: []string{"keys:app"}}}}, "keys:app"},
		{"bad label", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"}, Resources: []string{"label:team"}}}}, "label:team"},
		{"bad cidr", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"},
			Conditions: access.Conditions{SourceCIDRs: []string{"10.0.0.0/33"}}}}}, "10.0.0.0/33"},
		{"bad start", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"},
			Conditions: access.Conditions{TimeWindow: &access.TimeWindow{Start: "25:00", End: "17:00"}}}}}, "time_window.start"},
		{"empty window", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"},
			Conditions: access.Conditions{TimeWindow: &access.TimeWindow{Start: "9:00", End: "09:00"}}}}}, "equal"},
		{"bad day", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"},
			Conditions: access.Conditions{TimeWindow: &access.TimeWindow{Start: "09:00", End: "17:00", Days: []string{"funday"}}}}}}, "funday"},
		{"bad zone", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"},
			Conditions: access.Conditions{TimeWindow: &access.TimeWindow{Start: "09:00", End: "17:00", Location: "Mars/Olympus"}}}}}, "Mars/Olympus"},
		{"empty context key", access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:encrypt"},
			Conditions: access.Conditions{Context: map[string][]string{"": nil}}}}}, "context"},
		{"too many statements", access.Policy{Name: "p", Statements: many}, "100"},
	}
	for _, b := range bad {
		ctx := a.ctx()
		err := svc.PutAccessPolicy(ctx, b.p)
		wantCode(t, b.what, err, CodeInvalidArgument)
		if err != nil && !strings.Contains(AsError(err).Message, b.want) {
			t.Errorf("%s: message %q does not mention %q", b.what, AsError(err).Message, b.want)
		}
		if r := a.auditOf(t, ctx); r.Operation != OpAccessPolicyPut || r.Outcome != audit.OutcomeFailed {
			t.Errorf("%s: audit %+v", b.what, r)
		}
	}
	if ps, err := svc.ListAccessPolicies(a.ctx()); err != nil || len(ps) != 0 {
		t.Fatalf("invalid policies were stored: %+v, %v", ps, err)
	}

	// Attaching an unknown policy.
	_, err := svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: "ghostly", Type: IdentityService, Policies: []string{"ghost"}})
	wantCode(t, "create with unknown policy", err, CodeInvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "ghost") {
		t.Errorf("message %q does not name the policy", err.Error())
	}
	_, err = svc.GetIdentity(a.ctx(), "ghostly")
	wantCode(t, "identity refused for an unknown policy", err, CodeIdentityNotFound)

	// A policy round-trips.
	a.createKey("app-1", "")
	a.createKey("app-2", "")
	p := access.Policy{Name: "enc-app-1", Description: "encrypt with app-1", Statements: []access.Statement{
		{Effect: access.Allow, Actions: []string{"key:encrypt"}, Resources: []string{"key:app-1"},
			Conditions: access.Conditions{SourceCIDRs: []string{"10.0.0.0/8"}, MFAMaxAge: access.Duration(15 * time.Minute)}},
	}}
	a.putPolicy(t, p)
	if got, err := svc.GetAccessPolicy(a.ctx(), "enc-app-1"); err != nil || !reflect.DeepEqual(*got, p) {
		t.Fatalf("GetAccessPolicy = %+v, %v; want %+v", got, err, p)
	}
	p.Statements[0].Conditions = access.Conditions{}
	a.putPolicy(t, p) // replace
	if got, err := svc.GetAccessPolicy(a.ctx(), "enc-app-1"); err != nil || !reflect.DeepEqual(*got, p) {
		t.Fatalf("GetAccessPolicy after replace = %+v, %v; want %+v", got, err, p)
	}
	_, err = svc.GetAccessPolicy(a.ctx(), "nope")
	wantCode(t, "get unknown policy", err, CodeAccessPolicyNotFound)

	tk := a.login(t, "pol-user", nil, "enc-app-1")
	_, err = svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "pol-user", Policies: &[]string{"enc-app-1", "ghost"}})
	wantCode(t, "update with unknown policy", err, CodeInvalidArgument)
	if info, err := svc.GetIdentity(a.ctx(), "pol-user"); err != nil || !reflect.DeepEqual(info.Policies, []string{"enc-app-1"}) {
		t.Fatalf("policies after refused update: %+v, %v", info, err)
	}

	// A change applies to the very next request, with the same token.
	ctx, _, err := a.encryptAs(t, tk, "", "app-1", nil)
	a.wantAllowed(t, "encrypt app-1 before the change", ctx, err)
	ctx, _, err = a.encryptAs(t, tk, "", "app-2", nil)
	a.wantDenied(t, "encrypt app-2 before the change", ctx, err, access.ReasonNoAllow)
	p.Statements[0].Resources = []string{"key:app-2"}
	a.putPolicy(t, p)
	ctx, _, err = a.encryptAs(t, tk, "", "app-1", nil)
	a.wantDenied(t, "encrypt app-1 after the change", ctx, err, access.ReasonNoAllow)
	ctx, _, err = a.encryptAs(t, tk, "", "app-2", nil)
	a.wantAllowed(t, "encrypt app-2 after the change", ctx, err)

	// An attached policy cannot be deleted; detached, it can.
	ctx = a.ctx()
	err = svc.DeleteAccessPolicy(ctx, "enc-app-1")
	wantCode(t, "delete attached policy", err, CodeConflict)
	if err != nil && !strings.Contains(err.Error(), "pol-user") {
		t.Errorf("message %q does not name the identity", err.Error())
	}
	if _, err := svc.GetAccessPolicy(a.ctx(), "enc-app-1"); err != nil {
		t.Fatalf("attached policy gone after refused delete: %v", err)
	}
	if _, err := svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "pol-user", Policies: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	ctx, _, err = a.encryptAs(t, tk, "", "app-2", nil)
	a.wantDenied(t, "encrypt after detaching", ctx, err, access.ReasonNoAllow)
	if err := svc.DeleteAccessPolicy(a.ctx(), "enc-app-1"); err != nil {
		t.Fatalf("delete detached policy: %v", err)
	}
	_, err = svc.GetAccessPolicy(a.ctx(), "enc-app-1")
	wantCode(t, "get deleted policy", err, CodeAccessPolicyNotFound)
	wantCode(t, "delete again", svc.DeleteAccessPolicy(a.ctx(), "enc-app-1"), CodeAccessPolicyNotFound)
}

func TestAccessRootDoesEverything(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	svc := a.svc
	ctx := func() context.Context {
		return WithRequest(context.Background(), &Request{ID: nextRequestID(), Interface: "test", Source: "203.0.113.9:1", Identity: a.root})
	}
	steps := []struct {
		what string
		fn   func(ctx context.Context) error
	}{
		{"put policy", func(c context.Context) error {
			return svc.PutAccessPolicy(c, access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Deny, Actions: []string{"*"}}}})
		}},
		{"list policies", func(c context.Context) error { _, err := svc.ListAccessPolicies(c); return err }},
		{"create identity", func(c context.Context) error {
			_, err := svc.CreateIdentity(c, CreateIdentityRequest{Name: "u", Type: IdentityService, Policies: []string{"p"}})
			return err
		}},
		{"list identities", func(c context.Context) error { _, err := svc.ListIdentities(c); return err }},
		{"create token", func(c context.Context) error {
			_, err := svc.CreateToken(c, CreateTokenRequest{Identity: "u"})
			return err
		}},
		{"create key", func(c context.Context) error { _, err := svc.CreateKey(c, CreateKeyRequest{Name: "k"}); return err }},
		{"get key", func(c context.Context) error { _, err := svc.GetKey(c, "k"); return err }},
		{"list keys", func(c context.Context) error {
			res, err := svc.ListKeys(c, ListKeysRequest{})
			if err == nil && len(res.Keys) != 1 {
				return fmt.Errorf("listed %d keys", len(res.Keys))
			}
			return err
		}},
		{"encrypt and decrypt", func(c context.Context) error {
			res, err := svc.Encrypt(c, EncryptRequest{Key: "k", Plaintext: []byte("x")})
			if err != nil {
				return err
			}
			pt, err := svc.Decrypt(ctx(), DecryptRequest{Ciphertext: res.Ciphertext})
			if err == nil {
				pt.Plaintext.Wipe()
			}
			return err
		}},
		{"rotate", func(c context.Context) error { _, err := svc.RotateKey(c, RotateRequest{Key: "k"}); return err }},
		{"random", func(c context.Context) error { _, err := svc.Random(c, 16); return err }},
		{"deactivate", func(c context.Context) error {
			_, err := svc.ChangeKeyState(c, ChangeStateRequest{Key: "k", Action: "deactivate"})
			return err
		}},
		{"schedule destruction", func(c context.Context) error {
			_, err := svc.ChangeKeyState(c, ChangeStateRequest{Key: "k", Action: "schedule-destruction"})
			return err
		}},
		{"disable identity", func(c context.Context) error {
			_, err := svc.UpdateIdentity(c, UpdateIdentityRequest{Identity: "u", Status: accPtr(StatusDisabled)})
			return err
		}},
		{"delete identity", func(c context.Context) error { return svc.DeleteIdentity(c, "u") }},
		{"delete policy", func(c context.Context) error { return svc.DeleteAccessPolicy(c, "p") }},
	}
	for _, s := range steps {
		c := ctx()
		err := s.fn(c)
		if err != nil {
			t.Errorf("root %s: %v", s.what, err)
			continue
		}
		r := a.auditOf(t, c)
		if r.Outcome != audit.OutcomeAllowed || r.Identity != a.root.ID || r.Credential != a.root.Credential || r.DenyReason != "" {
			t.Errorf("root %s: audit %+v", s.what, r)
		}
	}
}
