package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// dateSignedRequest returns a GET request authenticated with a signed Date
// header instead of X-Amz-Date. Its canonical request is written out here
// rather than built by the package, so the test does not depend on the code
// it checks.
func dateSignedRequest() *http.Request {
	const creq = "GET\n/\n\n" +
		"date:Sun, 30 Aug 2015 12:36:00 GMT\nhost:example.amazonaws.com\n\n" +
		"date;host\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	sig := suiteSignature(stringToSign(suiteDate, "20150830/us-east-1/service/aws4_request", creq))
	r := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	r.Header.Set("Date", "Sun, 30 Aug 2015 12:36:00 GMT")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
		"SignedHeaders=date;host, Signature="+sig)
	return r
}

func TestDateHeader(t *testing.T) {
	res, err := suiteVerifier().Verify(context.Background(), dateSignedRequest(), nil)
	if err != nil {
		t.Fatalf("Verify with a signed Date header: %v", err)
	}
	if res.Date.Format(amzDateLayout) != suiteDate {
		t.Errorf("Result.Date = %v", res.Date)
	}

	for name, c := range map[string]struct {
		change func(r *http.Request)
		reason Reason
	}{
		"Date malformed": {func(r *http.Request) { r.Header.Set("Date", "30/08/2015 12:36") }, ReasonMalformedDate},
		"Date twice":     {func(r *http.Request) { r.Header.Add("Date", "Sun, 30 Aug 2015 12:36:00 GMT") }, ReasonMalformedDate},
		"Date changed":   {func(r *http.Request) { r.Header.Set("Date", "Sun, 30 Aug 2015 12:36:01 GMT") }, ReasonSignatureMismatch},
		// X-Amz-Date takes precedence over Date, and must then be signed.
		"X-Amz-Date added": {func(r *http.Request) { r.Header.Set("X-Amz-Date", suiteDate) }, ReasonUnsignedHeader},
		"Date unsigned": {func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
				"SignedHeaders=host, Signature="+suiteSignature("x"))
		}, ReasonUnsignedHeader},
	} {
		t.Run(name, func(t *testing.T) {
			r := dateSignedRequest()
			c.change(r)
			_, err := suiteVerifier().Verify(context.Background(), r, nil)
			var e *Error
			if !errors.As(err, &e) || e.Reason != c.reason {
				t.Fatalf("Verify = %v, want reason %s", err, c.reason)
			}
		})
	}
}
