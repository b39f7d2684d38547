package kms

import (
	"os"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
)

// TestContextValuesAreAuditedOnlyAsHMACs: an encryption context value never
// appears in the audit log, only its HMAC under the audit key; an auditor
// holding the value finds exactly the requests that used it.
func TestContextValuesAreAuditedOnlyAsHMACs(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"tenant-acme-7731", "tenant-acme-7731", "tenant-other-0042"} {
		if _, err := a.svc.Encrypt(a.ctx(), EncryptRequest{Key: "k", Plaintext: []byte("x"), Binding: crypto.Binding{Context: map[string]string{"tenant": tenant}}}); err != nil {
			t.Fatal(err)
		}
	}
	auditor := a.login(t, "aud", []access.Binding{role(access.RoleAuditor)})
	acme, err := a.svc.AuditHMAC(a.as(t, auditor, ""), "tenant-acme-7731")
	if err != nil || len(acme) != 64 {
		t.Fatalf("AuditHMAC: %q %v", acme, err)
	}
	never, err := a.svc.AuditHMAC(a.as(t, auditor, ""), "tenant-never-used")
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(a.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"tenant-acme-7731", "tenant-other-0042", "tenant-never-used"} {
		if strings.Contains(string(log), v) {
			t.Fatalf("the audit log holds the context value %q", v)
		}
	}
	if n := strings.Count(string(log), `"tenant":"`+acme+`"`); n != 2 {
		t.Fatalf("the acme HMAC is in %d records, want 2", n)
	}
	if strings.Contains(string(log), never) {
		t.Fatal("an unused value's HMAC is in the log")
	}
	ctx := a.as(t, a.login(t, "app", []access.Binding{role(access.RoleCryptoUser)}), "")
	_, err = a.svc.AuditHMAC(ctx, "tenant-acme-7731")
	a.wantDenied(t, "crypto-user asks for an audit HMAC", ctx, err, access.ReasonNoAllow)
}
