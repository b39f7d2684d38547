package sigv4_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/arcakms/arca/internal/api/awskms/sigv4"
)

// These tests sign requests with the signer of the AWS SDK for Go v2, the
// same code sops and other Go tools use, and check that Verify accepts them
// and refuses every tampered variant for the right reason.

const (
	testAccessKeyID = "AKIAARCATEST00000001"
	testSecret      = "arcaTestSecret/0123456789+abcdefghijklmnopq"
	testRegion      = "eu-west-1"
	testBody        = `{"KeyId":"alias/sops","Plaintext":"aGVsbG8gd29ybGQ=","EncryptionContext":{"app":"arca"}}`
)

var testTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// keyStore is a Credentials backed by a map, as a test double of Arca's
// access-key store.
type keyStore map[string]string

func (s keyStore) SecretKey(_ context.Context, id string) ([]byte, error) {
	secret, ok := s[id]
	if !ok {
		return nil, fmt.Errorf("access key %q: %w", id, sigv4.ErrUnknownAccessKey)
	}
	return []byte(secret), nil
}

func newVerifier(now time.Time) *sigv4.Verifier {
	return &sigv4.Verifier{
		Service:     "kms",
		Now:         func() time.Time { return now },
		Credentials: keyStore{testAccessKeyID: testSecret},
	}
}

// signing describes how a test request is built and signed.
type signing struct {
	accessKeyID, secret, token string
	service, region            string
	target                     string
	at                         time.Time
	before                     func(r *http.Request) // runs before signing
}

func defaultSigning() signing {
	return signing{
		accessKeyID: testAccessKeyID, secret: testSecret,
		service: "kms", region: testRegion,
		target: "TrentService.Encrypt", at: testTime,
	}
}

// signedKMSRequest builds a KMS JSON request as the AWS SDKs send it and
// signs it with the AWS SDK's signer.
func signedKMSRequest(t testing.TB, s signing, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://kms."+s.region+".amazonaws.com/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", s.target)
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0")
	if s.before != nil {
		s.before(r)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: s.accessKeyID, SecretAccessKey: s.secret, SessionToken: s.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]),
		s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	return r
}

func wantError(t *testing.T, err error, code sigv4.Code, reason sigv4.Reason) *sigv4.Error {
	t.Helper()
	var e *sigv4.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *sigv4.Error %s/%s", err, code, reason)
	}
	if e.Code != code || e.Reason != reason {
		t.Fatalf("error = %s/%s (%v), want %s/%s", e.Code, e.Reason, err, code, reason)
	}
	return e
}

func TestSDKSignedRequestsVerify(t *testing.T) {
	for _, c := range []struct {
		target, region string
		body           string
	}{
		{"TrentService.Encrypt", testRegion, testBody},
		{"TrentService.Decrypt", "us-east-1", `{"CiphertextBlob":"AQICAHh="}`},
		{"TrentService.GenerateDataKey", "ap-southeast-2", `{"KeyId":"alias/sops","KeySpec":"AES_256"}`},
		{"TrentService.ListKeys", "us-gov-west-1", `{}`},
		{"TrentService.DescribeKey", "eu-central-1", strings.Repeat(" ", 4096) + `{"KeyId":"1234"}`},
	} {
		t.Run(c.target+"/"+c.region, func(t *testing.T) {
			s := defaultSigning()
			s.target, s.region = c.target, c.region
			body := []byte(c.body)
			r := signedKMSRequest(t, s, body)
			res, err := newVerifier(testTime).Verify(context.Background(), r, body)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := "content-length;content-type;host;x-amz-date;x-amz-target"
			if res.AccessKeyID != testAccessKeyID || res.Region != c.region || res.Service != "kms" ||
				!res.Date.Equal(testTime) || strings.Join(res.SignedHeaders, ";") != want {
				t.Errorf("Result = %+v", res)
			}
		})
	}
}

// TestSDKOverLoopback sends SDK-signed requests through a real HTTP server
// on 127.0.0.1, so the request Verify sees is the one net/http parsed.
func TestSDKOverLoopback(t *testing.T) {
	v := newVerifier(testTime)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		res, err := v.Verify(r.Context(), r, body)
		var e *sigv4.Error
		switch {
		case errors.As(err, &e):
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "%s %s", e.Code, e.Reason)
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			fmt.Fprintf(w, "ok %s %s", res.AccessKeyID, res.Region)
		}
	}))
	defer srv.Close()

	send := func(t *testing.T, tamper func(r *http.Request)) string {
		t.Helper()
		body := []byte(testBody)
		r := httptest.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
		r.RequestURI = ""
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "TrentService.Encrypt")
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "kms", testRegion, testTime); err != nil {
			t.Fatal(err)
		}
		if tamper != nil {
			tamper(r)
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return string(out)
	}
	if got := send(t, nil); got != "ok "+testAccessKeyID+" "+testRegion {
		t.Errorf("signed request: %q", got)
	}
	if got := send(t, func(r *http.Request) {
		b := []byte(strings.Replace(testBody, "sops", "evil", 1))
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}); got != "InvalidSignatureException signature_mismatch" {
		t.Errorf("changed body: %q", got)
	}
	if got := send(t, func(r *http.Request) { r.Header.Set("X-Amz-Target", "TrentService.Decrypt") }); got != "InvalidSignatureException signature_mismatch" {
		t.Errorf("changed target: %q", got)
	}
	if got := send(t, func(r *http.Request) { r.Header.Del("Authorization") }); got != "MissingAuthenticationTokenException missing_authorization" {
		t.Errorf("no Authorization: %q", got)
	}
}

// tamperCase is a request signed by the SDK, possibly changed afterwards, and
// the outcome Verify must produce.
type tamperCase struct {
	name     string
	sign     func(s *signing)                    // adjusts how the request is signed
	tamper   func(r *http.Request, body *[]byte) // changes the signed request
	verifier func(v *sigv4.Verifier)             // adjusts the verifier
	now      time.Time                           // server clock; zero means testTime
	code     sigv4.Code                          // "" means Verify must succeed
	reason   sigv4.Reason
}

func tamperCases() []tamperCase {
	const invalid, incomplete = sigv4.CodeInvalidSignature, sigv4.CodeIncompleteSignature
	authz := func(f func(string) string) func(r *http.Request, _ *[]byte) {
		return func(r *http.Request, _ *[]byte) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
	}
	lateSigning := time.Date(2026, 3, 14, 23, 59, 50, 0, time.UTC)
	return []tamperCase{
		{name: "untouched"},
		{name: "unsigned header changed", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("User-Agent", "something else")
			r.Header.Set("X-Forwarded-For", "192.0.2.1")
		}},
		{name: "wrong secret", sign: func(s *signing) { s.secret = "not-the-secret" },
			code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "body changed", tamper: func(_ *http.Request, b *[]byte) {
			*b = []byte(strings.Replace(string(*b), "sops", "evil", 1))
		}, code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "body extended", tamper: func(_ *http.Request, b *[]byte) { *b = append(*b, ' ') },
			code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "body empty", tamper: func(_ *http.Request, b *[]byte) { *b = nil },
			code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "content-type changed", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		}, code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "target changed", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Target", "TrentService.Decrypt")
		}, code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "target value repeated", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Add("X-Amz-Target", "TrentService.Decrypt")
		}, code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "host changed", tamper: func(r *http.Request, _ *[]byte) { r.Host = "kms.attacker.example" },
			code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "date changed within skew", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", testTime.Add(time.Second).Format("20060102T150405Z"))
		}, code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "method changed", tamper: func(r *http.Request, _ *[]byte) { r.Method = http.MethodPut },
			code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "path changed", tamper: func(r *http.Request, _ *[]byte) { r.URL.Path = "/admin" },
			code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "query added", tamper: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "Action=Decrypt" },
			code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "SignedHeaders shortened", tamper: authz(func(s string) string {
			return strings.Replace(s, "content-length;", "", 1)
		}), code: invalid, reason: sigv4.ReasonSignatureMismatch},
		{name: "skew -5m01s", now: testTime.Add(5*time.Minute + time.Second),
			code: invalid, reason: sigv4.ReasonClockSkew},
		{name: "skew +5m01s", now: testTime.Add(-5*time.Minute - time.Second),
			code: invalid, reason: sigv4.ReasonClockSkew},
		{name: "skew -4m59s", now: testTime.Add(4*time.Minute + 59*time.Second)},
		{name: "skew +4m59s", now: testTime.Add(-4*time.Minute - 59*time.Second)},
		{name: "skew -5m exactly", now: testTime.Add(5 * time.Minute)},
		{name: "skew +5m exactly", now: testTime.Add(-5 * time.Minute)},
		{name: "skew 1h with MaxSkew 2h", now: testTime.Add(time.Hour),
			verifier: func(v *sigv4.Verifier) { v.MaxSkew = 2 * time.Hour }},
		{name: "skew 61s with MaxSkew 1m", now: testTime.Add(61 * time.Second),
			verifier: func(v *sigv4.Verifier) { v.MaxSkew = time.Minute },
			code:     invalid, reason: sigv4.ReasonClockSkew},
		{name: "unknown access key", sign: func(s *signing) { s.accessKeyID = "AKIAUNKNOWN000000000" },
			code: sigv4.CodeUnrecognizedClient, reason: sigv4.ReasonUnknownAccessKey},
		{name: "missing Authorization", tamper: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") },
			code: sigv4.CodeMissingAuthenticationToken, reason: sigv4.ReasonMissingAuthorization},
		{name: "blank Authorization", tamper: func(r *http.Request, _ *[]byte) { r.Header.Set("Authorization", "  ") },
			code: sigv4.CodeMissingAuthenticationToken, reason: sigv4.ReasonMissingAuthorization},
		{name: "Authorization twice", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}, code: incomplete, reason: sigv4.ReasonMalformedAuthorization},
		{name: "wrong service", sign: func(s *signing) { s.service = "s3" },
			code: invalid, reason: sigv4.ReasonWrongService},
		{name: "any region by default", sign: func(s *signing) { s.region = "cn-north-1" }},
		{name: "wrong region", verifier: func(v *sigv4.Verifier) { v.Region = "us-east-1" },
			code: invalid, reason: sigv4.ReasonWrongRegion},
		{name: "right region", verifier: func(v *sigv4.Verifier) { v.Region = testRegion }},
		{name: "scope date of the day before", tamper: authz(func(s string) string {
			return strings.Replace(s, "/20260314/", "/20260313/", 1)
		}), code: invalid, reason: sigv4.ReasonScopeDateMismatch},
		{name: "X-Amz-Date moved past midnight", sign: func(s *signing) { s.at = lateSigning },
			tamper: func(r *http.Request, _ *[]byte) {
				r.Header.Set("X-Amz-Date", lateSigning.Add(20*time.Second).Format("20060102T150405Z"))
			}, now: lateSigning.Add(20 * time.Second), code: invalid, reason: sigv4.ReasonScopeDateMismatch},
		{name: "X-Amz-Date missing", tamper: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Date") },
			code: incomplete, reason: sigv4.ReasonMissingDate},
		{name: "X-Amz-Date malformed", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", "2026-03-14T15:09:26Z")
		}, code: incomplete, reason: sigv4.ReasonMalformedDate},
		{name: "X-Amz-Date with fractional seconds", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", "20260314T150926.000Z")
		}, code: incomplete, reason: sigv4.ReasonMalformedDate},
		{name: "X-Amz-Date twice", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Add("X-Amz-Date", r.Header.Get("X-Amz-Date"))
		}, code: incomplete, reason: sigv4.ReasonMalformedDate},
		{name: "content hash matches", sign: func(s *signing) {
			s.before = func(r *http.Request) {
				sum := sha256.Sum256([]byte(testBody))
				r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			}
		}},
		{name: "content hash mismatch", sign: func(s *signing) {
			s.before = func(r *http.Request) {
				sum := sha256.Sum256([]byte("another body"))
				r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			}
		}, code: invalid, reason: sigv4.ReasonPayloadHashMismatch},
		{name: "unsigned payload", sign: func(s *signing) {
			s.before = func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }
		}, code: invalid, reason: sigv4.ReasonUnsignedPayload},
		{name: "streaming payload", sign: func(s *signing) {
			s.before = func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
			}
		}, code: invalid, reason: sigv4.ReasonUnsignedPayload},
		{name: "security token signed", sign: func(s *signing) { s.token = "FwoGZXIvYXdzEXAMPLETOKEN" },
			code: sigv4.CodeUnrecognizedClient, reason: sigv4.ReasonSecurityTokenUnsupported},
		{name: "security token added", tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLETOKEN")
		}, code: sigv4.CodeUnrecognizedClient, reason: sigv4.ReasonSecurityTokenUnsupported},
		{name: "target added after signing", sign: func(s *signing) {
			s.before = func(r *http.Request) { r.Header.Del("X-Amz-Target") }
		}, tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Target", "TrentService.Decrypt")
		}, code: incomplete, reason: sigv4.ReasonUnsignedHeader},
		{name: "target unsigned, not required", sign: func(s *signing) {
			s.before = func(r *http.Request) { r.Header.Del("X-Amz-Target") }
		}, tamper: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Target", "TrentService.Decrypt")
		}, verifier: func(v *sigv4.Verifier) { v.RequireSigned = []string{} }},
		{name: "signed header removed", sign: func(s *signing) {
			s.before = func(r *http.Request) { r.Header.Set("X-Arca-Request-Id", "42") }
		}, tamper: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Arca-Request-Id") },
			code: incomplete, reason: sigv4.ReasonMissingSignedHeader},
		{name: "host not signed", tamper: authz(func(s string) string {
			return strings.Replace(s, ";host;", ";", 1)
		}), code: incomplete, reason: sigv4.ReasonUnsignedHeader},
		{name: "x-amz-date not signed", tamper: authz(func(s string) string {
			return strings.Replace(s, ";x-amz-date;", ";", 1)
		}), code: incomplete, reason: sigv4.ReasonUnsignedHeader},
		{name: "SigV2 header", tamper: authz(func(string) string { return "AWS " + testAccessKeyID + ":c2lnbmF0dXJl" }),
			code: incomplete, reason: sigv4.ReasonUnsupportedAlgorithm},
		{name: "signature truncated", tamper: authz(func(s string) string { return s[:len(s)-1] }),
			code: incomplete, reason: sigv4.ReasonMalformedAuthorization},
	}
}

// runTamperCase signs, tampers with and verifies one case, and returns the
// error of Verify.
func runTamperCase(t *testing.T, c tamperCase) error {
	t.Helper()
	s := defaultSigning()
	if c.sign != nil {
		c.sign(&s)
	}
	body := []byte(testBody)
	r := signedKMSRequest(t, s, body)
	if c.tamper != nil {
		c.tamper(r, &body)
	}
	now := c.now
	if now.IsZero() {
		now = testTime
	}
	v := newVerifier(now)
	if c.verifier != nil {
		c.verifier(v)
	}
	_, err := v.Verify(context.Background(), r, body)
	return err
}

func TestSDKTampering(t *testing.T) {
	for _, c := range tamperCases() {
		t.Run(c.name, func(t *testing.T) {
			err := runTamperCase(t, c)
			if c.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			e := wantError(t, err, c.code, c.reason)
			if e.Message == "" {
				t.Error("empty message")
			}
			if c.reason == sigv4.ReasonUnknownAccessKey && !errors.Is(err, sigv4.ErrUnknownAccessKey) {
				t.Error("unknown access key error does not wrap ErrUnknownAccessKey")
			}
			if c.reason == sigv4.ReasonClockSkew && !strings.HasPrefix(e.Message, "Signature expired") &&
				!strings.HasPrefix(e.Message, "Signature not yet current") {
				t.Errorf("clock skew message %q", e.Message)
			}
		})
	}
}

// TestMalformedAuthorization puts broken Authorization headers on an
// otherwise valid request.
func TestMalformedAuthorization(t *testing.T) {
	good := signedKMSRequest(t, defaultSigning(), []byte(testBody)).Header.Get("Authorization")
	cred, _, _ := strings.Cut(good, ", ")
	for _, c := range []struct {
		name, header string
		reason       sigv4.Reason
	}{
		{"algorithm only", "AWS4-HMAC-SHA256", sigv4.ReasonMalformedAuthorization},
		{"credential only", cred, sigv4.ReasonMalformedAuthorization},
		{"no signature", good[:strings.Index(good, ", Signature=")], sigv4.ReasonMalformedAuthorization},
		{"empty signature", good[:strings.Index(good, "Signature=")+len("Signature=")], sigv4.ReasonMalformedAuthorization},
		{"repeated component", good + ", " + good[strings.Index(good, "Signature="):], sigv4.ReasonMalformedAuthorization},
		{"garbage", "AWS4-HMAC-SHA256 ;;;,,,===", sigv4.ReasonMalformedAuthorization},
		{"too long", good + strings.Repeat(" ", sigv4.MaxAuthorizationLength), sigv4.ReasonMalformedAuthorization},
		{"basic auth", "Basic QUtJQTpzZWNyZXQ=", sigv4.ReasonUnsupportedAlgorithm},
		{"SigV4a", strings.Replace(good, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1), sigv4.ReasonUnsupportedAlgorithm},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := signedKMSRequest(t, defaultSigning(), []byte(testBody))
			r.Header.Set("Authorization", c.header)
			_, err := newVerifier(testTime).Verify(context.Background(), r, []byte(testBody))
			wantError(t, err, sigv4.CodeIncompleteSignature, c.reason)
		})
	}
}

func TestInternalFailures(t *testing.T) {
	body := []byte(testBody)
	storeDown := errors.New("key store unavailable")
	v := newVerifier(testTime)
	v.Credentials = sigv4.CredentialsFunc(func(context.Context, string) ([]byte, error) { return nil, storeDown })
	_, err := v.Verify(context.Background(), signedKMSRequest(t, defaultSigning(), body), body)
	var e *sigv4.Error
	if !errors.Is(err, storeDown) || errors.As(err, &e) {
		t.Errorf("store failure: error = %v, want the store's error and no *sigv4.Error", err)
	}

	v.Credentials = sigv4.CredentialsFunc(func(context.Context, string) ([]byte, error) { return nil, nil })
	_, err = v.Verify(context.Background(), signedKMSRequest(t, defaultSigning(), body), body)
	if err == nil || errors.As(err, &e) {
		t.Errorf("empty secret: error = %v, want an internal error", err)
	}

	for _, bad := range []*sigv4.Verifier{nil, {Credentials: keyStore{}}, {Service: "kms"}} {
		_, err := bad.Verify(context.Background(), signedKMSRequest(t, defaultSigning(), body), body)
		if err == nil || errors.As(err, &e) {
			t.Errorf("misconfigured verifier %+v: error = %v", bad, err)
		}
	}
}

// TestErrorsDoNotLeak checks that no failure's message or error text carries
// the secret, the signing key, the signature the server computed, or any
// other long hex string.
func TestErrorsDoNotLeak(t *testing.T) {
	signingKey := func(secret string) []byte {
		k := []byte("AWS4" + secret)
		for _, d := range []string{"20260314", testRegion, "kms", "aws4_request"} {
			m := hmac.New(sha256.New, k)
			m.Write([]byte(d))
			k = m.Sum(nil)
		}
		return k
	}
	key := hex.EncodeToString(signingKey(testSecret))
	// The signature the server computes for the "wrong secret" request is
	// the one a client with the right secret sends.
	right := signedKMSRequest(t, defaultSigning(), []byte(testBody)).Header.Get("Authorization")
	rightSig := right[strings.Index(right, "Signature=")+len("Signature="):]
	longHex := regexp.MustCompile(`[0-9a-fA-F]{32,}`)

	n := 0
	for _, c := range tamperCases() {
		if c.code == "" {
			continue
		}
		err := runTamperCase(t, c)
		var e *sigv4.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, text := range []string{err.Error(), e.Message} {
			for what, secret := range map[string]string{"secret": testSecret, "signing key": key, "signature": rightSig} {
				if strings.Contains(text, secret) {
					t.Errorf("%s: error %q contains the %s", c.name, text, what)
				}
			}
			if m := longHex.FindString(text); m != "" {
				t.Errorf("%s: error %q contains hex %s", c.name, text, m)
			}
		}
		n++
	}
	if n < 30 {
		t.Fatalf("only %d failure cases checked", n)
	}
}

// BenchmarkVerify1KiB measures Verify on a signed KMS request with a 1 KiB
// body, the size of a typical Encrypt or Decrypt call.
func BenchmarkVerify1KiB(b *testing.B) {
	body := bytes.Repeat([]byte("a"), 1024)
	r := signedKMSRequest(b, defaultSigning(), body)
	v := newVerifier(testTime)
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// ExampleVerifier shows a handler of the KMS-compatible API authenticating a
// request and mapping a failure to an AWS JSON error.
func ExampleVerifier() {
	v := &sigv4.Verifier{
		Service:     "kms",
		Credentials: keyStore{testAccessKeyID: testSecret},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		res, err := v.Verify(r.Context(), r, body)
		var authErr *sigv4.Error
		switch {
		case errors.As(err, &authErr):
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":%q,"message":%q}`, authErr.Code, authErr.Message)
			return
		case err != nil:
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "authenticated as %s", res.AccessKeyID)
	})

	r := httptest.NewRequest(http.MethodPost, "https://kms.eu-west-1.amazonaws.com/", strings.NewReader("{}"))
	r.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Body.String())
	// Output: {"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}
}
