package rest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// fuzzMethods maps the method selector of FuzzHandler.
var fuzzMethods = [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}

// fuzzContentTypes maps the content-type selector of FuzzHandler; "" sends
// no Content-Type header.
var fuzzContentTypes = [...]string{
	"application/json",
	"",
	"application/json; charset=utf-8",
	"text/plain",
	"Application/JSON",
	"application/json; charset", // malformed parameter
	"application/x-www-form-urlencoded",
	"application/json, text/plain", // not one media type
}

// fuzzRequest builds the request the way net/http's server would from the
// request line, so every path FuzzHandler tries is one a real client could
// send. It returns nil for inputs a server would refuse before the handler.
func fuzzRequest(method, path, contentType string, body []byte, token string) *http.Request {
	if strings.ContainsAny(path, " \r\n") {
		return nil // would not even be one request line
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: arca.test\r\n", method, path)
	if contentType != "" {
		fmt.Fprintf(&head, "Content-Type: %s\r\n", contentType)
	}
	if token != "" {
		fmt.Fprintf(&head, "Authorization: Bearer %s\r\n", token)
	}
	fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", len(body))
	req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(head.String()), bytes.NewReader(body))))
	if err != nil {
		return nil
	}
	req.RemoteAddr = "192.0.2.7:50123"
	return req
}

// FuzzHandler drives the whole handler with arbitrary method, path, content
// type, body and presence of the root token against a real, dev-initialised
// service with a few keys. Properties, for every input:
//
//   - the handler does not panic (the recover in ServeHTTP would hide a
//     panic as 500 internal, which the next property catches);
//   - the response is application/json, valid JSON, and carries a request
//     id and the security headers;
//   - a non-2xx response has the {"error":{"code","message"}} shape, with a
//     code listed in statusOf and exactly statusOf's status for it;
//   - the status is never 500: storage is intact, so no input justifies an
//     internal error.
//
// The committed seeds under testdata/fuzz/FuzzHandler include regressions
// for three bugs this target found (see TestNonCanonicalPathsAnswerJSON,
// TestInvalidPageTokenIsInvalidArgument and TestTopLevelNullIsInvalidJSON).
//
// 2xx answers to mutating routes are fine: the fuzzer may create and rotate
// keys. If it seals the server, the environment is rebuilt so that later
// inputs still reach the authenticated routes.
//
// In paths and bodies the placeholders $CT, $KEYID and $TOKEN stand for a
// valid ciphertext, the id of key "alpha" and the root token of the
// current process.
func FuzzHandler(f *testing.F) {
	base := f.TempDir()
	generation := 0
	var env *restEnv
	build := func() error {
		generation++
		dir, err := os.MkdirTemp(base, fmt.Sprintf("gen%d-", generation))
		if err != nil {
			return err
		}
		e, err := openRestEnv(dir)
		if err != nil {
			return err
		}
		if err := e.devInit(); err != nil {
			e.close()
			return err
		}
		if err := e.seedKeys(); err != nil {
			e.close()
			return err
		}
		env = e
		return nil
	}
	if err := build(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { env.close() })

	for _, s := range fuzzSeeds() {
		f.Add(s.method, s.path, s.ct, s.body, s.token)
	}

	f.Fuzz(func(t *testing.T, methodSel byte, path string, ctSel byte, body []byte, withToken bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		path = env.expand(path)
		if bytes.Contains(body, []byte("$")) {
			body = []byte(env.expand(string(body)))
		}
		token := ""
		if withToken {
			token = env.token
		}
		method := fuzzMethods[int(methodSel)%len(fuzzMethods)]
		ct := fuzzContentTypes[int(ctSel)%len(fuzzContentTypes)]
		req := fuzzRequest(method, path, ct, body, token)
		if req == nil {
			return
		}
		rec := httptest.NewRecorder()
		env.h.ServeHTTP(rec, req)
		if env.svc.Status().Sealed {
			env.close()
			if err := build(); err != nil {
				t.Fatalf("rebuild after seal: %v", err)
			}
		}

		where := fmt.Sprintf("%s %.200q (content type %q, token %v, %d-byte body)", method, req.RequestURI, ct, withToken, len(body))
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s: status 500: %.300q", where, rec.Body)
		}
		if msg := checkEnvelope(rec); msg != "" {
			t.Fatalf("%s: status %d: %s; body %.300q", where, rec.Code, msg, rec.Body)
		}
		if rec.Code < 200 || rec.Code > 299 {
			if _, msg := parseError(rec); msg != "" {
				t.Fatalf("%s: status %d: %s; body %.300q", where, rec.Code, msg, rec.Body)
			}
		}
	})
}

type fuzzSeed struct {
	method byte
	path   string
	ct     byte
	body   []byte
	token  bool
}

// Selector values for readable seeds.
const (
	sGET, sPOST, sPUT, sDELETE                                              = 0, 1, 2, 3
	ctJSON, ctNone, ctJSONUTF8, ctText, ctUpper, ctBadParam, ctForm, ctList = 0, 1, 2, 3, 4, 5, 6, 7
)

func fuzzSeeds() []fuzzSeed {
	b := func(s string) []byte { return []byte(s) }
	nested := strings.Repeat("[", 10000)
	bigItems := `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"key":"alpha","plaintext":"`+strings.Repeat("QUJD", 1000)+`"},`, 500), ",") + `]}`
	return []fuzzSeed{
		// Valid requests on every route.
		{sGET, "/v1/health", ctNone, nil, false},
		{sGET, "/v1/sys/seal-status", ctNone, nil, false},
		{sPOST, "/v1/sys/init", ctJSON, b(`{"shares":3,"threshold":2}`), false},
		{sPOST, "/v1/sys/unseal", ctJSON, b(`{"reset":true}`), false},
		{sPOST, "/v1/sys/unseal", ctJSON, b(`{"share":"not-a-share"}`), false},
		{sPOST, "/v1/sys/seal", ctNone, nil, true},
		{sPOST, "/v1/keys", ctJSON, b(`{"name":"fuzz-key","algorithm":"aes-256-gcm","description":"d","labels":{"a":"b"},"owner":"o"}`), true},
		{sGET, "/v1/keys?limit=2&label=team=payments", ctNone, nil, true},
		{sGET, "/v1/keys/alpha", ctNone, nil, true},
		{sGET, "/v1/keys/$KEYID", ctNone, nil, true},
		{sPOST, "/v1/keys/beta/rotate", ctNone, nil, true},
		{sGET, "/v1/keys/alpha/versions?limit=1", ctNone, nil, true},
		{sPOST, "/v1/keys/gamma.v1_x-y/lifecycle", ctJSON, b(`{"action":"suspend"}`), true},
		{sPOST, "/v1/keys/gamma.v1_x-y/lifecycle", ctJSON, b(`{"action":"schedule-destruction","waiting_days":1}`), true},
		{sPOST, "/v1/keys/beta/versions/1/lifecycle", ctJSON, b(`{"action":"compromise"}`), true},
		{sPOST, "/v1/keys/beta/versions/0/lifecycle", ctJSON, b(`{"action":"destroy","waiting_days":-1}`), true},
		{sPOST, "/v1/keys/beta/versions/99999999999/lifecycle", ctJSON, b(`{"action":"nope"}`), true},
		{sPOST, "/v1/keys/alpha/encrypt", ctJSON, b(`{"plaintext":"aGVsbG8=","associated_data":"YWQ=","context":{"k":"v"}}`), true},
		{sPOST, "/v1/keys/alpha/decrypt", ctJSON, b(`{"ciphertext":"$CT"}`), true},
		{sPOST, "/v1/decrypt", ctJSONUTF8, b(`{"ciphertext":"$CT"}`), true},
		{sPOST, "/v1/keys/beta/decrypt", ctJSON, b(`{"ciphertext":"$CT"}`), true},
		{sPOST, "/v1/keys/alpha/rewrap", ctJSON, b(`{"ciphertext":"$CT","context":{}}`), true},
		{sPOST, "/v1/keys/alpha/datakey", ctJSON, b(`{"bits":128,"without_plaintext":true}`), true},
		{sPOST, "/v1/random", ctJSON, b(`{"bytes":32}`), true},
		{sPOST, "/v1/batch/encrypt", ctJSON, b(`{"items":[{"key":"alpha","plaintext":""},{"key":"nope","plaintext":"eA=="}]}`), true},
		{sPOST, "/v1/batch/decrypt", ctJSON, b(`{"items":[{"ciphertext":"$CT"},{"key":"beta","ciphertext":"$CT"},{"ciphertext":"arca:v1:AAAA"}]}`), true},
		{sPOST, "/v1/batch/rewrap", ctJSON, b(`{"items":[{"key":"alpha","ciphertext":"$CT"}]}`), true},
		// Duplicate fields, numbers out of range, wrong types.
		{sPOST, "/v1/keys/alpha/encrypt", ctJSON, b(`{"plaintext":"aGk=","plaintext":"aGk="}`), true},
		{sPOST, "/v1/random", ctJSON, b(`{"bytes":1e400}`), true},
		{sPOST, "/v1/random", ctJSON, b(`{"bytes":-1}`), true},
		{sPOST, "/v1/random", ctJSON, b(`{"bytes":99999999999999999999}`), true},
		{sPOST, "/v1/keys/alpha/datakey", ctJSON, b(`{"bits":-256}`), true},
		{sPOST, "/v1/sys/init", ctJSON, b(`{"shares":-1,"threshold":1e400}`), false},
		{sPOST, "/v1/random", ctJSON, b(`{"bytes":"32"}`), true},
		{sPOST, "/v1/batch/encrypt", ctJSON, b(`{"items":{"key":"alpha"}}`), true},
		{sPOST, "/v1/batch/decrypt", ctJSON, b(`{"items":[null,{"ciphertext":null}]}`), true},
		// Deep nesting, invalid UTF-8, NUL, null, empty.
		{sPOST, "/v1/keys", ctJSON, b(nested), true},
		{sPOST, "/v1/batch/encrypt", ctJSON, b(`{"items":` + nested), true},
		{sPOST, "/v1/keys", ctJSON, b("{\"name\":\"k\xff\xfe\"}"), true},
		{sPOST, "/v1/keys/alpha/encrypt", ctJSON, b("{\"plaintext\":\"aGk=\",\"context\":{\"\xc3\x28\":\"v\"}}"), true},
		{sPOST, "/v1/keys", ctJSON, b(`{"name":"a\u0000b"}`), true},
		{sPOST, "/v1/keys", ctJSON, b(`{"name":"ok-name","labels":{"k":"\u0000"}}`), true},
		{sPOST, "/v1/keys/alpha/encrypt", ctJSON, b(`{"plaintext":"aGk=","context":{"\u0000":"\u0000"}}`), true},
		{sPOST, "/v1/keys", ctJSON, b(`null`), true},
		{sPOST, "/v1/keys/alpha/encrypt", ctJSON, b(`null`), true},
		{sPOST, "/v1/keys", ctJSON, b(``), true},
		{sPOST, "/v1/keys", ctText, b(`{}`), true},
		{sPOST, "/v1/sys/seal", ctText, b(`{}`), true},
		{sPOST, "/v1/random", ctBadParam, b(`{"bytes":1}`), true},
		{sPOST, "/v1/random", ctUpper, b(`{"bytes":1}`), true},
		{sPOST, "/v1/random", ctList, b(`{"bytes":1}`), true},
		{sPOST, "/v1/random", ctForm, b(`bytes=1`), true},
		{sPOST, "/v1/keys/alpha/encrypt", ctJSON, b(`{"plaintext":"not base64!"}`), true},
		{sPOST, "/v1/keys/alpha/decrypt", ctJSON, b(`{"ciphertext":"arca:v1:` + strings.Repeat("A", 200) + `"}`), true},
		// Paths: long names, traversal, encoded slashes, odd bytes, queries.
		{sGET, "/v1/keys/" + strings.Repeat("k", 100000), ctNone, nil, true},
		{sPOST, "/v1/keys/" + strings.Repeat("k", 129) + "/encrypt", ctJSON, b(`{"plaintext":"aGk="}`), true},
		{sPOST, "/v1/keys/../sys/init", ctJSON, b(`{}`), false},
		{sGET, "/v1/keys/%2e%2e", ctNone, nil, true},
		{sGET, "/v1/keys/%2e%2e/sys/seal-status", ctNone, nil, true},
		{sPOST, "/v1/keys/a%2Fb/encrypt", ctJSON, b(`{"plaintext":"aGk="}`), true},
		{sPOST, "/v1/keys/alpha%2Fencrypt", ctJSON, b(`{"plaintext":"aGk="}`), true},
		{sGET, "/v1/keys/%00", ctNone, nil, true},
		{sGET, "/v1/keys/\xff\xfe", ctNone, nil, true},
		{sGET, "/v1/keys/%ff", ctNone, nil, true},
		{sGET, "/v1/keys/%zz", ctNone, nil, true},
		{sGET, "/v1/keys/alpha?", ctNone, nil, true},
		{sGET, "/v1/keys/alpha?x=1", ctNone, nil, true},
		{sGET, "/v1/keys?limit=1&limit=2", ctNone, nil, true},
		{sGET, "/v1/keys?limit=0", ctNone, nil, true},
		{sGET, "/v1/keys?limit=99999999999999999999999", ctNone, nil, true},
		{sGET, "/v1/keys?label=noequals", ctNone, nil, true},
		{sGET, "/v1/keys?%zz", ctNone, nil, true},
		{sGET, "/v1/keys?page_token=!!", ctNone, nil, true},
		{sGET, "/v1/keys?page_token=YWxwaGE", ctNone, nil, true},
		{sGET, "/v1/keys?page_token=AA", ctNone, nil, true},
		{sGET, "/v1/keys/alpha/versions?page_token=" + strings.Repeat("_w", 27), ctNone, nil, true},
		{sPOST, "/v1/random?bytes=1", ctJSON, b(`{"bytes":1}`), true},
		{sPUT, "/v1/keys", ctJSON, b(`{}`), true},
		{sDELETE, "/v1/keys/alpha", ctNone, nil, true},
		{sGET, "/v1/nothing-here", ctNone, nil, false},
		{sGET, "/", ctNone, nil, false},
		{sGET, "/v1/keys/", ctNone, nil, true},
		{sGET, "/V1/KEYS", ctNone, nil, true},
		{sGET, "/v1/keys", ctNone, nil, false},
		// Huge bodies: over the route limit, and a multi-MB batch within it.
		{sPOST, "/v1/keys/alpha/encrypt", ctJSON, b(`{"plaintext":"` + strings.Repeat("QUJD", 300<<10) + `"}`), true},
		{sPOST, "/v1/batch/encrypt", ctJSON, b(bigItems), true},
	}
}
