// Package kmip serves the OASIS Key Management Interoperability Protocol
// (KMIP 1.2, 1.3, 1.4 and 2.0, TTLV over mutually authenticated TLS) in
// front of Arca's kms.Service.
//
// Like every Arca interface it is a thin adapter: it frames and decodes
// requests (package ttlv), authenticates the caller, and calls the same
// service methods the REST adapter calls. The service authorises each
// request, checks the key's lifecycle and the crypto policy, performs the
// operation and writes the audit record (interface "kmip"), so a rule
// added to the service holds on this door too. Refusals the adapter makes
// itself (a missing field, an unsupported parameter) are audited through
// Service.Reject.
//
// # Connections and identity
//
// Each connection is TLS 1.2 or later with a client certificate that must
// verify against the configured client CAs. The certificate's public key
// maps to an Arca identity (kms.Service.AuthenticateCertificate, as for
// REST over mTLS), looked up again for every message, so unbinding a
// certificate or disabling its identity applies to the next message on an
// open connection. An unbound certificate gets Permission Denied for every
// batch item, not a dropped connection. Credentials in the request header
// are ignored: the certificate is the credential.
//
// A connection carries any number of requests, each read whole under a
// size bound and a read deadline and answered before the next; idle
// connections close after IdleTimeout. Batch items run in order with the
// message's Batch Error Continuation Option (Stop by default, Continue;
// Undo is refused for batches of more than one item, since completed
// operations cannot be undone), and share an ID placeholder. A message
// that decodes but breaks the message rules, or whose header can still be
// read, is answered with Invalid Message; one whose framing is broken
// closes the connection, since the stream cannot be resynchronised.
//
// # Versions
//
// Every response is in the version of its request, as clients such as
// PyKMIP expect (they do not negotiate); DiscoverVersions lists 2.0, 1.4,
// 1.3 and 1.2. KMIP 1.x attributes travel as Attribute Name/Value pairs
// (Template Attribute), 2.0 attributes in an Attributes structure; both
// forms are read. GCM additional data and tags, and digested data, need
// 1.4 or later.
//
// # Mapping KMIP objects to Arca keys
//
//   - Unique Identifier: the Arca key id (a UUID). A key pair is one Arca
//     signing key: its id is the private key's Unique Identifier, and the
//     id followed by ":public" ([PublicSuffix]) the public key's. Both
//     halves share the key's state.
//   - Name: the Arca key name (unique). A key created without a Name gets
//     a generated one ("kmip-" and 16 hex digits). Object Group: the label
//     object-group ([GroupLabel]). Description and Contact Information:
//     the key's description and owner.
//   - Create: AES-256 → aes-256-gcm (Arca has no 128- or 192-bit AES keys
//     and says so), ChaCha20-Poly1305, HMAC-SHA256/384/512. Register: the
//     same algorithms, key given in clear (Raw or Transparent Symmetric
//     Key) over the mTLS channel and imported (origin external). Both give
//     a Pre-Active key (Encrypt is refused until Activate) that is
//     exportable, because KMIP clients Get their keys; a client that sets
//     Extractable to false gets a key that never leaves Arca.
//   - CreateKeyPair: RSA 2048/3072/4096, ECDSA on P-256/P-384/P-521,
//     Ed25519 → an Arca signing key, pre-active, not exportable unless
//     Extractable is true.
//   - Get: symmetric keys in Raw (or Transparent Symmetric Key), private
//     keys in PKCS#8, both through ExportKeyMaterial (key:export,
//     exportable keys only, wiped after sending); public keys in PKCS#1
//     (RSA, default) or X.509 SubjectPublicKeyInfo, through GetPublicKey.
//     The service counts export as a use of the key, so a Pre-Active key
//     cannot be fetched until it is activated (KMIP itself would allow it).
//   - States: Pre-Active, Active, Compromised and Destroyed map one to
//     one. Arca's suspended and destroy-scheduled states, which KMIP lacks,
//     are reported as Deactivated (neither encrypts); a scheduled
//     destruction also shows as the Destroy Date.
//   - Revoke: Key Compromise and CA Compromise mark the key compromised;
//     any other reason deactivates it.
//   - Destroy: refused while the key is Active (Wrong Key Lifecycle State:
//     revoke it first, as KMIP requires). Otherwise the key's destruction is
//     scheduled with Arca's minimum waiting period (kms.MinWaitingDays);
//     until then it still decrypts and the destruction can be cancelled
//     through Arca's API, and when it falls due Arca crypto-shreds the
//     material and keeps a tombstone, reported as Destroyed.
//   - ReKey: the key rotates (a new primary version; old versions still
//     decrypt), so the Unique Identifier stays the same.
//   - Encrypt: the key's own AEAD (AES-256-GCM for AES keys); the server
//     chooses the IV. The Data returned is the binary form of Arca's
//     self-describing ciphertext (docs/ciphertext.md), which carries the
//     key version, nonce and tag, and is what Decrypt takes back; the IV is
//     also returned, and an IV or tag sent to Decrypt must match the
//     ciphertext's. Authenticated Encryption Additional Data is the
//     binding's associated data.
//   - Sign, Signature Verify, MAC, MAC Verify: the service's Sign, Verify,
//     GenerateMAC and VerifyMAC, with the key's own hash.
//   - Set, Add, Modify and Delete Attribute change the Activation and
//     Deactivation Dates (Arca key policy), the Object Group (the key's
//     label) and the Description; the Name is fixed at creation, and the
//     other attributes are kept by the server (Attribute Read Only).
//   - DeriveKey: Derivation Method HKDF (HKDF-SHA256, Salt, Derivation
//     Data as info) or HMAC (HMAC-SHA256 of the Derivation Data) from a
//     symmetric base key into a new pre-active key (the service's
//     DeriveKey, which needs key:derive on the base); other methods are
//     Operation Not Supported.
//   - Operations Arca has no equivalent for are answered with Operation
//     Not Supported.
//
// Errors map from the service's stable codes to Result Reasons in one
// table (reasonOf); the Result Message carries the Arca code and message.
package kmip
