// Package awskms serves the AWS KMS JSON API (the "TrentService" protocol:
// POST / with Content-Type application/x-amz-json-1.1 and X-Amz-Target
// TrentService.<Operation>) over Arca's service, so that tools and SDKs
// written for AWS KMS (awscli, boto3, the AWS SDKs, SOPS) work against Arca
// with only an endpoint URL.
//
// It is a thin adapter: it verifies the request's Signature Version 4
// (package sigv4; the access key is an Arca credential bound to an
// identity, see kms.Service.AuthenticateAccessKey), decodes the operation's
// JSON, and calls the same service methods as the REST API, which
// authorize, apply the lifecycle and crypto policy, and audit (interface
// "aws-kms"). Errors are HTTP 400 (500/503 for server faults) with
// {"__type": "<AWS exception name>", "message": ...}.
//
// Mapping:
//   - KeyId accepts a key id (an Arca key UUID), a key ARN
//     arn:aws:kms:REGION:ACCOUNT:key/ID, alias/NAME and an alias ARN. An
//     alias is an Arca alias (kms.Service.CreateAlias), or else an Arca key
//     name. Responses name keys by ARN, with the configured account and the
//     region of the request's credential scope.
//   - Key specs: SYMMETRIC_DEFAULT → aes-256-gcm; RSA_2048|3072|4096 →
//     rsa-N (SIGN_VERIFY) or rsa-oaep-N (ENCRYPT_DECRYPT); ECC_NIST_P256|
//     P384|P521 → ecdsa-pN; HMAC_256|384|512 → hmac-shaN.
//   - Key states: active → Enabled; suspended, deactivated, compromised and
//     pre-active → Disabled; destroy-scheduled → PendingDeletion. DisableKey
//     suspends, EnableKey resumes; ScheduleKeyDeletion suspends an enabled
//     key and schedules its destruction, so CancelKeyDeletion leaves it
//     Disabled.
//   - CiphertextBlob is the binary form of Arca's self-describing ciphertext
//     (docs/ciphertext.md); EncryptionContext is its encryption context (an
//     empty map is no context).
//   - Tags are the key's labels.
package awskms
