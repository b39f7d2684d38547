package kmip

import (
	"testing"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/kms"
)

// benchEnv is a server with one active AES-256 key and a client identity
// allowed to use it.
func benchEnv(b *testing.B) (*kmipEnv, leaf, string) {
	e := newEnv(b, Options{})
	k, err := e.svc.CreateKey(e.rootCtx, kms.CreateKeyRequest{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return e, e.identity("bench-client", nil, allKeyActions), k.ID
}

// BenchmarkEncrypt measures one Encrypt of 64 bytes through KMIP over one
// mutually authenticated TLS connection: framing, decoding, certificate
// authentication, the service's authorisation and audit (file log
// without fsync), encoding. Compare with the REST adapter's benchmarks.
func BenchmarkEncrypt(b *testing.B) {
	e, cert, id := benchEnv(b)
	c := e.dial(cert, version{1, 4})
	payload := []ttlv.Item{uid(id), ttlv.Bytes(ttlv.TagData, make([]byte, 64))}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.ok(ttlv.OperationEncrypt, payload...)
	}
}

// BenchmarkEncryptParallel encrypts 1 KiB over 8 connections per CPU,
// one per goroutine: the shape of the REST server's BenchmarkEncrypt1KiB
// (internal/server), which runs over plain HTTP with a bearer token.
func BenchmarkEncryptParallel(b *testing.B) {
	e, cert, id := benchEnv(b)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := e.dial(cert, version{1, 4})
		payload := []ttlv.Item{uid(id), ttlv.Bytes(ttlv.TagData, make([]byte, 1024))}
		for pb.Next() {
			c.ok(ttlv.OperationEncrypt, payload...)
		}
	})
}
