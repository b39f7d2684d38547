package kmip

import (
	"context"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/kms"
)

// call is one batch item being processed: its context (carrying its own
// kms.Request, hence its own audit record), the protocol version, and the
// message's ID placeholder, which an item without a Unique Identifier
// uses.
type call struct {
	s           *Server
	ctx         context.Context
	v           version
	req         *kms.Request
	placeholder *string
	resp        *response
}

// opSpec declares one supported operation: the audit operation name under
// which the adapter records refusals it makes itself (the service names
// its own records), the first protocol version that has it, and its
// handler.
type opSpec struct {
	audit string
	since version
	run   func(*call, ttlv.Item) ([]ttlv.Item, error)
}

// Audit operation names for KMIP operations the service does not perform.
const (
	opAuditQuery    = "kmip.query"
	opAuditDiscover = "kmip.discover_versions"
)

// operations is the table of supported operations. Every operation maps to
// the service method the REST adapter calls for the same thing.
var operations map[ttlv.Operation]opSpec

func init() {
	v12, v20 := version{1, 2}, version{2, 0}
	operations = map[ttlv.Operation]opSpec{
		ttlv.OperationDiscoverVersions: {opAuditDiscover, version{1, 1}, (*call).discoverVersions},
		ttlv.OperationQuery:            {opAuditQuery, v12, (*call).query},
		ttlv.OperationCreate:           {kms.OpKeyCreate, v12, (*call).create},
		ttlv.OperationCreateKeyPair:    {kms.OpKeyCreate, v12, (*call).createKeyPair},
		ttlv.OperationRegister:         {kms.OpKeyCreate, v12, (*call).register},
		ttlv.OperationReKey:            {kms.OpKeyRotate, v12, (*call).reKey},
		ttlv.OperationGet:              {kms.OpKeyExport, v12, (*call).get},
		ttlv.OperationGetAttributes:    {kms.OpKeyGet, v12, (*call).getAttributes},
		ttlv.OperationGetAttributeList: {kms.OpKeyGet, v12, (*call).getAttributeList},
		ttlv.OperationLocate:           {kms.OpKeyList, v12, (*call).locate},
		ttlv.OperationCheck:            {kms.OpKeyGet, v12, (*call).check},
		ttlv.OperationActivate:         {kms.OpKeyLifecycle, v12, (*call).activate},
		ttlv.OperationRevoke:           {kms.OpKeyLifecycle, v12, (*call).revoke},
		ttlv.OperationDestroy:          {kms.OpKeyLifecycle, v12, (*call).destroy},
		ttlv.OperationEncrypt:          {kms.OpEncrypt, v12, (*call).encrypt},
		ttlv.OperationDecrypt:          {kms.OpDecrypt, v12, (*call).decrypt},
		ttlv.OperationSign:             {kms.OpSign, v12, (*call).sign},
		ttlv.OperationSignatureVerify:  {kms.OpVerify, v12, (*call).signatureVerify},
		ttlv.OperationMAC:              {kms.OpGenerateMAC, v12, (*call).mac},
		ttlv.OperationMACVerify:        {kms.OpVerifyMAC, v12, (*call).macVerify},
		ttlv.OperationAddAttribute:     {kms.OpKeyUpdate, v12, (*call).setAttribute},
		ttlv.OperationModifyAttribute:  {kms.OpKeyUpdate, v12, (*call).setAttribute},
		ttlv.OperationSetAttribute:     {kms.OpKeyUpdate, v20, (*call).setAttribute},
		ttlv.OperationDeleteAttribute:  {kms.OpKeyUpdate, v12, (*call).deleteAttribute},
		ttlv.OperationDeriveKey:        {kms.OpKeyDerive, v12, (*call).deriveKey},
	}
}

// run processes one batch item: version and authentication checks, then
// the operation. Refusals made here are audited through Service.Reject;
// the service audits everything else itself.
func (c *call) run(it batchItem, authErr error) ([]ttlv.Item, error) {
	spec, known := operations[it.op]
	auditOp := kms.OpUnknownRoute
	if known {
		auditOp = spec.audit
	}
	reject := func(err error) error { return c.s.svc.Reject(c.ctx, auditOp, err) }

	if !c.v.supported() && !(it.op == ttlv.OperationDiscoverVersions && c.v.atLeast(1, 1)) {
		reason := ttlv.ResultReasonInvalidMessage
		if c.v.major >= 2 {
			reason = ttlv.ResultReasonUnsupportedProtocolVersion
		}
		return nil, reject(withReason(reason, kms.CodeInvalidArgument,
			"KMIP %s is not supported: this server speaks KMIP 1.2, 1.3, 1.4 and 2.0", c.v))
	}
	if authErr != nil {
		return nil, reject(authErr)
	}
	if !known {
		return nil, reject(opNotSupported("operation %s is not supported by Arca", it.op))
	}
	if !c.v.atLeast(spec.since.major, spec.since.minor) {
		return nil, reject(opNotSupported("operation %s needs KMIP %s or later", it.op, spec.since))
	}
	payload, err := spec.run(c, it.payload)
	if err != nil {
		// A later item that relies on the placeholder must not act on an
		// object an earlier item named.
		*c.placeholder = ""
		if needsAudit(err) {
			err = reject(err)
		}
		return nil, err
	}
	c.setPlaceholder(it.op, payload)
	return payload, nil
}

// setPlaceholder records the object an operation returned, for the next
// items of the batch: the private key of a new key pair, the only object
// a Locate found (a Locate finding none or several clears it), or the
// object any other operation named.
func (c *call) setPlaceholder(op ttlv.Operation, payload []ttlv.Item) {
	var uids []string
	for _, it := range payload {
		tag := it.Tag()
		if tag == ttlv.TagUniqueIdentifier || (op == ttlv.OperationCreateKeyPair && tag == ttlv.TagPrivateKeyUniqueIdentifier) {
			if s, ok := it.Text(); ok {
				uids = append(uids, s)
			}
		}
	}
	switch {
	case op == ttlv.OperationLocate && len(uids) != 1:
		// Locate sets the placeholder only when it found exactly one
		// object; otherwise a later item must name its object itself.
		*c.placeholder = ""
	case len(uids) > 0:
		*c.placeholder = uids[0]
	}
}

// uidFrom reads the Unique Identifier of a payload, or the ID placeholder
// when it has none (KMIP 2.0 may also name the placeholder explicitly).
func (c *call) uidFrom(p ttlv.Item) (objectRef, error) {
	s := *c.placeholder
	if it, ok := p.Find(ttlv.TagUniqueIdentifier); ok {
		if t, ok := it.Text(); ok {
			s = t
		} else if e, ok := it.Enum(); !ok || e != 1 { // 1: ID Placeholder
			return objectRef{}, invalidField("UniqueIdentifier must be a TextString or the ID Placeholder")
		}
	}
	if s == "" {
		return objectRef{}, missingData("UniqueIdentifier is required: no earlier operation of this batch set the ID placeholder")
	}
	return parseUID(s)
}

// keyOnly refuses operations on the public half of a key pair that only
// make sense on the key itself.
func keyOnly(ref objectRef, what string) error {
	if ref.public {
		return withReason(ttlv.ResultReasonInvalidField, kms.CodeInvalidArgument,
			"%s applies to the key pair's private key %s, not to its public key", what, ref.keyID)
	}
	return nil
}

// wipeLater registers a secret to wipe once the response is sent.
func (c *call) wipeLater(f func()) { c.resp.wipes = append(c.resp.wipes, f) }

func uidItem(ref objectRef) ttlv.Item { return ttlv.Text(ttlv.TagUniqueIdentifier, ref.uid()) }
