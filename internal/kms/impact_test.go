package kms

import (
	"slices"
	"testing"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
)

// TestKeyImpactReportListsExactlyItsUsers: a key used by three identities
// (and another key used by a fourth) reports exactly those three, with
// their counts per operation, refusals and versions.
func TestKeyImpactReportListsExactlyItsUsers(t *testing.T) {
	t.Parallel()
	a := newAccEnv(t)
	for _, k := range []string{"victim", "bystander"} {
		if _, err := a.svc.CreateKey(a.ctx(), CreateKeyRequest{Name: k}); err != nil {
			t.Fatal(err)
		}
	}
	user := func(name string) string {
		return a.login(t, name, []access.Binding{role(access.RoleCryptoUser)})
	}
	ann, bob, cat, dan := user("ann"), user("bob"), user("cat"), user("dan")
	enc := func(tok, key string, n int) []string {
		var cts []string
		for range n {
			r, err := a.svc.Encrypt(a.as(t, tok, "10.0.0.1:1"), EncryptRequest{Key: key, Plaintext: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			cts = append(cts, r.Ciphertext)
		}
		return cts
	}
	cts := enc(ann, "victim", 3)
	enc(bob, "victim", 1)
	if _, err := a.svc.RotateKey(a.ctx(), RotateRequest{Key: "victim"}); err != nil {
		t.Fatal(err)
	}
	enc(bob, "victim", 1)
	for _, ct := range cts[:2] {
		if _, err := a.svc.Decrypt(a.as(t, cat, ""), DecryptRequest{Ciphertext: ct}); err != nil {
			t.Fatal(err)
		}
	}
	enc(dan, "bystander", 4)
	// A refused use counts as refused, not as a use.
	_, err := a.svc.Decrypt(a.as(t, cat, ""), DecryptRequest{Ciphertext: cts[0], Binding: crypto.Binding{Context: map[string]string{"a": "b"}}})
	wantCode(t, "decrypt with the wrong context", err, CodeDecryptionFailed)

	rep, err := a.svc.KeyImpactReport(a.ctx(), ImpactRequest{Key: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]KeyUser{}
	ids := map[string]string{}
	for _, id := range []string{"ann", "bob", "cat", "dan"} {
		info, err := a.svc.GetIdentity(a.ctx(), id)
		if err != nil {
			t.Fatal(err)
		}
		ids[info.ID] = id
	}
	for _, u := range rep.Users {
		if name, ok := ids[u.Identity]; ok {
			byName[name] = u
		}
	}
	if len(byName) != 3 || byName["dan"].Identity != "" {
		t.Fatalf("users: %+v", rep.Users)
	}
	if u := byName["ann"]; u.Operations[OpEncrypt] != 3 || len(u.Operations) != 1 || u.Sources[0] != "10.0.0.1:1" || u.Versions[0] != "1" {
		t.Fatalf("ann: %+v", u)
	}
	if u := byName["bob"]; u.Operations[OpEncrypt] != 2 || len(u.Versions) != 2 {
		t.Fatalf("bob: %+v", u)
	}
	if u := byName["cat"]; u.Operations[OpDecrypt] != 2 || u.Refused != 1 {
		t.Fatalf("cat: %+v", u)
	}
	// Ciphertext accounting per version: ann made 3 under v1, bob 1 under
	// v1 and 1 under v2; two v1 ciphertexts are rewrapped to v2, singly.
	for _, ct := range cts[:2] {
		if _, err := a.svc.Rewrap(a.ctx(), DecryptRequest{Key: "victim", Ciphertext: ct}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = a.svc.KeyImpactReport(a.ctx(), ImpactRequest{Key: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Versions) != 2 ||
		rep.Versions[0] != (VersionCiphertexts{Version: 1, Made: 4, RewrappedTo: 2, Outstanding: 2}) ||
		rep.Versions[1] != (VersionCiphertexts{Version: 2, Made: 3, RewrappedTo: 0, Outstanding: 3}) {
		t.Fatalf("versions: %+v", rep.Versions)
	}
	// Batches count per version too: one batch encrypts two items under
	// v2 and rewraps the last v1 ciphertext of ann's; decryptions count
	// nothing.
	if _, err := a.svc.BatchEncrypt(a.ctx(), []EncryptRequest{{Key: "victim", Plaintext: []byte("a")}, {Key: "victim", Plaintext: []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.BatchRewrap(a.ctx(), []DecryptRequest{{Key: "victim", Ciphertext: cts[2]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.BatchDecrypt(a.ctx(), []DecryptRequest{{Ciphertext: cts[2]}}); err != nil {
		t.Fatal(err)
	}
	rep, err = a.svc.KeyImpactReport(a.ctx(), ImpactRequest{Key: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Versions[0] != (VersionCiphertexts{Version: 1, Made: 4, RewrappedTo: 3, Outstanding: 1}) ||
		rep.Versions[1] != (VersionCiphertexts{Version: 2, Made: 6, RewrappedTo: 0, Outstanding: 6}) {
		t.Fatalf("versions after batches: %+v", rep.Versions)
	}
	// A batch over two keys counts for each, in each key's report: ann
	// encrypts one item under each key, and one naming no key fails.
	mixed, err := a.svc.BatchEncrypt(a.as(t, ann, ""), []EncryptRequest{
		{Key: "victim", Plaintext: []byte("a")}, {Key: "bystander", Plaintext: []byte("b")},
		{Key: "no-such-key", Plaintext: []byte("c")}})
	if err != nil || mixed[2].Err == nil {
		t.Fatalf("mixed batch: %v %+v", err, mixed)
	}
	rep, err = a.svc.KeyImpactReport(a.ctx(), ImpactRequest{Key: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Versions[1] != (VersionCiphertexts{Version: 2, Made: 7, RewrappedTo: 0, Outstanding: 7}) {
		t.Fatalf("victim after a mixed batch: %+v", rep.Versions)
	}
	for _, u := range rep.Users {
		if ids[u.Identity] == "ann" && (u.Operations[OpBatchEncrypt] != 1 || !slices.Contains(u.Versions, "2")) {
			t.Fatalf("ann's mixed batch: %+v", u)
		}
	}
	rep, err = a.svc.KeyImpactReport(a.ctx(), ImpactRequest{Key: "bystander"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Versions) != 1 || rep.Versions[0] != (VersionCiphertexts{Version: 1, Made: 5, Outstanding: 5}) || len(rep.Users) != 3 { // root (created it), dan, ann
		t.Fatalf("bystander after a mixed batch: %+v %+v", rep.Versions, rep.Users)
	}
	// Version filter.
	rep, err = a.svc.KeyImpactReport(a.ctx(), ImpactRequest{Key: "victim", Versions: []uint32{2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range rep.Users {
		if n := ids[u.Identity]; n != "bob" && n != "ann" && n != "" { // ann: in the mixed batch
			t.Fatalf("version 2 was used by %s: %+v", ids[u.Identity], u)
		}
	}
}
