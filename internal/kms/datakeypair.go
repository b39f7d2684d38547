package kms

import (
	"context"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/secret"
)

// OpDataKeyPair names generate-data-key-pair in audit records.
const OpDataKeyPair = "key.generate_data_key_pair"

// DataKeyPairRequest asks for a fresh key pair of KeySpec (a signing or
// asymmetric encryption algorithm) whose private key is returned encrypted under Key.
type DataKeyPairRequest struct {
	Key              string
	KeySpec          string
	WithoutPlaintext bool
	Binding          crypto.Binding
}

// DataKeyPairResult holds the public key, the private key encrypted under
// the KEK, and (unless WithoutPlaintext) the private key itself, which the
// caller wipes once sent.
type DataKeyPairResult struct {
	CiphertextResult
	KeySpec    crypto.Algorithm
	PublicKey  *crypto.PublicKey
	PrivateKey *secret.Bytes
}

// GenerateDataKeyPair generates a key pair for the caller's own use: the
// public key in clear, the private key (PKCS#8, or the seed for ML-DSA)
// encrypted under the primary version of an encryption key, and the private
// key in clear unless WithoutPlaintext.
func (s *Service) GenerateDataKeyPair(ctx context.Context, req DataKeyPairRequest) (res *DataKeyPairResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpDataKeyPair, t, err); err != nil && res != nil {
			res.PrivateKey.Wipe()
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	spec, err := crypto.ParseAlgorithm(req.KeySpec)
	if err != nil || !serves(spec, purposePublicKey) {
		return nil, Errorf(CodeInvalidArgument, "key_spec must be a signing algorithm (ecdsa-p256|p384|p521, ed25519, rsa-2048|3072|4096, ml-dsa-44|65|87) or an asymmetric encryption one (rsa-oaep-2048|3072|4096, ml-kem-768|1024, x25519-ml-kem-768)")
	}
	priv, pub, err := crypto.GenerateKeyPair(spec)
	if err != nil {
		return nil, internal("generate key pair", err)
	}
	ct, err := s.encrypt(ctx, kr, EncryptRequest{Key: req.Key, Plaintext: priv.Reveal(), Binding: req.Binding}, t, access.KeyDataKey)
	if err != nil {
		priv.Wipe()
		return nil, err
	}
	res = &DataKeyPairResult{CiphertextResult: *ct, KeySpec: spec, PublicKey: pub, PrivateKey: priv}
	if req.WithoutPlaintext {
		priv.Wipe()
		res.PrivateKey = nil
	}
	return res, nil
}
