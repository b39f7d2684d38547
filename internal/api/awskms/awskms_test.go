package awskms

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/storage/bolt"
)

type env struct {
	t         *testing.T
	svc       *kms.Service
	h         *Handler
	auditPath string
	id, sec   string
	now       time.Time
	// rctx carries the root identity, for set-up through the service.
	rctx context.Context
}

func newEnv(t *testing.T) *env {
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
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := kms.New(context.Background(), kms.Options{Store: st, Audit: al, Logger: logger, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); _ = al.Close(); _ = st.Close() })
	tok, err := svc.InitDev(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	root, err := svc.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	rctx := kms.WithRequest(context.Background(), &kms.Request{ID: "setup", Interface: "test", Identity: root})
	if _, err := svc.CreateIdentity(rctx, kms.CreateIdentityRequest{Name: "custodian", Type: kms.IdentityService, Roles: []access.Binding{{Role: access.RoleKeyCustodian}}}); err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAccessKey(rctx, "custodian")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, auditPath: filepath.Join(dir, "audit.log"), id: k.ID, sec: k.Secret, now: time.Now(), rctx: rctx}
	e.h = New(svc, Options{Logger: logger, Now: func() time.Time { return e.now }})
	return e
}

// send signs a request with the AWS SDK's signer (after before, if set),
// lets tamper change it after signing, and serves it.
func (e *env) send(target, body string, sign func(*signing), tamper func(*http.Request)) (int, map[string]string) {
	e.t.Helper()
	status, raw := e.serve(target, body, sign, tamper)
	out := map[string]string{}
	_ = json.Unmarshal(raw, &out)
	return status, out
}

// sendRaw is send returning the raw response body.
func (e *env) sendRaw(target, body string, sign func(*signing)) (int, []byte) {
	e.t.Helper()
	return e.serve(target, body, sign, nil)
}

func (e *env) serve(target, body string, sign func(*signing), tamper func(*http.Request)) (int, []byte) {
	e.t.Helper()
	s := signing{id: e.id, secret: e.sec, at: e.now, region: "us-east-1"}
	if sign != nil {
		sign(&s)
	}
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8200/", strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-Amz-Target", target)
	if !s.unsigned {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: s.id, SecretAccessKey: s.secret}, r, hex.EncodeToString(sum[:]), "kms", s.region, s.at); err != nil {
			e.t.Fatal(err)
		}
	}
	if tamper != nil {
		tamper(r)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

type signing struct {
	id, secret, region string
	at                 time.Time
	unsigned           bool
}

// auditDenied counts the denied and failed records of the interface.
func (e *env) auditRecords() []audit.Record {
	e.t.Helper()
	f, err := os.Open(e.auditPath)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Interface == "aws-kms" {
			out = append(out, r)
		}
	}
	return out
}

// TestRefusals: bad signatures (wrong secret, changed body, skewed clock,
// none, unknown key), unknown targets, wrong content types and malformed
// bodies each get their AWS exception as a 400, are audited as refused,
// and create nothing.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	create := `{"Description":"x"}`
	for _, c := range []struct {
		name, target, body string
		sign               func(*signing)
		tamper             func(*http.Request)
		status             int
		exception          string
	}{
		{"wrong secret", "TrentService.CreateKey", create, func(s *signing) { s.secret = strings.Repeat("x", 40) }, nil, 400, "InvalidSignatureException"},
		{"changed body", "TrentService.CreateKey", create, nil, func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"Description":"y"}`))
		}, 400, "InvalidSignatureException"},
		{"changed target", "TrentService.DescribeKey", create, nil, func(r *http.Request) { r.Header.Set("X-Amz-Target", "TrentService.CreateKey") }, 400, "InvalidSignatureException"},
		{"clock 6 minutes behind", "TrentService.CreateKey", create, func(s *signing) { s.at = s.at.Add(-6 * time.Minute) }, nil, 400, "InvalidSignatureException"},
		{"clock 6 minutes ahead", "TrentService.CreateKey", create, func(s *signing) { s.at = s.at.Add(6 * time.Minute) }, nil, 400, "InvalidSignatureException"},
		{"no signature", "TrentService.CreateKey", create, func(s *signing) { s.unsigned = true }, nil, 400, "MissingAuthenticationTokenException"},
		{"unknown access key", "TrentService.CreateKey", create, func(s *signing) { s.id = "ARCAAAAAAAAAAAAAAAAA" }, nil, 400, "UnrecognizedClientException"},
		{"malformed access key", "TrentService.CreateKey", create, func(s *signing) { s.id = "AKIDEXAMPLE" }, nil, 400, "UnrecognizedClientException"},
		{"unknown target", "TrentService.LaunchRockets", create, nil, nil, 400, "UnsupportedOperationException"},
		{"wrong content type", "TrentService.CreateKey", create, nil, func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 400, "SerializationException"},
		{"malformed JSON", "TrentService.CreateKey", `{"Description":`, nil, nil, 400, "SerializationException"},
		{"wrong member type", "TrentService.CreateKey", `{"Description":7}`, nil, nil, 400, "SerializationException"},
		{"unsupported key spec", "TrentService.CreateKey", `{"KeySpec":"SM2"}`, nil, nil, 400, "ValidationException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.auditRecords())
			status, out := e.send(c.target, c.body, c.sign, c.tamper)
			if status != c.status || out["__type"] != c.exception || out["message"] == "" {
				t.Fatalf("%d %v, want %d %s", status, out, c.status, c.exception)
			}
			if strings.Contains(out["message"], e.sec) {
				t.Fatal("the secret is in the error message")
			}
			recs := e.auditRecords()
			if len(recs) != before+1 || recs[len(recs)-1].Outcome == audit.OutcomeAllowed {
				t.Fatalf("audit records: %d → %d, last %+v", before, len(recs), recs[len(recs)-1])
			}
		})
	}
	// Nothing was created by any of them; a good request works.
	status, out := e.send("TrentService.ListKeys", `{}`, nil, nil)
	if status != 200 {
		t.Fatalf("list keys: %d %v", status, out)
	}
	var list struct{ Keys []any }
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8200/", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	sum := sha256.Sum256([]byte(`{}`))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: e.id, SecretAccessKey: e.sec}, r, hex.EncodeToString(sum[:]), "kms", "us-east-1", e.now); err != nil {
		t.Fatal(err)
	}
	e.h.ServeHTTP(w, r)
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 || len(list.Keys) != 0 {
		t.Fatalf("keys after the refusals: %d %s", w.Code, w.Body.Bytes())
	}
}
