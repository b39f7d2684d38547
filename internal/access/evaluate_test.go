package access_test

import (
	"net/netip"
	"testing"
	"time"
	_ "time/tzdata" // zones such as Europe/Paris resolve on any machine

	"github.com/arcakms/arca/internal/access"
)

// Wednesday 15 January 2025, noon UTC (13:00 in Paris, 07:00 in New York).
var noon = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func pol(name string, sts ...access.Statement) access.Policy {
	return access.Policy{Name: name, Statements: sts}
}

func allow(actions []string, resources ...string) access.Statement {
	return access.Statement{Effect: access.Allow, Actions: actions, Resources: resources}
}

func deny(actions []string, resources ...string) access.Statement {
	return access.Statement{Effect: access.Deny, Actions: actions, Resources: resources}
}

func with(st access.Statement, c access.Conditions) access.Statement {
	st.Conditions = c
	return st
}

func acts(a ...string) []string { return a }

// onKey is a request for action on a key named name, at noon.
func onKey(a access.Action, name string) access.Request {
	return access.Request{Action: a, Resource: access.Resource{Key: name}, Time: noon}
}

func onServer(a access.Action) access.Request {
	return access.Request{Action: a, Time: noon}
}

func withLabels(r access.Request, kv ...string) access.Request {
	r.Resource.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Resource.Labels[kv[i]] = kv[i+1]
	}
	return r
}

func from(r access.Request, addr string) access.Request {
	r.Source = netip.MustParseAddr(addr)
	return r
}

func when(r access.Request, t time.Time) access.Request {
	r.Time = t
	return r
}

func ctx(r access.Request, kv ...string) access.Request {
	r.Context = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Context[kv[i]] = kv[i+1]
	}
	return r
}

func mfaAt(r access.Request, t time.Time) access.Request {
	r.MFAAt = t
	return r
}

var (
	allowed = func(p string) access.Decision {
		return access.Decision{Allowed: true, Reason: access.ReasonAllowed, Policy: p}
	}
	denied   = func(r access.Reason, p string) access.Decision { return access.Decision{Reason: r, Policy: p} }
	noAllow  = access.Decision{Reason: access.ReasonNoAllow}
	explicit = func(p string) access.Decision { return access.Decision{Reason: access.ReasonExplicitDeny, Policy: p} }
)

type evalCase struct {
	name     string
	policies []access.Policy
	req      access.Request
	want     access.Decision
}

func runEval(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for i := range tc.policies {
				if err := tc.policies[i].Validate(); err != nil {
					t.Fatalf("test policy %q is invalid: %v", tc.policies[i].Name, err)
				}
			}
			if got := access.Evaluate(tc.policies, tc.req); got != tc.want {
				t.Errorf("Evaluate(%s on %q) = %+v, want %+v", tc.req.Action, tc.req.Resource.Key, got, tc.want)
			}
		})
	}
}

func TestEvaluateMatching(t *testing.T) {
	t.Parallel()
	runEval(t, []evalCase{
		// Default deny.
		{"no policies", nil, onKey(access.KeyEncrypt, "billing"), noAllow},
		{"empty policy list", []access.Policy{}, onServer(access.IdentityCreate), noAllow},
		{"policy for another action", []access.Policy{pol("p", allow(acts("key:decrypt")))},
			onKey(access.KeyEncrypt, "billing"), noAllow},
		{"policy for another area", []access.Policy{pol("p", allow(acts("identity:*")))},
			onKey(access.KeyRead, "billing"), noAllow},
		{"policy for another key", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:payroll"))},
			onKey(access.KeyEncrypt, "billing"), noAllow},
		{"policy for other keys", []access.Policy{pol("p", allow(acts("key:*"), "key:payroll-*"))},
			onKey(access.KeyEncrypt, "billing-eu"), noAllow},

		// Actions.
		{"exact action", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:*"))},
			onKey(access.KeyEncrypt, "billing"), allowed("p")},
		{"one of several actions", []access.Policy{pol("p", allow(acts("key:decrypt", "key:encrypt")))},
			onKey(access.KeyEncrypt, "billing"), allowed("p")},
		{"key:* covers key actions", []access.Policy{pol("p", allow(acts("key:*")))},
			onKey(access.KeyDestroy, "billing"), allowed("p")},
		{"key:* does not cover server actions", []access.Policy{pol("p", allow(acts("key:*")))},
			onServer(access.IdentityCreate), noAllow},
		{"* covers key actions", []access.Policy{pol("p", allow(acts("*")))},
			onKey(access.KeyDecryptCompromised, "billing"), allowed("p")},
		{"* covers server actions", []access.Policy{pol("p", allow(acts("*")))},
			onServer(access.SysRootToken), allowed("p")},
		{"area glob", []access.Policy{pol("p", allow(acts("approval:*")))},
			onServer(access.ApprovalGrant), allowed("p")},
		{"action glob is not a prefix match", []access.Policy{pol("p", allow(acts("key:decrypt")))},
			onKey(access.KeyDecryptCompromised, "billing"), noAllow},

		// Key resources.
		{"exact key", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:billing"))},
			onKey(access.KeyEncrypt, "billing"), allowed("p")},
		{"exact key is not a prefix", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:billing"))},
			onKey(access.KeyEncrypt, "billing-eu"), noAllow},
		{"key glob matches", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:billing-*"))},
			onKey(access.KeyEncrypt, "billing-eu"), allowed("p")},
		{"key glob does not match another key", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:billing-*"))},
			onKey(access.KeyEncrypt, "payroll"), noAllow},
		{"key glob needs its literal part", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:billing-*"))},
			onKey(access.KeyEncrypt, "billing"), noAllow},
		{"key glob with ?", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:db-?"))},
			onKey(access.KeyEncrypt, "db-1"), allowed("p")},
		{"key glob with ? is one character", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:db-?"))},
			onKey(access.KeyEncrypt, "db-12"), noAllow},
		{"key glob with class", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:db-[ab]"))},
			onKey(access.KeyEncrypt, "db-b"), allowed("p")},
		{"key glob with class, outside", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:db-[ab]"))},
			onKey(access.KeyEncrypt, "db-c"), noAllow},
		{"key:* matches any key", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:*"))},
			onKey(access.KeyEncrypt, "anything.at-all_1"), allowed("p")},
		{"one of several resources", []access.Policy{pol("p", allow(acts("key:encrypt"), "key:payroll", "key:billing-*"))},
			onKey(access.KeyEncrypt, "billing-eu"), allowed("p")},
		{"resource * on a key", []access.Policy{pol("p", allow(acts("key:encrypt"), "*"))},
			onKey(access.KeyEncrypt, "billing"), allowed("p")},
		{"no resources on a key", []access.Policy{pol("p", allow(acts("key:encrypt")))},
			onKey(access.KeyEncrypt, "billing"), allowed("p")},

		// Label resources.
		{"label selector matches", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:data-classification=pci"))},
			withLabels(onKey(access.KeyEncrypt, "cards"), "owner", "payments", "data-classification", "pci"), allowed("p")},
		{"label selector, other value", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:data-classification=pci"))},
			withLabels(onKey(access.KeyEncrypt, "cards"), "data-classification", "public"), noAllow},
		{"label selector, value is not a glob", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:data-classification=p*"))},
			withLabels(onKey(access.KeyEncrypt, "cards"), "data-classification", "pci"), noAllow},
		{"label selector, label missing", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:data-classification=pci"))},
			withLabels(onKey(access.KeyEncrypt, "cards"), "owner", "payments"), noAllow},
		{"label selector, no labels", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:data-classification=pci"))},
			onKey(access.KeyEncrypt, "cards"), noAllow},
		{"label selector, label with that name as value", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:data-classification=pci"))},
			withLabels(onKey(access.KeyEncrypt, "cards"), "pci", "data-classification"), noAllow},
		{"label selector, empty value", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:tier="))},
			withLabels(onKey(access.KeyEncrypt, "cards"), "tier", ""), allowed("p")},
		{"label selector, empty value needs the label", []access.Policy{pol("p", allow(acts("key:encrypt"), "label:tier="))},
			onKey(access.KeyEncrypt, "cards"), noAllow},

		// Key selectors never cover server actions.
		{"server action, key:* resource", []access.Policy{pol("p", allow(acts("identity:create"), "key:*"))},
			onServer(access.IdentityCreate), noAllow},
		{"server action, label resource", []access.Policy{pol("p", allow(acts("identity:create"), "label:a=b"))},
			withLabels(onServer(access.IdentityCreate), "a", "b"), noAllow},
		{"server action, key resource named in the request", []access.Policy{pol("p", allow(acts("*"), "key:*"))},
			onKey(access.PolicyWrite, "billing"), noAllow},
		{"server action, no resources", []access.Policy{pol("p", allow(acts("identity:create")))},
			onServer(access.IdentityCreate), allowed("p")},
		{"server action, resource *", []access.Policy{pol("p", allow(acts("identity:create"), "*"))},
			onServer(access.IdentityCreate), allowed("p")},
		{"server action, key resource next to *", []access.Policy{pol("p", allow(acts("*"), "key:billing", "*"))},
			onServer(access.AuditRead), allowed("p")},
	})
}

// Statements Validate would reject grant nothing if they reach Evaluate.
func TestEvaluateIgnoresMalformedStatements(t *testing.T) {
	t.Parallel()
	for _, tc := range []evalCase{
		{"effect is case-sensitive", []access.Policy{{Name: "p", Statements: []access.Statement{{Effect: "Allow", Actions: acts("*")}}}},
			onKey(access.KeyEncrypt, "billing"), noAllow},
		{"empty effect", []access.Policy{{Name: "p", Statements: []access.Statement{{Actions: acts("*")}}}},
			onKey(access.KeyEncrypt, "billing"), noAllow},
		{"no actions", []access.Policy{{Name: "p", Statements: []access.Statement{{Effect: access.Allow}}}},
			onKey(access.KeyEncrypt, "billing"), noAllow},
		{"bad resource", []access.Policy{{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: acts("*"), Resources: acts("billing")}}}},
			onKey(access.KeyEncrypt, "billing"), noAllow},
		{"bad key glob", []access.Policy{{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: acts("*"), Resources: acts("key:[")}}}},
			onKey(access.KeyEncrypt, "["), noAllow},
		{"label selector without =", []access.Policy{{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: acts("*"), Resources: acts("label:tier")}}}},
			withLabels(onKey(access.KeyEncrypt, "billing"), "tier", ""), noAllow},
		{"empty key glob", []access.Policy{{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: acts("*"), Resources: acts("key:")}}}},
			onKey(access.KeyList, ""), noAllow},
		{"bad action glob", []access.Policy{{Name: "p", Statements: []access.Statement{{Effect: access.Allow, Actions: acts("key:[")}}}},
			onKey(access.KeyEncrypt, "billing"), noAllow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.policies[0].Validate(); err == nil {
				t.Errorf("Validate accepts %+v", tc.policies[0])
			}
			if got := access.Evaluate(tc.policies, tc.req); got != tc.want {
				t.Errorf("Evaluate = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func cidrs(c ...string) access.Conditions { return access.Conditions{SourceCIDRs: c} }

func window(start, end, loc string, days ...string) access.Conditions {
	return access.Conditions{TimeWindow: &access.TimeWindow{Start: start, End: end, Days: days, Location: loc}}
}

func needContext(kv map[string][]string) access.Conditions { return access.Conditions{Context: kv} }

func mfa(maxAge time.Duration) access.Conditions {
	return access.Conditions{MFA: true, MFAMaxAge: access.Duration(maxAge)}
}

// guarded is one policy "g" allowing key:encrypt on every key under c.
func guarded(c access.Conditions) []access.Policy {
	return []access.Policy{pol("g", with(allow(acts("key:encrypt"), "key:*"), c))}
}

func encrypt() access.Request { return onKey(access.KeyEncrypt, "billing") }

func TestEvaluateSourceAddress(t *testing.T) {
	t.Parallel()
	fail := denied(access.ReasonSource, "g")
	runEval(t, []evalCase{
		{"IPv4 inside", guarded(cidrs("10.0.0.0/8")), from(encrypt(), "10.1.2.3"), allowed("g")},
		{"IPv4 first address", guarded(cidrs("10.0.0.0/8")), from(encrypt(), "10.0.0.0"), allowed("g")},
		{"IPv4 last address", guarded(cidrs("10.0.0.0/8")), from(encrypt(), "10.255.255.255"), allowed("g")},
		{"IPv4 just outside", guarded(cidrs("10.0.0.0/8")), from(encrypt(), "11.0.0.0"), fail},
		{"IPv4 /32", guarded(cidrs("192.0.2.7/32")), from(encrypt(), "192.0.2.7"), allowed("g")},
		{"IPv4 /32, neighbour", guarded(cidrs("192.0.2.7/32")), from(encrypt(), "192.0.2.8"), fail},
		{"unmasked prefix", guarded(cidrs("10.1.2.3/8")), from(encrypt(), "10.200.0.1"), allowed("g")},
		{"second of several prefixes", guarded(cidrs("192.0.2.0/24", "10.0.0.0/8")), from(encrypt(), "10.1.2.3"), allowed("g")},
		{"none of several prefixes", guarded(cidrs("192.0.2.0/24", "10.0.0.0/8")), from(encrypt(), "172.16.0.1"), fail},
		{"IPv6 inside", guarded(cidrs("2001:db8::/32")), from(encrypt(), "2001:db8:1::5"), allowed("g")},
		{"IPv6 outside", guarded(cidrs("2001:db8::/32")), from(encrypt(), "2001:db9::5"), fail},
		{"IPv4-mapped IPv6 source, IPv4 prefix", guarded(cidrs("10.0.0.0/8")), from(encrypt(), "::ffff:10.1.2.3"), allowed("g")},
		{"IPv4-mapped IPv6 source outside", guarded(cidrs("10.0.0.0/8")), from(encrypt(), "::ffff:192.0.2.1"), fail},
		{"IPv4 source, IPv6 prefix", guarded(cidrs("::/0")), from(encrypt(), "10.1.2.3"), fail},
		{"IPv6 source, IPv4 prefix", guarded(cidrs("0.0.0.0/0")), from(encrypt(), "2001:db8::1"), fail},
		{"IPv4 catch-all", guarded(cidrs("0.0.0.0/0")), from(encrypt(), "203.0.113.9"), allowed("g")},
		{"zero source address", guarded(cidrs("0.0.0.0/0", "::/0")), encrypt(), fail},
		{"no condition, zero source address", guarded(access.Conditions{}), encrypt(), allowed("g")},
	})
}

func TestEvaluateTimeWindow(t *testing.T) {
	t.Parallel()
	fail := denied(access.ReasonTime, "g")
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 2025-01-17 is a Friday, 2025-01-18 a Saturday.
	runEval(t, []evalCase{
		{"inside", guarded(window("09:00", "17:00", "")), encrypt(), allowed("g")},
		{"at the start", guarded(window("09:00", "17:00", "")), when(encrypt(), utc("2025-01-15T09:00:00Z")), allowed("g")},
		{"a minute before the start", guarded(window("09:00", "17:00", "")), when(encrypt(), utc("2025-01-15T08:59:59Z")), fail},
		{"last second", guarded(window("09:00", "17:00", "")), when(encrypt(), utc("2025-01-15T16:59:59Z")), allowed("g")},
		{"at the end", guarded(window("09:00", "17:00", "")), when(encrypt(), utc("2025-01-15T17:00:00Z")), fail},
		{"at night", guarded(window("09:00", "17:00", "")), when(encrypt(), utc("2025-01-15T03:00:00Z")), fail},
		{"single-digit hour", guarded(window("9:00", "17:00", "")), when(encrypt(), utc("2025-01-15T09:30:00Z")), allowed("g")},
		{"UTC named", guarded(window("09:00", "17:00", "UTC")), encrypt(), allowed("g")},

		{"across midnight, evening", guarded(window("22:00", "06:00", "")), when(encrypt(), utc("2025-01-15T23:00:00Z")), allowed("g")},
		{"across midnight, at the start", guarded(window("22:00", "06:00", "")), when(encrypt(), utc("2025-01-15T22:00:00Z")), allowed("g")},
		{"across midnight, midnight", guarded(window("22:00", "06:00", "")), when(encrypt(), utc("2025-01-16T00:00:00Z")), allowed("g")},
		{"across midnight, morning", guarded(window("22:00", "06:00", "")), when(encrypt(), utc("2025-01-16T05:59:00Z")), allowed("g")},
		{"across midnight, at the end", guarded(window("22:00", "06:00", "")), when(encrypt(), utc("2025-01-16T06:00:00Z")), fail},
		{"across midnight, noon", guarded(window("22:00", "06:00", "")), encrypt(), fail},
		{"across midnight, just before", guarded(window("22:00", "06:00", "")), when(encrypt(), utc("2025-01-15T21:59:00Z")), fail},

		{"weekdays, on a Wednesday", guarded(window("09:00", "17:00", "", "mon", "tue", "wed", "thu", "fri")), encrypt(), allowed("g")},
		{"weekdays, on a Saturday", guarded(window("09:00", "17:00", "", "mon", "tue", "wed", "thu", "fri")),
			when(encrypt(), utc("2025-01-18T12:00:00Z")), fail},
		{"weekend, on a Sunday", guarded(window("09:00", "17:00", "", "sat", "sun")), when(encrypt(), utc("2025-01-19T12:00:00Z")), allowed("g")},
		{"right day, wrong hour", guarded(window("09:00", "17:00", "", "wed")), when(encrypt(), utc("2025-01-15T18:00:00Z")), fail},

		// A window across midnight belongs to the day it began.
		{"friday night, Friday evening", guarded(window("22:00", "06:00", "", "fri")), when(encrypt(), utc("2025-01-17T23:00:00Z")), allowed("g")},
		{"friday night, Saturday early", guarded(window("22:00", "06:00", "", "fri")), when(encrypt(), utc("2025-01-18T02:00:00Z")), allowed("g")},
		{"friday night, Friday early", guarded(window("22:00", "06:00", "", "fri")), when(encrypt(), utc("2025-01-17T02:00:00Z")), fail},
		{"friday night, Saturday evening", guarded(window("22:00", "06:00", "", "fri")), when(encrypt(), utc("2025-01-18T23:00:00Z")), fail},
		{"sunday night, Monday early", guarded(window("22:00", "06:00", "", "sun")), when(encrypt(), utc("2025-01-20T01:00:00Z")), allowed("g")},
		{"sunday night, Sunday early", guarded(window("22:00", "06:00", "", "sun")), when(encrypt(), utc("2025-01-19T01:00:00Z")), fail},

		// The window is read in its own zone, whatever the request's zone.
		{"Paris, 09:30 in Paris", guarded(window("09:00", "17:00", "Europe/Paris")), when(encrypt(), utc("2025-01-15T08:30:00Z")), allowed("g")},
		{"UTC, 08:30 UTC", guarded(window("09:00", "17:00", "")), when(encrypt(), utc("2025-01-15T08:30:00Z")), fail},
		{"Paris, 17:30 in Paris", guarded(window("09:00", "17:00", "Europe/Paris")), when(encrypt(), utc("2025-01-15T16:30:00Z")), fail},
		{"UTC, 16:30 UTC", guarded(window("09:00", "17:00", "")), when(encrypt(), utc("2025-01-15T16:30:00Z")), allowed("g")},
		{"Paris in summer time", guarded(window("09:00", "17:00", "Europe/Paris")), when(encrypt(), utc("2025-07-16T07:30:00Z")), allowed("g")},
		{"Paris in summer time, before", guarded(window("09:00", "17:00", "Europe/Paris")), when(encrypt(), utc("2025-07-16T06:30:00Z")), fail},
		{"request in Paris time, window in UTC", guarded(window("12:00", "13:00", "")),
			when(encrypt(), time.Date(2025, 1, 15, 12, 30, 0, 0, paris)), fail},
		{"request in Paris time, window in Paris", guarded(window("12:00", "13:00", "Europe/Paris")),
			when(encrypt(), time.Date(2025, 1, 15, 12, 30, 0, 0, paris)), allowed("g")},
		{"New York Friday evening is Saturday in UTC", guarded(window("20:00", "23:00", "America/New_York", "fri")),
			when(encrypt(), utc("2025-01-18T02:00:00Z")), allowed("g")},
		{"same instant, window in UTC", guarded(window("20:00", "23:00", "", "fri")),
			when(encrypt(), utc("2025-01-18T02:00:00Z")), fail},
		{"Tokyo Monday morning is Sunday in UTC", guarded(window("08:00", "10:00", "Asia/Tokyo", "mon")),
			when(encrypt(), utc("2025-01-19T23:30:00Z")), allowed("g")},
	})
}

func TestEvaluateTimeWindowFailsClosed(t *testing.T) {
	t.Parallel()
	for _, w := range []access.TimeWindow{
		{Start: "25:00", End: "17:00"},
		{Start: "09:00", End: "noon"},
		{Start: "09:00", End: "17:00", Location: "Mars/Olympus_Mons"},
		{Start: "00:00", End: "00:00"},
	} {
		c := access.Conditions{TimeWindow: &w}
		for h := range 24 {
			req := when(encrypt(), noon.Add(time.Duration(h)*time.Hour))
			if got := access.Evaluate(guarded(c), req); got.Allowed || got.Reason != access.ReasonTime {
				t.Errorf("window %+v at %s: %+v, want denied by the time window", w, req.Time, got)
			}
		}
	}
}

func TestEvaluateEncryptionContext(t *testing.T) {
	t.Parallel()
	fail := denied(access.ReasonContext, "g")
	acme := needContext(map[string][]string{"tenant": {"acme"}})
	acmeOrGlobex := needContext(map[string][]string{"tenant": {"acme", "globex"}})
	anyTenant := needContext(map[string][]string{"tenant": nil})
	anyTenantEmpty := needContext(map[string][]string{"tenant": {}})
	several := needContext(map[string][]string{"tenant": {"acme"}, "purpose": nil, "region": {"eu", "us"}})
	runEval(t, []evalCase{
		{"value required, given", guarded(acme), ctx(encrypt(), "tenant", "acme"), allowed("g")},
		{"value required, wrong value", guarded(acme), ctx(encrypt(), "tenant", "globex"), fail},
		{"value required, other case", guarded(acme), ctx(encrypt(), "tenant", "ACME"), fail},
		{"value required, empty value", guarded(acme), ctx(encrypt(), "tenant", ""), fail},
		{"value required, key missing", guarded(acme), ctx(encrypt(), "purpose", "acme"), fail},
		{"value required, no context", guarded(acme), encrypt(), fail},
		{"value required, extra keys", guarded(acme), ctx(encrypt(), "tenant", "acme", "purpose", "backup"), allowed("g")},
		{"one of two values", guarded(acmeOrGlobex), ctx(encrypt(), "tenant", "globex"), allowed("g")},
		{"none of two values", guarded(acmeOrGlobex), ctx(encrypt(), "tenant", "initech"), fail},
		{"any value (nil list)", guarded(anyTenant), ctx(encrypt(), "tenant", "whatever"), allowed("g")},
		{"any value (empty list)", guarded(anyTenantEmpty), ctx(encrypt(), "tenant", "whatever"), allowed("g")},
		{"any value, empty value", guarded(anyTenant), ctx(encrypt(), "tenant", ""), allowed("g")},
		{"any value, key missing", guarded(anyTenant), ctx(encrypt(), "other", "x"), fail},
		{"any value, no context", guarded(anyTenantEmpty), encrypt(), fail},
		{"several keys, all good", guarded(several), ctx(encrypt(), "tenant", "acme", "purpose", "x", "region", "us"), allowed("g")},
		{"several keys, one missing", guarded(several), ctx(encrypt(), "tenant", "acme", "region", "us"), fail},
		{"several keys, one wrong", guarded(several), ctx(encrypt(), "tenant", "acme", "purpose", "x", "region", "ap"), fail},
		{"several keys, only one", guarded(several), ctx(encrypt(), "tenant", "acme"), fail},
	})
}

func TestEvaluateMFA(t *testing.T) {
	t.Parallel()
	fail := denied(access.ReasonMFA, "g")
	runEval(t, []evalCase{
		{"required, none", guarded(mfa(0)), encrypt(), fail},
		{"required, long ago", guarded(mfa(0)), mfaAt(encrypt(), noon.AddDate(-1, 0, 0)), allowed("g")},
		{"required, just now", guarded(mfa(0)), mfaAt(encrypt(), noon), allowed("g")},
		{"max age, none", guarded(mfa(15 * time.Minute)), encrypt(), fail},
		{"max age, fresh", guarded(mfa(15 * time.Minute)), mfaAt(encrypt(), noon.Add(-10*time.Minute)), allowed("g")},
		{"max age, exactly", guarded(mfa(15 * time.Minute)), mfaAt(encrypt(), noon.Add(-15*time.Minute)), allowed("g")},
		{"max age, a second too old", guarded(mfa(15 * time.Minute)), mfaAt(encrypt(), noon.Add(-15*time.Minute-time.Second)), fail},
		{"max age, too old", guarded(mfa(15 * time.Minute)), mfaAt(encrypt(), noon.Add(-2*time.Hour)), fail},
		{"max age alone implies MFA", guarded(access.Conditions{MFAMaxAge: access.Duration(time.Hour)}), encrypt(), fail},
		{"max age alone, fresh", guarded(access.Conditions{MFAMaxAge: access.Duration(time.Hour)}),
			mfaAt(encrypt(), noon.Add(-time.Minute)), allowed("g")},
		{"not required", guarded(access.Conditions{}), encrypt(), allowed("g")},
	})
}

func TestEvaluateAllConditions(t *testing.T) {
	t.Parallel()
	all := access.Conditions{
		SourceCIDRs: []string{"10.0.0.0/8"},
		TimeWindow:  &access.TimeWindow{Start: "09:00", End: "17:00"},
		Context:     map[string][]string{"tenant": {"acme"}},
		MFA:         true,
	}
	good := mfaAt(ctx(from(encrypt(), "10.0.0.1"), "tenant", "acme"), noon.Add(-time.Minute))
	night := utc("2025-01-15T23:00:00Z")
	// Conditions are checked in order: source, time window, context, MFA.
	runEval(t, []evalCase{
		{"all hold", guarded(all), good, allowed("g")},
		{"all fail", guarded(all), when(encrypt(), night), denied(access.ReasonSource, "g")},
		{"source holds", guarded(all), from(when(encrypt(), night), "10.0.0.1"), denied(access.ReasonTime, "g")},
		{"source and time hold", guarded(all), from(encrypt(), "10.0.0.1"), denied(access.ReasonContext, "g")},
		{"only MFA fails", guarded(all), mfaAt(good, time.Time{}), denied(access.ReasonMFA, "g")},
		{"only time fails", guarded(all), when(good, night), denied(access.ReasonTime, "g")},
		{"only source fails", guarded(all), from(good, "192.0.2.1"), denied(access.ReasonSource, "g")},
	})
}

func TestEvaluateSeveralStatements(t *testing.T) {
	t.Parallel()
	enc := acts("key:encrypt")
	bySource := with(allow(enc), cidrs("10.0.0.0/8"))
	byMFA := with(allow(enc), mfa(0))
	byTime := with(allow(enc), window("00:00", "01:00", ""))
	plain := allow(enc)
	other := with(allow(acts("key:decrypt")), cidrs("10.0.0.0/8"))
	otherKey := with(allow(enc, "key:payroll"), mfa(0))
	runEval(t, []evalCase{
		// The first failed allow gives the reason, and its policy.
		{"source then MFA", []access.Policy{pol("a", bySource), pol("b", byMFA)}, encrypt(), denied(access.ReasonSource, "a")},
		{"MFA then source", []access.Policy{pol("b", byMFA), pol("a", bySource)}, encrypt(), denied(access.ReasonMFA, "b")},
		{"in one policy", []access.Policy{pol("ab", byTime, bySource)}, encrypt(), denied(access.ReasonTime, "ab")},
		{"in one policy, reversed", []access.Policy{pol("ab", bySource, byTime)}, encrypt(), denied(access.ReasonSource, "ab")},
		{"non-matching allows give no reason", []access.Policy{pol("o", other), pol("k", otherKey), pol("b", byMFA)},
			encrypt(), denied(access.ReasonMFA, "b")},
		{"only non-matching allows", []access.Policy{pol("o", other), pol("k", otherKey)}, encrypt(), noAllow},

		// One allow that holds is enough, wherever it is.
		{"failing then passing", []access.Policy{pol("a", bySource), pol("p", plain)}, encrypt(), allowed("p")},
		{"passing then failing", []access.Policy{pol("p", plain), pol("a", bySource)}, encrypt(), allowed("p")},
		{"passing among failing", []access.Policy{pol("a", bySource), pol("b", byMFA), pol("ok", with(allow(enc), cidrs("192.0.2.0/24"))), pol("t", byTime)},
			from(encrypt(), "192.0.2.9"), allowed("ok")},
		{"in one policy", []access.Policy{pol("m", bySource, byMFA, plain)}, encrypt(), allowed("m")},
		{"first passing policy named", []access.Policy{pol("x", bySource), pol("p1", plain), pol("p2", plain)}, encrypt(), allowed("p1")},
		{"conditions held by the request", []access.Policy{pol("a", bySource), pol("b", byMFA)},
			mfaAt(encrypt(), noon), allowed("b")},
	})
}

func TestEvaluateDeny(t *testing.T) {
	t.Parallel()
	enc := acts("key:encrypt")
	all := allow(acts("*"))
	runEval(t, []evalCase{
		{"deny alone", []access.Policy{pol("d", deny(enc))}, encrypt(), explicit("d")},
		{"deny after allow", []access.Policy{pol("a", all), pol("d", deny(enc))}, encrypt(), explicit("d")},
		{"deny before allow", []access.Policy{pol("d", deny(enc)), pol("a", all)}, encrypt(), explicit("d")},
		{"deny among allows in one policy", []access.Policy{pol("m", all, deny(enc), allow(enc))}, encrypt(), explicit("m")},
		{"deny after many allows", []access.Policy{pol("a1", all), pol("a2", allow(enc)), pol("a3", allow(enc, "key:billing")), pol("d", deny(acts("*")))},
			encrypt(), explicit("d")},
		{"first deny named", []access.Policy{pol("a", all), pol("d1", deny(enc)), pol("d2", deny(acts("*")))}, encrypt(), explicit("d1")},
		{"deny by key glob", []access.Policy{pol("a", all), pol("d", deny(acts("key:*"), "key:bill*"))}, encrypt(), explicit("d")},
		{"deny by label", []access.Policy{pol("a", all), pol("d", deny(acts("*"), "label:frozen=true"))},
			withLabels(encrypt(), "frozen", "true"), explicit("d")},
		{"deny by label, other value", []access.Policy{pol("a", all), pol("d", deny(acts("*"), "label:frozen=true"))},
			withLabels(encrypt(), "frozen", "false"), allowed("a")},
		{"deny for another key", []access.Policy{pol("a", all), pol("d", deny(enc, "key:payroll"))}, encrypt(), allowed("a")},
		{"deny for another action", []access.Policy{pol("a", all), pol("d", deny(acts("key:decrypt")))}, encrypt(), allowed("a")},
		{"key deny does not cover server actions", []access.Policy{pol("a", all), pol("d", deny(acts("*"), "key:*"))},
			onServer(access.PolicyWrite), allowed("a")},
		{"deny * covers server actions", []access.Policy{pol("a", all), pol("d", deny(acts("*"), "*"))},
			onServer(access.PolicyWrite), explicit("d")},
		{"deny wins over a failed allow", []access.Policy{pol("a", with(allow(enc), mfa(0))), pol("d", deny(enc))}, encrypt(), explicit("d")},

		// A deny applies only when its conditions hold.
		{"deny from a network, request from there", []access.Policy{pol("a", all), pol("d", with(deny(enc), cidrs("192.0.2.0/24")))},
			from(encrypt(), "192.0.2.9"), explicit("d")},
		{"deny from a network, request from elsewhere", []access.Policy{pol("a", all), pol("d", with(deny(enc), cidrs("192.0.2.0/24")))},
			from(encrypt(), "10.0.0.1"), allowed("a")},
		{"deny at night, at night", []access.Policy{pol("d", with(deny(enc), window("20:00", "06:00", ""))), pol("a", all)},
			when(encrypt(), utc("2025-01-15T23:00:00Z")), explicit("d")},
		{"deny at night, at noon", []access.Policy{pol("d", with(deny(enc), window("20:00", "06:00", ""))), pol("a", all)},
			encrypt(), allowed("a")},
		{"deny for a tenant, other tenant", []access.Policy{pol("d", with(deny(enc), needContext(map[string][]string{"tenant": {"evil"}}))), pol("a", all)},
			ctx(encrypt(), "tenant", "acme"), allowed("a")},
		{"deny for a tenant, that tenant", []access.Policy{pol("d", with(deny(enc), needContext(map[string][]string{"tenant": {"evil"}}))), pol("a", all)},
			ctx(encrypt(), "tenant", "evil"), explicit("d")},
		{"failed deny, failed allow", []access.Policy{pol("d", with(deny(enc), cidrs("192.0.2.0/24"))), pol("a", with(allow(enc), mfa(0)))},
			encrypt(), denied(access.ReasonMFA, "a")},
		{"failed deny, no allow", []access.Policy{pol("d", with(deny(enc), cidrs("192.0.2.0/24")))}, encrypt(), noAllow},
	})
}

// Evaluate reads only its arguments: the same question gets the same answer,
// and the policies are left as they were.
func TestEvaluateIsPure(t *testing.T) {
	t.Parallel()
	policies := []access.Policy{
		pol("a", with(allow(acts("key:*"), "key:billing-*"), access.Conditions{
			SourceCIDRs: []string{"10.0.0.0/8"},
			TimeWindow:  &access.TimeWindow{Start: "09:00", End: "17:00", Days: []string{"wed"}, Location: "Europe/Paris"},
			Context:     map[string][]string{"tenant": {"acme"}},
			MFA:         true,
		})),
		pol("d", deny(acts("key:export"))),
	}
	req := mfaAt(ctx(from(onKey(access.KeyEncrypt, "billing-eu"), "10.0.0.1"), "tenant", "acme"), noon)
	first := access.Evaluate(policies, req)
	if !first.Allowed {
		t.Fatalf("Evaluate = %+v, want allowed", first)
	}
	for range 100 {
		if got := access.Evaluate(policies, req); got != first {
			t.Fatalf("Evaluate = %+v, then %+v", first, got)
		}
	}
	if err := policies[0].Validate(); err != nil {
		t.Fatal(err)
	}
	if c := policies[0].Statements[0].Conditions; len(c.Context) != 1 || len(c.SourceCIDRs) != 1 || c.TimeWindow.Location != "Europe/Paris" {
		t.Fatalf("Evaluate changed the policy: %+v", c)
	}
}
