package awskms

import (
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
)

// keySpec is an AWS key spec and usage as an Arca algorithm.
type keySpec struct {
	spec, usage string
}

// algorithms maps AWS key specs and usages to Arca algorithms.
var algorithms = map[keySpec]crypto.Algorithm{
	{"SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"}: crypto.AES256GCM,
	{"RSA_2048", "SIGN_VERIFY"}:              crypto.RSA2048,
	{"RSA_3072", "SIGN_VERIFY"}:              crypto.RSA3072,
	{"RSA_4096", "SIGN_VERIFY"}:              crypto.RSA4096,
	{"RSA_2048", "ENCRYPT_DECRYPT"}:          crypto.RSAOAEP2048,
	{"RSA_3072", "ENCRYPT_DECRYPT"}:          crypto.RSAOAEP3072,
	{"RSA_4096", "ENCRYPT_DECRYPT"}:          crypto.RSAOAEP4096,
	{"ECC_NIST_P256", "SIGN_VERIFY"}:         crypto.ECDSAP256,
	{"ECC_NIST_P384", "SIGN_VERIFY"}:         crypto.ECDSAP384,
	{"ECC_NIST_P521", "SIGN_VERIFY"}:         crypto.ECDSAP521,
	{"HMAC_256", "GENERATE_VERIFY_MAC"}:      crypto.HMACSHA256,
	{"HMAC_384", "GENERATE_VERIFY_MAC"}:      crypto.HMACSHA384,
	{"HMAC_512", "GENERATE_VERIFY_MAC"}:      crypto.HMACSHA512,
}

// specOf is the AWS key spec and usage of an Arca algorithm ("" for one
// the AWS API has no name for).
func specOf(alg crypto.Algorithm) keySpec {
	for ks, a := range algorithms {
		if a == alg {
			return ks
		}
	}
	return keySpec{}
}

// signingAlgorithms are the AWS signing algorithms of each signing key,
// with the padding Arca uses for them.
var signingAlgorithms = map[crypto.Algorithm]map[string]crypto.Padding{
	crypto.ECDSAP256: {"ECDSA_SHA_256": ""},
	crypto.ECDSAP384: {"ECDSA_SHA_384": ""},
	crypto.ECDSAP521: {"ECDSA_SHA_512": ""},
	crypto.RSA2048:   {"RSASSA_PSS_SHA_256": crypto.PaddingPSS, "RSASSA_PKCS1_V1_5_SHA_256": crypto.PaddingPKCS1v15},
	crypto.RSA3072:   {"RSASSA_PSS_SHA_256": crypto.PaddingPSS, "RSASSA_PKCS1_V1_5_SHA_256": crypto.PaddingPKCS1v15},
	crypto.RSA4096:   {"RSASSA_PSS_SHA_256": crypto.PaddingPSS, "RSASSA_PKCS1_V1_5_SHA_256": crypto.PaddingPKCS1v15},
}

// macAlgorithms are the AWS MAC algorithm of each HMAC key.
var macAlgorithms = map[crypto.Algorithm]string{
	crypto.HMACSHA256: "HMAC_SHA_256",
	crypto.HMACSHA384: "HMAC_SHA_384",
	crypto.HMACSHA512: "HMAC_SHA_512",
}

// encryptionAlgorithm is the AWS encryption algorithm of an encryption key.
func encryptionAlgorithm(alg crypto.Algorithm) string {
	if alg.Purpose() == crypto.PurposeEncrypt {
		return "SYMMETRIC_DEFAULT"
	}
	return "RSAES_OAEP_SHA_256"
}

// keyPairSpecs maps AWS data key pair specs to Arca algorithms.
var keyPairSpecs = map[string]crypto.Algorithm{
	"RSA_2048":      crypto.RSA2048,
	"RSA_3072":      crypto.RSA3072,
	"RSA_4096":      crypto.RSA4096,
	"ECC_NIST_P256": crypto.ECDSAP256,
	"ECC_NIST_P384": crypto.ECDSAP384,
	"ECC_NIST_P521": crypto.ECDSAP521,
}

// keyState is the AWS state of an Arca lifecycle state.
func keyState(s lifecycle.State) string {
	switch s {
	case lifecycle.Active:
		return "Enabled"
	case lifecycle.DestroyScheduled:
		return "PendingDeletion"
	case lifecycle.Destroyed:
		return "Unavailable"
	}
	return "Disabled"
}
