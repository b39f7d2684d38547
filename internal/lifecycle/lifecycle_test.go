package lifecycle

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// illegalTo marks an illegal pair in the expected tables below.
const illegalTo State = ""

// wantNext is the whole transition matrix, written out by hand: all 7 states × 8 actions = 56 rows.
// CancelDestruction is tried with prior = deactivated here; TestNextCancelDestructionPriors covers every prior.
var wantNext = []struct {
	from State
	a    Action
	want State // illegalTo when illegal
}{
	{PreActive, Activate, Active},
	{PreActive, Suspend, illegalTo},
	{PreActive, Resume, illegalTo},
	{PreActive, Deactivate, illegalTo},
	{PreActive, Compromise, Compromised},
	{PreActive, ScheduleDestruction, DestroyScheduled},
	{PreActive, CancelDestruction, illegalTo},
	{PreActive, Destroy, illegalTo},

	{Active, Activate, illegalTo}, // already active: unchanged state is illegal
	{Active, Suspend, Suspended},
	{Active, Resume, illegalTo},
	{Active, Deactivate, Deactivated},
	{Active, Compromise, Compromised},
	{Active, ScheduleDestruction, illegalTo}, // deactivate or suspend first
	{Active, CancelDestruction, illegalTo},
	{Active, Destroy, illegalTo},

	{Suspended, Activate, illegalTo}, // resume, not activate
	{Suspended, Suspend, illegalTo},
	{Suspended, Resume, Active},
	{Suspended, Deactivate, Deactivated},
	{Suspended, Compromise, Compromised},
	{Suspended, ScheduleDestruction, DestroyScheduled},
	{Suspended, CancelDestruction, illegalTo},
	{Suspended, Destroy, illegalTo},

	{Deactivated, Activate, illegalTo}, // no reactivation
	{Deactivated, Suspend, illegalTo},
	{Deactivated, Resume, illegalTo},
	{Deactivated, Deactivate, illegalTo},
	{Deactivated, Compromise, Compromised},
	{Deactivated, ScheduleDestruction, DestroyScheduled},
	{Deactivated, CancelDestruction, illegalTo},
	{Deactivated, Destroy, illegalTo},

	{Compromised, Activate, illegalTo},
	{Compromised, Suspend, illegalTo},
	{Compromised, Resume, illegalTo},
	{Compromised, Deactivate, illegalTo},
	{Compromised, Compromise, illegalTo},
	{Compromised, ScheduleDestruction, DestroyScheduled},
	{Compromised, CancelDestruction, illegalTo},
	{Compromised, Destroy, illegalTo},

	{DestroyScheduled, Activate, illegalTo},
	{DestroyScheduled, Suspend, illegalTo},
	{DestroyScheduled, Resume, illegalTo},
	{DestroyScheduled, Deactivate, illegalTo},
	{DestroyScheduled, Compromise, illegalTo}, // cancel first
	{DestroyScheduled, ScheduleDestruction, illegalTo},
	{DestroyScheduled, CancelDestruction, Deactivated}, // back to prior
	{DestroyScheduled, Destroy, Destroyed},

	{Destroyed, Activate, illegalTo},
	{Destroyed, Suspend, illegalTo},
	{Destroyed, Resume, illegalTo},
	{Destroyed, Deactivate, illegalTo},
	{Destroyed, Compromise, illegalTo},
	{Destroyed, ScheduleDestruction, illegalTo},
	{Destroyed, CancelDestruction, illegalTo},
	{Destroyed, Destroy, illegalTo},
}

func TestNextMatrix(t *testing.T) {
	t.Parallel()
	if got, want := len(wantNext), len(States())*len(Actions()); got != want {
		t.Fatalf("expected table has %d rows, want %d", got, want)
	}
	seen := map[[2]string]bool{}
	for _, tc := range wantNext {
		key := [2]string{string(tc.from), string(tc.a)}
		if seen[key] {
			t.Fatalf("duplicate row %v", key)
		}
		seen[key] = true
		t.Run(string(tc.from)+"/"+string(tc.a), func(t *testing.T) {
			t.Parallel()
			got, err := Next(tc.from, tc.a, Deactivated)
			checkNext(t, got, err, tc.want)
		})
	}
}

func checkNext(t *testing.T, got State, err error, want State) {
	t.Helper()
	if want == illegalTo {
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeIllegalTransition {
			t.Fatalf("Next = %q, %v; want *Error{Code: %s}", got, err, CodeIllegalTransition)
		}
		if got != "" {
			t.Errorf("illegal transition returned state %q, want \"\"", got)
		}
		if !strings.HasPrefix(e.Message, "illegal transition: ") || e.Error() != e.Message {
			t.Errorf("message %q", e.Message)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("Next = %q, %v; want %q", got, err, want)
	}
}

func TestNextCancelDestructionPriors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prior State
		want  State
	}{
		{PreActive, PreActive},
		{Active, illegalTo}, // active keys cannot be scheduled, so it cannot be a prior
		{Suspended, Suspended},
		{Deactivated, Deactivated},
		{Compromised, Compromised},
		{DestroyScheduled, illegalTo},
		{Destroyed, illegalTo},
		{"", illegalTo},
		{"bogus", illegalTo},
		{"Deactivated", illegalTo},
	}
	for _, tc := range tests {
		t.Run("prior="+string(tc.prior), func(t *testing.T) {
			t.Parallel()
			got, err := Next(DestroyScheduled, CancelDestruction, tc.prior)
			checkNext(t, got, err, tc.want)
			if tc.want == illegalTo && !strings.Contains(err.Error(), "recorded before scheduling") {
				t.Errorf("message does not explain the prior: %q", err)
			}
		})
	}
	// From any other state, cancel-destruction is illegal whatever the prior.
	for _, from := range States() {
		if from == DestroyScheduled {
			continue
		}
		for _, prior := range append(States(), "") {
			got, err := Next(from, CancelDestruction, prior)
			checkNext(t, got, err, illegalTo)
		}
	}
}

// The prior argument only matters for CancelDestruction.
func TestNextIgnoresPriorForOtherActions(t *testing.T) {
	t.Parallel()
	for _, tc := range wantNext {
		if tc.a == CancelDestruction {
			continue
		}
		for _, prior := range append(States(), "", "bogus") {
			got, err := Next(tc.from, tc.a, prior)
			checkNext(t, got, err, tc.want)
		}
	}
}

func TestNextUnknownInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from State
		a    Action
		msg  string
	}{
		{"", Activate, `unknown state ""`},
		{"bogus", Activate, `unknown state "bogus"`},
		{"Active", Suspend, `unknown state "Active"`},
		{Active, "", `unknown action ""`},
		{Active, "SUSPEND", `unknown action "SUSPEND"`},
		{Active, "rotate", `unknown action "rotate"`},
	}
	for _, tc := range tests {
		got, err := Next(tc.from, tc.a, PreActive)
		checkNext(t, got, err, illegalTo)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Next(%q, %q): message %q does not contain %q", tc.from, tc.a, err, tc.msg)
		}
	}
}

func TestNextMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from State
		a    Action
		msg  string
	}{
		{Active, Activate, "illegal transition: cannot activate: the key is already active"},
		{Deactivated, Deactivate, "illegal transition: cannot deactivate: the key is already deactivated"},
		{Destroyed, Destroy, "illegal transition: cannot destroy: the key is already destroyed"},
		{Active, ScheduleDestruction, "illegal transition: cannot schedule-destruction from active (allowed from active: suspend, deactivate, compromise)"},
		{Deactivated, Activate, "illegal transition: cannot activate from deactivated (allowed from deactivated: compromise, schedule-destruction)"},
		{DestroyScheduled, Compromise, "illegal transition: cannot compromise from destroy-scheduled (allowed from destroy-scheduled: destroy, cancel-destruction)"},
		{Destroyed, Activate, "illegal transition: cannot activate from destroyed: destroyed is terminal"},
	}
	for _, tc := range tests {
		_, err := Next(tc.from, tc.a, PreActive)
		if err == nil || err.Error() != tc.msg {
			t.Errorf("Next(%s, %s) error = %v\nwant %s", tc.from, tc.a, err, tc.msg)
		}
	}
}

// Transitions() must list exactly the pairs Next accepts, each once, in a stable order.
func TestTransitionsMatchNext(t *testing.T) {
	t.Parallel()
	listed := map[Transition]bool{}
	for _, tr := range Transitions() {
		if listed[tr] {
			t.Errorf("duplicate %v", tr)
		}
		listed[tr] = true
		if tr.From == tr.To {
			t.Errorf("%v leaves the state unchanged", tr)
		}
		got, err := Next(tr.From, tr.Action, tr.To) // tr.To is the prior for CancelDestruction, ignored otherwise
		if err != nil || got != tr.To {
			t.Errorf("Transitions lists %v but Next = %q, %v", tr, got, err)
		}
	}
	// Every accepted (from, action, prior) is listed.
	for _, from := range States() {
		for _, a := range Actions() {
			for _, prior := range States() {
				to, err := Next(from, a, prior)
				if err != nil {
					continue
				}
				if !listed[Transition{from, a, to}] {
					t.Errorf("Next(%s, %s, %s) = %s is not in Transitions()", from, a, prior, to)
				}
			}
		}
	}
	// Stable order: grouped by From in States() order.
	order := map[State]int{}
	for i, s := range States() {
		order[s] = i
	}
	trs := Transitions()
	if !slices.IsSortedFunc(trs, func(a, b Transition) int { return order[a.From] - order[b.From] }) {
		t.Errorf("Transitions() not grouped by From in States() order: %v", trs)
	}
	if !slices.Equal(trs, Transitions()) {
		t.Error("Transitions() order not stable")
	}
	// Fresh copies.
	trs[0].To = Destroyed
	if Transitions()[0].To == Destroyed {
		t.Error("Transitions() returns the internal table")
	}
}

// CancelDestruction returns exactly to the states destruction can be scheduled from.
func TestCancelTargetsAreSchedulableStates(t *testing.T) {
	t.Parallel()
	var schedulable, cancelTo []State
	for _, tr := range Transitions() {
		switch tr.Action {
		case ScheduleDestruction:
			schedulable = append(schedulable, tr.From)
		case CancelDestruction:
			cancelTo = append(cancelTo, tr.To)
		}
	}
	want := []State{PreActive, Suspended, Deactivated, Compromised}
	if !slices.Equal(schedulable, want) || !slices.Equal(cancelTo, want) {
		t.Errorf("schedulable %v, cancel targets %v, want %v", schedulable, cancelTo, want)
	}
}

func TestStatesAndActionsOrder(t *testing.T) {
	t.Parallel()
	wantStates := []State{"pre-active", "active", "suspended", "deactivated", "compromised", "destroy-scheduled", "destroyed"}
	if got := States(); !slices.Equal(got, wantStates) {
		t.Errorf("States() = %v", got)
	}
	wantActions := []Action{"activate", "suspend", "resume", "deactivate", "compromise", "schedule-destruction", "cancel-destruction", "destroy"}
	if got := Actions(); !slices.Equal(got, wantActions) {
		t.Errorf("Actions() = %v", got)
	}
	s := States()
	s[0] = "x"
	a := Actions()
	a[0] = "x"
	if States()[0] != PreActive || Actions()[0] != Activate {
		t.Error("States()/Actions() return internal arrays")
	}
}

func TestParseState(t *testing.T) {
	t.Parallel()
	for _, s := range States() {
		got, err := ParseState(string(s))
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "Active", "ACTIVE", " active", "active ", "pre_active", "preactive", "destroy_scheduled", "destroyed\x00", "unknown"} {
		got, err := ParseState(bad)
		if err == nil || got != "" {
			t.Errorf("ParseState(%q) = %q, %v; want error", bad, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "pre-active, active, suspended") {
			t.Errorf("ParseState(%q) error does not list valid states: %v", bad, err)
		}
	}
}

func TestParseAction(t *testing.T) {
	t.Parallel()
	for _, a := range Actions() {
		got, err := ParseAction(string(a))
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %q, %v", a, got, err)
		}
	}
	for _, bad := range []string{"", "Activate", "schedule_destruction", "cancel", "rotate", "destroy ", "active"} {
		got, err := ParseAction(bad)
		if err == nil || got != "" {
			t.Errorf("ParseAction(%q) = %q, %v; want error", bad, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "activate, suspend, resume") {
			t.Errorf("ParseAction(%q) error does not list valid actions: %v", bad, err)
		}
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	if got := (&Error{Code: CodeKeyDestroyed}).Error(); got != "key_destroyed" {
		t.Errorf("empty message: %q", got)
	}
	if got := (&Error{Code: CodeKeyDestroyed, Message: "m"}).Error(); got != "m" {
		t.Errorf("message: %q", got)
	}
}
