// Package crypto is Arca's cryptographic core: the algorithms a key can use,
// the self-describing ciphertext format, and authenticated encryption under a
// key version.
//
// It knows nothing of HTTP, storage or identities: it takes key material and
// bytes and returns bytes. Every primitive comes from Go's standard library,
// golang.org/x/crypto, or (for AES-SIV, which neither has) Google's tink-go;
// nothing here implements a cipher. Callers never choose nonces: Seal draws
// them from crypto/rand.
//
// The ciphertext format is specified in docs/ciphertext.md; this package is
// its reference implementation.
package crypto
