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
