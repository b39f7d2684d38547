package rest

import (
	"context"
	"net/http"

	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/secret"
)

type batchEncryptItem struct {
	Key string `json:"key"`
	encryptRequest
}

type batchDecryptItem struct {
	Key string `json:"key"`
	decryptRequest
}

type batchRequest[T any] struct {
	Items []T `json:"items"`
}

// batchItemResult is one item's outcome: either its result fields or error.
type batchItemResult struct {
	KeyID      string       `json:"key_id,omitzero"`
	KeyVersion uint32       `json:"key_version,omitzero"`
	Ciphertext string       `json:"ciphertext,omitzero"`
	Plaintext  []byte       `json:"plaintext,omitzero"` // non-nil on decrypt success, even if empty
	Error      *errorDetail `json:"error,omitzero"`
}

type batchResponse struct {
	Results []batchItemResult `json:"results"`
}

func (r *batchResponse) wipe() {
	for i := range r.Results {
		secret.Zero(r.Results[i].Plaintext)
	}
}

func batchResultsOf(results []kms.BatchResult) *batchResponse {
	out := &batchResponse{Results: make([]batchItemResult, len(results))}
	for i, r := range results {
		switch {
		case r.Err != nil:
			e := r.Err
			if e.Code == kms.CodeInternal {
				e = &kms.Error{Code: kms.CodeInternal, Message: "internal error"}
			}
			out.Results[i].Error = &errorDetail{Code: e.Code, Message: e.Message}
		case r.Ciphertext != nil:
			out.Results[i] = batchItemResult{KeyID: r.Ciphertext.KeyID, KeyVersion: r.Ciphertext.KeyVersion, Ciphertext: r.Ciphertext.Ciphertext}
		case r.Plaintext != nil:
			pt := r.Plaintext.Plaintext.Reveal()
			if pt == nil {
				pt = []byte{}
			}
			out.Results[i] = batchItemResult{KeyID: r.Plaintext.KeyID, KeyVersion: r.Plaintext.KeyVersion, Plaintext: pt}
		}
	}
	return out
}

func (h *Handler) batchEncrypt(ctx context.Context, r *http.Request) (int, any, error) {
	var req batchRequest[batchEncryptItem]
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	items := make([]kms.EncryptRequest, len(req.Items))
	for i, it := range req.Items {
		if it.Plaintext == nil {
			return 0, nil, reject(kms.CodeInvalidArgument, "items[%d]: plaintext is required", i)
		}
		items[i] = kms.EncryptRequest{Key: it.Key, Plaintext: it.Plaintext, Binding: it.kms()}
	}
	res, err := h.svc.BatchEncrypt(ctx, items)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, batchResultsOf(res), nil
}

func (h *Handler) batchDecryptItems(r *http.Request) ([]kms.DecryptRequest, error) {
	var req batchRequest[batchDecryptItem]
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	items := make([]kms.DecryptRequest, len(req.Items))
	for i, it := range req.Items {
		if it.Ciphertext == "" {
			return nil, reject(kms.CodeInvalidArgument, "items[%d]: ciphertext is required", i)
		}
		items[i] = it.kmsRequest(it.Key)
	}
	return items, nil
}

func (h *Handler) batchDecrypt(ctx context.Context, r *http.Request) (int, any, error) {
	items, err := h.batchDecryptItems(r)
	if err != nil {
		return 0, nil, err
	}
	res, err := h.svc.BatchDecrypt(ctx, items)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, batchResultsOf(res), nil
}

func (h *Handler) batchRewrap(ctx context.Context, r *http.Request) (int, any, error) {
	items, err := h.batchDecryptItems(r)
	if err != nil {
		return 0, nil, err
	}
	res, err := h.svc.BatchRewrap(ctx, items)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, batchResultsOf(res), nil
}
