package kms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage"
)

// Keyring rotation: RotateKeyring adds a keyring generation that seals
// every new blob; RewrapKeyring (run by the scheduler until nothing is
// left) moves the blobs of older generations to it. The generations are
// stored in the sys namespace, sealed by the anchor keyring key, so every
// node loads them (at unseal, on a change notification, and when it meets
// a blob of a generation it does not hold).

// Operation names of keyring rotation, in audit records.
const (
	OpRotateKeyring = "sys.rotate_keyring"
	OpRewrapKeyring = "sys.rewrap_keyring"
	OpKeyringStatus = "sys.keyring_status"
)

// keyringGenerationsKey holds the generations blob in nsSys.
const keyringGenerationsKey = "keyring_generations"

// KeyringGeneration describes one keyring generation and how many stored
// blobs it still seals.
type KeyringGeneration struct {
	Generation uint32
	CreatedAt  time.Time
	Current    bool
	Blobs      int
}

// KeyringStatus lists the keyring's generations, oldest first.
type KeyringStatus struct {
	Current     uint32
	Generations []KeyringGeneration
}

// loadGenerations loads the stored keyring generations into kr. A server
// never rotated has none; a stored blob that fails its integrity check
// fails the load (the server must not seal new data under a stale
// generation or read blobs it cannot authenticate).
func (s *Service) loadGenerations(ctx context.Context, kr *seal.Keyring) error {
	var blob []byte
	err := s.store.View(ctx, func(tx storage.Tx) error {
		it, err := tx.Get(nsSys, keyringGenerationsKey)
		if err == nil {
			blob = it.Value
		}
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return storageError("load the keyring generations", err)
	}
	if err := kr.LoadGenerations(blob); err != nil {
		return &Error{Code: CodeRecordTampered, Message: "the stored keyring generations failed their integrity check", Err: err}
	}
	return nil
}

// refreshGenerations reloads the generations into the keyring in use, if
// any (another node rotated it).
func (s *Service) refreshGenerations() {
	kr := s.keyring.Load()
	if kr == nil || !kr.Acquire() {
		return
	}
	defer kr.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.loadGenerations(ctx, kr); err != nil {
		s.log.Warn("reload the keyring generations", "error", err)
	}
}

// openSealed opens a blob sealed by the keyring. A blob of a generation the
// keyring does not hold yet (another node rotated it) makes it reload the
// stored generations once.
func (s *Service) openSealed(ctx context.Context, kr *seal.Keyring, blob, aad []byte) (*secret.Bytes, error) {
	pt, err := kr.Open(blob, aad)
	if errors.Is(err, seal.ErrUnknownGeneration) {
		if lerr := s.loadGenerations(ctx, kr); lerr != nil {
			return nil, lerr
		}
		pt, err = kr.Open(blob, aad)
	}
	return pt, err
}

// RotateKeyring makes a new keyring generation that seals everything
// written from now on; older generations keep opening what they sealed
// until the background rewrap has moved it. Needs sys:rekey (and its dual
// control, if configured).
func (s *Service) RotateKeyring(ctx context.Context) (res *KeyringStatus, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpRotateKeyring, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.SysRekey, access.Resource{}, nil); err != nil {
		return nil, err
	}
	if err := s.dualControl(ctx, kr, t, gated{action: access.SysRekey, op: OpRotateKeyring, summary: OpRotateKeyring, parts: []string{OpRotateKeyring}}); err != nil {
		return nil, err
	}
	// The rotation is prepared from the generations as stored, read in
	// the transaction that writes the new set: two rotations, on this node
	// or on two, cannot both write the same next generation (the second
	// one's compare-and-swap fails), so no generation's key is ever lost.
	s.rotateKeyringMu.Lock()
	defer s.rotateKeyringMu.Unlock()
	var rot *seal.Rotation
	err = s.update(ctx, OpRotateKeyring, t, func(tx storage.Tx) error {
		if rot != nil { // a retried transaction
			rot.Discard()
			rot = nil
		}
		var rev uint64
		it, err := tx.Get(nsSys, keyringGenerationsKey)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return err
		default:
			if err := kr.LoadGenerations(it.Value); err != nil {
				return &Error{Code: CodeRecordTampered, Message: "the stored keyring generations failed their integrity check", Err: err}
			}
			rev = it.Revision
		}
		if rot, err = kr.PrepareRotation(s.now()); err != nil {
			return internal("rotate the keyring", err)
		}
		t.resource = fmt.Sprint(rot.Generation)
		if rev == 0 {
			_, err = tx.Create(nsSys, keyringGenerationsKey, rot.Blob)
		} else {
			_, err = tx.CompareAndSwap(nsSys, keyringGenerationsKey, rot.Blob, rev)
		}
		return err
	})
	if err != nil && rot != nil {
		rot.Discard()
	}
	var ke *Error
	switch {
	case errors.As(err, &ke):
		return nil, ke
	case errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrExists):
		return nil, Errorf(CodeConflict, "the keyring was rotated concurrently; try again")
	case err != nil:
		return nil, storageError("store the keyring generations", err)
	}
	if err := kr.Install(rot); err != nil {
		// Stored but raced a reload here: load what was stored.
		if lerr := s.loadGenerations(ctx, kr); lerr != nil {
			return nil, lerr
		}
	}
	return s.keyringStatus(ctx, kr)
}

// KeyringStatus reports the keyring generations and how many stored blobs
// each still seals. Needs sys:rekey.
func (s *Service) KeyringStatus(ctx context.Context) (res *KeyringStatus, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyringStatus, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.SysRekey, access.Resource{}, nil); err != nil {
		return nil, err
	}
	return s.keyringStatus(ctx, kr)
}

func (s *Service) keyringStatus(ctx context.Context, kr *seal.Keyring) (*KeyringStatus, error) {
	counts := map[uint32]int{}
	err := s.store.View(ctx, func(tx storage.Tx) error {
		for _, k := range sealedKinds {
			err := eachItem(tx, k.ns, func(it storage.Item) error {
				// A record failing its check is refused where it is
				// used; it is not counted here.
				if gen, ok, err := k.generation(kr, it); err == nil && ok {
					counts[gen]++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, storageError("count sealed blobs", err)
	}
	st := &KeyringStatus{Current: kr.Current()}
	for _, g := range kr.Generations() {
		st.Generations = append(st.Generations, KeyringGeneration{Generation: g.Generation, CreatedAt: g.CreatedAt, Current: g.Current, Blobs: counts[g.Generation]})
	}
	return st, nil
}

// RewrapReport says what one rewrap pass did.
type RewrapReport struct {
	// Moved counts blobs re-sealed under the current generation.
	Moved int
	// Remaining counts blobs that could not be moved in this pass (changed
	// concurrently); the next pass takes them.
	Remaining int
}

// RewrapKeyring re-seals, under the current generation, every stored blob
// sealed by an older one, each in its own small transaction (so it never
// holds up requests), and audits the pass as the scheduler if it moved
// anything. The scheduler runs it until a pass leaves nothing behind.
func (s *Service) RewrapKeyring(ctx context.Context) (RewrapReport, error) {
	var rep RewrapReport
	kr, err := s.unsealed()
	if err != nil {
		return rep, err
	}
	defer kr.Release()
	if err := s.loadGenerations(ctx, kr); err != nil {
		return rep, err
	}
	cur := kr.Current()
	for _, k := range sealedKinds {
		var stale []string
		err := s.store.View(ctx, func(tx storage.Tx) error {
			return eachItem(tx, k.ns, func(it storage.Item) error {
				if gen, ok, err := k.generation(kr, it); err == nil && ok && gen != cur {
					stale = append(stale, it.Key)
				}
				return nil
			})
		})
		if err != nil {
			return rep, storageError("find blobs to rewrap", err)
		}
		for _, key := range stale {
			moved := false
			err := s.store.Update(ctx, func(tx storage.Tx) error {
				it, err := tx.Get(k.ns, key)
				if err != nil {
					return err
				}
				out, err := k.reseal(kr, it)
				if err != nil || out == nil {
					return err
				}
				_, err = tx.CompareAndSwap(k.ns, key, out, it.Revision)
				moved = err == nil
				return err
			})
			switch {
			case err == nil:
				if moved {
					rep.Moved++
				}
			case errors.Is(err, storage.ErrNotFound):
			case errors.Is(err, storage.ErrConflict):
				rep.Remaining++
			default:
				return rep, storageError("rewrap a sealed blob", err)
			}
		}
	}
	if rep.Moved > 0 {
		if err := s.finish(s.backgroundRequest(ctx), OpRewrapKeyring, &target{resource: fmt.Sprint(cur)}, nil); err != nil {
			return rep, err
		}
	}
	if rep.Remaining == 0 {
		s.rewrapped.Store(cur)
	}
	return rep, nil
}

// rewrapDue reports whether the keyring has generations whose blobs may
// not all have been moved yet.
func (s *Service) rewrapDue(kr *seal.Keyring) bool {
	return len(kr.Generations()) > 1 && s.rewrapped.Load() != kr.Current()
}

// eachItem calls fn for every item of ns, a page at a time.
func eachItem(tx storage.Tx, ns storage.Namespace, fn func(storage.Item) error) error {
	after := ""
	for {
		page, err := tx.List(ns, storage.ListOptions{After: after, Limit: storage.MaxListLimit})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if after = page.Next; after == "" {
			return nil
		}
	}
}

// sealedKind is a record type that holds a blob sealed by the keyring.
type sealedKind struct {
	ns storage.Namespace
	// generation verifies a stored record and reads its blob's generation;
	// ok is false if it holds no blob (a destroyed version).
	generation func(kr *seal.Keyring, it storage.Item) (gen uint32, ok bool, err error)
	// reseal returns the record with its blob sealed under the current
	// generation, or nil if it already is.
	reseal func(kr *seal.Keyring, it storage.Item) ([]byte, error)
}

// sealedKinds are every record type holding a sealed blob.
var sealedKinds = []sealedKind{
	sealedRecord(nsKeyVersions, func(r *versionRecord) (*[]byte, []byte) {
		return &r.Material, materialAAD(r.KeyID, r.Version, r.Purpose)
	}),
	sealedRecord(nsMFA, func(r *mfaRecord) (*[]byte, []byte) {
		return &r.Secret, []byte(mfaAAD + r.IdentityID)
	}),
	sealedRecord(nsImportTokens, func(r *importTokenRecord) (*[]byte, []byte) {
		return &r.PrivateKey, []byte(importTokenAAD + r.ID)
	}),
	sealedRecord(nsAccessKeys, func(r *accessKeyRecord) (*[]byte, []byte) {
		return &r.Secret, []byte(accessKeyAAD + r.ID)
	}),
}

// sealedRecord describes records of type R in ns whose field blob (with
// its AAD) is sealed by the keyring.
func sealedRecord[R any](ns storage.Namespace, blob func(*R) (*[]byte, []byte)) sealedKind {
	decode := func(kr *seal.Keyring, it storage.Item) (*R, error) {
		rec := new(R)
		return rec, decodeRecord(kr, ns, it.Key, it.Value, rec)
	}
	return sealedKind{
		ns: ns,
		generation: func(kr *seal.Keyring, it storage.Item) (uint32, bool, error) {
			rec, err := decode(kr, it)
			if err != nil {
				return 0, false, err
			}
			b, _ := blob(rec)
			gen, ok := seal.BlobGeneration(*b)
			return gen, ok, nil
		},
		reseal: func(kr *seal.Keyring, it storage.Item) ([]byte, error) {
			rec, err := decode(kr, it)
			if err != nil {
				return nil, err
			}
			b, aad := blob(rec)
			if gen, ok := seal.BlobGeneration(*b); !ok || gen == kr.Current() {
				return nil, nil
			}
			pt, err := kr.Open(*b, aad)
			if err != nil {
				return nil, errTampered(ns, it.Key)
			}
			defer pt.Wipe()
			if *b, err = kr.Seal(pt.Reveal(), aad); err != nil {
				return nil, err
			}
			return encodeRecord(kr, ns, it.Key, rec)
		},
	}
}
