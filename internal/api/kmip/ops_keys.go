package kmip

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/secret"
)

// objectTypeField reads the Object Type a payload must carry.
func objectTypeField(p ttlv.Item) (ttlv.ObjectType, error) {
	it, ok := p.Find(ttlv.TagObjectType)
	if !ok {
		return 0, missingData("ObjectType is required")
	}
	e, ok := it.Enum()
	if !ok {
		return 0, invalidField("ObjectType must be an Enumeration")
	}
	return ttlv.ObjectType(e), nil
}

// createRequest is the service request for a new KMIP key. KMIP keys are
// created pre-active: Create gives a Pre-Active object, and nothing
// encrypts under it until Activate (or its Activation Date).
func (ks keySpec) createRequest(alg crypto.Algorithm, exportable bool) kms.CreateKeyRequest {
	if ks.extractable != nil {
		exportable = *ks.extractable
	}
	req := kms.CreateKeyRequest{
		Name: ks.keyName(), Algorithm: string(alg), Description: ks.description, Owner: ks.owner,
		Labels: ks.labels(), PreActive: true, Exportable: exportable,
	}
	if !ks.activateAt.IsZero() {
		t := ks.activateAt
		req.Policy.ActivateAt = &t
	}
	return req
}

// create makes a symmetric key. Symmetric keys are exportable unless the
// client sets Extractable to false, because KMIP clients Get the keys
// they create.
func (c *call) create(p ttlv.Item) ([]ttlv.Item, error) {
	ot, err := objectTypeField(p)
	if err != nil {
		return nil, err
	}
	if ot != ttlv.ObjectTypeSymmetricKey {
		return nil, invalidField("Create makes symmetric keys, not %s objects: use CreateKeyPair for key pairs", ot)
	}
	ks, err := requestKeySpec(p)
	if err != nil {
		return nil, err
	}
	if ks.alg == 0 {
		return nil, missingData("the Cryptographic Algorithm attribute is required")
	}
	alg, err := symmetricAlgorithm(ks.alg, ks.bits)
	if err != nil {
		return nil, err
	}
	if err := ks.checkMask(alg, c.v); err != nil {
		return nil, err
	}
	k, err := c.s.svc.CreateKey(c.ctx, ks.createRequest(alg, true))
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{ttlv.Enum(ttlv.TagObjectType, ot), uidItem(objectRef{keyID: k.ID})}, nil
}

// register imports a symmetric key given in clear (Raw or Transparent
// Symmetric Key format) inside the mutually authenticated TLS channel, or
// a private key (see registerPrivate). The
// key's origin becomes external; like created keys it is pre-active and
// exportable unless Extractable is false.
func (c *call) register(p ttlv.Item) ([]ttlv.Item, error) {
	ot, err := objectTypeField(p)
	if err != nil {
		return nil, err
	}
	switch ot {
	case ttlv.ObjectTypeSymmetricKey:
	case ttlv.ObjectTypePrivateKey:
		return c.registerPrivate(p)
	default:
		return nil, notSupported("Register takes symmetric and private keys, not %s objects", ot)
	}
	obj, ok := p.Find(ttlv.TagSymmetricKey)
	if !ok {
		return nil, missingData("the SymmetricKey object is required")
	}
	kb, err := readKeyBlock(obj)
	if err != nil {
		return nil, err
	}
	ks, err := requestKeySpec(p)
	if err != nil {
		return nil, err
	}
	switch {
	case kb.alg == 0 && ks.alg == 0:
		return nil, missingData("the Cryptographic Algorithm is required (in the KeyBlock or as an attribute)")
	case kb.alg == 0:
		kb.alg = ks.alg
	case ks.alg != 0 && ks.alg != kb.alg:
		return nil, invalidField("the Cryptographic Algorithm attribute contradicts the KeyBlock's")
	}
	bits := int32(len(kb.material) * 8)
	if (kb.bits != 0 && kb.bits != bits) || (ks.bits != 0 && ks.bits != bits) {
		return nil, invalidField("the Cryptographic Length does not match the %d-bit key material", bits)
	}
	alg, err := symmetricAlgorithm(kb.alg, bits)
	if err != nil {
		return nil, err
	}
	if err := ks.checkMask(alg, c.v); err != nil {
		return nil, err
	}
	material := secret.New(bytes.Clone(kb.material))
	defer material.Wipe() // the service wipes it too; this covers refusals before it
	req := ks.createRequest(alg, true)
	req.Import = &kms.ImportMaterial{Plaintext: material}
	k, err := c.s.svc.CreateKey(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(objectRef{keyID: k.ID})}, nil
}

// keyBlock is the part of a registered key block Arca uses.
type keyBlock struct {
	material []byte // shared with the request, which is wiped after the response
	alg      ttlv.CryptographicAlgorithm
	bits     int32
}

// registeredBlock is what Register reads from any object's key block: its
// format, its Key Material (not yet interpreted), and the algorithm and
// length it claims.
type registeredBlock struct {
	format   ttlv.KeyFormatType
	material ttlv.Item
	alg      ttlv.CryptographicAlgorithm
	bits     int32
}

// readRegisteredBlock reads the key block of a registered object, refusing
// wrapped and compressed keys.
func readRegisteredBlock(obj ttlv.Item) (registeredBlock, error) {
	var rb registeredBlock
	b, ok := obj.Find(ttlv.TagKeyBlock)
	if !ok {
		return rb, missingData("the KeyBlock is required")
	}
	if _, ok := b.Find(ttlv.TagKeyWrappingData); ok {
		return rb, notSupported("wrapped key material is not supported: register the key in clear over this mutually authenticated channel")
	}
	if _, ok := b.Find(ttlv.TagKeyCompressionType); ok {
		return rb, withReason(ttlv.ResultReasonKeyCompressionTypeNotSupported, kms.CodeInvalidArgument, "key compression is not supported")
	}
	fit, ok := b.Find(ttlv.TagKeyFormatType)
	f, ok2 := fit.Enum()
	if !ok || !ok2 {
		return rb, missingData("the KeyFormatType is required")
	}
	rb.format = ttlv.KeyFormatType(f)
	if rb.material, ok = b.Find(ttlv.TagKeyValue, ttlv.TagKeyMaterial); !ok {
		return rb, missingData("the KeyValue has no KeyMaterial")
	}
	if it, ok := b.Find(ttlv.TagCryptographicAlgorithm); ok {
		e, ok := it.Enum()
		if !ok {
			return rb, invalidField("CryptographicAlgorithm must be an Enumeration")
		}
		rb.alg = ttlv.CryptographicAlgorithm(e)
	}
	if it, ok := b.Find(ttlv.TagCryptographicLength); ok {
		if rb.bits, ok = it.Int(); !ok {
			return rb, invalidField("CryptographicLength must be an Integer")
		}
	}
	return rb, nil
}

// readKeyBlock reads a registered symmetric key.
func readKeyBlock(obj ttlv.Item) (keyBlock, error) {
	rb, err := readRegisteredBlock(obj)
	if err != nil {
		return keyBlock{}, err
	}
	kb := keyBlock{alg: rb.alg, bits: rb.bits}
	var ok bool
	switch rb.format {
	case ttlv.KeyFormatTypeRaw:
		kb.material, ok = rb.material.Bytes()
	case ttlv.KeyFormatTypeTransparentSymmetricKey:
		var key ttlv.Item
		if key, ok = rb.material.Find(ttlv.TagKey); ok {
			kb.material, ok = key.Bytes()
		}
	default:
		return kb, withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument,
			"symmetric keys are registered in Raw or TransparentSymmetricKey format, not %s", rb.format)
	}
	if !ok || len(kb.material) == 0 {
		return kb, invalidField("the KeyMaterial does not hold the key bytes the KeyFormatType says")
	}
	return kb, nil
}

// createKeyPair makes an Arca signing key. The private key's Unique
// Identifier is the key id; the public key's is the key id followed by
// PublicSuffix. Key pairs are not exportable unless the client sets
// Extractable to true: the private key stays in Arca and signs there.
func (c *call) createKeyPair(p ttlv.Item) ([]ttlv.Item, error) {
	var common, private, public []attr
	for _, part := range []struct {
		tags [2]ttlv.Tag
		into *[]attr
	}{
		{[2]ttlv.Tag{ttlv.TagCommonTemplateAttribute, ttlv.TagCommonAttributes}, &common},
		{[2]ttlv.Tag{ttlv.TagPrivateKeyTemplateAttribute, ttlv.TagPrivateKeyAttributes}, &private},
		{[2]ttlv.Tag{ttlv.TagPublicKeyTemplateAttribute, ttlv.TagPublicKeyAttributes}, &public},
	} {
		for _, tag := range part.tags {
			if it, ok := p.Find(tag); ok {
				as, err := attrsIn(it)
				if err != nil {
					return nil, err
				}
				*part.into = append(*part.into, as...)
			}
		}
	}
	// One Arca key holds both halves: it takes the private key's name, or
	// the common one; a public key name may only repeat it.
	var pubName string
	var pubAttrs []attr
	for _, a := range public {
		if a.name == "Name" {
			pubName, _ = nameValue(a.value)
			continue
		}
		pubAttrs = append(pubAttrs, a)
	}
	ks, err := parseKeySpec(append(append(common, private...), pubAttrs...))
	if err != nil {
		return nil, err
	}
	if pubName != "" && ks.name != "" && pubName != ks.name {
		return nil, invalidField("Arca holds a key pair as one key with one Name: the public key cannot be named differently")
	}
	if ks.name == "" {
		ks.name = pubName
	}
	if ks.alg == 0 {
		return nil, missingData("the Cryptographic Algorithm attribute is required")
	}
	alg, err := pairAlgorithm(ks.alg, ks.bits, ks.curve)
	if err != nil {
		return nil, err
	}
	if err := ks.checkMask(alg, c.v); err != nil {
		return nil, err
	}
	k, err := c.s.svc.CreateKey(c.ctx, ks.createRequest(alg, false))
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{
		ttlv.Text(ttlv.TagPrivateKeyUniqueIdentifier, objectRef{keyID: k.ID}.uid()),
		ttlv.Text(ttlv.TagPublicKeyUniqueIdentifier, objectRef{keyID: k.ID, public: true}.uid()),
	}, nil
}

// reKey rotates the key: Arca adds a new version, makes it primary and
// keeps the old versions for decryption, so the Unique Identifier stays
// the same (KMIP would create a new object and link the two).
func (c *call) reKey(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	if err := keyOnly(ref, "ReKey"); err != nil {
		return nil, err
	}
	if _, ok := p.Find(ttlv.TagOffset); ok {
		return nil, notSupported("Offset is not supported: the new key version is used at once")
	}
	if attrs, err := requestAttrs(p); err != nil || len(attrs) > 0 {
		return nil, notSupported("ReKey takes no attributes: the key keeps its own")
	}
	k, err := c.s.svc.RotateKey(c.ctx, kms.RotateRequest{Key: ref.keyID})
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(objectRef{keyID: k.ID})}, nil
}

// get returns a key's material: a symmetric key in Raw (default) or
// Transparent Symmetric Key format, a private key in PKCS#8, or a public
// key in PKCS#1 (RSA, the default) or X.509 SubjectPublicKeyInfo. The
// private and symmetric material comes from ExportKeyMaterial (key:export,
// exportable keys only) and is wiped once the response is sent.
func (c *call) get(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	if _, ok := p.Find(ttlv.TagKeyWrappingSpecification); ok {
		return nil, notSupported("key wrapping on Get is not supported: keys are returned in clear inside this mutually authenticated TLS channel")
	}
	if _, ok := p.Find(ttlv.TagKeyCompressionType); ok {
		return nil, withReason(ttlv.ResultReasonKeyCompressionTypeNotSupported, kms.CodeInvalidArgument, "key compression is not supported")
	}
	var format ttlv.KeyFormatType
	if it, ok := p.Find(ttlv.TagKeyFormatType); ok {
		e, ok := it.Enum()
		if !ok {
			return nil, invalidField("KeyFormatType must be an Enumeration")
		}
		format = ttlv.KeyFormatType(e)
	}
	if ref.public {
		return c.getPublic(ref, format)
	}
	switch format {
	case 0, ttlv.KeyFormatTypeRaw, ttlv.KeyFormatTypeTransparentSymmetricKey, ttlv.KeyFormatTypePKCS8:
	default:
		return nil, withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument, "KeyFormatType %s is not supported for this object", format)
	}
	// The format must suit the key: the service checks it on the key
	// before any material is read (an export is audited as one).
	accept := func(a crypto.Algorithm) error {
		symmetric := objectTypeOf(a, false) == ttlv.ObjectTypeSymmetricKey
		if kalg, _, _ := kmipAlgorithm(a); !symmetric && kalg == 0 {
			return afterService(withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument,
				"%s private keys have no KMIP encoding", a))
		}
		if format != 0 && symmetric == (format == ttlv.KeyFormatTypePKCS8) {
			return afterService(withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument,
				"%s keys cannot be returned in KeyFormatType %s", a, format))
		}
		return nil
	}
	res, err := c.s.svc.ExportKeyMaterial(c.ctx, kms.RawExportRequest{Key: ref.keyID, Accept: accept})
	if err != nil {
		return nil, err
	}
	c.wipeLater(res.Material.Wipe)
	alg, bits, _ := kmipAlgorithm(res.Algorithm)
	ot := objectTypeOf(res.Algorithm, false)
	var objTag ttlv.Tag
	var material ttlv.Item
	switch {
	case ot == ttlv.ObjectTypeSymmetricKey && (format == 0 || format == ttlv.KeyFormatTypeRaw):
		objTag, format = ttlv.TagSymmetricKey, ttlv.KeyFormatTypeRaw
		material = ttlv.Bytes(ttlv.TagKeyMaterial, res.Material.Reveal())
	case ot == ttlv.ObjectTypeSymmetricKey && format == ttlv.KeyFormatTypeTransparentSymmetricKey:
		objTag = ttlv.TagSymmetricKey
		material = ttlv.Struct(ttlv.TagKeyMaterial, ttlv.Bytes(ttlv.TagKey, res.Material.Reveal()))
	case ot == ttlv.ObjectTypePrivateKey && (format == 0 || format == ttlv.KeyFormatTypePKCS8) && alg != 0:
		objTag, format = ttlv.TagPrivateKey, ttlv.KeyFormatTypePKCS8
		material = ttlv.Bytes(ttlv.TagKeyMaterial, res.Material.Reveal())
	default:
		return nil, afterService(withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument,
			"%s keys cannot be returned in KeyFormatType %s", res.Algorithm, format))
	}
	return []ttlv.Item{
		ttlv.Enum(ttlv.TagObjectType, ot),
		uidItem(ref),
		ttlv.Struct(objTag, keyBlockItem(format, material, alg, bits)),
	}, nil
}

func keyBlockItem(format ttlv.KeyFormatType, material ttlv.Item, alg ttlv.CryptographicAlgorithm, bits int32) ttlv.Item {
	kids := []ttlv.Item{
		ttlv.Enum(ttlv.TagKeyFormatType, format),
		ttlv.Struct(ttlv.TagKeyValue, material),
	}
	if alg != 0 {
		kids = append(kids, ttlv.Enum(ttlv.TagCryptographicAlgorithm, alg), ttlv.Int(ttlv.TagCryptographicLength, bits))
	}
	return ttlv.Struct(ttlv.TagKeyBlock, kids...)
}

// getPublic returns the public key of a key pair (key:read, like the REST
// public-key endpoint).
func (c *call) getPublic(ref objectRef, format ttlv.KeyFormatType) ([]ttlv.Item, error) {
	switch format {
	case 0, ttlv.KeyFormatTypePKCS1, ttlv.KeyFormatTypeX509:
	default:
		return nil, withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument,
			"public keys are returned in PKCS1 (RSA) or X509 format, not %s", format)
	}
	res, err := c.s.svc.GetPublicKey(c.ctx, ref.keyID, 0)
	if err != nil {
		return nil, err
	}
	alg, bits, ok := kmipAlgorithm(res.Algorithm)
	if !ok || len(res.DER) == 0 {
		return nil, afterService(notSupported("%s public keys have no KMIP encoding", res.Algorithm))
	}
	der := res.DER
	isRSA := alg == ttlv.CryptographicAlgorithmRSA
	switch {
	case format == ttlv.KeyFormatTypeX509:
	case isRSA: // PKCS#1, asked for or by default
		pub, err := x509.ParsePKIXPublicKey(res.DER)
		rk, ok := pub.(*rsa.PublicKey)
		if err != nil || !ok {
			return nil, afterService(withReason(ttlv.ResultReasonGeneralFailure, kms.CodeInternal, "internal error: cannot re-encode the public key"))
		}
		der, format = x509.MarshalPKCS1PublicKey(rk), ttlv.KeyFormatTypePKCS1
	case format == ttlv.KeyFormatTypePKCS1:
		return nil, afterService(withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument, "only RSA public keys have a PKCS1 form; ask for X509"))
	default:
		format = ttlv.KeyFormatTypeX509
	}
	return []ttlv.Item{
		ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypePublicKey),
		uidItem(ref),
		ttlv.Struct(ttlv.TagPublicKey, keyBlockItem(format, ttlv.Bytes(ttlv.TagKeyMaterial, der), alg, bits)),
	}, nil
}

// objectKey reads the key behind ref with GetKey (key:read); the public
// half exists only for key pairs.
func (c *call) objectKey(ref objectRef) (*kms.Key, error) {
	k, err := c.s.svc.GetKey(c.ctx, ref.keyID)
	if err != nil {
		return nil, err
	}
	if ref.public && objectTypeOf(k.Algorithm, true) != ttlv.ObjectTypePublicKey {
		return nil, afterService(itemNotFound("no object has Unique Identifier %q: key %s is not a key pair", ref.uid(), ref.keyID))
	}
	return k, nil
}

// attributeNames reads the attributes a request asks for: Attribute Name
// texts (1.x), or Attribute References (2.0), each a tag Enumeration or a
// structure naming the attribute.
func attributeNames(p ttlv.Item) ([]string, error) {
	var names []string
	for _, c := range p.Items() {
		switch c.Tag() {
		case ttlv.TagAttributeName:
			n, ok := c.Text()
			if !ok {
				return nil, invalidField("AttributeName must be a TextString")
			}
			names = append(names, n)
		case ttlv.TagAttributeReference:
			if e, ok := c.Enum(); ok {
				n, known := tagNames[ttlv.Tag(e)]
				if !known {
					n = ttlv.Tag(e).String()
				}
				names = append(names, n)
				continue
			}
			n, ok := c.Find(ttlv.TagAttributeName)
			s, ok2 := n.Text()
			if !ok || !ok2 {
				return nil, invalidField("AttributeReference must name an attribute")
			}
			names = append(names, s)
		}
	}
	return names, nil
}

// getAttributes reports the object's attributes, from the key's metadata
// (GetKey, key:read). Without names it reports the standard set; names it
// does not know are left out, as the specification says.
func (c *call) getAttributes(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	names, err := attributeNames(p)
	if err != nil {
		return nil, err
	}
	k, err := c.objectKey(ref)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []ttlv.Item
	for _, a := range objectAttributes(k, ref) {
		if (len(want) == 0 && !a.extra) || want[a.name] {
			out = append(out, a.encode(c.v))
		}
	}
	if c.v.atLeast(2, 0) {
		return []ttlv.Item{uidItem(ref), ttlv.Struct(ttlv.TagAttributes, out...)}, nil
	}
	return append([]ttlv.Item{uidItem(ref)}, out...), nil
}

// getAttributeList names every attribute the object has.
func (c *call) getAttributeList(p ttlv.Item) ([]ttlv.Item, error) {
	ref, err := c.uidFrom(p)
	if err != nil {
		return nil, err
	}
	k, err := c.objectKey(ref)
	if err != nil {
		return nil, err
	}
	out := []ttlv.Item{uidItem(ref)}
	for _, a := range objectAttributes(k, ref) {
		if c.v.atLeast(2, 0) {
			out = append(out, ttlv.Enum(ttlv.TagAttributeReference, uint32(a.tag)))
		} else {
			out = append(out, ttlv.Text(ttlv.TagAttributeName, a.name))
		}
	}
	return out, nil
}
