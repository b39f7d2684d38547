package sigv4

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

// The fixed parameters of AWS's Signature Version 4 test suite.
const (
	suiteAccessKeyID = "AKIDEXAMPLE"
	suiteSecret      = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteService     = "service"
	suiteRegion      = "us-east-1"
	suiteDate        = "20150830T123600Z"
	suiteVectors     = 29 // the number of vectors in testdata
)

// suiteVector is one test-suite case as stored in testdata (see
// testdata/README.md for the format).
type suiteVector struct {
	name             string
	signedRequest    string
	canonicalRequest string
	stringToSign     string
	expectVerify     string // "" (success), a Reason, or "not-http"
	inconsistent     bool   // the published intermediates disagree with the published signature
}

func loadSuite(t *testing.T) []suiteVector {
	t.Helper()
	files, err := filepath.Glob("testdata/aws-sig-v4-test-suite/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != suiteVectors {
		t.Fatalf("found %d test-suite vectors, want %d", len(files), suiteVectors)
	}
	var out []suiteVector
	for _, f := range files {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sec := map[string]string{}
		for _, file := range ar.Files {
			sec[file.Name] = strings.TrimSuffix(string(file.Data), "\n")
		}
		v := suiteVector{
			name:             strings.TrimSuffix(filepath.Base(f), ".txtar"),
			signedRequest:    sec["signed-request"],
			canonicalRequest: sec["canonical-request"],
			stringToSign:     sec["string-to-sign"],
			expectVerify:     strings.TrimSpace(sec["expect-verify"]),
		}
		_, v.inconsistent = sec["published-inconsistency"]
		if v.signedRequest == "" || v.canonicalRequest == "" || v.stringToSign == "" {
			t.Fatalf("%s: missing a section", f)
		}
		out = append(out, v)
	}
	return out
}

// rawRequest is a test-suite request split into its parts without net/http,
// so that requests net/http refuses (a space in the path) can still be
// canonicalized.
type rawRequest struct {
	method, target string
	headers        [][2]string
	authorization  string
	body           string
}

func splitRawRequest(t *testing.T, s string) rawRequest {
	t.Helper()
	head, body, _ := strings.Cut(s, "\n\n")
	lines := strings.Split(head, "\n")
	first := lines[0]
	sp1, sp2 := strings.IndexByte(first, ' '), strings.LastIndexByte(first, ' ')
	if sp1 < 0 || sp2 <= sp1 {
		t.Fatalf("bad request line %q", first)
	}
	r := rawRequest{method: first[:sp1], target: first[sp1+1 : sp2], body: body}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("bad header line %q", l)
		}
		if strings.EqualFold(name, "Authorization") {
			r.authorization = strings.TrimSpace(value)
			continue
		}
		r.headers = append(r.headers, [2]string{name, value})
	}
	if r.authorization == "" {
		t.Fatal("signed request has no Authorization header")
	}
	return r
}

func (r rawRequest) source() headerSource {
	return func(name string) ([]string, bool) {
		var vs []string
		for _, h := range r.headers {
			if strings.EqualFold(h[0], name) {
				vs = append(vs, h[1])
			}
		}
		return vs, len(vs) > 0
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// suiteSignature signs a string to sign with the suite's secret and scope.
func suiteSignature(sts string) string {
	key := deriveSigningKey([]byte(suiteSecret), "20150830", suiteRegion, suiteService)
	return hex.EncodeToString(hmacSHA256(key, sts))
}

func suiteVerifier() *Verifier {
	now, _ := time.Parse(amzDateLayout, suiteDate)
	return &Verifier{
		Service: suiteService,
		Now:     func() time.Time { return now },
		Credentials: CredentialsFunc(func(_ context.Context, id string) ([]byte, error) {
			if id != suiteAccessKeyID {
				return nil, ErrUnknownAccessKey
			}
			return []byte(suiteSecret), nil
		}),
	}
}

// TestAWSTestSuite runs every stored vector of AWS's Signature Version 4 test
// suite three ways: it checks that the published data is self-consistent
// (or is marked as not), that the canonical request and string to sign built
// here equal the published ones and reproduce the published signature, and
// that Verify accepts the signed request as net/http parses it.
func TestAWSTestSuite(t *testing.T) {
	for _, v := range loadSuite(t) {
		t.Run(v.name, func(t *testing.T) {
			raw := splitRawRequest(t, v.signedRequest)
			a, perr := parseAuthorization(raw.authorization)
			if perr != nil {
				t.Fatalf("parse Authorization: %v", perr)
			}
			wantSig := hex.EncodeToString(a.signature)

			// The published intermediates: the string to sign must sign to the
			// published signature and hash the canonical request, unless the
			// vector is marked inconsistent. Only what is consistent with the
			// published signature is compared below.
			stsLines := strings.Split(v.stringToSign, "\n")
			stsOK := suiteSignature(v.stringToSign) == wantSig
			creqOK := stsOK && len(stsLines) == 4 && stsLines[3] == sha256Hex(v.canonicalRequest)
			if creqOK == v.inconsistent {
				t.Fatalf("published data consistent=%v, but marked inconsistent=%v", creqOK, v.inconsistent)
			}

			// Canonical request and string to sign, built from the raw request.
			path, query, _ := strings.Cut(raw.target, "?")
			creq, cerr := buildCanonicalRequest(raw.method, path, query, raw.source(), a.signedHeaders, sha256Hex(raw.body))
			if cerr != nil {
				t.Fatalf("canonical request: %v", cerr)
			}
			sts := stringToSign(suiteDate, a.scope, creq)
			if creqOK && creq != v.canonicalRequest {
				t.Errorf("canonical request:\n%s\nwant:\n%s", creq, v.canonicalRequest)
			}
			if stsOK && sts != v.stringToSign {
				t.Errorf("string to sign:\n%s\nwant:\n%s", sts, v.stringToSign)
			}
			if got := suiteSignature(sts); got != wantSig {
				t.Errorf("signature %s, want the published %s", got, wantSig)
			}

			// End to end: net/http parses the request, Verify checks it.
			head := strings.ReplaceAll(strings.SplitN(v.signedRequest, "\n\n", 2)[0], "\n", "\r\n") + "\r\n\r\n"
			r, herr := http.ReadRequest(bufio.NewReader(strings.NewReader(head)))
			if v.expectVerify == "not-http" {
				if herr == nil {
					t.Fatal("net/http parsed a request marked not-http")
				}
				return
			}
			if herr != nil {
				t.Fatalf("net/http: %v", herr)
			}
			res, err := suiteVerifier().Verify(context.Background(), r, []byte(raw.body))
			if v.expectVerify == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				want, _ := time.Parse(amzDateLayout, suiteDate)
				if res.AccessKeyID != suiteAccessKeyID || res.Region != suiteRegion ||
					res.Service != suiteService || !res.Date.Equal(want) ||
					strings.Join(res.SignedHeaders, ";") != strings.Join(a.signedHeaders, ";") {
					t.Errorf("Result = %+v", res)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || string(e.Reason) != v.expectVerify {
				t.Fatalf("Verify = %v, want reason %s", err, v.expectVerify)
			}
		})
	}
}

// TestAWSTestSuiteTampered checks that each suite request that verifies stops
// verifying when one hex digit of its signature changes.
func TestAWSTestSuiteTampered(t *testing.T) {
	for _, v := range loadSuite(t) {
		if v.expectVerify != "" {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			raw := splitRawRequest(t, v.signedRequest)
			i := strings.Index(raw.authorization, "Signature=") + len("Signature=")
			flipped := byte('0')
			if raw.authorization[i] == '0' {
				flipped = '1'
			}
			authz := raw.authorization[:i] + string(flipped) + raw.authorization[i+1:]
			head := strings.SplitN(v.signedRequest, "\n\n", 2)[0]
			head = strings.Replace(head, raw.authorization, authz, 1)
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n")))
			if err != nil {
				t.Fatal(err)
			}
			_, err = suiteVerifier().Verify(context.Background(), r, []byte(raw.body))
			var e *Error
			if !errors.As(err, &e) || e.Reason != ReasonSignatureMismatch || e.Code != CodeInvalidSignature {
				t.Fatalf("Verify = %v, want a signature mismatch", err)
			}
		})
	}
}
