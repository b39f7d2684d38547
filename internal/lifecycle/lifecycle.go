// Package lifecycle holds Arca's key-state rules, after the key states of NIST SP 800-57 Part 1 (section 7).
//
// It is the one place that decides which state changes are legal ([Next], [Transitions]) and which
// cryptographic uses a key and key version in given states permit ([Check], [Permits]). It knows nothing of
// storage, HTTP or cryptography: it takes states and returns decisions, so the service layer can call it for
// every operation on every interface. The allowed paths of [Check] and [Next] do not allocate.
//
// Time-based transitions (activation and deactivation dates, the destruction deadline) are not decided here:
// the server's scheduler applies them by calling [Next] with the matching action when the time comes.
package lifecycle

import (
	"fmt"
	"strings"
)

// State is the lifecycle state of a key or of one key version. The zero value is not a valid state: every
// stored key and version carries one of the constants below, and an unknown state is refused everywhere
// (fail closed) except for reading metadata.
type State string

const (
	// PreActive is a key created but not yet usable: it waits for an explicit activation or its activation
	// date (NIST "pre-activation"). It can neither encrypt nor decrypt.
	PreActive State = "pre-active"
	// Active is a key in its use period: it applies and processes protection (NIST "active").
	Active State = "active"
	// Suspended is a key temporarily disabled by an operator, for example during an investigation. It is
	// reversible (resume) and refuses every cryptographic operation (NIST "suspended").
	Suspended State = "suspended"
	// Deactivated is a key past its use period: it only processes protection (decrypt, verify) and never
	// applies it again (NIST "deactivated").
	Deactivated State = "deactivated"
	// Compromised is a key whose material is known or suspected to be disclosed. It never applies protection
	// and processes it only when the caller explicitly allows it (NIST "compromised").
	Compromised State = "compromised"
	// DestroyScheduled is a key in its waiting period before destruction. It still decrypts until the
	// deadline so that mistakes can be noticed and cancelled; it never encrypts. It has no NIST counterpart
	// of its own: it is the tail of the deactivated (or compromised) period with a fixed end.
	DestroyScheduled State = "destroy-scheduled"
	// Destroyed is a key whose material has been erased (crypto-shredded). Its metadata is kept as a
	// tombstone so names are not reused and audits stay readable. It is terminal (NIST "destroyed").
	Destroyed State = "destroyed"
)

// states is the stable order of [States]: the order of the constants above, which is also the order of
// the documentation tables.
var states = [...]State{PreActive, Active, Suspended, Deactivated, Compromised, DestroyScheduled, Destroyed}

// ParseState returns the State spelled exactly s (for example "pre-active"), or an error naming the valid
// states. It is used to validate states read from requests and storage; matching is case-sensitive.
func ParseState(s string) (State, error) {
	for _, st := range states {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("lifecycle: unknown key state %q (valid: %s)", s, joinStates(states[:]))
}

// States returns every state in a stable order (pre-active, active, suspended, deactivated, compromised,
// destroy-scheduled, destroyed), for documentation, listings and exhaustive tests. The slice is a fresh copy.
func States() []State {
	out := make([]State, len(states))
	copy(out, states[:])
	return out
}

// valid reports whether s is one of the defined states.
func (s State) valid() bool {
	switch s {
	case PreActive, Active, Suspended, Deactivated, Compromised, DestroyScheduled, Destroyed:
		return true
	}
	return false
}

// Action is a request to change the state of a key or key version. Whether it is legal depends on the
// current state; see [Next] and [Transitions].
type Action string

const (
	// Activate makes a pre-active key usable: pre-active → active. It is also what the scheduler applies at
	// the activation date.
	Activate Action = "activate"
	// Suspend disables an active key temporarily: active → suspended.
	Suspend Action = "suspend"
	// Resume re-enables a suspended key: suspended → active.
	Resume Action = "resume"
	// Deactivate ends a key's use period: active or suspended → deactivated. It is also what the scheduler
	// applies at the deactivation date. There is no way back.
	Deactivate Action = "deactivate"
	// Compromise marks a key as compromised from any state that still has material and is not scheduled for
	// destruction (to mark a scheduled key compromised, cancel the destruction first).
	Compromise Action = "compromise"
	// ScheduleDestruction starts the waiting period before destruction, from pre-active, suspended,
	// deactivated or compromised. An active key must be deactivated or suspended first.
	ScheduleDestruction Action = "schedule-destruction"
	// CancelDestruction ends the waiting period and returns the key to the state it was in when destruction
	// was scheduled (the prior state passed to [Next]).
	CancelDestruction Action = "cancel-destruction"
	// Destroy erases the material: destroy-scheduled → destroyed. Only the scheduler applies it, once the
	// destruction deadline has passed.
	Destroy Action = "destroy"
)

// actions is the stable order of [Actions].
var actions = [...]Action{Activate, Suspend, Resume, Deactivate, Compromise, ScheduleDestruction, CancelDestruction, Destroy}

// ParseAction returns the Action spelled exactly s (for example "schedule-destruction"), or an error naming
// the valid actions. It is used to validate actions named in requests; matching is case-sensitive.
func ParseAction(s string) (Action, error) {
	for _, a := range actions {
		if string(a) == s {
			return a, nil
		}
	}
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = string(a)
	}
	return "", fmt.Errorf("lifecycle: unknown action %q (valid: %s)", s, strings.Join(names, ", "))
}

// Actions returns every action in a stable order (activate, suspend, resume, deactivate, compromise,
// schedule-destruction, cancel-destruction, destroy), for documentation and exhaustive tests. The slice is a
// fresh copy.
func Actions() []Action {
	out := make([]Action, len(actions))
	copy(out, actions[:])
	return out
}

// Transition is one legal state change: applying Action to a key in state From leaves it in state To.
type Transition struct {
	From   State
	Action Action
	To     State
}

// transitions is THE transition table: every legal (from, action, to), and nothing else. [Next] and
// [Transitions] both read it, and the documentation is generated from it.
//
// CancelDestruction has one row per state a key can be scheduled for destruction from; the row that
// applies is the one whose To is the prior state recorded when destruction was scheduled.
var transitions = [...]Transition{
	{PreActive, Activate, Active},
	{PreActive, Compromise, Compromised},
	{PreActive, ScheduleDestruction, DestroyScheduled},

	// No ScheduleDestruction: like KMIP, which refuses Destroy while a key is Active, an active key must be
	// deactivated or suspended before its destruction is scheduled.
	{Active, Suspend, Suspended},
	{Active, Deactivate, Deactivated},
	{Active, Compromise, Compromised},

	{Suspended, Resume, Active},
	{Suspended, Deactivate, Deactivated},
	{Suspended, Compromise, Compromised},
	{Suspended, ScheduleDestruction, DestroyScheduled},

	// No way back to active: a deactivated key is never used to apply protection again (SP 800-57).
	{Deactivated, Compromise, Compromised},
	{Deactivated, ScheduleDestruction, DestroyScheduled},

	{Compromised, ScheduleDestruction, DestroyScheduled},

	{DestroyScheduled, Destroy, Destroyed},
	{DestroyScheduled, CancelDestruction, PreActive},
	{DestroyScheduled, CancelDestruction, Suspended},
	{DestroyScheduled, CancelDestruction, Deactivated},
	{DestroyScheduled, CancelDestruction, Compromised},

	// Destroyed is terminal: no rows.
}

// Transitions returns the legal transitions in a stable order (grouped by From in the order of [States]),
// for documentation and tests. CancelDestruction appears once per possible prior state. The slice is a fresh
// copy.
func Transitions() []Transition {
	out := make([]Transition, len(transitions))
	copy(out, transitions[:])
	return out
}

// Next returns the state after applying a to a key (or key version) in state from. prior is the state
// recorded when destruction was scheduled and is used only by CancelDestruction, which returns to it; it
// must be one of pre-active, suspended, deactivated or compromised. Every pair not in the transition table
// is refused with an *[Error] whose Code is [CodeIllegalTransition], including actions that would leave the
// state unchanged (for example activate on an active key), so callers can answer a clear 409.
func Next(from State, a Action, prior State) (State, error) {
	matched := false
	for i := range transitions {
		t := &transitions[i]
		if t.From != from || t.Action != a {
			continue
		}
		if a != CancelDestruction || t.To == prior {
			return t.To, nil
		}
		matched = true
	}
	return "", illegal(from, a, prior, matched)
}

// illegal builds the error for a refused transition. It runs only on the refusal path, so it may allocate.
// matched reports that (from, a) exists in the table and only prior was wrong.
func illegal(from State, a Action, prior State, matched bool) *Error {
	var msg string
	switch {
	case !from.valid():
		msg = fmt.Sprintf("cannot %s: unknown state %q", a, from)
	case !a.valid():
		msg = fmt.Sprintf("unknown action %q", a)
	case matched:
		msg = fmt.Sprintf("cannot %s from %s: the state recorded before scheduling is %q, which is not one a key can be scheduled for destruction from (%s)",
			a, from, prior, joinStates(cancelTargets()))
	case actionTarget(a) == from:
		msg = fmt.Sprintf("cannot %s: the key is already %s", a, from)
	default:
		allowed := allowedActions(from)
		if len(allowed) == 0 {
			msg = fmt.Sprintf("cannot %s from %s: %s is terminal", a, from, from)
		} else {
			msg = fmt.Sprintf("cannot %s from %s (allowed from %s: %s)", a, from, from, strings.Join(allowed, ", "))
		}
	}
	return &Error{Code: CodeIllegalTransition, Message: "illegal transition: " + msg}
}

// valid reports whether a is one of the defined actions.
func (a Action) valid() bool {
	for _, x := range actions {
		if x == a {
			return true
		}
	}
	return false
}

// actionTarget returns the state an action leads to, read from the table, or "" for CancelDestruction
// (whose target depends on prior) and unknown actions.
func actionTarget(a Action) State {
	if a == CancelDestruction {
		return ""
	}
	for _, t := range transitions {
		if t.Action == a {
			return t.To
		}
	}
	return ""
}

// allowedActions lists, without duplicates and in table order, the actions legal from s.
func allowedActions(s State) []string {
	var out []string
	for _, t := range transitions {
		if t.From == s && (len(out) == 0 || out[len(out)-1] != string(t.Action)) {
			out = append(out, string(t.Action))
		}
	}
	return out
}

// cancelTargets lists the prior states CancelDestruction may return to, read from the table.
func cancelTargets() []State {
	var out []State
	for _, t := range transitions {
		if t.Action == CancelDestruction {
			out = append(out, t.To)
		}
	}
	return out
}

func joinStates(ss []State) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Code is the stable, machine-readable reason of an [Error]. Services put it in their error responses
// unchanged.
type Code string

const (
	// CodeIllegalTransition: the action is not legal from the current state (REST answers 409).
	CodeIllegalTransition Code = "illegal_transition"
	// CodeKeyPreActive: the key or version is pre-active and cannot be used yet.
	CodeKeyPreActive Code = "key_pre_active"
	// CodeKeySuspended: the key or version is suspended and refuses every operation.
	CodeKeySuspended Code = "key_suspended"
	// CodeKeyDeactivated: the key or version is deactivated and can only decrypt.
	CodeKeyDeactivated Code = "key_deactivated"
	// CodeKeyCompromised: the key or version is compromised; it never encrypts and decrypts only with
	// allow_compromised.
	CodeKeyCompromised Code = "key_compromised"
	// CodeKeyDestroyScheduled: the key or version is scheduled for destruction and can only decrypt.
	CodeKeyDestroyScheduled Code = "key_destroy_scheduled"
	// CodeKeyDestroyed: the key or version is destroyed; its material is gone.
	CodeKeyDestroyed Code = "key_destroyed"
	// CodeVersionNotPrimary: only the key's primary version may encrypt.
	CodeVersionNotPrimary Code = "version_not_primary"
	// CodeInvalid: an unknown state or operation was passed in. It means a caller bug or corrupted
	// metadata, never a user mistake, so services should treat it as an internal error. The use is
	// refused (fail closed).
	CodeInvalid Code = "invalid_lifecycle_input"
)

// Error is a refusal from [Next] or [Check]. Code is stable and machine-readable; Message is for humans and
// says which state refused which operation, for example "key is deactivated: it can decrypt but not
// encrypt", naming the version as "(version 3)" when the version's state caused the refusal.
type Error struct {
	Code    Code
	Message string
}

// Error returns the human-readable message (or the code when there is none).
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return e.Message
}
