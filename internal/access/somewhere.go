package access

// AllowsSomewhere reports whether some allow statement of policies covers
// action on at least one resource, ignoring conditions and deny statements.
// It gates requests that prepare for, or enumerate, a key action without
// naming one key (an import token before the key it will import into is
// named; a key listing, whose results are then filtered key by key with
// Evaluate); each action on a key is authorised with Evaluate when it
// happens.
func AllowsSomewhere(policies []Policy, action Action) bool {
	for _, p := range policies {
		for _, st := range p.Statements {
			if st.Effect == Allow && coversAction(st.Actions, action) && reachesSome(st.Resources, action) {
				return true
			}
		}
	}
	return false
}

func coversAction(patterns []string, a Action) bool {
	for _, p := range patterns {
		if matchAction(p, a) {
			return true
		}
	}
	return false
}

// reachesSome reports whether selectors can cover some resource of a: any
// well-formed selector for a key action, only "*" (or none) for a server
// action.
func reachesSome(selectors []string, a Action) bool {
	if len(selectors) == 0 {
		return true
	}
	for _, sel := range selectors {
		if sel == "*" || (a.OnKey() && validResource(sel) == nil) {
			return true
		}
	}
	return false
}

// Grant is how far an identity's policies allow an action on a resource,
// whatever the request: for access reviews.
type Grant string

// Grants.
const (
	// Granted: an unconditional allow applies and no deny can.
	Granted Grant = "allowed"
	// Conditional: allowed only for some requests (source, time, context,
	// MFA), or a conditional deny may refuse it.
	Conditional Grant = "conditional"
	// Denied: no request is allowed.
	Denied Grant = "denied"
)

// Effective computes the Grant of action on res under policies: the same
// matching rules as Evaluate, over every possible request.
func Effective(policies []Policy, action Action, res Resource) Grant {
	allow, conditionalAllow, conditionalDeny := false, false, false
	for _, p := range policies {
		for _, st := range p.Statements {
			if !st.matches(Request{Action: action, Resource: res}) {
				continue
			}
			unconditional := st.Conditions.empty()
			switch {
			case st.Effect == Deny && unconditional:
				return Denied
			case st.Effect == Deny:
				conditionalDeny = true
			case unconditional:
				allow = true
			default:
				conditionalAllow = true
			}
		}
	}
	switch {
	case allow && !conditionalDeny:
		return Granted
	case allow || conditionalAllow:
		return Conditional
	}
	return Denied
}

// empty reports whether no condition is set.
func (c *Conditions) empty() bool {
	return len(c.SourceCIDRs) == 0 && c.TimeWindow == nil && len(c.Context) == 0 && !c.MFA && c.MFAMaxAge == 0
}
