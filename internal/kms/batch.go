package kms

import (
	"context"

	"github.com/google/uuid"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/seal"
)

// BatchResult is one item's outcome: exactly one of the result fields or Err
// is set.
type BatchResult struct {
	Ciphertext *CiphertextResult
	Plaintext  *PlaintextResult
	Err        *Error
}

// batchItem names what an item acts on, for authorising the batch: a key
// reference (name or id) and the item's encryption context.
type batchItem func(i int) (ref string, bctx map[string]string)

// batch runs fn for each of n items after the common checks, auditing the
// whole batch as one request. Access is decided for the whole batch first:
// if any item's key is denied to the caller, the batch is refused and no
// item runs. Otherwise items fail independently.
func (s *Service) batch(ctx context.Context, op string, n int, action access.Action, item batchItem, fn func(kr *seal.Keyring, i int, t *target) BatchResult) (res []BatchResult, err error) {
	t := &target{batchSize: n}
	defer func() {
		if err = s.finish(ctx, op, t, err); err != nil {
			for _, r := range res {
				if r.Plaintext != nil {
					r.Plaintext.Plaintext.Wipe()
				}
			}
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if n == 0 {
		return nil, Errorf(CodeInvalidArgument, "items must not be empty")
	}
	if n > MaxBatchItems {
		return nil, Errorf(CodeBatchTooLarge, "a batch holds at most %d items", MaxBatchItems)
	}
	for i := range n {
		ref, bctx := item(i)
		if ref == "" {
			continue // the item fails on its own (no key, bad ciphertext)
		}
		ck, err := s.resolveFor(ctx, kr, ref, t, action)
		if CodeOf(err) == CodeForbidden {
			return nil, err // a key (or alias) the caller may not name
		}
		if err != nil {
			continue // the item fails on its own (key_not_found)
		}
		if err := s.authorize(ctx, t, action, keyResource(ck.rec), bctx); err != nil {
			t.keyID = ck.rec.ID
			return nil, err
		}
	}
	res = make([]BatchResult, n)
	var first string
	same := true
	for i := range n {
		it := &target{}
		res[i] = fn(kr, i, it)
		t.compromisedUse = t.compromisedUse || it.compromisedUse
		if res[i].Err == nil {
			t.countItem(it, op != OpBatchDecrypt) // encryptions and rewraps make ciphertexts
		}
		if i == 0 {
			first = it.keyID
		} else if it.keyID != first {
			same = false
		}
	}
	if same {
		t.keyID = first
	}
	return res, nil
}

func itemResult(ct *CiphertextResult, pt *PlaintextResult, err error) BatchResult {
	if err != nil {
		return BatchResult{Err: AsError(err)}
	}
	return BatchResult{Ciphertext: ct, Plaintext: pt}
}

// BatchEncrypt encrypts each item independently.
func (s *Service) BatchEncrypt(ctx context.Context, items []EncryptRequest) ([]BatchResult, error) {
	item := func(i int) (string, map[string]string) { return items[i].Key, items[i].Binding.Context }
	return s.batch(ctx, OpBatchEncrypt, len(items), access.KeyEncrypt, item, func(kr *seal.Keyring, i int, t *target) BatchResult {
		ct, err := s.encrypt(ctx, kr, items[i], t, access.KeyEncrypt)
		return itemResult(ct, nil, err)
	})
}

// BatchDecrypt decrypts each item independently.
func (s *Service) BatchDecrypt(ctx context.Context, items []DecryptRequest) ([]BatchResult, error) {
	return s.batch(ctx, OpBatchDecrypt, len(items), access.KeyDecrypt, decryptItem(items), func(kr *seal.Keyring, i int, t *target) BatchResult {
		_, pt, err := s.decrypt(ctx, kr, items[i], t, access.KeyDecrypt)
		return itemResult(nil, pt, err)
	})
}

// BatchRewrap rewraps each item independently.
func (s *Service) BatchRewrap(ctx context.Context, items []DecryptRequest) ([]BatchResult, error) {
	return s.batch(ctx, OpBatchRewrap, len(items), access.KeyRewrap, decryptItem(items), func(kr *seal.Keyring, i int, t *target) BatchResult {
		ct, err := s.rewrap(ctx, kr, items[i], t)
		return itemResult(ct, nil, err)
	})
}

// decryptItem names the key of a decrypt or rewrap item: the key given, or
// the one its ciphertext names.
func decryptItem(items []DecryptRequest) batchItem {
	return func(i int) (string, map[string]string) {
		it := items[i]
		if it.Key != "" {
			return it.Key, it.Binding.Context
		}
		c, err := crypto.Parse(it.Ciphertext)
		if err != nil {
			return "", nil
		}
		return uuid.UUID(c.KeyID).String(), it.Binding.Context
	}
}
