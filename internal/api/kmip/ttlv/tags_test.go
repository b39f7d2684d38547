package ttlv

import "testing"

// The registry table is consistent: every named entry is Known, names are
// unique, and String gives the name back.
func TestTagRegistry(t *testing.T) {
	seen := map[string]Tag{}
	count := 0
	for i, name := range tagNames {
		tag := tagBase + Tag(i)
		if name == "" {
			if Known(tag) {
				t.Errorf("%06X is Known without a name", uint32(tag))
			}
			continue
		}
		count++
		if !Known(tag) {
			t.Errorf("%s (%06X) is not Known", name, uint32(tag))
		}
		if tag.String() != name {
			t.Errorf("%06X.String() = %q, want %q", uint32(tag), tag.String(), name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("name %q used by %06X and %06X", name, uint32(prev), uint32(tag))
		}
		seen[name] = tag
	}
	// 0x420001..0x420165 less the three unnamed "(Reserved)" entries.
	if want := 0x165 - 3; count != want {
		t.Errorf("%d tags registered, want %d", count, want)
	}
}

func TestKnown(t *testing.T) {
	for _, tag := range []Tag{0, 0x420000, 0x420137, 0x42013E, 0x42013F, 0x420166, 0x42FFFF, 0x430001, 0x540001, MaxTag} {
		if Known(tag) {
			t.Errorf("Known(%06X) = true", uint32(tag))
		}
	}
	for _, tag := range []Tag{0x420001, 0x420165, TagTemplateAttribute, TagAttributeReference} {
		if !Known(tag) {
			t.Errorf("Known(%06X) = false", uint32(tag))
		}
	}
	if !Tag(0x540001).IsExtension() || Tag(0x420001).IsExtension() || Tag(0x550000).IsExtension() {
		t.Error("IsExtension wrong")
	}
	if got := Tag(0x540A0B).String(); got != "0x540A0B" {
		t.Errorf("extension String() = %q", got)
	}
	if got := Tag(0x42FFFF).String(); got != "0x42FFFF" {
		t.Errorf("unknown String() = %q", got)
	}
}

// Tag values the Arca server relies on, as printed in the specification's
// tag table. The constants are the registry, so this guards against a
// slip when editing them.
func TestTagValuesFromSpec(t *testing.T) {
	want := map[Tag]uint32{
		TagActivationDate: 0x420001, TagAttribute: 0x420008, TagAttributeIndex: 0x420009,
		TagAttributeName: 0x42000A, TagAttributeValue: 0x42000B, TagAuthentication: 0x42000C,
		TagBatchCount: 0x42000D, TagBatchItem: 0x42000F, TagBlockCipherMode: 0x420011,
		TagCommonTemplateAttribute: 0x42001F, TagCompromiseOccurrenceDate: 0x420021,
		TagContactInformation: 0x420022, TagCredential: 0x420023, TagCredentialType: 0x420024,
		TagCredentialValue: 0x420025, TagCryptographicAlgorithm: 0x420028, TagCryptographicLength: 0x42002A,
		TagCryptographicParameters: 0x42002B, TagCryptographicUsageMask: 0x42002C,
		TagDeactivationDate: 0x42002F, TagDerivationData: 0x420030, TagDerivationMethod: 0x420031,
		TagDerivationParameters: 0x420032, TagDigest: 0x420034, TagHashingAlgorithm: 0x420038,
		TagInitialDate: 0x420039, TagIterationCount: 0x42003C, TagIVCounterNonce: 0x42003D,
		TagKeyBlock: 0x420040, TagKeyFormatType: 0x420042, TagKeyMaterial: 0x420043, TagKeyValue: 0x420045,
		TagLastChangeDate: 0x420048, TagMaximumItems: 0x42004F, TagName: 0x420053, TagNameType: 0x420054,
		TagNameValue: 0x420055, TagObjectGroup: 0x420056, TagObjectType: 0x420057, TagOperation: 0x42005C,
		TagPaddingMethod: 0x42005F, TagPrivateKey: 0x420064, TagPrivateKeyTemplateAttribute: 0x420065,
		TagPrivateKeyUniqueIdentifier: 0x420066, TagProtocolVersion: 0x420069,
		TagProtocolVersionMajor: 0x42006A, TagProtocolVersionMinor: 0x42006B, TagPublicKey: 0x42006D,
		TagPublicKeyTemplateAttribute: 0x42006E, TagPublicKeyUniqueIdentifier: 0x42006F,
		TagQueryFunction: 0x420074, TagRequestHeader: 0x420077, TagRequestMessage: 0x420078,
		TagRequestPayload: 0x420079, TagResponseHeader: 0x42007A, TagResponseMessage: 0x42007B,
		TagResponsePayload: 0x42007C, TagResultMessage: 0x42007D, TagResultReason: 0x42007E,
		TagResultStatus: 0x42007F, TagRevocationReason: 0x420081, TagRevocationReasonCode: 0x420082,
		TagSalt: 0x420084, TagServerInformation: 0x420088, TagState: 0x42008D, TagSymmetricKey: 0x42008F,
		TagTemplateAttribute: 0x420091, TagTimeStamp: 0x420092, TagUniqueBatchItemID: 0x420093,
		TagUniqueIdentifier: 0x420094, TagUsageLimits: 0x420095, TagUsername: 0x420099,
		TagValidityIndicator: 0x42009B, TagVendorIdentification: 0x42009D, TagPassword: 0x4200A1,
		TagFresh: 0x4200A8, TagDigitalSignatureAlgorithm: 0x4200AE, TagOriginalCreationDate: 0x4200BC,
		TagData: 0x4200C2, TagSignatureData: 0x4200C3, TagMACData: 0x4200C6, TagTagLength: 0x4200CE,
		TagOffsetItems: 0x4200D4, TagLocatedItems: 0x4200D5,
		TagAuthenticatedEncryptionAdditionalData: 0x4200FE, TagAuthenticatedEncryptionTag: 0x4200FF,
		TagAttributes: 0x420125, TagCommonAttributes: 0x420126, TagPrivateKeyAttributes: 0x420127,
		TagPublicKeyAttributes: 0x420128, TagAttributeReference: 0x42013B, TagCurrentAttribute: 0x42013C,
		TagNewAttribute: 0x42013D, TagProtectionStorageMasks: 0x42015F,
	}
	for tag, v := range want {
		if uint32(tag) != v {
			t.Errorf("%s = %06X, the specification says %06X", tag, uint32(tag), v)
		}
	}
}

func TestTypeString(t *testing.T) {
	if TypeDateTimeExtended.String() != "DateTimeExtended" || TypeStructure.String() != "Structure" {
		t.Error("type names wrong")
	}
	if got := Type(0x0C).String(); got != "Type(0x0C)" {
		t.Errorf("unknown type String() = %q", got)
	}
	if Type(0).Valid() || Type(0x0C).Valid() || !TypeInterval.Valid() {
		t.Error("Type.Valid wrong")
	}
}

func TestEnumStrings(t *testing.T) {
	cases := map[string]string{
		OperationCreate.String():                              "Create",
		OperationDiscoverVersions.String():                    "DiscoverVersions",
		OperationReProvision.String():                         "ReProvision",
		Operation(0x80000001).String():                        "0x80000001",
		ResultStatusSuccess.String():                          "Success",
		ResultReasonGeneralFailure.String():                   "GeneralFailure",
		ResultReason(0x27).String():                           "0x00000027",
		ObjectTypeCertificateRequest.String():                 "CertificateRequest",
		StateDestroyedCompromised.String():                    "DestroyedCompromised",
		RevocationReasonCodeCessationOfOperation.String():     "CessationOfOperation",
		NameTypeURI.String():                                  "URI",
		QueryFunctionQueryServerInformation.String():          "QueryServerInformation",
		ValidityIndicatorInvalid.String():                     "Invalid",
		CredentialTypeUsernameAndPassword.String():            "UsernameAndPassword",
		CryptographicAlgorithmAES.String():                    "AES",
		CryptographicAlgorithmEd448.String():                  "Ed448",
		BlockCipherModeGCM.String():                           "GCM",
		PaddingMethodPKCS1v15.String():                        "PKCS1v15",
		HashingAlgorithmSHA3_512.String():                     "SHA3_512",
		DigitalSignatureAlgorithmECDSAWithSHA256.String():     "ECDSAWithSHA256",
		KeyFormatTypeTransparentSymmetricKey.String():         "TransparentSymmetricKey",
		DerivationMethodHKDF.String():                         "HKDF",
		CryptographicUsageMask(0).String():                    "0",
		CryptographicUsageMaskFPEDecrypt.String():             "FPEDecrypt",
		(CryptographicUsageMaskEncrypt | 0x80000000).String(): "Encrypt|0x80000000",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// Spot checks of enumeration values against the specification's tables.
func TestEnumValuesFromSpec(t *testing.T) {
	checks := []struct {
		got, want uint32
	}{
		{uint32(OperationCreate), 0x01}, {uint32(OperationGet), 0x0A}, {uint32(OperationLocate), 0x08},
		{uint32(OperationActivate), 0x12}, {uint32(OperationRevoke), 0x13}, {uint32(OperationDestroy), 0x14},
		{uint32(OperationQuery), 0x18}, {uint32(OperationDiscoverVersions), 0x1E}, {uint32(OperationEncrypt), 0x1F},
		{uint32(OperationMAC), 0x23}, {uint32(OperationSetAttribute), 0x31},
		{uint32(ResultReasonGeneralFailure), 0x100}, {uint32(ResultReasonInvalidMessage), 0x04},
		{uint32(ObjectTypeSymmetricKey), 0x02}, {uint32(ObjectTypeSecretData), 0x07},
		{uint32(CryptographicAlgorithmAES), 0x03}, {uint32(CryptographicAlgorithmRSA), 0x04},
		{uint32(CryptographicAlgorithmHMACSHA256), 0x09}, {uint32(CryptographicAlgorithmEC), 0x1A},
		{uint32(BlockCipherModeGCM), 0x09}, {uint32(BlockCipherModeAEAD), 0x12},
		{uint32(PaddingMethodOAEP), 0x02}, {uint32(HashingAlgorithmSHA256), 0x06},
		{uint32(DigitalSignatureAlgorithmRSASSAPSS), 0x08}, {uint32(KeyFormatTypeRaw), 0x01},
		{uint32(KeyFormatTypeTransparentECPrivateKey), 0x14}, {uint32(StatePreActive), 0x01},
		{uint32(RevocationReasonCodeKeyCompromise), 0x02}, {uint32(QueryFunctionQueryOperations), 0x01},
		{uint32(ValidityIndicatorValid), 0x01}, {uint32(DerivationMethodPBKDF2), 0x01},
		{uint32(CryptographicUsageMaskEncrypt), 0x04}, {uint32(CryptographicUsageMaskMACGenerate), 0x80},
		{uint32(CryptographicUsageMaskDeriveKey), 0x200},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: value %#x, the specification says %#x", i, c.got, c.want)
		}
	}
}
