package ttlv

import "fmt"

// This file holds the enumerations of the message layer and of object
// management, with the values of the specification's enumeration tables
// (1.0 through 2.0 unless noted). Values from 0x80000000 up are vendor
// extensions; String methods, meant for diagnostics, print them in hex.

// enumName returns the name of v, or its hex value if it has none.
func enumName[E ~uint32](v E, names map[E]string) string {
	if s, ok := names[v]; ok {
		return s
	}
	return fmt.Sprintf("0x%08X", uint32(v))
}

// Operation is the Operation enumeration carried by each Batch Item.
type Operation uint32

// Operation values.
const (
	OperationCreate             Operation = 0x01
	OperationCreateKeyPair      Operation = 0x02
	OperationRegister           Operation = 0x03
	OperationReKey              Operation = 0x04
	OperationDeriveKey          Operation = 0x05
	OperationCertify            Operation = 0x06
	OperationReCertify          Operation = 0x07
	OperationLocate             Operation = 0x08
	OperationCheck              Operation = 0x09
	OperationGet                Operation = 0x0A
	OperationGetAttributes      Operation = 0x0B
	OperationGetAttributeList   Operation = 0x0C
	OperationAddAttribute       Operation = 0x0D
	OperationModifyAttribute    Operation = 0x0E
	OperationDeleteAttribute    Operation = 0x0F
	OperationObtainLease        Operation = 0x10
	OperationGetUsageAllocation Operation = 0x11
	OperationActivate           Operation = 0x12
	OperationRevoke             Operation = 0x13
	OperationDestroy            Operation = 0x14
	OperationArchive            Operation = 0x15
	OperationRecover            Operation = 0x16
	OperationValidate           Operation = 0x17
	OperationQuery              Operation = 0x18
	OperationCancel             Operation = 0x19
	OperationPoll               Operation = 0x1A
	OperationNotify             Operation = 0x1B
	OperationPut                Operation = 0x1C
	OperationReKeyKeyPair       Operation = 0x1D // 1.1
	OperationDiscoverVersions   Operation = 0x1E // 1.1
	OperationEncrypt            Operation = 0x1F // 1.2
	OperationDecrypt            Operation = 0x20 // 1.2
	OperationSign               Operation = 0x21 // 1.2
	OperationSignatureVerify    Operation = 0x22 // 1.2
	OperationMAC                Operation = 0x23 // 1.2
	OperationMACVerify          Operation = 0x24 // 1.2
	OperationRNGRetrieve        Operation = 0x25 // 1.2
	OperationRNGSeed            Operation = 0x26 // 1.2
	OperationHash               Operation = 0x27 // 1.2
	OperationCreateSplitKey     Operation = 0x28 // 1.2
	OperationJoinSplitKey       Operation = 0x29 // 1.2
	OperationImport             Operation = 0x2A // 1.4
	OperationExport             Operation = 0x2B // 1.4
	OperationLog                Operation = 0x2C // 2.0
	OperationLogin              Operation = 0x2D // 2.0
	OperationLogout             Operation = 0x2E // 2.0
	OperationDelegatedLogin     Operation = 0x2F // 2.0
	OperationAdjustAttribute    Operation = 0x30 // 2.0
	OperationSetAttribute       Operation = 0x31 // 2.0
	OperationSetEndpointRole    Operation = 0x32 // 2.0
	OperationPKCS11             Operation = 0x33 // 2.0
	OperationInterop            Operation = 0x34 // 2.0
	OperationReProvision        Operation = 0x35 // 2.0
)

var operationNames = map[Operation]string{
	OperationCreate:             "Create",
	OperationCreateKeyPair:      "CreateKeyPair",
	OperationRegister:           "Register",
	OperationReKey:              "ReKey",
	OperationDeriveKey:          "DeriveKey",
	OperationCertify:            "Certify",
	OperationReCertify:          "ReCertify",
	OperationLocate:             "Locate",
	OperationCheck:              "Check",
	OperationGet:                "Get",
	OperationGetAttributes:      "GetAttributes",
	OperationGetAttributeList:   "GetAttributeList",
	OperationAddAttribute:       "AddAttribute",
	OperationModifyAttribute:    "ModifyAttribute",
	OperationDeleteAttribute:    "DeleteAttribute",
	OperationObtainLease:        "ObtainLease",
	OperationGetUsageAllocation: "GetUsageAllocation",
	OperationActivate:           "Activate",
	OperationRevoke:             "Revoke",
	OperationDestroy:            "Destroy",
	OperationArchive:            "Archive",
	OperationRecover:            "Recover",
	OperationValidate:           "Validate",
	OperationQuery:              "Query",
	OperationCancel:             "Cancel",
	OperationPoll:               "Poll",
	OperationNotify:             "Notify",
	OperationPut:                "Put",
	OperationReKeyKeyPair:       "ReKeyKeyPair",
	OperationDiscoverVersions:   "DiscoverVersions",
	OperationEncrypt:            "Encrypt",
	OperationDecrypt:            "Decrypt",
	OperationSign:               "Sign",
	OperationSignatureVerify:    "SignatureVerify",
	OperationMAC:                "MAC",
	OperationMACVerify:          "MACVerify",
	OperationRNGRetrieve:        "RNGRetrieve",
	OperationRNGSeed:            "RNGSeed",
	OperationHash:               "Hash",
	OperationCreateSplitKey:     "CreateSplitKey",
	OperationJoinSplitKey:       "JoinSplitKey",
	OperationImport:             "Import",
	OperationExport:             "Export",
	OperationLog:                "Log",
	OperationLogin:              "Login",
	OperationLogout:             "Logout",
	OperationDelegatedLogin:     "DelegatedLogin",
	OperationAdjustAttribute:    "AdjustAttribute",
	OperationSetAttribute:       "SetAttribute",
	OperationSetEndpointRole:    "SetEndpointRole",
	OperationPKCS11:             "PKCS11",
	OperationInterop:            "Interop",
	OperationReProvision:        "ReProvision",
}

// String returns the name of v, or its hex value if it has none.
func (v Operation) String() string { return enumName(v, operationNames) }

// ResultStatus is the outcome of one Batch Item in a response.
type ResultStatus uint32

// ResultStatus values.
const (
	ResultStatusSuccess          ResultStatus = 0x00
	ResultStatusOperationFailed  ResultStatus = 0x01
	ResultStatusOperationPending ResultStatus = 0x02
	ResultStatusOperationUndone  ResultStatus = 0x03
)

var resultStatusNames = map[ResultStatus]string{
	ResultStatusSuccess:          "Success",
	ResultStatusOperationFailed:  "OperationFailed",
	ResultStatusOperationPending: "OperationPending",
	ResultStatusOperationUndone:  "OperationUndone",
}

// String returns the name of v, or its hex value if it has none.
func (v ResultStatus) String() string { return enumName(v, resultStatusNames) }

// ResultReason says why a Batch Item failed.
type ResultReason uint32

// ResultReason values. Those marked 2.0 exist only in 2.0; those marked 1.x are
// reserved in 2.0.
const (
	ResultReasonItemNotFound                        ResultReason = 0x01
	ResultReasonResponseTooLarge                    ResultReason = 0x02
	ResultReasonAuthenticationNotSuccessful         ResultReason = 0x03
	ResultReasonInvalidMessage                      ResultReason = 0x04
	ResultReasonOperationNotSupported               ResultReason = 0x05
	ResultReasonMissingData                         ResultReason = 0x06
	ResultReasonInvalidField                        ResultReason = 0x07
	ResultReasonFeatureNotSupported                 ResultReason = 0x08
	ResultReasonOperationCanceledByRequester        ResultReason = 0x09
	ResultReasonCryptographicFailure                ResultReason = 0x0A
	ResultReasonIllegalOperation                    ResultReason = 0x0B // 1.x
	ResultReasonPermissionDenied                    ResultReason = 0x0C
	ResultReasonObjectArchived                      ResultReason = 0x0D
	ResultReasonIndexOutOfBounds                    ResultReason = 0x0E // 1.x
	ResultReasonApplicationNamespaceNotSupported    ResultReason = 0x0F
	ResultReasonKeyFormatTypeNotSupported           ResultReason = 0x10
	ResultReasonKeyCompressionTypeNotSupported      ResultReason = 0x11
	ResultReasonEncodingOptionError                 ResultReason = 0x12
	ResultReasonKeyValueNotPresent                  ResultReason = 0x13
	ResultReasonAttestationRequired                 ResultReason = 0x14
	ResultReasonAttestationFailed                   ResultReason = 0x15
	ResultReasonSensitive                           ResultReason = 0x16
	ResultReasonNotExtractable                      ResultReason = 0x17
	ResultReasonObjectAlreadyExists                 ResultReason = 0x18
	ResultReasonInvalidTicket                       ResultReason = 0x19 // 2.0
	ResultReasonUsageLimitExceeded                  ResultReason = 0x1A // 2.0
	ResultReasonNumericRange                        ResultReason = 0x1B // 2.0
	ResultReasonInvalidDataType                     ResultReason = 0x1C // 2.0
	ResultReasonReadOnlyAttribute                   ResultReason = 0x1D // 2.0
	ResultReasonMultiValuedAttribute                ResultReason = 0x1E // 2.0
	ResultReasonUnsupportedAttribute                ResultReason = 0x1F // 2.0
	ResultReasonAttributeInstanceNotFound           ResultReason = 0x20 // 2.0
	ResultReasonAttributeNotFound                   ResultReason = 0x21 // 2.0
	ResultReasonAttributeReadOnly                   ResultReason = 0x22 // 2.0
	ResultReasonAttributeSingleValued               ResultReason = 0x23 // 2.0
	ResultReasonBadCryptographicParameters          ResultReason = 0x24 // 2.0
	ResultReasonBadPassword                         ResultReason = 0x25 // 2.0
	ResultReasonCodecError                          ResultReason = 0x26 // 2.0
	ResultReasonIllegalObjectType                   ResultReason = 0x28 // 2.0
	ResultReasonIncompatibleCryptographicUsageMask  ResultReason = 0x29 // 2.0
	ResultReasonInternalServerError                 ResultReason = 0x2A // 2.0
	ResultReasonInvalidAsynchronousCorrelationValue ResultReason = 0x2B // 2.0
	ResultReasonInvalidAttribute                    ResultReason = 0x2C // 2.0
	ResultReasonInvalidAttributeValue               ResultReason = 0x2D // 2.0
	ResultReasonInvalidCorrelationValue             ResultReason = 0x2E // 2.0
	ResultReasonInvalidCSR                          ResultReason = 0x2F // 2.0
	ResultReasonInvalidObjectType                   ResultReason = 0x30 // 2.0
	ResultReasonKeyWrapTypeNotSupported             ResultReason = 0x32 // 2.0
	ResultReasonMissingInitializationVector         ResultReason = 0x34 // 2.0
	ResultReasonNonUniqueNameAttribute              ResultReason = 0x35 // 2.0
	ResultReasonObjectDestroyed                     ResultReason = 0x36 // 2.0
	ResultReasonObjectNotFound                      ResultReason = 0x37 // 2.0
	ResultReasonNotAuthorised                       ResultReason = 0x39 // 2.0
	ResultReasonServerLimitExceeded                 ResultReason = 0x3A // 2.0
	ResultReasonUnknownEnumeration                  ResultReason = 0x3B // 2.0
	ResultReasonUnknownMessageExtension             ResultReason = 0x3C // 2.0
	ResultReasonUnknownTag                          ResultReason = 0x3D // 2.0
	ResultReasonUnsupportedCryptographicParameters  ResultReason = 0x3E // 2.0
	ResultReasonUnsupportedProtocolVersion          ResultReason = 0x3F // 2.0
	ResultReasonWrappingObjectArchived              ResultReason = 0x40 // 2.0
	ResultReasonWrappingObjectDestroyed             ResultReason = 0x41 // 2.0
	ResultReasonWrappingObjectNotFound              ResultReason = 0x42 // 2.0
	ResultReasonWrongKeyLifecycleState              ResultReason = 0x43 // 2.0
	ResultReasonProtectionStorageUnavailable        ResultReason = 0x44 // 2.0
	ResultReasonPKCS11CodecError                    ResultReason = 0x45 // 2.0
	ResultReasonPKCS11InvalidFunction               ResultReason = 0x46 // 2.0
	ResultReasonPKCS11InvalidInterface              ResultReason = 0x47 // 2.0
	ResultReasonGeneralFailure                      ResultReason = 0x100
)

var resultReasonNames = map[ResultReason]string{
	ResultReasonItemNotFound:                        "ItemNotFound",
	ResultReasonResponseTooLarge:                    "ResponseTooLarge",
	ResultReasonAuthenticationNotSuccessful:         "AuthenticationNotSuccessful",
	ResultReasonInvalidMessage:                      "InvalidMessage",
	ResultReasonOperationNotSupported:               "OperationNotSupported",
	ResultReasonMissingData:                         "MissingData",
	ResultReasonInvalidField:                        "InvalidField",
	ResultReasonFeatureNotSupported:                 "FeatureNotSupported",
	ResultReasonOperationCanceledByRequester:        "OperationCanceledByRequester",
	ResultReasonCryptographicFailure:                "CryptographicFailure",
	ResultReasonIllegalOperation:                    "IllegalOperation",
	ResultReasonPermissionDenied:                    "PermissionDenied",
	ResultReasonObjectArchived:                      "ObjectArchived",
	ResultReasonIndexOutOfBounds:                    "IndexOutOfBounds",
	ResultReasonApplicationNamespaceNotSupported:    "ApplicationNamespaceNotSupported",
	ResultReasonKeyFormatTypeNotSupported:           "KeyFormatTypeNotSupported",
	ResultReasonKeyCompressionTypeNotSupported:      "KeyCompressionTypeNotSupported",
	ResultReasonEncodingOptionError:                 "EncodingOptionError",
	ResultReasonKeyValueNotPresent:                  "KeyValueNotPresent",
	ResultReasonAttestationRequired:                 "AttestationRequired",
	ResultReasonAttestationFailed:                   "AttestationFailed",
	ResultReasonSensitive:                           "Sensitive",
	ResultReasonNotExtractable:                      "NotExtractable",
	ResultReasonObjectAlreadyExists:                 "ObjectAlreadyExists",
	ResultReasonInvalidTicket:                       "InvalidTicket",
	ResultReasonUsageLimitExceeded:                  "UsageLimitExceeded",
	ResultReasonNumericRange:                        "NumericRange",
	ResultReasonInvalidDataType:                     "InvalidDataType",
	ResultReasonReadOnlyAttribute:                   "ReadOnlyAttribute",
	ResultReasonMultiValuedAttribute:                "MultiValuedAttribute",
	ResultReasonUnsupportedAttribute:                "UnsupportedAttribute",
	ResultReasonAttributeInstanceNotFound:           "AttributeInstanceNotFound",
	ResultReasonAttributeNotFound:                   "AttributeNotFound",
	ResultReasonAttributeReadOnly:                   "AttributeReadOnly",
	ResultReasonAttributeSingleValued:               "AttributeSingleValued",
	ResultReasonBadCryptographicParameters:          "BadCryptographicParameters",
	ResultReasonBadPassword:                         "BadPassword",
	ResultReasonCodecError:                          "CodecError",
	ResultReasonIllegalObjectType:                   "IllegalObjectType",
	ResultReasonIncompatibleCryptographicUsageMask:  "IncompatibleCryptographicUsageMask",
	ResultReasonInternalServerError:                 "InternalServerError",
	ResultReasonInvalidAsynchronousCorrelationValue: "InvalidAsynchronousCorrelationValue",
	ResultReasonInvalidAttribute:                    "InvalidAttribute",
	ResultReasonInvalidAttributeValue:               "InvalidAttributeValue",
	ResultReasonInvalidCorrelationValue:             "InvalidCorrelationValue",
	ResultReasonInvalidCSR:                          "InvalidCSR",
	ResultReasonInvalidObjectType:                   "InvalidObjectType",
	ResultReasonKeyWrapTypeNotSupported:             "KeyWrapTypeNotSupported",
	ResultReasonMissingInitializationVector:         "MissingInitializationVector",
	ResultReasonNonUniqueNameAttribute:              "NonUniqueNameAttribute",
	ResultReasonObjectDestroyed:                     "ObjectDestroyed",
	ResultReasonObjectNotFound:                      "ObjectNotFound",
	ResultReasonNotAuthorised:                       "NotAuthorised",
	ResultReasonServerLimitExceeded:                 "ServerLimitExceeded",
	ResultReasonUnknownEnumeration:                  "UnknownEnumeration",
	ResultReasonUnknownMessageExtension:             "UnknownMessageExtension",
	ResultReasonUnknownTag:                          "UnknownTag",
	ResultReasonUnsupportedCryptographicParameters:  "UnsupportedCryptographicParameters",
	ResultReasonUnsupportedProtocolVersion:          "UnsupportedProtocolVersion",
	ResultReasonWrappingObjectArchived:              "WrappingObjectArchived",
	ResultReasonWrappingObjectDestroyed:             "WrappingObjectDestroyed",
	ResultReasonWrappingObjectNotFound:              "WrappingObjectNotFound",
	ResultReasonWrongKeyLifecycleState:              "WrongKeyLifecycleState",
	ResultReasonProtectionStorageUnavailable:        "ProtectionStorageUnavailable",
	ResultReasonPKCS11CodecError:                    "PKCS11CodecError",
	ResultReasonPKCS11InvalidFunction:               "PKCS11InvalidFunction",
	ResultReasonPKCS11InvalidInterface:              "PKCS11InvalidInterface",
	ResultReasonGeneralFailure:                      "GeneralFailure",
}

// String returns the name of v, or its hex value if it has none.
func (v ResultReason) String() string { return enumName(v, resultReasonNames) }

// ObjectType is the kind of a managed object.
type ObjectType uint32

// ObjectType values.
const (
	ObjectTypeCertificate        ObjectType = 0x01
	ObjectTypeSymmetricKey       ObjectType = 0x02
	ObjectTypePublicKey          ObjectType = 0x03
	ObjectTypePrivateKey         ObjectType = 0x04
	ObjectTypeSplitKey           ObjectType = 0x05
	ObjectTypeTemplate           ObjectType = 0x06 // 1.x, deprecated in 1.3
	ObjectTypeSecretData         ObjectType = 0x07
	ObjectTypeOpaqueObject       ObjectType = 0x08
	ObjectTypePGPKey             ObjectType = 0x09 // 1.2
	ObjectTypeCertificateRequest ObjectType = 0x0A // 2.0
)

var objectTypeNames = map[ObjectType]string{
	ObjectTypeCertificate:        "Certificate",
	ObjectTypeSymmetricKey:       "SymmetricKey",
	ObjectTypePublicKey:          "PublicKey",
	ObjectTypePrivateKey:         "PrivateKey",
	ObjectTypeSplitKey:           "SplitKey",
	ObjectTypeTemplate:           "Template",
	ObjectTypeSecretData:         "SecretData",
	ObjectTypeOpaqueObject:       "OpaqueObject",
	ObjectTypePGPKey:             "PGPKey",
	ObjectTypeCertificateRequest: "CertificateRequest",
}

// String returns the name of v, or its hex value if it has none.
func (v ObjectType) String() string { return enumName(v, objectTypeNames) }

// State is a managed object's lifecycle state.
type State uint32

// State values.
const (
	StatePreActive            State = 0x01
	StateActive               State = 0x02
	StateDeactivated          State = 0x03
	StateCompromised          State = 0x04
	StateDestroyed            State = 0x05
	StateDestroyedCompromised State = 0x06
)

var stateNames = map[State]string{
	StatePreActive:            "PreActive",
	StateActive:               "Active",
	StateDeactivated:          "Deactivated",
	StateCompromised:          "Compromised",
	StateDestroyed:            "Destroyed",
	StateDestroyedCompromised: "DestroyedCompromised",
}

// String returns the name of v, or its hex value if it has none.
func (v State) String() string { return enumName(v, stateNames) }

// RevocationReasonCode says why an object was revoked.
type RevocationReasonCode uint32

// RevocationReasonCode values.
const (
	RevocationReasonCodeUnspecified          RevocationReasonCode = 0x01
	RevocationReasonCodeKeyCompromise        RevocationReasonCode = 0x02
	RevocationReasonCodeCACompromise         RevocationReasonCode = 0x03
	RevocationReasonCodeAffiliationChanged   RevocationReasonCode = 0x04
	RevocationReasonCodeSuperseded           RevocationReasonCode = 0x05
	RevocationReasonCodeCessationOfOperation RevocationReasonCode = 0x06
	RevocationReasonCodePrivilegeWithdrawn   RevocationReasonCode = 0x07
)

var revocationReasonCodeNames = map[RevocationReasonCode]string{
	RevocationReasonCodeUnspecified:          "Unspecified",
	RevocationReasonCodeKeyCompromise:        "KeyCompromise",
	RevocationReasonCodeCACompromise:         "CACompromise",
	RevocationReasonCodeAffiliationChanged:   "AffiliationChanged",
	RevocationReasonCodeSuperseded:           "Superseded",
	RevocationReasonCodeCessationOfOperation: "CessationOfOperation",
	RevocationReasonCodePrivilegeWithdrawn:   "PrivilegeWithdrawn",
}

// String returns the name of v, or its hex value if it has none.
func (v RevocationReasonCode) String() string { return enumName(v, revocationReasonCodeNames) }

// NameType says how the value of a Name attribute is to be read.
type NameType uint32

// NameType values.
const (
	NameTypeUninterpretedTextString NameType = 0x01
	NameTypeURI                     NameType = 0x02
)

var nameTypeNames = map[NameType]string{
	NameTypeUninterpretedTextString: "UninterpretedTextString",
	NameTypeURI:                     "URI",
}

// String returns the name of v, or its hex value if it has none.
func (v NameType) String() string { return enumName(v, nameTypeNames) }

// QueryFunction selects what a Query operation reports.
type QueryFunction uint32

// QueryFunction values.
const (
	QueryFunctionQueryOperations                QueryFunction = 0x01
	QueryFunctionQueryObjects                   QueryFunction = 0x02
	QueryFunctionQueryServerInformation         QueryFunction = 0x03
	QueryFunctionQueryApplicationNamespaces     QueryFunction = 0x04
	QueryFunctionQueryExtensionList             QueryFunction = 0x05 // 1.1
	QueryFunctionQueryExtensionMap              QueryFunction = 0x06 // 1.1
	QueryFunctionQueryAttestationTypes          QueryFunction = 0x07 // 1.2
	QueryFunctionQueryRNGs                      QueryFunction = 0x08 // 1.3
	QueryFunctionQueryValidations               QueryFunction = 0x09 // 1.3
	QueryFunctionQueryProfiles                  QueryFunction = 0x0A // 1.3
	QueryFunctionQueryCapabilities              QueryFunction = 0x0B // 1.3
	QueryFunctionQueryClientRegistrationMethods QueryFunction = 0x0C // 1.3
	QueryFunctionQueryDefaultsInformation       QueryFunction = 0x0D // 2.0
	QueryFunctionQueryStorageProtectionMasks    QueryFunction = 0x0E // 2.0
)

var queryFunctionNames = map[QueryFunction]string{
	QueryFunctionQueryOperations:                "QueryOperations",
	QueryFunctionQueryObjects:                   "QueryObjects",
	QueryFunctionQueryServerInformation:         "QueryServerInformation",
	QueryFunctionQueryApplicationNamespaces:     "QueryApplicationNamespaces",
	QueryFunctionQueryExtensionList:             "QueryExtensionList",
	QueryFunctionQueryExtensionMap:              "QueryExtensionMap",
	QueryFunctionQueryAttestationTypes:          "QueryAttestationTypes",
	QueryFunctionQueryRNGs:                      "QueryRNGs",
	QueryFunctionQueryValidations:               "QueryValidations",
	QueryFunctionQueryProfiles:                  "QueryProfiles",
	QueryFunctionQueryCapabilities:              "QueryCapabilities",
	QueryFunctionQueryClientRegistrationMethods: "QueryClientRegistrationMethods",
	QueryFunctionQueryDefaultsInformation:       "QueryDefaultsInformation",
	QueryFunctionQueryStorageProtectionMasks:    "QueryStorageProtectionMasks",
}

// String returns the name of v, or its hex value if it has none.
func (v QueryFunction) String() string { return enumName(v, queryFunctionNames) }

// ValidityIndicator is the verdict of Signature Verify and MAC Verify.
type ValidityIndicator uint32

// ValidityIndicator values.
const (
	ValidityIndicatorValid   ValidityIndicator = 0x01
	ValidityIndicatorInvalid ValidityIndicator = 0x02
	ValidityIndicatorUnknown ValidityIndicator = 0x03
)

var validityIndicatorNames = map[ValidityIndicator]string{
	ValidityIndicatorValid:   "Valid",
	ValidityIndicatorInvalid: "Invalid",
	ValidityIndicatorUnknown: "Unknown",
}

// String returns the name of v, or its hex value if it has none.
func (v ValidityIndicator) String() string { return enumName(v, validityIndicatorNames) }

// CredentialType says what a Credential in the request header carries.
type CredentialType uint32

// CredentialType values.
const (
	CredentialTypeUsernameAndPassword CredentialType = 0x01
	CredentialTypeDevice              CredentialType = 0x02 // 1.1
	CredentialTypeAttestation         CredentialType = 0x03 // 1.2
	CredentialTypeOneTimePassword     CredentialType = 0x04 // 2.0
	CredentialTypeHashedPassword      CredentialType = 0x05 // 2.0
	CredentialTypeTicket              CredentialType = 0x06 // 2.0
)

var credentialTypeNames = map[CredentialType]string{
	CredentialTypeUsernameAndPassword: "UsernameAndPassword",
	CredentialTypeDevice:              "Device",
	CredentialTypeAttestation:         "Attestation",
	CredentialTypeOneTimePassword:     "OneTimePassword",
	CredentialTypeHashedPassword:      "HashedPassword",
	CredentialTypeTicket:              "Ticket",
}

// String returns the name of v, or its hex value if it has none.
func (v CredentialType) String() string { return enumName(v, credentialTypeNames) }
