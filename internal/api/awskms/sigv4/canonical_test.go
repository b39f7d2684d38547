package sigv4

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestURIEncode(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"abcXYZ019-._~":     "abcXYZ019-._~",
		"a b":               "a%20b",
		"a+b":               "a%2Bb",
		"a/b":               "a%2Fb",
		"100%":              "100%25",
		"*'()!":             "%2A%27%28%29%21",
		"ሴ":                 "%E1%88%B4",
		"\x00\x7f\xff":      "%00%7F%FF",
		"=&;:@$,?#[]":       "%3D%26%3B%3A%40%24%2C%3F%23%5B%5D",
		"already%20encoded": "already%2520encoded",
	} {
		if got := uriEncodeString(in); got != want {
			t.Errorf("uriEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "/",
		"/":                        "/",
		"//":                       "/",
		"/./":                      "/",
		"/example/..":              "/",
		"/example1/example2/../..": "/",
		"/./example":               "/example",
		"//example//":              "/example/",
		"/a/b/..":                  "/a/",
		"/a/b/.":                   "/a/b/",
		"/../../a":                 "/a",
		"/a/./b/../c":              "/a/c",
		"/example space/":          "/example%20space/",
		// The wire form is already percent-encoded and is encoded again,
		// as AWS does for every service but S3.
		"/a%20b/c%2Fd": "/a%2520b/c%252Fd",
		"/ሴ":           "/%E1%88%B4",
		"/a:b@c":       "/a%3Ab%40c",
	} {
		var b strings.Builder
		writeCanonicalURI(&b, in)
		if got := b.String(); got != want {
			t.Errorf("canonical URI of %q = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"a=1":                                 "a=1",
		"b=2&a=1":                             "a=1&b=2",
		"a=2&a=1&A=3":                         "A=3&a=1&a=2",
		"a":                                   "a=",
		"a=":                                  "a=",
		"a&&b=1&":                             "a=&b=1",
		"x=1+2":                               "x=1%202",
		"x=1%202":                             "x=1%202",
		"x=a%2Bb":                             "x=a%2Bb",
		"k%7E=%7e":                            "k~=~",
		"ሴ=bar":                               "%E1%88%B4=bar",
		"Action=ListUsers&Version=2010-05-08": "Action=ListUsers&Version=2010-05-08",
		"p=a;b":                               "p=a%3Bb",
		"a=%2F%3D&b=/":                        "a=%2F%3D&b=%2F",
	} {
		got, err := canonicalQuery(in)
		if err != nil || got != want {
			t.Errorf("canonicalQuery(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"a=%", "a=%zz", "%g1=1"} {
		if _, err := canonicalQuery(in); err == nil || err.Reason != ReasonMalformedRequest {
			t.Errorf("canonicalQuery(%q) error = %v, want %s", in, err, ReasonMalformedRequest)
		}
	}
}

func TestHeaderValueTrimming(t *testing.T) {
	for in, want := range map[string]string{
		"value":                      "value",
		"  value  ":                  "value",
		`"a   b   c"`:                `"a b c"`,
		"\t a  b \t":                 "a b",
		"a\tb":                       "a\tb", // only runs of spaces collapse
		"":                           "",
		"application/x-amz-json-1.1": "application/x-amz-json-1.1",
	} {
		var b strings.Builder
		writeHeaderValue(&b, in)
		if got := b.String(); got != want {
			t.Errorf("header value %q = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalRequestHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://kms.example/", strings.NewReader("12345"))
	r.Header.Add("My-Header", "b")
	r.Header.Add("My-Header", "  a   z ")
	r.Header.Set("Empty", "")
	r.TransferEncoding = []string{"chunked"}
	got, err := canonicalRequest(r, []string{"content-length", "empty", "host", "my-header", "transfer-encoding"}, "HASH")
	if err != nil {
		t.Fatal(err)
	}
	want := "POST\n/\n\ncontent-length:5\nempty:\nhost:kms.example\nmy-header:b,a z\ntransfer-encoding:chunked\n\n" +
		"content-length;empty;host;my-header;transfer-encoding\nHASH"
	if got != want {
		t.Errorf("canonical request:\n%q\nwant\n%q", got, want)
	}

	// A header named in SignedHeaders but absent is refused.
	for _, missing := range []string{"x-absent", "content-md5"} {
		_, err := canonicalRequest(r, []string{"host", missing}, "HASH")
		if err == nil || err.Reason != ReasonMissingSignedHeader || err.Code != CodeIncompleteSignature {
			t.Errorf("signed %s: error = %v, want %s", missing, err, ReasonMissingSignedHeader)
		}
	}
	// Without a body and a Content-Length header, content-length is absent.
	g := httptest.NewRequest(http.MethodGet, "http://kms.example/", nil)
	if _, err := canonicalRequest(g, []string{"content-length", "host"}, "HASH"); err == nil {
		t.Error("content-length of a request without one was accepted")
	}
	// Without a Host, host is absent.
	g.Host = ""
	if _, err := canonicalRequest(g, []string{"host"}, "HASH"); err == nil {
		t.Error("host of a request without one was accepted")
	}
}

// TestSigningKey checks the derivation against the example in AWS's
// documentation of Signature Version 4.
func TestSigningKey(t *testing.T) {
	secret := []byte("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	key := deriveSigningKey(secret, "20120215", "us-east-1", "iam")
	if got := hex.EncodeToString(key); got != "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d" {
		t.Errorf("signing key = %s", got)
	}
	if string(secret) != "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" {
		t.Error("deriveSigningKey modified the secret")
	}
}
