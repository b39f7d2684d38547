package kms

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/hsm"
	"github.com/arcakms/arca/internal/hsm/hsmtest"
)

// BenchmarkServiceEncrypt1KiB measures Service.Encrypt of 1 KiB from
// parallel callers, without HTTP: once with audit.Discard (the cost of the
// service and the cipher) and once with a FileLog that fsyncs (the cost of
// durable auditing with group commit). Compare with the REST benchmark to
// see what HTTP adds.
func BenchmarkServiceEncrypt1KiB(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  envConfig
		// parallelism multiplies GOMAXPROCS callers (b.SetParallelism);
		// more callers share each fsync of the audit log.
		parallelism int
	}{
		{"audit=discard", envConfig{audit: audit.Discard{}}, 1},
		{"audit=file-fsync", envConfig{syncAudit: true}, 1},
		// The same 16 callers per CPU in three audit modes, for one
		// comparison: off, one fsync per record, and group commit.
		{"callers=16xGOMAXPROCS/audit=off", envConfig{audit: audit.Discard{}}, 16},
		{"callers=16xGOMAXPROCS/audit=fsync-per-record", envConfig{syncAudit: true, auditMaxBatch: 1}, 16},
		{"callers=16xGOMAXPROCS/audit=fsync-group-commit", envConfig{syncAudit: true}, 16},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newTestEnv(b, bc.cfg)
			e.initAndUnseal(3, 2)
			key := e.createKey("bench", "")
			plaintext := randomBytes(b, 1024)
			b.SetBytes(int64(len(plaintext)))
			b.ReportAllocs()
			b.SetParallelism(bc.parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.svc.Encrypt(requestCtx(e.root), EncryptRequest{Key: key.Name, Plaintext: plaintext}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkProtection compares software keys with HSM-protected keys
// (SoftHSM2, so the token's own cost is a software one): encryption of
// 1 KiB with aes-256-gcm and ECDSA P-256 signing, from parallel callers,
// audit discarded.
func BenchmarkProtection(b *testing.B) {
	h, err := hsm.Open(hsmtest.Token(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(h.Close)
	s, err := New(context.Background(), Options{Store: openStore(b, filepath.Join(b.TempDir(), "arca.db")), Audit: audit.Discard{}, Logger: quietLogger(), Version: "test", HSM: h})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	res, err := s.InitHSM(anonCtx(), 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	id, err := s.Authenticate(context.Background(), res.RootToken)
	if err != nil {
		b.Fatal(err)
	}
	plaintext := randomBytes(b, 1024)
	for _, protection := range []string{ProtectionSoftware, ProtectionHSM} {
		for _, alg := range []string{"aes-256-gcm", "ecdsa-p256"} {
			name := protection + "-" + alg
			if _, err := s.CreateKey(requestCtx(id), CreateKeyRequest{Name: name, Algorithm: alg, Protection: protection}); err != nil {
				b.Fatal(err)
			}
			b.Run("protection="+protection+"/"+alg, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						var err error
						if alg == "aes-256-gcm" {
							_, err = s.Encrypt(requestCtx(id), EncryptRequest{Key: name, Plaintext: plaintext})
						} else {
							_, err = s.Sign(requestCtx(id), SignRequest{Key: name, Message: plaintext})
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
