package maasclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store/fetch/retry"
	"github.com/airgapkit/airgap/tlsutil"
)

// Defaults.
const (
	// DefaultMaxRetries is how many times a 503, 429 or 409-with-Retry-After is retried.
	DefaultMaxRetries = 5
	// DefaultMaxRetryWait caps one wait between attempts, whatever Retry-After asks.
	DefaultMaxRetryWait = 30 * time.Second
	// maxErrorBody caps the body kept in an APIError; maxResponse caps a decoded body.
	maxErrorBody = 64 << 10
	maxResponse  = 64 << 20
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// HTTPClient is used as it is (its transport, timeouts and proxy). Nil means a
	// client built from CACertPEM and InsecureSkipVerify with the proxy from the
	// environment. Setting HTTPClient together with CACertPEM or InsecureSkipVerify is
	// an error: configure TLS on your client instead.
	HTTPClient *http.Client
	// CACertPEM are CA certificates trusted for https on top of the system roots
	// (the CA of `maas config-tls enable --cacert`).
	CACertPEM []byte
	// InsecureSkipVerify accepts any server certificate. It is logged at every New.
	InsecureSkipVerify bool
	// UserAgent is sent with every request; default "airgap-maasclient".
	UserAgent string
	// MaxRetries of a 503, 429, or 409 with Retry-After; default DefaultMaxRetries,
	// negative for none. They wait as Retry-After asks, at least the SDK's backoff
	// (store/fetch/retry: 1-2 seconds, doubling, with jitter).
	MaxRetries int
	// MaxRetryWait caps one wait, whatever Retry-After asks; default DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// Logger receives retries and warnings; nil discards.
	Logger *slog.Logger
	// Now is the clock of the OAuth timestamps; default time.Now.
	Now func() time.Time
}

// Client talks to one MAAS region. It is safe for concurrent use.
type Client struct {
	base     *url.URL // .../MAAS/api/2.0/
	creds    *Credentials
	http     *http.Client
	ua       string
	retries  int
	maxWait  time.Duration
	logger   *slog.Logger
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	csrfFrom *url.URL // session login: where the csrftoken cookie lives
}

// New makes a client for the MAAS at maasURL (for example http://10.0.0.2:5240/MAAS or
// https://maas.internal:5443/MAAS/api/2.0/) signing with apiKey.
func New(maasURL, apiKey string, opts Options) (*Client, error) {
	creds, err := ParseAPIKey(apiKey)
	if err != nil {
		return nil, err
	}
	c, err := newClient(maasURL, opts, false)
	if err != nil {
		return nil, err
	}
	c.creds = &creds
	return c, nil
}

func newClient(maasURL string, opts Options, jar bool) (*Client, error) {
	base, err := NormalizeURL(maasURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:    base,
		ua:      opts.UserAgent,
		retries: opts.MaxRetries,
		maxWait: opts.MaxRetryWait,
		logger:  opts.Logger,
		now:     opts.Now,
		sleep:   sleepCtx,
	}
	if c.ua == "" {
		c.ua = "airgap-maasclient"
	}
	if c.retries == 0 {
		c.retries = DefaultMaxRetries
	}
	if c.maxWait <= 0 {
		c.maxWait = DefaultMaxRetryWait
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case opts.HTTPClient != nil && (len(opts.CACertPEM) > 0 || opts.InsecureSkipVerify):
		return nil, errors.New("maas: Options.HTTPClient cannot be combined with CACertPEM or InsecureSkipVerify")
	case opts.HTTPClient != nil:
		hc := *opts.HTTPClient
		c.http = &hc
	default:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if len(opts.CACertPEM) > 0 || opts.InsecureSkipVerify {
			cfg, err := tlsutil.ClientConfig(opts.CACertPEM)
			if err != nil {
				return nil, fmt.Errorf("maas: CA certificate: %w", err)
			}
			if opts.InsecureSkipVerify {
				cfg = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // explicit option
				c.logger.Warn("MAAS server certificate is not verified (InsecureSkipVerify)", "url", base.String())
			}
			tr.TLSClientConfig = cfg
		}
		c.http = &http.Client{Transport: tr}
	}
	// A redirect is a new request: sign it afresh (a copied header would replay the
	// nonce), and only towards the MAAS host.
	prev := c.http.CheckRedirect
	c.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if prev != nil {
			if err := prev(req, via); err != nil {
				return err
			}
		} else if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		req.Header.Del("Authorization")
		if req.URL.Hostname() == c.base.Hostname() {
			return c.authorize(req)
		}
		return nil
	}
	if jar && c.http.Jar == nil {
		j, err := cookiejar.New(nil)
		if err != nil {
			return nil, err
		}
		c.http.Jar = j
	}
	return c, nil
}

// NormalizeURL turns a MAAS URL into the API 2.0 base URL ending in "/api/2.0/". A
// URL without a path gets "/MAAS".
func NormalizeURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: %q: want http(s)://host[:port]/MAAS", ErrInvalidURL, raw)
	}
	p := strings.TrimRight(u.Path, "/")
	if p == "" {
		p = "/MAAS"
	}
	if !strings.HasSuffix(p, "/api/2.0") {
		p += "/api/2.0"
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p + "/"}, nil
}

// BaseURL is the API base URL (ending in "/api/2.0/").
func (c *Client) BaseURL() string { return c.base.String() }

// rootURL is the MAAS root (".../MAAS/") for the web endpoints such as login.
func (c *Client) rootURL() *url.URL {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "api/2.0/")
	return &u
}

// Get calls a read operation: GET path?op=op with params in the query, decoding JSON
// into out (nil discards). path is relative to the API base, such as "boot-sources/",
// with names escaped by url.PathEscape.
func (c *Client) Get(ctx context.Context, path, op string, params *Params, out any) error {
	return c.do(ctx, http.MethodGet, path, op, params, out)
}

// Post calls a write operation with a multipart body.
func (c *Client) Post(ctx context.Context, path, op string, params *Params, out any) error {
	return c.do(ctx, http.MethodPost, path, op, params, out)
}

// Put updates a resource with a multipart body.
func (c *Client) Put(ctx context.Context, path string, params *Params, out any) error {
	return c.do(ctx, http.MethodPut, path, "", params, out)
}

// Delete deletes a resource.
func (c *Client) Delete(ctx context.Context, path string) error {
	return c.do(ctx, http.MethodDelete, path, "", nil, nil)
}

func (c *Client) do(ctx context.Context, method, path, op string, params *Params, out any) error {
	ref, err := url.Parse(strings.TrimPrefix(path, "/")) // path is escaped (see url.PathEscape)
	if err != nil || ref.Scheme != "" || ref.Host != "" {
		return fmt.Errorf("maas: bad API path %q", path)
	}
	u := c.base.ResolveReference(&url.URL{Path: ref.Path, RawPath: ref.RawPath})
	if !strings.HasPrefix(u.Path, c.base.Path) {
		return fmt.Errorf("maas: API path %q leaves %s", path, c.base.Path)
	}
	q := url.Values{}
	if op != "" {
		q.Set("op", op)
	}
	if method == http.MethodGet || method == http.MethodDelete {
		for k, vs := range params.values() {
			q[k] = append(q[k], vs...)
		}
	}
	u.RawQuery = encodeQuery(q)
	a := c.retryPolicy().Start()
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, method, u, params)
		if err != nil {
			return err // the request may have been acted on: not retried
		}
		c.logger.Debug("MAAS request", "method", method, "url", u.String(), "status", resp.StatusCode, "attempt", attempt+1)
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			err := decodeBody(resp, out)
			if err != nil {
				err = fmt.Errorf("maas: %s %s: decode response: %w", method, u.Redacted(), err)
			}
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		apiErr := &APIError{Method: method, URL: u.String(), StatusCode: resp.StatusCode, Body: string(body)}
		if resp.StatusCode == http.StatusBadRequest {
			apiErr.Fields, _ = ParseFieldErrors(body)
		}
		class, asked := c.retryClass(resp)
		if err := a.Wait(ctx, class, asked, apiErr); err != nil {
			return err
		}
		c.logger.Info("MAAS asked to retry", "method", method, "url", u.String(), "status", resp.StatusCode, "asked", asked, "attempt", attempt+1)
	}
}

// encodeQuery puts op first, as MAAS documents its URLs, then the rest sorted.
func encodeQuery(q url.Values) string {
	op := q.Get("op")
	if op == "" {
		return q.Encode()
	}
	rest := url.Values{}
	for k, v := range q {
		if k != "op" {
			rest[k] = v
		}
	}
	s := "op=" + url.QueryEscape(op)
	if len(rest) > 0 {
		s += "&" + rest.Encode()
	}
	return s
}

// send makes one attempt with a fresh body and a fresh signature.
func (c *Client) send(ctx context.Context, method string, u *url.URL, params *Params) (*http.Response, error) {
	var body io.Reader
	var ctype string
	if method == http.MethodPost || method == http.MethodPut {
		b, ct, err := params.multipart()
		if err != nil {
			return nil, fmt.Errorf("maas: encode body: %w", err)
		}
		body, ctype = bytes.NewReader(b), ct
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("maas: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if err := c.authorize(req); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("maas: %s %s: %w", method, u.Redacted(), err)
	}
	return resp, nil
}

func (c *Client) authorize(req *http.Request) error {
	if c.creds != nil {
		h, err := c.creds.AuthorizationHeader(c.now())
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", h)
		return nil
	}
	// Session login: Django wants the CSRF token echoed on unsafe methods, and over
	// https a Referer of the same origin.
	if c.csrfFrom != nil && req.Method != http.MethodGet && req.Method != http.MethodHead {
		if tok := c.cookie(c.csrfFrom, "csrftoken"); tok != "" {
			req.Header.Set("X-CSRFToken", tok)
		}
		req.Header.Set("Referer", c.csrfFrom.String())
	}
	return nil
}

func (c *Client) cookie(u *url.URL, name string) string {
	if c.http.Jar == nil {
		return ""
	}
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// retryClass says whether a failed answer may succeed later, and the wait it asks for
// (0: none). MAAS answers 503 while its database is locked and 409 with Retry-After on
// a serialization failure, both before acting, so even a POST is retried then; a 409
// without Retry-After is a state conflict that another attempt cannot resolve.
func (c *Client) retryClass(resp *http.Response) (retry.Class, time.Duration) {
	asked, hinted := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusConflict && hinted:
		return retry.Transient, asked
	}
	return retry.Permanent, 0
}

// retryPolicy is the retry.Policy of the Client's options: the time budget never ends
// the retries before MaxRetries do.
func (c *Client) retryPolicy() retry.Policy {
	return retry.Policy{Retries: c.retries, Backoff: 2 * time.Second, MaxBackoff: c.maxWait, MaxRetryAfter: c.maxWait,
		MaxTime: max(retry.DefaultMaxTime, time.Duration(max(c.retries, 0)+1)*c.maxWait), Sleep: c.sleep}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// decodeBody decodes a success response into out: *[]byte and *string take the raw
// body, anything else JSON. nil out discards.
func decodeBody(resp *http.Response, out any) error {
	defer resp.Body.Close()
	r := io.LimitReader(resp.Body, maxResponse+1)
	switch o := out.(type) {
	case nil:
		_, err := io.Copy(io.Discard, r)
		return err
	case *[]byte:
		b, err := readCapped(r)
		*o = b
		return err
	case *string:
		b, err := readCapped(r)
		*o = string(b)
		return err
	}
	b, err := readCapped(r)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func readCapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponse {
		return nil, fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	return b, nil
}

// get, post and put decode the JSON answer into a value of type T.
func get[T any](ctx context.Context, c *Client, path, op string, p *Params) (T, error) {
	var out T
	err := c.Get(ctx, path, op, p, &out)
	return out, err
}

func post[T any](ctx context.Context, c *Client, path, op string, p *Params) (T, error) {
	var out T
	err := c.Post(ctx, path, op, p, &out)
	return out, err
}

func put[T any](ctx context.Context, c *Client, path string, p *Params) (T, error) {
	var out T
	err := c.Put(ctx, path, p, &out)
	return out, err
}
