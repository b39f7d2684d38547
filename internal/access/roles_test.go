package access_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/arcakms/arca/internal/access"
)

// roleTable is the definition of the built-in roles: for each action, the
// roles that allow it, one column each: A admin, K key-custodian, C
// crypto-user, U auditor, P approver ("." where the role does not). Key
// actions are allowed only on the keys of the binding's scope.
var roleTable = []struct {
	roles  string
	action access.Action
}{
	// AKCUP
	{".K...", access.KeyCreate},
	{"AKCU.", access.KeyRead},
	{"AK.U.", access.KeyList},
	{".K...", access.KeyUpdate},
	{".K...", access.KeyRotate},
	{".K...", access.KeyLifecycle},
	{".K...", access.KeyDestroy},
	{".K...", access.KeyImport},
	{".K...", access.KeyExport},
	{"..C..", access.KeyEncrypt},
	{"..C..", access.KeyDecrypt},
	{"..C..", access.KeyRewrap},
	{"..C..", access.KeyDataKey},
	{"..C..", access.KeyMAC},
	{"..C..", access.KeySign},
	{"..C..", access.KeyVerify},
	{".....", access.KeyDecryptCompromised},
	{".K...", access.KeyDerive},
	{"..C..", access.RandomGenerate},
	{"A....", access.IdentityCreate},
	{"A..U.", access.IdentityRead},
	{"A....", access.IdentityUpdate},
	{"A....", access.IdentityDelete},
	{"A....", access.TokenCreate},
	{"A....", access.TokenRevoke},
	{"AK.U.", access.PolicyRead},
	{"A....", access.PolicyWrite},
	{"...U.", access.AuditRead},
	{"...U.", access.ReportRead},
	{"AK.UP", access.ApprovalRead},
	{"....P", access.ApprovalGrant},
	{"AK...", access.ApprovalCancel},
	{"A....", access.SysSeal},
	{".....", access.SysRootToken},
	{"A....", access.SysBackup},
	{".....", access.SysRekey},
}

var roleColumns = []string{access.RoleAdmin, access.RoleKeyCustodian, access.RoleCryptoUser, access.RoleAuditor, access.RoleApprover}

// roleAllows reports whether the table gives role the action.
func roleAllows(role string, a access.Action) bool {
	col := slices.Index(roleColumns, role)
	for _, row := range roleTable {
		if row.action == a {
			return row.roles[col] != '.'
		}
	}
	panic("action missing from roleTable: " + string(a))
}

func TestRoleTableCoversCatalogue(t *testing.T) {
	t.Parallel()
	var listed []access.Action
	for _, row := range roleTable {
		listed = append(listed, row.action)
		if len(row.roles) != len(roleColumns) {
			t.Errorf("%s: %q has %d columns, want %d", row.action, row.roles, len(row.roles), len(roleColumns))
		}
		for i, c := range row.roles {
			if c != '.' && c != rune("AKCUP"[i]) {
				t.Errorf("%s: %q has %q in column %d", row.action, row.roles, c, i)
			}
		}
	}
	if !slices.Equal(listed, access.Actions()) {
		t.Errorf("roleTable lists %v, want the catalogue %v", listed, access.Actions())
	}
	if !slices.Equal(access.Roles(), roleColumns) {
		t.Errorf("Roles() = %v, want %v", access.Roles(), roleColumns)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	for _, r := range access.Roles() {
		if !access.IsRole(r) {
			t.Errorf("IsRole(%q) = false", r)
		}
	}
	for _, r := range []string{"", "root", "Admin", "admin ", "role:admin", "custodian"} {
		if access.IsRole(r) {
			t.Errorf("IsRole(%q) = true", r)
		}
	}
}

func bindingPolicy(t *testing.T, b access.Binding) access.Policy {
	t.Helper()
	p, err := b.Policy()
	if err != nil {
		t.Fatalf("%+v.Policy(): %v", b, err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%+v.Policy() is invalid: %v", b, err)
	}
	if want := "role:" + b.Role; p.Name != want {
		t.Fatalf("%+v.Policy().Name = %q, want %q", b, p.Name, want)
	}
	return p
}

// Each role allows what the table says: key actions on the keys in its
// scope and on no other key, server actions whatever its scope.
func TestRolePolicies(t *testing.T) {
	t.Parallel()
	type probe struct {
		name    string
		req     func(access.Action) access.Request
		inScope bool
	}
	key := func(name string, labels ...string) func(access.Action) access.Request {
		return func(a access.Action) access.Request {
			r := onKey(a, name)
			if len(labels) > 0 {
				r = withLabels(r, labels...)
			}
			return r
		}
	}
	for _, sc := range []struct {
		scope  []string
		probes []probe
	}{
		{nil, []probe{{"any key", key("anything"), true}, {"labelled key", key("x", "team", "b"), true}}},
		{[]string{"*"}, []probe{{"any key", key("anything"), true}}},
		{[]string{"key:*"}, []probe{{"any key", key("anything"), true}}},
		{[]string{"key:team-a-*"}, []probe{
			{"key in scope", key("team-a-db"), true},
			{"key out of scope", key("team-b-db"), false},
			{"key named like the scope", key("team-a"), false},
			{"key out of scope with the team label", key("team-b-db", "team", "a"), false},
		}},
		{[]string{"key:team-a-*", "key:shared"}, []probe{
			{"key in first selector", key("team-a-db"), true},
			{"key in second selector", key("shared"), true},
			{"key in neither", key("shared-2"), false},
		}},
		{[]string{"label:team=a"}, []probe{
			{"labelled key", key("db", "team", "a"), true},
			{"key labelled for another team", key("db", "team", "b"), false},
			{"unlabelled key", key("team-a-db"), false},
		}},
	} {
		for _, role := range access.Roles() {
			b := access.Binding{Role: role, Scope: sc.scope}
			p := bindingPolicy(t, b)
			policies := []access.Policy{p}
			for _, a := range access.Actions() {
				want := roleAllows(role, a)
				if !a.OnKey() {
					got := access.Evaluate(policies, onServer(a))
					if got.Allowed != want {
						t.Errorf("%s on %v: %s: %+v, want allowed=%v", role, sc.scope, a, got, want)
					}
					if got.Allowed && got.Policy != p.Name {
						t.Errorf("%s: %s: decided by %q, want %q", role, a, got.Policy, p.Name)
					}
					continue
				}
				for _, pr := range sc.probes {
					got := access.Evaluate(policies, pr.req(a))
					if got.Allowed != (want && pr.inScope) {
						t.Errorf("%s on %v: %s on %s: %+v, want allowed=%v", role, sc.scope, a, pr.name, got, want && pr.inScope)
					}
					if !got.Allowed && got.Reason != access.ReasonNoAllow {
						t.Errorf("%s on %v: %s on %s: reason %q, want %q", role, sc.scope, a, pr.name, got.Reason, access.ReasonNoAllow)
					}
				}
			}
		}
	}
}

// What each role must never be able to do, on any key, checked against
// the widest binding.
func TestRoleLimits(t *testing.T) {
	t.Parallel()
	never := map[string][]access.Action{
		access.RoleAdmin: {access.KeyEncrypt, access.KeyDecrypt, access.KeySign, access.KeyMAC, access.KeyDataKey,
			access.KeyExport, access.KeyRewrap, access.KeyImport, access.KeyCreate, access.KeyDestroy,
			access.KeyDecryptCompromised, access.KeyDerive, access.SysRootToken, access.ApprovalGrant},
		access.RoleKeyCustodian: {access.KeyEncrypt, access.KeyDecrypt, access.KeyRewrap, access.KeyDataKey,
			access.KeySign, access.KeyMAC, access.KeyDecryptCompromised, access.PolicyWrite, access.IdentityCreate,
			access.IdentityUpdate, access.TokenCreate, access.ApprovalGrant},
		access.RoleCryptoUser: {access.KeyCreate, access.KeyRotate, access.KeyDestroy, access.KeyExport, access.KeyImport,
			access.KeyLifecycle, access.KeyUpdate, access.IdentityCreate, access.IdentityRead, access.IdentityUpdate,
			access.IdentityDelete, access.PolicyWrite, access.TokenCreate, access.ApprovalGrant, access.KeyDecryptCompromised, access.KeyDerive},
	}
	for _, scope := range [][]string{nil, {"*"}} {
		for _, role := range access.Roles() {
			policies := []access.Policy{bindingPolicy(t, access.Binding{Role: role, Scope: scope})}
			allowedActions := map[access.Action]bool{}
			for _, a := range access.Actions() {
				if access.Evaluate(policies, onKey(a, "k")).Allowed {
					allowedActions[a] = true
				}
			}
			for _, a := range never[role] {
				if allowedActions[a] {
					t.Errorf("%s may %s", role, a)
				}
			}
			for a := range allowedActions {
				verb := string(a)[strings.Index(string(a), ":")+1:]
				switch role {
				case access.RoleAuditor:
					if verb != "read" && verb != "list" {
						t.Errorf("auditor may %s, which is not a read", a)
					}
				case access.RoleApprover:
					if a != access.ApprovalRead && a != access.ApprovalGrant {
						t.Errorf("approver may %s", a)
					}
				}
			}
			if len(allowedActions) == 0 {
				t.Errorf("%s may do nothing", role)
			}
		}
	}
}

func TestBindingErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b    access.Binding
		want []string
	}{
		{access.Binding{Role: "root"}, []string{`"root"`, "unknown role", "admin", "key-custodian", "crypto-user", "auditor", "approver"}},
		{access.Binding{}, []string{`""`, "unknown role"}},
		{access.Binding{Role: "Admin"}, []string{`"Admin"`}},
		{access.Binding{Role: access.RoleCryptoUser, Scope: []string{"billing"}}, []string{"crypto-user", "scope", `"billing"`}},
		{access.Binding{Role: access.RoleCryptoUser, Scope: []string{"key:a", "key:["}}, []string{"scope", `"key:["`}},
		{access.Binding{Role: access.RoleKeyCustodian, Scope: []string{"key:"}}, []string{`"key:"`}},
		{access.Binding{Role: access.RoleAuditor, Scope: []string{"label:"}}, []string{`"label:"`}},
		{access.Binding{Role: access.RoleAuditor, Scope: []string{"label:team"}}, []string{`"label:team"`}},
		{access.Binding{Role: access.RoleApprover, Scope: []string{""}}, []string{"scope"}},
	} {
		p, err := tc.b.Policy()
		if err == nil {
			t.Errorf("%+v.Policy() = %+v, want an error", tc.b, p)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v.Policy(): %q, want it to mention %q", tc.b, err, w)
			}
		}
	}
}

// The policy of a binding is its own: changing it leaves the binding as it
// was.
func TestBindingPolicyCopiesScope(t *testing.T) {
	t.Parallel()
	b := access.Binding{Role: access.RoleCryptoUser, Scope: []string{"key:team-a-*"}}
	p := bindingPolicy(t, b)
	for i := range p.Statements {
		for j := range p.Statements[i].Resources {
			p.Statements[i].Resources[j] = "*"
		}
	}
	if b.Scope[0] != "key:team-a-*" {
		t.Errorf("changing the policy changed the binding's scope to %v", b.Scope)
	}
}

type sodPair struct{ a, b string }

func defaultPairs() []sodPair {
	var out []sodPair
	for _, r := range access.DefaultSoD {
		out = append(out, sodPair{r.Roles[0], r.Roles[1]})
	}
	return out
}

func conflicting(rules []access.SoDRule, a, b string) (access.SoDRule, bool) {
	for _, r := range rules {
		if (r.Roles[0] == a && r.Roles[1] == b) || (r.Roles[0] == b && r.Roles[1] == a) {
			return r, true
		}
	}
	return access.SoDRule{}, false
}

// reachesEveryKey are the roles that can grant themselves any key (by
// writing policies or identities), so a scope limits nothing for them.
var reachesEveryKey = map[string]bool{access.RoleAdmin: true}

func TestDefaultSoD(t *testing.T) {
	t.Parallel()
	if len(access.DefaultSoD) != 5 {
		t.Errorf("%d default rules, want 5: update this test", len(access.DefaultSoD))
	}
	want := []sodPair{
		{access.RoleAdmin, access.RoleCryptoUser},
		{access.RoleKeyCustodian, access.RoleCryptoUser},
		{access.RoleAuditor, access.RoleAdmin},
		{access.RoleAuditor, access.RoleKeyCustodian},
		{access.RoleAuditor, access.RoleCryptoUser},
	}
	for _, p := range want {
		if _, ok := conflicting(access.DefaultSoD, p.a, p.b); !ok {
			t.Errorf("no default rule for %s and %s", p.a, p.b)
		}
	}
	for _, r := range access.DefaultSoD {
		if !access.IsRole(r.Roles[0]) || !access.IsRole(r.Roles[1]) || r.Roles[0] == r.Roles[1] {
			t.Errorf("rule %v names an unknown role or one role twice", r.Roles)
		}
		if len(r.Reason) < 20 {
			t.Errorf("rule %v gives no reason: %q", r.Roles, r.Reason)
		}
	}
}

var overlapping = []struct {
	name string
	x, y []string
}{
	{"both every key", nil, nil},
	{"every key and one key", nil, []string{"key:a"}},
	{"key:* and one key", []string{"key:*"}, []string{"key:a"}},
	{"* and one key", []string{"*"}, []string{"key:a"}},
	{"same key", []string{"key:a"}, []string{"key:a"}},
	{"same glob", []string{"key:team-a-*"}, []string{"key:team-a-*"}},
	{"glob and a key it matches", []string{"key:team-a-*"}, []string{"key:team-a-db"}},
	{"glob and a narrower glob", []string{"key:team-*"}, []string{"key:team-a-*"}},
	{"globs that may intersect", []string{"key:team-*"}, []string{"key:*-prod"}},
	{"globs with ? that may intersect", []string{"key:db-?"}, []string{"key:db-[0-9]"}},
	{"globs with the same suffix", []string{"key:*-eu"}, []string{"key:billing-*-eu"}},
	{"label and a key", []string{"label:team=a"}, []string{"key:b"}},
	{"label and another label", []string{"label:team=a"}, []string{"label:team=b"}},
	{"one selector of several", []string{"key:a", "key:b"}, []string{"key:c", "key:b"}},
}

var disjoint = []struct {
	name string
	x, y []string
}{
	{"two teams", []string{"key:team-a-*"}, []string{"key:team-b-*"}},
	{"two keys", []string{"key:a"}, []string{"key:b"}},
	{"glob and a key it does not match", []string{"key:team-a-*"}, []string{"key:team-b-db"}},
	{"glob and the key its prefix names", []string{"key:team-a-*"}, []string{"key:team-a"}},
	{"glob and a key with its prefix and suffix", []string{"key:a*z"}, []string{"key:az-z-a"}},
	{"key and a longer key", []string{"key:billing"}, []string{"key:billing-eu"}},
	{"two suffixes", []string{"key:*-eu"}, []string{"key:*-us"}},
	{"two classes", []string{"key:a-[0-4]"}, []string{"key:b-[5-9]"}},
	{"several selectors", []string{"key:a", "key:team-a-*"}, []string{"key:b", "key:team-b-*"}},
}

func TestCheckSoDRefusesOverlappingScopes(t *testing.T) {
	t.Parallel()
	for _, pair := range defaultPairs() {
		rule, _ := conflicting(access.DefaultSoD, pair.a, pair.b)
		for _, sc := range overlapping {
			for _, order := range []sodPair{pair, {pair.b, pair.a}} {
				for _, scopes := range [][2][]string{{sc.x, sc.y}, {sc.y, sc.x}} {
					have := []access.Binding{{Role: order.a, Scope: scopes[0]}}
					next := access.Binding{Role: order.b, Scope: scopes[1]}
					err := access.CheckSoD(access.DefaultSoD, have, next)
					if err == nil {
						t.Errorf("%s: %+v then %+v allowed", sc.name, have[0], next)
						continue
					}
					for _, w := range []string{"separation of duties", order.a, order.b, rule.Reason} {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("%s: %q, want it to mention %q", sc.name, err, w)
						}
					}
				}
			}
		}
	}
}

func TestCheckSoDAllowsDisjointScopes(t *testing.T) {
	t.Parallel()
	for _, pair := range defaultPairs() {
		for _, sc := range disjoint {
			for _, order := range []sodPair{pair, {pair.b, pair.a}} {
				have := []access.Binding{{Role: order.a, Scope: sc.x}}
				next := access.Binding{Role: order.b, Scope: sc.y}
				err := access.CheckSoD(access.DefaultSoD, have, next)
				// An admin can grant itself any key: its scope does not
				// keep it apart from anything.
				if reachesEveryKey[pair.a] || reachesEveryKey[pair.b] {
					if err == nil {
						t.Errorf("%s: %+v then %+v allowed, but an admin reaches every key", sc.name, have[0], next)
					} else if !strings.Contains(err.Error(), "every key") {
						t.Errorf("%s: %q, want it to say the admin reaches every key", sc.name, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %+v then %+v: %v", sc.name, have[0], next, err)
				}
			}
		}
	}
}

// Only the pairs of the rules conflict; every role combines with itself.
func TestCheckSoDPairs(t *testing.T) {
	t.Parallel()
	for _, a := range access.Roles() {
		for _, b := range access.Roles() {
			_, conflict := conflicting(access.DefaultSoD, a, b)
			err := access.CheckSoD(access.DefaultSoD, []access.Binding{{Role: a}}, access.Binding{Role: b})
			if (err != nil) != conflict {
				t.Errorf("%s then %s: %v, want conflict=%v", a, b, err, conflict)
			}
		}
	}
	if err := access.CheckSoD(access.DefaultSoD, []access.Binding{{Role: access.RoleApprover}}, access.Binding{Role: access.RoleKeyCustodian}); err != nil {
		t.Errorf("approver and key-custodian: %v", err)
	}
	if err := access.CheckSoD(nil, []access.Binding{{Role: access.RoleAdmin}}, access.Binding{Role: access.RoleCryptoUser}); err != nil {
		t.Errorf("no rules: %v", err)
	}
	if err := access.CheckSoD(access.DefaultSoD, nil, access.Binding{Role: access.RoleCryptoUser}); err != nil {
		t.Errorf("first binding: %v", err)
	}
}

// The order of the roles in a rule does not matter, and the first
// conflicting binding is the one reported.
func TestCheckSoDRuleOrder(t *testing.T) {
	t.Parallel()
	forward := []access.SoDRule{{Roles: [2]string{access.RoleApprover, access.RoleKeyCustodian}, Reason: "approvers must not approve their own key operations"}}
	backward := []access.SoDRule{{Roles: [2]string{access.RoleKeyCustodian, access.RoleApprover}, Reason: forward[0].Reason}}
	for _, rules := range [][]access.SoDRule{forward, backward} {
		for _, tc := range []struct {
			have     []access.Binding
			next     access.Binding
			conflict bool
		}{
			{[]access.Binding{{Role: access.RoleApprover}}, access.Binding{Role: access.RoleKeyCustodian}, true},
			{[]access.Binding{{Role: access.RoleKeyCustodian}}, access.Binding{Role: access.RoleApprover}, true},
			// An approver's scope limits nothing it does (it has no key
			// actions), so it cannot dodge a rule by a disjoint scope.
			{[]access.Binding{{Role: access.RoleKeyCustodian, Scope: []string{"key:a-*"}}}, access.Binding{Role: access.RoleApprover, Scope: []string{"key:b-*"}}, true},
			{[]access.Binding{{Role: access.RoleCryptoUser}}, access.Binding{Role: access.RoleApprover}, false},
			{[]access.Binding{{Role: access.RoleCryptoUser}, {Role: access.RoleAuditor}, {Role: access.RoleApprover}}, access.Binding{Role: access.RoleKeyCustodian}, true},
		} {
			err := access.CheckSoD(rules, tc.have, tc.next)
			if (err != nil) != tc.conflict {
				t.Errorf("rule %v: %+v then %+v: %v, want conflict=%v", rules[0].Roles, tc.have, tc.next, err, tc.conflict)
			}
			if err != nil && !strings.Contains(err.Error(), forward[0].Reason) {
				t.Errorf("%q does not give the rule's reason", err)
			}
		}
	}
	// Of several bindings in conflict, the first is named.
	have := []access.Binding{{Role: access.RoleApprover}, {Role: access.RoleAuditor, Scope: []string{"key:x"}}, {Role: access.RoleKeyCustodian}}
	err := access.CheckSoD(access.DefaultSoD, have, access.Binding{Role: access.RoleCryptoUser, Scope: []string{"key:x"}})
	if err == nil || !strings.Contains(err.Error(), "auditor and crypto-user") || !strings.Contains(err.Error(), "(key:x vs key:x)") {
		t.Errorf("CheckSoD = %v, want the auditor binding named", err)
	}
}
