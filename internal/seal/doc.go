// Package seal holds Arca's root of trust: the root key, the keyring key it
// protects, and the state machine that collects unseal shares.
//
// The hierarchy is root key → keyring key → everything else. The root key is
// 256 bits from crypto/rand, split with Shamir's secret sharing and never
// stored: only a check value derived from it (so wrong shares are recognised)
// and the keyring key encrypted under it (AES-256-GCM) are persisted. The
// keyring key encrypts every key version's material and authenticates every
// metadata record (see Keyring).
//
// The package holds no storage: it turns a Config (what is persisted) plus
// shares into a Keyring, and the service decides where the Config lives.
package seal
