package kms

import (
	"testing"

	"github.com/arcakms/arca/internal/access"
)

// TestTheLastAdministratorCannotLockTheServerOut: once the root token is
// revoked, no change may leave the server without an active admin that has
// a token: not disabling it, not removing its role, not deleting it, not
// revoking its last token.
func TestTheLastAdministratorCannotLockTheServerOut(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	adm := a.login(t, "admin-1", []access.Binding{role(access.RoleAdmin)})
	ctx := a.as(t, adm, "")
	a.wantAllowed(t, "admin revokes root", ctx, a.svc.RevokeToken(ctx, a.root.Credential))

	ctx = a.as(t, adm, "")
	_, err := a.svc.UpdateIdentity(ctx, UpdateIdentityRequest{Identity: "admin-1", Status: accPtr(StatusDisabled)})
	wantCode(t, "disable the last admin", err, CodeConflict)
	ctx = a.as(t, adm, "")
	_, err = a.svc.UpdateIdentity(ctx, UpdateIdentityRequest{Identity: "admin-1", Roles: &[]access.Binding{role(access.RoleAuditor)}})
	wantCode(t, "drop the last admin's role", err, CodeConflict)
	ctx = a.as(t, adm, "")
	wantCode(t, "delete the last admin", a.svc.DeleteIdentity(ctx, "admin-1"), CodeConflict)
	ctx = a.as(t, adm, "")
	wantCode(t, "revoke the last admin token", a.svc.RevokeToken(ctx, ctx.Value(requestKey{}).(*Request).Identity.Credential), CodeConflict)
	wantAuth(t, "the admin still works", a.svc, adm, true)

	// With a second admin holding a token, the first may go.
	ctx = a.as(t, adm, "")
	if _, err := a.svc.CreateIdentity(ctx, CreateIdentityRequest{Name: "admin-2", Type: IdentityHuman, Roles: []access.Binding{role(access.RoleAdmin)}}); err != nil {
		t.Fatal(err)
	}
	ctx = a.as(t, adm, "")
	if _, err := a.svc.CreateToken(ctx, CreateTokenRequest{Identity: "admin-2"}); err != nil {
		t.Fatal(err)
	}
	ctx = a.as(t, adm, "")
	if err := a.svc.DeleteIdentity(ctx, "admin-1"); err != nil {
		t.Fatalf("delete one of two admins: %v", err)
	}
	wantAuth(t, "the deleted admin's token", a.svc, adm, false)
}
