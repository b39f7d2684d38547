package seal

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestKeyringRotation(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	in, err := Initialize(3, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	kr := in.Keyring
	aad := []byte("record")
	old, err := kr.Seal([]byte("under the anchor"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := BlobGeneration(old); g != 1 || kr.Current() != 1 {
		t.Fatalf("before rotation: blob generation %d, current %d", g, kr.Current())
	}
	mac := kr.MAC([]byte("ns"), []byte("k"))

	rot, err := kr.PrepareRotation(now)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Current() != 1 {
		t.Fatal("prepare changed the keyring before install")
	}
	if err := kr.Install(rot); err != nil {
		t.Fatal(err)
	}
	fresh, err := kr.Seal([]byte("under generation 2"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := BlobGeneration(fresh); g != 2 || kr.Current() != 2 {
		t.Fatalf("after rotation: blob generation %d, current %d", g, kr.Current())
	}
	for _, b := range [][]byte{old, fresh} {
		if _, err := kr.Open(b, aad); err != nil {
			t.Fatalf("open after rotation: %v", err)
		}
	}
	if !kr.VerifyMAC(mac, []byte("ns"), []byte("k")) {
		t.Fatal("record MACs changed with the rotation")
	}
	if err := kr.Install(rot); err == nil {
		t.Fatal("installing the same rotation twice succeeded")
	}

	// Another node holding the same anchor (unsealed from the shares).
	other, err := Open(in.Config, in.Shares[:2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(fresh, aad); !errors.Is(err, ErrUnknownGeneration) {
		t.Fatalf("open of a newer generation before loading it: %v", err)
	}
	tampered := bytes.Clone(rot.Blob)
	tampered[len(tampered)-1] ^= 1
	if err := other.LoadGenerations(tampered); !errors.Is(err, ErrTampered) {
		t.Fatalf("tampered generations blob: %v", err)
	}
	if err := other.LoadGenerations(rot.Blob); err != nil {
		t.Fatal(err)
	}
	got, err := other.Open(fresh, aad)
	if err != nil || string(got.Reveal()) != "under generation 2" {
		t.Fatalf("open after loading: %v", err)
	}
	if other.Current() != 2 || len(other.Generations()) != 2 {
		t.Fatalf("loaded keyring: current %d, generations %+v", other.Current(), other.Generations())
	}

	// A third rotation prepared on the first node records all three.
	rot3, err := kr.PrepareRotation(now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Install(rot3); err != nil {
		t.Fatal(err)
	}
	if err := other.LoadGenerations(rot3.Blob); err != nil {
		t.Fatal(err)
	}
	gens := other.Generations()
	if len(gens) != 3 || !gens[2].Current || gens[2].Generation != 3 || !gens[2].CreatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("generations after a second rotation: %+v", gens)
	}
	// A stale blob never moves the current generation back.
	if err := other.LoadGenerations(rot.Blob); err != nil || other.Current() != 3 {
		t.Fatalf("stale blob: %v, current %d", err, other.Current())
	}
	// A blob sealed by another keyring's anchor does not load.
	stranger, err := Initialize(1, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := stranger.Keyring.LoadGenerations(rot.Blob); !errors.Is(err, ErrTampered) {
		t.Fatalf("another keyring's generations: %v", err)
	}
	kr.Retire()
	other.Retire()
}
