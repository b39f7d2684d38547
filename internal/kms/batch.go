package kms

import (
	"context"

	"github.com/arcakms/arca/internal/seal"
)

// BatchResult is one item's outcome: exactly one of the result fields or Err
// is set.
type BatchResult struct {
	Ciphertext *CiphertextResult
	Plaintext  *PlaintextResult
	Err        *Error
}

// batch runs fn for each of n items after the common checks, auditing the
// whole batch as one request. Items fail independently.
func (s *Service) batch(ctx context.Context, op string, n int, fn func(kr *seal.Keyring, i int, t *target) BatchResult) (res []BatchResult, err error) {
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
	res = make([]BatchResult, n)
	var first string
	same := true
	for i := range n {
		it := &target{}
		res[i] = fn(kr, i, it)
		t.compromisedUse = t.compromisedUse || it.compromisedUse
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
	return s.batch(ctx, OpBatchEncrypt, len(items), func(kr *seal.Keyring, i int, t *target) BatchResult {
		ct, err := s.encrypt(ctx, kr, items[i].Key, items[i].Plaintext, items[i].Binding, t)
		return itemResult(ct, nil, err)
	})
}

// BatchDecrypt decrypts each item independently.
func (s *Service) BatchDecrypt(ctx context.Context, items []DecryptRequest) ([]BatchResult, error) {
	return s.batch(ctx, OpBatchDecrypt, len(items), func(kr *seal.Keyring, i int, t *target) BatchResult {
		_, pt, err := s.decrypt(ctx, kr, items[i], t)
		return itemResult(nil, pt, err)
	})
}

// BatchRewrap rewraps each item independently.
func (s *Service) BatchRewrap(ctx context.Context, items []DecryptRequest) ([]BatchResult, error) {
	return s.batch(ctx, OpBatchRewrap, len(items), func(kr *seal.Keyring, i int, t *target) BatchResult {
		ct, err := s.rewrap(ctx, kr, items[i], t)
		return itemResult(ct, nil, err)
	})
}
