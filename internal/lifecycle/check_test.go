package lifecycle

import (
	"fmt"
	"strings"
	"testing"
)

// The oracle below restates the permission rules as sets of states, independently of refusal/Check.

var (
	oracleEncryptable = map[State]bool{Active: true}
	oracleDecryptable = map[State]bool{Active: true, Deactivated: true, DestroyScheduled: true}
	oracleStateCode   = map[State]Code{
		PreActive:        CodeKeyPreActive,
		Suspended:        CodeKeySuspended,
		Deactivated:      CodeKeyDeactivated,
		Compromised:      CodeKeyCompromised,
		DestroyScheduled: CodeKeyDestroyScheduled,
		Destroyed:        CodeKeyDestroyed,
	}
	// oracleStateWords is how each state is named in messages.
	oracleStateWords = map[State]string{
		PreActive:        "is pre-active",
		Suspended:        "is suspended",
		Deactivated:      "is deactivated",
		Compromised:      "is compromised",
		DestroyScheduled: "is scheduled for destruction",
		Destroyed:        "is destroyed",
	}
)

func oracleAllowed(s State, op Operation, allowCompromised bool) bool {
	switch op {
	case ReadMetadata:
		return true
	case Encrypt:
		return oracleEncryptable[s]
	case Decrypt:
		return oracleDecryptable[s] || (allowCompromised && s == Compromised)
	case ReadPublic:
		return s == PreActive || oracleAllowed(s, Decrypt, allowCompromised)
	}
	return false
}

func oracleCode(s State) Code {
	if c, ok := oracleStateCode[s]; ok {
		return c
	}
	return CodeInvalid
}

// oracleCheck returns the expected code ("" = allowed) and who refused: "key", "version", "primary" or "op".
func oracleCheck(u Use) (Code, string) {
	if u.Op != Encrypt && u.Op != Decrypt && u.Op != ReadPublic && u.Op != ReadMetadata {
		return CodeInvalid, "op"
	}
	if !oracleAllowed(u.KeyState, u.Op, u.AllowCompromised) {
		return oracleCode(u.KeyState), "key"
	}
	if !oracleAllowed(u.VersionState, u.Op, u.AllowCompromised) {
		return oracleCode(u.VersionState), "version"
	}
	if u.Op == Encrypt && !u.Primary {
		return CodeVersionNotPrimary, "primary"
	}
	return "", ""
}

var (
	allTestStates = append(States(), "", "bogus", "Active")
	allTestOps    = []Operation{Encrypt, Decrypt, ReadPublic, ReadMetadata, "", "sign", "Encrypt"}
)

func TestCheckExhaustive(t *testing.T) {
	t.Parallel()
	n, allowed := 0, 0
	for _, op := range allTestOps {
		for _, ks := range allTestStates {
			for _, vs := range allTestStates {
				for _, primary := range []bool{false, true} {
					for _, allow := range []bool{false, true} {
						for _, version := range []int{0, 3} {
							u := Use{Op: op, KeyState: ks, VersionState: vs, Primary: primary, AllowCompromised: allow, Version: version}
							n++
							wantCode, who := oracleCheck(u)
							err := Check(u)
							if wantCode == "" {
								if err != nil {
									t.Errorf("Check(%+v) = %v, want nil", u, err)
								}
								allowed++
								continue
							}
							if err == nil || err.Code != wantCode {
								t.Errorf("Check(%+v) = %v, want code %s", u, err, wantCode)
								continue
							}
							checkMessage(t, u, err, who)
						}
					}
				}
			}
		}
	}
	if want := len(allTestOps) * len(allTestStates) * len(allTestStates) * 2 * 2 * 2; n != want {
		t.Fatalf("checked %d combinations, want %d", n, want)
	}
	if allowed == 0 {
		t.Fatal("no combination allowed")
	}
}

// checkMessage verifies that the message names the refusing state and the operation, and the version when
// the version refused.
func checkMessage(t *testing.T, u Use, err *Error, who string) {
	t.Helper()
	msg := err.Message
	if err.Error() != msg || msg == "" {
		t.Errorf("Check(%+v): Error() = %q, Message = %q", u, err.Error(), msg)
	}
	hasVersion := strings.Contains(msg, "(version 3)")
	switch who {
	case "op":
		if !strings.Contains(msg, fmt.Sprintf("%q", u.Op)) {
			t.Errorf("Check(%+v): message %q does not name the operation", u, msg)
		}
		return
	case "key":
		if !strings.HasPrefix(msg, "key ") || strings.HasPrefix(msg, "key version") || strings.Contains(msg, "version") {
			t.Errorf("Check(%+v): key refusal message %q", u, msg)
		}
		checkStateWords(t, u, msg, u.KeyState)
	case "version":
		if !strings.HasPrefix(msg, "key version ") || hasVersion != (u.Version == 3) {
			t.Errorf("Check(%+v): version refusal message %q", u, msg)
		}
		checkStateWords(t, u, msg, u.VersionState)
	case "primary":
		if !strings.HasPrefix(msg, "key version ") || !strings.Contains(msg, "not the primary version") || hasVersion != (u.Version == 3) {
			t.Errorf("Check(%+v): primary refusal message %q", u, msg)
		}
	}
	words := string(u.Op)
	if u.Op == ReadPublic {
		words = "public key"
	}
	if !strings.Contains(msg, words) {
		t.Errorf("Check(%+v): message %q does not name the operation", u, msg)
	}
}

func checkStateWords(t *testing.T, u Use, msg string, s State) {
	t.Helper()
	words, ok := oracleStateWords[s]
	if !ok {
		words = fmt.Sprintf("has unknown state %q", s)
	}
	if !strings.Contains(msg, words) {
		t.Errorf("Check(%+v): message %q does not contain %q", u, msg, words)
	}
}

// Literal rows for the cases that matter most, messages included.
func TestCheckImportantCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		u    Use
		code Code // "" = allowed
		msg  string
	}{
		{"encrypt active primary", Use{Op: Encrypt, KeyState: Active, VersionState: Active, Primary: true}, "", ""},
		{"encrypt active non-primary", Use{Op: Encrypt, KeyState: Active, VersionState: Active, Version: 2},
			CodeVersionNotPrimary, "key version is not the primary version (version 2): only the primary version encrypts"},
		{"encrypt deactivated key", Use{Op: Encrypt, KeyState: Deactivated, VersionState: Active, Primary: true, Version: 3},
			CodeKeyDeactivated, "key is deactivated: it can decrypt but not encrypt"},
		{"encrypt deactivated primary version", Use{Op: Encrypt, KeyState: Active, VersionState: Deactivated, Primary: true, Version: 3},
			CodeKeyDeactivated, "key version is deactivated (version 3): it can decrypt but not encrypt"},
		{"encrypt deactivated version, no number", Use{Op: Encrypt, KeyState: Active, VersionState: Deactivated, Primary: true},
			CodeKeyDeactivated, "key version is deactivated: it can decrypt but not encrypt"},
		{"version state before primary rule", Use{Op: Encrypt, KeyState: Active, VersionState: Destroyed, Version: 1},
			CodeKeyDestroyed, "key version is destroyed (version 1): its material has been erased, so it cannot encrypt"},
		{"key before version", Use{Op: Encrypt, KeyState: Suspended, VersionState: Destroyed, Primary: true, Version: 1},
			CodeKeySuspended, "key is suspended: it cannot encrypt (a suspended key refuses every operation until it is resumed)"},
		{"encrypt pre-active", Use{Op: Encrypt, KeyState: PreActive, VersionState: PreActive, Primary: true},
			CodeKeyPreActive, "key is pre-active: it cannot encrypt until it is activated"},
		{"encrypt destroy-scheduled", Use{Op: Encrypt, KeyState: DestroyScheduled, VersionState: Active, Primary: true},
			CodeKeyDestroyScheduled, "key is scheduled for destruction: it can decrypt until the deadline but not encrypt"},
		{"encrypt compromised even when allowed", Use{Op: Encrypt, KeyState: Compromised, VersionState: Active, Primary: true, AllowCompromised: true},
			CodeKeyCompromised, "key is compromised: it can never encrypt"},

		{"decrypt active non-primary", Use{Op: Decrypt, KeyState: Active, VersionState: Active}, "", ""},
		{"decrypt deactivated", Use{Op: Decrypt, KeyState: Deactivated, VersionState: Deactivated}, "", ""},
		{"decrypt destroy-scheduled", Use{Op: Decrypt, KeyState: DestroyScheduled, VersionState: Active}, "", ""},
		{"decrypt destroy-scheduled version", Use{Op: Decrypt, KeyState: Active, VersionState: DestroyScheduled}, "", ""},
		{"decrypt compromised refused", Use{Op: Decrypt, KeyState: Compromised, VersionState: Active},
			CodeKeyCompromised, "key is compromised: it can decrypt only when the caller sets allow_compromised"},
		{"decrypt compromised allowed", Use{Op: Decrypt, KeyState: Compromised, VersionState: Compromised, AllowCompromised: true}, "", ""},
		{"decrypt compromised version refused", Use{Op: Decrypt, KeyState: Active, VersionState: Compromised, Version: 4},
			CodeKeyCompromised, "key version is compromised (version 4): it can decrypt only when the caller sets allow_compromised"},
		{"decrypt suspended key", Use{Op: Decrypt, KeyState: Suspended, VersionState: Active},
			CodeKeySuspended, "key is suspended: it cannot decrypt (a suspended key refuses every operation until it is resumed)"},
		{"decrypt suspended version", Use{Op: Decrypt, KeyState: Active, VersionState: Suspended, Version: 2},
			CodeKeySuspended, "key version is suspended (version 2): it cannot decrypt (a suspended key refuses every operation until it is resumed)"},
		{"decrypt pre-active", Use{Op: Decrypt, KeyState: PreActive, VersionState: PreActive},
			CodeKeyPreActive, "key is pre-active: it cannot decrypt until it is activated"},
		{"decrypt destroyed key", Use{Op: Decrypt, KeyState: Destroyed, VersionState: Destroyed, AllowCompromised: true},
			CodeKeyDestroyed, "key is destroyed: its material has been erased, so it cannot decrypt"},
		{"decrypt destroyed version", Use{Op: Decrypt, KeyState: Deactivated, VersionState: Destroyed, Version: 1},
			CodeKeyDestroyed, "key version is destroyed (version 1): its material has been erased, so it cannot decrypt"},

		{"read destroyed", Use{Op: ReadMetadata, KeyState: Destroyed, VersionState: Destroyed}, "", ""},
		{"read suspended", Use{Op: ReadMetadata, KeyState: Suspended, VersionState: PreActive}, "", ""},
		{"read unknown state", Use{Op: ReadMetadata, KeyState: "bogus"}, "", ""},

		{"unknown key state", Use{Op: Decrypt, KeyState: "", VersionState: Active},
			CodeInvalid, `key has unknown state "": it cannot decrypt`},
		{"unknown version state", Use{Op: Encrypt, KeyState: Active, VersionState: "bogus", Primary: true, Version: 7},
			CodeInvalid, `key version has unknown state "bogus" (version 7): it cannot encrypt`},
		{"unknown operation", Use{Op: "sign", KeyState: Active, VersionState: Active, Primary: true},
			CodeInvalid, `unknown operation "sign"`},
		{"zero use", Use{}, CodeInvalid, `unknown operation ""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tc.u)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Code != tc.code || err.Message != tc.msg {
				t.Fatalf("Check = %#v\nwant code %s, message %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestPermits(t *testing.T) {
	t.Parallel()
	for _, s := range allTestStates {
		for _, op := range allTestOps {
			for _, allow := range []bool{false, true} {
				if got, want := Permits(s, op, allow), oracleAllowed(s, op, allow); got != want {
					t.Errorf("Permits(%q, %q, %v) = %v, want %v", s, op, allow, got, want)
				}
			}
		}
	}
	// Permits is Check on a use where key and version share the state and the primary rule is satisfied.
	for _, s := range allTestStates {
		for _, op := range []Operation{Encrypt, Decrypt, ReadPublic, ReadMetadata} {
			for _, allow := range []bool{false, true} {
				u := Use{Op: op, KeyState: s, VersionState: s, Primary: true, AllowCompromised: allow}
				if got, want := Permits(s, op, allow), Check(u) == nil; got != want {
					t.Errorf("Permits(%q, %q, %v) = %v, Check = %v", s, op, allow, got, Check(u))
				}
			}
		}
	}
}

// allowedUses are the allowed paths that must not allocate.
var allowedUses = []Use{
	{Op: Encrypt, KeyState: Active, VersionState: Active, Primary: true, Version: 9},
	{Op: Decrypt, KeyState: Deactivated, VersionState: DestroyScheduled, Version: 2},
	{Op: Decrypt, KeyState: Compromised, VersionState: Active, AllowCompromised: true},
	{Op: ReadMetadata, KeyState: Destroyed, VersionState: Destroyed},
	{Op: ReadPublic, KeyState: PreActive, VersionState: PreActive},
}

// TestAllowedPathDoesNotAllocate is deliberately not parallel: AllocsPerRun counts allocations process-wide,
// and top-level parallel tests do not run while a sequential one does.
func TestAllowedPathDoesNotAllocate(t *testing.T) {
	for _, u := range allowedUses {
		if n := testing.AllocsPerRun(100, func() {
			if Check(u) != nil {
				t.Fatal("refused")
			}
		}); n != 0 {
			t.Errorf("Check(%+v): %v allocs/op", u, n)
		}
	}
	for _, tr := range Transitions() {
		if n := testing.AllocsPerRun(100, func() {
			if _, err := Next(tr.From, tr.Action, tr.To); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("Next(%v): %v allocs/op", tr, n)
		}
	}
	for _, s := range States() {
		if n := testing.AllocsPerRun(100, func() { sinkBool = Permits(s, Decrypt, false) }); n != 0 {
			t.Errorf("Permits(%s): %v allocs/op", s, n)
		}
	}
}

var (
	sinkErr  *Error
	sinkBool bool
)

func BenchmarkCheckAllowed(b *testing.B) {
	for _, u := range allowedUses[:3] {
		b.Run(string(u.Op)+"/"+string(u.KeyState), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkErr = Check(u)
			}
			if sinkErr != nil {
				b.Fatal(sinkErr)
			}
		})
	}
}

func BenchmarkNextAllowed(b *testing.B) {
	b.ReportAllocs()
	var s State
	for b.Loop() {
		s, _ = Next(DestroyScheduled, CancelDestruction, Compromised)
	}
	if s != Compromised {
		b.Fatal(s)
	}
}
