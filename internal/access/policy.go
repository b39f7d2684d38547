package access

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"
	"time"
)

// Effect is what a matching statement does.
type Effect string

// Effects.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Policy is a named set of statements, attached to identities directly or
// through roles.
type Policy struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Statements  []Statement `json:"statements"`
}

// Statement allows or denies actions on resources, under conditions.
type Statement struct {
	Effect Effect `json:"effect"`
	// Actions are action names or patterns: "key:encrypt", "key:*", "*".
	Actions []string `json:"actions"`
	// Resources select keys: "key:NAME" with NAME a glob ("key:billing-*",
	// "key:*"), or "label:K=V" for keys labelled K=V. Actions that are not
	// on a key need no resource; "*" matches everything. Empty means "*".
	Resources []string `json:"resources,omitempty"`
	// Conditions must all hold for the statement to apply.
	Conditions Conditions `json:"conditions,omitzero"`
}

// Conditions narrow a statement to some requests.
type Conditions struct {
	// SourceCIDRs: the request's source address is in one of them.
	SourceCIDRs []string `json:"source_cidrs,omitempty"`
	// TimeWindow: the request arrives inside the window.
	TimeWindow *TimeWindow `json:"time_window,omitempty"`
	// Context: the request's encryption context has each key; a non-empty
	// value list restricts the values.
	Context map[string][]string `json:"context,omitempty"`
	// MFA: the identity proved a second factor, within MFAMaxAge if set.
	MFA       bool     `json:"mfa,omitempty"`
	MFAMaxAge Duration `json:"mfa_max_age,omitzero"`
}

// TimeWindow is a daily window, [Start, End) in Location, on Days (every day
// if empty). A window whose End is before its Start spans midnight.
type TimeWindow struct {
	Start    string   `json:"start"` // "09:00"
	End      string   `json:"end"`   // "17:30"
	Days     []string `json:"days,omitempty"`
	Location string   `json:"location,omitempty"` // IANA zone; UTC if empty
}

// Duration is a time.Duration written as a Go duration string in JSON.
type Duration time.Duration

// MarshalText writes the duration as "15m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v < 0 {
		return fmt.Errorf("invalid duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// Resource is what an action acts on: a key's name and labels, or nothing.
type Resource struct {
	Key    string
	Labels map[string]string
}

// Request is one authorisation question.
type Request struct {
	Action   Action
	Resource Resource
	Source   netip.Addr
	Time     time.Time
	// Context is the request's encryption context, if any.
	Context map[string]string
	// MFAAt is when the identity last proved a second factor (zero: never).
	MFAAt time.Time
}

// Reason says why a decision was made; it is stable, for callers and audit.
type Reason string

// Reasons.
const (
	ReasonAllowed      Reason = "allowed"
	ReasonNoAllow      Reason = "no_matching_allow"
	ReasonExplicitDeny Reason = "explicit_deny"
	ReasonSource       Reason = "condition_source_address"
	ReasonTime         Reason = "condition_time_window"
	ReasonContext      Reason = "condition_encryption_context"
	ReasonMFA          Reason = "condition_mfa"
)

// Decision is the answer to a Request.
type Decision struct {
	Allowed bool
	Reason  Reason
	// Policy names the policy of the deciding statement (empty for the
	// default deny).
	Policy string
}

// Evaluate decides req against policies. Default deny; a deny statement
// that matches (with its conditions) wins over every allow. When no allow
// applies but one matched except for a condition, the reason names the
// first failed condition, so the caller learns what to fix.
func Evaluate(policies []Policy, req Request) Decision {
	var allow *Decision
	failed := Decision{Reason: ReasonNoAllow}
	for _, p := range policies {
		for _, st := range p.Statements {
			if !st.matches(req) {
				continue
			}
			reason := st.Conditions.check(req)
			switch {
			case st.Effect == Deny && reason == "":
				return Decision{Reason: ReasonExplicitDeny, Policy: p.Name}
			case st.Effect == Allow && reason == "" && allow == nil:
				allow = &Decision{Allowed: true, Reason: ReasonAllowed, Policy: p.Name}
			case st.Effect == Allow && reason != "" && failed.Reason == ReasonNoAllow:
				failed = Decision{Reason: reason, Policy: p.Name}
			}
		}
	}
	if allow != nil {
		return *allow
	}
	return failed
}

// matches reports whether the statement covers the request's action and
// resource (conditions aside).
func (st *Statement) matches(req Request) bool {
	hit := false
	for _, a := range st.Actions {
		if matchAction(a, req.Action) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	if len(st.Resources) == 0 {
		return true
	}
	for _, r := range st.Resources {
		if matchResource(r, req.Action, req.Resource) {
			return true
		}
	}
	return false
}

// matchResource reports whether one resource selector covers res.
func matchResource(sel string, a Action, res Resource) bool {
	if sel == "*" {
		return true
	}
	if !a.OnKey() {
		return false // key selectors never cover server actions
	}
	// Selectors Validate rejects match nothing: fail closed.
	if name, ok := strings.CutPrefix(sel, "key:"); ok && name != "" {
		m, err := path.Match(name, res.Key)
		return err == nil && m
	}
	if kv, ok := strings.CutPrefix(sel, "label:"); ok {
		k, v, found := strings.Cut(kv, "=")
		got, has := res.Labels[k]
		return found && k != "" && has && got == v
	}
	return false
}

// check returns the reason of the first condition req fails, or "".
func (c *Conditions) check(req Request) Reason {
	if len(c.SourceCIDRs) > 0 {
		in := false
		for _, s := range c.SourceCIDRs {
			if p, err := netip.ParsePrefix(s); err == nil && req.Source.IsValid() && p.Contains(req.Source.Unmap()) {
				in = true
				break
			}
		}
		if !in {
			return ReasonSource
		}
	}
	if w := c.TimeWindow; w != nil && !w.contains(req.Time) {
		return ReasonTime
	}
	for k, vals := range c.Context {
		got, ok := req.Context[k]
		if !ok || (len(vals) > 0 && !contains(vals, got)) {
			return ReasonContext
		}
	}
	if c.MFA || c.MFAMaxAge > 0 {
		if req.MFAAt.IsZero() || (c.MFAMaxAge > 0 && req.Time.Sub(req.MFAAt) > time.Duration(c.MFAMaxAge)) {
			return ReasonMFA
		}
	}
	return ""
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// contains reports whether t falls inside the window. An invalid window
// (rejected by Validate) contains nothing: fail closed.
func (w *TimeWindow) contains(t time.Time) bool {
	loc := time.UTC
	if w.Location != "" {
		l, err := time.LoadLocation(w.Location)
		if err != nil {
			return false
		}
		loc = l
	}
	start, err1 := clock(w.Start)
	end, err2 := clock(w.End)
	if err1 != nil || err2 != nil {
		return false
	}
	lt := t.In(loc)
	now := lt.Hour()*60 + lt.Minute()
	day := lt.Weekday()
	if start > end && now < end {
		day = (day + 6) % 7 // the window began the day before
	}
	if len(w.Days) > 0 && !contains(w.Days, strings.ToLower(day.String()[:3])) {
		return false
	}
	if start <= end {
		return now >= start && now < end
	}
	return now >= start || now < end
}

// clock parses "HH:MM" into minutes after midnight.
func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("invalid time %q (want HH:MM)", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Validate checks a policy so that only well-formed policies are stored:
// every action pattern matches a known action, every resource and
// condition parses.
func (p *Policy) Validate() error {
	if p.Name == "" {
		return errors.New("a policy needs a name")
	}
	if len(p.Statements) == 0 {
		return fmt.Errorf("policy %q has no statements", p.Name)
	}
	for i, st := range p.Statements {
		if err := st.validate(); err != nil {
			return fmt.Errorf("policy %q statement %d: %w", p.Name, i+1, err)
		}
	}
	return nil
}

func (st *Statement) validate() error {
	if st.Effect != Allow && st.Effect != Deny {
		return fmt.Errorf("effect must be allow or deny, not %q", st.Effect)
	}
	if len(st.Actions) == 0 {
		return errors.New("a statement needs actions")
	}
	for _, a := range st.Actions {
		if len(expandActions(a)) == 0 {
			return fmt.Errorf("action %q matches no action", a)
		}
	}
	for _, r := range st.Resources {
		if err := validResource(r); err != nil {
			return err
		}
	}
	c := st.Conditions
	for _, s := range c.SourceCIDRs {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("source_cidrs: %q is not a CIDR prefix", s)
		}
	}
	if w := c.TimeWindow; w != nil {
		start, err := clock(w.Start)
		if err != nil {
			return fmt.Errorf("time_window.start: %w", err)
		}
		end, err := clock(w.End)
		if err != nil {
			return fmt.Errorf("time_window.end: %w", err)
		}
		if start == end { // "9:00" and "09:00" are the same time
			return errors.New("time_window: start and end are equal")
		}
		for _, d := range w.Days {
			if !contains(weekdays, d) {
				return fmt.Errorf("time_window.days: %q is not one of %v", d, weekdays)
			}
		}
		if w.Location != "" {
			if _, err := time.LoadLocation(w.Location); err != nil {
				return fmt.Errorf("time_window.location: unknown zone %q", w.Location)
			}
		}
	}
	for k := range c.Context {
		if k == "" {
			return errors.New("context: empty key")
		}
	}
	return nil
}

func validResource(r string) error {
	if r == "*" {
		return nil
	}
	if name, ok := strings.CutPrefix(r, "key:"); ok {
		if _, err := path.Match(name, ""); err != nil || name == "" {
			return fmt.Errorf("resource %q: bad key pattern", r)
		}
		return nil
	}
	if kv, ok := strings.CutPrefix(r, "label:"); ok {
		if k, _, found := strings.Cut(kv, "="); !found || k == "" {
			return fmt.Errorf("resource %q: want label:KEY=VALUE", r)
		}
		return nil
	}
	return fmt.Errorf("resource %q: want \"*\", \"key:GLOB\" or \"label:KEY=VALUE\"", r)
}
