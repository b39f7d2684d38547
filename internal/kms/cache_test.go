package kms

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestKeyCacheIsBounded uses 20 keys through a service that may cache 3:
// every round trip works, in any order, and the cache never grows past 3.
func TestKeyCacheIsBounded(t *testing.T) {
	t.Parallel()
	const (
		maxCached = 3
		keys      = 20
	)
	e := newTestEnv(t, envConfig{maxCachedKeys: maxCached})
	e.initAndUnseal(3, 2)

	checkBound := func(when string) {
		t.Helper()
		ids, names := cacheSize(e.svc)
		if ids > maxCached || names > maxCached {
			t.Fatalf("%s: cache holds %d keys and %d names, bound is %d", when, ids, names, maxCached)
		}
	}

	type sample struct {
		ref        string
		plaintext  []byte
		ciphertext string
	}
	var all []*Key
	for i := range keys {
		alg := "aes-256-gcm"
		if i%2 == 1 {
			alg = "chacha20-poly1305"
		}
		all = append(all, e.createKey(fmt.Sprintf("cached-%02d", i), alg))
		checkBound("after CreateKey")
	}
	// Give half the keys a second version, so decrypts need both.
	for _, k := range all[:keys/2] {
		if _, err := e.svc.RotateKey(e.ctx(), RotateRequest{Key: k.Name}); err != nil {
			t.Fatalf("RotateKey: %v", err)
		}
		checkBound("after RotateKey")
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var samples []sample
	for round := range 3 {
		for _, i := range rng.Perm(keys) {
			ref := all[i].Name
			if round%2 == 1 {
				ref = all[i].ID
			}
			pt := randomBytes(t, 24)
			ct, err := e.svc.Encrypt(e.ctx(), EncryptRequest{Key: ref, Plaintext: pt})
			if err != nil {
				t.Fatalf("Encrypt(%s): %v", ref, err)
			}
			if ct.KeyID != all[i].ID {
				t.Fatalf("Encrypt(%s) used key %s, want %s", ref, ct.KeyID, all[i].ID)
			}
			checkBound("after Encrypt")
			samples = append(samples, sample{ref, pt, ct.Ciphertext})
		}
	}
	// Decrypt in random order, with and without naming the key.
	for n, i := range rng.Perm(len(samples)) {
		s := samples[i]
		req := DecryptRequest{Ciphertext: s.ciphertext}
		if n%2 == 0 {
			req.Key = s.ref
		}
		pt, err := e.svc.Decrypt(e.ctx(), req)
		if err != nil {
			t.Fatalf("Decrypt(sample %d): %v", i, err)
		}
		if !bytes.Equal(pt.Plaintext.Reveal(), s.plaintext) {
			t.Fatalf("sample %d decrypted to other bytes", i)
		}
		pt.Plaintext.Wipe()
		checkBound("after Decrypt")
		if _, err := e.svc.GetKey(e.ctx(), all[rng.IntN(keys)].Name); err != nil {
			t.Fatalf("GetKey: %v", err)
		}
		checkBound("after GetKey")
	}

	// The same, from several goroutines, with a watcher checking the bound.
	stop := make(chan struct{})
	var watcher sync.WaitGroup
	var worst int
	watcher.Go(func() {
		for {
			ids, names := cacheSize(e.svc)
			worst = max(worst, ids, names)
			select {
			case <-stop:
				return
			default:
			}
		}
	})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 100 {
				s := samples[r.IntN(len(samples))]
				pt, err := e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: s.ciphertext})
				if err != nil {
					t.Errorf("concurrent Decrypt: %v", err)
					return
				}
				if !bytes.Equal(pt.Plaintext.Reveal(), s.plaintext) {
					t.Errorf("concurrent Decrypt returned other bytes")
					return
				}
				pt.Plaintext.Wipe()
			}
		})
	}
	wg.Wait()
	close(stop)
	watcher.Wait()
	if worst > maxCached {
		t.Errorf("cache held %d entries during concurrent decrypts, bound is %d", worst, maxCached)
	}
}
