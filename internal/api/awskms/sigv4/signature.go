package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// stringToSign builds the string to sign:
//
//	AWS4-HMAC-SHA256\n<request time, ISO 8601 basic>\n<credential scope>\n<hex SHA-256 of the canonical request>
func stringToSign(amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	var b strings.Builder
	b.Grow(len(Algorithm) + len(amzDate) + len(scope) + 2*len(sum) + 3)
	b.WriteString(Algorithm)
	b.WriteByte('\n')
	b.WriteString(amzDate)
	b.WriteByte('\n')
	b.WriteString(scope)
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// deriveSigningKey derives the signing key of a credential scope from the
// secret access key:
//
//	kSecret  = "AWS4" + secret
//	kDate    = HMAC-SHA256(kSecret, date)
//	kRegion  = HMAC-SHA256(kDate, region)
//	kService = HMAC-SHA256(kRegion, service)
//	kSigning = HMAC-SHA256(kService, "aws4_request")
//
// Every intermediate key is zeroed before returning; the caller zeroes the
// returned key when done. secret itself is neither modified nor retained.
func deriveSigningKey(secret []byte, date, region, service string) []byte {
	k := make([]byte, 0, 4+len(secret))
	k = append(k, "AWS4"...)
	k = append(k, secret...)
	for _, data := range [...]string{date, region, service, scopeTerminator} {
		next := hmacSHA256(k, data)
		clear(k)
		k = next
	}
	return k
}

// hmacSHA256 returns HMAC-SHA256(key, data).
func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(make([]byte, 0, sha256.Size))
}
