package ttlv

// This file holds the enumerations that describe keys and cryptographic
// parameters, with the values of the specification's enumeration tables
// (1.0 through 2.0 unless noted). The usage mask bits, which travel in an
// Integer rather than an Enumeration, are in usagemask.go.

// CryptographicAlgorithm names the algorithm of a key or of an operation's
// parameters.
type CryptographicAlgorithm uint32

// CryptographicAlgorithm values.
const (
	CryptographicAlgorithmDES              CryptographicAlgorithm = 0x01
	CryptographicAlgorithmTripleDES        CryptographicAlgorithm = 0x02
	CryptographicAlgorithmAES              CryptographicAlgorithm = 0x03
	CryptographicAlgorithmRSA              CryptographicAlgorithm = 0x04
	CryptographicAlgorithmDSA              CryptographicAlgorithm = 0x05
	CryptographicAlgorithmECDSA            CryptographicAlgorithm = 0x06
	CryptographicAlgorithmHMACSHA1         CryptographicAlgorithm = 0x07
	CryptographicAlgorithmHMACSHA224       CryptographicAlgorithm = 0x08
	CryptographicAlgorithmHMACSHA256       CryptographicAlgorithm = 0x09
	CryptographicAlgorithmHMACSHA384       CryptographicAlgorithm = 0x0A
	CryptographicAlgorithmHMACSHA512       CryptographicAlgorithm = 0x0B
	CryptographicAlgorithmHMACMD5          CryptographicAlgorithm = 0x0C
	CryptographicAlgorithmDH               CryptographicAlgorithm = 0x0D
	CryptographicAlgorithmECDH             CryptographicAlgorithm = 0x0E
	CryptographicAlgorithmECMQV            CryptographicAlgorithm = 0x0F
	CryptographicAlgorithmBlowfish         CryptographicAlgorithm = 0x10
	CryptographicAlgorithmCamellia         CryptographicAlgorithm = 0x11
	CryptographicAlgorithmCAST5            CryptographicAlgorithm = 0x12
	CryptographicAlgorithmIDEA             CryptographicAlgorithm = 0x13
	CryptographicAlgorithmMARS             CryptographicAlgorithm = 0x14
	CryptographicAlgorithmRC2              CryptographicAlgorithm = 0x15
	CryptographicAlgorithmRC4              CryptographicAlgorithm = 0x16
	CryptographicAlgorithmRC5              CryptographicAlgorithm = 0x17
	CryptographicAlgorithmSKIPJACK         CryptographicAlgorithm = 0x18
	CryptographicAlgorithmTwofish          CryptographicAlgorithm = 0x19
	CryptographicAlgorithmEC               CryptographicAlgorithm = 0x1A // 1.2
	CryptographicAlgorithmOneTimePad       CryptographicAlgorithm = 0x1B // 1.3
	CryptographicAlgorithmChaCha20         CryptographicAlgorithm = 0x1C // 1.4
	CryptographicAlgorithmPoly1305         CryptographicAlgorithm = 0x1D // 1.4
	CryptographicAlgorithmChaCha20Poly1305 CryptographicAlgorithm = 0x1E // 1.4
	CryptographicAlgorithmSHA3_224         CryptographicAlgorithm = 0x1F // 1.4
	CryptographicAlgorithmSHA3_256         CryptographicAlgorithm = 0x20 // 1.4
	CryptographicAlgorithmSHA3_384         CryptographicAlgorithm = 0x21 // 1.4
	CryptographicAlgorithmSHA3_512         CryptographicAlgorithm = 0x22 // 1.4
	CryptographicAlgorithmHMACSHA3_224     CryptographicAlgorithm = 0x23 // 1.4
	CryptographicAlgorithmHMACSHA3_256     CryptographicAlgorithm = 0x24 // 1.4
	CryptographicAlgorithmHMACSHA3_384     CryptographicAlgorithm = 0x25 // 1.4
	CryptographicAlgorithmHMACSHA3_512     CryptographicAlgorithm = 0x26 // 1.4
	CryptographicAlgorithmSHAKE128         CryptographicAlgorithm = 0x27 // 1.4
	CryptographicAlgorithmSHAKE256         CryptographicAlgorithm = 0x28 // 1.4
	CryptographicAlgorithmARIA             CryptographicAlgorithm = 0x29 // 2.0
	CryptographicAlgorithmSEED             CryptographicAlgorithm = 0x2A // 2.0
	CryptographicAlgorithmSM2              CryptographicAlgorithm = 0x2B // 2.0
	CryptographicAlgorithmSM3              CryptographicAlgorithm = 0x2C // 2.0
	CryptographicAlgorithmSM4              CryptographicAlgorithm = 0x2D // 2.0
	CryptographicAlgorithmGOSTR3410_2012   CryptographicAlgorithm = 0x2E // 2.0
	CryptographicAlgorithmGOSTR3411_2012   CryptographicAlgorithm = 0x2F // 2.0
	CryptographicAlgorithmGOSTR3413_2015   CryptographicAlgorithm = 0x30 // 2.0
	CryptographicAlgorithmGOST28147_89     CryptographicAlgorithm = 0x31 // 2.0
	CryptographicAlgorithmXMSS             CryptographicAlgorithm = 0x32 // 2.0
	CryptographicAlgorithmSPHINCS256       CryptographicAlgorithm = 0x33 // 2.0
	CryptographicAlgorithmMcEliece         CryptographicAlgorithm = 0x34 // 2.0
	CryptographicAlgorithmMcEliece6960119  CryptographicAlgorithm = 0x35 // 2.0
	CryptographicAlgorithmMcEliece8192128  CryptographicAlgorithm = 0x36 // 2.0
	CryptographicAlgorithmEd25519          CryptographicAlgorithm = 0x37 // 2.0
	CryptographicAlgorithmEd448            CryptographicAlgorithm = 0x38 // 2.0
)

var cryptographicAlgorithmNames = map[CryptographicAlgorithm]string{
	CryptographicAlgorithmDES:              "DES",
	CryptographicAlgorithmTripleDES:        "TripleDES",
	CryptographicAlgorithmAES:              "AES",
	CryptographicAlgorithmRSA:              "RSA",
	CryptographicAlgorithmDSA:              "DSA",
	CryptographicAlgorithmECDSA:            "ECDSA",
	CryptographicAlgorithmHMACSHA1:         "HMACSHA1",
	CryptographicAlgorithmHMACSHA224:       "HMACSHA224",
	CryptographicAlgorithmHMACSHA256:       "HMACSHA256",
	CryptographicAlgorithmHMACSHA384:       "HMACSHA384",
	CryptographicAlgorithmHMACSHA512:       "HMACSHA512",
	CryptographicAlgorithmHMACMD5:          "HMACMD5",
	CryptographicAlgorithmDH:               "DH",
	CryptographicAlgorithmECDH:             "ECDH",
	CryptographicAlgorithmECMQV:            "ECMQV",
	CryptographicAlgorithmBlowfish:         "Blowfish",
	CryptographicAlgorithmCamellia:         "Camellia",
	CryptographicAlgorithmCAST5:            "CAST5",
	CryptographicAlgorithmIDEA:             "IDEA",
	CryptographicAlgorithmMARS:             "MARS",
	CryptographicAlgorithmRC2:              "RC2",
	CryptographicAlgorithmRC4:              "RC4",
	CryptographicAlgorithmRC5:              "RC5",
	CryptographicAlgorithmSKIPJACK:         "SKIPJACK",
	CryptographicAlgorithmTwofish:          "Twofish",
	CryptographicAlgorithmEC:               "EC",
	CryptographicAlgorithmOneTimePad:       "OneTimePad",
	CryptographicAlgorithmChaCha20:         "ChaCha20",
	CryptographicAlgorithmPoly1305:         "Poly1305",
	CryptographicAlgorithmChaCha20Poly1305: "ChaCha20Poly1305",
	CryptographicAlgorithmSHA3_224:         "SHA3_224",
	CryptographicAlgorithmSHA3_256:         "SHA3_256",
	CryptographicAlgorithmSHA3_384:         "SHA3_384",
	CryptographicAlgorithmSHA3_512:         "SHA3_512",
	CryptographicAlgorithmHMACSHA3_224:     "HMACSHA3_224",
	CryptographicAlgorithmHMACSHA3_256:     "HMACSHA3_256",
	CryptographicAlgorithmHMACSHA3_384:     "HMACSHA3_384",
	CryptographicAlgorithmHMACSHA3_512:     "HMACSHA3_512",
	CryptographicAlgorithmSHAKE128:         "SHAKE128",
	CryptographicAlgorithmSHAKE256:         "SHAKE256",
	CryptographicAlgorithmARIA:             "ARIA",
	CryptographicAlgorithmSEED:             "SEED",
	CryptographicAlgorithmSM2:              "SM2",
	CryptographicAlgorithmSM3:              "SM3",
	CryptographicAlgorithmSM4:              "SM4",
	CryptographicAlgorithmGOSTR3410_2012:   "GOSTR3410_2012",
	CryptographicAlgorithmGOSTR3411_2012:   "GOSTR3411_2012",
	CryptographicAlgorithmGOSTR3413_2015:   "GOSTR3413_2015",
	CryptographicAlgorithmGOST28147_89:     "GOST28147_89",
	CryptographicAlgorithmXMSS:             "XMSS",
	CryptographicAlgorithmSPHINCS256:       "SPHINCS256",
	CryptographicAlgorithmMcEliece:         "McEliece",
	CryptographicAlgorithmMcEliece6960119:  "McEliece6960119",
	CryptographicAlgorithmMcEliece8192128:  "McEliece8192128",
	CryptographicAlgorithmEd25519:          "Ed25519",
	CryptographicAlgorithmEd448:            "Ed448",
}

// String returns the name of v, or its hex value if it has none.
func (v CryptographicAlgorithm) String() string { return enumName(v, cryptographicAlgorithmNames) }

// BlockCipherMode is the mode in Cryptographic Parameters.
type BlockCipherMode uint32

// BlockCipherMode values.
const (
	BlockCipherModeCBC               BlockCipherMode = 0x01
	BlockCipherModeECB               BlockCipherMode = 0x02
	BlockCipherModePCBC              BlockCipherMode = 0x03
	BlockCipherModeCFB               BlockCipherMode = 0x04
	BlockCipherModeOFB               BlockCipherMode = 0x05
	BlockCipherModeCTR               BlockCipherMode = 0x06
	BlockCipherModeCMAC              BlockCipherMode = 0x07
	BlockCipherModeCCM               BlockCipherMode = 0x08
	BlockCipherModeGCM               BlockCipherMode = 0x09
	BlockCipherModeCBCMAC            BlockCipherMode = 0x0A
	BlockCipherModeXTS               BlockCipherMode = 0x0B
	BlockCipherModeAESKeyWrapPadding BlockCipherMode = 0x0C
	BlockCipherModeNISTKeyWrap       BlockCipherMode = 0x0D
	BlockCipherModeX9102AESKW        BlockCipherMode = 0x0E
	BlockCipherModeX9102TDKW         BlockCipherMode = 0x0F
	BlockCipherModeX9102AKW1         BlockCipherMode = 0x10
	BlockCipherModeX9102AKW2         BlockCipherMode = 0x11
	BlockCipherModeAEAD              BlockCipherMode = 0x12 // 1.4
)

var blockCipherModeNames = map[BlockCipherMode]string{
	BlockCipherModeCBC:               "CBC",
	BlockCipherModeECB:               "ECB",
	BlockCipherModePCBC:              "PCBC",
	BlockCipherModeCFB:               "CFB",
	BlockCipherModeOFB:               "OFB",
	BlockCipherModeCTR:               "CTR",
	BlockCipherModeCMAC:              "CMAC",
	BlockCipherModeCCM:               "CCM",
	BlockCipherModeGCM:               "GCM",
	BlockCipherModeCBCMAC:            "CBCMAC",
	BlockCipherModeXTS:               "XTS",
	BlockCipherModeAESKeyWrapPadding: "AESKeyWrapPadding",
	BlockCipherModeNISTKeyWrap:       "NISTKeyWrap",
	BlockCipherModeX9102AESKW:        "X9102AESKW",
	BlockCipherModeX9102TDKW:         "X9102TDKW",
	BlockCipherModeX9102AKW1:         "X9102AKW1",
	BlockCipherModeX9102AKW2:         "X9102AKW2",
	BlockCipherModeAEAD:              "AEAD",
}

// String returns the name of v, or its hex value if it has none.
func (v BlockCipherMode) String() string { return enumName(v, blockCipherModeNames) }

// PaddingMethod is the padding in Cryptographic Parameters.
type PaddingMethod uint32

// PaddingMethod values.
const (
	PaddingMethodNone     PaddingMethod = 0x01
	PaddingMethodOAEP     PaddingMethod = 0x02
	PaddingMethodPKCS5    PaddingMethod = 0x03
	PaddingMethodSSL3     PaddingMethod = 0x04
	PaddingMethodZeros    PaddingMethod = 0x05
	PaddingMethodANSIX923 PaddingMethod = 0x06
	PaddingMethodISO10126 PaddingMethod = 0x07
	PaddingMethodPKCS1v15 PaddingMethod = 0x08
	PaddingMethodX931     PaddingMethod = 0x09
	PaddingMethodPSS      PaddingMethod = 0x0A
)

var paddingMethodNames = map[PaddingMethod]string{
	PaddingMethodNone:     "None",
	PaddingMethodOAEP:     "OAEP",
	PaddingMethodPKCS5:    "PKCS5",
	PaddingMethodSSL3:     "SSL3",
	PaddingMethodZeros:    "Zeros",
	PaddingMethodANSIX923: "ANSIX923",
	PaddingMethodISO10126: "ISO10126",
	PaddingMethodPKCS1v15: "PKCS1v15",
	PaddingMethodX931:     "X931",
	PaddingMethodPSS:      "PSS",
}

// String returns the name of v, or its hex value if it has none.
func (v PaddingMethod) String() string { return enumName(v, paddingMethodNames) }

// HashingAlgorithm is the hash in Cryptographic Parameters and Digest.
type HashingAlgorithm uint32

// HashingAlgorithm values.
const (
	HashingAlgorithmMD2        HashingAlgorithm = 0x01
	HashingAlgorithmMD4        HashingAlgorithm = 0x02
	HashingAlgorithmMD5        HashingAlgorithm = 0x03
	HashingAlgorithmSHA1       HashingAlgorithm = 0x04
	HashingAlgorithmSHA224     HashingAlgorithm = 0x05
	HashingAlgorithmSHA256     HashingAlgorithm = 0x06
	HashingAlgorithmSHA384     HashingAlgorithm = 0x07
	HashingAlgorithmSHA512     HashingAlgorithm = 0x08
	HashingAlgorithmRIPEMD160  HashingAlgorithm = 0x09
	HashingAlgorithmTiger      HashingAlgorithm = 0x0A
	HashingAlgorithmWhirlpool  HashingAlgorithm = 0x0B
	HashingAlgorithmSHA512_224 HashingAlgorithm = 0x0C // 1.2
	HashingAlgorithmSHA512_256 HashingAlgorithm = 0x0D // 1.2
	HashingAlgorithmSHA3_224   HashingAlgorithm = 0x0E // 1.4
	HashingAlgorithmSHA3_256   HashingAlgorithm = 0x0F // 1.4
	HashingAlgorithmSHA3_384   HashingAlgorithm = 0x10 // 1.4
	HashingAlgorithmSHA3_512   HashingAlgorithm = 0x11 // 1.4
)

var hashingAlgorithmNames = map[HashingAlgorithm]string{
	HashingAlgorithmMD2:        "MD2",
	HashingAlgorithmMD4:        "MD4",
	HashingAlgorithmMD5:        "MD5",
	HashingAlgorithmSHA1:       "SHA1",
	HashingAlgorithmSHA224:     "SHA224",
	HashingAlgorithmSHA256:     "SHA256",
	HashingAlgorithmSHA384:     "SHA384",
	HashingAlgorithmSHA512:     "SHA512",
	HashingAlgorithmRIPEMD160:  "RIPEMD160",
	HashingAlgorithmTiger:      "Tiger",
	HashingAlgorithmWhirlpool:  "Whirlpool",
	HashingAlgorithmSHA512_224: "SHA512_224",
	HashingAlgorithmSHA512_256: "SHA512_256",
	HashingAlgorithmSHA3_224:   "SHA3_224",
	HashingAlgorithmSHA3_256:   "SHA3_256",
	HashingAlgorithmSHA3_384:   "SHA3_384",
	HashingAlgorithmSHA3_512:   "SHA3_512",
}

// String returns the name of v, or its hex value if it has none.
func (v HashingAlgorithm) String() string { return enumName(v, hashingAlgorithmNames) }

// DigitalSignatureAlgorithm is the signature scheme in Cryptographic
// Parameters.
type DigitalSignatureAlgorithm uint32

// DigitalSignatureAlgorithm values.
const (
	DigitalSignatureAlgorithmMD2WithRSAEncryption      DigitalSignatureAlgorithm = 0x01
	DigitalSignatureAlgorithmMD5WithRSAEncryption      DigitalSignatureAlgorithm = 0x02
	DigitalSignatureAlgorithmSHA1WithRSAEncryption     DigitalSignatureAlgorithm = 0x03
	DigitalSignatureAlgorithmSHA224WithRSAEncryption   DigitalSignatureAlgorithm = 0x04
	DigitalSignatureAlgorithmSHA256WithRSAEncryption   DigitalSignatureAlgorithm = 0x05
	DigitalSignatureAlgorithmSHA384WithRSAEncryption   DigitalSignatureAlgorithm = 0x06
	DigitalSignatureAlgorithmSHA512WithRSAEncryption   DigitalSignatureAlgorithm = 0x07
	DigitalSignatureAlgorithmRSASSAPSS                 DigitalSignatureAlgorithm = 0x08
	DigitalSignatureAlgorithmDSAWithSHA1               DigitalSignatureAlgorithm = 0x09
	DigitalSignatureAlgorithmDSAWithSHA224             DigitalSignatureAlgorithm = 0x0A
	DigitalSignatureAlgorithmDSAWithSHA256             DigitalSignatureAlgorithm = 0x0B
	DigitalSignatureAlgorithmECDSAWithSHA1             DigitalSignatureAlgorithm = 0x0C
	DigitalSignatureAlgorithmECDSAWithSHA224           DigitalSignatureAlgorithm = 0x0D
	DigitalSignatureAlgorithmECDSAWithSHA256           DigitalSignatureAlgorithm = 0x0E
	DigitalSignatureAlgorithmECDSAWithSHA384           DigitalSignatureAlgorithm = 0x0F
	DigitalSignatureAlgorithmECDSAWithSHA512           DigitalSignatureAlgorithm = 0x10
	DigitalSignatureAlgorithmSHA3_256WithRSAEncryption DigitalSignatureAlgorithm = 0x11 // 1.4
	DigitalSignatureAlgorithmSHA3_384WithRSAEncryption DigitalSignatureAlgorithm = 0x12 // 1.4
	DigitalSignatureAlgorithmSHA3_512WithRSAEncryption DigitalSignatureAlgorithm = 0x13 // 1.4
)

var digitalSignatureAlgorithmNames = map[DigitalSignatureAlgorithm]string{
	DigitalSignatureAlgorithmMD2WithRSAEncryption:      "MD2WithRSAEncryption",
	DigitalSignatureAlgorithmMD5WithRSAEncryption:      "MD5WithRSAEncryption",
	DigitalSignatureAlgorithmSHA1WithRSAEncryption:     "SHA1WithRSAEncryption",
	DigitalSignatureAlgorithmSHA224WithRSAEncryption:   "SHA224WithRSAEncryption",
	DigitalSignatureAlgorithmSHA256WithRSAEncryption:   "SHA256WithRSAEncryption",
	DigitalSignatureAlgorithmSHA384WithRSAEncryption:   "SHA384WithRSAEncryption",
	DigitalSignatureAlgorithmSHA512WithRSAEncryption:   "SHA512WithRSAEncryption",
	DigitalSignatureAlgorithmRSASSAPSS:                 "RSASSAPSS",
	DigitalSignatureAlgorithmDSAWithSHA1:               "DSAWithSHA1",
	DigitalSignatureAlgorithmDSAWithSHA224:             "DSAWithSHA224",
	DigitalSignatureAlgorithmDSAWithSHA256:             "DSAWithSHA256",
	DigitalSignatureAlgorithmECDSAWithSHA1:             "ECDSAWithSHA1",
	DigitalSignatureAlgorithmECDSAWithSHA224:           "ECDSAWithSHA224",
	DigitalSignatureAlgorithmECDSAWithSHA256:           "ECDSAWithSHA256",
	DigitalSignatureAlgorithmECDSAWithSHA384:           "ECDSAWithSHA384",
	DigitalSignatureAlgorithmECDSAWithSHA512:           "ECDSAWithSHA512",
	DigitalSignatureAlgorithmSHA3_256WithRSAEncryption: "SHA3_256WithRSAEncryption",
	DigitalSignatureAlgorithmSHA3_384WithRSAEncryption: "SHA3_384WithRSAEncryption",
	DigitalSignatureAlgorithmSHA3_512WithRSAEncryption: "SHA3_512WithRSAEncryption",
}

// String returns the name of v, or its hex value if it has none.
func (v DigitalSignatureAlgorithm) String() string {
	return enumName(v, digitalSignatureAlgorithmNames)
}

// KeyFormatType is the encoding of the Key Material in a Key Block.
type KeyFormatType uint32

// KeyFormatType values. 0x0E to 0x13 are deprecated in 1.4 and reserved in
// 2.0.
const (
	KeyFormatTypeRaw                        KeyFormatType = 0x01
	KeyFormatTypeOpaque                     KeyFormatType = 0x02
	KeyFormatTypePKCS1                      KeyFormatType = 0x03
	KeyFormatTypePKCS8                      KeyFormatType = 0x04
	KeyFormatTypeX509                       KeyFormatType = 0x05
	KeyFormatTypeECPrivateKey               KeyFormatType = 0x06
	KeyFormatTypeTransparentSymmetricKey    KeyFormatType = 0x07
	KeyFormatTypeTransparentDSAPrivateKey   KeyFormatType = 0x08
	KeyFormatTypeTransparentDSAPublicKey    KeyFormatType = 0x09
	KeyFormatTypeTransparentRSAPrivateKey   KeyFormatType = 0x0A
	KeyFormatTypeTransparentRSAPublicKey    KeyFormatType = 0x0B
	KeyFormatTypeTransparentDHPrivateKey    KeyFormatType = 0x0C
	KeyFormatTypeTransparentDHPublicKey     KeyFormatType = 0x0D
	KeyFormatTypeTransparentECDSAPrivateKey KeyFormatType = 0x0E // 1.x
	KeyFormatTypeTransparentECDSAPublicKey  KeyFormatType = 0x0F // 1.x
	KeyFormatTypeTransparentECDHPrivateKey  KeyFormatType = 0x10 // 1.x
	KeyFormatTypeTransparentECDHPublicKey   KeyFormatType = 0x11 // 1.x
	KeyFormatTypeTransparentECMQVPrivateKey KeyFormatType = 0x12 // 1.x
	KeyFormatTypeTransparentECMQVPublicKey  KeyFormatType = 0x13 // 1.x
	KeyFormatTypeTransparentECPrivateKey    KeyFormatType = 0x14 // 1.3
	KeyFormatTypeTransparentECPublicKey     KeyFormatType = 0x15 // 1.3
	KeyFormatTypePKCS12                     KeyFormatType = 0x16 // 1.4
	KeyFormatTypePKCS10                     KeyFormatType = 0x17 // 2.0
)

var keyFormatTypeNames = map[KeyFormatType]string{
	KeyFormatTypeRaw:                        "Raw",
	KeyFormatTypeOpaque:                     "Opaque",
	KeyFormatTypePKCS1:                      "PKCS1",
	KeyFormatTypePKCS8:                      "PKCS8",
	KeyFormatTypeX509:                       "X509",
	KeyFormatTypeECPrivateKey:               "ECPrivateKey",
	KeyFormatTypeTransparentSymmetricKey:    "TransparentSymmetricKey",
	KeyFormatTypeTransparentDSAPrivateKey:   "TransparentDSAPrivateKey",
	KeyFormatTypeTransparentDSAPublicKey:    "TransparentDSAPublicKey",
	KeyFormatTypeTransparentRSAPrivateKey:   "TransparentRSAPrivateKey",
	KeyFormatTypeTransparentRSAPublicKey:    "TransparentRSAPublicKey",
	KeyFormatTypeTransparentDHPrivateKey:    "TransparentDHPrivateKey",
	KeyFormatTypeTransparentDHPublicKey:     "TransparentDHPublicKey",
	KeyFormatTypeTransparentECDSAPrivateKey: "TransparentECDSAPrivateKey",
	KeyFormatTypeTransparentECDSAPublicKey:  "TransparentECDSAPublicKey",
	KeyFormatTypeTransparentECDHPrivateKey:  "TransparentECDHPrivateKey",
	KeyFormatTypeTransparentECDHPublicKey:   "TransparentECDHPublicKey",
	KeyFormatTypeTransparentECMQVPrivateKey: "TransparentECMQVPrivateKey",
	KeyFormatTypeTransparentECMQVPublicKey:  "TransparentECMQVPublicKey",
	KeyFormatTypeTransparentECPrivateKey:    "TransparentECPrivateKey",
	KeyFormatTypeTransparentECPublicKey:     "TransparentECPublicKey",
	KeyFormatTypePKCS12:                     "PKCS12",
	KeyFormatTypePKCS10:                     "PKCS10",
}

// String returns the name of v, or its hex value if it has none.
func (v KeyFormatType) String() string { return enumName(v, keyFormatTypeNames) }

// DerivationMethod is the method of a Derive Key operation.
type DerivationMethod uint32

// DerivationMethod values.
const (
	DerivationMethodPBKDF2               DerivationMethod = 0x01
	DerivationMethodHash                 DerivationMethod = 0x02
	DerivationMethodHMAC                 DerivationMethod = 0x03
	DerivationMethodEncrypt              DerivationMethod = 0x04
	DerivationMethodNIST800108C          DerivationMethod = 0x05
	DerivationMethodNIST800108F          DerivationMethod = 0x06
	DerivationMethodNIST800108DPI        DerivationMethod = 0x07
	DerivationMethodAsymmetricKey        DerivationMethod = 0x08 // 1.4
	DerivationMethodAWSSignatureVersion4 DerivationMethod = 0x09 // 2.0
	DerivationMethodHKDF                 DerivationMethod = 0x0A // 2.0
)

var derivationMethodNames = map[DerivationMethod]string{
	DerivationMethodPBKDF2:               "PBKDF2",
	DerivationMethodHash:                 "Hash",
	DerivationMethodHMAC:                 "HMAC",
	DerivationMethodEncrypt:              "Encrypt",
	DerivationMethodNIST800108C:          "NIST800108C",
	DerivationMethodNIST800108F:          "NIST800108F",
	DerivationMethodNIST800108DPI:        "NIST800108DPI",
	DerivationMethodAsymmetricKey:        "AsymmetricKey",
	DerivationMethodAWSSignatureVersion4: "AWSSignatureVersion4",
	DerivationMethodHKDF:                 "HKDF",
}

// String returns the name of v, or its hex value if it has none.
func (v DerivationMethod) String() string { return enumName(v, derivationMethodNames) }
