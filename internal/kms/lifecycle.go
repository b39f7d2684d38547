package kms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Destruction waiting period bounds, in days.
const (
	DefaultWaitingDays = 30
	MinWaitingDays     = 1
	MaxWaitingDays     = 365
)

// lifecycleError converts a refusal of package lifecycle into an *Error
// with the same stable code. Input lifecycle cannot judge (an unknown state
// read from storage) is treated as a tampered record.
func lifecycleError(e *lifecycle.Error) *Error {
	if e.Code == lifecycle.CodeInvalid {
		return &Error{Code: CodeRecordTampered, Message: "stored key state is invalid and was not used"}
	}
	return &Error{Code: Code(e.Code), Message: e.Message}
}

// stateError refuses an operation that needs another key state.
func stateError(s lifecycle.State, msg string) *Error {
	code := CodeIllegalTransition
	if e := lifecycle.Check(lifecycle.Use{Op: lifecycle.Encrypt, KeyState: s, VersionState: lifecycle.Active, Primary: true}); e != nil {
		if le := lifecycleError(e); le.Code != Code(e.Code) {
			return le
		}
		code = Code(e.Code)
	}
	return &Error{Code: code, Message: fmt.Sprintf("key is %s: %s", s, msg)}
}

// ChangeStateRequest asks for one lifecycle action on a key, or on one of
// its versions when Version is set.
type ChangeStateRequest struct {
	Key     string
	Version uint32
	Action  string
	// WaitingDays is the destruction waiting period for
	// schedule-destruction: 1..365 days, default 30.
	WaitingDays int
	// SuspendFirst, with schedule-destruction of a key, suspends an active
	// key and schedules its destruction in one step (needing key:lifecycle
	// as well as key:destroy), so that either both happen or neither does;
	// cancelling the destruction then leaves the key suspended. It serves
	// APIs whose deletion applies to enabled keys (the AWS KMS API).
	SuspendFirst bool
}

// apply moves t through action a, keeping the prior state for a later
// cancel-destruction and setting or clearing the destruction deadline.
func (t *tombstone) apply(a lifecycle.Action, waiting time.Duration, now time.Time) error {
	next, err := lifecycle.Next(t.State, a, t.PriorState)
	if err != nil {
		var le *lifecycle.Error
		if errors.As(err, &le) {
			return lifecycleError(le)
		}
		return err
	}
	switch a {
	case lifecycle.ScheduleDestruction:
		t.PriorState, t.DestroyAt = t.State, now.Add(waiting)
	case lifecycle.CancelDestruction:
		t.PriorState, t.DestroyAt = "", time.Time{}
	}
	t.State = next
	return nil
}

func (r *ChangeStateRequest) validate() (lifecycle.Action, time.Duration, error) {
	a, err := lifecycle.ParseAction(r.Action)
	if err != nil {
		return "", 0, Errorf(CodeInvalidArgument, "action must be one of %v (destroy happens only when a scheduled destruction falls due)", userActions())
	}
	if a == lifecycle.Destroy {
		return "", 0, Errorf(CodeInvalidArgument, "keys are destroyed only when a scheduled destruction falls due: use schedule-destruction")
	}
	days := r.WaitingDays
	if a != lifecycle.ScheduleDestruction {
		if days != 0 {
			return "", 0, Errorf(CodeInvalidArgument, "waiting_days applies only to schedule-destruction")
		}
	} else if days == 0 {
		days = DefaultWaitingDays
	}
	if a == lifecycle.ScheduleDestruction && (days < MinWaitingDays || days > MaxWaitingDays) {
		return "", 0, Errorf(CodeInvalidArgument, "waiting_days must be between %d and %d", MinWaitingDays, MaxWaitingDays)
	}
	return a, time.Duration(days) * 24 * time.Hour, nil
}

func userActions() []lifecycle.Action {
	var out []lifecycle.Action
	for _, a := range lifecycle.Actions() {
		if a != lifecycle.Destroy {
			out = append(out, a)
		}
	}
	return out
}

// lifecycleAction is the access-control action of a lifecycle action:
// destruction (scheduling or cancelling it) is key:destroy, the rest
// key:lifecycle.
func lifecycleAction(a lifecycle.Action) access.Action {
	if a == lifecycle.ScheduleDestruction || a == lifecycle.CancelDestruction {
		return access.KeyDestroy
	}
	return access.KeyLifecycle
}

// destroyControl authorises a destruction request and applies dual
// control to it, before the change's transaction.
func (s *Service) destroyControl(ctx context.Context, kr *seal.Keyring, t *target, req ChangeStateRequest, waiting time.Duration) (func(storage.Tx) error, error) {
	ck, err := s.resolveFor(ctx, kr, req.Key, t, access.KeyDestroy)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyDestroy, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("key %q", ck.rec.Name)
	if req.Version != 0 {
		what = fmt.Sprintf("version %d of key %q", req.Version, ck.rec.Name)
	}
	return s.dualControlIn(ctx, kr, t, gated{action: access.KeyDestroy, op: OpKeyLifecycle, keyID: ck.rec.ID,
		summary: fmt.Sprintf("schedule the destruction of %s after %s", what, waiting),
		parts:   []string{"schedule-destruction", fmt.Sprint(req.Version), waiting.String()}})
}

// ChangeKeyState applies a lifecycle action to a key. The key's state gates
// every use of each of its versions.
func (s *Service) ChangeKeyState(ctx context.Context, req ChangeStateRequest) (key *Key, err error) {
	t := &target{}
	op := OpKeyLifecycle
	defer func() {
		if err = s.finish(ctx, op, t, err); err != nil {
			key = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if req.Version != 0 {
		return nil, Errorf(CodeInvalidArgument, "use ChangeVersionState for a version")
	}
	a, waiting, err := req.validate()
	if err != nil {
		return nil, err
	}
	op = OpKeyLifecycle + "." + string(a)
	if req.Key, err = s.canonicalRef(ctx, kr, req.Key, t, lifecycleAction(a)); err != nil {
		return nil, err
	}
	var spend func(storage.Tx) error
	if a == lifecycle.ScheduleDestruction {
		if spend, err = s.destroyControl(ctx, kr, t, req, waiting); err != nil {
			return nil, err
		}
	}
	var rec *keyRecord
	err = s.update(ctx, op, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		cur, rev, err := loadKey(tx, kr, req.Key)
		if err != nil {
			return err
		}
		t.keyID = cur.ID
		if err := s.authorize(ctx, t, lifecycleAction(a), keyResource(cur), nil); err != nil {
			return err
		}
		next := *cur
		now := s.now().UTC()
		if req.SuspendFirst && a == lifecycle.ScheduleDestruction && cur.State == lifecycle.Active {
			if err := s.authorize(ctx, t, access.KeyLifecycle, keyResource(cur), nil); err != nil {
				return err
			}
			if err := next.apply(lifecycle.Suspend, 0, now); err != nil {
				return err
			}
		}
		if err := next.apply(a, waiting, now); err != nil {
			return err
		}
		next.UpdatedAt = now
		if err := casKey(tx, kr, &next, rev); err != nil {
			return err
		}
		rec = &next
		return nil
	})
	if err != nil {
		return nil, s.maskNotFound(ctx, t, s.keyError(req.Key, "change key state", err), req.Key, lifecycleAction(a))
	}
	s.keys.add(rec)
	return rec.public(), nil
}

// ChangeVersionState applies a lifecycle action to one key version.
func (s *Service) ChangeVersionState(ctx context.Context, req ChangeStateRequest) (ver *KeyVersion, err error) {
	t := &target{keyVersion: req.Version}
	op := OpVersionLifecycle
	defer func() {
		if err = s.finish(ctx, op, t, err); err != nil {
			ver = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	a, waiting, err := req.validate()
	if err != nil {
		return nil, err
	}
	op = OpVersionLifecycle + "." + string(a)
	if req.Version == 0 {
		return nil, Errorf(CodeInvalidArgument, "version must be at least 1")
	}
	if req.Key, err = s.canonicalRef(ctx, kr, req.Key, t, lifecycleAction(a)); err != nil {
		return nil, err
	}
	var spend func(storage.Tx) error
	if a == lifecycle.ScheduleDestruction {
		if spend, err = s.destroyControl(ctx, kr, t, req, waiting); err != nil {
			return nil, err
		}
	}
	var vr versionRecord
	var ck *cachedKey
	err = s.update(ctx, op, t, func(tx storage.Tx) error {
		if err := spendIn(tx, spend); err != nil {
			return err
		}
		key, _, err := loadKey(tx, kr, req.Key)
		if err != nil {
			return err
		}
		t.keyID = key.ID
		if err := s.authorize(ctx, t, lifecycleAction(a), keyResource(key), nil); err != nil {
			return err
		}
		k := versionKey(key.ID, req.Version)
		rev, err := getRecord(tx, kr, nsKeyVersions, k, &vr)
		if errors.Is(err, storage.ErrNotFound) {
			return Errorf(CodeKeyVersionNotFound, "key %q has no version %d", key.Name, req.Version)
		}
		if err != nil {
			return err
		}
		if req.Version == key.PrimaryVersion && a != lifecycle.Compromise && a != lifecycle.Resume && a != lifecycle.Activate {
			return Errorf(CodeIllegalTransition, "version %d is the primary version: rotate the key first", req.Version)
		}
		if err := vr.apply(a, waiting, s.now().UTC()); err != nil {
			return err
		}
		if err := casVersion(tx, kr, &vr, rev); err != nil {
			return err
		}
		ck = s.keys.add(key)
		return nil
	})
	if err != nil {
		return nil, s.maskNotFound(ctx, t, s.keyError(req.Key, "change version state", err), req.Key, lifecycleAction(a))
	}
	ck.setVersionState(req.Version, vr.State)
	pub := vr.public()
	return &pub, nil
}

// keyError translates storage errors of an operation on one key.
func (s *Service) keyError(ref, op string, err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return keyNotFound(ref)
	case errors.Is(err, storage.ErrConflict):
		return Errorf(CodeConflict, "the key changed concurrently; retry")
	}
	return storageError(op, err)
}

// checkUse applies the lifecycle rules to one use of a key version.
func checkUse(ck *cachedKey, ve *versionEntry, op lifecycle.Operation, allowCompromised bool) error {
	if e := lifecycle.Check(lifecycle.Use{
		Op: op, KeyState: ck.rec.State, VersionState: ve.state, Version: int(ve.vk.Version()),
		Primary: ve.vk.Version() == ck.rec.PrimaryVersion, AllowCompromised: allowCompromised,
	}); e != nil {
		return lifecycleError(e)
	}
	return nil
}

// checkKey applies the lifecycle rules to the key's own state, before any
// version material is loaded.
func checkKey(ck *cachedKey, op lifecycle.Operation, allowCompromised bool) error {
	if e := lifecycle.Check(lifecycle.Use{
		Op: op, KeyState: ck.rec.State, VersionState: lifecycle.Active, Primary: true, AllowCompromised: allowCompromised,
	}); e != nil {
		return lifecycleError(e)
	}
	return nil
}

// compromisedUse reports whether a permitted decrypt used a compromised key
// or version (which the audit record then marks).
func compromisedUse(ck *cachedKey, ve *versionEntry) bool {
	return ck.rec.State == lifecycle.Compromised || ve.state == lifecycle.Compromised
}

// use describes one use of a key version: the class of operation, the
// purpose the key's algorithm must have, what the caller is doing (for the
// refusal message), and whether a compromised key may decrypt.
type use struct {
	op               lifecycle.Operation
	purpose          crypto.Purpose
	verb             string
	allowCompromised bool
}

// usableVersion returns version v of ck (the primary when v is 0) after
// every check a use of it needs, in one order for every operation: the
// key's purpose, the key's state, the version's existence and state, and
// for the decrypt class the key's min_decryption_version. It records the
// version in t.
func (s *Service) usableVersion(ctx context.Context, kr *seal.Keyring, ck *cachedKey, v uint32, u use, t *target) (*versionEntry, error) {
	if err := requirePurpose(ck, u.purpose, u.verb); err != nil {
		return nil, err
	}
	if err := checkKey(ck, u.op, u.allowCompromised); err != nil {
		return nil, err
	}
	if v == 0 {
		v = ck.rec.PrimaryVersion
	}
	t.keyVersion = v
	ve, err := s.version(ctx, kr, ck, v)
	if err != nil {
		return nil, err
	}
	if err := checkUse(ck, ve, u.op, u.allowCompromised); err != nil {
		return nil, err
	}
	if (u.op == lifecycle.Decrypt || u.op == lifecycle.ReadPublic) && v < ck.rec.MinDecryptionVersion {
		return nil, Errorf(CodeVersionBelowMinimum, "key %q cannot %s with version %d: its min_decryption_version is %d", ck.rec.Name, u.verb, v, ck.rec.MinDecryptionVersion)
	}
	return ve, nil
}
