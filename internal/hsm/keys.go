package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/miekg/pkcs11"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Key pairs inside the token, for keys whose private half must never leave
// it: the token generates them (private half sensitive, never extractable,
// usable only to sign) and signs with them; the public half is read out
// once, for verification outside the token.

// PairKind names a key pair type the token can generate.
type PairKind string

// Key pair kinds.
const (
	ECP256  PairKind = "ec-p256"
	ECP384  PairKind = "ec-p384"
	RSA2048 PairKind = "rsa-2048"
	RSA3072 PairKind = "rsa-3072"
	RSA4096 PairKind = "rsa-4096"
)

var curveOIDs = map[PairKind]asn1.ObjectIdentifier{
	ECP256: {1, 2, 840, 10045, 3, 1, 7},
	ECP384: {1, 3, 132, 0, 34},
}

var curves = map[PairKind]elliptic.Curve{ECP256: elliptic.P256(), ECP384: elliptic.P384()}

var rsaBits = map[PairKind]int{RSA2048: 2048, RSA3072: 3072, RSA4096: 4096}

// GenerateKeyPair creates, inside the token, a persistent key pair
// labelled label (both halves) and returns its public key. The private
// half is sensitive, never extractable, and can only sign.
func (h *HSM) GenerateKeyPair(label string, kind PairKind) (crypto.PublicKey, error) {
	var mech uint
	pubTmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
	}
	switch {
	case curveOIDs[kind] != nil:
		params, err := asn1.Marshal(curveOIDs[kind])
		if err != nil {
			return nil, err
		}
		mech = pkcs11.CKM_EC_KEY_PAIR_GEN
		pubTmpl = append(pubTmpl, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC), pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params))
	case rsaBits[kind] != 0:
		mech = pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN
		pubTmpl = append(pubTmpl, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, rsaBits[kind]),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
	default:
		return nil, fmt.Errorf("hsm: unsupported key pair kind %q", kind)
	}
	privTmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN_RECOVER, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
	}
	var pub crypto.PublicKey
	err := h.with(func(s pkcs11.SessionHandle) error {
		if _, err := h.findObject(s, label, pkcs11.CKO_PRIVATE_KEY); err == nil {
			return fmt.Errorf("hsm: a key labelled %q exists already", label)
		} else if !errors.Is(err, ErrNoKey) {
			return err
		}
		pubH, privH, err := h.ctx.GenerateKeyPair(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubTmpl, privTmpl)
		if err != nil {
			return fmt.Errorf("hsm: generate key pair %q: %w", label, err)
		}
		if pub, err = h.publicKey(s, pubH, kind); err != nil {
			return err
		}
		h.mu.Lock()
		h.keys[objectKey{label, pkcs11.CKO_PRIVATE_KEY}] = privH
		h.mu.Unlock()
		return nil
	})
	return pub, err
}

// publicKey reads the public key object pubH.
func (h *HSM) publicKey(s pkcs11.SessionHandle, pubH pkcs11.ObjectHandle, kind PairKind) (crypto.PublicKey, error) {
	if c := curves[kind]; c != nil {
		attrs, err := h.ctx.GetAttributeValue(s, pubH, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
		if err != nil {
			return nil, fmt.Errorf("hsm: read the public key: %w", err)
		}
		point := attrs[0].Value
		// CKA_EC_POINT is a DER OCTET STRING holding the point.
		var inner []byte
		if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
			point = inner
		}
		return ecdsa.ParseUncompressedPublicKey(c, point)
	}
	attrs, err := h.ctx.GetAttributeValue(s, pubH, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil),
	})
	if err != nil {
		return nil, fmt.Errorf("hsm: read the public key: %w", err)
	}
	e := new(big.Int).SetBytes(attrs[1].Value)
	if !e.IsInt64() || e.Int64() > 1<<31 {
		return nil, errors.New("hsm: RSA public exponent out of range")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(attrs[0].Value), E: int(e.Int64())}, nil
}

// Signer is a crypto.Signer whose private key is the token's key pair
// labelled Label: ECDSA signatures come out ASN.1 DER, RSA ones PSS (for
// *rsa.PSSOptions) or PKCS #1 v1.5, exactly as Go's own keys make them.
type Signer struct {
	h     *HSM
	label string
	pub   crypto.PublicKey
}

// Signer returns the signer of the token's key pair labelled label, whose
// public key is pub (as GenerateKeyPair returned it).
func (h *HSM) Signer(label string, pub crypto.PublicKey) crypto.Signer {
	return &Signer{h: h, label: label, pub: pub}
}

// Public returns the public key.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign has the token sign digest (already hashed with opts.HashFunc()).
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	hash := opts.HashFunc()
	if hash == 0 || len(digest) != hash.Size() {
		return nil, errors.New("hsm: sign needs a digest of the hash named by opts")
	}
	var mech *pkcs11.Mechanism
	input := digest
	switch s.pub.(type) {
	case *ecdsa.PublicKey:
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			hm, mgf, ok := pssMechanisms(hash)
			if !ok {
				return nil, fmt.Errorf("hsm: RSA-PSS with %v is not supported", hash)
			}
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthEqualsHash || salt == rsa.PSSSaltLengthAuto {
				salt = hash.Size()
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(hm, mgf, uint(salt)))
		} else {
			prefix, ok := digestInfoPrefixes[hash]
			if !ok {
				return nil, fmt.Errorf("hsm: RSA PKCS #1 v1.5 with %v is not supported", hash)
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
			input = append(append([]byte{}, prefix...), digest...)
		}
	default:
		return nil, fmt.Errorf("hsm: unsupported public key type %T", s.pub)
	}
	var sig []byte
	err := s.h.withKey(s.label, pkcs11.CKO_PRIVATE_KEY, func(ss pkcs11.SessionHandle, k pkcs11.ObjectHandle) error {
		if err := s.h.ctx.SignInit(ss, []*pkcs11.Mechanism{mech}, k); err != nil {
			return fmt.Errorf("hsm: sign: %w", err)
		}
		var err error
		if sig, err = s.h.ctx.Sign(ss, input); err != nil {
			return fmt.Errorf("hsm: sign: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := s.pub.(*ecdsa.PublicKey); ok {
		return ecdsaDER(sig)
	}
	return sig, nil
}

// ecdsaDER turns the token's r || s into the ASN.1 DER signature Go
// (and X.509) use.
func ecdsaDER(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, errors.New("hsm: malformed ECDSA signature from the token")
	}
	r, s := new(big.Int).SetBytes(raw[:len(raw)/2]), new(big.Int).SetBytes(raw[len(raw)/2:])
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}

// pssMechanisms gives the PKCS#11 hash and MGF1 of an RSA-PSS hash.
func pssMechanisms(h crypto.Hash) (hash, mgf uint, ok bool) {
	switch h {
	case crypto.SHA256:
		return pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, true
	case crypto.SHA384:
		return pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384, true
	case crypto.SHA512:
		return pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512, true
	}
	return 0, 0, false
}

// digestInfoPrefixes are the DER DigestInfo headers (RFC 8017, section
// 9.2, note 1) that precede a digest signed with PKCS #1 v1.5.
var digestInfoPrefixes = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// DestroyKey destroys every object labelled label (a secret key, or both
// halves of a key pair): crypto-shredding a key that lives in the token.
// No object with the label is not an error.
func (h *HSM) DestroyKey(label string) error {
	return h.with(func(s pkcs11.SessionHandle) error {
		if err := h.ctx.FindObjectsInit(s, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
			return fmt.Errorf("%w: find key: %v", ErrUnavailable, err)
		}
		objs, _, err := h.ctx.FindObjects(s, 16)
		_ = h.ctx.FindObjectsFinal(s)
		if err != nil {
			return fmt.Errorf("%w: find key: %v", ErrUnavailable, err)
		}
		h.mu.Lock()
		for ck := range h.keys {
			if ck.label == label {
				delete(h.keys, ck)
			}
		}
		h.mu.Unlock()
		for _, o := range objs {
			if err := h.ctx.DestroyObject(s, o); err != nil {
				return fmt.Errorf("hsm: destroy key %q: %w", label, err)
			}
		}
		return nil
	})
}

// PrivateValue asks the token for the secret value of the key labelled
// label (CKA_VALUE of a secret or EC private key, CKA_PRIVATE_EXPONENT of
// an RSA one); a token that protects the key refuses. The tests use it to
// prove that.
func (h *HSM) PrivateValue(label string) ([]byte, error) {
	v, err := h.attribute(label, pkcs11.CKO_SECRET_KEY, pkcs11.CKA_VALUE)
	if !errors.Is(err, ErrNoKey) {
		return v, err
	}
	kt, err := h.attribute(label, pkcs11.CKO_PRIVATE_KEY, pkcs11.CKA_KEY_TYPE)
	if err != nil {
		return nil, err
	}
	attr := uint(pkcs11.CKA_VALUE)
	if len(kt) > 0 && kt[0] == byte(pkcs11.CKK_RSA) {
		attr = pkcs11.CKA_PRIVATE_EXPONENT
	}
	return h.attribute(label, pkcs11.CKO_PRIVATE_KEY, attr)
}

// attribute reads one attribute of the object of class labelled label.
func (h *HSM) attribute(label string, class, attr uint) ([]byte, error) {
	var v []byte
	err := h.withKey(label, class, func(s pkcs11.SessionHandle, k pkcs11.ObjectHandle) error {
		attrs, err := h.ctx.GetAttributeValue(s, k, []*pkcs11.Attribute{pkcs11.NewAttribute(attr, nil)})
		if err != nil {
			return err
		}
		v = attrs[0].Value
		return nil
	})
	return v, err
}
