package lifecycle

import "strconv"

// Operation is the class of a use of key material, as far as key states are concerned. Each service
// operation maps to one of them before it touches material.
type Operation string

const (
	// Encrypt applies protection, producing new protected data: encrypt, generate-data-key, the
	// re-encrypting half of rewrap (and sign or generate-mac, should they exist). Only an active key's
	// active primary version may do it.
	Encrypt Operation = "encrypt"
	// Decrypt processes existing protected data: decrypt, the decrypting half of rewrap (and verify or
	// verify-mac, should they exist). Active, deactivated and destroy-scheduled keys and versions may do it;
	// compromised ones only when the caller allows it.
	Decrypt Operation = "decrypt"
	// ReadPublic reads a version's public key. It is allowed wherever Decrypt is, and also before
	// activation: a pre-active key pair's public key may be distributed (to have it certified, say) before
	// the private key protects anything.
	ReadPublic Operation = "read-public"
	// ReadMetadata reads a key's metadata (get key, list versions). It never touches material and is always
	// allowed, even on a destroyed key, whose metadata is kept as a tombstone.
	ReadMetadata Operation = "read-metadata"
)

// Use describes one use of a key version, as the service sees it just before touching material.
type Use struct {
	// Op is what the caller wants to do.
	Op Operation
	// KeyState is the state of the key, and VersionState that of the version used. Both are checked: a
	// version cannot do more than its key, nor more than its own state allows.
	KeyState, VersionState State
	// Primary reports that the version is the key's primary version, the only one that encrypts.
	Primary bool
	// AllowCompromised reports that the caller explicitly allows decrypting with a compromised key or
	// version (the allow_compromised request flag). It never allows encrypting.
	AllowCompromised bool
	// Version is the version number, used only to name the version in refusal messages ("(version 3)");
	// zero leaves the number out.
	Version int
}

// Check returns nil if the use is permitted, else an *[Error] whose Code says why. The key is checked
// before the version, and the version's state before the primary rule; the first refusal wins. A version
// refusal uses the code of the version's state (a deactivated version gives [CodeKeyDeactivated]) and its
// message names the version. Check does not allocate when it returns nil.
func Check(u Use) *Error {
	switch u.Op {
	case ReadMetadata:
		return nil
	case Encrypt, Decrypt, ReadPublic:
	default:
		return &Error{Code: CodeInvalid, Message: "unknown operation " + strconv.Quote(string(u.Op))}
	}
	if code := refusal(u.KeyState, u.Op, u.AllowCompromised); code != "" {
		return &Error{Code: code, Message: "key " + reason(u.KeyState, u.Op)}
	}
	if code := refusal(u.VersionState, u.Op, u.AllowCompromised); code != "" {
		return &Error{Code: code, Message: "key version " + insertVersion(reason(u.VersionState, u.Op), u.Version)}
	}
	if u.Op == Encrypt && !u.Primary {
		return &Error{Code: CodeVersionNotPrimary,
			Message: "key version " + insertVersion("is not the primary version: only the primary version encrypts", u.Version)}
	}
	return nil
}

// Permits reports whether one key or version in state s may be used for op, ignoring the primary-version
// rule (see [Check] for a whole use). allowCompromised has the meaning of [Use.AllowCompromised]. It is used
// for documentation and health reports. Unknown states and operations are refused, except that
// ReadMetadata is always permitted.
func Permits(s State, op Operation, allowCompromised bool) bool {
	switch op {
	case ReadMetadata:
		return true
	case Encrypt, Decrypt, ReadPublic:
		return refusal(s, op, allowCompromised) == ""
	}
	return false
}

// refusal returns "" if state s permits op (Encrypt, Decrypt or ReadPublic), else the code of the refusal. It never
// allocates: Permits and the allowed path of Check rely on it.
func refusal(s State, op Operation, allowCompromised bool) Code {
	if op == ReadPublic {
		if s == PreActive {
			return ""
		}
		op = Decrypt
	}
	switch s {
	case Active:
		return ""
	case PreActive:
		return CodeKeyPreActive
	case Suspended:
		return CodeKeySuspended
	case Deactivated:
		if op == Decrypt {
			return ""
		}
		return CodeKeyDeactivated
	case Compromised:
		if op == Decrypt && allowCompromised {
			return ""
		}
		return CodeKeyCompromised
	case DestroyScheduled:
		if op == Decrypt {
			return ""
		}
		return CodeKeyDestroyScheduled
	case Destroyed:
		return CodeKeyDestroyed
	}
	return CodeInvalid
}

// reason returns the message of a refusal of op by state s after its subject ("is deactivated: ..."). It
// runs only on the refusal path.
func reason(s State, op Operation) string {
	verb := string(op)
	if op == ReadPublic {
		verb = "give its public key"
	}
	switch s {
	case PreActive:
		return "is pre-active: it cannot " + verb + " until it is activated"
	case Suspended:
		return "is suspended: it cannot " + verb + " (a suspended key refuses every operation until it is resumed)"
	case Deactivated:
		return "is deactivated: it can decrypt but not encrypt"
	case Compromised:
		switch op {
		case Decrypt:
			return "is compromised: it can decrypt only when the caller sets allow_compromised"
		case ReadPublic:
			return "is compromised: its public key is no longer given out"
		}
		return "is compromised: it can never encrypt"
	case DestroyScheduled:
		return "is scheduled for destruction: it can decrypt until the deadline but not encrypt"
	case Destroyed:
		return "is destroyed: its material has been erased, so it cannot " + verb
	}
	return "has unknown state " + strconv.Quote(string(s)) + ": it cannot " + verb
}

// insertVersion turns "is X: why" into "is X (version n): why"; n == 0 leaves why unchanged.
func insertVersion(why string, n int) string {
	if n == 0 {
		return why
	}
	tag := " (version " + strconv.Itoa(n) + ")"
	for i := 0; i+1 < len(why); i++ {
		if why[i] == ':' && why[i+1] == ' ' {
			return why[:i] + tag + why[i:]
		}
	}
	return why + tag
}
