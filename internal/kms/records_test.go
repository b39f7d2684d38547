package kms

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// testKeyring returns a fresh unsealed keyring, without a service.
func testKeyring(t *testing.T) *seal.Keyring {
	t.Helper()
	in, err := seal.Initialize(1, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Keyring.Wipe)
	return in.Keyring
}

func TestDecodeRecord(t *testing.T) {
	t.Parallel()
	kr := testKeyring(t)
	want := nameIndex{ID: "0b6a5e5e-4a8c-4bb0-9d0e-2f6c1f7c9a11"}
	rec, err := encodeRecord(kr, nsKeyNames, "payments", want)
	if err != nil {
		t.Fatal(err)
	}
	if rec[0] != recordFormat || len(rec) <= 1+seal.MACSize {
		t.Fatalf("record layout: format %d, %d bytes", rec[0], len(rec))
	}
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(rec)) }
	// A record whose MAC is right but whose body is not JSON.
	notJSON := append([]byte{recordFormat}, kr.MAC([]byte(nsKeyNames), []byte("payments"), []byte("{"))...)
	notJSON = append(notJSON, '{')

	tests := []struct {
		name    string
		kr      *seal.Keyring
		ns      storage.Namespace
		key     string
		data    []byte
		tampers bool
	}{
		{"intact", kr, nsKeyNames, "payments", rec, false},
		{"moved to another key", kr, nsKeyNames, "billing", rec, true},
		{"moved to a key sharing a prefix", kr, nsKeyNames, "payments2", rec, true},
		{"moved to another namespace", kr, nsKeys, "payments", rec, true},
		{"moved to another namespace and key", kr, nsTokens, "billing", rec, true},
		{"namespace and key boundary shifted", kr, storage.Namespace("key_namesp"), "ayments", rec, true},
		{"opened with another keyring", testKeyring(t), nsKeyNames, "payments", rec, true},
		{"empty", kr, nsKeyNames, "payments", nil, true},
		{"format byte only", kr, nsKeyNames, "payments", rec[:1], true},
		{"truncated inside the MAC", kr, nsKeyNames, "payments", rec[:1+seal.MACSize-1], true},
		{"MAC without body", kr, nsKeyNames, "payments", rec[:1+seal.MACSize], true},
		{"truncated body", kr, nsKeyNames, "payments", rec[:len(rec)-1], true},
		{"extended body", kr, nsKeyNames, "payments", append(bytes.Clone(rec), ' '), true},
		{"format byte 0", kr, nsKeyNames, "payments", with(func(b []byte) []byte { b[0] = 0; return b }), true},
		{"format byte 2", kr, nsKeyNames, "payments", with(func(b []byte) []byte { b[0] = 2; return b }), true},
		{"MAC bit flipped", kr, nsKeyNames, "payments", with(func(b []byte) []byte { b[5] ^= 0x80; return b }), true},
		{"body bit flipped", kr, nsKeyNames, "payments", with(func(b []byte) []byte { b[len(b)-3] ^= 0x01; return b }), true},
		{"valid MAC over non-JSON", kr, nsKeyNames, "payments", notJSON, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got nameIndex
			err := decodeRecord(tt.kr, tt.ns, tt.key, tt.data, &got)
			if !tt.tampers {
				if err != nil || got != want {
					t.Fatalf("decodeRecord = %+v, %v; want %+v", got, err, want)
				}
				return
			}
			if CodeOf(err) != CodeRecordTampered || !errors.Is(err, seal.ErrTampered) {
				t.Fatalf("decodeRecord: %v, want %s wrapping seal.ErrTampered", err, CodeRecordTampered)
			}
			if got != (nameIndex{}) {
				t.Errorf("a rejected record was decoded into %+v", got)
			}
		})
	}
}

// TestMovedRecordsInStorage moves real records between keys in the store;
// the service refuses each with CodeRecordTampered.
func TestMovedRecordsInStorage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	a := e.createKey("alpha", "")
	b := e.createKey("beta", "")
	ctB, err := e.svc.Encrypt(e.ctx(), EncryptRequest{Key: b.ID, Plaintext: []byte("beta data")})
	if err != nil {
		t.Fatal(err)
	}
	get := func(ns storage.Namespace, key string) []byte {
		t.Helper()
		var v []byte
		if err := e.store.View(context.Background(), func(tx storage.Tx) error {
			it, err := tx.Get(ns, key)
			v = it.Value
			return err
		}); err != nil {
			t.Fatalf("get %s/%s: %v", ns, key, err)
		}
		return v
	}
	put := func(ns storage.Namespace, key string, v []byte) {
		t.Helper()
		if err := e.store.Update(context.Background(), func(tx storage.Tx) error {
			_, err := tx.Put(ns, key, v)
			return err
		}); err != nil {
			t.Fatalf("put %s/%s: %v", ns, key, err)
		}
	}
	// Each case alters storage, drops the caches, checks the call, restores.
	tests := []struct {
		name  string
		ns    storage.Namespace
		key   string
		value func() []byte
		call  func() error
	}{
		{
			"name index of alpha replaced by beta's", nsKeyNames, "alpha",
			func() []byte { return get(nsKeyNames, "beta") },
			func() error { _, err := e.svc.GetKey(e.ctx(), "alpha"); return err },
		},
		{
			"metadata of beta replaced by alpha's", nsKeys, b.ID,
			func() []byte { return get(nsKeys, a.ID) },
			func() error { _, err := e.svc.GetKey(e.ctx(), b.ID); return err },
		},
		{
			"version 1 of beta replaced by alpha's", nsKeyVersions, versionKey(b.ID, 1),
			func() []byte { return get(nsKeyVersions, versionKey(a.ID, 1)) },
			func() error { _, err := e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: ctB.Ciphertext}); return err },
		},
		{
			// The MAC is recomputed for the new place, as someone holding the
			// MAC key but not the material key could: the material's AEAD
			// binding still refuses it.
			"version 1 of beta replaced by alpha's, re-MAC'd", nsKeyVersions, versionKey(b.ID, 1),
			func() []byte {
				kr := e.svc.keyring.Load()
				var vr versionRecord
				if err := decodeRecord(kr, nsKeyVersions, versionKey(a.ID, 1), get(nsKeyVersions, versionKey(a.ID, 1)), &vr); err != nil {
					t.Fatal(err)
				}
				vr.KeyID = b.ID
				v, err := encodeRecord(kr, nsKeyVersions, versionKey(b.ID, 1), &vr)
				if err != nil {
					t.Fatal(err)
				}
				return v
			},
			func() error { _, err := e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: ctB.Ciphertext}); return err },
		},
	}
	for _, tt := range tests {
		orig := get(tt.ns, tt.key)
		put(tt.ns, tt.key, tt.value())
		e.svc.keys.reset()
		wantCode(t, tt.name, tt.call(), CodeRecordTampered)
		put(tt.ns, tt.key, orig)
		e.svc.keys.reset()
		if err := tt.call(); err != nil {
			t.Errorf("%s: after restoring the record: %v", tt.name, err)
		}
	}
}
