package awskms

import (
	"strings"

	"github.com/arcakms/arca/internal/kms"
)

// operations is the table of supported TrentService operations, each with
// the service operation it is audited as when the adapter itself refuses
// it (bad input, failed authentication).
func operations() map[string]operation {
	return map[string]operation{
		"CreateKey":                           {kms.OpKeyCreate, createKey},
		"DescribeKey":                         {kms.OpKeyGet, describeKey},
		"ListKeys":                            {kms.OpKeyList, listKeys},
		"EnableKey":                           {kms.OpKeyLifecycle, enableKey},
		"DisableKey":                          {kms.OpKeyLifecycle, disableKey},
		"ScheduleKeyDeletion":                 {kms.OpKeyLifecycle, scheduleKeyDeletion},
		"CancelKeyDeletion":                   {kms.OpKeyLifecycle, cancelKeyDeletion},
		"TagResource":                         {kms.OpKeyUpdate, tagResource},
		"UntagResource":                       {kms.OpKeyUpdate, untagResource},
		"ListResourceTags":                    {kms.OpKeyGet, listResourceTags},
		"EnableKeyRotation":                   {kms.OpKeyUpdate, enableKeyRotation},
		"DisableKeyRotation":                  {kms.OpKeyUpdate, disableKeyRotation},
		"GetKeyRotationStatus":                {kms.OpKeyGet, getKeyRotationStatus},
		"RotateKeyOnDemand":                   {kms.OpKeyRotate, rotateKeyOnDemand},
		"ListKeyRotations":                    {kms.OpKeyVersions, listKeyRotations},
		"GetPublicKey":                        {kms.OpGetPublicKey, getPublicKey},
		"CreateAlias":                         {kms.OpAliasCreate, createAlias},
		"UpdateAlias":                         {kms.OpAliasUpdate, updateAlias},
		"DeleteAlias":                         {kms.OpAliasDelete, deleteAlias},
		"ListAliases":                         {kms.OpAliasList, listAliases},
		"Encrypt":                             {kms.OpEncrypt, encrypt},
		"Decrypt":                             {kms.OpDecrypt, decrypt},
		"ReEncrypt":                           {kms.OpDecrypt, reEncrypt},
		"GenerateDataKey":                     {kms.OpDataKey, generateDataKey},
		"GenerateDataKeyWithoutPlaintext":     {kms.OpDataKey, generateDataKeyWithoutPlaintext},
		"GenerateDataKeyPair":                 {kms.OpDataKeyPair, generateDataKeyPair},
		"GenerateDataKeyPairWithoutPlaintext": {kms.OpDataKeyPair, generateDataKeyPairWithoutPlaintext},
		"GenerateRandom":                      {kms.OpRandom, generateRandom},
		"GetParametersForImport":              {kms.OpImportToken, getParametersForImport},
		"ImportKeyMaterial":                   {kms.OpKeyImport, importKeyMaterial},
		"Sign":                                {kms.OpSign, sign},
		"Verify":                              {kms.OpVerify, verify},
		"GenerateMac":                         {kms.OpGenerateMAC, generateMac},
		"VerifyMac":                           {kms.OpVerifyMAC, verifyMac},
	}
}

// response is an operation's result; values of members whose name holds
// "Plaintext" are secrets, wiped once the response is written.
type response map[string]any

func (r response) wipe() {
	for k, v := range r {
		if b, ok := v.([]byte); ok && strings.Contains(k, "Plaintext") {
			clear(b)
		}
	}
}

func (p *plaintextOut) wipe() { clear(p.Plaintext) }
