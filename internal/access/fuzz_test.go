package access_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
)

// FuzzEvaluate builds a policy from fuzzed strings and checks that
// Evaluate never panics, that its decision is consistent, that an
// unconditional deny always wins, and that an unconditional allow wins
// over everything but an explicit deny.
func FuzzEvaluate(f *testing.F) {
	type seed struct {
		deny                                 bool
		action, pattern, resource, key       string
		labelK, labelV, cidr, source         string
		start, end, day, loc, ctxKey, ctxVal string
		mfa                                  bool
		mfaAgo, unix                         int64
	}
	for _, s := range []seed{
		{false, "key:encrypt", "key:*", "key:billing-*", "billing-eu", "team", "a", "10.0.0.0/8", "10.1.2.3",
			"09:00", "17:00", "wed", "Europe/Paris", "tenant", "acme", true, 60, noon.Unix()},
		{true, "identity:create", "*", "*", "", "", "", "::/0", "::ffff:10.0.0.1", "22:00", "06:00", "fri", "", "", "", false, 0, 0},
		{false, "key:decrypt", "key:[", "key:[", "[", "", "", "bad", "", "25:00", "", "monday", "Mars/Olympus", "", "", true, -1, -1},
		{false, "key:sign", "key:sign", "label:team=a", "k", "team", "a", "2001:db8::/32", "2001:db8::1", "9:00", "09:00", "", "America/New_York", "x", "", false, 1 << 40, 1 << 40},
		{true, "", "", "label:", "", "", "", "", "fe80::1%eth0", "", "", "", "../../etc/passwd", "", "", true, 0, -1 << 40},
	} {
		f.Add(s.deny, s.action, s.pattern, s.resource, s.key, s.labelK, s.labelV, s.cidr, s.source,
			s.start, s.end, s.day, s.loc, s.ctxKey, s.ctxVal, s.mfa, s.mfaAgo, s.unix)
	}
	f.Fuzz(func(t *testing.T, isDeny bool, action, pattern, resource, key, labelK, labelV, cidr, source,
		start, end, day, loc, ctxKey, ctxVal string, needMFA bool, mfaAgo, unix int64) {
		effect := access.Allow
		if isDeny {
			effect = access.Deny
		}
		st := access.Statement{Effect: effect, Actions: []string{pattern}}
		if resource != "" {
			st.Resources = []string{resource}
		}
		if cidr != "" {
			st.Conditions.SourceCIDRs = []string{cidr}
		}
		if start != "" || end != "" || day != "" || loc != "" {
			w := &access.TimeWindow{Start: start, End: end, Location: loc}
			if day != "" {
				w.Days = []string{day}
			}
			st.Conditions.TimeWindow = w
		}
		if ctxKey != "" {
			var vals []string
			if ctxVal != "" {
				vals = []string{ctxVal}
			}
			st.Conditions.Context = map[string][]string{ctxKey: vals}
		}
		st.Conditions.MFA = needMFA
		if mfaAgo > 0 {
			st.Conditions.MFAMaxAge = access.Duration(mfaAgo)
		}
		fuzzed := access.Policy{Name: "fuzzed", Statements: []access.Statement{st}}
		_ = fuzzed.Validate()

		now := time.Unix(unix, 0)
		req := access.Request{
			Action:   access.Action(action),
			Resource: access.Resource{Key: key, Labels: map[string]string{labelK: labelV}},
			Time:     now,
			Context:  map[string]string{ctxKey: ctxVal},
		}
		if addr, err := netip.ParseAddr(source); err == nil {
			req.Source = addr
		}
		if mfaAgo != 0 {
			req.MFAAt = now.Add(-time.Duration(mfaAgo))
		}

		d := access.Evaluate([]access.Policy{fuzzed}, req)
		if d.Allowed != (d.Reason == access.ReasonAllowed) {
			t.Fatalf("inconsistent decision %+v", d)
		}
		if d.Reason != access.ReasonNoAllow && d.Policy != fuzzed.Name {
			t.Fatalf("decision %+v names no policy", d)
		}
		if d.Allowed && isDeny {
			t.Fatalf("a deny statement allowed: %+v", d)
		}
		if again := access.Evaluate([]access.Policy{fuzzed}, req); again != d {
			t.Fatalf("Evaluate = %+v, then %+v", d, again)
		}

		// An unconditional deny that matches wins, before or after.
		denyAll := access.Policy{Name: "deny-all", Statements: []access.Statement{{Effect: access.Deny, Actions: []string{"*"}}}}
		want := access.Decision{Reason: access.ReasonExplicitDeny, Policy: denyAll.Name}
		if got := access.Evaluate([]access.Policy{fuzzed, denyAll}, req); got.Allowed || got.Reason != access.ReasonExplicitDeny {
			t.Fatalf("with a deny after: %+v", got)
		}
		if got := access.Evaluate([]access.Policy{denyAll, fuzzed}, req); got != want {
			t.Fatalf("with a deny before: %+v, want %+v", got, want)
		}
		withDeny := fuzzed
		withDeny.Statements = []access.Statement{st, {Effect: access.Deny, Actions: []string{"*"}, Resources: []string{"*"}}}
		if got := access.Evaluate([]access.Policy{withDeny}, req); got.Allowed || got.Reason != access.ReasonExplicitDeny || got.Policy != withDeny.Name {
			t.Fatalf("with a deny statement: %+v", got)
		}

		// An unconditional allow wins unless the fuzzed statement denies.
		allowAll := access.Policy{Name: "allow-all", Statements: []access.Statement{{Effect: access.Allow, Actions: []string{"*"}}}}
		got := access.Evaluate([]access.Policy{fuzzed, allowAll}, req)
		if d.Reason == access.ReasonExplicitDeny {
			if got != d {
				t.Fatalf("explicit deny %+v became %+v next to an allow", d, got)
			}
		} else if !got.Allowed {
			t.Fatalf("with an unconditional allow: %+v (alone: %+v)", got, d)
		}
	})
}
