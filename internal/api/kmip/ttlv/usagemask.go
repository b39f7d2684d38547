package ttlv

import (
	"fmt"
	"math/bits"
	"strings"
)

// CryptographicUsageMask is the bit set of the Cryptographic Usage Mask
// attribute, which says what a key may be used for. On the wire it is an
// Integer, not an Enumeration:
//
//	Int(TagCryptographicUsageMask, int32(CryptographicUsageMaskEncrypt|CryptographicUsageMaskDecrypt))
//
// and CryptographicUsageMask(uint32(v)) turns a decoded value back.
type CryptographicUsageMask uint32

// CryptographicUsageMask bits. Those marked 1.x are reserved in 2.0.
const (
	CryptographicUsageMaskSign               CryptographicUsageMask = 0x00000001
	CryptographicUsageMaskVerify             CryptographicUsageMask = 0x00000002
	CryptographicUsageMaskEncrypt            CryptographicUsageMask = 0x00000004
	CryptographicUsageMaskDecrypt            CryptographicUsageMask = 0x00000008
	CryptographicUsageMaskWrapKey            CryptographicUsageMask = 0x00000010
	CryptographicUsageMaskUnwrapKey          CryptographicUsageMask = 0x00000020
	CryptographicUsageMaskExport             CryptographicUsageMask = 0x00000040
	CryptographicUsageMaskMACGenerate        CryptographicUsageMask = 0x00000080
	CryptographicUsageMaskMACVerify          CryptographicUsageMask = 0x00000100
	CryptographicUsageMaskDeriveKey          CryptographicUsageMask = 0x00000200
	CryptographicUsageMaskContentCommitment  CryptographicUsageMask = 0x00000400
	CryptographicUsageMaskKeyAgreement       CryptographicUsageMask = 0x00000800
	CryptographicUsageMaskCertificateSign    CryptographicUsageMask = 0x00001000
	CryptographicUsageMaskCRLSign            CryptographicUsageMask = 0x00002000
	CryptographicUsageMaskGenerateCryptogram CryptographicUsageMask = 0x00004000 // 1.x
	CryptographicUsageMaskValidateCryptogram CryptographicUsageMask = 0x00008000 // 1.x
	CryptographicUsageMaskTranslateEncrypt   CryptographicUsageMask = 0x00010000 // 1.x
	CryptographicUsageMaskTranslateDecrypt   CryptographicUsageMask = 0x00020000 // 1.x
	CryptographicUsageMaskTranslateWrap      CryptographicUsageMask = 0x00040000 // 1.x
	CryptographicUsageMaskTranslateUnwrap    CryptographicUsageMask = 0x00080000 // 1.x
	CryptographicUsageMaskAuthenticate       CryptographicUsageMask = 0x00100000 // 2.0
	CryptographicUsageMaskUnrestricted       CryptographicUsageMask = 0x00200000 // 2.0
	CryptographicUsageMaskFPEEncrypt         CryptographicUsageMask = 0x00400000 // 2.0
	CryptographicUsageMaskFPEDecrypt         CryptographicUsageMask = 0x00800000 // 2.0
)

var usageMaskNames = [...]string{
	"Sign", "Verify", "Encrypt", "Decrypt", "WrapKey", "UnwrapKey", "Export", "MACGenerate",
	"MACVerify", "DeriveKey", "ContentCommitment", "KeyAgreement", "CertificateSign", "CRLSign",
	"GenerateCryptogram", "ValidateCryptogram", "TranslateEncrypt", "TranslateDecrypt",
	"TranslateWrap", "TranslateUnwrap", "Authenticate", "Unrestricted", "FPEEncrypt", "FPEDecrypt",
}

// String lists the set bits by name, joined with "|" (for example
// "Encrypt|Decrypt"); bits without a name are shown in hex, and the empty
// mask is "0".
func (m CryptographicUsageMask) String() string {
	if m == 0 {
		return "0"
	}
	var parts []string
	for rest := uint32(m); rest != 0; rest &= rest - 1 {
		i := bits.TrailingZeros32(rest)
		if i < len(usageMaskNames) {
			parts = append(parts, usageMaskNames[i])
		} else {
			parts = append(parts, fmt.Sprintf("0x%08X", uint32(1)<<i))
		}
	}
	return strings.Join(parts, "|")
}
