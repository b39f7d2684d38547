package kmip

import (
	"time"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/lifecycle"
)

// permits reports whether a key in state s may protect (encrypt, sign,
// generate a MAC) or, with protect false, process (decrypt, verify).
func permits(s lifecycle.State, protect bool) bool {
	op := lifecycle.Decrypt
	if protect {
		op = lifecycle.Encrypt
	}
	return lifecycle.Permits(s, op, false)
}

// changeState applies one Arca lifecycle action to the key behind the
// payload's object. The two halves of a key pair share one key, hence one
// state: acting on the public key acts on the pair.
func (c *call) changeState(p ttlv.Item, action string, waitingDays int) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	if _, err := c.s.svc.ChangeKeyState(c.ctx, kms.ChangeStateRequest{Key: ref.keyID, Action: action, WaitingDays: waitingDays}); err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(ref)}, nil
}

// activate moves a pre-active key to active.
func (c *call) activate(p ttlv.Item) ([]ttlv.Item, error) {
	return c.changeState(p, string(lifecycle.Activate), 0)
}

// revoke marks a key compromised (revocation reasons Key Compromise and CA
// Compromise) or deactivates it (every other reason); either way it never
// encrypts again.
func (c *call) revoke(p ttlv.Item) ([]ttlv.Item, error) {
	rr, ok := p.Find(ttlv.TagRevocationReason, ttlv.TagRevocationReasonCode)
	if !ok {
		return nil, missingData("RevocationReason with a RevocationReasonCode is required")
	}
	code, ok := rr.Enum()
	if !ok {
		return nil, invalidField("RevocationReasonCode must be an Enumeration")
	}
	action := lifecycle.Deactivate
	switch ttlv.RevocationReasonCode(code) {
	case ttlv.RevocationReasonCodeKeyCompromise, ttlv.RevocationReasonCodeCACompromise:
		action = lifecycle.Compromise
	}
	return c.changeState(p, string(action), 0)
}

// destroy schedules the key's destruction with the shortest waiting
// period Arca allows (kms.MinWaitingDays). Until then the key only
// decrypts and verifies, and the destruction can be cancelled through
// Arca's own API; when it falls due, Arca crypto-shreds every version's
// material and keeps the key's metadata as a tombstone, reported as
// Destroyed. An active key is refused, as KMIP requires: revoke it first.
func (c *call) destroy(p ttlv.Item) ([]ttlv.Item, error) {
	return c.changeState(p, string(lifecycle.ScheduleDestruction), kms.MinWaitingDays)
}

// changeable are the attributes a client may set, modify or delete: the
// activation and deactivation dates (Arca key policy), the Object Group
// (the key's GroupLabel label) and the Description, all through
// UpdateKeyPolicy. Names are fixed at creation in Arca (aliases serve to
// rename); the rest are kept by the server.
var changeable = map[string]bool{"Activation Date": true, "Deactivation Date": true, "Object Group": true, "Description": true}

// textAttributes are the changeable attributes that are text.
var textAttributes = map[string]bool{"Object Group": true, "Description": true}

func readOnly(v version, name string) error {
	reason := ttlv.ResultReasonInvalidField
	if v.atLeast(2, 0) {
		reason = ttlv.ResultReasonAttributeReadOnly
	}
	return withReason(reason, kms.CodeInvalidArgument, "attribute %q cannot be changed through KMIP: only Activation Date and Deactivation Date can", truncate(name, 64))
}

// setAttribute serves Add Attribute and Modify Attribute (1.x, one
// Attribute) and Set Attribute and Modify Attribute (2.0, a New
// Attribute).
func (c *call) setAttribute(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	var a attr
	if it, ok := p.Find(ttlv.TagNewAttribute); ok {
		kids := it.Items()
		if len(kids) != 1 {
			return nil, invalidField("NewAttribute must hold exactly one attribute")
		}
		a = attr{name: tagNames[kids[0].Tag()], value: kids[0]}
		if a.name == "" {
			a.name = kids[0].Tag().String()
		}
	} else if it, ok := p.Find(ttlv.TagAttribute); ok {
		if a, err = parseAttribute(it); err != nil {
			return nil, err
		}
	} else {
		return nil, missingData("the attribute to set is required")
	}
	if !changeable[a.name] {
		return nil, readOnly(c.v, a.name)
	}
	if textAttributes[a.name] {
		text, ok := a.value.Text()
		if !ok {
			return nil, invalidField("attribute %q must be a Text String", a.name)
		}
		if err := c.updateText(ref, a.name, &text); err != nil {
			return nil, err
		}
		out := []ttlv.Item{uidItem(ref)}
		if !c.v.atLeast(2, 0) {
			out = append(out, outAttr{name: a.name, make: func(tag ttlv.Tag) ttlv.Item { return ttlv.Text(tag, text) }}.encode(c.v))
		}
		return out, nil
	}
	t, ok := a.value.Time()
	if !ok {
		return nil, invalidField("attribute %q must be a DateTime", a.name)
	}
	if err := c.updateDate(ref, a.name, t); err != nil {
		return nil, err
	}
	out := []ttlv.Item{uidItem(ref)}
	if !c.v.atLeast(2, 0) {
		out = append(out, outAttr{name: a.name, make: func(tag ttlv.Tag) ttlv.Item { return ttlv.DateTime(tag, t) }}.encode(c.v))
	}
	return out, nil
}

// deleteAttribute clears the activation or deactivation date.
func (c *call) deleteAttribute(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	var name string
	if it, ok := p.Find(ttlv.TagCurrentAttribute); ok && len(it.Items()) == 1 {
		name = tagNames[it.Items()[0].Tag()]
	} else {
		names, err := attributeNames(p)
		if err != nil {
			return nil, err
		}
		if len(names) != 1 {
			return nil, missingData("the attribute to delete is required")
		}
		name = names[0]
	}
	if !changeable[name] {
		return nil, readOnly(c.v, name)
	}
	if textAttributes[name] {
		err = c.updateText(ref, name, nil)
	} else {
		err = c.updateDate(ref, name, time.Time{})
	}
	if err != nil {
		return nil, err
	}
	out := []ttlv.Item{uidItem(ref)}
	if !c.v.atLeast(2, 0) {
		out = append(out, ttlv.Struct(ttlv.TagAttribute, ttlv.Text(ttlv.TagAttributeName, name)))
	}
	return out, nil
}

// updateDate sets (or, with the zero time, clears) a key's scheduled
// activation or deactivation.
func (c *call) updateDate(ref objectRef, name string, t time.Time) error {
	var u kms.PolicyUpdate
	if name == "Activation Date" {
		u.ActivateAt = &t
	} else {
		u.DeactivateAt = &t
	}
	_, err := c.s.svc.UpdateKeyPolicy(c.ctx, ref.keyID, u)
	return err
}

// updateText sets (or, with nil, clears) a key's Object Group (its
// GroupLabel label) or Description.
func (c *call) updateText(ref objectRef, name string, text *string) error {
	var u kms.PolicyUpdate
	if name == "Description" {
		empty := ""
		if text == nil {
			text = &empty
		}
		u.Description = text
	} else if text == nil {
		u.DeleteLabels = []string{GroupLabel}
	} else {
		u.SetLabels = map[string]string{GroupLabel: *text}
	}
	_, err := c.s.svc.UpdateKeyPolicy(c.ctx, ref.keyID, u)
	return err
}
