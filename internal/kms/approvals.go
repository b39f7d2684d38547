package kms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Operation names of approvals in audit records.
const (
	OpApprovalGet    = "approval.get"
	OpApprovalList   = "approval.list"
	OpApprovalGrant  = "approval.grant"
	OpApprovalCancel = "approval.cancel"
)

const nsApprovals storage.Namespace = "approvals"

// ApprovalRule puts an action under dual control: a request for it waits
// until Approvers distinct identities other than the requester approve it,
// within TTL.
type ApprovalRule struct {
	Approvers int
	TTL       time.Duration
}

// Actions that can be put under dual control. Identity grants
// (identity:update) covers every change of an identity's roles, policies
// or client certificates, at creation too; token:create covers issuing any
// token (which would otherwise let one administrator issue tokens to the
// approvers and act as them).
var approvableActions = []access.Action{
	access.KeyDestroy, access.KeyExport, access.KeyDecryptCompromised, access.PolicyWrite, access.IdentityUpdate,
	access.TokenCreate,
}

// ValidateApprovalRules checks a dual-control configuration.
func ValidateApprovalRules(rules map[access.Action]ApprovalRule) error {
	for a, r := range rules {
		if !slices.Contains(approvableActions, a) {
			return fmt.Errorf("approvals: %q cannot be put under dual control (possible: %v)", a, approvableActions)
		}
		if r.Approvers < 1 || r.Approvers > 10 {
			return fmt.Errorf("approvals: %s: approvers must be 1 to 10", a)
		}
		if r.TTL < time.Minute || r.TTL > 30*24*time.Hour {
			return fmt.Errorf("approvals: %s: ttl must be between 1m and 30d", a)
		}
	}
	return nil
}

// ApprovalStatus is where an approval request stands.
type ApprovalStatus string

// Approval statuses.
const (
	ApprovalPending   ApprovalStatus = "pending"
	ApprovalApproved  ApprovalStatus = "approved"
	ApprovalExecuted  ApprovalStatus = "executed"
	ApprovalCancelled ApprovalStatus = "cancelled"
	ApprovalExpired   ApprovalStatus = "expired"
)

// ApprovalVote is one approver's approval.
type ApprovalVote struct {
	By     string    `json:"by"`
	ByName string    `json:"by_name"`
	At     time.Time `json:"at"`
}

// Approval is a request under dual control. Anyone allowed approval:read
// sees who asked for what and who approved it.
type Approval struct {
	ID              string         `json:"id"`
	Action          access.Action  `json:"action"`
	Operation       string         `json:"operation"`
	Summary         string         `json:"summary"`
	KeyID           string         `json:"key_id,omitempty"`
	Digest          string         `json:"digest"`
	RequestedBy     string         `json:"requested_by"`
	RequestedByName string         `json:"requested_by_name"`
	CreatedAt       time.Time      `json:"created_at"`
	ExpiresAt       time.Time      `json:"expires_at"`
	Required        int            `json:"required"`
	Approvals       []ApprovalVote `json:"approvals"`
	Status          ApprovalStatus `json:"status"`
	ClosedAt        time.Time      `json:"closed_at,omitzero"`
	ClosedBy        string         `json:"closed_by,omitempty"`
}

// effective returns the approval with its status as of now (pending and
// approved requests past their expiry are expired).
func (a Approval) effective(now time.Time) Approval {
	if (a.Status == ApprovalPending || a.Status == ApprovalApproved) && !now.Before(a.ExpiresAt) {
		a.Status = ApprovalExpired
	}
	return a
}

// gated describes one execution of an action under dual control: what it
// is (for people) and its digest (for the server), which binds an approval
// to exactly this request.
type gated struct {
	action  access.Action
	op      string
	keyID   string
	summary string
	parts   []string
}

func (g gated) digest() string {
	h := sha256.New()
	h.Write([]byte(g.action))
	for _, p := range append([]string{g.keyID}, g.parts...) {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashOf is a short stand-in for request data that must not be stored.
func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// dualControl enforces the approval rule of g.action, if any, for an
// operation without a transaction of its own: the approval is spent before
// the operation runs (see dualControlIn).
func (s *Service) dualControl(ctx context.Context, kr *seal.Keyring, t *target, g gated) error {
	spend, err := s.dualControlIn(ctx, kr, t, g)
	if err != nil || spend == nil {
		return err
	}
	return storageErrorOrNil("use approval", s.store.Update(ctx, spend))
}

// dualControlIn enforces the approval rule of g.action, if any. Without an
// approval id in the request it records a pending approval and refuses the
// request with CodeApprovalRequired, naming the approval. With one, it
// returns spend, to run inside the operation's own transaction: it checks
// that the approval is approved, unexpired, requested by this caller for
// exactly this request, and marks it executed, so that the approval is
// spent exactly when the operation's change commits, and only then. A nil
// spend means the action is not under dual control.
func (s *Service) dualControlIn(ctx context.Context, kr *seal.Keyring, t *target, g gated) (spend func(storage.Tx) error, err error) {
	rule, ok := s.approvals[g.action]
	if !ok {
		return nil, nil
	}
	req := RequestFrom(ctx)
	caller := req.Identity
	now := s.now().UTC()
	if req.ApprovalID == "" {
		a := &Approval{ID: uuid.NewString(), Action: g.action, Operation: g.op, Summary: g.summary, KeyID: g.keyID,
			Digest: g.digest(), RequestedBy: caller.ID, RequestedByName: callerName(caller), CreatedAt: now,
			ExpiresAt: now.Add(rule.TTL), Required: rule.Approvers, Approvals: []ApprovalVote{}, Status: ApprovalPending}
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			v, err := encodeRecord(kr, nsApprovals, a.ID, a)
			if err != nil {
				return err
			}
			_, err = tx.Create(nsApprovals, a.ID, v)
			return err
		})
		if err != nil {
			return nil, storageError("record approval request", err)
		}
		t.resource = a.ID
		return nil, &Error{Code: CodeApprovalRequired, ApprovalID: a.ID, Message: fmt.Sprintf(
			"%s needs %d approvals by identities other than the requester: approval %s is pending until %s; once approved, repeat the request with the approval id",
			g.action, rule.Approvers, a.ID, a.ExpiresAt.Format(time.RFC3339))}
	}
	t.resource = req.ApprovalID
	return func(tx storage.Tx) error {
		a, rev, err := loadApproval(tx, kr, req.ApprovalID)
		if errors.Is(err, storage.ErrNotFound) {
			return Errorf(CodeApprovalNotFound, "approval %q not found", truncate(req.ApprovalID, 64))
		}
		if err != nil {
			return err
		}
		eff := a.effective(now)
		switch {
		case eff.Status != ApprovalApproved:
			return Errorf(CodeApprovalNotUsable, "approval %s is %s, not approved", a.ID, eff.Status)
		case a.RequestedBy != caller.ID:
			return Errorf(CodeApprovalNotUsable, "approval %s was requested by another identity", a.ID)
		case a.Action != g.action || a.Digest != g.digest():
			return Errorf(CodeApprovalNotUsable, "approval %s was granted for another request (%s)", a.ID, a.Summary)
		}
		a.Status, a.ClosedAt, a.ClosedBy = ApprovalExecuted, now, caller.ID
		return putApproval(tx, kr, a, rev)
	}, nil
}

// spendIn runs spend (from dualControlIn) inside tx, if there is one.
func spendIn(tx storage.Tx, spend func(storage.Tx) error) error {
	if spend == nil {
		return nil
	}
	return spend(tx)
}

func callerName(id *Identity) string {
	if id.IdentityName != "" {
		return id.IdentityName
	}
	return id.Name
}

func loadApproval(tx storage.Tx, kr *seal.Keyring, id string) (*Approval, uint64, error) {
	if !isUUID(id) {
		return nil, 0, storage.ErrNotFound
	}
	a := new(Approval)
	rev, err := getRecord(tx, kr, nsApprovals, id, a)
	if err != nil {
		return nil, 0, err
	}
	if a.ID != id {
		return nil, 0, errTampered(nsApprovals, id)
	}
	return a, rev, nil
}

func putApproval(tx storage.Tx, kr *seal.Keyring, a *Approval, rev uint64) error {
	v, err := encodeRecord(kr, nsApprovals, a.ID, a)
	if err != nil {
		return err
	}
	_, err = tx.CompareAndSwap(nsApprovals, a.ID, v, rev)
	return err
}

// GrantApproval approves a pending request. The requester cannot approve
// their own request, nor can anyone approve twice; the request becomes
// approved when it has its number of approvals.
func (s *Service) GrantApproval(ctx context.Context, id string) (out *Approval, err error) {
	return s.changeApproval(ctx, OpApprovalGrant, id, func(a *Approval, caller *Identity, now time.Time) error {
		if a.Status != ApprovalPending {
			return Errorf(CodeApprovalNotUsable, "approval %s is %s: only pending requests are approved", a.ID, a.Status)
		}
		if caller.ID == a.RequestedBy {
			return Errorf(CodeForbidden, "identity %q requested %s: a requester cannot approve their own request", callerName(caller), a.ID)
		}
		for _, v := range a.Approvals {
			if v.By == caller.ID {
				return Errorf(CodeConflict, "identity %q has already approved %s", callerName(caller), a.ID)
			}
		}
		a.Approvals = append(a.Approvals, ApprovalVote{By: caller.ID, ByName: callerName(caller), At: now})
		if len(a.Approvals) >= a.Required {
			a.Status = ApprovalApproved
		}
		return nil
	})
}

// CancelApproval cancels a pending or approved request: the requester may,
// and so may identities allowed approval:cancel.
func (s *Service) CancelApproval(ctx context.Context, id string) (out *Approval, err error) {
	return s.changeApproval(ctx, OpApprovalCancel, id, func(a *Approval, caller *Identity, now time.Time) error {
		if a.Status != ApprovalPending && a.Status != ApprovalApproved {
			return Errorf(CodeApprovalNotUsable, "approval %s is %s and cannot be cancelled", a.ID, a.Status)
		}
		a.Status, a.ClosedAt, a.ClosedBy = ApprovalCancelled, now, caller.ID
		return nil
	})
}

// changeApproval applies fn to an approval in one audited transaction.
func (s *Service) changeApproval(ctx context.Context, op, id string, fn func(a *Approval, caller *Identity, now time.Time) error) (out *Approval, err error) {
	t := &target{resource: truncate(id, 64)}
	defer func() {
		if err = s.finish(ctx, op, t, err); err != nil {
			out = nil
		}
	}()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	// Approving needs approval:grant. Cancelling needs approval:cancel,
	// except for the requester's own request.
	action := access.ApprovalGrant
	if op == OpApprovalCancel {
		action = access.ApprovalCancel
	}
	authErr := s.authorize(ctx, t, action, access.Resource{}, nil)
	if authErr != nil && op != OpApprovalCancel {
		return nil, authErr
	}
	err = s.update(ctx, op, t, func(tx storage.Tx) error {
		a, rev, err := loadApproval(tx, kr, id)
		if errors.Is(err, storage.ErrNotFound) && authErr != nil {
			return authErr
		}
		if err != nil {
			return err
		}
		t.keyID = a.KeyID
		if authErr != nil {
			if caller.ID != a.RequestedBy {
				return authErr
			}
			t.denyReason = ""
		}
		now := s.now().UTC()
		eff := a.effective(now)
		a.Status = eff.Status
		if err := fn(a, caller, now); err != nil {
			return err
		}
		if err := putApproval(tx, kr, a, rev); err != nil {
			return err
		}
		out = a
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, Errorf(CodeApprovalNotFound, "approval %q not found", truncate(id, 64))
	}
	if err != nil {
		return nil, storageError(op, err)
	}
	return out, nil
}

// GetApproval returns one approval request.
func (s *Service) GetApproval(ctx context.Context, id string) (out *Approval, err error) {
	t := &target{resource: truncate(id, 64)}
	defer func() {
		if err = s.finish(ctx, OpApprovalGet, t, err); err != nil {
			out = nil
		}
	}()
	kr, caller, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	// Reading needs approval:read, except for the requester's own request.
	authErr := s.authorize(ctx, t, access.ApprovalRead, access.Resource{}, nil)
	err = s.store.View(ctx, func(tx storage.Tx) error {
		a, _, err := loadApproval(tx, kr, id)
		if err != nil {
			return err
		}
		out = a
		return nil
	})
	if authErr != nil && (err != nil || caller.ID != out.RequestedBy) {
		return nil, authErr
	}
	t.denyReason = ""
	if errors.Is(err, storage.ErrNotFound) {
		return nil, Errorf(CodeApprovalNotFound, "approval %q not found", truncate(id, 64))
	}
	if err != nil {
		return nil, storageError("get approval", err)
	}
	t.keyID = out.KeyID
	eff := out.effective(s.now())
	return &eff, nil
}

// ListApprovals returns approval requests, newest first; with pendingOnly,
// only those still waiting for approvals.
func (s *Service) ListApprovals(ctx context.Context, pendingOnly bool) (out []Approval, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpApprovalList, t, err); err != nil {
			out = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.ApprovalRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	now := s.now()
	err = s.store.View(ctx, func(tx storage.Tx) error {
		return eachRecord(tx, kr, nsApprovals, func(_ string, a *Approval) error {
			eff := a.effective(now)
			if !pendingOnly || eff.Status == ApprovalPending {
				out = append(out, eff)
			}
			return nil
		})
	})
	if err != nil {
		return nil, storageError("list approvals", err)
	}
	slices.SortFunc(out, func(a, b Approval) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}
