package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
)

// clearEnv unsets the ARCA_* variables for the test (empty means unset).
func clearEnv(t *testing.T) {
	t.Helper()
	for _, e := range []string{envAddr, envToken, envCACert} {
		t.Setenv(e, "")
	}
}

// result is the outcome of one CLI run.
type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// probe runs the root command with an extra test subcommand that captures
// the resolved global flags.
func probe(t *testing.T, args ...string) (*globalFlags, error) {
	t.Helper()
	root := NewRootCommand()
	var got *globalFlags
	root.AddCommand(&cobra.Command{
		Use: "probe",
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := loadGlobalFlags(cmd)
			got = g
			return err
		},
	})
	root.SetArgs(append([]string{"probe"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	err := root.Execute()
	return got, err
}

func TestGlobalFlagPrecedence(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		addr, tok string
		ca        string
	}{
		{name: "defaults", addr: defaultAddr},
		{
			name: "env",
			env:  map[string]string{envAddr: "https://env:1", envToken: "env-tok", envCACert: "/env.pem"},
			addr: "https://env:1", tok: "env-tok", ca: "/env.pem",
		},
		{
			name: "flags win over env",
			env:  map[string]string{envAddr: "https://env:1", envToken: "env-tok", envCACert: "/env.pem"},
			args: []string{"--addr", "https://flag:2", "--token", "flag-tok", "--ca-cert", "/flag.pem"},
			addr: "https://flag:2", tok: "flag-tok", ca: "/flag.pem",
		},
		{
			name: "flag equal to default still wins",
			env:  map[string]string{envAddr: "https://env:1"},
			args: []string{"--addr", defaultAddr},
			addr: defaultAddr,
		},
		{
			name: "explicit empty token flag wins",
			env:  map[string]string{envToken: "env-tok"},
			args: []string{"--token="},
			addr: defaultAddr,
		},
		{
			name: "mixed",
			env:  map[string]string{envToken: "env-tok"},
			args: []string{"--addr", "http://flag:3"},
			addr: "http://flag:3", tok: "env-tok",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			g, err := probe(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if g.addr != tt.addr || g.token != tt.tok || g.caCert != tt.ca || g.output != outputText {
				t.Errorf("got %+v, want addr %q token %q ca %q", *g, tt.addr, tt.tok, tt.ca)
			}
		})
	}
}

func TestOutputFlag(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{{"-o", "json"}, {"--output=json"}} {
		g, err := probe(t, args...)
		if err != nil || !g.json() {
			t.Errorf("%v: g=%+v err=%v", args, g, err)
		}
	}
	if _, err := probe(t, "-o", "yaml"); err == nil {
		t.Error("-o yaml: want error")
	}
}

// fakeServer is a hand-written stand-in for the API: it records requests
// and answers from a table keyed by "METHOD path".
type fakeServer struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []fakeRequest
	resp map[string]fakeResponse
}

type fakeRequest struct {
	method, path, query, auth string
	body                      map[string]any
}

type fakeResponse struct {
	status int
	body   string
}

func newFakeServer(t *testing.T, resp map[string]fakeResponse) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, resp: resp}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fr := fakeRequest{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, auth: r.Header.Get("Authorization")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			if err := json.Unmarshal(b, &fr.body); err != nil {
				t.Errorf("request body is not JSON: %v", err)
			}
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, fr)
		f.mu.Unlock()
		res, ok := f.resp[r.Method+" "+r.URL.EscapedPath()]
		if !ok {
			res = fakeResponse{404, `{"error":{"code":"not_found","message":"no such endpoint"}}`}
		}
		if res.status == 0 {
			res.status = 200
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "rid")
		w.WriteHeader(res.status)
		io.WriteString(w, res.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

func (f *fakeServer) last() fakeRequest {
	f.t.Helper()
	r := f.requests()
	if len(r) == 0 {
		f.t.Fatal("no request reached the server")
	}
	return r[len(r)-1]
}

const statusUnsealed = `{"initialized":true,"sealed":false,"threshold":3,"shares":5,"progress":0,"version":"0.1.0"}`
const statusSealed = `{"initialized":true,"sealed":true,"threshold":3,"shares":5,"progress":1,"version":"0.1.0"}`

func TestEnvAndFlagReachServer(t *testing.T) {
	clearEnv(t)
	envSrv := newFakeServer(t, map[string]fakeResponse{"POST /v1/sys/seal": {body: statusSealed}})
	flagSrv := newFakeServer(t, map[string]fakeResponse{"POST /v1/sys/seal": {body: statusSealed}})
	t.Setenv(envAddr, envSrv.srv.URL)
	t.Setenv(envToken, "env-tok")

	if r := runCLI(t, "", "operator", "seal"); r.code != 0 {
		t.Fatalf("seal via env: %+v", r)
	}
	if got := envSrv.last().auth; got != "Bearer env-tok" {
		t.Errorf("env token: Authorization %q", got)
	}
	if r := runCLI(t, "", "--addr", flagSrv.srv.URL, "--token", "flag-tok", "operator", "seal"); r.code != 0 {
		t.Fatalf("seal via flags: %+v", r)
	}
	if got := flagSrv.last().auth; got != "Bearer flag-tok" {
		t.Errorf("flag token: Authorization %q", got)
	}
	if n := len(envSrv.requests()); n != 1 {
		t.Errorf("env server got %d requests, want 1", n)
	}
}

func TestUsageErrors(t *testing.T) {
	clearEnv(t)
	srv := newFakeServer(t, nil)
	t.Setenv(envAddr, srv.srv.URL)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"key", "bogus"}, `unknown command "bogus" for "arca key"`},
		{[]string{"operator", "stauts"}, "did you mean status"},
		{[]string{"--bogus"}, "unknown flag"},
		{[]string{"key", "list", "--limit", "x"}, "invalid argument"},
		{[]string{"key", "list", "--limit", "-1"}, "--limit"},
		{[]string{"-o", "yaml", "operator", "status"}, "invalid --output"},
		{[]string{"operator", "init", "extra"}, "unknown command"},
		{[]string{"operator", "status", "extra"}, "unknown command"},
		{[]string{"operator", "unseal", "a", "b"}, "accepts at most 1 arg"},
		{[]string{"operator", "unseal", "share", "--reset"}, "not both"},
		{[]string{"operator", "unseal"}, "no unseal share"},
		{[]string{"key", "create"}, "accepts 1 arg"},
		{[]string{"key", "create", "k", "--label", "noequals"}, "invalid --label"},
		{[]string{"key", "create", "k", "--label", "=v"}, "invalid --label"},
		{[]string{"key", "create", "k", "--label", "a=1", "--label", "a=2"}, "more than once"},
		{[]string{"key", "list", "--label", "x"}, "invalid --label"},
		{[]string{"key", "show"}, "accepts 1 arg"},
		{[]string{"key", "show", "a", "b"}, "accepts 1 arg"},
		{[]string{"key", "rotate"}, "accepts 1 arg"},
		{[]string{"key", "versions"}, "accepts 1 arg"},
		{[]string{"encrypt"}, "give either KEY or --public-key FILE"},
		{[]string{"encrypt", "k", "--public-key", "pub.json"}, "give either KEY or --public-key FILE"},
		{[]string{"encrypt", "a", "b"}, "accepts at most 1 arg"},
		{[]string{"encrypt", "k", "--plaintext", "x", "--in", "f"}, "not both"},
		{[]string{"encrypt", "k", "--plaintext", "x", "--context", "nokv"}, "invalid --context"},
		{[]string{"decrypt", "a", "b"}, "accepts at most 1 arg"},
		{[]string{"decrypt", "--ciphertext", "  "}, "no ciphertext"},
		{[]string{"decrypt", "--ciphertext", "c", "--out", "f", "-o", "json"}, "cannot be combined"},
		{[]string{"rewrap", "--ciphertext", "c"}, "accepts 1 arg"},
		{[]string{"datakey", "k", "--bits", "384"}, "--bits"},
		{[]string{"datakey"}, "accepts 1 arg"},
		{[]string{"random", "abc"}, "positive integer"},
		{[]string{"random", "0"}, "positive integer"},
		{[]string{"random", "1", "2"}, "accepts at most 1 arg"},
		{[]string{"random", "--format", "oct"}, "invalid --format"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, "", tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr: %s", r.code, exitUsage, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "arca: ") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.want)
			}
			if !strings.Contains(r.stderr, "Usage: ") {
				t.Errorf("stderr lacks usage hint: %q", r.stderr)
			}
		})
	}
	if reqs := srv.requests(); len(reqs) != 0 {
		t.Errorf("usage errors reached the server: %+v", reqs)
	}
}

func TestGroupsShowHelp(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{{}, {"key"}, {"operator"}} {
		r := runCLI(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Available Commands") {
			t.Errorf("%v: code %d stdout %q", args, r.code, r.stdout)
		}
	}
}

func TestServerAndBenchRefuseBadSettings(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"server", "--dev-root-token", "arca_0123456789abcdef"}, exitUsage, "needs --dev"},
		{[]string{"server", "--listen", "0.0.0.0:0", "--storage-path", dir + "/a.db", "--audit-path", dir + "/a.log"}, exitError, "refusing plain HTTP"},
		{[]string{"server", "--config", dir + "/missing.yaml"}, exitError, "missing.yaml"},
		{[]string{"server", "extra-arg"}, exitUsage, ""},
		{[]string{"bench", "--op", "sign", "--addr", "http://127.0.0.1:1"}, exitError, "unknown operation"},
		{[]string{"bench", "--clients", "0"}, exitError, "clients must be"},
	} {
		r := runCLI(t, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %+v", tc.args, r)
		}
	}
}

func TestAPIErrorFormat(t *testing.T) {
	clearEnv(t)
	srv := newFakeServer(t, map[string]fakeResponse{
		"GET /v1/keys/billing": {404, `{"error":{"code":"key_not_found","message":"key \"billing\" not found"}}`},
		"GET /v1/keys/proxy":   {502, `<html>Bad Gateway</html>`},
	})
	t.Setenv(envAddr, srv.srv.URL)
	t.Setenv(envToken, "tok-SECRET")
	r := runCLI(t, "", "key", "show", "billing")
	if r.code != exitError || r.stderr != "arca: key \"billing\" not found (code: key_not_found)\n" || r.stdout != "" {
		t.Errorf("%+v", r)
	}
	r = runCLI(t, "", "key", "show", "proxy")
	if r.code != exitError || !strings.HasPrefix(r.stderr, "arca: unexpected response from server: 502") || strings.Contains(r.stderr, "code:") {
		t.Errorf("%+v", r)
	}
	// Transport errors: no double prefix, no token.
	srv.srv.Close()
	r = runCLI(t, "", "key", "show", "billing")
	if r.code != exitError || strings.HasPrefix(r.stderr, "arca: arca:") || strings.Contains(r.stderr, "SECRET") {
		t.Errorf("%+v", r)
	}
	// Invalid address.
	r = runCLI(t, "", "--addr", "127.0.0.1:8200", "key", "show", "x")
	if r.code != exitError || !strings.Contains(r.stderr, "http://") {
		t.Errorf("%+v", r)
	}
}

func TestOperatorStatusExitCode(t *testing.T) {
	clearEnv(t)
	for _, tt := range []struct {
		body string
		code int
	}{
		{statusUnsealed, 0},
		{statusSealed, exitSealed},
		{`{"initialized":false,"sealed":true,"threshold":0,"shares":0,"progress":0,"version":"0.1.0"}`, exitSealed},
	} {
		srv := newFakeServer(t, map[string]fakeResponse{"GET /v1/sys/seal-status": {body: tt.body}})
		t.Setenv(envAddr, srv.srv.URL)
		r := runCLI(t, "", "operator", "status")
		if r.code != tt.code || r.stderr != "" || !strings.Contains(r.stdout, "Sealed:") {
			t.Errorf("%s: %+v", tt.body, r)
		}
		r = runCLI(t, "", "operator", "status", "-o", "json")
		var st map[string]any
		if r.code != tt.code || json.Unmarshal([]byte(r.stdout), &st) != nil || st["threshold"] == nil {
			t.Errorf("json %s: %+v", tt.body, r)
		}
	}
}

func TestOperatorInit(t *testing.T) {
	clearEnv(t)
	srv := newFakeServer(t, map[string]fakeResponse{
		"POST /v1/sys/init": {body: `{"shares":["arca-share-1-a","arca-share-2-b"],"root_token":"arca_root"}`},
	})
	t.Setenv(envAddr, srv.srv.URL)
	r := runCLI(t, "", "operator", "init", "--shares", "2", "--threshold", "2")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"arca-share-1-a\n", "arca-share-2-b\n", "arca_root\n", "exactly once"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if b := srv.last().body; b["shares"] != 2.0 || b["threshold"] != 2.0 || srv.last().auth != "" {
		t.Errorf("request %+v", srv.last())
	}
	r = runCLI(t, "", "operator", "init", "-o", "json")
	var res map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res["root_token"] != "arca_root" {
		t.Errorf("json: %+v", r)
	}
	if !strings.Contains(r.stderr, "exactly once") {
		t.Errorf("json mode: warning missing from stderr: %q", r.stderr)
	}
	if b := srv.last().body; b["shares"] != 5.0 || b["threshold"] != 3.0 {
		t.Errorf("defaults: %+v", b)
	}
}

func TestOperatorUnseal(t *testing.T) {
	clearEnv(t)
	srv := newFakeServer(t, map[string]fakeResponse{"POST /v1/sys/unseal": {body: statusSealed}})
	t.Setenv(envAddr, srv.srv.URL)
	if r := runCLI(t, "", "operator", "unseal", "arca-share-1-a"); r.code != 0 || !strings.Contains(r.stdout, "Progress:") {
		t.Errorf("%+v", r)
	}
	if b := srv.last().body; len(b) != 1 || b["share"] != "arca-share-1-a" {
		t.Errorf("body %+v", b)
	}
	if r := runCLI(t, "  arca-share-2-b \n", "operator", "unseal"); r.code != 0 {
		t.Errorf("%+v", r)
	}
	if b := srv.last().body; b["share"] != "arca-share-2-b" {
		t.Errorf("stdin share: body %+v", b)
	}
	if r := runCLI(t, "", "operator", "unseal", "--reset"); r.code != 0 {
		t.Errorf("%+v", r)
	}
	if b := srv.last().body; len(b) != 1 || b["reset"] != true {
		t.Errorf("reset: body %+v", b)
	}
}

func TestKeyCommands(t *testing.T) {
	clearEnv(t)
	key := `{"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","name":"billing","algorithm":"aes-256-gcm","description":"invoices",
		"labels":{"team":"payments"},"owner":"payments-team","primary_version":2,"created_at":"2026-11-23T21:00:00Z",
		"created_by":"root","updated_at":"2026-11-23T21:05:00Z"}`
	srv := newFakeServer(t, map[string]fakeResponse{
		"POST /v1/keys":                 {201, key},
		"GET /v1/keys":                  {200, `{"keys":[` + key + `],"next_page_token":"next"}`},
		"GET /v1/keys/a%2Fb":            {200, key},
		"POST /v1/keys/billing/rotate":  {200, key},
		"GET /v1/keys/billing/versions": {200, `{"versions":[{"version":1,"algorithm":"aes-256-gcm","created_at":"2026-11-23T21:00:00Z","created_by":"root","provenance":{"generator":"arca","entropy_source":"crypto/rand","server_version":"0.1.0"}}],"next_page_token":""}`},
	})
	t.Setenv(envAddr, srv.srv.URL)
	t.Setenv(envToken, "tok")

	r := runCLI(t, "", "key", "create", "billing", "--description", "invoices", "--label", "team=payments",
		"--label", "env=a=b", "--owner", "payments-team")
	if r.code != 0 || !strings.Contains(r.stdout, "1b4e28ba-2fa1-11d2-883f-0016d3cca427") {
		t.Fatalf("%+v", r)
	}
	b := srv.last().body
	if b["name"] != "billing" || b["algorithm"] != "aes-256-gcm" || b["owner"] != "payments-team" ||
		b["labels"].(map[string]any)["env"] != "a=b" {
		t.Errorf("create body %+v", b)
	}

	r = runCLI(t, "", "key", "list", "--label", "team=payments", "--limit", "5")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME ID ALGORITHM STATE PRIMARY CREATED" ||
		strings.Join(strings.Fields(lines[1]), " ") != "billing 1b4e28ba-2fa1-11d2-883f-0016d3cca427 aes-256-gcm - 2 2026-11-23T21:00:00Z" {
		t.Errorf("table:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "--page-token next") {
		t.Errorf("stderr %q", r.stderr)
	}
	if q := srv.last().query; q != "label=team%3Dpayments&limit=5" {
		t.Errorf("query %q", q)
	}

	r = runCLI(t, "", "key", "show", "a/b", "-o", "json")
	var k map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &k) != nil || k["primary_version"] != 2.0 {
		t.Errorf("show: %+v", r)
	}
	if r := runCLI(t, "", "key", "rotate", "billing"); r.code != 0 || srv.last().path != "/v1/keys/billing/rotate" {
		t.Errorf("rotate: %+v", r)
	}
	r = runCLI(t, "", "key", "versions", "billing")
	if r.code != 0 || !strings.Contains(r.stdout, "crypto/rand") {
		t.Errorf("versions: %+v", r)
	}
}

func TestCryptoCommands(t *testing.T) {
	clearEnv(t)
	srv := newFakeServer(t, map[string]fakeResponse{
		"POST /v1/keys/billing/encrypt": {body: `{"key_id":"kid","key_version":1,"ciphertext":"arca:v1:ct"}`},
		"POST /v1/keys/billing/decrypt": {body: `{"key_id":"kid","key_version":1,"plaintext":"AAEC/w=="}`},
		"POST /v1/decrypt":              {body: `{"key_id":"kid","key_version":1,"plaintext":"aGk="}`},
		"POST /v1/keys/billing/rewrap":  {body: `{"key_id":"kid","key_version":2,"ciphertext":"arca:v1:new"}`},
		"POST /v1/keys/billing/datakey": {body: `{"key_id":"kid","key_version":2,"ciphertext":"arca:v1:dk","plaintext":"AAEC"}`},
		"POST /v1/random":               {body: `{"random":"AAEC"}`},
	})
	t.Setenv(envAddr, srv.srv.URL)
	t.Setenv(envToken, "tok")

	// encrypt from stdin, byte for byte.
	r := runCLI(t, "hello\n", "encrypt", "billing", "--aad", "ad", "--context", "tenant=42")
	if r.code != 0 || r.stdout != "arca:v1:ct\n" {
		t.Fatalf("%+v", r)
	}
	b := srv.last().body
	if b["plaintext"] != "aGVsbG8K" || b["associated_data"] != "YWQ=" || b["context"].(map[string]any)["tenant"] != "42" {
		t.Errorf("encrypt body %+v", b)
	}
	// encrypt from a flag and a file.
	if r := runCLI(t, "", "encrypt", "billing", "--plaintext", "hi"); r.code != 0 || srv.last().body["plaintext"] != "aGk=" {
		t.Errorf("%+v %+v", r, srv.last().body)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, []byte{0, 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "encrypt", "billing", "--in", in); r.code != 0 || srv.last().body["plaintext"] != "AAE=" {
		t.Errorf("%+v %+v", r, srv.last().body)
	}
	if _, ok := srv.last().body["associated_data"]; ok {
		t.Error("associated_data sent without --aad")
	}

	// decrypt writes raw bytes.
	r = runCLI(t, "arca:v1:ct\n", "decrypt", "billing")
	if r.code != 0 || r.stdout != "\x00\x01\x02\xff" {
		t.Errorf("decrypt: %+v", r)
	}
	if b := srv.last().body; b["ciphertext"] != "arca:v1:ct" {
		t.Errorf("decrypt body %+v", b)
	}
	r = runCLI(t, "", "decrypt", "--ciphertext", "arca:v1:ct")
	if r.code != 0 || r.stdout != "hi" || srv.last().path != "/v1/decrypt" {
		t.Errorf("decrypt without key: %+v", r)
	}
	out := filepath.Join(dir, "out")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", "decrypt", "billing", "--ciphertext", "arca:v1:ct", "--out", out)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("decrypt --out: %+v", r)
	}
	if data, err := os.ReadFile(out); err != nil || string(data) != "\x00\x01\x02\xff" {
		t.Errorf("out file %q %v", data, err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("out file mode %v %v", fi.Mode(), err)
	}

	if r := runCLI(t, "", "rewrap", "billing", "--ciphertext", " arca:v1:ct "); r.code != 0 || r.stdout != "arca:v1:new\n" ||
		srv.last().body["ciphertext"] != "arca:v1:ct" {
		t.Errorf("rewrap: %+v", r)
	}

	r = runCLI(t, "", "datakey", "billing")
	if r.code != 0 || r.stdout != "ciphertext: arca:v1:dk\nplaintext: AAEC\n" {
		t.Errorf("datakey: %+v", r)
	}
	if b := srv.last().body; b["bits"] != 256.0 {
		t.Errorf("datakey body %+v", b)
	}
	runCLI(t, "", "datakey", "billing", "--bits", "128", "--without-plaintext")
	if b := srv.last().body; b["bits"] != 128.0 || b["without_plaintext"] != true {
		t.Errorf("datakey body %+v", b)
	}

	if r := runCLI(t, "", "random"); r.code != 0 || r.stdout != "AAEC\n" || srv.last().body["bytes"] != 32.0 {
		t.Errorf("random: %+v", r)
	}
	if r := runCLI(t, "", "random", "3", "--format", "hex"); r.code != 0 || r.stdout != "000102\n" || srv.last().body["bytes"] != 3.0 {
		t.Errorf("random hex: %+v", r)
	}
	if r := runCLI(t, "", "random", "-o", "json"); r.code != 0 || strings.TrimSpace(r.stdout) != "{\n  \"random\": \"AAEC\"\n}" {
		t.Errorf("random json: %+v", r)
	}
}
