package kms

import (
	"context"
	"crypto/subtle"
	"errors"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
)

// TestAccessKeys: an access key authenticates its identity only when the
// caller's check accepts the secret; unknown keys, deleted keys, disabled
// identities and failed checks are unauthorized; deleting the identity
// deletes its keys; the secret is shown once and sealed at rest.
func TestAccessKeys(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	a.newIdentity(t, "app", []access.Binding{role(access.RoleCryptoUser)})
	k, err := a.svc.CreateAccessKey(a.ctx(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if !validAccessKeyID(k.ID) || len(k.Secret) != 40 {
		t.Fatalf("access key %q with a %d-character secret", k.ID, len(k.Secret))
	}
	check := func(want string) func([]byte) error {
		return func(sec []byte) error {
			if subtle.ConstantTimeCompare(sec, []byte(want)) != 1 {
				return errors.New("signature mismatch")
			}
			return nil
		}
	}
	ctx := requestCtx(nil)
	id, err := a.svc.AuthenticateAccessKey(ctx, k.ID, check(k.Secret))
	if err != nil || id.IdentityName != "app" || id.Method != "access-key" {
		t.Fatalf("authenticate: %+v, %v", id, err)
	}
	_, err = a.svc.AuthenticateAccessKey(ctx, k.ID, check("wrong"))
	wantCode(t, "wrong secret", err, CodeUnauthorized)
	_, err = a.svc.AuthenticateAccessKey(ctx, "ARCAAAAAAAAAAAAAAAAA", check(k.Secret))
	if CodeOf(err) != CodeUnauthorized || !errors.Is(err, ErrUnknownAccessKey) {
		t.Fatalf("unknown key: %v", err)
	}
	keys, err := a.svc.ListAccessKeys(a.ctx(), "app")
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
		t.Fatalf("list: %+v, %v", keys, err)
	}
	// A crypto user may not issue access keys.
	app := a.issue(t, "app", time.Hour)
	_, err = a.svc.CreateAccessKey(rootCtx(t, a.svc, app.Token), "app")
	wantCode(t, "access key issued by a crypto user", err, CodeForbidden)

	if err := a.svc.DeleteAccessKey(a.ctx(), k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = a.svc.AuthenticateAccessKey(ctx, k.ID, check(k.Secret))
	wantCode(t, "deleted key", err, CodeUnauthorized)

	k2, err := a.svc.CreateAccessKey(a.ctx(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.svc.DeleteIdentity(a.ctx(), "app"); err != nil {
		t.Fatal(err)
	}
	if keys, err := a.svc.ListAccessKeys(a.ctx(), ""); err != nil || len(keys) != 0 {
		t.Fatalf("keys after the identity was deleted: %+v, %v", keys, err)
	}
	_, err = a.svc.AuthenticateAccessKey(context.Background(), k2.ID, check(k2.Secret))
	wantCode(t, "key of a deleted identity", err, CodeUnauthorized)
}

// TestAliases: an alias resolves to its key, moves with UpdateAlias, is
// listed for readers of its key, and needs key:update on the keys it names.
func TestAliases(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	k1, k2 := a.createKey("app-1", "aes-256-gcm"), a.createKey("other-1", "aes-256-gcm")
	if _, err := a.svc.CreateAlias(a.ctx(), "current", "app-1"); err != nil {
		t.Fatal(err)
	}
	_, err := a.svc.CreateAlias(a.ctx(), "current", "app-1")
	wantCode(t, "duplicate alias", err, CodeKeyExists)
	if id, err := a.svc.ResolveAlias(a.ctx(), "current"); err != nil || id != k1.ID {
		t.Fatalf("resolve: %q, %v", id, err)
	}
	custodian := rootCtx(t, a.svc, a.login(t, "cust", []access.Binding{role(access.RoleKeyCustodian, "key:app-*")}))
	_, err = a.svc.UpdateAlias(custodian, "current", "other-1")
	wantCode(t, "move an alias to a key out of scope", err, CodeForbidden)
	if _, err := a.svc.UpdateAlias(a.ctx(), "current", "other-1"); err != nil {
		t.Fatal(err)
	}
	if id, _ := a.svc.ResolveAlias(a.ctx(), "current"); id != k2.ID {
		t.Fatalf("alias after update names %q", id)
	}
	err = a.svc.DeleteAlias(custodian, "current")
	wantCode(t, "delete an alias of a key out of scope", err, CodeForbidden)
	if _, err := a.svc.CreateAlias(custodian, "mine", "app-1"); err != nil {
		t.Fatal(err)
	}
	list, err := a.svc.ListAliases(custodian, "")
	if err != nil || len(list) != 1 || list[0].Name != "mine" {
		t.Fatalf("custodian's aliases: %+v, %v", list, err)
	}
	if err := a.svc.DeleteAlias(a.ctx(), "current"); err != nil {
		t.Fatal(err)
	}
	_, err = a.svc.ResolveAlias(a.ctx(), "current")
	wantCode(t, "deleted alias", err, CodeKeyNotFound)
}

// TestLabelUpdates: label changes apply to the labels as stored (other
// labels are kept), and need key:update under the new labels too, so a
// custodian of one team's keys cannot relabel a key out of, or into,
// another team.
func TestLabelUpdates(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "db", Labels: map[string]string{"team": "a", "env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	k, err := a.svc.UpdateKeyPolicy(a.ctx(), "db", PolicyUpdate{SetLabels: map[string]string{"tier": "1"}, DeleteLabels: []string{"env"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Labels) != 2 || k.Labels["team"] != "a" || k.Labels["tier"] != "1" {
		t.Fatalf("labels after the update: %v", k.Labels)
	}
	cust := rootCtx(t, a.svc, a.login(t, "cust-a", []access.Binding{role(access.RoleKeyCustodian, "label:team=a")}))
	_, err = a.svc.UpdateKeyPolicy(cust, "db", PolicyUpdate{SetLabels: map[string]string{"team": "b"}})
	wantCode(t, "relabel a key out of the custodian's scope", err, CodeForbidden)
	if _, err := a.svc.UpdateKeyPolicy(cust, "db", PolicyUpdate{SetLabels: map[string]string{"tier": "2"}}); err != nil {
		t.Fatal(err)
	}
}
