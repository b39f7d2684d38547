package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUserAgent is the User-Agent header sent unless WithUserAgent
// overrides it, so that server logs can tell SDK traffic apart.
const DefaultUserAgent = "arca-go-client/1"

// DefaultTimeout bounds each request made through the default HTTP client
// (connection, request and response together). Use a context deadline for
// a tighter bound, or WithHTTPClient for a different policy.
const DefaultTimeout = 60 * time.Second

// maxResponseBody caps how much of a response is read. The largest legitimate
// response is a batch result whose size is bounded by the 4 MiB batch request
// limit plus per-item overhead; the cap leaves ample room while protecting
// the caller from a misbehaving server or proxy.
const maxResponseBody = 32 << 20

// Client calls the Arca REST API. It is immutable after New and safe for
// concurrent use; share one Client rather than creating one per request, so
// that connections are reused.
type Client struct {
	base      string // scheme://host[:port][/prefix], without trailing slash
	token     string
	approval  string
	userAgent string
	hc        *http.Client
}

// Option configures a Client in New.
type Option func(*settings) error

type settings struct {
	token     string
	approval  string
	hc        *http.Client
	tlsConfig *tls.Config
	userAgent string
}

// WithToken sets the bearer token sent on every authenticated endpoint.
// Without it only the unauthenticated endpoints (health, seal status, init,
// unseal) can succeed.
func WithToken(token string) Option {
	return func(s *settings) error {
		if !validHeaderValue(token) {
			// Never include the token itself in the error.
			return errors.New("arca: token contains characters not allowed in an HTTP header")
		}
		s.token = token
		return nil
	}
}

// approvalHeader carries the approval a request executes.
const approvalHeader = "Arca-Approval"

// WithApproval makes every request execute the approved request under dual
// control with this id (see docs/access.md): repeat the refused request
// with a Client made WithApproval(err.ApprovalID) once it is approved.
func WithApproval(id string) Option {
	return func(s *settings) error {
		if !validHeaderValue(id) {
			return errors.New("arca: invalid approval id")
		}
		s.approval = id
		return nil
	}
}

// WithHTTPClient makes the Client use hc for every request instead of its
// own pooled client. The caller then owns connection pooling, timeouts,
// redirects and TLS; it cannot be combined with WithTLSConfig.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("arca: WithHTTPClient: nil *http.Client")
		}
		s.hc = hc
		return nil
	}
}

// WithTLSConfig sets the TLS configuration of the default transport, for
// example to trust a private CA or present a client certificate. The config
// is cloned. It cannot be combined with WithHTTPClient.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(s *settings) error {
		if cfg == nil {
			return errors.New("arca: WithTLSConfig: nil *tls.Config")
		}
		s.tlsConfig = cfg.Clone()
		return nil
	}
}

// WithUserAgent replaces DefaultUserAgent, so that a tool built on the SDK
// identifies itself in server logs.
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		if ua == "" || !validHeaderValue(ua) {
			return errors.New("arca: invalid user agent")
		}
		s.userAgent = ua
		return nil
	}
}

// New returns a Client for the server at addr, an absolute http:// or
// https:// URL such as "http://127.0.0.1:8200". A path prefix is allowed
// (for a server behind a reverse proxy); credentials, query and fragment are
// not.
func New(addr string, opts ...Option) (*Client, error) {
	base, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	s := settings{userAgent: DefaultUserAgent}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}
	if s.hc != nil && s.tlsConfig != nil {
		return nil, errors.New("arca: WithHTTPClient and WithTLSConfig cannot be combined; configure TLS on the given client")
	}
	hc := s.hc
	if hc == nil {
		hc = newHTTPClient(s.tlsConfig)
	}
	return &Client{base: base, token: s.token, approval: s.approval, userAgent: s.userAgent, hc: hc}, nil
}

// Address returns the normalised server address the Client talks to.
func (c *Client) Address() string { return c.base }

// CloseIdleConnections closes idle pooled connections; call it when the
// Client is no longer needed in a long-running program.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

var errSchemeRequired = errors.New("arca: invalid server address: it must start with http:// or https://")

// parseAddr validates addr and returns it without a trailing slash. Errors
// do not echo addr, which could hold credentials.
func parseAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("arca: server address is empty")
	}
	if !strings.Contains(addr, "://") {
		return "", errSchemeRequired
	}
	u, err := url.Parse(addr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("arca: invalid server address: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errSchemeRequired
	case u.Opaque != "" || u.Hostname() == "":
		return "", errors.New("arca: invalid server address: missing host")
	case u.User != nil:
		return "", errors.New("arca: invalid server address: credentials are not allowed in the address; use WithToken")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("arca: invalid server address: query and fragment are not allowed")
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// newHTTPClient returns the default pooled client. Many idle connections
// per host are kept so that a Client shared by many goroutines reuses
// connections instead of churning them. Redirects are not followed: the API
// never redirects, and following one could send a request body holding
// plaintext somewhere unexpected.
func newHTTPClient(tlsConfig *tls.Config) *http.Client {
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       tlsConfig,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: t,
		Timeout:   DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// validHeaderValue reports whether v can be sent as a header value as is.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b == 0x7f {
			return false
		}
	}
	return true
}

// response is a fully read HTTP response.
type response struct {
	status    int
	requestID string
	body      []byte
}

// send performs one request. in, when non-nil, is sent as the JSON body;
// auth adds the bearer token.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, auth bool, in any) (*response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("arca: encoding request for %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.roundTrip(ctx, method, u, auth, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("arca: reading response of %s %s: %w", method, path, err)
	}
	if len(data) > maxResponseBody {
		return nil, fmt.Errorf("arca: response of %s %s exceeds %d bytes", method, path, maxResponseBody)
	}
	return &response{status: resp.StatusCode, requestID: resp.Header.Get("X-Request-Id"), body: data}, nil
}

// roundTrip sends one request with the client's headers; a non-nil body
// is JSON.
func (c *Client) roundTrip(ctx context.Context, method, u string, auth bool, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("arca: building request for %s %s: %w", method, u, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.approval != "" {
		req.Header.Set(approvalHeader, c.approval)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error names the method and URL (never the token) and
		// unwraps to the cause, e.g. context.DeadlineExceeded.
		return nil, fmt.Errorf("arca: %w", err)
	}
	return resp, nil
}

// do performs a request and decodes a 2xx JSON response into out (if
// non-nil); any other status becomes an *Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, auth bool, in, out any) (string, error) {
	r, err := c.send(ctx, method, path, query, auth, in)
	if err != nil {
		return "", err
	}
	if r.status < 200 || r.status > 299 {
		return r.requestID, newError(r.status, r.requestID, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			return r.requestID, fmt.Errorf("arca: decoding response of %s %s (request id %s): %w", method, path, r.requestID, err)
		}
	}
	return r.requestID, nil
}

// keyPath returns "/v1/keys/{key}" plus suffix, with key escaped as one
// path segment.
func keyPath(key, suffix string) (string, error) {
	switch key {
	case "":
		return "", errors.New("arca: key name or id is required")
	case ".", "..":
		return "", errors.New("arca: invalid key name")
	}
	return "/v1/keys/" + url.PathEscape(key) + suffix, nil
}
