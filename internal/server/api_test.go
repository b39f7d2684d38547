package server

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestCiphertextFromKeyAFailsCleanlyOnKeyB(t *testing.T) {
	t.Parallel()
	n := startDev(t)
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "key-a"})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "key-b", "algorithm": "chacha20-poly1305"})
	ct := n.encrypt("key-a", "for a only", nil)
	wantError(t, n.call("POST", "/v1/keys/key-b/decrypt", map[string]string{"ciphertext": ct}), 400, "wrong_key")
	wantError(t, n.call("POST", "/v1/keys/key-b/rewrap", map[string]string{"ciphertext": ct}), 400, "wrong_key")
	r := n.must(200, "POST", "/v1/keys/key-a/decrypt", map[string]string{"ciphertext": ct})
	if unb64(t, r.str("plaintext")) != "for a only" {
		t.Fatalf("decrypt: %s", r.raw)
	}
}

func TestRotateRewrapAndOldVersionsDecrypt(t *testing.T) {
	t.Parallel()
	n := startDev(t)
	k := n.must(201, "POST", "/v1/keys", map[string]any{
		"name": "orders", "description": "order payloads", "labels": map[string]string{"team": "shop"}, "owner": "shop-team",
	})
	if k.body["primary_version"] != 1.0 || k.str("algorithm") != "aes-256-gcm" || k.str("created_by") == "" {
		t.Fatalf("create: %s", k.raw)
	}
	ctx := map[string]string{"tenant": "acme", "purpose": "orders"}
	var cts []string
	for i := range 3 {
		cts = append(cts, n.encrypt("orders", "payload-"+string(rune('a'+i)), ctx))
		n.must(200, "POST", "/v1/keys/orders/rotate", nil)
	}
	if got := n.must(200, "GET", "/v1/keys/orders", nil).body["primary_version"]; got != 4.0 {
		t.Fatalf("primary version %v, want 4", got)
	}
	for i, ct := range cts {
		if got := n.decrypt(ct, ctx); got != "payload-"+string(rune('a'+i)) {
			t.Fatalf("old version %d: %q", i+1, got)
		}
	}
	// Context is order-independent but must match.
	wantError(t, n.call("POST", "/v1/decrypt", map[string]any{"ciphertext": cts[0], "context": map[string]string{"tenant": "other", "purpose": "orders"}}), 400, "decryption_failed")
	wantError(t, n.call("POST", "/v1/decrypt", map[string]any{"ciphertext": cts[0]}), 400, "decryption_failed")

	rw := n.must(200, "POST", "/v1/keys/orders/rewrap", map[string]any{"ciphertext": cts[0], "context": ctx})
	if rw.body["key_version"] != 4.0 || rw.str("ciphertext") == cts[0] || strings.Contains(string(rw.raw), "plaintext") {
		t.Fatalf("rewrap: %s", rw.raw)
	}
	if got := n.decrypt(rw.str("ciphertext"), ctx); got != "payload-a" {
		t.Fatalf("rewrapped: %q", got)
	}

	vs := n.must(200, "GET", "/v1/keys/orders/versions?limit=3", nil)
	list := vs.body["versions"].([]any)
	if len(list) != 3 || vs.str("next_page_token") == "" {
		t.Fatalf("versions page 1: %s", vs.raw)
	}
	prov := list[0].(map[string]any)["provenance"].(map[string]any)
	if prov["entropy_source"] != "crypto/rand" || prov["generator"] != "arca" {
		t.Fatalf("provenance: %v", prov)
	}
	vs2 := n.must(200, "GET", "/v1/keys/orders/versions?limit=3&page_token="+vs.str("next_page_token"), nil)
	if l := vs2.body["versions"].([]any); len(l) != 1 || l[0].(map[string]any)["version"] != 4.0 || vs2.str("next_page_token") != "" {
		t.Fatalf("versions page 2: %s", vs2.raw)
	}
}

func TestDataKeyAndRandom(t *testing.T) {
	t.Parallel()
	n := startDev(t)
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "kek"})
	dk := n.must(200, "POST", "/v1/keys/kek/datakey", map[string]any{"bits": 128, "associated_data": b64("file-17")})
	pt, err := base64.StdEncoding.DecodeString(dk.str("plaintext"))
	if err != nil || len(pt) != 16 {
		t.Fatalf("datakey plaintext: %s", dk.raw)
	}
	back := n.must(200, "POST", "/v1/decrypt", map[string]any{"ciphertext": dk.str("ciphertext"), "associated_data": b64("file-17")})
	if back.str("plaintext") != dk.str("plaintext") {
		t.Fatal("wrapped data key does not decrypt to the plaintext data key")
	}
	wp := n.must(200, "POST", "/v1/keys/kek/datakey", map[string]any{"without_plaintext": true})
	if _, ok := wp.body["plaintext"]; ok || wp.str("ciphertext") == "" {
		t.Fatalf("without_plaintext: %s", wp.raw)
	}
	if d := n.decrypt(wp.str("ciphertext"), nil); len(d) != 32 {
		t.Fatalf("default data key length %d", len(d))
	}
	r := n.must(200, "POST", "/v1/random", map[string]int{"bytes": 48})
	if b, _ := base64.StdEncoding.DecodeString(r.str("random")); len(b) != 48 {
		t.Fatalf("random: %s", r.raw)
	}
}

func TestBatchItemsSucceedAndFailIndependently(t *testing.T) {
	t.Parallel()
	n := startDev(t)
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "one"})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "two"})
	enc := n.must(200, "POST", "/v1/batch/encrypt", map[string]any{"items": []map[string]any{
		{"key": "one", "plaintext": b64("p1")},
		{"key": "missing", "plaintext": b64("p2")},
		{"key": "two", "plaintext": b64("p3"), "context": map[string]string{"a": "b"}},
	}})
	res := enc.body["results"].([]any)
	if len(res) != 3 {
		t.Fatalf("results: %s", enc.raw)
	}
	item := func(i int) map[string]any { return res[i].(map[string]any) }
	if item(1)["error"].(map[string]any)["code"] != "key_not_found" || item(0)["ciphertext"] == nil || item(2)["ciphertext"] == nil {
		t.Fatalf("batch encrypt: %s", enc.raw)
	}
	if len(item(1)) != 1 {
		t.Fatalf("a failed item must hold only its error: %v", item(1))
	}
	dec := n.must(200, "POST", "/v1/batch/decrypt", map[string]any{"items": []map[string]any{
		{"ciphertext": item(0)["ciphertext"]},
		{"ciphertext": item(2)["ciphertext"]},
		{"ciphertext": item(2)["ciphertext"], "context": map[string]string{"a": "b"}},
		{"key": "two", "ciphertext": item(0)["ciphertext"]},
		{"ciphertext": "arca:v1:garbage"},
	}})
	dr := dec.body["results"].([]any)
	codes := []string{}
	for _, r := range dr {
		if e, ok := r.(map[string]any)["error"].(map[string]any); ok {
			codes = append(codes, e["code"].(string))
		} else {
			codes = append(codes, "ok:"+unb64(t, r.(map[string]any)["plaintext"].(string)))
		}
	}
	want := []string{"ok:p1", "decryption_failed", "ok:p3", "wrong_key", "invalid_ciphertext"}
	if strings.Join(codes, ",") != strings.Join(want, ",") {
		t.Fatalf("batch decrypt: got %v, want %v", codes, want)
	}
	n.must(200, "POST", "/v1/keys/one/rotate", nil)
	rw := n.must(200, "POST", "/v1/batch/rewrap", map[string]any{"items": []map[string]any{
		{"key": "one", "ciphertext": item(0)["ciphertext"]},
		{"ciphertext": item(0)["ciphertext"]},
	}})
	rr := rw.body["results"].([]any)
	if rr[0].(map[string]any)["key_version"] != 2.0 || rr[1].(map[string]any)["error"].(map[string]any)["code"] != "invalid_argument" {
		t.Fatalf("batch rewrap: %s", rw.raw)
	}
	items := make([]map[string]any, 1001)
	for i := range items {
		items[i] = map[string]any{"key": "one", "plaintext": ""}
	}
	wantError(t, n.call("POST", "/v1/batch/encrypt", map[string]any{"items": items}), 400, "batch_too_large")
	wantError(t, n.call("POST", "/v1/batch/encrypt", map[string]any{"items": []any{}}), 400, "invalid_argument")
}

func TestListKeysPaginatesAndFiltersByLabel(t *testing.T) {
	t.Parallel()
	n := startDev(t)
	for i := range 25 {
		labels := map[string]string{"env": "prod"}
		if i%5 == 0 {
			labels = map[string]string{"env": "dev", "pci": "yes"}
		}
		n.must(201, "POST", "/v1/keys", map[string]any{"name": "k" + string(rune('a'+i)), "labels": labels})
	}
	var names []string
	tok := ""
	for page := 0; ; page++ {
		path := "/v1/keys?limit=10"
		if tok != "" {
			path += "&page_token=" + tok
		}
		r := n.must(200, "GET", path, nil)
		for _, k := range r.body["keys"].([]any) {
			names = append(names, k.(map[string]any)["name"].(string))
		}
		if tok = r.str("next_page_token"); tok == "" {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(names) != 25 || names[0] != "ka" || names[24] != "ky" {
		t.Fatalf("listed %d keys: %v", len(names), names)
	}
	r := n.must(200, "GET", "/v1/keys?label=env=dev&label=pci=yes", nil)
	if got := len(r.body["keys"].([]any)); got != 5 {
		t.Fatalf("label filter matched %d keys, want 5: %s", got, r.raw)
	}
}
