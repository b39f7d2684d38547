package kms

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
)

// newDualEnv is an accEnv whose service puts destruction, export,
// compromised decryption, policy writes and grants under dual control:
// two approvers, one hour.
func newDualEnv(t *testing.T) *accEnv {
	t.Helper()
	clock := &lcClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rule := ApprovalRule{Approvers: 2, TTL: time.Hour}
	e := newTestEnv(t, envConfig{now: clock.Now, approvals: map[access.Action]ApprovalRule{
		access.KeyDestroy: rule, access.KeyExport: rule, access.KeyDecryptCompromised: rule,
	}})
	e.initAndUnseal(3, 2)
	return &accEnv{testEnv: e, clock: clock}
}

// withApproval returns ctx's request carrying an approval id.
func withApproval(ctx context.Context, id string) context.Context {
	r := *RequestFrom(ctx)
	r.ID, r.ApprovalID = nextRequestID(), id
	return WithRequest(context.Background(), &r)
}

// TestDestructionWaitsForTwoApprovers: a custodian's destruction request
// is recorded as pending and refused; the custodian cannot approve it; it
// executes only once two other approvers approved, once; an expired
// approval never executes; a cancelled one neither.
func TestDestructionWaitsForTwoApprovers(t *testing.T) {
	t.Parallel()
	a := newDualEnv(t)
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "old-key"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.ChangeKeyState(a.ctx(), ChangeStateRequest{Key: "old-key", Action: string(lifecycle.Deactivate)}); err != nil {
		t.Fatal(err)
	}
	custodian := a.login(t, "carol", []access.Binding{role(access.RoleKeyCustodian), role(access.RoleApprover)})
	ann := a.login(t, "ann", []access.Binding{role(access.RoleApprover)})
	bob := a.login(t, "bob", []access.Binding{role(access.RoleApprover)})
	destroy := ChangeStateRequest{Key: "old-key", Action: string(lifecycle.ScheduleDestruction), WaitingDays: 7}

	ctx := a.as(t, custodian, "")
	_, err := a.svc.ChangeKeyState(ctx, destroy)
	e := AsError(err)
	if e.Code != CodeApprovalRequired || e.ApprovalID == "" {
		t.Fatalf("destroy without approval: %v", err)
	}
	id := e.ApprovalID
	if rec := a.auditOf(t, ctx); rec.ErrorCode != string(CodeApprovalRequired) || rec.Resource != id {
		t.Fatalf("audit of the pending request: %+v", rec)
	}
	if k, _ := a.svc.GetKey(a.ctx(), "old-key"); k.State != lifecycle.Deactivated {
		t.Fatalf("key state %s before approval", k.State)
	}

	// The requester cannot approve their own request, nor execute it yet.
	ctx = a.as(t, custodian, "")
	_, err = a.svc.GrantApproval(ctx, id)
	wantCode(t, "requester approves", err, CodeForbidden)
	_, err = a.svc.ChangeKeyState(withApproval(a.as(t, custodian, ""), id), destroy)
	wantCode(t, "execute a pending approval", err, CodeApprovalNotUsable)

	// One approval is not enough; the same approver twice counts once.
	if ap, err := a.svc.GrantApproval(a.as(t, ann, ""), id); err != nil || ap.Status != ApprovalPending || len(ap.Approvals) != 1 {
		t.Fatalf("first approval: %+v %v", ap, err)
	}
	_, err = a.svc.GrantApproval(a.as(t, ann, ""), id)
	wantCode(t, "second approval by the same approver", err, CodeConflict)
	_, err = a.svc.ChangeKeyState(withApproval(a.as(t, custodian, ""), id), destroy)
	wantCode(t, "execute with one approval", err, CodeApprovalNotUsable)

	ap, err := a.svc.GrantApproval(a.as(t, bob, ""), id)
	if err != nil || ap.Status != ApprovalApproved {
		t.Fatalf("second approval: %+v %v", ap, err)
	}
	// Everyone allowed to read approvals sees who approved.
	seen, err := a.svc.GetApproval(a.as(t, ann, ""), id)
	if err != nil || len(seen.Approvals) != 2 || seen.Approvals[0].ByName != "ann" || seen.Approvals[1].ByName != "bob" || seen.RequestedByName != "carol" {
		t.Fatalf("approval as seen: %+v %v", seen, err)
	}

	// Another request, or another requester, cannot use the approval.
	other := destroy
	other.WaitingDays = 1
	_, err = a.svc.ChangeKeyState(withApproval(a.as(t, custodian, ""), id), other)
	wantCode(t, "approval used for another request", err, CodeApprovalNotUsable)
	_, err = a.svc.ChangeKeyState(withApproval(a.ctx(), id), destroy)
	wantCode(t, "approval used by another identity", err, CodeApprovalNotUsable)

	// The requester executes it, once.
	k, err := a.svc.ChangeKeyState(withApproval(a.as(t, custodian, ""), id), destroy)
	if err != nil || k.State != lifecycle.DestroyScheduled {
		t.Fatalf("approved destruction: %+v %v", k, err)
	}
	if _, err := a.svc.ChangeKeyState(a.ctx(), ChangeStateRequest{Key: "old-key", Action: string(lifecycle.CancelDestruction)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.svc.ChangeKeyState(withApproval(a.as(t, custodian, ""), id), destroy)
	wantCode(t, "approval replayed", err, CodeApprovalNotUsable)

	// An approval that expires, even approved, never executes.
	_, err = a.svc.ChangeKeyState(a.as(t, custodian, ""), destroy)
	id2 := AsError(err).ApprovalID
	for _, tok := range []string{ann, bob} {
		if _, err := a.svc.GrantApproval(a.as(t, tok, ""), id2); err != nil {
			t.Fatal(err)
		}
	}
	a.clock.Advance(time.Hour)
	_, err = a.svc.ChangeKeyState(withApproval(a.as(t, custodian, ""), id2), destroy)
	wantCode(t, "expired approval", err, CodeApprovalNotUsable)
	if ap, _ := a.svc.GetApproval(a.ctx(), id2); ap.Status != ApprovalExpired {
		t.Fatalf("status after expiry: %s", ap.Status)
	}
	// A pending request that expires cannot be approved.
	_, err = a.svc.ChangeKeyState(a.as(t, custodian, ""), destroy)
	id3 := AsError(err).ApprovalID
	a.clock.Advance(time.Hour)
	_, err = a.svc.GrantApproval(a.as(t, ann, ""), id3)
	wantCode(t, "approve an expired request", err, CodeApprovalNotUsable)

	// The requester may cancel; a cancelled request neither approves nor executes.
	_, err = a.svc.ChangeKeyState(a.as(t, custodian, ""), destroy)
	id4 := AsError(err).ApprovalID
	if ap, err := a.svc.CancelApproval(a.as(t, custodian, ""), id4); err != nil || ap.Status != ApprovalCancelled {
		t.Fatalf("cancel: %+v %v", ap, err)
	}
	_, err = a.svc.GrantApproval(a.as(t, ann, ""), id4)
	wantCode(t, "approve a cancelled request", err, CodeApprovalNotUsable)
	if k, _ := a.svc.GetKey(a.ctx(), "old-key"); k.State != lifecycle.Deactivated {
		t.Fatalf("key state %s: an unapproved destruction executed", k.State)
	}
	pending, err := a.svc.ListApprovals(a.ctx(), true)
	if err != nil || len(pending) != 0 {
		t.Fatalf("pending approvals: %+v %v", pending, err)
	}
}

// TestExportAndCompromisedDecryptNeedApprovals: the other gated actions.
func TestExportAndCompromisedDecryptNeedApprovals(t *testing.T) {
	t.Parallel()
	a := newDualEnv(t)
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "x", Exportable: true}); err != nil {
		t.Fatal(err)
	}
	ann := a.login(t, "ann", []access.Binding{role(access.RoleApprover)})
	bob := a.login(t, "bob", []access.Binding{role(access.RoleApprover)})
	approve := func(id string) {
		t.Helper()
		for _, tok := range []string{ann, bob} {
			if _, err := a.svc.GrantApproval(a.as(t, tok, ""), id); err != nil {
				t.Fatal(err)
			}
		}
	}
	pub := wrappingKeys()["ml-kem-768-hpke"].pub
	req := ExportRequest{Key: "x", Scheme: "ml-kem-768-hpke", WrappingKey: pub}
	_, err := a.svc.ExportKey(a.ctx(), req)
	id := AsError(err).ApprovalID
	wantCode(t, "export without approval", err, CodeApprovalRequired)
	approve(id)
	if _, err := a.svc.ExportKey(withApproval(a.ctx(), id), req); err != nil {
		t.Fatalf("approved export: %v", err)
	}

	ct, err := a.svc.Encrypt(a.ctx(), EncryptRequest{Key: "x", Plaintext: []byte("s"), Binding: crypto.Binding{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.RotateKey(a.ctx(), RotateRequest{Key: "x", CompromiseVersions: []uint32{1}}); err != nil {
		t.Fatal(err)
	}
	dreq := DecryptRequest{Ciphertext: ct.Ciphertext, AllowCompromised: true}
	_, err = a.svc.Decrypt(a.ctx(), dreq)
	id = AsError(err).ApprovalID
	wantCode(t, "compromised decrypt without approval", err, CodeApprovalRequired)
	approve(id)
	if res, err := a.svc.Decrypt(withApproval(a.ctx(), id), dreq); err != nil || string(res.Plaintext.Reveal()) != "s" {
		t.Fatalf("approved compromised decrypt: %v", err)
	}
	// Decrypting with a healthy version needs no approval.
	ct2, _ := a.svc.Encrypt(a.ctx(), EncryptRequest{Key: "x", Plaintext: []byte("t")})
	if _, err := a.svc.Decrypt(a.ctx(), DecryptRequest{Ciphertext: ct2.Ciphertext}); err != nil {
		t.Fatal(err)
	}
}

func TestApprovalRulesAreValidated(t *testing.T) {
	t.Parallel()
	for _, rules := range []map[access.Action]ApprovalRule{
		{access.KeyEncrypt: {Approvers: 2, TTL: time.Hour}},
		{access.KeyDestroy: {Approvers: 0, TTL: time.Hour}},
		{access.KeyDestroy: {Approvers: 2, TTL: time.Second}},
	} {
		if err := ValidateApprovalRules(rules); err == nil {
			t.Errorf("rules %v accepted", rules)
		}
	}
}

// TestGrantsAndPolicyWritesNeedApprovals: changes of roles and policies
// under dual control.
func TestGrantsAndPolicyWritesNeedApprovals(t *testing.T) {
	t.Parallel()
	clock := &lcClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rule := ApprovalRule{Approvers: 1, TTL: time.Hour}
	e := newTestEnv(t, envConfig{now: clock.Now})
	e.initAndUnseal(3, 2)
	a := &accEnv{testEnv: e, clock: clock}
	ann := a.login(t, "ann", []access.Binding{role(access.RoleApprover)})
	e.svc.approvals = map[access.Action]ApprovalRule{access.PolicyWrite: rule, access.IdentityUpdate: rule}

	// An identity without grants needs no approval; granting a role does.
	if _, err := a.svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: "plain", Type: IdentityService}); err != nil {
		t.Fatal(err)
	}
	grant := CreateIdentityRequest{Name: "power", Type: IdentityHuman, Roles: []access.Binding{role(access.RoleKeyCustodian)}}
	_, err := a.svc.CreateIdentity(a.ctx(), grant)
	wantCode(t, "grant without approval", err, CodeApprovalRequired)
	id := AsError(err).ApprovalID
	if _, err := a.svc.GrantApproval(a.as(t, ann, ""), id); err != nil {
		t.Fatal(err)
	}
	other := grant
	other.Roles = []access.Binding{role(access.RoleAdmin)}
	_, err = a.svc.CreateIdentity(withApproval(a.ctx(), id), other)
	wantCode(t, "approval for another grant", err, CodeApprovalNotUsable)
	if _, err := a.svc.CreateIdentity(withApproval(a.ctx(), id), grant); err != nil {
		t.Fatalf("approved grant: %v", err)
	}

	p := access.Policy{Name: "p1", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:read"}}}}
	err = a.svc.PutAccessPolicy(a.ctx(), p)
	wantCode(t, "policy write without approval", err, CodeApprovalRequired)
	id = AsError(err).ApprovalID
	if _, err := a.svc.GrantApproval(a.as(t, ann, ""), id); err != nil {
		t.Fatal(err)
	}
	changed := p
	changed.Statements = []access.Statement{{Effect: access.Allow, Actions: []string{"*"}}}
	wantCode(t, "approval for another policy", a.svc.PutAccessPolicy(withApproval(a.ctx(), id), changed), CodeApprovalNotUsable)
	if err := a.svc.PutAccessPolicy(withApproval(a.ctx(), id), p); err != nil {
		t.Fatalf("approved policy write: %v", err)
	}
}

// TestApprovalsBindTheWholeRequest: token issuance under dual control; an
// approval of a roles change does not cover unbinding certificates; an
// approval for a rewrap of compromised material does not decrypt; a TOTP
// reset is a credential change under identity:update.
func TestApprovalsBindTheWholeRequest(t *testing.T) {
	t.Parallel()
	clock := &lcClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newTestEnv(t, envConfig{now: clock.Now})
	e.initAndUnseal(3, 2)
	a := &accEnv{testEnv: e, clock: clock}
	ann := a.login(t, "ann", []access.Binding{role(access.RoleApprover)})
	fp := "aa" + strings.Repeat("0", 62)
	if _, err := a.svc.CreateIdentity(a.ctx(), CreateIdentityRequest{Name: "svc", Type: IdentityService, Certificates: []string{fp}}); err != nil {
		t.Fatal(err)
	}
	rule := ApprovalRule{Approvers: 1, TTL: time.Hour}
	e.svc.approvals = map[access.Action]ApprovalRule{access.TokenCreate: rule, access.IdentityUpdate: rule, access.KeyDecryptCompromised: rule}
	approve := func(err error) string {
		t.Helper()
		id := AsError(err).ApprovalID
		if id == "" {
			t.Fatalf("no approval requested: %v", err)
		}
		if _, err := a.svc.GrantApproval(a.as(t, ann, ""), id); err != nil {
			t.Fatal(err)
		}
		return id
	}

	// Tokens.
	_, err := a.svc.CreateToken(a.ctx(), CreateTokenRequest{Identity: "svc", Name: "host-1"})
	id := approve(err)
	_, err = a.svc.CreateToken(withApproval(a.ctx(), id), CreateTokenRequest{Identity: "svc", Name: "host-2"})
	wantCode(t, "token with another name", err, CodeApprovalNotUsable)
	if _, err := a.svc.CreateToken(withApproval(a.ctx(), id), CreateTokenRequest{Identity: "svc", Name: "host-1"}); err != nil {
		t.Fatalf("approved token: %v", err)
	}

	// A roles change's approval does not unbind certificates.
	roles := []access.Binding{role(access.RoleCryptoUser)}
	_, err = a.svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "svc", Roles: &roles})
	id = approve(err)
	_, err = a.svc.UpdateIdentity(withApproval(a.ctx(), id), UpdateIdentityRequest{Identity: "svc", Roles: &roles, Certificates: &[]string{}})
	wantCode(t, "roles approval used to unbind certificates", err, CodeApprovalNotUsable)
	info, err := a.svc.UpdateIdentity(withApproval(a.ctx(), id), UpdateIdentityRequest{Identity: "svc", Roles: &roles})
	if err != nil || len(info.Certificates) != 1 || len(info.Roles) != 1 {
		t.Fatalf("approved roles change: %+v %v", info, err)
	}

	// A rewrap's approval does not decrypt.
	if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	ct, err := a.svc.Encrypt(a.ctx(), EncryptRequest{Key: "k", Plaintext: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.RotateKey(a.ctx(), RotateRequest{Key: "k", CompromiseVersions: []uint32{1}}); err != nil {
		t.Fatal(err)
	}
	req := DecryptRequest{Key: "k", Ciphertext: ct.Ciphertext, AllowCompromised: true}
	_, err = a.svc.Rewrap(a.ctx(), req)
	id = approve(err)
	_, err = a.svc.Decrypt(withApproval(a.ctx(), id), req)
	wantCode(t, "rewrap approval used to decrypt", err, CodeApprovalNotUsable)
	if _, err := a.svc.Rewrap(withApproval(a.ctx(), id), req); err != nil {
		t.Fatalf("approved rewrap: %v", err)
	}

	// TOTP reset: unknown identity, then under dual control.
	e.svc.approvals = nil
	wantCode(t, "reset of an unknown identity", a.svc.ResetTOTP(a.ctx(), "nobody"), CodeIdentityNotFound)
	e.svc.approvals = map[access.Action]ApprovalRule{access.IdentityUpdate: rule}
	wantCode(t, "reset without approval", a.svc.ResetTOTP(a.ctx(), "svc"), CodeApprovalRequired)
}

// TestAFailedOperationDoesNotSpendItsApproval: the approval is spent in the
// transaction of the change it approves, so an approved request that fails
// (here: deleting a policy still attached) keeps its approval for a retry.
func TestAFailedOperationDoesNotSpendItsApproval(t *testing.T) {
	t.Parallel()
	clock := &lcClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newTestEnv(t, envConfig{now: clock.Now})
	e.initAndUnseal(3, 2)
	a := &accEnv{testEnv: e, clock: clock}
	ann := a.login(t, "ann", []access.Binding{role(access.RoleApprover)})
	a.putPolicy(t, access.Policy{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"key:read"}}}})
	a.newIdentity(t, "user", nil, "p")
	e.svc.approvals = map[access.Action]ApprovalRule{access.PolicyWrite: {Approvers: 1, TTL: time.Hour}}

	err := a.svc.DeleteAccessPolicy(a.ctx(), "p")
	id := AsError(err).ApprovalID
	if _, err := a.svc.GrantApproval(a.as(t, ann, ""), id); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "approved delete of an attached policy", a.svc.DeleteAccessPolicy(withApproval(a.ctx(), id), "p"), CodeConflict)
	if ap, _ := a.svc.GetApproval(a.ctx(), id); ap.Status != ApprovalApproved {
		t.Fatalf("the failed delete spent the approval: %s", ap.Status)
	}
	e.svc.approvals = nil
	if _, err := a.svc.UpdateIdentity(a.ctx(), UpdateIdentityRequest{Identity: "user", Policies: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	e.svc.approvals = map[access.Action]ApprovalRule{access.PolicyWrite: {Approvers: 1, TTL: time.Hour}}
	if err := a.svc.DeleteAccessPolicy(withApproval(a.ctx(), id), "p"); err != nil {
		t.Fatalf("retry with the approval: %v", err)
	}
	if ap, _ := a.svc.GetApproval(a.ctx(), id); ap.Status != ApprovalExecuted {
		t.Fatalf("status after the delete: %s", ap.Status)
	}
}
