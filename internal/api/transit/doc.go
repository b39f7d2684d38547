// Package transit serves an HTTP API compatible with the transit secrets
// engine of HashiCorp Vault and OpenBao, so that tools written for it
// (SOPS --hc-vault-transit, Vault SDKs and CLIs) work against Arca
// unchanged.
//
// It is a thin adapter like package rest: it decodes Vault's wire format
// strictly into typed structs, authenticates the token, calls the same
// kms.Service methods the REST API calls and encodes the result or the
// error in Vault's shapes. Authorisation, lifecycle and policy checks and
// auditing happen in the service, never here, so an identity gets the same
// decision through either door; audit records name this one as interface
// "transit". Requests refused before reaching the service (unknown path,
// malformed body, bad token) are audited through Service.Reject.
//
// # Paths
//
// For each mount M (Options.Mounts, default "transit"), under /v1/M/:
//
//	keys                               LIST, or GET ?list=true
//	keys/<name>                        GET read, POST/PUT create, DELETE (refused)
//	keys/<name>/rotate                 POST/PUT
//	keys/<name>/config                 POST/PUT
//	encrypt/<name>                     POST/PUT, plaintext or batch_input
//	decrypt/<name>, rewrap/<name>      POST/PUT, ciphertext or batch_input
//	datakey/plaintext/<name>           POST/PUT
//	datakey/wrapped/<name>             POST/PUT
//	hmac/<name>[/<algorithm>]          POST/PUT, input or batch_input
//	sign/<name>[/<hash_algorithm>]     POST/PUT, input or batch_input
//	verify/<name>[/<hash_algorithm>]   POST/PUT, signature or hmac, or batch_input
//	random[/<source>][/<bytes>]        POST/PUT
//
// Write paths take POST and PUT alike (Vault clients write with PUT). Any
// other path under a mount is a 404, any other method a 405, both in
// Vault's error shape. Routes lists the table.
//
// # Authentication
//
// The token is read from X-Vault-Token, else from "Authorization: Bearer";
// without either, a verified client certificate authenticates as on the
// REST API. Tokens are Arca tokens. A missing, unknown or expired token is
// 403 with Vault's body {"errors":["permission denied"]}, and the refusal
// is audited. X-Vault-Request and Content-Type are not required: Vault
// clients send JSON without a Content-Type. Arca-Approval carries the id
// of an approved request under dual control, as on the REST API.
// X-Vault-Namespace and X-Vault-Wrap-TTL are refused rather than ignored:
// Arca has one key space and does not wrap responses.
//
// Bodies are bounded (64 KiB for key management and random, 8 MiB for
// cryptographic operations, which may be batches) and decoded strictly:
// unknown fields, duplicate fields and trailing data are refused. Numbers
// and booleans are also accepted as strings (bits, key_version,
// prehashed, ...), as the vault CLI sends every key=value as a string;
// periods are seconds or duration strings ("24h", "90d"); an empty or
// null body is {}.
//
// # Ciphertexts
//
// A transit ciphertext is "vault:v<N>:" followed by the standard (padded)
// base64 of the binary form of the Arca ciphertext (docs/ciphertext.md),
// which names the key id, the key version and the algorithm itself. N is
// the Arca key version that made it, the number Vault clients read as the
// key version; the binary rather than the text form is embedded so that
// the value is not base64 twice. On decrypt and rewrap, N must equal the
// version in the Arca header (else 400: the value was altered or
// assembled by hand), and the ciphertext must belong to the key named in
// the path (the service's wrong_key check, also 400). HMACs and
// signatures are "vault:v<N>:" and the standard base64 of the MAC or the
// signature (ECDSA in ASN.1 DER, RSA PSS with a salt as long as the hash,
// or PKCS #1 v1.5).
//
// # Context and associated data
//
// Vault's context (base64 bytes) becomes the Arca encryption context
// {"vault_context": <the same bytes in standard base64>} (ContextKey).
// It is thus bound to the ciphertext and must be given again to decrypt
// (stricter than Vault, which ignores context for keys that are not
// derived), derives the subkey of a derived key, can be matched by
// access-policy conditions, and appears in audit records only as an HMAC.
// Vault's associated_data (base64) becomes the ciphertext's associated
// data.
//
// # Key types
//
// aes256-gcm96 (the default) is Arca's aes-256-gcm; chacha20-poly1305,
// ecdsa-p256/p384/p521, ed25519 and rsa-2048/3072/4096 keep their names
// (Arca's RSA keys sign; Arca's RSA encryption keys are rsa-oaep-N). hmac
// is hmac-sha256, or hmac-sha384/512 with key_size 48/64: an Arca HMAC key
// is bound to one hash. Arca's own algorithm names are accepted as types
// too (aes-256-siv, rsa-oaep-3072, ml-dsa-65, ...) and reported as such.
// aes128-gcm96, CMAC and managed keys are refused. derived maps to Arca's
// derived keys, exportable to Arca's exportable flag (export is Arca's
// wrapped export), auto_rotate_period to the key's rotation period;
// convergent_encryption and allow_plaintext_backup are refused. Creating a
// key that exists changes nothing and answers it with a warning, as Vault
// does; encrypting with a key that does not exist is a 404 (Arca does not
// create keys on first use). Keys report deletion_allowed false and
// DELETE is refused: Arca destroys keys only through their lifecycle,
// after a waiting period.
//
// A key read answers Vault's fields: keys maps each version that is not
// destroyed to its creation time (unix seconds) or, for asymmetric keys,
// to its creation time, curve or size name and public key (ed25519 as
// base64, others as PEM; the 100 most recent versions); latest_version is
// the primary version; min_decryption_version and auto_rotate_period are
// the key's policy; Arca's key id, algorithm and state are added as
// arca_key_id, arca_algorithm and arca_state. Data keys are 128, 256 or 512
// bits.
//
// Signing and HMAC keys are bound to one hash. A request that names no
// hash uses the key's; one that names a hash other than the key's is a
// 400 (sign, hmac) or valid:false (verify). Arca encrypts, signs and MACs
// with the primary version only: key_version other than 0 is refused on
// those paths.
//
// # Errors and batches
//
// Errors are {"errors":["<message>"]} with 400 for invalid input and for
// refusals by a key's state or policy, 403 for access refusals, 404 for
// an unknown key, 405, 413 for a body over its limit, 429, 500 (nothing
// leaked but the request id) and 503 for a sealed, uninitialised or
// unavailable server. A batch (batch_input, up to kms.MaxBatchItems items)
// answers batch_results in input order with each item's result or error;
// the status is 400 if any item failed (partial_failure_response_code
// replaces it when some succeeded), 500 if one failed internally.
// Malformed items (bad base64, a malformed ciphertext) refuse the whole
// request before any item runs. Encrypt, decrypt and rewrap batches are
// one service call, authorised as a whole; hmac, sign and verify batches
// call the service per item, and a refusal that concerns the request
// (denied, sealed, unknown key) fails it.
package transit
