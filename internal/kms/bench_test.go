package kms

import (
	"testing"

	"github.com/arcakms/arca/internal/audit"
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
