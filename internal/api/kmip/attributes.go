package kmip

import (
	"time"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/lifecycle"
)

// KMIP 1.x names attributes by text (Attribute Name) and wraps each value
// in an Attribute Value; KMIP 2.0 puts the value itself, tagged with the
// attribute's own tag, in an Attributes structure. The adapter reads both
// into attr and writes whichever the request's version uses.

// GroupLabel is the Arca label that holds a key's KMIP Object Group: a key
// created with Object Group "payments" has the label object-group=payments,
// and Locate by Object Group filters on that label.
const GroupLabel = "object-group"

// attrNames maps the attribute names of KMIP 1.x to their 2.0 tags, for
// the attributes this adapter reads or reports.
var attrNames = map[string]ttlv.Tag{
	"Unique Identifier":               ttlv.TagUniqueIdentifier,
	"Name":                            ttlv.TagName,
	"Object Type":                     ttlv.TagObjectType,
	"Cryptographic Algorithm":         ttlv.TagCryptographicAlgorithm,
	"Cryptographic Length":            ttlv.TagCryptographicLength,
	"Cryptographic Usage Mask":        ttlv.TagCryptographicUsageMask,
	"Cryptographic Parameters":        ttlv.TagCryptographicParameters,
	"Cryptographic Domain Parameters": ttlv.TagCryptographicDomainParameters,
	"State":                           ttlv.TagState,
	"Initial Date":                    ttlv.TagInitialDate,
	"Activation Date":                 ttlv.TagActivationDate,
	"Deactivation Date":               ttlv.TagDeactivationDate,
	"Destroy Date":                    ttlv.TagDestroyDate,
	"Compromise Date":                 ttlv.TagCompromiseDate,
	"Compromise Occurrence Date":      ttlv.TagCompromiseOccurrenceDate,
	"Process Start Date":              ttlv.TagProcessStartDate,
	"Protect Stop Date":               ttlv.TagProtectStopDate,
	"Object Group":                    ttlv.TagObjectGroup,
	"Last Change Date":                ttlv.TagLastChangeDate,
	"Original Creation Date":          ttlv.TagOriginalCreationDate,
	"Description":                     ttlv.TagDescription,
	"Comment":                         ttlv.TagComment,
	"Contact Information":             ttlv.TagContactInformation,
	"Operation Policy Name":           ttlv.TagOperationPolicyName,
	"Extractable":                     ttlv.TagExtractable,
	"Sensitive":                       ttlv.TagSensitive,
	"Link":                            ttlv.TagLink,
	"Revocation Reason":               ttlv.TagRevocationReason,
	"Usage Limits":                    ttlv.TagUsageLimits,
	"Lease Time":                      ttlv.TagLeaseTime,
	"Fresh":                           ttlv.TagFresh,
	"Digest":                          ttlv.TagDigest,
}

// tagNames is attrNames inverted.
var tagNames = func() map[ttlv.Tag]string {
	m := make(map[ttlv.Tag]string, len(attrNames))
	for n, t := range attrNames {
		m[t] = n
	}
	return m
}()

// attr is one attribute of a request.
type attr struct {
	name  string
	value ttlv.Item
}

// templateContainers are the 1.x structures of Attribute items; their
// Name children refer to stored templates, which Arca does not have.
var templateContainers = map[ttlv.Tag]bool{
	ttlv.TagTemplateAttribute:           true,
	ttlv.TagCommonTemplateAttribute:     true,
	ttlv.TagPrivateKeyTemplateAttribute: true,
	ttlv.TagPublicKeyTemplateAttribute:  true,
}

// attrsIn reads the attributes of one container: a 1.x template attribute
// structure (Attribute items), a 2.0 attributes structure (bare attribute
// items), or a 1.x payload holding Attribute items directly (Locate).
func attrsIn(container ttlv.Item) ([]attr, error) {
	var out []attr
	twoZero := container.Tag() == ttlv.TagAttributes || container.Tag() == ttlv.TagCommonAttributes ||
		container.Tag() == ttlv.TagPrivateKeyAttributes || container.Tag() == ttlv.TagPublicKeyAttributes
	for _, c := range container.Items() {
		switch {
		case twoZero:
			name, ok := tagNames[c.Tag()]
			if !ok {
				name = c.Tag().String()
			}
			out = append(out, attr{name: name, value: c})
		case c.Tag() == ttlv.TagAttribute:
			a, err := parseAttribute(c)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		case c.Tag() == ttlv.TagName && templateContainers[container.Tag()]:
			return nil, notSupported("templates are not supported: give the attributes themselves")
		}
	}
	return out, nil
}

// parseAttribute reads a 1.x Attribute structure.
func parseAttribute(it ttlv.Item) (attr, error) {
	n, ok := it.Find(ttlv.TagAttributeName)
	name, ok2 := n.Text()
	if !ok || !ok2 {
		return attr{}, invalidField("Attribute has no AttributeName")
	}
	v, ok := it.Find(ttlv.TagAttributeValue)
	if !ok {
		return attr{}, invalidField("attribute %q has no AttributeValue", name)
	}
	return attr{name: name, value: v}, nil
}

// requestAttrs collects the attributes of a request payload, in either
// form: Template Attribute (1.x), Attributes (2.0), or bare Attribute
// items (1.x Locate).
func requestAttrs(p ttlv.Item) ([]attr, error) {
	var out []attr
	for _, tag := range []ttlv.Tag{ttlv.TagTemplateAttribute, ttlv.TagAttributes} {
		if c, ok := p.Find(tag); ok {
			as, err := attrsIn(c)
			if err != nil {
				return nil, err
			}
			out = append(out, as...)
		}
	}
	for _, c := range p.FindAll(ttlv.TagAttribute) {
		a, err := parseAttribute(c)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// nameValue returns the text of a Name attribute value.
func nameValue(v ttlv.Item) (string, bool) {
	n, ok := v.Find(ttlv.TagNameValue)
	if !ok {
		return "", false
	}
	return n.Text()
}

// outAttr is one attribute of an object, ready to be written with the
// tag its version needs.
type outAttr struct {
	name string
	tag  ttlv.Tag
	make func(tag ttlv.Tag) ttlv.Item
	// extra attributes are reported only when asked for by name: older
	// clients (PyKMIP among them) cannot parse every attribute.
	extra bool
}

// encode writes the attribute in the form of version v.
func (a outAttr) encode(v version) ttlv.Item {
	if v.atLeast(2, 0) {
		return a.make(a.tag)
	}
	return ttlv.Struct(ttlv.TagAttribute, ttlv.Text(ttlv.TagAttributeName, a.name), a.make(ttlv.TagAttributeValue))
}

func textAttr(name, s string) outAttr {
	return outAttr{name: name, tag: attrNames[name], make: func(t ttlv.Tag) ttlv.Item { return ttlv.Text(t, s) }}
}

func enumAttr[E ~uint32](name string, e E) outAttr {
	return outAttr{name: name, tag: attrNames[name], make: func(t ttlv.Tag) ttlv.Item { return ttlv.Enum(t, e) }}
}

func intAttr(name string, n int32) outAttr {
	return outAttr{name: name, tag: attrNames[name], make: func(t ttlv.Tag) ttlv.Item { return ttlv.Int(t, n) }}
}

func dateAttr(name string, d time.Time) outAttr {
	return outAttr{name: name, tag: attrNames[name], make: func(t ttlv.Tag) ttlv.Item { return ttlv.DateTime(t, d) }}
}

func boolAttr(name string, b bool) outAttr {
	return outAttr{name: name, tag: attrNames[name], make: func(t ttlv.Tag) ttlv.Item { return ttlv.Bool(t, b) }}
}

// Link Type values of the Link attribute.
const (
	linkPublicKey  uint32 = 0x102
	linkPrivateKey uint32 = 0x103
)

// objectAttributes lists the attributes of the KMIP object ref (a key, or
// the public half of a key pair) as the adapter reports them.
func objectAttributes(k *kms.Key, ref objectRef) []outAttr {
	alg, bits, _ := kmipAlgorithm(k.Algorithm)
	ot := objectTypeOf(k.Algorithm, ref.public)
	out := []outAttr{
		textAttr("Unique Identifier", ref.uid()),
		{name: "Name", tag: ttlv.TagName, make: func(t ttlv.Tag) ttlv.Item {
			return ttlv.Struct(t, ttlv.Text(ttlv.TagNameValue, k.Name), ttlv.Enum(ttlv.TagNameType, ttlv.NameTypeUninterpretedTextString))
		}},
		enumAttr("Object Type", ot),
	}
	if alg != 0 {
		out = append(out, enumAttr("Cryptographic Algorithm", alg), intAttr("Cryptographic Length", bits))
	}
	out = append(out,
		intAttr("Cryptographic Usage Mask", int32(usageMask(k, ref.public))),
		enumAttr("State", kmipState(k.State)),
		dateAttr("Initial Date", k.CreatedAt))
	if !k.Policy.ActivateAt.IsZero() {
		out = append(out, dateAttr("Activation Date", k.Policy.ActivateAt))
	}
	if !k.Policy.DeactivateAt.IsZero() {
		out = append(out, dateAttr("Deactivation Date", k.Policy.DeactivateAt))
	}
	switch {
	case !k.DestroyedAt.IsZero():
		out = append(out, dateAttr("Destroy Date", k.DestroyedAt))
	case !k.DestroyAt.IsZero():
		out = append(out, dateAttr("Destroy Date", k.DestroyAt))
	}
	if g, ok := k.Labels[GroupLabel]; ok {
		out = append(out, textAttr("Object Group", g))
	}
	out = append(out, dateAttr("Last Change Date", k.UpdatedAt))

	extra := []outAttr{dateAttr("Original Creation Date", k.CreatedAt)}
	if k.Description != "" {
		extra = append(extra, textAttr("Description", k.Description))
	}
	if k.Owner != "" {
		extra = append(extra, textAttr("Contact Information", k.Owner))
	}
	if !ref.public {
		extra = append(extra, boolAttr("Extractable", k.Exportable), boolAttr("Sensitive", !k.Exportable))
	}
	if ot == ttlv.ObjectTypePrivateKey || ot == ttlv.ObjectTypePublicKey {
		lt, other := linkPublicKey, objectRef{keyID: k.ID, public: true}
		if ref.public {
			lt, other = linkPrivateKey, objectRef{keyID: k.ID}
		}
		extra = append(extra, outAttr{name: "Link", tag: ttlv.TagLink, make: func(t ttlv.Tag) ttlv.Item {
			return ttlv.Struct(t, ttlv.Enum(ttlv.TagLinkType, lt), ttlv.Text(ttlv.TagLinkedObjectIdentifier, other.uid()))
		}})
	}
	for i := range extra {
		extra[i].extra = true
	}
	return append(out, extra...)
}

// kmipState maps Arca's lifecycle states to KMIP's. Arca has two states
// KMIP lacks: suspended (refuses every use until resumed) and
// destroy-scheduled (decrypts until the destruction falls due). Both are
// reported as Deactivated, the KMIP state that does not encrypt; a
// scheduled destruction also shows as the Destroy Date.
func kmipState(s lifecycle.State) ttlv.State {
	switch s {
	case lifecycle.PreActive:
		return ttlv.StatePreActive
	case lifecycle.Active:
		return ttlv.StateActive
	case lifecycle.Compromised:
		return ttlv.StateCompromised
	case lifecycle.Destroyed:
		return ttlv.StateDestroyed
	}
	return ttlv.StateDeactivated
}

// usageMask is what the key's algorithm lets it do, in KMIP terms; Arca
// derives usage from the algorithm rather than storing a mask.
func usageMask(k *kms.Key, public bool) ttlv.CryptographicUsageMask {
	var m ttlv.CryptographicUsageMask
	switch k.Algorithm.Purpose() {
	case crypto.PurposeEncrypt:
		m = ttlv.CryptographicUsageMaskEncrypt | ttlv.CryptographicUsageMaskDecrypt
	case crypto.PurposeMAC:
		m = ttlv.CryptographicUsageMaskMACGenerate | ttlv.CryptographicUsageMaskMACVerify
	case crypto.PurposeSign:
		m = ttlv.CryptographicUsageMaskSign | ttlv.CryptographicUsageMaskVerify
		if public {
			m = ttlv.CryptographicUsageMaskVerify
		}
	case crypto.PurposeAsymmetric:
		m = ttlv.CryptographicUsageMaskEncrypt | ttlv.CryptographicUsageMaskDecrypt
		if public {
			m = ttlv.CryptographicUsageMaskEncrypt
		}
	}
	if k.Exportable && !public {
		m |= ttlv.CryptographicUsageMaskExport
	}
	return m
}

// allowedMask is what a client may ask for when creating a key of the
// given purpose.
func allowedMask(p crypto.Purpose) ttlv.CryptographicUsageMask {
	m := ttlv.CryptographicUsageMaskExport
	switch p {
	case crypto.PurposeEncrypt:
		m |= ttlv.CryptographicUsageMaskEncrypt | ttlv.CryptographicUsageMaskDecrypt
	case crypto.PurposeMAC:
		m |= ttlv.CryptographicUsageMaskMACGenerate | ttlv.CryptographicUsageMaskMACVerify
	case crypto.PurposeSign:
		m |= ttlv.CryptographicUsageMaskSign | ttlv.CryptographicUsageMaskVerify
	}
	return m
}
