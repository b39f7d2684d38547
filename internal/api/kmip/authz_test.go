package kmip

import (
	"context"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
)

// TestSameDecisionAsREST: an identity allowed to encrypt with key A but
// not key B gets the same decisions through KMIP as through the service
// calls the REST adapter makes, and the audit records of both carry the
// same operation, identity, key and outcome; only the interface differs.
func TestSameDecisionAsREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	var keyIDs []string
	for _, name := range []string{"orders-a", "ledger-b"} {
		k, err := e.svc.CreateKey(e.rootCtx, kms.CreateKeyRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		keyIDs = append(keyIDs, k.ID)
	}
	cert := e.identity("orders-api", []access.Binding{{Role: access.RoleCryptoUser, Scope: []string{"key:orders-*"}}})
	idID := e.identityID("orders-api")

	// Through KMIP.
	c := e.dial(cert, version{1, 4})
	c.ok(ttlv.OperationEncrypt, uid(keyIDs[0]), ttlv.Bytes(ttlv.TagData, []byte("allowed")))
	c.fail(ttlv.ResultReasonPermissionDenied, ttlv.OperationEncrypt, uid(keyIDs[1]), ttlv.Bytes(ttlv.TagData, []byte("denied")))
	// A crypto user may use the key but not create keys or export them.
	c.fail(ttlv.ResultReasonPermissionDenied, ttlv.OperationCreate, ttlv.Enum(ttlv.TagObjectType, ttlv.ObjectTypeSymmetricKey),
		c.attrs(enumAttr("Cryptographic Algorithm", ttlv.CryptographicAlgorithmAES)))
	c.fail(ttlv.ResultReasonPermissionDenied, ttlv.OperationGet, uid(keyIDs[0]))
	// Locate by name finds the key it may use, and not the other.
	if us := uids(c.ok(ttlv.OperationLocate, c.locateAttrs(nameAttr("orders-a"))...)); len(us) != 1 {
		t.Errorf("Locate(orders-a) = %v", us)
	}
	if us := uids(c.ok(ttlv.OperationLocate, c.locateAttrs(nameAttr("ledger-b"))...)); len(us) != 0 {
		t.Errorf("Locate(ledger-b) = %v", us)
	}

	// The same identity, authenticated from its certificate as the REST
	// adapter does, calling the service directly.
	restCtx := func() context.Context {
		req := kms.NewRequest("rest", "127.0.0.1", time.Now())
		ctx := kms.WithRequest(context.Background(), req)
		id, err := e.svc.AuthenticateCertificate(ctx, cert.cert)
		if err != nil {
			t.Fatal(err)
		}
		req.Identity = id
		return ctx
	}
	if _, err := e.svc.Encrypt(restCtx(), kms.EncryptRequest{Key: keyIDs[0], Plaintext: []byte("allowed")}); err != nil {
		t.Fatalf("REST-equivalent encrypt with key A: %v", err)
	}
	if _, err := e.svc.Encrypt(restCtx(), kms.EncryptRequest{Key: keyIDs[1], Plaintext: []byte("denied")}); kms.CodeOf(err) != kms.CodeForbidden {
		t.Fatalf("REST-equivalent encrypt with key B: %v, want forbidden", err)
	}

	type decision struct{ op, key, outcome, deny, method string }
	seen := map[string][]decision{}
	for _, r := range e.auditRecords() {
		if r.Identity != idID || r.Operation != kms.OpEncrypt {
			continue
		}
		seen[r.Interface] = append(seen[r.Interface], decision{r.Operation, r.KeyID, r.Outcome, r.DenyReason, r.AuthMethod})
	}
	want := []decision{
		{kms.OpEncrypt, keyIDs[0], audit.OutcomeAllowed, "", "mtls"},
		{kms.OpEncrypt, keyIDs[1], audit.OutcomeDenied, seen["rest"][1].deny, "mtls"},
	}
	for _, iface := range []string{"kmip", "rest"} {
		got := seen[iface]
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] || got[1].deny == "" {
			t.Errorf("%s audit records %+v, want %+v", iface, got, want)
		}
	}
}

// TestUnboundCertificate: a certificate signed by the trusted CA but bound
// to no identity gets Authentication Not Successful for every item (the connection
// stays up), and each refusal is audited.
func TestUnboundCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	stranger := e.ca.issue(t, "stranger", false)
	c := e.dial(stranger, version{2, 0})
	for range 2 {
		r := c.fail(ttlv.ResultReasonAuthenticationNotSuccessful, ttlv.OperationQuery, ttlv.Enum(ttlv.TagQueryFunction, ttlv.QueryFunctionQueryOperations))
		if r.message == "" {
			t.Error("no Result Message")
		}
	}
	rs := results(t, c.roundTrip(op{ttlv.OperationCreate, nil}, op{ttlv.OperationGet, nil}))
	if len(rs) != 1 || rs[0].reason != ttlv.ResultReasonAuthenticationNotSuccessful {
		t.Errorf("batch of an unbound certificate: %+v", rs)
	}
	denied := 0
	for _, r := range e.auditRecords() {
		if r.Interface == "kmip" && r.Outcome == audit.OutcomeDenied && r.ErrorCode == string(kms.CodeUnauthorized) {
			denied++
		}
	}
	if denied != 3 {
		t.Errorf("%d denied KMIP audit records, want 3", denied)
	}

	// Unbinding applies to the next message on an open connection.
	cert := e.identity("short-lived", nil, allKeyActions)
	c = e.dial(cert, version{1, 4})
	id := c.createAES("short-lived-key")
	none := []string{}
	if _, err := e.svc.UpdateIdentity(e.rootCtx, kms.UpdateIdentityRequest{Identity: "short-lived", Certificates: &none}); err != nil {
		t.Fatal(err)
	}
	c.fail(ttlv.ResultReasonAuthenticationNotSuccessful, ttlv.OperationActivate, uid(id))
}

// TestClientWithoutCertificate: the TLS handshake itself refuses a client
// that presents no certificate, or one from another CA.
func TestClientWithoutCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	other := newTestCA(t).issue(t, "elsewhere", false)
	for name, certs := range map[string][]leaf{"none": nil, "other CA": {other}} {
		cfg := tlsClientConfig(e, certs)
		conn, err := dialTLS(e.addr, cfg)
		if err == nil {
			// TLS 1.3 reports the refusal on the first read.
			_, err = conn.Read(make([]byte, 1))
			_ = conn.Close()
		}
		if err == nil {
			t.Errorf("%s: connection accepted", name)
		}
	}
}
