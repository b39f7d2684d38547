// Package kubekms is Arca's Kubernetes KMS v2 plugin: a small gRPC server
// that runs beside kube-apiserver on each control-plane node and answers
// its Status, Encrypt and Decrypt calls on a unix socket by calling an Arca
// server through the public Go SDK, under the plugin's own identity.
//
// It is an adapter like the REST API, only one step further out: it
// decodes the KMS v2 wire messages (through k8s.io/kms/pkg/service) and
// makes ordinary SDK calls, so authorisation, lifecycle checks and auditing
// happen in the Arca server exactly as for any other client.
//
// kube-apiserver asks the plugin to encrypt only its data encryption keys
// (or their seeds), never Secrets themselves. The plugin encrypts them with
// one named Arca key and returns:
//
//   - the ciphertext in the binary form of Arca's ciphertext format v1
//     (docs/ciphertext.md §4), 51 bytes plus the plaintext for the 12-byte
//     nonce algorithms, well under the 1 KiB that kube-apiserver accepts;
//   - the key id "<Arca key id>:v<version>" of the key version that
//     encrypted, the same string Status reports for the key's primary
//     version, so that kube-apiserver sees a rotation as a new key id;
//   - the annotation FormatAnnotation = FormatCiphertextV1, which names the
//     ciphertext's encoding so that a later format can be told apart.
//
// The ciphertext names its key version, so Decrypt needs nothing else: it
// still decrypts ciphertexts of older versions after the key rotates.
//
// Every call fits in kube-apiserver's 3-second budget: see DefaultTimeout
// and the retry policy of (*Plugin).call. Errors are gRPC status errors
// whose messages carry Arca's error code and request id, never plaintext
// or credentials.
//
// Compatibility: the key id and annotation formats are stored by
// kube-apiserver next to every encrypted object, so they never change in a
// way that would make existing objects undecryptable.
package kubekms
