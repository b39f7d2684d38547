package kms

import (
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/lifecycle"
)

// TestKeyNamesOutsideAGrantDoNotLeak: for a caller without a grant on a
// name, a missing key and an existing one answer alike (forbidden); within
// the grant a missing key is key_not_found.
func TestKeyNamesOutsideAGrantDoNotLeak(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "payroll"}); err != nil {
		t.Fatal(err)
	}
	tok := a.login(t, "app", []access.Binding{role(access.RoleCryptoUser, "key:app-*")})
	for _, name := range []string{"payroll", "no-such-key", "00000000-0000-4000-8000-000000000000"} {
		_, err := a.svc.Encrypt(a.as(t, tok, ""), EncryptRequest{Key: name, Plaintext: []byte("x")})
		wantCode(t, "encrypt "+name, err, CodeForbidden)
		_, err = a.svc.GetKey(a.as(t, tok, ""), name)
		wantCode(t, "get "+name, err, CodeForbidden)
		_, err = a.svc.Sign(a.as(t, tok, ""), SignRequest{Key: name, Message: []byte("x")})
		wantCode(t, "sign "+name, err, CodeForbidden)
		_, err = a.svc.ChangeKeyState(a.as(t, tok, ""), ChangeStateRequest{Key: name, Action: string(lifecycle.Suspend)})
		wantCode(t, "suspend "+name, err, CodeForbidden)
		_, err = a.svc.UpdateKeyPolicy(a.as(t, tok, ""), name, PolicyUpdate{})
		wantCode(t, "update "+name, err, CodeForbidden)
	}
	_, err := a.svc.Encrypt(a.as(t, tok, ""), EncryptRequest{Key: "app-missing", Plaintext: []byte("x")})
	wantCode(t, "encrypt a missing key inside the grant", err, CodeKeyNotFound)
	_, err = a.svc.GetKey(a.ctx(), "no-such-key")
	wantCode(t, "root asks for a missing key", err, CodeKeyNotFound)
}
