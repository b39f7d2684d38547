package rest

import (
	"context"
	"net/http"

	"github.com/arcakms/arca/internal/kms"
)

// Body limits.
const (
	smallBody = 16 << 10  // requests without payload data
	opBody    = 128 << 10 // single cryptographic operations
	batchBody = 8 << 20   // batch operations
)

// route declares one endpoint.
type route struct {
	method string
	path   string
	// op names the operation in audit records for requests refused before
	// the service runs.
	op      string
	maxBody int64
	// auth requires a bearer token.
	auth   bool
	handle func(ctx context.Context, r *http.Request) (status int, resp any, err error)
}

// Route describes an endpoint for listing (documentation and tests).
type Route struct {
	Method, Path string
	Auth         bool
	MaxBody      int64
}

// Routes lists every endpoint the handler serves.
func (h *Handler) Routes() []Route {
	var out []Route
	for _, rt := range h.routes() {
		out = append(out, Route{Method: rt.method, Path: rt.path, Auth: rt.auth, MaxBody: rt.maxBody})
	}
	return out
}

func (h *Handler) routes() []route {
	return []route{
		{http.MethodGet, "/v1/health", kms.OpHealth, smallBody, false, h.health},
		{http.MethodGet, "/v1/sys/seal-status", kms.OpSealStatus, smallBody, false, h.sealStatus},
		{http.MethodPost, "/v1/sys/init", kms.OpInit, smallBody, false, h.init},
		{http.MethodPost, "/v1/sys/unseal", kms.OpUnseal, smallBody, false, h.unseal},
		{http.MethodPost, "/v1/sys/seal", kms.OpSeal, smallBody, true, h.seal},
		{http.MethodPost, "/v1/sys/generate-root", kms.OpGenerateRoot, smallBody, false, h.generateRoot},
		{http.MethodPost, "/v1/sys/rekey", kms.OpRekey, smallBody, true, h.rekey},
		{http.MethodPost, "/v1/sys/rotate-root", kms.OpRotateRoot, smallBody, true, h.rotateRoot},
		{http.MethodPost, "/v1/sys/seal/migrate", kms.OpMigrateSeal, smallBody, true, h.migrateSeal},
		{http.MethodPost, "/v1/sys/keyring/rotate", kms.OpRotateKeyring, smallBody, true, h.rotateKeyring},
		{http.MethodGet, "/v1/sys/keyring", kms.OpKeyringStatus, smallBody, true, h.keyringStatus},

		{http.MethodPost, "/v1/keys", kms.OpKeyCreate, opBody, true, h.createKey},
		{http.MethodGet, "/v1/keys", kms.OpKeyList, smallBody, true, h.listKeys},
		{http.MethodGet, "/v1/keys/{key}", kms.OpKeyGet, smallBody, true, h.getKey},
		{http.MethodPatch, "/v1/keys/{key}", kms.OpKeyUpdate, smallBody, true, h.updateKey},
		{http.MethodPost, "/v1/keys/{key}/rotate", kms.OpKeyRotate, smallBody, true, h.rotateKey},
		{http.MethodGet, "/v1/keys/{key}/versions", kms.OpKeyVersions, smallBody, true, h.listVersions},
		{http.MethodPost, "/v1/keys/{key}/import", kms.OpKeyImport, opBody, true, h.importVersion},
		{http.MethodPost, "/v1/keys/{key}/export", kms.OpKeyExport, smallBody, true, h.exportKey},
		{http.MethodPost, "/v1/import-tokens", kms.OpImportToken, smallBody, true, h.importToken},
		{http.MethodPost, "/v1/keys/{key}/lifecycle", kms.OpKeyLifecycle, smallBody, true, h.keyLifecycle},
		{http.MethodPost, "/v1/keys/{key}/versions/{version}/lifecycle", kms.OpVersionLifecycle, smallBody, true, h.versionLifecycle},

		{http.MethodPost, "/v1/keys/{key}/encrypt", kms.OpEncrypt, opBody, true, h.encrypt},
		{http.MethodPost, "/v1/keys/{key}/decrypt", kms.OpDecrypt, opBody, true, h.decrypt},
		{http.MethodPost, "/v1/decrypt", kms.OpDecrypt, opBody, true, h.decrypt},
		{http.MethodPost, "/v1/keys/{key}/rewrap", kms.OpRewrap, opBody, true, h.rewrap},
		{http.MethodPost, "/v1/keys/{key}/datakey", kms.OpDataKey, smallBody, true, h.dataKey},
		{http.MethodPost, "/v1/keys/{key}/datakey-pair", kms.OpDataKeyPair, smallBody, true, h.dataKeyPair},
		{http.MethodPost, "/v1/keys/{key}/mac", kms.OpGenerateMAC, opBody, true, h.generateMAC},
		{http.MethodPost, "/v1/keys/{key}/verify-mac", kms.OpVerifyMAC, opBody, true, h.verifyMAC},
		{http.MethodPost, "/v1/keys/{key}/sign", kms.OpSign, opBody, true, h.sign},
		{http.MethodPost, "/v1/keys/{key}/verify", kms.OpVerify, opBody, true, h.verify},
		{http.MethodGet, "/v1/keys/{key}/impact", kms.OpKeyImpact, smallBody, true, h.keyImpact},
		{http.MethodGet, "/v1/keys/{key}/public-key", kms.OpGetPublicKey, smallBody, true, h.publicKey},
		{http.MethodPost, "/v1/random", kms.OpRandom, smallBody, true, h.random},

		{http.MethodPost, "/v1/identities", kms.OpIdentityCreate, smallBody, true, h.createIdentity},
		{http.MethodGet, "/v1/identities", kms.OpIdentityList, smallBody, true, h.listIdentities},
		{http.MethodGet, "/v1/identities/{identity}", kms.OpIdentityGet, smallBody, true, h.getIdentity},
		{http.MethodPatch, "/v1/identities/{identity}", kms.OpIdentityUpdate, smallBody, true, h.updateIdentity},
		{http.MethodDelete, "/v1/identities/{identity}", kms.OpIdentityDelete, smallBody, true, h.deleteIdentity},
		{http.MethodPost, "/v1/identities/{identity}/tokens", kms.OpTokenCreate, smallBody, true, h.createToken},
		{http.MethodDelete, "/v1/tokens/{accessor}", kms.OpTokenRevoke, smallBody, true, h.revokeToken},
		{http.MethodPost, "/v1/identities/{identity}/access-keys", kms.OpAccessKeyCreate, smallBody, true, h.createAccessKey},
		{http.MethodGet, "/v1/identities/{identity}/access-keys", kms.OpAccessKeyList, smallBody, true, h.listAccessKeys},
		{http.MethodDelete, "/v1/access-keys/{id}", kms.OpAccessKeyDelete, smallBody, true, h.deleteAccessKey},
		{http.MethodPost, "/v1/tokens/renew-self", kms.OpTokenRenew, smallBody, true, h.renewToken},
		{http.MethodPost, "/v1/auth/mfa/totp/enroll", kms.OpMFAEnroll, smallBody, true, h.enrollTOTP},
		{http.MethodPost, "/v1/auth/mfa/totp/confirm", kms.OpMFAConfirm, smallBody, true, h.confirmTOTP},
		{http.MethodPost, "/v1/auth/login", kms.OpLogin, smallBody, true, h.login},
		{http.MethodDelete, "/v1/identities/{identity}/mfa", kms.OpMFAReset, smallBody, true, h.resetTOTP},
		{http.MethodPut, "/v1/access-policies/{name}", kms.OpAccessPolicyPut, opBody, true, h.putAccessPolicy},
		{http.MethodGet, "/v1/access-policies", kms.OpAccessPolicyList, smallBody, true, h.listAccessPolicies},
		{http.MethodGet, "/v1/access-policies/{name}", kms.OpAccessPolicyGet, smallBody, true, h.getAccessPolicy},
		{http.MethodDelete, "/v1/access-policies/{name}", kms.OpAccessPolicyDelete, smallBody, true, h.deleteAccessPolicy},

		{http.MethodGet, "/v1/approvals", kms.OpApprovalList, smallBody, true, h.listApprovals},
		{http.MethodGet, "/v1/approvals/{id}", kms.OpApprovalGet, smallBody, true, h.getApproval},
		{http.MethodPost, "/v1/approvals/{id}/approve", kms.OpApprovalGrant, smallBody, true, h.grantApproval},
		{http.MethodPost, "/v1/approvals/{id}/cancel", kms.OpApprovalCancel, smallBody, true, h.cancelApproval},

		{http.MethodGet, "/v1/policy", kms.OpPolicyGet, smallBody, true, h.getPolicy},
		{http.MethodPost, "/v1/policy/reload", kms.OpPolicyReload, smallBody, true, h.reloadPolicy},
		{http.MethodGet, "/v1/policy/check", kms.OpPolicyCheck, smallBody, true, h.policyCheck},
		{http.MethodGet, "/v1/reports/key-health", kms.OpKeyHealth, smallBody, true, h.keyHealth},
		{http.MethodGet, "/v1/audit/public-key", kms.OpAuditPublicKey, smallBody, true, h.auditPublicKey},
		{http.MethodPost, "/v1/sys/backup", kms.OpBackup, smallBody, true, h.backup},
		{http.MethodGet, "/v1/sys/backup/public-key", kms.OpBackupPublicKey, smallBody, true, h.backupPublicKey},
		{http.MethodPost, "/v1/audit/hmac", kms.OpAuditHMAC, smallBody, true, h.auditHMAC},
		{http.MethodGet, "/v1/audit/records", kms.OpAuditSearch, smallBody, true, h.auditSearch},
		{http.MethodGet, "/v1/reports/access-matrix", kms.OpAccessMatrix, smallBody, true, h.accessMatrix},

		{http.MethodPost, "/v1/batch/encrypt", kms.OpBatchEncrypt, batchBody, true, h.batchEncrypt},
		{http.MethodPost, "/v1/batch/decrypt", kms.OpBatchDecrypt, batchBody, true, h.batchDecrypt},
		{http.MethodPost, "/v1/batch/rewrap", kms.OpBatchRewrap, batchBody, true, h.batchRewrap},
	}
}
