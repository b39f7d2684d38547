package kms

import (
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
)

// TestAuditSearchFiltersAndPages: search by identity, key, operation and
// outcome returns exactly the matching records, newest first, page by page;
// it survives a reopen (the index is rebuilt from the file).
func TestAuditSearchFiltersAndPages(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	k, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	app := a.login(t, "app", []access.Binding{role(access.RoleCryptoUser, "key:k")})
	appID, _ := a.svc.GetIdentity(a.ctx(), "app")
	for range 5 {
		if _, err := a.svc.Encrypt(a.as(t, app, ""), EncryptRequest{Key: "k", Plaintext: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = a.svc.RotateKey(a.as(t, app, ""), RotateRequest{Key: "k"}) // denied
	wantCode(t, "rotate as crypto-user", err, CodeForbidden)

	search := func(f audit.Filter, limit int, token string) *AuditSearchResult {
		t.Helper()
		res, err := a.svc.SearchAudit(a.ctx(), AuditSearchRequest{Filter: f, Limit: limit, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := search(audit.Filter{Identity: appID.ID, KeyID: k.ID, Operation: OpEncrypt}, 0, "")
	if len(res.Records) != 5 || res.NextPageToken != "" {
		t.Fatalf("encrypts by app: %d records, next %q", len(res.Records), res.NextPageToken)
	}
	res = search(audit.Filter{Identity: appID.ID, Outcome: audit.OutcomeDenied}, 0, "")
	if len(res.Records) != 1 || res.Records[0].Operation != OpKeyRotate || res.Records[0].DenyReason != "no_matching_allow" {
		t.Fatalf("app's denials: %+v", res.Records)
	}
	// Pages of two, newest first, cover the five encryptions once each.
	seen := map[string]bool{}
	token := ""
	for page := 0; ; page++ {
		res = search(audit.Filter{KeyID: k.ID, Operation: OpEncrypt}, 2, token)
		for _, r := range res.Records {
			if seen[r.RequestID] {
				t.Fatalf("record %s twice", r.RequestID)
			}
			seen[r.RequestID] = true
		}
		if token = res.NextPageToken; token == "" {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 5 {
		t.Fatalf("pages covered %d encryptions", len(seen))
	}
	if res := search(audit.Filter{Identity: "nobody"}, 0, ""); len(res.Records) != 0 {
		t.Fatalf("unknown identity: %+v", res.Records)
	}
	// After a reopen the index is rebuilt from the file.
	if err := a.audit.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := audit.OpenFile(a.auditPath, audit.FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	recs, _, err := reopened.Search(audit.Filter{Identity: appID.ID, Operation: OpEncrypt}, 0, 100)
	if err != nil || len(recs) != 5 {
		t.Fatalf("after reopening: %d records, %v", len(recs), err)
	}
}
