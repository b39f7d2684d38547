package transit

import (
	"context"
	gocrypto "crypto"
	"errors"
	"strings"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
)

// Arca keys are bound to one hash: an HMAC key to its algorithm's, a
// signing key to its curve's or size's (SHA-256 for RSA and P-256, SHA-384
// for P-384, SHA-512 for P-521, none for Ed25519 and ML-DSA, which sign
// messages). Vault lets each request pick the hash. Here, a request that
// names no hash uses the key's; a request that names one gets it only if
// it is the key's, otherwise a 400 (signing, HMAC) or valid:false
// (verification).

// hmacItem is one input of hmac/<name>.
type hmacItem struct {
	Input     []byte `json:"input"`
	Reference string `json:"reference"`
}

type hmacRequest struct {
	hmacItem
	Algorithm  string      `json:"algorithm"`
	KeyVersion flexInt     `json:"key_version"`
	BatchInput *[]hmacItem `json:"batch_input"`
	batchFields
}

// macResult is an HMAC, single or per item.
type macResult struct {
	HMAC      string  `json:"hmac,omitempty"`
	Reference *string `json:"reference,omitzero"`
	Error     string  `json:"error,omitempty"`
}

// hashOf picks the hash a request names: the path's, else the body's.
func hashOf(pathArg string, body ...string) (gocrypto.Hash, error) {
	if pathArg != "" {
		return parseHash(pathArg)
	}
	for _, b := range body {
		if b != "" {
			return parseHash(b)
		}
	}
	return 0, nil
}

// hmac serves hmac/<name>[/<algorithm>], single and batch. Arca computes
// HMACs with the key's primary version.
func (h *Handler) hmac(ctx context.Context, c *call) (*reply, error) {
	var req hmacRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.batchFields.validate(); err != nil {
		return nil, err
	}
	hash, err := hashOf(c.arg, req.Algorithm)
	if err != nil {
		return nil, err
	}
	if err := unsupportedIf(req.KeyVersion.set && req.KeyVersion.n != 0, "key_version", "Arca computes HMACs with the key's primary version only"); err != nil {
		return nil, err
	}
	items := []hmacItem{req.hmacItem}
	if req.BatchInput != nil {
		if err := singleFieldsAbsent(req.Input != nil || req.Reference != ""); err != nil {
			return nil, err
		}
		items = *req.BatchInput
	}
	inputs, err := inputsOf(len(items), func(i int) []byte { return items[i].Input }, req.BatchInput != nil)
	if err != nil {
		return nil, err
	}
	// An HMAC key is bound to its hash: the service checks the one asked
	// for on the key, before any HMAC is computed (and audited as done).
	// The refusal concerns the whole request (it is the same for every
	// item), so it ends a batch at the first item.
	accept := func(alg crypto.Algorithm) error {
		if hash != 0 && alg.Purpose() == crypto.PurposeMAC && alg.KeySize() != hash.Size() {
			return wholeRequest{kms.Errorf(kms.CodeInvalidArgument, "key %q is not bound to %s: omit the algorithm to use the key's own", c.name, hashName(hash))}
		}
		return nil
	}
	out := make([]macResult, len(items))
	failed, internal, err := loop(len(items), req.BatchInput != nil, func(i int) error {
		res, err := h.svc.GenerateMAC(ctx, kms.MACRequest{Key: c.name, Data: inputs[i], Accept: accept})
		if err != nil {
			return err
		}
		out[i].HMAC = versioned(res.KeyVersion, res.MAC)
		return nil
	}, func(i int, msg string) { out[i].Error = msg })
	if err != nil {
		return nil, err
	}
	if req.BatchInput == nil {
		return &reply{data: macResult{HMAC: out[0].HMAC}}, nil
	}
	for i := range out {
		out[i].Reference = &items[i].Reference
	}
	return batchReply(req.batchFields, failed, len(items), internal, out), nil
}

// inputsOf returns every item's input, checked before any runs, so that
// a missing input refuses the whole request.
func inputsOf(n int, input func(int) []byte, batch bool) ([][]byte, error) {
	if batch {
		if err := maxItems(n); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, n)
	for i := range n {
		if out[i] = input(i); out[i] == nil {
			w := ""
			if batch {
				w = itemAt(i)
			}
			return nil, reject(kms.CodeInvalidArgument, "%smissing input", w)
		}
	}
	return out, nil
}

// loop runs each item of an operation the service has no batch form of,
// each item one audited service call. Without batch_input, the one item's
// error is the request's. In a batch, an error that concerns the request
// rather than the item (denied, sealed, unknown key, audit unavailable,
// ...) ends the loop and fails the request; others become the item's
// error through fail.
func loop(n int, batch bool, run func(i int) error, fail func(i int, msg string)) (failed int, internal bool, err error) {
	for i := range n {
		err := run(i)
		if err == nil {
			continue
		}
		if !batch || requestLevel(err) {
			return 0, false, err
		}
		msg, in := itemError(kms.AsError(err))
		fail(i, msg)
		failed++
		internal = internal || in
	}
	return failed, internal, nil
}

// requestLevel reports errors that concern the whole request rather than
// one batch item.
func requestLevel(err error) bool {
	if errors.As(err, new(wholeRequest)) {
		return true
	}
	switch kms.CodeOf(err) {
	case kms.CodeForbidden, kms.CodeUnauthorized, kms.CodeApprovalRequired, kms.CodeSealed, kms.CodeNotInitialized,
		kms.CodeAuditUnavailable, kms.CodeUnavailable, kms.CodeStorageUnavailable, kms.CodeServiceShuttingDown,
		kms.CodeRateLimited, kms.CodeRequestTimeout, kms.CodeKeyNotFound:
		return true
	}
	return false
}

// wholeRequest marks a service refusal that concerns the whole request,
// not one batch item (the service has audited it).
type wholeRequest struct{ error }

func (w wholeRequest) Unwrap() error { return w.error }

// batchReply is batch_results with Vault's batch status.
func batchReply(b batchFields, failed, total int, internal bool, results any) *reply {
	return &reply{status: b.batchStatus(failed, total, internal), data: map[string]any{"batch_results": results}}
}

func hashName(h gocrypto.Hash) string {
	for name, x := range hashes {
		if x == h {
			return name
		}
	}
	return h.String()
}

// signOptions are the fields of sign and verify that choose how.
type signOptions struct {
	HashAlgorithm string `json:"hash_algorithm"`
	// Algorithm is Vault's older name of hash_algorithm.
	Algorithm           string    `json:"algorithm"`
	Prehashed           flexBool  `json:"prehashed"`
	SignatureAlgorithm  string    `json:"signature_algorithm"`
	MarshalingAlgorithm string    `json:"marshaling_algorithm"`
	SaltLength          flexValue `json:"salt_length"`
	KeyVersion          flexInt   `json:"key_version"`
}

// flexValue is a string or a number, kept as text.
type flexValue string

// UnmarshalJSON accepts a string or a number.
func (f *flexValue) UnmarshalJSON(b []byte) error {
	s := unquote(b)
	if s == "null" {
		s = ""
	}
	*f = flexValue(s)
	return nil
}

// signing is how to sign or verify: the hash the request names (0: the
// key's own), whether the input is already a digest, and the RSA padding.
type signing struct {
	hash      gocrypto.Hash
	prehashed bool
	padding   crypto.Padding
}

// parse validates the options against what Arca does: ASN.1 signatures,
// PSS salt as long as the hash, signing with the primary version only.
func (o *signOptions) parse(pathArg string, verifying bool) (signing, error) {
	s := signing{prehashed: bool(o.Prehashed)}
	var err error
	if s.hash, err = hashOf(pathArg, o.HashAlgorithm, o.Algorithm); err != nil {
		return s, err
	}
	switch strings.ToLower(o.SignatureAlgorithm) {
	case "":
	case "pss":
		s.padding = crypto.PaddingPSS
	case "pkcs1v15":
		s.padding = crypto.PaddingPKCS1v15
	default:
		return s, reject(kms.CodeInvalidArgument, "signature_algorithm must be pss or pkcs1v15")
	}
	if m := o.MarshalingAlgorithm; m != "" && m != "asn1" {
		return s, reject(kms.CodeInvalidArgument, "marshaling_algorithm must be asn1: Arca's ECDSA signatures are ASN.1 DER")
	}
	if sl := o.SaltLength; sl != "" && sl != "auto" && sl != "hash" {
		return s, reject(kms.CodeInvalidArgument, "salt_length must be auto or hash: Arca's PSS salt is as long as the hash")
	}
	if !verifying {
		if err := unsupportedIf(o.KeyVersion.set && o.KeyVersion.n != 0, "key_version", "Arca signs with the key's primary version only"); err != nil {
			return s, err
		}
	}
	return s, nil
}

// check refuses prehashed inputs that are not digests of the named hash.
func (s signing) check(inputs [][]byte) error {
	if !s.prehashed || s.hash == 0 {
		return nil
	}
	for i, in := range inputs {
		if len(in) != s.hash.Size() {
			return reject(kms.CodeInvalidArgument, "input %d is not a %s digest (%d bytes)", i, hashName(s.hash), s.hash.Size())
		}
	}
	return nil
}

// message is what to give the service for an input: the caller's digest
// when prehashed; the input's digest under the hash the request names,
// which the service takes only if it is the key's hash (a digest of
// another length is refused); otherwise the message itself, which the
// service hashes with the key's hash.
func (s signing) message(input []byte) ([]byte, crypto.MessageType) {
	switch {
	case s.prehashed:
		return input, crypto.MessageDigest
	case s.hash != 0:
		hh := s.hash.New()
		hh.Write(input)
		return hh.Sum(nil), crypto.MessageDigest
	}
	return input, crypto.MessageRaw
}

type signItem struct {
	Input     []byte `json:"input"`
	Context   []byte `json:"context"`
	Reference string `json:"reference"`
}

type signRequest struct {
	signItem
	signOptions
	BatchInput *[]signItem `json:"batch_input"`
	batchFields
}

// signResult is a signature, single or per item.
type signResult struct {
	Signature  string  `json:"signature,omitempty"`
	KeyVersion uint32  `json:"key_version,omitempty"`
	Reference  *string `json:"reference,omitzero"`
	Error      string  `json:"error,omitempty"`
}

// sign serves sign/<name>[/<hash_algorithm>], single and batch.
func (h *Handler) sign(ctx context.Context, c *call) (*reply, error) {
	var req signRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.batchFields.validate(); err != nil {
		return nil, err
	}
	how, err := req.parse(c.arg, false)
	if err != nil {
		return nil, err
	}
	items := []signItem{req.signItem}
	if req.BatchInput != nil {
		if err := singleFieldsAbsent(req.Input != nil || req.Context != nil || req.Reference != ""); err != nil {
			return nil, err
		}
		items = *req.BatchInput
	}
	for i := range items {
		if err := unsupportedIf(len(items[i].Context) > 0, "context", "Arca's signing keys are not derived"); err != nil {
			return nil, err
		}
	}
	inputs, err := inputsOf(len(items), func(i int) []byte { return items[i].Input }, req.BatchInput != nil)
	if err != nil {
		return nil, err
	}
	if err := how.check(inputs); err != nil {
		return nil, err
	}
	out := make([]signResult, len(items))
	failed, internal, err := loop(len(items), req.BatchInput != nil, func(i int) error {
		msg, mt := how.message(inputs[i])
		res, err := h.svc.Sign(ctx, kms.SignRequest{Key: c.name, Message: msg, MessageType: mt, Padding: how.padding})
		if err != nil {
			return err
		}
		out[i].Signature, out[i].KeyVersion = versioned(res.KeyVersion, res.Signature), res.KeyVersion
		return nil
	}, func(i int, msg string) { out[i].Error = msg })
	if err != nil {
		return nil, err
	}
	if req.BatchInput == nil {
		return &reply{data: signResult{Signature: out[0].Signature, KeyVersion: out[0].KeyVersion}}, nil
	}
	for i := range out {
		out[i].Reference = &items[i].Reference
	}
	return batchReply(req.batchFields, failed, len(items), internal, out), nil
}

type verifyItem struct {
	Input     []byte `json:"input"`
	Signature string `json:"signature"`
	HMAC      string `json:"hmac"`
	Context   []byte `json:"context"`
	Reference string `json:"reference"`
}

type verifyRequest struct {
	verifyItem
	signOptions
	BatchInput *[]verifyItem `json:"batch_input"`
	batchFields
}

// verifyResult says whether a signature or HMAC is valid, single or per
// item.
type verifyResult struct {
	Valid     bool    `json:"valid"`
	Reference *string `json:"reference,omitzero"`
	Error     string  `json:"error,omitempty"`
}

// verifyCheck is one parsed item: the version and bytes of its signature
// or HMAC.
type verifyCheck struct {
	mac     bool
	version uint32
	value   []byte
}

func (it *verifyItem) checkOf(w string) (verifyCheck, error) {
	if err := unsupportedIf(len(it.Context) > 0, w+"context", "Arca's signing and HMAC keys are not derived"); err != nil {
		return verifyCheck{}, err
	}
	what, text := "signature", it.Signature
	switch {
	case it.Signature != "" && it.HMAC != "":
		return verifyCheck{}, reject(kms.CodeInvalidArgument, "%sgive signature or hmac, not both", w)
	case it.HMAC != "":
		what, text = "hmac", it.HMAC
	case it.Signature == "":
		return verifyCheck{}, reject(kms.CodeInvalidArgument, "%smissing signature or hmac to verify", w)
	}
	v, b, err := parseVersioned(what, text)
	if err != nil {
		return verifyCheck{}, reject(kms.CodeInvalidArgument, "%s%s", w, err.Error())
	}
	return verifyCheck{mac: what == "hmac", version: v, value: b}, nil
}

// verify serves verify/<name>[/<hash_algorithm>] for signatures and HMACs,
// single and batch, with the version each value names.
func (h *Handler) verify(ctx context.Context, c *call) (*reply, error) {
	var req verifyRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.batchFields.validate(); err != nil {
		return nil, err
	}
	how, err := req.parse(c.arg, true)
	if err != nil {
		return nil, err
	}
	items := []verifyItem{req.verifyItem}
	batch := req.BatchInput != nil
	if batch {
		if err := singleFieldsAbsent(req.Input != nil || req.Signature != "" || req.HMAC != "" || req.Context != nil || req.Reference != ""); err != nil {
			return nil, err
		}
		items = *req.BatchInput
	}
	inputs, err := inputsOf(len(items), func(i int) []byte { return items[i].Input }, batch)
	if err != nil {
		return nil, err
	}
	checks := make([]verifyCheck, len(items))
	for i := range items {
		w := ""
		if batch {
			w = itemAt(i)
		}
		if checks[i], err = items[i].checkOf(w); err != nil {
			return nil, err
		}
		if checks[i].mac && how.prehashed {
			return nil, reject(kms.CodeInvalidArgument, "%sprehashed applies to signatures only", w)
		}
	}
	if err := how.check(inputs); err != nil {
		return nil, err
	}
	out := make([]verifyResult, len(items))
	failed, internal, err := loop(len(items), batch, func(i int) error {
		ch := checks[i]
		if ch.mac {
			res, err := h.svc.VerifyMAC(ctx, kms.VerifyMACRequest{Key: c.name, KeyVersion: ch.version, Data: inputs[i], MAC: ch.value})
			if err != nil {
				return err
			}
			// A MAC of another length than the named hash's is not
			// an HMAC under that hash, whatever the key's hash is.
			out[i].Valid = res.Valid && (how.hash == 0 || len(ch.value) == how.hash.Size())
			return nil
		}
		msg, mt := how.message(inputs[i])
		res, err := h.svc.Verify(ctx, kms.VerifyRequest{Key: c.name, KeyVersion: ch.version, Message: msg, MessageType: mt,
			Padding: how.padding, Signature: ch.value})
		if err != nil {
			return err
		}
		out[i].Valid = res.Valid
		return nil
	}, func(i int, msg string) { out[i].Error = msg })
	if err != nil {
		return nil, err
	}
	if !batch {
		return &reply{data: verifyResult{Valid: out[0].Valid}}, nil
	}
	for i := range out {
		out[i].Reference = &items[i].Reference
	}
	return batchReply(req.batchFields, failed, len(items), internal, out), nil
}
