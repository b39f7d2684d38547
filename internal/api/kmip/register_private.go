package kmip

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/secret"
)

// registerPrivate imports a signing key pair given as its private key in
// clear (PKCS#8, PKCS#1 for RSA, or SEC 1 ECPrivateKey) inside the
// mutually authenticated TLS channel. The key becomes an Arca signing key
// of origin external whose public half has the usual ":public"
// identifier. Arca holds the material as PKCS#8, whatever format it came
// in.
func (c *call) registerPrivate(p ttlv.Item) ([]ttlv.Item, error) {
	obj, ok := p.Find(ttlv.TagPrivateKey)
	if !ok {
		return nil, missingData("the PrivateKey object is required")
	}
	kb, err := readPrivateKeyBlock(obj)
	if err != nil {
		return nil, err
	}
	material := secret.New(kb.pkcs8)
	defer material.Wipe() // the service wipes it too; this covers refusals before it
	defer kb.wipe()
	ks, err := requestKeySpec(p)
	if err != nil {
		return nil, err
	}
	if ks.hasMask && ks.mask&(ttlv.CryptographicUsageMaskEncrypt|ttlv.CryptographicUsageMaskDecrypt) != 0 {
		return nil, withReason(incompatibleMask(c.v), kms.CodeInvalidArgument,
			"registered private keys sign and verify: Arca has no KMIP encryption with key pairs")
	}
	alg, err := kb.algorithm()
	if err != nil {
		return nil, err
	}
	// What the client says about the key must match what the key is.
	kalg, kbits, _ := kmipAlgorithm(alg)
	for _, claimed := range []ttlv.CryptographicAlgorithm{kb.alg, ks.alg} {
		if claimed != 0 && claimed != kalg && !(kalg == ttlv.CryptographicAlgorithmECDSA && claimed == ttlv.CryptographicAlgorithmEC) {
			return nil, invalidField("the Cryptographic Algorithm %s contradicts the %s key material", claimed, kalg)
		}
	}
	for _, claimed := range []int32{kb.bits, ks.bits} {
		if claimed != 0 && claimed != kbits {
			return nil, invalidField("the Cryptographic Length %d does not match the %d-bit key material", claimed, kbits)
		}
	}
	if err := ks.checkMask(alg, c.v); err != nil {
		return nil, err
	}
	req := ks.createRequest(alg, true)
	req.Import = &kms.ImportMaterial{Plaintext: material}
	k, err := c.s.svc.CreateKey(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return []ttlv.Item{uidItem(objectRef{keyID: k.ID})}, nil
}

// maxPrivateKeySize bounds a registered private key's DER: an RSA-4096
// key in PKCS#8 takes about 2.4 KB.
const maxPrivateKeySize = 8 << 10

// privateKeyBlock is a registered private key, parsed.
type privateKeyBlock struct {
	key   any    // *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
	pkcs8 []byte // the key re-encoded as PKCS#8; the service wipes it
	alg   ttlv.CryptographicAlgorithm
	bits  int32
}

// readPrivateKeyBlock parses a PrivateKey object's key block.
func readPrivateKeyBlock(obj ttlv.Item) (privateKeyBlock, error) {
	rb, err := readRegisteredBlock(obj)
	if err != nil {
		return privateKeyBlock{}, err
	}
	kb := privateKeyBlock{alg: rb.alg, bits: rb.bits}
	der, ok := rb.material.Bytes()
	if !ok || len(der) == 0 {
		return kb, invalidField("the KeyMaterial must be the DER encoding the KeyFormatType names")
	}
	if len(der) > maxPrivateKeySize {
		// Parsing checks a private key at a cost that grows with the
		// square of its size: bound it before the parser runs.
		return kb, invalidField("the KeyMaterial is larger than any key Arca holds (%d bytes at most)", maxPrivateKeySize)
	}
	switch rb.format {
	case ttlv.KeyFormatTypePKCS8:
		kb.key, err = x509.ParsePKCS8PrivateKey(der)
	case ttlv.KeyFormatTypePKCS1:
		kb.key, err = x509.ParsePKCS1PrivateKey(der)
	case ttlv.KeyFormatTypeECPrivateKey:
		kb.key, err = x509.ParseECPrivateKey(der)
	default:
		return kb, withReason(ttlv.ResultReasonKeyFormatTypeNotSupported, kms.CodeInvalidArgument,
			"private keys are registered in PKCS8, PKCS1 (RSA) or ECPrivateKey format, not %s", rb.format)
	}
	if err != nil {
		// The parser's message may quote the input: say only what failed.
		return kb, invalidField("the KeyMaterial is not a valid %s private key", rb.format)
	}
	if kb.pkcs8, err = x509.MarshalPKCS8PrivateKey(kb.key); err != nil {
		return kb, invalidField("the private key cannot be held as PKCS#8")
	}
	return kb, nil
}

// wipe clears what of the parsed key can be cleared: an Ed25519 key's
// bytes, and RSA's private values (Go's big integers and EC scalars
// cannot be cleared in place, and go to the garbage collector).
func (kb privateKeyBlock) wipe() {
	switch k := kb.key.(type) {
	case ed25519.PrivateKey:
		clear(k)
	case *rsa.PrivateKey:
		k.D.SetInt64(0)
		for _, p := range k.Primes {
			p.SetInt64(0)
		}
	}
}

// algorithm is the Arca signing algorithm of the parsed key.
func (kb privateKeyBlock) algorithm() (crypto.Algorithm, error) {
	switch k := kb.key.(type) {
	case *rsa.PrivateKey:
		return pairAlgorithm(ttlv.CryptographicAlgorithmRSA, int32(k.N.BitLen()), 0)
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return crypto.ECDSAP256, nil
		case elliptic.P384():
			return crypto.ECDSAP384, nil
		case elliptic.P521():
			return crypto.ECDSAP521, nil
		}
		return "", invalidField("EC private keys must be on P-256, P-384 or P-521")
	case ed25519.PrivateKey:
		return crypto.Ed25519, nil
	}
	return "", invalidField("private keys must be RSA, ECDSA or Ed25519 keys")
}

// incompatibleMask is the result reason for a usage mask the key cannot
// honour in KMIP version v.
func incompatibleMask(v version) ttlv.ResultReason {
	if v.atLeast(2, 0) {
		return ttlv.ResultReasonIncompatibleCryptographicUsageMask
	}
	return ttlv.ResultReasonInvalidField
}
