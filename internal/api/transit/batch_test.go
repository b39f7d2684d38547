package transit

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBatches checks the batch forms: results in input order with the
// references echoed, per-item errors, and Vault's statuses (400 when an
// item failed, the partial-failure code when asked, 200 otherwise).
func TestBatches(t *testing.T) {
	t.Parallel()
	e, v := seeded(t)
	e.must(t, 200, "PUT", "/v1/transit/keys/mac", `{"type":"hmac"}`)

	r := e.must(t, 200, "PUT", "/v1/transit/encrypt/a", `{"batch_input":[
		{"plaintext":"b25l","reference":"r1"},
		{"plaintext":"dHdv","context":"Yw==","reference":"r2"},
		{"plaintext":""}]}`)
	items := r.items()
	if len(items) != 3 {
		t.Fatalf("batch_results %s", r.raw)
	}
	for i, ref := range []string{"r1", "r2", ""} {
		ct, _ := items[i]["ciphertext"].(string)
		if !strings.HasPrefix(ct, "vault:v1:") || items[i]["key_version"] != 1.0 || items[i]["reference"] != ref || items[i]["error"] != nil {
			t.Errorf("item %d: %v", i, items[i])
		}
		v[fmt.Sprintf("B%d", i)] = ct
	}

	decrypt := `{"batch_input":[{"ciphertext":"$B0","reference":"x"},{"ciphertext":"$B1","context":"Yw=="},{"ciphertext":"$B2"},{"ciphertext":"$CT_B"}]%s}`
	r = e.do(t, "PUT", "/v1/transit/decrypt/a", v.expand(fmt.Sprintf(decrypt, "")))
	if r.status != http.StatusBadRequest {
		t.Fatalf("partial failure: %d %s, want 400", r.status, r.raw)
	}
	items = r.items()
	want := []string{"b25l", "dHdv", ""}
	for i, pt := range want {
		if items[i]["plaintext"] != pt || items[i]["error"] != nil {
			t.Errorf("item %d: %v", i, items[i])
		}
	}
	if items[0]["reference"] != "x" {
		t.Errorf("reference not echoed: %v", items[0])
	}
	if msg, _ := items[3]["error"].(string); !strings.Contains(msg, `not made with key "a"`) {
		t.Errorf("item of another key: %v", items[3])
	}
	r = e.do(t, "PUT", "/v1/transit/decrypt/a", v.expand(fmt.Sprintf(decrypt, `,"partial_failure_response_code":"207"`)))
	if r.status != http.StatusMultiStatus || len(r.items()) != 4 {
		t.Errorf("partial_failure_response_code: %d %s", r.status, r.raw)
	}
	r = e.do(t, "PUT", "/v1/transit/decrypt/b", v.expand(`{"batch_input":[{"ciphertext":"$B0"}],"partial_failure_response_code":207}`))
	if r.status != http.StatusBadRequest {
		t.Errorf("all items failed: %d %s, want 400", r.status, r.raw)
	}

	e.must(t, 200, "PUT", "/v1/transit/keys/a/rotate", ``)
	r = e.must(t, 200, "PUT", "/v1/transit/rewrap/a", v.expand(`{"batch_input":[{"ciphertext":"$B0","reference":"q"},{"ciphertext":"$B1","context":"Yw=="}]}`))
	for i, it := range r.items() {
		if ct, _ := it["ciphertext"].(string); !strings.HasPrefix(ct, "vault:v2:") || it["key_version"] != 2.0 {
			t.Errorf("rewrapped item %d: %v", i, it)
		}
	}

	r = e.must(t, 200, "PUT", "/v1/transit/hmac/mac", `{"batch_input":[{"input":"b25l","reference":"m1"},{"input":"dHdv"}]}`)
	macs := r.items()
	if len(macs) != 2 || macs[0]["hmac"] == macs[1]["hmac"] || macs[0]["reference"] != "m1" {
		t.Fatalf("hmac batch %s", r.raw)
	}
	r = e.must(t, 200, "PUT", "/v1/transit/verify/mac", fmt.Sprintf(`{"batch_input":[{"input":"b25l","hmac":%q},{"input":"b25l","hmac":%q}]}`, macs[0]["hmac"], macs[1]["hmac"]))
	if it := r.items(); len(it) != 2 || it[0]["valid"] != true || it[1]["valid"] != false {
		t.Errorf("verify batch %s", r.raw)
	}
	// An HMAC naming a version the key does not have fails its item only.
	r = e.do(t, "PUT", "/v1/transit/verify/mac", fmt.Sprintf(`{"batch_input":[{"input":"b25l","hmac":%q},{"input":"b25l","hmac":"vault:v9:AAAA"}]}`, macs[0]["hmac"]))
	if it := r.items(); r.status != http.StatusBadRequest || len(it) != 2 || it[0]["valid"] != true || it[1]["error"] == nil {
		t.Errorf("verify batch with a bad item: %d %s", r.status, r.raw)
	}

	r = e.must(t, 200, "PUT", "/v1/transit/sign/sig", `{"batch_input":[{"input":"b25l","reference":"s1"},{"input":"dHdv"}]}`)
	sigs := r.items()
	if len(sigs) != 2 || sigs[0]["key_version"] != 1.0 || sigs[0]["reference"] != "s1" {
		t.Fatalf("sign batch %s", r.raw)
	}
	r = e.must(t, 200, "PUT", "/v1/transit/verify/sig", fmt.Sprintf(`{"batch_input":[{"input":"b25l","signature":%q},{"input":"b25l","signature":%q}]}`, sigs[0]["signature"], sigs[1]["signature"]))
	if it := r.items(); it[0]["valid"] != true || it[1]["valid"] != false {
		t.Errorf("verify signatures %s", r.raw)
	}

	// One audit record per service call: one for the encrypt batch (its
	// size recorded), one per item of a looped batch.
	recs := e.auditOf(t, e.must(t, 200, "PUT", "/v1/transit/encrypt/a", `{"batch_input":[{"plaintext":"b25l"},{"plaintext":"b25l"}]}`))
	if len(recs) != 1 || recs[0].BatchSize != 2 || recs[0].Interface != "transit" {
		t.Errorf("encrypt batch audit %+v", recs)
	}
	if recs := e.auditOf(t, e.must(t, 200, "PUT", "/v1/transit/sign/sig", `{"batch_input":[{"input":"b25l"},{"input":"b25l"},{"input":"b25l"}]}`)); len(recs) != 3 {
		t.Errorf("sign batch: %d audit records, want 3", len(recs))
	}
}
