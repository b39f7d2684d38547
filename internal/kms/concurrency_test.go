package kms

import (
	"bytes"
	"slices"
	"sync"
	"testing"
)

// TestConcurrentRotationsAndEncryptions rotates one key from 16 goroutines
// while 8 others encrypt under it without pause. Every rotation must add
// exactly one version, and every ciphertext must decrypt afterwards.
func TestConcurrentRotationsAndEncryptions(t *testing.T) {
	t.Parallel()
	const (
		rotators   = 16
		rotations  = 5
		encrypters = 8
	)
	e := newTestEnv(t, envConfig{})
	e.initAndUnseal(3, 2)
	key := e.createKey("contended", "")

	type sample struct {
		plaintext  []byte
		ciphertext string
		version    uint32
	}
	stop := make(chan struct{})
	samples := make([][]sample, encrypters)
	var encWG sync.WaitGroup
	for g := range encrypters {
		encWG.Go(func() {
			for {
				pt := randomBytes(t, 40)
				ref := key.Name
				if len(samples[g])%2 == 1 {
					ref = key.ID
				}
				ct, err := e.svc.Encrypt(e.ctx(), EncryptRequest{Key: ref, Plaintext: pt})
				if err != nil {
					t.Errorf("encrypter %d: Encrypt: %v", g, err)
					return
				}
				samples[g] = append(samples[g], sample{pt, ct.Ciphertext, ct.KeyVersion})
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}

	got := make([][]uint32, rotators)
	var rotWG sync.WaitGroup
	for g := range rotators {
		rotWG.Go(func() {
			for range rotations {
				k, err := e.svc.RotateKey(e.ctx(), RotateRequest{Key: key.Name})
				if err != nil {
					t.Errorf("rotator %d: RotateKey: %v", g, err)
					return
				}
				got[g] = append(got[g], k.PrimaryVersion)
			}
		})
	}
	rotWG.Wait()
	close(stop)
	encWG.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Each rotation reported a distinct new version: together exactly 2..81.
	const last = 1 + rotators*rotations
	var reported []uint32
	for _, vs := range got {
		reported = append(reported, vs...)
	}
	slices.Sort(reported)
	for i, v := range reported {
		if v != uint32(i+2) {
			t.Fatalf("rotations reported versions %v, want each of 2..%d once", reported, last)
		}
	}

	k, err := e.svc.GetKey(e.ctx(), key.Name)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if k.PrimaryVersion != last {
		t.Errorf("primary version %d, want %d", k.PrimaryVersion, last)
	}

	// ListVersions, a few at a time, lists exactly 1..81 in order.
	var listed []uint32
	req := ListVersionsRequest{Key: key.ID, Limit: 7}
	for {
		page, err := e.svc.ListVersions(e.ctx(), req)
		if err != nil {
			t.Fatalf("ListVersions: %v", err)
		}
		for _, v := range page.Versions {
			listed = append(listed, v.Version)
		}
		if page.NextPageToken == "" {
			break
		}
		req.PageToken = page.NextPageToken
	}
	if len(listed) != last {
		t.Errorf("ListVersions listed %d versions, want %d: %v", len(listed), last, listed)
	}
	for i, v := range listed {
		if v != uint32(i+1) {
			t.Fatalf("ListVersions listed %v, want 1..%d in order without gaps or duplicates", listed, last)
		}
	}

	// Every ciphertext decrypts, by a fresh lookup of its version.
	n, versionsUsed := 0, map[uint32]bool{}
	for g, ss := range samples {
		if len(ss) == 0 {
			t.Errorf("encrypter %d produced no ciphertext", g)
		}
		for _, s := range ss {
			pt, err := e.svc.Decrypt(e.ctx(), DecryptRequest{Ciphertext: s.ciphertext})
			if err != nil {
				t.Fatalf("Decrypt(ciphertext of version %d): %v", s.version, err)
			}
			if pt.KeyVersion != s.version || !bytes.Equal(pt.Plaintext.Reveal(), s.plaintext) {
				t.Fatalf("ciphertext of version %d decrypted to other bytes (version %d)", s.version, pt.KeyVersion)
			}
			pt.Plaintext.Wipe()
			versionsUsed[s.version] = true
			n++
		}
	}
	t.Logf("%d ciphertexts under %d distinct versions decrypted", n, len(versionsUsed))
}
