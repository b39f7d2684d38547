package keywrap_test

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"sync"
	"testing"

	"github.com/arcakms/arca/internal/keywrap"
	"github.com/arcakms/arca/internal/secret"
)

// wrappingKey is a cached GenerateKey output: the private key bytes and the
// public key PEM.
type wrappingKey struct {
	priv []byte
	pub  string
}

// wrappingKeys generates two key pairs per scheme, once per test binary
// (RSA-3072 generation is slow, more so under -race), lazily.
var wrappingKeys = func() map[keywrap.Scheme][2]func() (wrappingKey, error) {
	m := map[keywrap.Scheme][2]func() (wrappingKey, error){}
	for _, s := range keywrap.Schemes() {
		var pair [2]func() (wrappingKey, error)
		for i := range pair {
			pair[i] = sync.OnceValues(func() (wrappingKey, error) {
				priv, pub, err := keywrap.GenerateKey(s)
				if err != nil {
					return wrappingKey{}, err
				}
				defer priv.Wipe()
				return wrappingKey{bytes.Clone(priv.Reveal()), pub}, nil
			})
		}
		m[s] = pair
	}
	return m
}()

// keyPair returns the n-th (0 or 1) cached key pair of a scheme; the private
// key is a fresh copy the caller may wipe.
func keyPair(tb testing.TB, s keywrap.Scheme, n int) (*secret.Bytes, string) {
	tb.Helper()
	k, err := wrappingKeys[s][n]()
	if err != nil {
		tb.Fatalf("GenerateKey(%s): %v", s, err)
	}
	return secret.New(bytes.Clone(k.priv)), k.pub
}

// rsaKeys generates RSA keys of other sizes once: a caller's own RSA-4096
// key, and an RSA-2048 key, too small to wrap with.
var rsaKeys = map[int]func() (*rsa.PrivateKey, error){
	2048: sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }),
	4096: sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 4096) }),
}

func rsaKey(tb testing.TB, bits int) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsaKeys[bits]()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// rsaPrivate parses an RSA wrapping private key (PKCS#8).
func rsaPrivate(tb testing.TB, priv *secret.Bytes) *rsa.PrivateKey {
	tb.Helper()
	k, err := x509.ParsePKCS8PrivateKey(priv.Reveal())
	if err != nil {
		tb.Fatal(err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		tb.Fatalf("wrapping private key is a %T", k)
	}
	return rk
}

// publicPEM encodes a public key as a PEM "PUBLIC KEY" SubjectPublicKeyInfo.
func publicPEM(tb testing.TB, pub any) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// pattern returns n bytes of a non-constant pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8 + 1)
	}
	return b
}

// The AES key wrap with padding of RFC 5649 (NIST SP 800-38F KWP), written
// from the RFC, independent of the tink-go implementation the package uses:
// the wrapping tests compare the package's output with it, and
// TestWycheproofKWP checks it against the Wycheproof vectors.

// kwpAIV is the alternative initial value's constant half (RFC 5649 §3).
const kwpAIV = 0xA65959A6

// kwpWrap wraps msg (at least one byte) under the AES key kek.
func kwpWrap(kek, msg []byte) ([]byte, error) {
	if len(msg) == 0 {
		return nil, errors.New("kwp: empty input")
	}
	padded := make([]byte, (len(msg)+7)/8*8)
	copy(padded, msg)
	a := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, kwpAIV), uint32(len(msg)))
	if len(padded) == 8 {
		block, err := aes.NewCipher(kek)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 16)
		block.Encrypt(out, append(a, padded...))
		return out, nil
	}
	return wrapW(kek, a, padded), nil
}

// kwWrap is AES-KW without padding (RFC 3394 §2.2.1), initial value
// A6A6A6A6A6A6A6A6, for a message a multiple of 8 bytes long: not KWP.
func kwWrap(kek, msg []byte) []byte {
	return wrapW(kek, bytes.Repeat([]byte{0xa6}, 8), bytes.Clone(msg))
}

// wrapW is the wrapping function W of RFC 3394 §2.2.1 with initial value a
// over the 8-byte blocks of r (at least two), which it overwrites.
func wrapW(kek, a, r []byte) []byte {
	block, err := aes.NewCipher(kek)
	if err != nil {
		panic(err)
	}
	n := len(r) / 8
	a = bytes.Clone(a)
	var buf [16]byte
	for j := range 6 {
		for i := 1; i <= n; i++ {
			copy(buf[:8], a)
			copy(buf[8:], r[(i-1)*8:i*8])
			block.Encrypt(buf[:], buf[:])
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(buf[:8])^uint64(n*j+i))
			copy(r[(i-1)*8:i*8], buf[8:])
		}
	}
	return append(a, r...)
}

// kwpUnwrap reverses kwpWrap and checks the AIV, the length and the padding.
func kwpUnwrap(kek, wrapped []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped)%8 != 0 || len(wrapped) < 16 {
		return nil, errors.New("kwp: bad length")
	}
	n := len(wrapped)/8 - 1
	a := make([]byte, 8)
	r := bytes.Clone(wrapped[8:])
	if n == 1 {
		var buf [16]byte
		block.Decrypt(buf[:], wrapped)
		copy(a, buf[:8])
		copy(r, buf[8:])
	} else {
		copy(a, wrapped[:8])
		var buf [16]byte
		for j := 5; j >= 0; j-- {
			for i := n; i >= 1; i-- {
				t := uint64(n*j + i)
				binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a)^t)
				copy(buf[8:], r[(i-1)*8:i*8])
				block.Decrypt(buf[:], buf[:])
				copy(a, buf[:8])
				copy(r[(i-1)*8:i*8], buf[8:])
			}
		}
	}
	mli := int(binary.BigEndian.Uint32(a[4:]))
	if binary.BigEndian.Uint32(a[:4]) != kwpAIV || mli <= 8*(n-1) || mli > 8*n {
		return nil, errors.New("kwp: integrity check failed")
	}
	if subtle.ConstantTimeCompare(r[mli:], make([]byte, len(r)-mli)) != 1 {
		return nil, errors.New("kwp: non-zero padding")
	}
	return r[:mli], nil
}
