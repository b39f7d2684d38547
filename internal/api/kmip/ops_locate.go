package kmip

import (
	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/kms"
)

// locatable are the attributes Locate filters on.
var locatable = map[string]bool{
	"Name": true, "Object Type": true, "Cryptographic Algorithm": true, "Cryptographic Length": true,
	"State": true, "Object Group": true, "Unique Identifier": true, "Cryptographic Usage Mask": true,
}

// Storage Status Mask bit of objects in on-line storage (all of Arca's).
const storageOnline = 0x01

// locate finds objects by attributes. A Name is looked up directly
// (GetKey, key:read: Arca names are unique), so a caller allowed to use
// one key can find it by name; without one, the keys are listed
// (ListKeys, which needs key:list and returns only keys the caller may
// read), filtered by Object Group through its label and by the other
// attributes here. A key pair yields two objects, its private and its
// public key. Offset Items and Maximum Items page the result; Located
// Items (1.3+) counts every match.
func (c *call) locate(p ttlv.Item) ([]ttlv.Item, error) {
	attrs, err := requestAttrs(p)
	if err != nil {
		return nil, err
	}
	var name, group string
	for _, a := range attrs {
		if !locatable[a.name] {
			return nil, notSupported("Locate cannot filter on attribute %q", truncate(a.name, 64))
		}
		var ok bool
		switch a.name {
		case "Name":
			name, ok = nameValue(a.value)
		case "Object Group":
			group, ok = a.value.Text()
		default:
			ok = true
		}
		if !ok {
			return nil, invalidField("attribute %q has a value of the wrong type", a.name)
		}
	}
	maxItems, offset, err := pageFields(p)
	if err != nil {
		return nil, err
	}
	if it, ok := p.Find(ttlv.TagStorageStatusMask); ok {
		m, ok := it.Int()
		if !ok {
			return nil, invalidField("StorageStatusMask must be an Integer")
		}
		if m&storageOnline == 0 {
			return c.located(nil, 0), nil
		}
	}

	var keys []*kms.Key
	if name != "" {
		k, err := c.s.svc.GetKey(c.ctx, name)
		switch kms.CodeOf(err) {
		case "":
			keys = append(keys, k)
		case kms.CodeKeyNotFound, kms.CodeForbidden:
			// Nothing the caller may see has that name.
		default:
			return nil, err
		}
	} else {
		req := kms.ListKeysRequest{}
		if group != "" {
			req.Labels = map[string]string{GroupLabel: group}
		}
		for {
			page, err := c.s.svc.ListKeys(c.ctx, req)
			if err != nil {
				return nil, err
			}
			keys = append(keys, page.Keys...)
			if page.NextPageToken == "" {
				break
			}
			req.PageToken = page.NextPageToken
		}
	}

	var uids []string
	total := 0
	for _, k := range keys {
		refs := []objectRef{{keyID: k.ID}}
		if objectTypeOf(k.Algorithm, true) == ttlv.ObjectTypePublicKey {
			refs = append(refs, objectRef{keyID: k.ID, public: true})
		}
		for _, ref := range refs {
			if !matches(k, ref, attrs) {
				continue
			}
			if total >= offset && (maxItems == 0 || len(uids) < maxItems) {
				uids = append(uids, ref.uid())
			}
			total++
		}
	}
	return c.located(uids, total), nil
}

func (c *call) located(uids []string, total int) []ttlv.Item {
	var out []ttlv.Item
	if c.v.atLeast(1, 3) {
		out = append(out, ttlv.Int(ttlv.TagLocatedItems, int32(total)))
	}
	for _, u := range uids {
		out = append(out, ttlv.Text(ttlv.TagUniqueIdentifier, u))
	}
	return out
}

func pageFields(p ttlv.Item) (maxItems, offset int, err error) {
	if it, ok := p.Find(ttlv.TagMaximumItems); ok {
		n, ok := it.Int()
		if !ok || n < 0 {
			return 0, 0, invalidField("MaximumItems must be a non-negative Integer")
		}
		maxItems = int(n)
	}
	if it, ok := p.Find(ttlv.TagOffsetItems); ok {
		n, ok := it.Int()
		if !ok || n < 0 {
			return 0, 0, invalidField("OffsetItems must be a non-negative Integer")
		}
		offset = int(n)
	}
	return maxItems, offset, nil
}

// matches reports whether the object has every filter attribute: Name by
// its text, Cryptographic Usage Mask as a subset of the object's, the
// others by exact value.
func matches(k *kms.Key, ref objectRef, filters []attr) bool {
	have := objectAttributes(k, ref)
	for _, f := range filters {
		found := false
		for _, a := range have {
			if a.name != f.name {
				continue
			}
			switch f.name {
			case "Name":
				want, _ := nameValue(f.value)
				found = want == k.Name
			case "Cryptographic Usage Mask":
				want, _ := f.value.Int()
				found = ttlv.CryptographicUsageMask(uint32(want))&^usageMask(k, ref.public) == 0
			default:
				found = a.make(f.value.Tag()).Equal(f.value)
			}
			break
		}
		if !found {
			return false
		}
	}
	return true
}

// check reports whether the object could be used as the client says: its
// usage mask must allow what the Cryptographic Usage Mask asks and its
// state must permit it (the lifecycle table the service applies). Usage
// Limits and Lease Time are not tracked per client and are not checked.
func (c *call) check(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	var want ttlv.CryptographicUsageMask
	if it, ok := p.Find(ttlv.TagCryptographicUsageMask); ok {
		m, ok := it.Int()
		if !ok {
			return nil, invalidField("CryptographicUsageMask must be an Integer")
		}
		want = ttlv.CryptographicUsageMask(uint32(m))
	}
	k, err := c.objectKey(ref)
	if err != nil {
		return nil, err
	}
	if extra := want &^ usageMask(k, ref.public); extra != 0 {
		reason := ttlv.ResultReasonInvalidField
		if c.v.atLeast(2, 0) {
			reason = ttlv.ResultReasonIncompatibleCryptographicUsageMask
		}
		return nil, afterService(withReason(reason, kms.CodeUnsupportedOperation, "%s keys cannot be used for %s", k.Algorithm, extra))
	}
	protect := ttlv.CryptographicUsageMaskEncrypt | ttlv.CryptographicUsageMaskSign | ttlv.CryptographicUsageMaskMACGenerate
	use := "process"
	if want&protect != 0 {
		use = "protect"
	}
	if !usable(k, want&protect != 0) {
		return nil, afterService(withReason(reasonOf(kms.CodeKeyDeactivated, c.v), kms.CodeIllegalTransition,
			"key %s is %s: it cannot %s data", k.ID, k.State, use))
	}
	return []ttlv.Item{uidItem(ref)}, nil
}

// usable applies the lifecycle rules (package lifecycle, through the
// state's permissions) to a planned use.
func usable(k *kms.Key, protect bool) bool {
	if k.Algorithm.Purpose() == "" {
		return false
	}
	return permits(k.State, protect)
}
