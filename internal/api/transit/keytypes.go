package transit

import (
	gocrypto "crypto"
	"strings"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
)

// vaultTypes maps Vault's key types to Arca algorithms. Vault's RSA keys
// both sign and encrypt; Arca keeps the two apart, so rsa-N is Arca's
// signing algorithm of that size (asymmetric encryption keys are created
// with Arca's names, rsa-oaep-N). Vault's "hmac" type is bound to one hash
// in Arca, chosen by key_size (see hmacBySize).
var vaultTypes = map[string]crypto.Algorithm{
	"aes256-gcm96":      crypto.AES256GCM,
	"chacha20-poly1305": crypto.ChaCha20Poly1305,
	"ecdsa-p256":        crypto.ECDSAP256,
	"ecdsa-p384":        crypto.ECDSAP384,
	"ecdsa-p521":        crypto.ECDSAP521,
	"ed25519":           crypto.Ed25519,
	"rsa-2048":          crypto.RSA2048,
	"rsa-3072":          crypto.RSA3072,
	"rsa-4096":          crypto.RSA4096,
	"hmac":              crypto.HMACSHA256,
}

// hmacBySize picks the hash of a Vault "hmac" key from its key_size in
// bytes: an Arca HMAC key is as long as its hash's output.
var hmacBySize = map[int64]crypto.Algorithm{
	32: crypto.HMACSHA256,
	48: crypto.HMACSHA384,
	64: crypto.HMACSHA512,
}

// refusedTypes are Vault types Arca has no equivalent for, with the reason.
var refusedTypes = map[string]string{
	"aes128-gcm96": "Arca's AES keys are 256-bit: use aes256-gcm96",
	"managed_key":  "Arca protects keys with its own HSM support (protection hsm), not Vault managed keys",
	"aes128-cmac":  "Arca has no CMAC keys: use hmac",
	"aes256-cmac":  "Arca has no CMAC keys: use hmac",
}

// algorithmFor maps a create request's type and key_size to an Arca
// algorithm. An empty type is aes256-gcm96, as in Vault. Arca's own
// algorithm names are accepted too, so that every Arca algorithm can be
// created through this API (aes-256-siv, rsa-oaep-3072, ml-dsa-65, ...).
func algorithmFor(typ string, keySize flexInt) (crypto.Algorithm, error) {
	if typ == "" {
		typ = "aes256-gcm96"
	}
	alg, ok := vaultTypes[typ]
	if !ok {
		if why, refused := refusedTypes[typ]; refused {
			return "", reject(kms.CodeInvalidArgument, "key type %q is not supported: %s", typ, why)
		}
		a, err := crypto.ParseAlgorithm(typ)
		if err != nil {
			return "", reject(kms.CodeInvalidArgument, "unknown key type %q", truncate(typ, 64))
		}
		alg = a
	}
	if keySize.set {
		if alg.Purpose() != crypto.PurposeMAC || typ != "hmac" {
			return "", reject(kms.CodeInvalidArgument, "key_size applies to hmac keys only")
		}
		a, ok := hmacBySize[keySize.n]
		if !ok {
			return "", reject(kms.CodeInvalidArgument, "key_size of an hmac key must be 32, 48 or 64 (bytes; Arca binds the key to SHA-256, SHA-384 or SHA-512)")
		}
		alg = a
	}
	return alg, nil
}

// vaultType names an Arca algorithm as Vault does, or by its Arca name
// when Vault has no such type.
func vaultType(a crypto.Algorithm) string {
	switch a {
	case crypto.HMACSHA256, crypto.HMACSHA384, crypto.HMACSHA512:
		return "hmac"
	}
	for t, alg := range vaultTypes {
		if alg == a {
			return t
		}
	}
	return string(a)
}

// hashes are Vault's hash algorithm names Arca can serve: the hashes its
// signing and HMAC keys are bound to.
var hashes = map[string]gocrypto.Hash{
	"sha2-256": gocrypto.SHA256,
	"sha2-384": gocrypto.SHA384,
	"sha2-512": gocrypto.SHA512,
}

// parseHash reads a Vault hash algorithm name; "" means the key's own.
func parseHash(name string) (gocrypto.Hash, error) {
	if name == "" {
		return 0, nil
	}
	h, ok := hashes[strings.ToLower(name)]
	if !ok {
		return 0, reject(kms.CodeInvalidArgument, "hash algorithm %q is not supported: Arca keys use sha2-256, sha2-384 or sha2-512", truncate(name, 32))
	}
	return h, nil
}
