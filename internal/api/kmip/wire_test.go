package kmip

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
)

func tlsClientConfig(e *kmipEnv, certs []leaf) *tls.Config {
	cfg := &tls.Config{RootCAs: e.ca.pool, MinVersion: tls.VersionTLS12}
	for _, l := range certs {
		cfg.Certificates = append(cfg.Certificates, l.tls)
	}
	return cfg
}

func dialTLS(addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return tls.DialWithDialer(d, "tcp", addr, cfg)
}

func TestBatchesAndPlaceholder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-app", nil, allKeyActions)
	c := e.dial(cert, version{2, 0})

	// Create, Activate and Encrypt in one message, the last two through
	// the ID placeholder.
	rs := results(t, c.roundTrip(
		op{ttlv.OperationCreate, []ttlv.Item{ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
			c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), nameAttr("batched"))}},
		op{ttlv.OperationActivate, nil},
		op{ttlv.OperationEncrypt, []ttlv.Item{ttlv.Bytes(ttlv.TagData, []byte("in a batch"))}},
	))
	if len(rs) != 3 {
		t.Fatalf("%d batch items", len(rs))
	}
	for i, r := range rs {
		if r.status != ttlv.ResultStatusSuccess {
			t.Fatalf("item %d: %s %s", i, r.reason, r.message)
		}
	}
	id := text(t, rs[0].payload, ttlv.TagUniqueIdentifier)
	if got := text(t, rs[2].payload, ttlv.TagUniqueIdentifier); got != id {
		t.Errorf("Encrypt used %s, want the placeholder %s", got, id)
	}

	// Stop (the default) ends the batch at the first failure; Continue
	// runs every item.
	bad := op{ttlv.OperationGet, []ttlv.Item{uid("5e0a8f3c-1111-4222-8333-944455556666")}}
	good := op{ttlv.OperationGetAttributes, []ttlv.Item{uid(id)}}
	if rs := results(t, c.roundTrip(bad, good)); len(rs) != 1 || rs[0].reason != ttlv.ResultReasonItemNotFound {
		t.Errorf("Stop: %+v", rs)
	}
	cont := []ttlv.Item{ttlv.Enum(ttlv.TagBatchErrorContinuationOption, batchContinue)}
	if rs := results(t, c.roundTripHeader(cont, bad, good)); len(rs) != 2 || rs[1].status != ttlv.ResultStatusSuccess {
		t.Errorf("Continue: %+v", rs)
	}
	undo := []ttlv.Item{ttlv.Enum(ttlv.TagBatchErrorContinuationOption, batchUndo)}
	if rs := results(t, c.roundTripHeader(undo, good, good)); len(rs) != 1 || rs[0].reason != ttlv.ResultReasonInvalidMessage {
		t.Errorf("Undo: %+v", rs)
	}
	// A response larger than the client's Maximum Response Size.
	small := []ttlv.Item{ttlv.Int(ttlv.TagMaximumResponseSize, 64)}
	if rs := results(t, c.roundTripHeader(small, good)); len(rs) != 1 || rs[0].reason != ttlv.ResultReasonResponseTooLarge {
		t.Errorf("Maximum Response Size: %+v", rs)
	}

	// Unique Batch Item IDs are echoed; the operation is named.
	msg := ttlv.Struct(ttlv.TagRequestMessage,
		ttlv.Struct(ttlv.TagRequestHeader, ttlv.Struct(ttlv.TagProtocolVersion,
			ttlv.Int(ttlv.TagProtocolVersionMajor, 1), ttlv.Int(ttlv.TagProtocolVersionMinor, 2)),
			ttlv.Int(ttlv.TagBatchCount, 1)),
		ttlv.Struct(ttlv.TagBatchItem, ttlv.Enum(ttlv.TagOperation, ttlv.OperationGetAttributes),
			ttlv.Bytes(ttlv.TagUniqueBatchItemID, []byte{7, 7}), ttlv.Struct(ttlv.TagRequestPayload, uid(id))))
	b, _ := ttlv.Encode(msg)
	resp := c.sendRaw(b)
	if got := byteString(t, resp, ttlv.TagBatchItem, ttlv.TagUniqueBatchItemID); !bytes.Equal(got, []byte{7, 7}) {
		t.Errorf("batch item id %x", got)
	}
	if ttlv.Operation(enum(t, resp, ttlv.TagBatchItem, ttlv.TagOperation)) != ttlv.OperationGetAttributes {
		t.Error("operation not echoed")
	}
	if v, _ := headerVersion(mustFind(t, resp, ttlv.TagResponseHeader)); v != (version{1, 2}) {
		t.Errorf("response version %s", v)
	}

	// Many requests on one connection.
	for i := range 50 {
		p := c.ok(ttlv.OperationEncrypt, uid(id), ttlv.Bytes(ttlv.TagData, []byte{byte(i)}))
		c.ok(ttlv.OperationDecrypt, uid(id), ttlv.Bytes(ttlv.TagData, byteString(t, p, ttlv.TagData)))
	}
}

func mustFind(t testing.TB, it ttlv.Item, path ...ttlv.Tag) ttlv.Item {
	t.Helper()
	f, ok := it.Find(path...)
	if !ok {
		t.Fatalf("no %v in\n%s", path, it)
	}
	return f
}

// validRequest is an encoded KMIP 1.4 Query request.
func validRequest(t testing.TB) []byte {
	b, err := ttlv.Encode(ttlv.Struct(ttlv.TagRequestMessage,
		ttlv.Struct(ttlv.TagRequestHeader, ttlv.Struct(ttlv.TagProtocolVersion,
			ttlv.Int(ttlv.TagProtocolVersionMajor, 1), ttlv.Int(ttlv.TagProtocolVersionMinor, 4)),
			ttlv.Int(ttlv.TagBatchCount, 1)),
		ttlv.Struct(ttlv.TagBatchItem, ttlv.Enum(ttlv.TagOperation, ttlv.OperationQuery),
			ttlv.Struct(ttlv.TagRequestPayload, ttlv.Enum(ttlv.TagQueryFunction, ttlv.QueryFunctionQueryServerInformation)))))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requestWith returns a well-framed request message whose single batch
// item holds body verbatim, after a valid 1.4 request header.
func requestWith(body []byte) []byte {
	hdr, _ := ttlv.Encode(ttlv.Struct(ttlv.TagRequestHeader, ttlv.Struct(ttlv.TagProtocolVersion,
		ttlv.Int(ttlv.TagProtocolVersionMajor, 1), ttlv.Int(ttlv.TagProtocolVersionMinor, 4)),
		ttlv.Int(ttlv.TagBatchCount, 1)))
	inner := append(hdr, body...)
	for len(inner)%8 != 0 {
		inner = append(inner, 0)
	}
	out := []byte{0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[4:], uint32(len(inner)))
	return append(out, inner...)
}

func TestMalformedInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{ReadTimeout: 2 * time.Second, MaxMessageSize: 64 << 10})
	cert := e.identity("kmip-app", nil, allKeyActions)

	// A healthy connection, used between the hostile ones, must keep working.
	healthy := e.dial(cert, version{1, 4})
	healthy.ok(ttlv.OperationQuery)

	deep := []byte{}
	for range 40 {
		deep = append(deep, 0x54, 0x00, 0x01, 0x01, 0, 0, 0, 0)
	}
	for i := 39; i >= 0; i-- { // fix each nested structure's length
		binary.BigEndian.PutUint32(deep[i*8+4:], uint32((39-i)*8))
	}
	batchItem := func(kids ...ttlv.Item) []byte {
		b, _ := ttlv.Encode(ttlv.Struct(ttlv.TagBatchItem, kids...))
		return b
	}
	queryItem := batchItem(ttlv.Enum(ttlv.TagOperation, ttlv.OperationQuery), ttlv.Struct(ttlv.TagRequestPayload))
	wrongLen := bytes.Clone(queryItem)
	binary.BigEndian.PutUint32(wrongLen[4:], binary.BigEndian.Uint32(wrongLen[4:])+8)
	unknownTag := batchItem(ttlv.Enum(ttlv.TagOperation, ttlv.OperationQuery), ttlv.Struct(ttlv.TagRequestPayload))
	unknownTag = append(unknownTag, 0x42, 0xFF, 0xFF, 0x07, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(unknownTag[4:], binary.BigEndian.Uint32(unknownTag[4:])+8)

	answered := []struct {
		name string
		msg  []byte
	}{
		{"inner length too long", requestWith(wrongLen)},
		{"unknown tag", requestWith(unknownTag)},
		{"deep nesting", requestWith(deep)},
		{"batch count mismatch", requestWith(append(bytes.Clone(queryItem), queryItem...))},
		{"batch item without operation", requestWith(batchItem(ttlv.Struct(ttlv.TagRequestPayload)))},
		{"operation of the wrong type", requestWith(batchItem(ttlv.Text(ttlv.TagOperation, "Query")))},
	}
	for _, tc := range answered {
		c := e.dial(cert, version{1, 4})
		rs := results(t, c.sendRaw(tc.msg))
		if len(rs) != 1 || rs[0].reason != ttlv.ResultReasonInvalidMessage {
			t.Errorf("%s: %+v, want Invalid Message", tc.name, rs)
		}
		// The stream is still in step: the next request is answered.
		if rs := results(t, c.sendRaw(validRequest(t))); len(rs) != 1 || rs[0].status != ttlv.ResultStatusSuccess {
			t.Errorf("%s: request after it: %+v", tc.name, rs)
		}
		healthy.ok(ttlv.OperationQuery)
	}

	huge := []byte{0x42, 0x00, 0x78, 0x01, 0x7F, 0xFF, 0xFF, 0xF8}
	closed := []struct {
		name string
		msg  []byte
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: kmip\r\n\r\n")},
		{"huge declared length", huge},
		{"not a structure", []byte{0x42, 0x00, 0x78, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0}},
		{"response instead of request", func() []byte {
			b, _ := ttlv.Encode(ttlv.Struct(ttlv.TagResponseMessage, ttlv.Int(ttlv.TagBatchCount, 1)))
			return b
		}()},
		{"no header", requestWith(nil)[:8]},
	}
	for _, tc := range closed {
		conn, err := dialTLS(e.addr, tlsClientConfig(e, []leaf{cert}))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		_, _ = conn.Write(tc.msg)
		n, err := io.ReadAll(conn)
		if err != nil && !isClosed(err) {
			t.Errorf("%s: %v after %v (read %d bytes)", tc.name, err, time.Since(start), len(n))
		}
		_ = conn.Close()
		healthy.ok(ttlv.OperationQuery)
	}

	// A message that stops half way is dropped after the read timeout,
	// without holding up anyone else.
	conn, err := dialTLS(e.addr, tlsClientConfig(e, []leaf{cert}))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write(validRequest(t)[:20])
	healthy.ok(ttlv.OperationQuery)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := conn.Read(make([]byte, 1)); err == nil || !isClosed(err) {
		t.Errorf("stalled request: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stalled request closed after %v", d)
	}
	_ = conn.Close()
}

func isClosed(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && !ne.Timeout())
}

func TestIdleConnectionClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{IdleTimeout: 300 * time.Millisecond})
	cert := e.identity("kmip-app", nil, allKeyActions)
	c := e.dial(cert, version{1, 2})
	c.ok(ttlv.OperationQuery)
	_ = c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := c.br.ReadByte(); !isClosed(err) {
		t.Fatalf("idle connection: %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("idle connection closed after %v", d)
	}
}

// TestCloseIsGraceful: Close returns promptly with idle clients connected,
// and new connections are refused afterwards.
func TestCloseIsGraceful(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-app", nil, allKeyActions)
	var wg sync.WaitGroup
	for range 4 {
		c := e.dial(cert, version{1, 4})
		c.ok(ttlv.OperationQuery)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = bufio.NewReader(c.conn).ReadByte()
		}()
	}
	start := time.Now()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if conn, err := dialTLS(e.addr, tlsClientConfig(e, []leaf{cert})); err == nil {
		_, err = conn.Read(make([]byte, 1))
		if err == nil {
			t.Error("connection accepted after Close")
		}
	}
}
