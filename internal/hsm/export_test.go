package hsm

import "github.com/miekg/pkcs11"

// Flags reads boolean attributes of the secret key (private false) or
// private key (private true) labelled label, by name.
func (h *HSM) Flags(label string, private bool) (map[string]bool, error) {
	class := uint(pkcs11.CKO_SECRET_KEY)
	if private {
		class = pkcs11.CKO_PRIVATE_KEY
	}
	out := map[string]bool{}
	for name, attr := range map[string]uint{
		"sensitive": pkcs11.CKA_SENSITIVE, "extractable": pkcs11.CKA_EXTRACTABLE, "sign": pkcs11.CKA_SIGN,
		"sign_recover": pkcs11.CKA_SIGN_RECOVER, "verify": pkcs11.CKA_VERIFY, "derive": pkcs11.CKA_DERIVE,
		"modifiable": pkcs11.CKA_MODIFIABLE, "wrap": pkcs11.CKA_WRAP, "unwrap": pkcs11.CKA_UNWRAP,
		"encrypt": pkcs11.CKA_ENCRYPT, "decrypt": pkcs11.CKA_DECRYPT,
	} {
		v, err := h.attribute(label, class, attr)
		if err != nil {
			continue // not an attribute of this object class
		}
		out[name] = len(v) == 1 && v[0] != 0
	}
	return out, nil
}

// Current is the connection in use, or nil.
func (r *Reconnecting) Current() *HSM {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.h
}
