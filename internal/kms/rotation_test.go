package kms

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/lifecycle"
)

func ptr[T any](v T) *T { return &v }

func TestUsageBoundRotatesAtTheBoundUnderConcurrentLoad(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "busy", Policy: PolicyUpdate{UsageBound: ptr(uint64(1000))}}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 375 // 3000 encryptions
	var mu sync.Mutex
	perVersion := map[uint32]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				res, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "busy", Plaintext: []byte("x")})
				if err != nil {
					t.Error(err)
					return
				}
				c, err := crypto.Parse(res.Ciphertext)
				if err != nil || c.KeyVersion != res.KeyVersion {
					t.Errorf("ciphertext %v / %d", err, res.KeyVersion)
					return
				}
				mu.Lock()
				perVersion[c.KeyVersion]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for v, n := range perVersion {
		if n > 1000 {
			t.Fatalf("version %d did %d encryptions, over its bound of 1000", v, n)
		}
	}
	if perVersion[1] != 1000 || perVersion[2] != 1000 || perVersion[3] != 1000 || len(perVersion) != 3 {
		t.Fatalf("encryptions per version: %v, want 1000 each for versions 1-3", perVersion)
	}
	// The next encryption rotates to version 4.
	res, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "busy", Plaintext: []byte("x")})
	if err != nil || res.KeyVersion != 4 {
		t.Fatalf("after three exhausted versions: %+v %v", res, err)
	}
}

func TestUsageCountSurvivesRestartConservatively(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "k", Policy: PolicyUpdate{UsageBound: ptr(uint64(160))}}); err != nil {
		t.Fatal(err)
	}
	for range 15 { // less than one block of 10
		e.encrypt(t, "k", "x")
	}
	// Dropping the cache is what a restart does: the unused part of the
	// reserved blocks counts as used.
	e.svc.keys.reset()
	n := 0
	for {
		res, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "k", Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if res.KeyVersion != 1 {
			break
		}
		n++
	}
	if total := 15 + n; total > 160 || total < 150 {
		t.Fatalf("version 1 did %d encryptions across the restart, want between 150 and 160", total)
	}
}

func TestRotationPeriodAndTimedTransitions(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	start := e.clock.Now()
	_, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "periodic", Policy: PolicyUpdate{RotationPeriod: ptr(90 * 24 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "timed", Policy: PolicyUpdate{
		ActivateAt: ptr(start.Add(10 * 24 * time.Hour)), DeactivateAt: ptr(start.Add(100 * 24 * time.Hour)),
	}})
	if err != nil || k.State != lifecycle.PreActive {
		t.Fatalf("a key with a future activate_at starts pre-active: %+v %v", k, err)
	}
	run := func() DueReport {
		t.Helper()
		rep, err := e.svc.RunDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	e.clock.Advance(89 * 24 * time.Hour)
	if rep := run(); rep.Rotated != 0 || rep.Activated != 1 {
		t.Fatalf("day 89: %+v", rep)
	}
	if got, _ := e.svc.GetKey(e.ctx, "timed"); got.State != lifecycle.Active {
		t.Fatalf("timed key on day 89: %s", got.State)
	}
	e.clock.Advance(24 * time.Hour)
	if rep := run(); rep.Rotated != 1 {
		t.Fatalf("day 90: %+v", rep)
	}
	if rep := run(); rep.Rotated != 0 {
		t.Fatalf("a second pass rotated again: %+v", rep)
	}
	got, _ := e.svc.GetKey(e.ctx, "periodic")
	if got.PrimaryVersion != 2 || !got.Policy.PrimarySince.Equal(e.clock.Now()) {
		t.Fatalf("after scheduled rotation: %+v", got)
	}
	e.clock.Advance(10 * 24 * time.Hour)
	if rep := run(); rep.Deactivated != 1 {
		t.Fatalf("day 100: %+v", rep)
	}
	if got, _ := e.svc.GetKey(e.ctx, "timed"); got.State != lifecycle.Deactivated {
		t.Fatalf("timed key on day 100: %s", got.State)
	}
}

func TestEmergencyRotationAndMinDecryptionVersion(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	ct1 := e.encrypt(t, "k", "one")
	if _, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	ct2 := e.encrypt(t, "k", "two")
	k, err := e.svc.RotateKey(e.ctx, RotateRequest{Key: "k", CompromiseVersions: []uint32{1, 2}})
	if err != nil || k.PrimaryVersion != 3 {
		t.Fatalf("emergency rotation: %+v %v", k, err)
	}
	for _, ct := range []string{ct1, ct2} {
		_, err := e.decrypt(ct, false)
		lcWant(t, "compromised by emergency rotation", err, CodeKeyCompromised)
	}
	if got := e.encrypt(t, "k", "three"); got == "" {
		t.Fatal("no ciphertext under the new primary")
	}
	_, err = e.svc.RotateKey(e.ctx, RotateRequest{Key: "k", CompromiseVersions: []uint32{9}})
	lcWant(t, "compromise a version that does not exist", err, CodeInvalidArgument)
	if got, _ := e.svc.GetKey(e.ctx, "k"); got.PrimaryVersion != 3 {
		t.Fatalf("a refused emergency rotation rotated: %d", got.PrimaryVersion)
	}

	if _, err := e.svc.UpdateKeyPolicy(e.ctx, "k", PolicyUpdate{MinDecryptionVersion: ptr(uint32(3))}); err != nil {
		t.Fatal(err)
	}
	_, err = e.decrypt(ct2, true)
	lcWant(t, "below min_decryption_version", err, CodeVersionBelowMinimum)
	_, err = e.svc.UpdateKeyPolicy(e.ctx, "k", PolicyUpdate{MinDecryptionVersion: ptr(uint32(4))})
	lcWant(t, "min_decryption_version above primary", err, CodeInvalidArgument)
	_, err = e.svc.UpdateKeyPolicy(e.ctx, "k", PolicyUpdate{RotationPeriod: ptr(time.Minute)})
	lcWant(t, "rotation period too short", err, CodeInvalidArgument)
	_, err = e.svc.UpdateKeyPolicy(e.ctx, "k", PolicyUpdate{UsageBound: ptr(uint64(1) << 33)})
	lcWant(t, "usage bound above 2^32", err, CodeInvalidArgument)
}

func TestLoweredUsageBoundTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "k", Policy: PolicyUpdate{UsageBound: ptr(uint64(1000))}}); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		e.encrypt(t, "k", "x") // reserves a block of 62
	}
	if _, err := e.svc.UpdateKeyPolicy(e.ctx, "k", PolicyUpdate{UsageBound: ptr(uint64(40))}); err != nil {
		t.Fatal(err)
	}
	v1 := 30
	for range 20 {
		res, err := e.svc.Encrypt(e.ctx, EncryptRequest{Key: "k", Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if res.KeyVersion == 1 {
			v1++
		}
	}
	if v1 != 40 {
		t.Fatalf("version 1 did %d encryptions after its bound was lowered to 40", v1)
	}
	_, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "m", Policy: PolicyUpdate{MinDecryptionVersion: ptr(uint32(5))}})
	lcWant(t, "min_decryption_version on create", err, CodeInvalidArgument)
}
