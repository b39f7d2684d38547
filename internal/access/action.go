package access

import (
	"path"
	"slices"
)

// Action is one thing an identity can be allowed to do, "area:verb".
type Action string

// Key actions; their resource is a key.
const (
	KeyCreate             Action = "key:create"
	KeyRead               Action = "key:read" // show, versions, public key
	KeyList               Action = "key:list"
	KeyUpdate             Action = "key:update"
	KeyRotate             Action = "key:rotate"
	KeyLifecycle          Action = "key:lifecycle" // activate, suspend, resume, deactivate, compromise
	KeyDestroy            Action = "key:destroy"   // schedule and cancel destruction
	KeyImport             Action = "key:import"
	KeyExport             Action = "key:export"
	KeyEncrypt            Action = "key:encrypt"
	KeyDecrypt            Action = "key:decrypt"
	KeyRewrap             Action = "key:rewrap"
	KeyDataKey            Action = "key:datakey" // data keys and data key pairs
	KeyMAC                Action = "key:mac"     // generate and verify MACs
	KeySign               Action = "key:sign"
	KeyVerify             Action = "key:verify"
	KeyDecryptCompromised Action = "key:decrypt-compromised"
	// KeyDerive derives a new key from a key's material (KMIP DeriveKey).
	KeyDerive Action = "key:derive"
)

// Actions on the server rather than on a key; their resource is empty.
const (
	RandomGenerate Action = "random:generate"
	IdentityCreate Action = "identity:create"
	IdentityRead   Action = "identity:read"
	IdentityUpdate Action = "identity:update" // enable, disable, roles, policies
	IdentityDelete Action = "identity:delete"
	TokenCreate    Action = "token:create"
	TokenRevoke    Action = "token:revoke"
	PolicyRead     Action = "policy:read"
	PolicyWrite    Action = "policy:write"
	AuditRead      Action = "audit:read"
	ReportRead     Action = "report:read"
	ApprovalRead   Action = "approval:read"
	ApprovalGrant  Action = "approval:grant"
	ApprovalCancel Action = "approval:cancel"
	SysSeal        Action = "sys:seal"
	SysRootToken   Action = "sys:root-token"
	// SysBackup takes an encrypted backup of every record (keys sealed,
	// identities, policies).
	SysBackup Action = "sys:backup"
	// SysRekey changes the seal: new shares (rekey), a new root key, a
	// migration between Shamir and PKCS#11. No role has it.
	SysRekey Action = "sys:rekey"
)

var catalogue = []Action{
	KeyCreate, KeyRead, KeyList, KeyUpdate, KeyRotate, KeyLifecycle, KeyDestroy, KeyImport, KeyExport,
	KeyEncrypt, KeyDecrypt, KeyRewrap, KeyDataKey, KeyMAC, KeySign, KeyVerify, KeyDecryptCompromised, KeyDerive,
	RandomGenerate, IdentityCreate, IdentityRead, IdentityUpdate, IdentityDelete, TokenCreate, TokenRevoke,
	PolicyRead, PolicyWrite, AuditRead, ReportRead, ApprovalRead, ApprovalGrant, ApprovalCancel,
	SysSeal, SysRootToken, SysBackup, SysRekey,
}

// Actions lists every action in a stable order.
func Actions() []Action { return slices.Clone(catalogue) }

// OnKey reports whether the action's resource is a key.
func (a Action) OnKey() bool { return len(a) > 4 && a[:4] == "key:" }

// Known reports whether a is in the catalogue.
func (a Action) Known() bool { return slices.Contains(catalogue, a) }

// matchAction reports whether an action pattern ("key:encrypt", "key:*",
// "*") matches a.
func matchAction(pattern string, a Action) bool {
	if pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, string(a))
	return err == nil && ok
}

// expandActions returns the catalogue actions a pattern matches.
func expandActions(pattern string) []Action {
	var out []Action
	for _, a := range catalogue {
		if matchAction(pattern, a) {
			out = append(out, a)
		}
	}
	return out
}
