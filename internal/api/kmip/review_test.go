package kmip

import (
	"bytes"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
)

// TestRefusalsChangeNothing: a batch item relying on the ID Placeholder
// after a Locate that found nothing, or after a failed item, does not act
// on an earlier item's object; a response too large still reports the key
// a Create made; a block cipher mode Arca lacks is refused before anything
// is encrypted; wrong-typed derivation inputs and oversized private keys
// are refused.
func TestRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-careful", nil, allKeyActions)
	c := e.dial(cert, version{2, 0})
	c.t = t
	id := c.createAES("careful-key")
	c.ok(ttlv.OperationActivate, uid(id))

	revokeNoUID := op{ttlv.OperationRevoke, []ttlv.Item{ttlv.Struct(ttlv.TagRevocationReason,
		ttlv.Enum(ttlv.TagRevocationReasonCode, ttlv.RevocationReasonCodeCessationOfOperation))}}
	cont := []ttlv.Item{ttlv.Enum(ttlv.TagBatchErrorContinuationOption, batchContinue)}
	for name, middle := range map[string]op{
		"locate finding nothing": {ttlv.OperationLocate, c.locateAttrs(nameAttr("no-such-key"))},
		"failed item":            {ttlv.OperationGet, []ttlv.Item{uid("5e0a8f3c-1111-4222-8333-944455556666")}},
	} {
		rs := results(t, c.roundTripHeader(cont, op{ttlv.OperationGetAttributes, []ttlv.Item{uid(id)}}, middle, revokeNoUID))
		if len(rs) != 3 || rs[2].reason != ttlv.ResultReasonMissingData {
			t.Errorf("%s: %+v", name, rs)
		}
	}
	if st, _ := attrMap(t, c.v, c.ok(ttlv.OperationGetAttributes, uid(id)))["State"].Enum(); ttlv.State(st) != ttlv.StateActive {
		t.Fatalf("the key was revoked through a stale placeholder: state %v", st)
	}

	// Too large: the Create's identifier survives; the Get's material not.
	small := []ttlv.Item{ttlv.Int(ttlv.TagMaximumResponseSize, 32)}
	create := op{ttlv.OperationCreate, []ttlv.Item{ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
		c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), intAttr("Cryptographic Length", 256), nameAttr("too-large"))}}
	rs := results(t, c.roundTripHeader(small, create, op{ttlv.OperationGetAttributes, nil}))
	if len(rs) != 2 || rs[0].status != ttlv.ResultStatusSuccess || rs[1].reason != ttlv.ResultReasonResponseTooLarge {
		t.Fatalf("a too-large response: %+v", rs)
	}
	if got := text(t, rs[0].payload, ttlv.TagUniqueIdentifier); got == "" {
		t.Fatal("the created key's identifier was dropped")
	}

	// Parameters the key cannot honour are refused before anything is
	// encrypted: CBC (the key does not matter), another algorithm than the
	// key's, another IV length (those the service checks on the key).
	before := len(e.auditRecords())
	for _, params := range []ttlv.Item{
		ttlv.Struct(ttlv.TagCryptographicParameters, ttlv.Enum(ttlv.TagBlockCipherMode, ttlv.BlockCipherModeCBC)),
		ttlv.Struct(ttlv.TagCryptographicParameters, ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmChaCha20Poly1305)),
		ttlv.Struct(ttlv.TagCryptographicParameters, ttlv.Int(ttlv.TagIVLength, 128)),
	} {
		c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationEncrypt, uid(id), params, ttlv.Bytes(ttlv.TagData, []byte("x")))
	}
	refused := 0
	for _, r := range e.auditRecords()[before:] {
		if r.Operation == kms.OpEncrypt && r.Outcome == audit.OutcomeAllowed {
			t.Errorf("a refused Encrypt is audited as done: %+v", r)
		}
		refused++
	}
	if refused != 3 {
		t.Errorf("%d audit records for 3 refused Encrypts", refused)
	}

	// A Salt that is not a Byte String would derive another key.
	derive := func(salt ttlv.Item) result {
		return c.do(ttlv.OperationDeriveKey, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey), uid(id),
			ttlv.Enum(ttlv.TagDerivationMethod, ttlv.DerivationMethodHKDF),
			ttlv.Struct(ttlv.TagDerivationParameters, ttlv.Bytes(ttlv.TagDerivationData, []byte("info")), salt),
			c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES), intAttr("Cryptographic Length", 256)))
	}
	if r := derive(ttlv.Text(ttlv.TagSalt, "salt")); r.reason != ttlv.ResultReasonInvalidField {
		t.Errorf("a text Salt: %+v", r)
	}

	// A private key far larger than any Arca holds is refused unparsed.
	huge := privateKeyObject(ttlv.KeyFormatTypePKCS1, append([]byte{0x30, 0x82, 0x40, 0x00}, bytes.Repeat([]byte{1}, 16<<10)...), 0, 0)
	start := time.Now()
	c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationRegister, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypePrivateKey), huge)
	t.Logf("oversized private key refused in %v", time.Since(start))
}

// TestHandshakesPerSource: connections that never finish their TLS
// handshake hold at most MaxHandshakesPerSource slots of one source, and
// are dropped after HandshakeTimeout; a real client then connects.
func TestHandshakesPerSource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MaxHandshakesPerSource: 2, HandshakeTimeout: time.Minute})
	cert := e.identity("kmip-patient", nil, allKeyActions)
	silent := make([]net.Conn, 3)
	for i := range silent {
		nc, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		silent[i] = nc
	}
	// One of the three (whichever the server counted last) is over the
	// limit and closed at once; the other two wait in their handshake.
	closed := make(chan bool, len(silent))
	for _, nc := range silent {
		go func() {
			_ = nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			_, err := nc.Read(make([]byte, 1))
			closed <- err != nil && !isTimeout(err)
		}()
	}
	n := 0
	for range silent {
		if <-closed {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of 3 silent handshakes from one source were dropped, want 1", n)
	}
	for _, nc := range silent {
		_ = nc.Close()
	}
	// Once they are gone, a real client connects.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: e.ca.pool, Certificates: []tls.Certificate{cert.tls}, MinVersion: tls.VersionTLS12})
		if err == nil {
			_ = conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a real client after the silent ones left: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHandshakeTimeout: a connection that does not complete its handshake
// within HandshakeTimeout is dropped.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{HandshakeTimeout: 200 * time.Millisecond})
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("a silent handshake outlived the handshake timeout: %v", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestHandshakeSource(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":            "127.0.0.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"::ffff:10.0.0.1":      "::ffff:10.0.0.1",
		"not an address":       "not an address",
	} {
		if got := handshakeSource(in); got != want {
			t.Errorf("handshakeSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMACWithAnotherAlgorithmIsRefusedFirst: a MAC naming another HMAC
// than the key's is refused before the MAC is computed, audited once.
func TestMACWithAnotherAlgorithmIsRefusedFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-macer", nil, allKeyActions)
	c := e.dial(cert, version{1, 4})
	c.t = t
	p := c.ok(ttlv.OperationCreate, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
		c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmHMACSHA256), intAttr("Cryptographic Length", 256)))
	id := text(t, p, ttlv.TagUniqueIdentifier)
	c.ok(ttlv.OperationActivate, uid(id))
	before := len(e.auditRecords())
	c.fail(ttlv.ResultReasonInvalidField, ttlv.OperationMAC, uid(id),
		ttlv.Struct(ttlv.TagCryptographicParameters, ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmHMACSHA512)),
		ttlv.Bytes(ttlv.TagData, []byte("data")))
	recs := e.auditRecords()[before:]
	if len(recs) != 1 || recs[0].Operation != kms.OpGenerateMAC || recs[0].Outcome == audit.OutcomeAllowed {
		t.Fatalf("audit of a refused MAC: %+v", recs)
	}
	c.ok(ttlv.OperationMAC, uid(id),
		ttlv.Struct(ttlv.TagCryptographicParameters, ttlv.Enum(ttlv.TagCryptographicAlgorithm, ttlv.CryptographicAlgorithmHMACSHA256)),
		ttlv.Bytes(ttlv.TagData, []byte("data")))
}

// TestGetInAFormatTheKeyLacks: a Get asking for a format the key has not
// is refused before any material is read: one audit record, not allowed.
func TestGetInAFormatTheKeyLacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-getter", nil, allKeyActions)
	c := e.dial(cert, version{2, 0})
	c.t = t
	id := c.createAES("get-format")
	c.ok(ttlv.OperationActivate, uid(id))
	before := len(e.auditRecords())
	c.fail(ttlv.ResultReasonKeyFormatTypeNotSupported, ttlv.OperationGet, uid(id), ttlv.Enum(ttlv.TagKeyFormatType, ttlv.KeyFormatTypePKCS8))
	recs := e.auditRecords()[before:]
	if len(recs) != 1 || recs[0].Operation != kms.OpKeyExport || recs[0].Outcome == audit.OutcomeAllowed {
		t.Fatalf("audit of a refused Get: %+v", recs)
	}
	c.ok(ttlv.OperationGet, uid(id), ttlv.Enum(ttlv.TagKeyFormatType, ttlv.KeyFormatTypeRaw))
}

// TestGetOfAKeyKMIPCannotEncode: a post-quantum private key has no KMIP
// encoding, so Get refuses it before any material is read.
func TestGetOfAKeyKMIPCannotEncode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	cert := e.identity("kmip-pq", nil, allKeyActions)
	k, err := e.svc.CreateKey(e.rootCtx, kms.CreateKeyRequest{Name: "pq", Algorithm: "ml-dsa-65", Exportable: true})
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(cert, version{2, 0})
	c.t = t
	before := len(e.auditRecords())
	c.fail(ttlv.ResultReasonKeyFormatTypeNotSupported, ttlv.OperationGet, uid(k.ID))
	recs := e.auditRecords()[before:]
	if len(recs) != 1 || recs[0].Operation != kms.OpKeyExport || recs[0].Outcome == audit.OutcomeAllowed {
		t.Fatalf("audit of a refused Get: %+v", recs)
	}
}
