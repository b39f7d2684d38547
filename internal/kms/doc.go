// Package kms is Arca's service: the one place where a request is
// authorised, checked against the key's state, performed and audited.
//
// Every interface (the REST API today; KMIP, the AWS-compatible API and the
// Kubernetes plugin later) is a thin adapter that decodes its wire format,
// authenticates the caller (Service.Authenticate), attaches a Request to the
// context and calls a Service method. The method returns a typed *Error whose
// Code the adapter maps to its own error shape. No adapter re-implements
// authorisation, lifecycle checks or auditing.
//
// Storage layout (namespaces of the storage backend):
//
//	sys           "seal": the seal configuration (no key material)
//	keys          key id → key metadata record (MAC'd)
//	key_names     key name → key id (MAC'd)
//	key_versions  key id "/" zero-padded version → version record (MAC'd,
//	              material encrypted under the keyring key)
//	tokens        hex SHA-256 of a token → token record (MAC'd)
package kms
