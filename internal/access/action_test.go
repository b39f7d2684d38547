package access_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/access"
)

var actionSyntax = regexp.MustCompile(`^[a-z]+:[a-z]+(-[a-z]+)*$`)

func TestActionsCatalogue(t *testing.T) {
	t.Parallel()
	all := access.Actions()
	if len(all) == 0 {
		t.Fatal("no actions")
	}
	seen := map[access.Action]bool{}
	keyActions := 0
	for _, a := range all {
		if !actionSyntax.MatchString(string(a)) {
			t.Errorf("%q is not area:verb", a)
		}
		if seen[a] {
			t.Errorf("%q listed twice", a)
		}
		seen[a] = true
		if !a.Known() {
			t.Errorf("%q is listed but not Known", a)
		}
		if got, want := a.OnKey(), strings.HasPrefix(string(a), "key:"); got != want {
			t.Errorf("%q.OnKey() = %v, want %v", a, got, want)
		}
		if a.OnKey() {
			keyActions++
		}
	}
	if keyActions == 0 || keyActions == len(all) {
		t.Errorf("%d key actions of %d", keyActions, len(all))
	}
	// Every named constant is in the catalogue.
	for _, a := range []access.Action{
		access.KeyCreate, access.KeyRead, access.KeyList, access.KeyUpdate, access.KeyRotate, access.KeyLifecycle,
		access.KeyDestroy, access.KeyImport, access.KeyExport, access.KeyEncrypt, access.KeyDecrypt, access.KeyRewrap,
		access.KeyDataKey, access.KeyMAC, access.KeySign, access.KeyVerify, access.KeyDecryptCompromised,
		access.RandomGenerate, access.IdentityCreate, access.IdentityRead, access.IdentityUpdate, access.IdentityDelete,
		access.TokenCreate, access.TokenRevoke, access.PolicyRead, access.PolicyWrite, access.AuditRead, access.ReportRead,
		access.ApprovalRead, access.ApprovalGrant, access.ApprovalCancel, access.SysSeal, access.SysRootToken, access.SysBackup, access.SysRekey,
	} {
		if !seen[a] {
			t.Errorf("%q missing from Actions()", a)
		}
	}
	if len(seen) != 36 {
		t.Errorf("%d actions, want 36: update this test and the role table with the catalogue", len(seen))
	}
}

func TestActionsIsACopy(t *testing.T) {
	t.Parallel()
	a := access.Actions()
	want := slices.Clone(a)
	a[0] = "key:everything"
	if got := access.Actions(); !slices.Equal(got, want) {
		t.Errorf("changing the result of Actions changed the catalogue: %v", got)
	}
	if access.Action("key:everything").Known() {
		t.Error("key:everything became Known")
	}
}

func TestActionKnownAndOnKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a            access.Action
		known, onKey bool
	}{
		{"key:encrypt", true, true},
		{"key:decrypt-compromised", true, true},
		{"identity:create", true, false},
		{"sys:root-token", true, false},
		{"key:encrpyt", false, true},
		{"key:*", false, true},
		{"*", false, false},
		{"", false, false},
		{"key:", false, false},
		{"key", false, false},
		{"Key:encrypt", false, false},
		{"KEY:ENCRYPT", false, false},
		{"keys:encrypt", false, false},
		{" key:encrypt", false, false},
	} {
		if got := tc.a.Known(); got != tc.known {
			t.Errorf("%q.Known() = %v, want %v", tc.a, got, tc.known)
		}
		if got := tc.a.OnKey(); got != tc.onKey {
			t.Errorf("%q.OnKey() = %v, want %v", tc.a, got, tc.onKey)
		}
	}
}

// An action pattern in a policy covers exactly the catalogue actions it
// matches as a glob.
func TestActionPatterns(t *testing.T) {
	t.Parallel()
	var keyActions []access.Action
	for _, a := range access.Actions() {
		if a.OnKey() {
			keyActions = append(keyActions, a)
		}
	}
	for _, tc := range []struct {
		pattern string
		want    []access.Action
	}{
		{"*", access.Actions()},
		{"key:*", keyActions},
		{"*:*", access.Actions()},
		{"approval:*", []access.Action{access.ApprovalRead, access.ApprovalGrant, access.ApprovalCancel}},
		{"*:read", []access.Action{access.KeyRead, access.IdentityRead, access.PolicyRead, access.AuditRead, access.ReportRead, access.ApprovalRead}},
		{"key:decrypt*", []access.Action{access.KeyDecrypt, access.KeyDecryptCompromised}},
		{"key:decrypt", []access.Action{access.KeyDecrypt}},
		{"key:?ign", []access.Action{access.KeySign}},
		{"sys:[rs]*", []access.Action{access.SysSeal, access.SysRootToken, access.SysRekey}},
		{"key:encrpyt", nil},
		{"key", nil},
	} {
		p := pol("p", allow(acts(tc.pattern)))
		var got []access.Action
		for _, a := range access.Actions() {
			if access.Evaluate([]access.Policy{p}, onServer(a)).Allowed {
				got = append(got, a)
			}
		}
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q allows %v, want %v", tc.pattern, got, want)
		}
		if err := p.Validate(); (err == nil) != (len(tc.want) > 0) {
			t.Errorf("%q: Validate = %v", tc.pattern, err)
		}
	}
}
