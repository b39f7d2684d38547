package transit

import (
	"testing"

	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
)

// TestHMACWithAnotherHashIsRefusedFirst: an hmac request naming a hash the
// key is not bound to is refused before any MAC is computed: one audit
// record, not allowed, and no metadata read beside it.
func TestHMACWithAnotherHashIsRefusedFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.must(t, 200, "PUT", "/v1/transit/keys/mac", `{"type":"hmac"}`)
	before := len(e.auditRecords(t))
	e.must(t, 400, "PUT", "/v1/transit/hmac/mac/sha2-512", `{"input":"ZGF0YQ=="}`)
	recs := e.auditRecords(t)[before:]
	if len(recs) != 1 || recs[0].Operation != kms.OpGenerateMAC || recs[0].Outcome == audit.OutcomeAllowed {
		t.Fatalf("audit of a refused hmac: %+v", recs)
	}
	// In a batch too, the refusal is the request's, made once.
	before = len(e.auditRecords(t))
	r := e.must(t, 400, "PUT", "/v1/transit/hmac/mac/sha2-512", `{"batch_input":[{"input":"ZGF0YQ=="},{"input":"ZGF0YQ=="},{"input":"ZGF0YQ=="}]}`)
	if _, ok := r.body["data"]; ok {
		t.Errorf("a refused batch answered with results: %s", r.raw)
	}
	if recs := e.auditRecords(t)[before:]; len(recs) != 1 {
		t.Fatalf("%d audit records for one refused batch: %+v", len(recs), recs)
	}
}
