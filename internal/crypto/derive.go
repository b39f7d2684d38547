package crypto

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/arcakms/arca/internal/secret"
)

// ErrContextRequired means a derived key was used without an encryption
// context, from which its per-operation subkey is derived.
var ErrContextRequired = errors.New("a derived key needs a non-empty encryption context")

// derivedInfo is the HKDF info prefix of derived subkeys.
const derivedInfo = "arca/v1/derived-key\x00"

// DeriveVersionKey builds the subkey of a derived key version for one
// encryption context: HKDF-SHA256 with the version's material as input key,
// no salt, and as info a fixed label followed by the canonical encoding of
// the context (entries sorted by key, each length-prefixed). Callers that
// share a key but use different contexts (tenants, say) never share a
// subkey. The subkey has the key's own id and version, so ciphertexts look
// like any other and name the derived key.
func DeriveVersionKey(keyID [16]byte, version uint32, alg Algorithm, material *secret.Bytes, context map[string]string) (*VersionKey, error) {
	if len(context) == 0 {
		return nil, ErrContextRequired
	}
	spec, ok := algorithms[alg]
	if !ok || spec.purpose != PurposeEncrypt {
		return nil, fmt.Errorf("derived keys must have an encryption algorithm, not %q", alg)
	}
	info := append([]byte(derivedInfo), canonicalContext(context)...)
	sub, err := hkdfSHA256(material.Reveal(), nil, string(info), spec.keySize)
	if err != nil {
		return nil, fmt.Errorf("derive subkey: %w", err)
	}
	m := secret.New(sub)
	defer m.Wipe()
	return NewVersionKey(keyID, version, alg, m)
}

// hkdfSHA256 is HKDF (RFC 5869) with SHA-256, the KDF of derived keys.
func hkdfSHA256(secret, salt []byte, info string, n int) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, salt, info, n)
}

// CanonicalContext is the canonical byte encoding of an encryption
// context (see canonicalContext), for callers that bind or hash contexts.
func CanonicalContext(ctx map[string]string) []byte { return canonicalContext(ctx) }

// canonicalContext encodes a context: the entry count, then each entry
// sorted by key as length-prefixed key and value (4-byte big-endian lengths).
func canonicalContext(ctx map[string]string) []byte {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(keys)))
	for _, k := range keys {
		out = appendBytes(out, []byte(k))
		out = appendBytes(out, []byte(ctx[k]))
	}
	return out
}
