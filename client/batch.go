package client

import (
	"context"
	"fmt"
	"net/http"
)

// MaxBatchItems is the largest batch the server accepts.
const MaxBatchItems = 1000

// BatchEncryptItem is one item of BatchEncrypt; it names its key.
type BatchEncryptItem struct {
	Key string `json:"key"`
	// Plaintext is at most 48 KiB; it may be empty (nil is sent as empty).
	Plaintext      []byte            `json:"plaintext"`
	AssociatedData []byte            `json:"associated_data,omitempty"`
	Context        map[string]string `json:"context,omitempty"`
}

// BatchDecryptItem is one item of BatchDecrypt. Key is optional: when empty
// the server finds the key from the ciphertext.
type BatchDecryptItem struct {
	Key            string            `json:"key,omitempty"`
	Ciphertext     string            `json:"ciphertext"`
	AssociatedData []byte            `json:"associated_data,omitempty"`
	Context        map[string]string `json:"context,omitempty"`
	// AllowCompromised permits decrypting with a compromised key or version
	// (the use is marked in the audit record).
	AllowCompromised bool `json:"allow_compromised,omitempty"`
}

// BatchRewrapItem is one item of BatchRewrap; it names its key.
type BatchRewrapItem struct {
	Key            string            `json:"key"`
	Ciphertext     string            `json:"ciphertext"`
	AssociatedData []byte            `json:"associated_data,omitempty"`
	Context        map[string]string `json:"context,omitempty"`
	// AllowCompromised permits decrypting with a compromised key or version
	// (the use is marked in the audit record).
	AllowCompromised bool `json:"allow_compromised,omitempty"`
}

// BatchResult is the outcome of one batch item: either Err is set, or the
// result fields are (Ciphertext for encrypt and rewrap, Plaintext for
// decrypt).
type BatchResult struct {
	KeyID      string
	KeyVersion int
	Ciphertext string
	Plaintext  []byte
	// Err is the item's failure; its StatusCode is 0 and its RequestID is
	// the batch request's.
	Err *Error
}

type batchResultWire struct {
	KeyID      string       `json:"key_id"`
	KeyVersion int          `json:"key_version"`
	Ciphertext string       `json:"ciphertext"`
	Plaintext  []byte       `json:"plaintext"`
	Error      *errorDetail `json:"error"`
}

// BatchEncrypt calls POST /v1/batch/encrypt. Items succeed or fail on their
// own: the error is non-nil only if the batch as a whole failed; otherwise
// there is one result per item, in order.
func (c *Client) BatchEncrypt(ctx context.Context, items []BatchEncryptItem) ([]BatchResult, error) {
	if items == nil {
		items = []BatchEncryptItem{}
	}
	for i := range items {
		if items[i].Plaintext == nil {
			items = cloneWithPlaintext(items)
			break
		}
	}
	return c.batch(ctx, "/v1/batch/encrypt", items, len(items))
}

// cloneWithPlaintext copies items, replacing nil plaintexts by empty ones
// (the API requires the field), without modifying the caller's slice.
func cloneWithPlaintext(items []BatchEncryptItem) []BatchEncryptItem {
	out := make([]BatchEncryptItem, len(items))
	copy(out, items)
	for i := range out {
		if out[i].Plaintext == nil {
			out[i].Plaintext = []byte{}
		}
	}
	return out
}

// BatchDecrypt calls POST /v1/batch/decrypt; see BatchEncrypt for how
// results and errors are reported.
func (c *Client) BatchDecrypt(ctx context.Context, items []BatchDecryptItem) ([]BatchResult, error) {
	if items == nil {
		items = []BatchDecryptItem{}
	}
	return c.batch(ctx, "/v1/batch/decrypt", items, len(items))
}

// BatchRewrap calls POST /v1/batch/rewrap; see BatchEncrypt for how results
// and errors are reported.
func (c *Client) BatchRewrap(ctx context.Context, items []BatchRewrapItem) ([]BatchResult, error) {
	if items == nil {
		items = []BatchRewrapItem{}
	}
	return c.batch(ctx, "/v1/batch/rewrap", items, len(items))
}

func (c *Client) batch(ctx context.Context, path string, items any, n int) ([]BatchResult, error) {
	body := struct {
		Items any `json:"items"`
	}{items}
	var out struct {
		Results []batchResultWire `json:"results"`
	}
	reqID, err := c.do(ctx, http.MethodPost, path, nil, true, body, &out)
	if err != nil {
		return nil, err
	}
	if len(out.Results) != n {
		return nil, fmt.Errorf("arca: POST %s (request id %s): got %d results for %d items", path, reqID, len(out.Results), n)
	}
	results := make([]BatchResult, n)
	for i, r := range out.Results {
		if r.Error != nil {
			results[i].Err = &Error{Code: r.Error.Code, Message: r.Error.Message, RequestID: reqID}
			continue
		}
		results[i] = BatchResult{KeyID: r.KeyID, KeyVersion: r.KeyVersion, Ciphertext: r.Ciphertext, Plaintext: r.Plaintext}
	}
	return results, nil
}
