package kmip

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/kms"
)

// version is a KMIP protocol version, taken from each request's header.
type version struct{ major, minor int32 }

func (v version) atLeast(major, minor int32) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

func (v version) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

// supportedVersions are the versions served, most preferred first, as
// DiscoverVersions reports them.
var supportedVersions = []version{{2, 0}, {1, 4}, {1, 3}, {1, 2}}

func (v version) supported() bool {
	for _, s := range supportedVersions {
		if s == v {
			return true
		}
	}
	return false
}

// Batch Error Continuation Option values (KMIP 1.x and 2.0).
const (
	batchContinue uint32 = 1
	batchStop     uint32 = 2
	batchUndo     uint32 = 3
)

// request is a decoded request message.
type request struct {
	version         version
	maxResponseSize int32
	onError         uint32
	items           []batchItem
}

// batchItem is one operation of a request.
type batchItem struct {
	op      ttlv.Operation
	id      []byte // Unique Batch Item ID, echoed in the response
	hasID   bool
	payload ttlv.Item
}

// response is an encoded response and what to wipe once it is sent.
type response struct {
	bytes []byte
	wipes []func()
}

// done zeroes the encoded response, which may hold key material or
// plaintext, and wipes the secrets it was built from.
func (r *response) done() {
	clear(r.bytes)
	for _, w := range r.wipes {
		w()
	}
}

// handleMessage answers one framed request. It returns the response to
// send (nil for none) and whether the connection may carry more requests.
func (s *Server) handleMessage(ctx context.Context, c *conn, cert *x509.Certificate, raw []byte) (*response, bool) {
	msg, err := ttlv.Decode(raw, ttlv.Limits{MaxSize: s.opts.MaxMessageSize})
	if err != nil {
		v, ok := peekVersion(raw)
		s.rejectMessage(ctx, c, cert, err)
		if !ok {
			s.log.Info("kmip: undecodable message without a readable header; connection closed", "source", c.source, "error", err)
			return nil, false
		}
		s.log.Info("kmip: malformed message", "source", c.source, "error", err)
		return s.messageFailure(v, ttlv.ResultReasonInvalidMessage, "malformed message: "+err.Error()), true
	}
	defer wipeItem(msg)
	req, v, err := parseRequest(msg)
	if err != nil {
		s.rejectMessage(ctx, c, cert, err)
		if v == (version{}) {
			s.log.Info("kmip: message without a readable request header; connection closed", "source", c.source, "error", err)
			return nil, false
		}
		return s.messageFailure(v, ttlv.ResultReasonInvalidMessage, err.Error()), true
	}

	// Authenticate once per message: the binding and the identity are read
	// from the store every time, so an unbinding applies to the next
	// message on an open connection.
	authReq := c.newRequest()
	id, authErr := s.svc.AuthenticateCertificate(kms.WithRequest(ctx, authReq), cert)

	var out []ttlv.Item
	resp := &response{}
	placeholder := ""
	for i, it := range req.items {
		kreq := authReq
		if i > 0 {
			kreq = c.newRequest()
		}
		kreq.Identity = id
		cl := &call{s: s, ctx: kms.WithRequest(ctx, kreq), v: req.version, req: kreq, placeholder: &placeholder, resp: resp}
		payload, err := cl.run(it, authErr)
		if err != nil {
			f := failureOf(err, req.version, kreq.ID)
			if kms.CodeOf(err) == kms.CodeInternal {
				s.log.Error("kmip: operation failed", "request_id", kreq.ID, "operation", it.op.String(), "error", err)
			}
			out = append(out, itemResponse(it, &f, nil))
			if req.onError != batchContinue {
				break
			}
			continue
		}
		out = append(out, itemResponse(it, nil, payload))
	}
	b, err := encodeResponse(req.version, out)
	if err == nil && req.maxResponseSize > 0 && len(b) > int(req.maxResponseSize) {
		// Too large: the results of items that only read are replaced by
		// Response Too Large. Items that changed something keep theirs
		// (they are small: identifiers), so the client learns what it did.
		clear(b)
		small := make([]ttlv.Item, len(out))
		for i, it := range req.items[:len(out)] {
			small[i] = out[i]
			if !changesState[it.op] {
				f := failure{reason: ttlv.ResultReasonResponseTooLarge, msg: fmt.Sprintf("the response is larger than the Maximum Response Size of %d bytes", req.maxResponseSize)}
				small[i] = itemResponse(it, &f, nil)
			}
		}
		b, err = encodeResponse(req.version, small)
	}
	if err != nil {
		resp.done()
		s.log.Error("kmip: encode response", "source", c.source, "error", err)
		return s.messageFailure(req.version, reasonOf(kms.CodeInternal, req.version), "internal error: the response could not be encoded"), true
	}
	resp.bytes = b
	return resp, true
}

// rejectMessage audits a message refused before any operation was
// identified, attributing it to the certificate's identity when there is
// one.
func (s *Server) rejectMessage(ctx context.Context, c *conn, cert *x509.Certificate, cause error) {
	req := c.newRequest()
	rctx := kms.WithRequest(ctx, req)
	if id, err := s.svc.AuthenticateCertificate(rctx, cert); err == nil {
		req.Identity = id
	}
	_ = s.svc.Reject(rctx, kms.OpInvalidRequest, kms.Errorf(kms.CodeInvalidArgument, "malformed KMIP message: %v", cause))
}

// messageFailure is the response to a message that cannot be processed
// at all: one failed batch item.
func (s *Server) messageFailure(v version, reason ttlv.ResultReason, msg string) *response {
	f := failure{reason: reason, msg: msg}
	b, err := encodeResponse(v, []ttlv.Item{itemResponse(batchItem{}, &f, nil)})
	if err != nil {
		// The failure message came from a decoder diagnostic and is ASCII;
		// this cannot happen, but never answer with nothing.
		s.log.Error("kmip: encode failure response", "error", err)
		return nil
	}
	return &response{bytes: b}
}

// changesState lists the operations whose results a too-large response
// keeps.
var changesState = map[ttlv.Operation]bool{
	ttlv.OperationCreate: true, ttlv.OperationCreateKeyPair: true, ttlv.OperationRegister: true,
	ttlv.OperationReKey: true, ttlv.OperationDeriveKey: true, ttlv.OperationActivate: true,
	ttlv.OperationRevoke: true, ttlv.OperationDestroy: true, ttlv.OperationAddAttribute: true,
	ttlv.OperationModifyAttribute: true, ttlv.OperationSetAttribute: true, ttlv.OperationDeleteAttribute: true,
}

func (c *conn) newRequest() *kms.Request {
	return kms.NewRequest("kmip", c.source, time.Now())
}

// peekVersion reads the protocol version of a message that does not
// decode as a whole, by decoding its first child (the request header) on
// its own.
func peekVersion(raw []byte) (version, bool) {
	if len(raw) < 2*ttlv.HeaderSize {
		return version{}, false
	}
	n := uint64(binary.BigEndian.Uint32(raw[ttlv.HeaderSize+4:]))
	end := uint64(2*ttlv.HeaderSize) + (n+7)&^7
	if end > uint64(len(raw)) {
		return version{}, false
	}
	hdr, err := ttlv.Decode(raw[ttlv.HeaderSize:end], ttlv.Limits{})
	if err != nil || hdr.Tag() != ttlv.TagRequestHeader {
		return version{}, false
	}
	return headerVersion(hdr)
}

func headerVersion(hdr ttlv.Item) (version, bool) {
	maj, ok1 := hdr.Find(ttlv.TagProtocolVersion, ttlv.TagProtocolVersionMajor)
	min, ok2 := hdr.Find(ttlv.TagProtocolVersion, ttlv.TagProtocolVersionMinor)
	if !ok1 || !ok2 {
		return version{}, false
	}
	a, ok1 := maj.Int()
	b, ok2 := min.Int()
	if !ok1 || !ok2 || a < 0 || b < 0 {
		return version{}, false
	}
	return version{a, b}, true
}

// parseRequest checks the message layer: a Request Message with a header
// and as many batch items as the header counts. It returns the version as
// soon as it is known, so that even a refused message is answered in the
// client's version.
func parseRequest(msg ttlv.Item) (*request, version, error) {
	if msg.Tag() != ttlv.TagRequestMessage {
		return nil, version{}, fmt.Errorf("message is a %s, not a RequestMessage", msg.Tag())
	}
	hdr, ok := msg.Find(ttlv.TagRequestHeader)
	if !ok || hdr.Type() != ttlv.TypeStructure {
		return nil, version{}, fmt.Errorf("request has no RequestHeader")
	}
	v, ok := headerVersion(hdr)
	if !ok {
		return nil, version{}, fmt.Errorf("request header has no valid ProtocolVersion")
	}
	req := &request{version: v, onError: batchStop}
	if it, ok := hdr.Find(ttlv.TagMaximumResponseSize); ok {
		n, ok := it.Int()
		if !ok || n <= 0 {
			return nil, v, fmt.Errorf("MaximumResponseSize must be a positive Integer")
		}
		req.maxResponseSize = n
	}
	if it, ok := hdr.Find(ttlv.TagBatchErrorContinuationOption); ok {
		o, ok := it.Enum()
		if !ok || o < batchContinue || o > batchUndo {
			return nil, v, fmt.Errorf("invalid BatchErrorContinuationOption")
		}
		req.onError = o
	}
	if it, ok := hdr.Find(ttlv.TagAsynchronousIndicator); ok {
		if async, ok := it.Bool(); ok && async {
			return nil, v, fmt.Errorf("asynchronous operations are not supported")
		}
	}
	countItem, ok := hdr.Find(ttlv.TagBatchCount)
	if !ok {
		return nil, v, fmt.Errorf("request header has no BatchCount")
	}
	count, ok := countItem.Int()
	items := msg.FindAll(ttlv.TagBatchItem)
	if !ok || count < 1 || int(count) != len(items) {
		return nil, v, fmt.Errorf("BatchCount %d does not match the %d batch items", count, len(items))
	}
	for _, c := range msg.Items() {
		if c.Tag() != ttlv.TagRequestHeader && c.Tag() != ttlv.TagBatchItem {
			return nil, v, fmt.Errorf("unexpected %s in RequestMessage", c.Tag())
		}
	}
	if req.onError == batchUndo && len(items) > 1 {
		return nil, v, fmt.Errorf("BatchErrorContinuationOption Undo is not supported: completed operations cannot be undone; use Stop or Continue")
	}
	for i, bi := range items {
		opItem, ok := bi.Find(ttlv.TagOperation)
		op, ok2 := opItem.Enum()
		if !ok || !ok2 {
			return nil, v, fmt.Errorf("batch item %d has no Operation", i+1)
		}
		it := batchItem{op: ttlv.Operation(op)}
		if idItem, ok := bi.Find(ttlv.TagUniqueBatchItemID); ok {
			if it.id, ok = idItem.Bytes(); !ok {
				return nil, v, fmt.Errorf("batch item %d: UniqueBatchItemID must be a ByteString", i+1)
			}
			it.hasID = true
		}
		if p, ok := bi.Find(ttlv.TagRequestPayload); ok {
			if p.Type() != ttlv.TypeStructure {
				return nil, v, fmt.Errorf("batch item %d: RequestPayload must be a Structure", i+1)
			}
			it.payload = p
		} else {
			it.payload = ttlv.Struct(ttlv.TagRequestPayload)
		}
		req.items = append(req.items, it)
	}
	return req, v, nil
}

// itemResponse builds a response batch item: success with payload, or the
// failure f.
func itemResponse(it batchItem, f *failure, payload []ttlv.Item) ttlv.Item {
	var kids []ttlv.Item
	if it.op != 0 {
		kids = append(kids, ttlv.Enum(ttlv.TagOperation, it.op))
	}
	if it.hasID {
		kids = append(kids, ttlv.Bytes(ttlv.TagUniqueBatchItemID, it.id))
	}
	if f != nil {
		kids = append(kids,
			ttlv.Enum(ttlv.TagResultStatus, ttlv.ResultStatusOperationFailed),
			ttlv.Enum(ttlv.TagResultReason, f.reason),
			ttlv.Text(ttlv.TagResultMessage, f.msg))
		return ttlv.Struct(ttlv.TagBatchItem, kids...)
	}
	kids = append(kids,
		ttlv.Enum(ttlv.TagResultStatus, ttlv.ResultStatusSuccess),
		ttlv.Struct(ttlv.TagResponsePayload, payload...))
	return ttlv.Struct(ttlv.TagBatchItem, kids...)
}

func encodeResponse(v version, items []ttlv.Item) ([]byte, error) {
	hdr := ttlv.Struct(ttlv.TagResponseHeader,
		ttlv.Struct(ttlv.TagProtocolVersion,
			ttlv.Int(ttlv.TagProtocolVersionMajor, v.major),
			ttlv.Int(ttlv.TagProtocolVersionMinor, v.minor)),
		ttlv.DateTime(ttlv.TagTimeStamp, time.Now()),
		ttlv.Int(ttlv.TagBatchCount, int32(len(items))))
	b, err := ttlv.Encode(ttlv.Struct(ttlv.TagResponseMessage, append([]ttlv.Item{hdr}, items...)...))
	if err != nil {
		return nil, fmt.Errorf("kmip: encode response: %w", err)
	}
	return b, nil
}

// wipeItem zeroes every Byte String in a decoded request (key material,
// plaintext, data to sign) once the request has been answered. Decoded
// items own their bytes, so this touches nothing else.
func wipeItem(it ttlv.Item) {
	if b, ok := it.Bytes(); ok {
		clear(b)
		return
	}
	for _, c := range it.Items() {
		wipeItem(c)
	}
}
