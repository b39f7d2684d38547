package kmip

import (
	"slices"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
)

// Vendor is the Vendor Identification Query reports.
const Vendor = "Arca"

// discoverVersions answers with the versions this server speaks, most
// preferred first, limited to those the client listed (all of them if it
// listed none). The service is not involved; the request is audited so
// that every authenticated request leaves a record.
func (c *call) discoverVersions(p ttlv.Item) ([]ttlv.Item, error) {
	var asked []version
	for _, pv := range p.FindAll(ttlv.TagProtocolVersion) {
		v, ok := headerVersion(ttlv.Struct(ttlv.TagRequestHeader, pv))
		if !ok {
			return nil, invalidField("ProtocolVersion needs an Integer major and minor")
		}
		asked = append(asked, v)
	}
	var out []ttlv.Item
	for _, v := range supportedVersions {
		if len(asked) > 0 && !slices.Contains(asked, v) {
			continue
		}
		out = append(out, ttlv.Struct(ttlv.TagProtocolVersion,
			ttlv.Int(ttlv.TagProtocolVersionMajor, v.major), ttlv.Int(ttlv.TagProtocolVersionMinor, v.minor)))
	}
	if _, err := c.s.svc.AuditedStatus(c.ctx, opAuditDiscover); err != nil {
		return nil, err
	}
	return out, nil
}

// query reports the supported operations and object types, the vendor
// and the server's identity. Query functions Arca has nothing to say about
// (application namespaces, extensions, attestation, RNGs, profiles, ...)
// are answered with nothing, as the specification allows.
func (c *call) query(p ttlv.Item) ([]ttlv.Item, error) {
	var out []ttlv.Item
	for _, qf := range p.FindAll(ttlv.TagQueryFunction) {
		f, ok := qf.Enum()
		if !ok {
			return nil, invalidField("QueryFunction must be an Enumeration")
		}
		switch ttlv.QueryFunction(f) {
		case ttlv.QueryFunctionQueryOperations:
			for _, op := range supportedOperations(c.v) {
				out = append(out, ttlv.Enum(ttlv.TagOperation, op))
			}
		case ttlv.QueryFunctionQueryObjects:
			for _, ot := range []ttlv.ObjectType{ttlv.ObjectTypeSymmetricKey, ttlv.ObjectTypePublicKey, ttlv.ObjectTypePrivateKey} {
				out = append(out, ttlv.Enum(ttlv.TagObjectType, ot))
			}
		case ttlv.QueryFunctionQueryServerInformation:
			out = append(out, ttlv.Text(ttlv.TagVendorIdentification, Vendor))
			info := []ttlv.Item{ttlv.Text(ttlv.TagServerName, "Arca KMIP server")}
			if v := c.s.svc.Status().Version; v != "" {
				info = append(info, ttlv.Text(ttlv.TagServerVersion, v))
			}
			out = append(out, ttlv.Struct(ttlv.TagServerInformation, info...))
		}
	}
	if _, err := c.s.svc.AuditedStatus(c.ctx, opAuditQuery); err != nil {
		return nil, err
	}
	return out, nil
}

// supportedOperations lists the operations of the table that exist in
// version v, in enumeration order.
func supportedOperations(v version) []ttlv.Operation {
	var ops []ttlv.Operation
	for op, spec := range operations {
		if v.atLeast(spec.since.major, spec.since.minor) {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	return ops
}
