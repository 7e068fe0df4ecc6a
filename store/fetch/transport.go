package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ErrTooManyRedirects is returned (wrapped) when a request is redirected more than
// MaxRedirects times.
var ErrTooManyRedirects = errors.New("fetch: too many redirects")

// buildHTTP returns the client all requests go through: the caller's (copied, so that its
// CheckRedirect stays theirs) or a default one, with our redirect policy in front.
func (c *Client) buildHTTP() *http.Client {
	var hc http.Client
	if c.HTTP != nil {
		hc = http.Client{Transport: c.HTTP.Transport, Jar: c.HTTP.Jar, Timeout: c.HTTP.Timeout}
	} else {
		hc.Transport = c.defaultTransport()
	}
	var next func(*http.Request, []*http.Request) error
	if c.HTTP != nil {
		next = c.HTTP.CheckRedirect
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &hc
}

func (c *Client) defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	d := &net.Dialer{Timeout: DefaultConnectTimeout, KeepAlive: 30 * time.Second}
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.MaxIdleConnsPerHost = max(c.PerHost, DefaultPerHost)
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = true
	return t
}

// harmless caller headers that may follow a redirect anywhere.
var harmless = map[string]bool{"Accept": true, "Accept-Language": true, "Accept-Encoding": true, "User-Agent": true}

type callerHeadersKey struct{}

// withCallerHeaders remembers which header names the caller set, for checkRedirect.
func withCallerHeaders(ctx context.Context, h http.Header) context.Context {
	if len(h) == 0 {
		return ctx
	}
	names := make([]string, 0, len(h))
	for k := range h {
		if !harmless[http.CanonicalHeaderKey(k)] {
			names = append(names, k)
		}
	}
	return context.WithValue(ctx, callerHeadersKey{}, names)
}

// checkRedirect limits redirects and keeps credentials on the origin they were meant for:
// when the target's origin (scheme, host and port, so https -> http on one port counts
// too) differs from the original request's, the caller's headers and any Authorization
// or Cookie are removed; Request.Credentials go with each hop whose origin they allow.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, len(via))
	}
	if len(via) > 0 && Origin(req.URL) != Origin(via[0].URL) {
		for _, k := range sensitive {
			req.Header.Del(k)
		}
		if names, ok := req.Context().Value(callerHeadersKey{}).([]string); ok {
			for _, k := range names {
				req.Header.Del(k)
			}
		}
	}
	credentialsOf(req.Context()).apply(req.Header, req.URL)
	return nil
}

// acquireHost takes one of the host's PerHost slots, waiting while all are taken.
func (c *Client) acquireHost(ctx context.Context, host string) (func(), error) {
	n := c.PerHost
	if n <= 0 {
		n = DefaultPerHost
	}
	c.sh.hostsMu.Lock()
	sem, ok := c.sh.hosts[host]
	if !ok {
		sem = make(chan struct{}, n)
		c.sh.hosts[host] = sem
	}
	c.sh.hostsMu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// keyLock serialises Fetches of the same partial upload within this Client.
type keyLock struct {
	ch   chan struct{}
	refs int
}

func (c *Client) lockKey(ctx context.Context, key string) (func(), error) {
	c.sh.keysMu.Lock()
	kl, ok := c.sh.keys[key]
	if !ok {
		kl = &keyLock{ch: make(chan struct{}, 1)}
		c.sh.keys[key] = kl
	}
	kl.refs++
	c.sh.keysMu.Unlock()
	drop := func() {
		c.sh.keysMu.Lock()
		kl.refs--
		if kl.refs == 0 {
			delete(c.sh.keys, key)
		}
		c.sh.keysMu.Unlock()
	}
	select {
	case kl.ch <- struct{}{}:
		return func() { <-kl.ch; drop() }, nil
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
}

// idle fires fn when reset is not called for d. pause stops it until the next reset.
type idle struct {
	d time.Duration
	t *time.Timer
}

func newIdle(d time.Duration, fn func()) *idle {
	return &idle{d: d, t: time.AfterFunc(d, fn)}
}

func (i *idle) reset() { i.t.Reset(i.d) }
func (i *idle) pause() { i.t.Stop() }
func (i *idle) stop()  { i.t.Stop() }

// progress throttles the events of one Fetch.
type progress struct {
	fn        func(Event)
	url       string
	total     int64
	bytes     int64
	lastBytes int64
	lastTime  time.Time
}

const (
	progressBytes = 256 << 10
	progressEvery = 200 * time.Millisecond
)

func (c *Client) newProgress(req Request) *progress {
	if c.Progress == nil {
		return nil
	}
	total := int64(-1)
	if req.Expect.Size > 0 {
		total = req.Expect.Size
	}
	return &progress{fn: c.Progress, url: redact(req.URL), total: total, lastTime: time.Now()}
}

// set says how much of the file is held (on a resume or restart).
func (p *progress) set(n int64) {
	if p == nil {
		return
	}
	p.bytes, p.lastBytes = n, n
}

func (p *progress) setTotal(n int64) {
	if p != nil {
		p.total = n
	}
}

func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.bytes += n
	if p.bytes-p.lastBytes < progressBytes {
		if now := time.Now(); now.Sub(p.lastTime) < progressEvery {
			return
		}
	}
	p.lastBytes, p.lastTime = p.bytes, time.Now()
	p.fn(Event{URL: p.url, Bytes: p.bytes, Total: p.total})
}

func (p *progress) done(err error) {
	if p == nil {
		return
	}
	p.fn(Event{URL: p.url, Bytes: p.bytes, Total: p.total, Done: true, Err: err})
}
