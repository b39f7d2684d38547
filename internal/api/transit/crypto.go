package transit

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/secret"
)

// ContextKey is the encryption-context entry that carries Vault's
// context: a request's base64 context bytes become the Arca encryption
// context {ContextKey: <the same bytes, standard base64>}. The context is
// therefore bound to the ciphertext (it must be given again to decrypt),
// derives the subkey of a derived key, can be matched by access-policy
// conditions, and is recorded in audit records as an HMAC, never in clear.
const ContextKey = "vault_context"

// bindingOf maps Vault's context and associated_data to an Arca binding:
// the context as described at ContextKey, associated_data as the
// ciphertext's associated data.
func bindingOf(context, associatedData []byte) crypto.Binding {
	b := crypto.Binding{AssociatedData: associatedData}
	if len(context) > 0 {
		b.Context = map[string]string{ContextKey: base64.StdEncoding.EncodeToString(context)}
	}
	return b
}

// common are the fields of one encrypt, decrypt or rewrap item beyond its
// plaintext or ciphertext.
type common struct {
	Context        []byte `json:"context"`
	AssociatedData []byte `json:"associated_data"`
	// Nonce is Vault's convergent-encryption nonce, refused when set.
	Nonce string `json:"nonce"`
	// KeyVersion asks Vault to encrypt with an older version; Arca
	// encrypts with the primary version only, so only 0 (latest) is taken.
	KeyVersion flexInt `json:"key_version"`
	// Reference is echoed in the item's batch result.
	Reference string `json:"reference"`
}

func (c *common) validate(at string) (crypto.Binding, error) {
	if err := unsupportedIf(c.Nonce != "", at+"nonce", "Arca chooses nonces itself; for deterministic encryption use an aes-256-siv key"); err != nil {
		return crypto.Binding{}, err
	}
	if err := unsupportedIf(c.KeyVersion.set && c.KeyVersion.n != 0, at+"key_version", "Arca encrypts with the key's primary version only; omit key_version or send 0"); err != nil {
		return crypto.Binding{}, err
	}
	return bindingOf(c.Context, c.AssociatedData), nil
}

// batchFields are the fields every batch-capable request has.
type batchFields struct {
	// PartialFailureResponseCode replaces the 400 of a batch in which
	// some items failed and some succeeded.
	PartialFailureResponseCode flexInt `json:"partial_failure_response_code"`
}

// validate checks the fields before any item runs.
func (b batchFields) validate() error {
	_, err := b.PartialFailureResponseCode.uint32In("partial_failure_response_code", 200, 599)
	return err
}

// batchStatus is Vault's status of a batch: 400 if any item failed on its
// input (or the partial-failure code when some succeeded and one was
// given), 500 if an item failed internally, 200 otherwise.
func (b batchFields) batchStatus(failed, total int, internal bool) int {
	code := b.PartialFailureResponseCode
	switch {
	case internal:
		return http.StatusInternalServerError
	case failed == 0:
		return http.StatusOK
	case failed < total && code.set:
		return int(code.n)
	}
	return http.StatusBadRequest
}

// maxItems refuses a batch larger than the service takes, before decoding
// any item.
func maxItems(n int) error {
	if n == 0 {
		return reject(kms.CodeInvalidArgument, "batch_input must not be empty")
	}
	if n > kms.MaxBatchItems {
		return reject(kms.CodeBatchTooLarge, "batch_input holds at most %d items", kms.MaxBatchItems)
	}
	return nil
}

// itemError is one failed batch item's error text, and whether the
// failure was internal.
func itemError(e *kms.Error) (string, bool) {
	return itemMessage(e), e.Code == kms.CodeInternal || e.Code == kms.CodeRecordTampered
}

type encryptItem struct {
	Plaintext []byte `json:"plaintext"`
	common
}

type encryptRequest struct {
	encryptItem
	// Type and ConvergentEncryption describe the key Vault would create
	// on first use; Arca creates keys explicitly, so type is ignored and
	// convergent encryption refused.
	Type                 string         `json:"type"`
	ConvergentEncryption flexBool       `json:"convergent_encryption"`
	BatchInput           *[]encryptItem `json:"batch_input"`
	batchFields
}

// cipherResult is the result of an encrypt or rewrap, single or per item.
type cipherResult struct {
	Ciphertext string  `json:"ciphertext,omitempty"`
	KeyVersion uint32  `json:"key_version,omitempty"`
	Reference  *string `json:"reference,omitzero"`
	Error      string  `json:"error,omitempty"`
}

func (it *encryptItem) request(key, at string) (kms.EncryptRequest, error) {
	if it.Plaintext == nil {
		return kms.EncryptRequest{}, reject(kms.CodeInvalidArgument, "%smissing plaintext to encrypt", at)
	}
	b, err := it.validate(at)
	if err != nil {
		return kms.EncryptRequest{}, err
	}
	return kms.EncryptRequest{Key: key, Plaintext: it.Plaintext, Binding: b}, nil
}

// itemAt names a batch item in error messages.
func itemAt(i int) string { return "batch_input[" + strconv.Itoa(i) + "]: " }

// encrypt serves encrypt/<name>, single and batch.
func (h *Handler) encrypt(ctx context.Context, c *call) (*reply, error) {
	var req encryptRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.batchFields.validate(); err != nil {
		return nil, err
	}
	if err := unsupportedIf(bool(req.ConvergentEncryption), "convergent_encryption", "use an aes-256-siv key for deterministic encryption"); err != nil {
		return nil, err
	}
	if req.BatchInput == nil {
		one, err := req.request(c.name, "")
		if err != nil {
			return nil, err
		}
		res, err := h.svc.Encrypt(ctx, one)
		if err != nil {
			return nil, err
		}
		return cipherReply(res)
	}
	if err := singleFieldsAbsent(req.Plaintext != nil || req.Context != nil || req.AssociatedData != nil || req.Nonce != "" || req.KeyVersion.set || req.Reference != ""); err != nil {
		return nil, err
	}
	items := *req.BatchInput
	if err := maxItems(len(items)); err != nil {
		return nil, err
	}
	reqs := make([]kms.EncryptRequest, len(items))
	for i := range items {
		var err error
		if reqs[i], err = items[i].request(c.name, itemAt(i)); err != nil {
			return nil, err
		}
	}
	res, err := h.svc.BatchEncrypt(ctx, reqs)
	if err != nil {
		return nil, err
	}
	return cipherBatch(res, func(i int) string { return items[i].Reference }, req.batchFields)
}

// singleFieldsAbsent refuses a request that mixes batch_input with the
// fields of a single operation, which Vault would silently ignore.
func singleFieldsAbsent(set bool) error {
	if set {
		return reject(kms.CodeInvalidArgument, "batch_input excludes the single-item fields: put them in each item")
	}
	return nil
}

func cipherReply(res *kms.CiphertextResult) (*reply, error) {
	ct, err := toVaultCiphertext(res.Ciphertext)
	if err != nil {
		return nil, err
	}
	return &reply{data: cipherResult{Ciphertext: ct, KeyVersion: res.KeyVersion}}, nil
}

// cipherBatch turns a batch of ciphertext results into batch_results.
func cipherBatch(res []kms.BatchResult, ref func(int) string, b batchFields) (*reply, error) {
	out := make([]cipherResult, len(res))
	failed, internal := 0, false
	for i, r := range res {
		rf := ref(i)
		out[i].Reference = &rf
		if r.Err != nil {
			var in bool
			out[i].Error, in = itemError(r.Err)
			internal = internal || in
			failed++
			continue
		}
		ct, err := toVaultCiphertext(r.Ciphertext.Ciphertext)
		if err != nil {
			return nil, err
		}
		out[i].Ciphertext, out[i].KeyVersion = ct, r.Ciphertext.KeyVersion
	}
	return batchReply(b, failed, len(res), internal, out), nil
}

type decryptItem struct {
	Ciphertext string `json:"ciphertext"`
	common
}

type decryptRequest struct {
	decryptItem
	BatchInput *[]decryptItem `json:"batch_input"`
	batchFields
}

func (it *decryptItem) request(key, at string) (kms.DecryptRequest, error) {
	if it.Ciphertext == "" {
		return kms.DecryptRequest{}, reject(kms.CodeInvalidArgument, "%smissing ciphertext", at)
	}
	b, err := it.validate(at)
	if err != nil {
		return kms.DecryptRequest{}, err
	}
	ct, err := fromVaultCiphertext(it.Ciphertext)
	if err != nil {
		var re requestError
		if errors.As(err, &re) && at != "" {
			return kms.DecryptRequest{}, reject(re.err.Code, "%s%s", at, re.err.Message)
		}
		return kms.DecryptRequest{}, err
	}
	return kms.DecryptRequest{Key: key, Ciphertext: ct, Binding: b}, nil
}

func (req *decryptRequest) items(key string) ([]kms.DecryptRequest, error) {
	if err := singleFieldsAbsent(req.Ciphertext != "" || req.Context != nil || req.AssociatedData != nil || req.Nonce != "" || req.KeyVersion.set || req.Reference != ""); err != nil {
		return nil, err
	}
	items := *req.BatchInput
	if err := maxItems(len(items)); err != nil {
		return nil, err
	}
	reqs := make([]kms.DecryptRequest, len(items))
	for i := range items {
		var err error
		if reqs[i], err = items[i].request(key, itemAt(i)); err != nil {
			return nil, err
		}
	}
	return reqs, nil
}

// plainResult is the result of a decrypt, single or per item. Plaintext
// is wiped once the response is written.
type plainResult struct {
	Plaintext []byte  `json:"plaintext,omitzero"`
	Reference *string `json:"reference,omitzero"`
	Error     string  `json:"error,omitempty"`
}

// decrypt serves decrypt/<name>, single and batch.
func (h *Handler) decrypt(ctx context.Context, c *call) (*reply, error) {
	var req decryptRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.batchFields.validate(); err != nil {
		return nil, err
	}
	if req.BatchInput == nil {
		one, err := req.request(c.name, "")
		if err != nil {
			return nil, err
		}
		res, err := h.svc.Decrypt(ctx, one)
		if err != nil {
			return nil, err
		}
		pt := nonNil(res.Plaintext.Reveal())
		return &reply{data: plainResult{Plaintext: pt}, wipe: func() { secret.Zero(pt) }}, nil
	}
	reqs, err := req.items(c.name)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.BatchDecrypt(ctx, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]plainResult, len(res))
	wipe := func() {
		for i := range out {
			secret.Zero(out[i].Plaintext)
		}
	}
	failed, internal := 0, false
	for i, r := range res {
		ref := (*req.BatchInput)[i].Reference
		out[i].Reference = &ref
		if r.Err != nil {
			var in bool
			out[i].Error, in = itemError(r.Err)
			internal = internal || in
			failed++
			continue
		}
		out[i].Plaintext = nonNil(r.Plaintext.Plaintext.Reveal())
	}
	return &reply{status: req.batchStatus(failed, len(res), internal), data: map[string]any{"batch_results": out}, wipe: wipe}, nil
}

// nonNil makes an empty plaintext encode as "" rather than be omitted.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// rewrap serves rewrap/<name>, single and batch: the ciphertext is
// decrypted and encrypted again under the key's primary version by the
// service, without the plaintext leaving it.
func (h *Handler) rewrap(ctx context.Context, c *call) (*reply, error) {
	var req decryptRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.batchFields.validate(); err != nil {
		return nil, err
	}
	if req.BatchInput == nil {
		one, err := req.request(c.name, "")
		if err != nil {
			return nil, err
		}
		res, err := h.svc.Rewrap(ctx, one)
		if err != nil {
			return nil, err
		}
		return cipherReply(res)
	}
	reqs, err := req.items(c.name)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.BatchRewrap(ctx, reqs)
	if err != nil {
		return nil, err
	}
	return cipherBatch(res, func(i int) string { return (*req.BatchInput)[i].Reference }, req.batchFields)
}

type dataKeyRequest struct {
	Context        []byte  `json:"context"`
	AssociatedData []byte  `json:"associated_data"`
	Nonce          string  `json:"nonce"`
	Bits           flexInt `json:"bits"`
	KeyVersion     flexInt `json:"key_version"`
}

// dataKeyResult is a data key: always wrapped, in plaintext only for
// datakey/plaintext (wiped once the response is written).
type dataKeyResult struct {
	Ciphertext string `json:"ciphertext"`
	KeyVersion uint32 `json:"key_version"`
	Plaintext  []byte `json:"plaintext,omitzero"`
}

// dataKey serves datakey/plaintext/<name> and datakey/wrapped/<name>.
// bits defaults to 256; the service decides which sizes it generates.
func (h *Handler) dataKey(withPlaintext bool) func(context.Context, *call) (*reply, error) {
	return func(ctx context.Context, c *call) (*reply, error) {
		var req dataKeyRequest
		if err := c.decode(&req); err != nil {
			return nil, err
		}
		cm := common{Context: req.Context, AssociatedData: req.AssociatedData, Nonce: req.Nonce, KeyVersion: req.KeyVersion}
		b, err := cm.validate("")
		if err != nil {
			return nil, err
		}
		bits, err := req.Bits.uint32In("bits", 1, 1<<16)
		if err != nil {
			return nil, err
		}
		res, err := h.svc.GenerateDataKey(ctx, kms.DataKeyRequest{Key: c.name, Bits: int(bits), WithoutPlaintext: !withPlaintext, Binding: b})
		if err != nil {
			return nil, err
		}
		out := dataKeyResult{KeyVersion: res.KeyVersion}
		var pt []byte
		if res.Plaintext != nil {
			pt = res.Plaintext.Reveal()
			out.Plaintext = pt
		}
		wipe := func() { secret.Zero(pt) }
		if out.Ciphertext, err = toVaultCiphertext(res.Ciphertext); err != nil {
			wipe()
			return nil, err
		}
		return &reply{data: out, wipe: wipe}, nil
	}
}

type randomRequest struct {
	Bytes  flexInt `json:"bytes"`
	Format string  `json:"format"`
	Source string  `json:"source"`
}

// random serves random[/<bytes>], random/<source> and
// random/<source>/<bytes>. Arca's randomness is crypto/rand, Vault's
// "platform" source; "all" and "seal" are refused.
func (h *Handler) random(ctx context.Context, c *call) (*reply, error) {
	var req randomRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	count, source := req.Bytes, req.Source
	switch {
	case c.sub != "": // random/<source>/<bytes>
		source = c.sub
		if err := count.parse(c.arg); err != nil {
			return nil, reject(kms.CodeInvalidArgument, "the byte count in the path must be an integer")
		}
	case c.arg != "": // random/<bytes> or random/<source>
		var n flexInt
		if err := n.parse(c.arg); err == nil {
			count = n
		} else {
			source = c.arg
		}
	}
	if source != "" && source != "platform" {
		return nil, reject(kms.CodeInvalidArgument, "source must be platform: Arca's random bytes come from the operating system (crypto/rand)")
	}
	if !count.set {
		count = flexInt{n: 32, set: true}
	}
	n, err := count.uint32In("bytes", 1, kms.MaxRandomBytes)
	if err != nil {
		return nil, err
	}
	format := req.Format
	if format != "" && format != "base64" && format != "hex" {
		return nil, reject(kms.CodeInvalidArgument, "format must be base64 or hex")
	}
	b, err := h.svc.Random(ctx, int(n))
	if err != nil {
		return nil, err
	}
	text := base64.StdEncoding.EncodeToString(b)
	if format == "hex" {
		text = hex.EncodeToString(b)
	}
	return &reply{data: map[string]string{"random_bytes": text}}, nil
}
