package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

const validAuthorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
	"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func TestParseAuthorization(t *testing.T) {
	for _, h := range []string{
		validAuthorization,
		// No spaces after the commas, components in another order, tabs.
		"AWS4-HMAC-SHA256 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31," +
			"Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date",
		"AWS4-HMAC-SHA256 \tCredential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request ,\tSignedHeaders=host;x-amz-date , " +
			"Signature=5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31 ",
	} {
		a, err := parseAuthorization(h)
		if err != nil {
			t.Fatalf("parseAuthorization(%q): %v", h, err)
		}
		if a.accessKeyID != "AKIDEXAMPLE" || a.date != "20150830" || a.region != "us-east-1" ||
			a.service != "service" || a.scope != "20150830/us-east-1/service/aws4_request" ||
			!slices.Equal(a.signedHeaders, []string{"host", "x-amz-date"}) || len(a.signature) != 32 {
			t.Errorf("parseAuthorization(%q) = %+v", h, a)
		}
	}
}

// TestParseAuthorizationRejects covers each way an Authorization header can
// be broken; each must be refused as an incomplete signature with the listed
// reason.
func TestParseAuthorizationRejects(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(validAuthorization, old, new, 1) }
	many := make([]string, MaxSignedHeaders+1)
	for i := range many {
		many[i] = "h" + string(rune('a'+i/26)) + string(rune('a'+i%26))
	}
	cases := map[string]struct {
		header string
		reason Reason
	}{
		"algorithm only":        {"AWS4-HMAC-SHA256", ReasonMalformedAuthorization},
		"algorithm and space":   {"AWS4-HMAC-SHA256 ", ReasonMalformedAuthorization},
		"SigV2":                 {"AWS AKIDEXAMPLE:c2lnbmF0dXJl", ReasonUnsupportedAlgorithm},
		"SigV4a":                {replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), ReasonUnsupportedAlgorithm},
		"lower-case algorithm":  {replace("AWS4-HMAC-SHA256", "aws4-hmac-sha256"), ReasonUnsupportedAlgorithm},
		"bearer":                {"Bearer abc.def.ghi", ReasonUnsupportedAlgorithm},
		"no algorithm":          {"Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", ReasonUnsupportedAlgorithm},
		"missing Credential":    {replace("Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ", ""), ReasonMalformedAuthorization},
		"missing SignedHeaders": {replace("SignedHeaders=host;x-amz-date, ", ""), ReasonMalformedAuthorization},
		"missing Signature":     {replace(", Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", ""), ReasonMalformedAuthorization},
		"repeated Credential":   {replace("SignedHeaders=host;x-amz-date", "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"), ReasonMalformedAuthorization},
		"fourth component":      {validAuthorization + ", Extra=1", ReasonMalformedAuthorization},
		"trailing comma":        {validAuthorization + ",", ReasonMalformedAuthorization},
		"unknown component":     {replace("SignedHeaders=", "Signedheaders="), ReasonMalformedAuthorization},
		"no equals sign":        {replace("SignedHeaders=", "SignedHeaders "), ReasonMalformedAuthorization},
		"empty Credential":      {replace("Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", "Credential="), ReasonMalformedAuthorization},
		"empty SignedHeaders":   {replace("SignedHeaders=host;x-amz-date", "SignedHeaders="), ReasonMalformedAuthorization},
		"empty Signature":       {replace("Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", "Signature="), ReasonMalformedAuthorization},
		"short scope":           {replace("/us-east-1/service/", "/us-east-1/"), ReasonMalformedAuthorization},
		"long scope":            {replace("/service/", "/service/extra/"), ReasonMalformedAuthorization},
		"empty access key":      {replace("Credential=AKIDEXAMPLE/", "Credential=/"), ReasonMalformedAuthorization},
		"access key with space": {replace("Credential=AKIDEXAMPLE/", "Credential=AKID EXAMPLE/"), ReasonMalformedAuthorization},
		"long access key":       {replace("AKIDEXAMPLE", strings.Repeat("A", 129)), ReasonMalformedAuthorization},
		"impossible date":       {replace("20150830", "20151330"), ReasonMalformedAuthorization},
		"short date":            {replace("20150830", "2015083"), ReasonMalformedAuthorization},
		"empty region":          {replace("/us-east-1/", "//"), ReasonMalformedAuthorization},
		"upper-case region":     {replace("us-east-1", "US-EAST-1"), ReasonMalformedAuthorization},
		"empty service":         {replace("/service/", "//"), ReasonMalformedAuthorization},
		"wrong terminator":      {replace("aws4_request", "aws4_request2"), ReasonMalformedAuthorization},
		"unsorted headers":      {replace("host;x-amz-date", "x-amz-date;host"), ReasonMalformedAuthorization},
		"duplicate header":      {replace("host;x-amz-date", "host;host;x-amz-date"), ReasonMalformedAuthorization},
		"upper-case header":     {replace("host;x-amz-date", "Host;x-amz-date"), ReasonMalformedAuthorization},
		"empty header name":     {replace("host;x-amz-date", "host;;x-amz-date"), ReasonMalformedAuthorization},
		"trailing semicolon":    {replace("host;x-amz-date", "host;x-amz-date;"), ReasonMalformedAuthorization},
		"header with colon":     {replace("host;x-amz-date", "host;x:y"), ReasonMalformedAuthorization},
		"too many headers":      {replace("host;x-amz-date", strings.Join(many, ";")), ReasonMalformedAuthorization},
		"short signature":       {replace("5fa00f", "5fa00"), ReasonMalformedAuthorization},
		"long signature":        {replace("5fa00f", "5fa00f0"), ReasonMalformedAuthorization},
		"non-hex signature":     {replace("5fa00f", "5fa00g"), ReasonMalformedAuthorization},
		"header over 8 KiB":     {validAuthorization + strings.Repeat(" ", MaxAuthorizationLength), ReasonMalformedAuthorization},
		"NUL in algorithm":      {"AWS4-HMAC-SHA256\x00 Credential=x", ReasonUnsupportedAlgorithm},
	}
	// Where several checks would refuse a header with the same reason, the
	// message shows which one did.
	messages := map[string]string{
		"missing Credential":    "requires 'Credential'",
		"missing SignedHeaders": "requires 'SignedHeaders'",
		"missing Signature":     "requires 'Signature'",
		"repeated Credential":   "repeats the Credential",
		"fourth component":      "more than",
		"unknown component":     "unknown component 'Signedheaders'",
		"empty Credential":      "is empty",
		"empty SignedHeaders":   "is empty",
		"empty Signature":       "is empty",
		"wrong terminator":      "aws4_request",
		"impossible date":       "invalid date",
		"upper-case region":     "invalid region",
		"unsorted headers":      "sorted",
		"duplicate header":      "twice",
		"too many headers":      "more than 64",
		"header over 8 KiB":     "exceeds 8192 bytes",
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseAuthorization(c.header)
			if err == nil {
				t.Fatalf("accepted %q", c.header)
			}
			if err.Code != CodeIncompleteSignature || err.Reason != c.reason {
				t.Errorf("got %s/%s (%v), want %s/%s", err.Code, err.Reason, err, CodeIncompleteSignature, c.reason)
			}
			if !strings.Contains(err.Message, messages[name]) {
				t.Errorf("message %q does not contain %q", err.Message, messages[name])
			}
		})
	}
}

// FuzzParseAuthorization feeds arbitrary Authorization headers to the parser
// and to Verify. Neither may panic; what the parser accepts must respect the
// bounds; Verify must answer with an *Error, since no fuzzed header can carry
// a valid signature.
func FuzzParseAuthorization(f *testing.F) {
	f.Add(validAuthorization)
	f.Add("AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request,SignedHeaders=host,Signature=" + strings.Repeat("0", 64))
	f.Add("AWS4-HMAC-SHA256 Credential=,,,=;;;")
	f.Add("AWS4-HMAC-SHA256 SignedHeaders=a;b;c;a, Signature=zz")
	f.Add("AWS ab:cd")
	f.Add("")
	v := suiteVerifier()
	f.Fuzz(func(t *testing.T, h string) {
		a, perr := parseAuthorization(h)
		if perr == nil {
			if len(h) > MaxAuthorizationLength || len(a.signedHeaders) == 0 || len(a.signedHeaders) > MaxSignedHeaders ||
				len(a.signature) != 32 || a.accessKeyID == "" || a.region == "" || a.service == "" {
				t.Fatalf("accepted out-of-bounds header %q: %+v", h, a)
			}
			for i := 1; i < len(a.signedHeaders); i++ {
				if a.signedHeaders[i-1] >= a.signedHeaders[i] {
					t.Fatalf("accepted unsorted SignedHeaders in %q", h)
				}
			}
		} else if perr.Code != CodeIncompleteSignature {
			t.Fatalf("parse error with code %s", perr.Code)
		}

		// A request no published signature covers.
		r := httptest.NewRequest(http.MethodPut, "http://example.amazonaws.com/fuzz", nil)
		r.Header.Set("Authorization", h)
		r.Header.Set("X-Amz-Date", suiteDate)
		_, err := v.Verify(context.Background(), r, nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Verify(%q) = %v, want an *Error", h, err)
		}
	})
}
