package kubekms_test

import (
	"context"
	"testing"

	kmsapi "k8s.io/kms/apis/v2"

	"github.com/arcakms/arca/client"
)

// BenchmarkEncrypt encrypts 32-byte data keys through the plugin's gRPC
// socket, in parallel, as kube-apiserver does: the plugin's cost on top
// of BenchmarkEncryptREST, the same encryption through the SDK alone.
func BenchmarkEncrypt(b *testing.B) {
	a := startArca(b)
	p := startPlugin(b, a.srv.URL(), a.token, secretsKey)
	plaintext := dek(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.kms.Encrypt(context.Background(), &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: "bench"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEncryptREST is BenchmarkEncrypt without the plugin: the SDK
// calls the REST API directly, for comparison.
func BenchmarkEncryptREST(b *testing.B) {
	a := startArca(b)
	c := sdk(b, a.srv.URL(), a.token)
	plaintext := dek(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Encrypt(context.Background(), secretsKey, client.EncryptRequest{Plaintext: plaintext}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
