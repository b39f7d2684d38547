package kms

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
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
	resolve := func(ctx context.Context, alias string) string {
		t.Helper()
		k, err := a.svc.GetKey(ctx, AliasPrefix+alias)
		if err != nil {
			t.Fatalf("resolve %s: %v", alias, err)
		}
		return k.ID
	}
	if id := resolve(a.ctx(), "current"); id != k1.ID {
		t.Fatalf("alias names %q", id)
	}
	custodian := rootCtx(t, a.svc, a.login(t, "cust", []access.Binding{role(access.RoleKeyCustodian, "key:app-*")}))
	_, err = a.svc.UpdateAlias(custodian, "current", "other-1")
	wantCode(t, "move an alias to a key out of scope", err, CodeForbidden)
	if _, err := a.svc.UpdateAlias(a.ctx(), "current", "other-1"); err != nil {
		t.Fatal(err)
	}
	if id := resolve(a.ctx(), "current"); id != k2.ID {
		t.Fatalf("alias after update names %q", id)
	}
	err = a.svc.DeleteAlias(custodian, "current")
	wantCode(t, "delete an alias of a key out of scope", err, CodeForbidden)
	if _, err := a.svc.CreateAlias(custodian, "app-mine", "app-1"); err != nil {
		t.Fatal(err)
	}
	list, err := a.svc.ListAliases(custodian, "")
	if err != nil || len(list) != 1 || list[0].Name != "app-mine" {
		t.Fatalf("custodian's aliases: %+v, %v", list, err)
	}
	if err := a.svc.DeleteAlias(a.ctx(), "current"); err != nil {
		t.Fatal(err)
	}
	_, err = a.svc.GetKey(a.ctx(), AliasPrefix+"current")
	wantCode(t, "deleted alias", err, CodeKeyNotFound)
}

// TestAliasesCannotCaptureNames: an alias cannot take a key's name (which
// "alias/NAME" would otherwise reach) nor a key an alias's; a custodian
// names aliases only within its own scope; an alias does not reveal the
// name of a key the caller may not use; and an alias moves only between
// keys of one purpose.
func TestAliasesCannotCaptureNames(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	prod := a.createKey("prod-data", "aes-256-gcm")
	a.createKey("team-a-evil", "aes-256-gcm")
	a.createKey("team-a-mac", "hmac-sha256")
	a.newIdentity(t, "app", []access.Binding{role(access.RoleCryptoUser, "key:prod-*")})
	app := rootCtx(t, a.svc, a.issue(t, "app", time.Hour).Token)
	cust := rootCtx(t, a.svc, a.login(t, "cust-a", []access.Binding{role(access.RoleKeyCustodian, "key:team-a-*")}))

	// Before any alias exists, alias/prod-data is the key prod-data.
	res, err := a.svc.Encrypt(app, EncryptRequest{Key: AliasPrefix + "prod-data", Plaintext: []byte("x")})
	if err != nil || res.KeyID != prod.ID {
		t.Fatalf("encrypt under alias/prod-data: %+v, %v", res, err)
	}
	// Neither the team-a custodian nor even the root token can point
	// alias/prod-data elsewhere.
	_, err = a.svc.CreateAlias(cust, "prod-data", "team-a-evil")
	wantCode(t, "custodian takes a key's name as an alias", err, CodeForbidden)
	_, err = a.svc.CreateAlias(a.ctx(), "prod-data", "team-a-evil")
	wantCode(t, "an alias takes a key's name", err, CodeKeyExists)
	_, err = a.svc.CreateAlias(cust, "prod-current", "team-a-evil")
	wantCode(t, "custodian names an alias outside its scope", err, CodeForbidden)
	if res, err := a.svc.Encrypt(app, EncryptRequest{Key: AliasPrefix + "prod-data", Plaintext: []byte("x")}); err != nil || res.KeyID != prod.ID {
		t.Fatalf("alias/prod-data after the refusals: %+v, %v", res, err)
	}

	// A key cannot take an alias's name.
	if _, err := a.svc.CreateAlias(cust, "team-a-current", "team-a-evil"); err != nil {
		t.Fatal(err)
	}
	_, err = a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "team-a-current"})
	wantCode(t, "a key takes an alias's name", err, CodeKeyExists)

	// An identity that may not use the key learns the alias, not the key.
	_, err = a.svc.GetKey(app, AliasPrefix+"team-a-current")
	wantCode(t, "read through an alias out of scope", err, CodeForbidden)
	if strings.Contains(err.Error(), "team-a-evil") || !strings.Contains(err.Error(), "team-a-current") {
		t.Fatalf("the refusal names the key behind the alias: %v", err)
	}
	// An unknown alias and an alias out of scope are refused alike.
	_, err2 := a.svc.GetKey(app, AliasPrefix+"team-a-nothing")
	wantCode(t, "read through an unknown alias", err2, CodeForbidden)

	// Changing or deleting an alias out of scope does not reveal its key.
	for what, err := range map[string]error{
		"delete": a.svc.DeleteAlias(app, "team-a-current"),
		"move":   func() error { _, err := a.svc.UpdateAlias(app, "team-a-current", "prod-data"); return err }(),
		"suspend": func() error {
			_, err := a.svc.ChangeKeyState(app, ChangeStateRequest{Key: AliasPrefix + "team-a-current", Action: "suspend"})
			return err
		}(),
	} {
		wantCode(t, what+" through an alias out of scope", err, CodeForbidden)
		if strings.Contains(err.Error(), "team-a-evil") {
			t.Errorf("%s: the refusal names the key behind the alias: %v", what, err)
		}
	}
	// A batch naming such an alias is refused as a whole, like one naming
	// the key itself.
	_, err = a.svc.BatchEncrypt(app, []EncryptRequest{{Key: "prod-data", Plaintext: []byte("x")}, {Key: AliasPrefix + "team-a-current", Plaintext: []byte("y")}})
	wantCode(t, "batch through an alias out of scope", err, CodeForbidden)

	// Every operation that takes a key reference takes an alias.
	if k, err := a.svc.ChangeKeyState(cust, ChangeStateRequest{Key: AliasPrefix + "team-a-current", Action: "suspend"}); err != nil || k.Name != "team-a-evil" {
		t.Fatalf("suspend through an alias: %+v, %v", k, err)
	}
	if _, err := a.svc.ChangeKeyState(cust, ChangeStateRequest{Key: AliasPrefix + "team-a-current", Action: "resume"}); err != nil {
		t.Fatal(err)
	}
	desc := "updated through an alias"
	if k, err := a.svc.UpdateKeyPolicy(cust, AliasPrefix+"team-a-current", PolicyUpdate{Description: &desc}); err != nil || k.Description != desc {
		t.Fatalf("update through an alias: %+v, %v", k, err)
	}

	// An alias moves only to a key of the same purpose.
	_, err = a.svc.UpdateAlias(cust, "team-a-current", "team-a-mac")
	wantCode(t, "move an encryption alias to a MAC key", err, CodeInvalidArgument)
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
