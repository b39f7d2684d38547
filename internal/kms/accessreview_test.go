package kms

import (
	"testing"

	"github.com/arcakms/arca/internal/access"
)

// TestAccessReviewMatchesEnforcement: the access matrix lists, per identity
// and key, exactly what enforcement allows, marking conditional grants.
func TestAccessReviewMatchesEnforcement(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	for _, k := range []string{"app-1", "db-1"} {
		if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: k}); err != nil {
			t.Fatal(err)
		}
	}
	a.putPolicy(t, access.Policy{Name: "office-hours", Statements: []access.Statement{{
		Effect: access.Allow, Actions: []string{"key:decrypt"}, Resources: []string{"key:db-*"},
		Conditions: access.Conditions{SourceCIDRs: []string{"10.0.0.0/8"}},
	}}})
	a.newIdentity(t, "app", []access.Binding{role(access.RoleCryptoUser, "key:app-*")}, "office-hours")
	a.newIdentity(t, "auditor", []access.Binding{role(access.RoleAuditor)})
	m, err := a.svc.AccessReview(a.ctx())
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]IdentityAccess{}
	for _, r := range m.Identities {
		rows[r.Name] = r
	}
	app := rows["app"]
	if len(app.Keys) != 2 || app.Keys[0].Key != "app-1" || app.Keys[1].Key != "db-1" {
		t.Fatalf("app's keys: %+v", app.Keys)
	}
	if g := app.Keys[0].Actions; g[access.KeyEncrypt] != access.Granted || g[access.KeyDecrypt] != access.Granted || g[access.KeyRotate] != "" {
		t.Fatalf("app on app-1: %v", g)
	}
	if g := app.Keys[1].Actions; len(g) != 1 || g[access.KeyDecrypt] != access.Conditional {
		t.Fatalf("app on db-1: %v", g)
	}
	if app.Server[access.RandomGenerate] != access.Granted || app.Server[access.IdentityCreate] != "" {
		t.Fatalf("app on the server: %v", app.Server)
	}
	aud := rows["auditor"]
	if aud.Server[access.AuditRead] != access.Granted || len(aud.Keys) != 2 || aud.Keys[0].Actions[access.KeyDecrypt] != "" {
		t.Fatalf("auditor: %+v", aud)
	}
	// Only report:read may see it.
	ctx := a.as(t, a.issue(t, "app", 0).Token, "")
	_, err = a.svc.AccessReview(ctx)
	a.wantDenied(t, "crypto-user reads the access matrix", ctx, err, access.ReasonNoAllow)
}
