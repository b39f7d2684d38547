package access_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
)

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    access.Policy
	}{
		{"one allow", pol("p", allow(acts("key:encrypt")))},
		{"one deny", pol("p", deny(acts("*")))},
		{"action globs", pol("p", allow(acts("key:*", "approval:*", "*", "key:de?rypt", "sys:[rs]*")))},
		{"resources", pol("p", allow(acts("key:*"), "*", "key:*", "key:billing", "key:billing-*", "key:db-[0-9]", "label:team=payments", "label:tier=", "label:a=b=c"))},
		{"server action with resources", pol("p", allow(acts("identity:create"), "*"))},
		{"several statements", pol("p", allow(acts("key:*")), deny(acts("key:export")), allow(acts("audit:read")))},
		{"all conditions", pol("p", with(allow(acts("key:decrypt"), "key:*"), access.Conditions{
			SourceCIDRs: []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "::/0", "0.0.0.0/0"},
			TimeWindow:  &access.TimeWindow{Start: "09:00", End: "17:30", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Location: "Europe/Paris"},
			Context:     map[string][]string{"tenant": {"acme", "globex"}, "purpose": nil},
			MFA:         true,
			MFAMaxAge:   access.Duration(15 * time.Minute),
		}))},
		{"window across midnight", pol("p", with(allow(acts("*")), window("22:00", "06:00", "America/New_York", "fri")))},
		{"window from midnight", pol("p", with(allow(acts("*")), window("00:00", "23:59", "UTC")))},
		{"window with one-digit hour", pol("p", with(allow(acts("*")), window("9:00", "17:00", "")))},
		{"description", access.Policy{Name: "p", Description: "anything", Statements: []access.Statement{allow(acts("*"))}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.p.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	ok := allow(acts("key:encrypt"))
	cond := func(c access.Conditions) access.Policy { return pol("p", ok, with(allow(acts("*")), c)) }
	for _, tc := range []struct {
		name string
		p    access.Policy
		want []string // substrings of the error
	}{
		{"no name", access.Policy{Statements: []access.Statement{ok}}, []string{"name"}},
		{"no statements", access.Policy{Name: "p"}, []string{`"p"`, "no statements"}},
		{"empty statements", access.Policy{Name: "p", Statements: []access.Statement{}}, []string{"no statements"}},
		{"no effect", pol("p", access.Statement{Actions: acts("*")}), []string{`statement 1`, "effect", "allow or deny"}},
		{"bad effect", pol("p", ok, access.Statement{Effect: "permit", Actions: acts("*")}), []string{`policy "p" statement 2`, `"permit"`}},
		{"effect in capitals", pol("p", access.Statement{Effect: "Deny", Actions: acts("*")}), []string{`"Deny"`}},
		{"no actions", pol("p", access.Statement{Effect: access.Allow}), []string{"needs actions"}},
		{"misspelt action", pol("p", allow(acts("key:encrypt", "key:encrpyt"))), []string{`"key:encrpyt"`, "matches no action"}},
		{"unknown area", pol("p", allow(acts("keys:*"))), []string{`"keys:*"`, "matches no action"}},
		{"empty action", pol("p", allow(acts(""))), []string{`""`, "matches no action"}},
		{"bad action glob", pol("p", allow(acts("key:["))), []string{`"key:["`}},
		{"action in capitals", pol("p", allow(acts("KEY:ENCRYPT"))), []string{`"KEY:ENCRYPT"`}},
		{"bare resource", pol("p", allow(acts("key:*"), "billing")), []string{`"billing"`, "key:GLOB", "label:KEY=VALUE"}},
		{"empty resource", pol("p", allow(acts("key:*"), "")), []string{`resource ""`}},
		{"key without name", pol("p", allow(acts("key:*"), "key:")), []string{`"key:"`, "bad key pattern"}},
		{"bad key glob", pol("p", allow(acts("key:*"), "key:[")), []string{`"key:["`, "bad key pattern"}},
		{"bad key glob after a good one", pol("p", allow(acts("key:*"), "key:ok", "key:a[b")), []string{`"key:a[b"`}},
		{"label without anything", pol("p", allow(acts("key:*"), "label:")), []string{`"label:"`, "label:KEY=VALUE"}},
		{"label without value", pol("p", allow(acts("key:*"), "label:team")), []string{`"label:team"`}},
		{"label without key", pol("p", allow(acts("key:*"), "label:=x")), []string{`"label:=x"`}},
		{"other resource type", pol("p", allow(acts("key:*"), "identity:bob")), []string{`"identity:bob"`}},
		{"bad CIDR", cond(cidrs("10.0.0.0/8", "10.0.0.0/33")), []string{"source_cidrs", `"10.0.0.0/33"`}},
		{"address without prefix length", cond(cidrs("10.0.0.1")), []string{`"10.0.0.1"`}},
		{"host name", cond(cidrs("example.com/8")), []string{`"example.com/8"`}},
		{"empty CIDR", cond(cidrs("")), []string{"source_cidrs"}},
		{"hour 25", cond(window("25:00", "17:00", "")), []string{"time_window.start", `"25:00"`, "HH:MM"}},
		{"hour 24", cond(window("09:00", "24:00", "")), []string{"time_window.end", `"24:00"`}},
		{"minute 60", cond(window("09:60", "17:00", "")), []string{"time_window.start", `"09:60"`}},
		{"no colon", cond(window("0900", "1700", "")), []string{"time_window.start"}},
		{"empty start", cond(window("", "17:00", "")), []string{"time_window.start"}},
		{"empty end", cond(window("09:00", "", "")), []string{"time_window.end"}},
		{"with seconds", cond(window("09:00:00", "17:00", "")), []string{"time_window.start"}},
		{"12-hour clock", cond(window("9am", "5pm", "")), []string{"time_window.start"}},
		{"equal start and end", cond(window("09:00", "09:00", "")), []string{"start and end are equal"}},
		{"equal start and end, written differently", cond(window("9:00", "09:00", "")), []string{"start and end are equal"}},
		{"day in full", cond(window("09:00", "17:00", "", "monday")), []string{"time_window.days", `"monday"`, "mon"}},
		{"day in capitals", cond(window("09:00", "17:00", "", "Mon")), []string{`"Mon"`}},
		{"day empty", cond(window("09:00", "17:00", "", "mon", "")), []string{"time_window.days", `""`}},
		{"unknown zone", cond(window("09:00", "17:00", "Mars/Olympus_Mons")), []string{"time_window.location", `"Mars/Olympus_Mons"`}},
		{"zone abbreviation", cond(window("09:00", "17:00", "Europe/Pariss")), []string{`"Europe/Pariss"`}},
		{"empty context key", cond(needContext(map[string][]string{"": {"x"}})), []string{"context", "empty key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.p.Validate()
			if err == nil {
				t.Fatalf("Validate accepts %+v", tc.p)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	c := access.Conditions{MFA: true, MFAMaxAge: access.Duration(15 * time.Minute)}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"mfa":true,"mfa_max_age":"15m0s"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var back access.Conditions
	if err := json.Unmarshal(b, &back); err != nil || back.MFAMaxAge != c.MFAMaxAge || !back.MFA {
		t.Errorf("Unmarshal(%s) = %+v, %v", b, back, err)
	}
	for _, in := range []string{`{"mfa_max_age":"-1m"}`, `{"mfa_max_age":"15"}`, `{"mfa_max_age":"soon"}`, `{"mfa_max_age":""}`} {
		var c access.Conditions
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", in, c)
		}
	}
}

// A policy survives a round trip through JSON, empty conditions are left
// out, and the decoded policy decides as the original.
func TestPolicyJSON(t *testing.T) {
	t.Parallel()
	p := pol("p",
		allow(acts("key:encrypt")),
		with(allow(acts("key:decrypt"), "key:billing-*"), access.Conditions{
			SourceCIDRs: []string{"10.0.0.0/8"},
			TimeWindow:  &access.TimeWindow{Start: "09:00", End: "17:00", Location: "Europe/Paris"},
			MFAMaxAge:   access.Duration(time.Hour),
		}))
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), "conditions") != 1 {
		t.Errorf("Marshal = %s, want conditions only on the second statement", b)
	}
	var back access.Policy
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
	req := mfaAt(from(onKey(access.KeyDecrypt, "billing-eu"), "10.0.0.1"), noon.Add(-time.Minute))
	if a, b := access.Evaluate([]access.Policy{p}, req), access.Evaluate([]access.Policy{back}, req); a != b || !a.Allowed {
		t.Errorf("original decides %+v, decoded %+v", a, b)
	}
}
