package hsm

import (
	"fmt"

	"github.com/miekg/pkcs11"
)

// HMACKind names an HMAC key the token can generate: its hash.
type HMACKind string

// The HMAC kinds: the key is as long as the hash's output.
const (
	HMACSHA256 HMACKind = "hmac-sha256"
	HMACSHA384 HMACKind = "hmac-sha384"
	HMACSHA512 HMACKind = "hmac-sha512"
)

// hmacSpecs are each kind's key length and PKCS#11 mechanism.
var hmacSpecs = map[HMACKind]struct {
	size int
	mech uint
}{
	HMACSHA256: {32, pkcs11.CKM_SHA256_HMAC},
	HMACSHA384: {48, pkcs11.CKM_SHA384_HMAC},
	HMACSHA512: {64, pkcs11.CKM_SHA512_HMAC},
}

// GenerateHMACKey creates, inside the token, a persistent generic secret
// key labelled label for HMAC of kind: sensitive, never extractable, and
// usable only to sign and verify (compute and check MACs). It fails if the
// label is taken.
func (h *HSM) GenerateHMACKey(label string, kind HMACKind) error {
	spec, ok := hmacSpecs[kind]
	if !ok {
		return fmt.Errorf("hsm: unsupported HMAC kind %q", kind)
	}
	if ok, err := h.HasKey(label); err != nil || ok {
		if ok {
			return fmt.Errorf("hsm: a key labelled %q exists already", label)
		}
		return err
	}
	return h.with(func(s pkcs11.SessionHandle) error {
		tmpl := []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, spec.size),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
			pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		}
		k, err := h.ctx.GenerateKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_GENERIC_SECRET_KEY_GEN, nil)}, tmpl)
		if err != nil {
			return fmt.Errorf("hsm: generate HMAC key %q: %w", label, err)
		}
		h.mu.Lock()
		h.keys[objectKey{label, pkcs11.CKO_SECRET_KEY}] = k
		h.mu.Unlock()
		return nil
	})
}

// HMAC has the token compute the HMAC of kind of data under its key
// labelled label.
func (h *HSM) HMAC(label string, kind HMACKind, data []byte) ([]byte, error) {
	spec, ok := hmacSpecs[kind]
	if !ok {
		return nil, fmt.Errorf("hsm: unsupported HMAC kind %q", kind)
	}
	var mac []byte
	err := h.withKey(label, pkcs11.CKO_SECRET_KEY, func(s pkcs11.SessionHandle, k pkcs11.ObjectHandle) error {
		if err := h.ctx.SignInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(spec.mech, nil)}, k); err != nil {
			return fmt.Errorf("hsm: HMAC: %w", err)
		}
		var err error
		if mac, err = h.ctx.Sign(s, data); err != nil {
			return fmt.Errorf("hsm: HMAC: %w", err)
		}
		return nil
	})
	return mac, err
}

// GenerateHMACKey is HSM.GenerateHMACKey on the current connection.
func (r *Reconnecting) GenerateHMACKey(label string, kind HMACKind) error {
	_, err := use(r, func(h *HSM) (struct{}, error) { return struct{}{}, h.GenerateHMACKey(label, kind) })
	return err
}

// HMAC is HSM.HMAC on the current connection.
func (r *Reconnecting) HMAC(label string, kind HMACKind, data []byte) ([]byte, error) {
	return use(r, func(h *HSM) ([]byte, error) { return h.HMAC(label, kind, data) })
}
