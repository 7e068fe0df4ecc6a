package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch/retry"
)

// Version is the airgap version reported in the default User-Agent.
const Version = "0.1.0"

// DefaultUserAgent is sent when Client.UserAgent is empty.
const DefaultUserAgent = "airgap/" + Version

// Defaults for the zero Client and Request.
const (
	// DefaultRetries is Client.Retries when zero: 5 attempts in all.
	DefaultRetries = retry.DefaultRetries
	// DefaultPerHost is Client.PerHost when zero.
	DefaultPerHost = 8
	// DefaultMaxSize is Request.MaxSize when zero: the cap on bodies of unknown size.
	DefaultMaxSize = 256 << 20
	// DefaultMaxRetryAfter is Client.MaxRetryAfter when zero.
	DefaultMaxRetryAfter = retry.DefaultMaxRetryAfter
	// DefaultMaxRetryTime is Client.MaxRetryTime when zero.
	DefaultMaxRetryTime = retry.DefaultMaxTime
	// DefaultReadTimeout is Client.ReadTimeout when zero.
	DefaultReadTimeout = 2 * time.Minute
	// DefaultMinRate is Client.MinRate when zero: an upstream that sends less than 1 KiB/s
	// over a whole DefaultMinRateWindow fails the download (a slow-retrieval attack, or a
	// link too poor to finish).
	DefaultMinRate = 1 << 10
	// DefaultMinRateWindow is Client.MinRateWindow when zero.
	DefaultMinRateWindow = time.Minute
	// DefaultMaxFileTime is Client.MaxFileTime when zero: no single file may take longer,
	// retries included.
	DefaultMaxFileTime = 6 * time.Hour
	// DefaultConnectTimeout bounds a TCP connect of the default transport: an upstream
	// that does not answer fails fast (and is retried once at most, see store/fetch/retry).
	DefaultConnectTimeout = 10 * time.Second
	// DefaultBackoff is Client.Backoff when zero: the first retry waits 250-500ms.
	DefaultBackoff = retry.DefaultBackoff
	// DefaultMaxBackoff is Client.MaxBackoff when zero.
	DefaultMaxBackoff = retry.DefaultMaxBackoff
	// MaxRedirects is how many redirects one request follows.
	MaxRedirects = 10
)

// ErrClientModified is returned by Fetch when a setting of the Client was changed after
// its first use. A Client's fields are read once; a package that needs other settings
// derives a Client (WithHTTP) instead of changing a shared one.
var ErrClientModified = errors.New("fetch: Client settings changed after first use (derive a client with WithHTTP instead)")

// Client downloads URLs into a store. The zero value is usable once Store is set. A Client
// is safe for concurrent use; its limits (PerHost, RateLimit) apply across all concurrent
// calls on the same Client and on the Clients derived from it, so share one per program.
//
// A Client is immutable once used: its fields are configuration, read at the first call.
// Changing one afterwards is a data race, and Fetch then fails with ErrClientModified
// (for the fields it can compare: all but Store, Getter, Progress and Sleep). To use other
// settings, derive a Client with WithHTTP, which shares the limits.
type Client struct {
	// Store receives the downloads. Required.
	Store store.Store
	// HTTP is the client requests go through. Nil: a transport cloned from
	// http.DefaultTransport (proxy from the environment, 30s dial, 60s response header
	// timeout). A caller-supplied client is used for its Transport, Jar and Timeout; its
	// CheckRedirect is still consulted, after ours (see Request.Header).
	HTTP *http.Client
	// UserAgent is sent with every request. Empty: DefaultUserAgent.
	UserAgent string
	// Retries is how many times a transient failure is retried (see store/fetch/retry:
	// timeouts, resets, 408, 425, 429, 500, 502, 503, 504; a refused connection once at
	// most; TLS errors and other statuses never). Zero: DefaultRetries (4, so 5 attempts).
	// Negative: no retries.
	Retries int
	// PerHost caps the concurrent requests to one host (host:port). Zero: DefaultPerHost.
	PerHost int
	// RateLimit caps the bytes per second read over all downloads of this Client.
	// Zero: unlimited.
	RateLimit int64
	// Progress, when set, receives events: throttled byte counts while a body streams
	// and exactly one final event per Fetch with Done set and Err the outcome. It is called
	// synchronously from the downloading goroutine, so it must return quickly, and from
	// several goroutines at once, so it must be safe for concurrent use.
	Progress func(Event)
	// Logger receives debug records about retries and resumes. Nil: discard.
	Logger *slog.Logger
	// Getter handles Request.Generic URLs; nil refuses them (ErrUnsupportedURL).
	// store/fetch/getter.New() is the go-getter implementation.
	Getter Getter

	// MaxRetryAfter caps how long a Retry-After header may make us wait. Zero:
	// DefaultMaxRetryAfter (5 minutes).
	MaxRetryAfter time.Duration
	// MaxRetryTime caps the time one Fetch spends retrying (waits, and the attempts after
	// the first failure; progress of a resumed download starts it again). A retry that
	// would go over it is not made and the error matches retry.ErrGaveUp. Zero:
	// DefaultMaxRetryTime (5 minutes).
	MaxRetryTime time.Duration
	// ReadTimeout fails an attempt (as a retryable network error) when no byte (and no
	// response header) arrives for this long. Zero: DefaultReadTimeout (2 minutes).
	ReadTimeout time.Duration
	// MinRate is the slowest a body may arrive, in bytes per second averaged over
	// MinRateWindow (time spent waiting for RateLimit does not count). Slower fails the
	// download with ErrTooSlow, naming the URL and the rate; it is not retried, since an
	// upstream that trickles on purpose would trickle again. Zero: DefaultMinRate (1
	// KiB/s); negative: no minimum.
	MinRate int64
	// MinRateWindow is the span MinRate is measured over. Zero: DefaultMinRateWindow.
	MinRateWindow time.Duration
	// MaxFileTime caps the time one Fetch may take, retries included; past it the Fetch
	// fails with ErrFileDeadline. Zero: DefaultMaxFileTime (6 hours); negative: none.
	MaxFileTime time.Duration
	// Backoff is the delay before the first retry; it doubles per attempt up to
	// MaxBackoff, and each wait is drawn between half of it and all of it (jitter). An
	// attempt that moved a resumable download forward does not count against Retries and
	// starts the doubling again. Zero: DefaultBackoff.
	Backoff time.Duration
	// MaxBackoff caps the doubling. Zero: DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Sleep waits between attempts. Nil: a timer that stops when ctx is done. Tests set
	// it to observe or skip the waits; it must return ctx.Err() when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error

	initOnce sync.Once
	http     *http.Client
	seen     settings         // the fields as read at the first use
	sh       *shared          // limits, shared with derived Clients
	now      func() time.Time // tests
}

// shared is the state a Client shares with the Clients derived from it.
type shared struct {
	limiter *rate.Limiter
	hostsMu sync.Mutex
	hosts   map[string]chan struct{}
	keysMu  sync.Mutex
	keys    map[string]*keyLock
}

// settings are the comparable fields of a Client.
type settings struct {
	http                                                          *http.Client
	logger                                                        *slog.Logger
	userAgent                                                     string
	retries, perHost                                              int
	rateLimit, minRate                                            int64
	maxRetryAfter, maxRetryTime, readTimeout, backoff, maxBackoff time.Duration
	minRateWindow, maxFileTime                                    time.Duration
}

func (c *Client) settings() settings {
	return settings{http: c.HTTP, logger: c.Logger, userAgent: c.UserAgent, retries: c.Retries, perHost: c.PerHost,
		rateLimit: c.RateLimit, maxRetryAfter: c.MaxRetryAfter, maxRetryTime: c.MaxRetryTime,
		readTimeout: c.ReadTimeout, backoff: c.Backoff, maxBackoff: c.MaxBackoff,
		minRate: c.MinRate, minRateWindow: c.MinRateWindow, maxFileTime: c.MaxFileTime}
}

// Request is one download.
type Request struct {
	// URL is an http or https URL. Other forms (file paths, file://, s3::, gcs::, git::,
	// "?checksum=" URLs) need Generic.
	URL string
	// Expect is verified while the body streams. When it carries a sha256 and the store
	// already holds that blob (of the expected size, when given), Fetch makes no request
	// at all. Downloads resume after an interruption (in this run or the next) only when
	// both the size and a checksum are known.
	Expect store.Expect
	// Header is added to every request (e.g. Accept). On a redirect to another origin
	// (Origin: scheme, host and port) every header set here is dropped except Accept,
	// Accept-Language and Accept-Encoding, and so are Authorization and Cookie.
	// Credentials belong in Credentials.
	Header http.Header
	// Credentials are the headers that authenticate (Authorization, a token header,
	// Cookie). They go with the request, and with each redirect hop, only when that URL's
	// origin is one of CredentialOrigins: a request or redirect to another origin, or
	// from https to http on the same host and port, goes without them (and without any
	// Authorization or Cookie). They take the place of the same names in Header.
	Credentials http.Header
	// CredentialOrigins lists where Credentials may go, as URLs of which only the origin
	// counts ("https://galaxy.example/api/" allows https://galaxy.example:443). Empty:
	// the origin of URL. An entry that is not an http(s) URL is an error
	// (ErrUnsupportedURL). Set it when URL may name another server than the one the
	// credentials are for (a download link taken from an index).
	CredentialOrigins []string
	// MaxSize caps the body when Expect.Size is unknown. Zero: DefaultMaxSize (256 MiB).
	// Over it: an error wrapping store.ErrTooLarge, and nothing is stored.
	MaxSize int64
	// Validators from a previous response are sent as If-None-Match / If-Modified-Since;
	// a 304 answer then gives Result.NotModified.
	Validators Validators
	// Generic routes the URL through the Client's Getter (go-getter: any URL form it knows:
	// local paths, file://, s3::, gcs::, git::, http(s) with "?checksum=type:hex") into a
	// temporary directory and then into the store, verified against Expect and against
	// the checksum parameter. Without it Fetch accepts http(s) URLs only, so an URL taken
	// from an upstream index can never read local files. Generic fetches neither resume
	// nor retry, and emit only the final progress event.
	Generic bool
}

// Validators are the cache validators of a response, remembered for a conditional GET.
type Validators struct{ ETag, LastModified string }

// IsZero reports whether v holds no validator.
func (v Validators) IsZero() bool { return v.ETag == "" && v.LastModified == "" }

// Result describes a finished Fetch.
type Result struct {
	// Blob is the stored content; zero when NotModified.
	Blob store.BlobInfo
	// NotModified: the server answered 304 to the request's Validators; the caller
	// reuses what it had.
	NotModified bool
	// Validators of the response, to send next time. On a 304 without new validators
	// they are the request's.
	Validators Validators
	// FinalURL is the URL after redirects ("" when no request was made).
	FinalURL string
	// Header is the final response's header (nil when no request was made).
	Header http.Header
}

// Event reports download progress (see Client.Progress).
type Event struct {
	// URL is the requested URL with any password redacted.
	URL string
	// Bytes is how much of the file is held so far, including a resumed part.
	Bytes int64
	// Total is the expected size, or -1 when unknown.
	Total int64
	// Done marks the final event of a Fetch; Err is then its error (nil on success).
	Done bool
	Err  error
}

// HTTPError is an unexpected HTTP status. 5xx, 408 and 429 were retried before it was
// returned; other statuses are not retried.
type HTTPError struct {
	Method     string // "" for GET
	URL        string // redacted
	StatusCode int
	Status     string
	Body       string // the start of the response body, for diagnostics
	retryAfter time.Duration
}

// Error describes the status, with the start of the body.
func (e *HTTPError) Error() string {
	m := e.Method
	if m == "" {
		m = http.MethodGet
	}
	s := fmt.Sprintf("fetch: %s %s: %s", m, e.URL, e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// NewHTTPError describes an unexpected response, for requests a protocol makes outside
// Fetch (API POSTs, token exchanges): the status, the start of the body (read from
// resp.Body, which the caller still closes) and the Retry-After it asks for, so that the
// error is classified and waited for like Fetch's own (store/fetch/retry). URL is the
// request's, without password or query.
func NewHTTPError(resp *http.Response) *HTTPError {
	return newHTTPError(resp, time.Now())
}

func newHTTPError(resp *http.Response, now time.Time) *HTTPError {
	he := &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Body: snippet(resp.Body)}
	if r := resp.Request; r != nil && r.URL != nil {
		ru := *r.URL
		ru.RawQuery, ru.Fragment = "", "" // a query may carry a token
		he.URL = ru.Redacted()
		if r.Method != http.MethodGet {
			he.Method = r.Method
		}
	}
	if he.Status == "" {
		he.Status = strconv.Itoa(resp.StatusCode)
	}
	if he.Temporary() {
		if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			he.retryAfter = d
		}
	}
	return he
}

// Temporary reports whether the status is one that is retried (retry.ClassifyStatus).
func (e *HTTPError) Temporary() bool { return e.RetryClass() == retry.Transient }

// RetryClass classifies the status for store/fetch/retry.
func (e *HTTPError) RetryClass() retry.Class { return retry.ClassifyStatus(e.StatusCode) }

// RetryAfter is the wait the server asked for with Retry-After (0: none).
func (e *HTTPError) RetryAfter() time.Duration { return e.retryAfter }

// ErrUnsupportedURL is returned for an URL that is not http(s) when Request.Generic is not
// set, or that cannot be parsed.
var ErrUnsupportedURL = errors.New("fetch: unsupported URL")

// ErrTooSlow is the error of a download whose body arrived slower than Client.MinRate.
var ErrTooSlow = errors.New("fetch: transfer too slow")

// ErrFileDeadline is the error of a Fetch that took longer than Client.MaxFileTime.
var ErrFileDeadline = errors.New("fetch: file took longer than the per-file deadline")

// errFileDeadline is the cause of the per-file deadline's context.
var errFileDeadline = errors.New("per-file deadline")

// ErrReadTimeout is the (retried) error of an attempt during which nothing arrived for
// Client.ReadTimeout.
var ErrReadTimeout = errors.New("fetch: read timeout: no data received")

// CloseIdleConnections closes the keep-alive connections of the Client's HTTP transport,
// for programs that are done fetching but keep running.
func (c *Client) CloseIdleConnections() {
	c.init()
	c.http.CloseIdleConnections()
}

// WithHTTP returns a Client like c that sends its requests through hc (see Client.HTTP):
// for a package that needs its own transport (a registry's authentication) on a Client
// that others share. The new Client shares c's limits (PerHost, RateLimit); c is not
// changed.
func (c *Client) WithHTTP(hc *http.Client) *Client {
	c.init()
	return &Client{Store: c.Store, HTTP: hc, UserAgent: c.UserAgent, Retries: c.Retries, PerHost: c.PerHost,
		RateLimit: c.RateLimit, Progress: c.Progress, Logger: c.Logger, Getter: c.Getter,
		MaxRetryAfter: c.MaxRetryAfter, MaxRetryTime: c.MaxRetryTime, ReadTimeout: c.ReadTimeout,
		MinRate: c.MinRate, MinRateWindow: c.MinRateWindow, MaxFileTime: c.MaxFileTime,
		Backoff: c.Backoff, MaxBackoff: c.MaxBackoff, Sleep: c.Sleep, sh: c.sh, now: c.now}
}

// HTTPClient returns the *http.Client the Client's downloads go through (its transport,
// with the redirect policy of Request.Header), for the other requests of a protocol
// (token exchanges, API POSTs), so that they get the same transport and timeouts.
func (c *Client) HTTPClient() *http.Client {
	c.init()
	return c.http
}

// RetryPolicy returns the retry policy the Client's settings make, for requests made
// outside Fetch (token exchanges, API POSTs), so that they retry the same failures.
func (c *Client) RetryPolicy() retry.Policy {
	return retry.Policy{Retries: c.Retries, Backoff: c.Backoff, MaxBackoff: c.MaxBackoff,
		MaxRetryAfter: c.MaxRetryAfter, MaxTime: c.MaxRetryTime, Sleep: c.Sleep}
}

func (c *Client) init() {
	c.initOnce.Do(func() {
		c.http = c.buildHTTP()
		if c.sh == nil {
			c.sh = &shared{hosts: map[string]chan struct{}{}, keys: map[string]*keyLock{}}
			if c.RateLimit > 0 {
				burst := int(min(c.RateLimit, 256<<10))
				c.sh.limiter = rate.NewLimiter(rate.Limit(c.RateLimit), max(burst, 1))
			}
		}
		c.seen = c.settings()
		if c.now == nil {
			c.now = time.Now
		}
	})
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Client) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return DefaultRetries
	}
	return c.Retries
}

func (c *Client) userAgent() string {
	if c.UserAgent != "" {
		return c.UserAgent
	}
	return DefaultUserAgent
}

// minRate returns the minimum rate and its window; a zero rate is no minimum.
func (c *Client) minRate() (int64, time.Duration) {
	r, w := c.MinRate, c.MinRateWindow
	if r == 0 {
		r = DefaultMinRate
	}
	if w <= 0 {
		w = DefaultMinRateWindow
	}
	return max(r, 0), w
}

func (c *Client) maxFileTime() time.Duration {
	if c.MaxFileTime == 0 {
		return DefaultMaxFileTime
	}
	return max(c.MaxFileTime, 0)
}

func (c *Client) readTimeout() time.Duration {
	if c.ReadTimeout > 0 {
		return c.ReadTimeout
	}
	return DefaultReadTimeout
}

// Fetch downloads req.URL into c.Store. See Request for the rules. Errors: *HTTPError for
// an unexpected status (errors.As), store.ErrDigestMismatch for content that does not
// match Expect or a Content-Length that contradicts Expect.Size, store.ErrTooLarge over
// MaxSize, ctx.Err() when ctx ends, ErrUnsupportedURL.
func (c *Client) Fetch(ctx context.Context, req Request) (res Result, err error) {
	if c.Store == nil {
		return Result{}, errors.New("fetch: Client.Store is nil")
	}
	c.init()
	if c.settings() != c.seen {
		return Result{}, ErrClientModified
	}
	if err := req.Expect.Validate(); err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), err)
	}
	p := c.newProgress(req)
	defer func() { p.done(err) }()
	if d := c.maxFileTime(); d > 0 {
		parent := ctx
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errFileDeadline)
		defer cancel()
		defer func() {
			if err != nil && parent.Err() == nil && context.Cause(ctx) == errFileDeadline {
				err = fmt.Errorf("fetch %s: %w (%s)", redact(req.URL), ErrFileDeadline, d)
			}
		}()
	}

	u, err := url.Parse(req.URL)
	if req.Generic {
		if err != nil {
			u = &url.URL{} // of no origin: no credentials
		}
		if ctx, err = withCredentials(ctx, req, u); err != nil {
			return Result{}, err
		}
		return c.fetchGeneric(ctx, req, p)
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("%w: %q (http or https only; set Request.Generic for other forms)", ErrUnsupportedURL, redact(req.URL))
	}
	if ctx, err = withCredentials(ctx, req, u); err != nil {
		return Result{}, err
	}
	if res, ok, err := c.cached(ctx, req.Expect, p); ok || err != nil {
		return res, err
	}
	if resumable(req.Expect) {
		// One download per partial at a time in this process: a second caller waits and
		// then usually finds the blob stored.
		key := uploadKey(req.URL, req.Expect)
		unlock, err := c.lockKey(ctx, key)
		if err != nil {
			return Result{}, err
		}
		defer unlock()
		if res, ok, err := c.cached(ctx, req.Expect, p); ok || err != nil {
			return res, err
		}
		return c.retry(ctx, req, u, p, key)
	}
	return c.retry(ctx, req, u, p, "")
}

// FetchBytes is Fetch followed by reading the blob back: for indices. On NotModified the
// bytes are nil. The read is capped like the download (Expect.Size or MaxSize).
func (c *Client) FetchBytes(ctx context.Context, req Request) ([]byte, Result, error) {
	res, err := c.Fetch(ctx, req)
	if err != nil || res.NotModified {
		return nil, res, err
	}
	b, err := c.Store.Open(ctx, res.Blob.Digest)
	if err != nil {
		return nil, res, fmt.Errorf("fetch %s: reading back: %w", redact(req.URL), err)
	}
	defer b.Close()
	data, err := io.ReadAll(io.LimitReader(store.ContextReader(ctx, b), res.Blob.Size))
	if err != nil {
		return nil, res, fmt.Errorf("fetch %s: reading back: %w", redact(req.URL), err)
	}
	return data, res, nil
}

// cached reports whether the expected blob is already stored.
func (c *Client) cached(ctx context.Context, e store.Expect, p *progress) (Result, bool, error) {
	d := e.Digest()
	if d == "" {
		return Result{}, false, nil
	}
	info, err := c.Store.Stat(ctx, d)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("fetch: %w", err)
	}
	if e.Size > 0 && info.Size != e.Size {
		return Result{}, false, nil
	}
	p.setTotal(info.Size)
	p.set(info.Size)
	return Result{Blob: info}, true, nil
}

// resumable: partial downloads are kept only when the content is fully pinned.
func resumable(e store.Expect) bool { return e.Size > 0 && len(e.Sums) > 0 }

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

// hostKey names a host for Client.PerHost: host:port with the scheme's default port
// filled in.
func hostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
