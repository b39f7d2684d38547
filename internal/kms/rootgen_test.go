package kms

import (
	"testing"

	"github.com/arcakms/arca/internal/access"
)

// TestBreakGlassRootGeneration: after the root token is revoked and the
// last administrator is gone, a quorum of unseal shares creates a new root
// token; fewer shares do not, shares of another server reset the progress,
// and the new token is root.
func TestBreakGlassRootGeneration(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t) // 3 shares, threshold 2
	adm := a.login(t, "admin", []access.Binding{role(access.RoleAdmin)})
	ctx := a.as(t, adm, "")
	if err := a.svc.RevokeToken(ctx, a.root.Credential); err != nil {
		t.Fatal(err)
	}
	wantAuth(t, "revoked root", a.svc, a.rootToken, false)

	res, err := a.svc.GenerateRoot(anonCtx(), a.shares[0])
	if err != nil || res.Token != "" || res.Progress != 1 || res.Threshold != 2 {
		t.Fatalf("first share: %+v %v", res, err)
	}
	// A share twice, or a share of another server, resets the progress.
	other := newTestEnv(t, envConfig{})
	other.initAndUnseal(3, 2)
	_, err = a.svc.GenerateRoot(anonCtx(), other.shares[1])
	wantCode(t, "share of another server", err, CodeInvalidShare)
	if res, _ := a.svc.GenerateRoot(anonCtx(), a.shares[1]); res == nil || res.Token != "" {
		t.Fatalf("progress was not reset: %+v", res)
	}
	res, err = a.svc.GenerateRoot(anonCtx(), a.shares[2])
	if err != nil || res.Token == "" {
		t.Fatalf("quorum reached: %+v %v", res, err)
	}
	id := wantAuth(t, "new root token", a.svc, res.Token, true)
	if !id.Root {
		t.Fatalf("the generated token is not root: %+v", id)
	}
	// Cancel discards a partial generation.
	if _, err := a.svc.GenerateRoot(anonCtx(), a.shares[0]); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.CancelGenerateRoot(anonCtx()); err != nil {
		t.Fatal(err)
	}
	if res, _ := a.svc.GenerateRoot(anonCtx(), a.shares[1]); res == nil || res.Token != "" || res.Progress != 1 {
		t.Fatalf("after cancel: %+v", res)
	}
}
