package transit

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
)

// vaultPrefix starts every versioned value of the transit API: ciphertexts,
// HMACs and signatures ("vault:v<N>:<base64>").
const vaultPrefix = "vault:v"

// versioned formats a value made by key version v: "vault:v<v>:" followed
// by the standard base64 of b.
func versioned(v uint32, b []byte) string {
	var sb strings.Builder
	sb.Grow(len(vaultPrefix) + 11 + base64.StdEncoding.EncodedLen(len(b)))
	sb.WriteString(vaultPrefix)
	sb.WriteString(strconv.FormatUint(uint64(v), 10))
	sb.WriteByte(':')
	sb.WriteString(base64.StdEncoding.EncodeToString(b))
	return sb.String()
}

// parseVersioned reads "vault:v<N>:<base64>" strictly: N a positive
// decimal without leading zeros that fits 32 bits, the payload canonical
// padded standard base64. what names the value in errors ("ciphertext",
// "signature", "hmac"); the input is never echoed.
func parseVersioned(what, s string) (uint32, []byte, error) {
	rest, ok := strings.CutPrefix(s, vaultPrefix)
	if !ok {
		return 0, nil, fmt.Errorf("%s must start with %q", what, vaultPrefix+"<version>:")
	}
	num, payload, ok := strings.Cut(rest, ":")
	if !ok || num == "" || num[0] == '0' || len(num) > 10 || strings.TrimLeft(num, "0123456789") != "" {
		return 0, nil, fmt.Errorf("%s has no valid version in its vault:v<version>: prefix", what)
	}
	v, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, nil, fmt.Errorf("%s version is out of range", what)
	}
	if payload == "" || strings.ContainsAny(payload, "\r\n") {
		return 0, nil, fmt.Errorf("%s has an empty or invalid base64 payload", what)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(payload)
	if err != nil {
		return 0, nil, fmt.Errorf("%s payload is not valid base64", what)
	}
	return uint32(v), b, nil
}

// toVaultCiphertext turns an Arca ciphertext (text form) into its transit
// form: "vault:v<N>:" and the standard base64 of the Arca ciphertext's
// binary form, N being the key version that Arca header names.
func toVaultCiphertext(arca string) (string, error) {
	rest, ok := strings.CutPrefix(arca, crypto.TextPrefix)
	if !ok {
		return "", fmt.Errorf("transit: service returned a ciphertext without the %q prefix", crypto.TextPrefix)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("transit: service returned a ciphertext with invalid base64: %w", err)
	}
	c, err := crypto.ParseBinary(b)
	if err != nil {
		return "", fmt.Errorf("transit: service returned an unparsable ciphertext: %w", err)
	}
	return versioned(c.KeyVersion, b), nil
}

// fromVaultCiphertext parses a transit ciphertext and returns the Arca
// ciphertext it carries, in text form, for the service. The version in
// the prefix must be the one the Arca header names: a mismatch means the
// value was altered or assembled by hand, and is refused as
// invalid_ciphertext. Whether the ciphertext belongs to the key named in
// the path is the service's check (wrong_key).
func fromVaultCiphertext(s string) (string, error) {
	v, b, err := parseVersioned("ciphertext", s)
	if err != nil {
		return "", reject(kms.CodeInvalidCiphertext, "%s", err.Error())
	}
	c, err := crypto.ParseBinary(b)
	if err != nil {
		return "", reject(kms.CodeInvalidCiphertext, "ciphertext payload is not an Arca ciphertext: %s", err.Error())
	}
	if c.KeyVersion != v {
		return "", reject(kms.CodeInvalidCiphertext, "ciphertext prefix says version %d but the ciphertext was made by version %d", v, c.KeyVersion)
	}
	return c.String(), nil
}
