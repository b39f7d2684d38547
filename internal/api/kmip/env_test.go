package kmip

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// kmipEnv is a KMIP server over a real kms.Service (bbolt store and audit
// file log in a private directory), a test PKI, and identities bound to
// client certificates. No mocks.
type kmipEnv struct {
	t        testing.TB
	dir      string
	svc      *kms.Service
	srv      *Server
	addr     string
	ca       *testCA
	rootCtx  context.Context
	auditLog string
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv starts a dev-initialised service and a KMIP server on
// 127.0.0.1:0, with opts applied on top of the defaults.
func newEnv(t testing.TB, opts Options) *kmipEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "arca.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	al, err := audit.OpenFile(filepath.Join(dir, "audit.log"), audit.FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kms.New(context.Background(), kms.Options{Store: st, Audit: al, Logger: quietLogger(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.InitDev(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	root, err := svc.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	e := &kmipEnv{t: t, dir: dir, svc: svc, ca: newTestCA(t), auditLog: filepath.Join(dir, "audit.log"),
		rootCtx: kms.WithRequest(context.Background(), &kms.Request{ID: "setup", Interface: "test", Identity: root})}

	serverCert := e.ca.issue(t, "127.0.0.1", true)
	opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{serverCert.tls}, ClientCAs: e.ca.pool}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	e.srv = NewServer(svc, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		svc.Close()
		_ = al.Close()
		_ = st.Close()
	})
	return e
}

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	der  []byte
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Arca KMIP test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, der: der}
}

// leaf is an issued certificate with its key.
type leaf struct {
	tls    tls.Certificate
	cert   *x509.Certificate
	keyDER []byte // PKCS#8
}

var serial atomic.Int64

func (ca *testCA) issue(t testing.TB, cn string, server bool) leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(100 + serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return leaf{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert: cert, keyDER: keyDER}
}

// writePEM writes the leaf's certificate and key as PEM files in dir and
// returns their paths.
func (l leaf) writePEM(t testing.TB, dir, name string) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writeFile(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.cert.Raw}))
	writeFile(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: l.keyDER}))
	return certPath, keyPath
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// allKeyActions lets an identity do everything KMIP can ask of keys. The
// built-in roles keep key custody and key use apart (separation of
// duties); a KMIP client that creates and uses its own keys gets an access
// policy instead.
var allKeyActions = access.Policy{Name: "kmip-client", Statements: []access.Statement{{
	Effect: access.Allow, Actions: []string{"key:*"}, Resources: []string{"key:*"},
}}}

// identity creates an identity bound to a new client certificate, with
// roles and attached access policies, and returns the certificate.
func (e *kmipEnv) identity(name string, roles []access.Binding, policies ...access.Policy) leaf {
	e.t.Helper()
	var names []string
	for _, p := range policies {
		if err := e.svc.PutAccessPolicy(e.rootCtx, p); err != nil {
			e.t.Fatalf("PutAccessPolicy(%s): %v", p.Name, err)
		}
		names = append(names, p.Name)
	}
	l := e.ca.issue(e.t, name, false)
	if _, err := e.svc.CreateIdentity(e.rootCtx, kms.CreateIdentityRequest{
		Name: name, Type: kms.IdentityService, Roles: roles, Policies: names,
		Certificates: []string{kms.CertFingerprint(l.cert)},
	}); err != nil {
		e.t.Fatalf("CreateIdentity(%s): %v", name, err)
	}
	return l
}

// identityID returns the id of a named identity.
func (e *kmipEnv) identityID(name string) string {
	e.t.Helper()
	info, err := e.svc.GetIdentity(e.rootCtx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.ID
}

// client is one KMIP connection.
type client struct {
	t    testing.TB
	conn *tls.Conn
	br   *bufio.Reader
	v    version
}

func (e *kmipEnv) dial(l leaf, v version) *client {
	e.t.Helper()
	conn, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: e.ca.pool, Certificates: []tls.Certificate{l.tls}, MinVersion: tls.VersionTLS12})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	return &client{t: e.t, conn: conn, br: bufio.NewReader(conn), v: v}
}

// op is one batch item of a request.
type op struct {
	op      ttlv.Operation
	payload []ttlv.Item
}

// roundTrip sends one request message made of ops and returns the decoded
// response.
func (c *client) roundTrip(ops ...op) ttlv.Item {
	c.t.Helper()
	return c.roundTripHeader(nil, ops...)
}

// roundTripHeader is roundTrip with extra request header fields.
func (c *client) roundTripHeader(extra []ttlv.Item, ops ...op) ttlv.Item {
	c.t.Helper()
	hdr := []ttlv.Item{ttlv.Struct(ttlv.TagProtocolVersion,
		ttlv.Int(ttlv.TagProtocolVersionMajor, c.v.major), ttlv.Int(ttlv.TagProtocolVersionMinor, c.v.minor))}
	hdr = append(hdr, extra...)
	hdr = append(hdr, ttlv.Int(ttlv.TagBatchCount, int32(len(ops))))
	items := []ttlv.Item{ttlv.Struct(ttlv.TagRequestHeader, hdr...)}
	for _, o := range ops {
		items = append(items, ttlv.Struct(ttlv.TagBatchItem,
			ttlv.Enum(ttlv.TagOperation, o.op), ttlv.Struct(ttlv.TagRequestPayload, o.payload...)))
	}
	b, err := ttlv.Encode(ttlv.Struct(ttlv.TagRequestMessage, items...))
	if err != nil {
		c.t.Fatal(err)
	}
	return c.sendRaw(b)
}

// sendRaw writes raw bytes and reads one response message.
func (c *client) sendRaw(b []byte) ttlv.Item {
	c.t.Helper()
	_ = c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	raw, err := ttlv.ReadMessage(c.br, 0)
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	resp, err := ttlv.Decode(raw, ttlv.Limits{})
	if err != nil {
		c.t.Fatalf("decode response: %v", err)
	}
	return resp
}

// result is one response batch item.
type result struct {
	status  ttlv.ResultStatus
	reason  ttlv.ResultReason
	message string
	payload ttlv.Item
}

func results(t testing.TB, resp ttlv.Item) []result {
	t.Helper()
	if resp.Tag() != ttlv.TagResponseMessage {
		t.Fatalf("response is a %s", resp.Tag())
	}
	var out []result
	for _, bi := range resp.FindAll(ttlv.TagBatchItem) {
		var r result
		if it, ok := bi.Find(ttlv.TagResultStatus); ok {
			v, _ := it.Enum()
			r.status = ttlv.ResultStatus(v)
		}
		if it, ok := bi.Find(ttlv.TagResultReason); ok {
			v, _ := it.Enum()
			r.reason = ttlv.ResultReason(v)
		}
		if it, ok := bi.Find(ttlv.TagResultMessage); ok {
			r.message, _ = it.Text()
		}
		r.payload, _ = bi.Find(ttlv.TagResponsePayload)
		out = append(out, r)
	}
	return out
}

// do sends one operation and returns its result.
func (c *client) do(o ttlv.Operation, payload ...ttlv.Item) result {
	c.t.Helper()
	rs := results(c.t, c.roundTrip(op{o, payload}))
	if len(rs) != 1 {
		c.t.Fatalf("%s: %d batch items in the response", o, len(rs))
	}
	return rs[0]
}

// ok sends one operation that must succeed and returns its payload.
func (c *client) ok(o ttlv.Operation, payload ...ttlv.Item) ttlv.Item {
	c.t.Helper()
	r := c.do(o, payload...)
	if r.status != ttlv.ResultStatusSuccess {
		c.t.Fatalf("%s (KMIP %s): %s %s: %s", o, c.v, r.status, r.reason, r.message)
	}
	return r.payload
}

// fail sends one operation that must fail with reason.
func (c *client) fail(reason ttlv.ResultReason, o ttlv.Operation, payload ...ttlv.Item) result {
	c.t.Helper()
	r := c.do(o, payload...)
	if r.status != ttlv.ResultStatusOperationFailed || r.reason != reason {
		c.t.Fatalf("%s (KMIP %s): %s %s (%s), want OperationFailed %s", o, c.v, r.status, r.reason, r.message, reason)
	}
	return r
}

func text(t testing.TB, it ttlv.Item, path ...ttlv.Tag) string {
	t.Helper()
	f, ok := it.Find(path...)
	s, ok2 := f.Text()
	if !ok || !ok2 {
		t.Fatalf("no text at %v in\n%s", path, it)
	}
	return s
}

func byteString(t testing.TB, it ttlv.Item, path ...ttlv.Tag) []byte {
	t.Helper()
	f, ok := it.Find(path...)
	b, ok2 := f.Bytes()
	if !ok || !ok2 {
		t.Fatalf("no bytes at %v in\n%s", path, it)
	}
	return b
}

func enum(t testing.TB, it ttlv.Item, path ...ttlv.Tag) uint32 {
	t.Helper()
	f, ok := it.Find(path...)
	v, ok2 := f.Enum()
	if !ok || !ok2 {
		t.Fatalf("no enumeration at %v in\n%s", path, it)
	}
	return v
}

// attrs builds the attributes of a Create-like request in the client's
// version: a TemplateAttribute (1.x) or an Attributes structure (2.0).
func (c *client) attrs(as ...outAttr) ttlv.Item {
	var kids []ttlv.Item
	for _, a := range as {
		kids = append(kids, a.encode(c.v))
	}
	if c.v.atLeast(2, 0) {
		return ttlv.Struct(ttlv.TagAttributes, kids...)
	}
	return ttlv.Struct(ttlv.TagTemplateAttribute, kids...)
}

func nameAttr(n string) outAttr {
	return outAttr{name: "Name", tag: ttlv.TagName, make: func(t ttlv.Tag) ttlv.Item {
		return ttlv.Struct(t, ttlv.Text(ttlv.TagNameValue, n), ttlv.Enum(ttlv.TagNameType, ttlv.NameTypeUninterpretedTextString))
	}}
}

func uid(s string) ttlv.Item { return ttlv.Text(ttlv.TagUniqueIdentifier, s) }

// createAES creates an AES-256 key named name and returns its id.
func (c *client) createAES(name string, extra ...outAttr) string {
	c.t.Helper()
	as := append([]outAttr{enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), intAttr("Cryptographic Length", 256)}, extra...)
	if name != "" {
		as = append(as, nameAttr(name))
	}
	p := c.ok(ttlv.OperationCreate, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey), c.attrs(as...))
	return text(c.t, p, ttlv.TagUniqueIdentifier)
}

// auditRecords reads the audit log file.
func (e *kmipEnv) auditRecords() []audit.Record {
	e.t.Helper()
	data, err := os.ReadFile(e.auditLog)
	if err != nil {
		e.t.Fatal(err)
	}
	var recs []audit.Record
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			e.t.Fatalf("audit line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}
