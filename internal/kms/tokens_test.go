package kms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/storage"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	unknown, _, err := newToken()
	if err != nil {
		t.Fatal(err)
	}
	suffix := strings.TrimPrefix(e.rootToken, tokenPrefix)
	tests := []struct {
		name  string
		token string
		want  Code
	}{
		{"empty", "", CodeUnauthorized},
		{"prefix only", tokenPrefix, CodeUnauthorized},
		{"wrong prefix", "vault_" + suffix, CodeUnauthorized},
		{"upper-case prefix", "ARCA_" + suffix, CodeUnauthorized},
		{"no prefix", suffix, CodeUnauthorized},
		{"too long", tokenPrefix + strings.Repeat("a", 252), CodeUnauthorized},
		{"root token made too long", e.rootToken + strings.Repeat("a", 257-len(e.rootToken)), CodeUnauthorized},
		{"unknown", unknown, CodeUnauthorized},
		{"longest unknown", tokenPrefix + strings.Repeat("a", 251), CodeUnauthorized},
		{"root token with space", " " + e.rootToken, CodeUnauthorized},
		{"truncated root token", e.rootToken[:len(e.rootToken)-1], CodeUnauthorized},
		{"root token", e.rootToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := e.svc.Authenticate(context.Background(), tt.token)
			wantCode(t, "Authenticate", err, tt.want)
			if tt.want != "" {
				if id != nil {
					t.Errorf("identity %+v returned with an error", id)
				}
				return
			}
			if id == nil || !id.Root || id.Method != "token" || id.Name != "root" || !strings.HasPrefix(id.ID, "root-") {
				t.Errorf("identity = %+v, want the root identity", id)
			}
			if strings.Contains(id.ID, suffix) {
				t.Errorf("identity id %q contains the token", id.ID)
			}
		})
	}
}

// TestTokenRecord: the token is stored only as its SHA-256: the record's
// key and Hash are the hex digest, and nothing else in the namespace.
func TestTokenRecord(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	sum := sha256.Sum256([]byte(e.rootToken))
	want := hex.EncodeToString(sum[:])
	kr := e.svc.keyring.Load()
	err := e.store.View(context.Background(), func(tx storage.Tx) error {
		page, err := tx.List(nsTokens, storage.ListOptions{})
		if err != nil {
			return err
		}
		if len(page.Items) != 1 {
			t.Fatalf("tokens namespace holds %d records, want 1", len(page.Items))
		}
		it := page.Items[0]
		if it.Key != want {
			t.Errorf("token record key %q, want hex SHA-256 of the token %q", it.Key, want)
		}
		var rec tokenRecord
		if err := decodeRecord(kr, nsTokens, it.Key, it.Value, &rec); err != nil {
			return err
		}
		if rec.Hash != want {
			t.Errorf("stored Hash %q, want %q", rec.Hash, want)
		}
		if !rec.Root || rec.Name != "root" || rec.Accessor == "" || rec.CreatedAt.IsZero() {
			t.Errorf("root token record = %+v", rec)
		}
		if bytes.Contains(it.Value, []byte(e.rootToken)) || bytes.Contains(it.Value, []byte(strings.TrimPrefix(e.rootToken, tokenPrefix))) {
			t.Error("the token record holds the token")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTamperedTokenRecord alters the stored root token record in several
// ways; each is reported as CodeRecordTampered, never accepted and never
// mistaken for an unknown token.
func TestTamperedTokenRecord(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	hash := hashToken(e.rootToken)
	var orig []byte
	if err := e.store.View(context.Background(), func(tx storage.Tx) error {
		it, err := tx.Get(nsTokens, hash)
		orig = it.Value
		return err
	}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, value []byte) {
		t.Helper()
		if err := e.store.Update(context.Background(), func(tx storage.Tx) error {
			_, err := tx.Put(nsTokens, key, value)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	flip := func(i int) []byte {
		v := bytes.Clone(orig)
		v[i] ^= 0x01
		return v
	}
	// The body with "root":true turned into "root":false, MAC unchanged.
	demoted := bytes.Replace(orig, []byte(`"root":true`), []byte(`"root":false`), 1)
	if bytes.Equal(demoted, orig) {
		t.Fatal(`record body has no "root":true`)
	}
	tests := []struct {
		name  string
		value []byte
	}{
		{"MAC altered", flip(1)},
		{"last MAC byte altered", flip(32)},
		{"body altered", flip(len(orig) - 2)},
		{"field changed", demoted},
		{"format byte changed", flip(0)},
		{"truncated", orig[:len(orig)-1]},
		{"MAC only", orig[:33]},
		{"empty", []byte{}},
	}
	for _, tt := range tests {
		put(hash, tt.value)
		id, err := e.svc.Authenticate(context.Background(), e.rootToken)
		wantCode(t, tt.name, err, CodeRecordTampered)
		if id != nil {
			t.Errorf("%s: authenticated as %+v", tt.name, id)
		}
	}

	// The genuine record, copied under the hash of another token, does not
	// grant that token root: the MAC binds the record to its key.
	other := tokenPrefix + "attacker-chosen-token"
	put(hashToken(other), orig)
	id, err := e.svc.Authenticate(context.Background(), other)
	wantCode(t, "root record copied to another token", err, CodeRecordTampered)
	if id != nil {
		t.Errorf("copied record authenticated %+v", id)
	}

	// Restoring the original record restores access.
	put(hash, orig)
	if _, err := e.svc.Authenticate(context.Background(), e.rootToken); err != nil {
		t.Errorf("Authenticate with the restored record: %v", err)
	}
}

// TestTokenExpiry: an expired token is refused, also when it was cached
// while still valid.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	e := newTestEnv(t, envConfig{now: clock})
	e.initAndUnseal(3, 2)

	if _, err := e.svc.CreateIdentity(e.ctx(), CreateIdentityRequest{Name: "app", Type: IdentityService}); err != nil {
		t.Fatal(err)
	}
	issued, err := e.svc.CreateToken(e.ctx(), CreateTokenRequest{Identity: "app", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	token := issued.Token
	id, err := e.svc.Authenticate(context.Background(), token)
	if err != nil || id.Root || id.IdentityName != "app" || id.Credential != issued.Accessor {
		t.Fatalf("Authenticate(valid app token) = %+v, %v", id, err)
	}
	// An identity without grants may do nothing.
	_, err = e.svc.CreateKey(requestCtx(id), CreateKeyRequest{Name: "denied"})
	wantCode(t, "CreateKey as non-root", err, CodeForbidden)

	now.Add(int64(time.Hour))
	_, err = e.svc.Authenticate(context.Background(), token)
	wantCode(t, "Authenticate(expired token)", err, CodeUnauthorized)
}
