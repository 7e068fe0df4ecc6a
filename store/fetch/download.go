package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/time/rate"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch/retry"
)

// netError marks a failure of the network during an attempt, with its retry class.
type netError struct {
	err   error
	class retry.Class
}

func (e *netError) Error() string           { return e.err.Error() }
func (e *netError) Unwrap() error           { return e.err }
func (e *netError) RetryClass() retry.Class { return e.class }

// transient marks err as a network failure worth another attempt.
func transient(err error) error { return &netError{err: err, class: retry.Transient} }

// startOver: the partial is unusable (416, a Content-Range that starts elsewhere); the next
// attempt starts from byte 0 without waiting.
var errStartOver = errors.New("fetch: server cannot continue the partial download")

// state is what one Fetch carries from attempt to attempt.
type state struct {
	key string // upload key; "" when not resumable
	// ifRange is the strong validator of the content the partial holds.
	ifRange string
	// resumed: the content being assembled includes bytes from an earlier attempt or run.
	resumed bool
	// freshRetry: the one from-scratch retry after a mismatch of resumed content is used.
	freshRetry bool
	// progressed: the last attempt added bytes to the partial upload.
	progressed bool
}

func (c *Client) retry(ctx context.Context, req Request, u *url.URL, p *progress, key string) (Result, error) {
	st := &state{key: key}
	log := c.logger().With("url", u.Redacted())
	// Attempts that move a resumable download forward start the count and the time
	// budget again (Progress): the file is finite, so they cannot go on for ever.
	attempts := c.RetryPolicy().Start()
	startOvers := 0
	for attempt := 0; ; attempt++ {
		st.progressed = false
		if attempt > 0 && key != "" {
			// Another Fetch (or process) may have stored it meanwhile.
			if res, ok, err := c.cached(ctx, req.Expect, p); ok || err != nil {
				return res, err
			}
		}
		res, err := c.attempt(ctx, req, u, p, st)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("fetch %s: %w", u.Redacted(), ctx.Err())
		}
		if errors.Is(err, store.ErrDigestMismatch) && st.resumed && !st.freshRetry {
			// The partial from an earlier attempt may have been the corrupt part.
			st.freshRetry, st.resumed, st.ifRange = true, false, ""
			log.Debug("fetch: resumed content did not verify; downloading again from scratch", "err", err)
			continue
		}
		if errors.Is(err, errStartOver) && startOvers < c.retries() {
			log.Debug("fetch: partial download discarded", "err", err)
			startOvers++
			continue
		}
		if st.progressed {
			attempts.Progress()
		}
		if err := attempts.Wait(ctx, classOf(err), retryAfterOf(err), err); err != nil {
			return Result{}, unwrapNet(err)
		}
		log.Debug("fetch: retrying", "attempt", attempt+2, "err", err)
	}
}

// classOf is the retry class of an attempt's failure: only the network failures and
// statuses classified as worth it are retried; verification, size and store errors are
// final.
func classOf(err error) retry.Class {
	var cl retry.Classifier
	if errors.As(err, &cl) {
		return cl.RetryClass()
	}
	return retry.Permanent
}

func retryAfterOf(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.retryAfter
	}
	return 0
}

// unwrapNet removes the internal marker, keeping the message.
func unwrapNet(err error) error {
	var ne *netError
	if errors.As(err, &ne) && err == error(ne) {
		return ne.err
	}
	return err
}

// attempt makes one request and stores its body.
func (c *Client) attempt(ctx context.Context, req Request, u *url.URL, p *progress, st *state) (Result, error) {
	release, err := c.acquireHost(ctx, hostKey(u))
	if err != nil {
		return Result{}, err
	}
	defer release()

	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := newIdle(c.readTimeout(), func() { cancel(ErrReadTimeout) })
	defer idle.stop()

	var up store.Upload
	var offset int64
	if st.key != "" {
		up, offset, err = c.begin(ctx, st, req.Expect.Size)
		if err != nil {
			return Result{}, err
		}
		defer func() {
			if up != nil {
				_ = up.Close() // keeps the partial for the next attempt or run
			}
		}()
		if offset == req.Expect.Size {
			// A previous run received everything but did not commit.
			info, err := up.Commit(ctx, req.Expect)
			up = nil
			if err != nil {
				return Result{}, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
			}
			p.set(info.Size)
			return Result{Blob: info}, nil
		}
	}
	p.set(offset)

	hreq, err := c.newRequest(actx, req, u, offset, st)
	if err != nil {
		return Result{}, err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return Result{}, c.transportErr(ctx, actx, u, err)
	}
	defer resp.Body.Close()
	idle.reset()

	res := Result{
		FinalURL: resp.Request.URL.String(),
		Header:   resp.Header,
		Validators: Validators{
			ETag:         resp.Header.Get("ETag"),
			LastModified: resp.Header.Get("Last-Modified"),
		},
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && !req.Validators.IsZero():
		if res.Validators.IsZero() {
			res.Validators = req.Validators
		}
		res.NotModified = true
		return res, nil
	case resp.StatusCode == http.StatusOK:
		if offset > 0 {
			// The server ignored the Range (or If-Range found the content changed).
			c.logger().Debug("fetch: server sent the whole file; restarting", "url", u.Redacted(), "offset", offset)
			if up, err = c.restart(ctx, st, up); err != nil {
				return Result{}, err
			}
			offset = 0
			p.set(0)
		}
		if err := checkLength(resp.ContentLength, req, u); err != nil {
			if up != nil {
				_ = up.Abort()
				up = nil
			}
			return Result{}, err
		}
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		start, _, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != offset {
			_ = up.Abort()
			up = nil
			return Result{}, fmt.Errorf("%w: %s: Content-Range %q for offset %d", errStartOver, u.Redacted(), resp.Header.Get("Content-Range"), offset)
		}
		if total >= 0 && total != req.Expect.Size {
			_ = up.Abort()
			up = nil
			return Result{}, fmt.Errorf("fetch %s: %w: server reports %d bytes, expected %d", u.Redacted(), store.ErrDigestMismatch, total, req.Expect.Size)
		}
		st.resumed = true
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		_ = up.Abort()
		up = nil
		return Result{}, fmt.Errorf("%w: %s: 416 for offset %d", errStartOver, u.Redacted(), offset)
	default:
		he := newHTTPError(resp, c.now())
		he.URL = u.Redacted() // as requested: a redirect's query may carry a token
		return Result{}, he
	}

	if et := res.Validators.ETag; et != "" && !strings.HasPrefix(et, "W/") {
		st.ifRange = et
	} else if lm := res.Validators.LastModified; lm != "" {
		st.ifRange = lm
	} else {
		st.ifRange = ""
	}

	body := &bodyReader{ctx: actx, r: resp.Body, idle: idle, c: c, p: p, url: u}
	body.minRate, body.window = c.minRate()
	body.windowStart = time.Now()
	if up != nil {
		w := &capWriter{w: up, left: req.Expect.Size - offset}
		bufp := copyBufs.Get().(*[]byte)
		n, err := io.CopyBuffer(w, body, *bufp)
		copyBufs.Put(bufp)
		st.progressed = n > 0
		if err == nil && body.err == nil && w.left > 0 {
			// A clean end before the expected size: the file is not what we expect.
			err = fmt.Errorf("%w: body ended after %d of %d bytes", store.ErrDigestMismatch, req.Expect.Size-w.left, req.Expect.Size)
		}
		if err != nil {
			if errors.Is(err, store.ErrDigestMismatch) {
				_ = up.Abort()
				up = nil
				return Result{}, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
			}
			return Result{}, c.bodyErr(ctx, actx, u, body, err)
		}
		info, err := up.Commit(ctx, req.Expect)
		up = nil
		if err != nil {
			return Result{}, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
		}
		res.Blob = info
		return res, nil
	}

	var r io.Reader = body
	if req.Expect.Size <= 0 {
		r = &capReader{r: body, left: maxSize(req)}
	}
	info, err := c.Store.Put(ctx, req.Expect, r)
	if err != nil {
		return Result{}, c.bodyErr(ctx, actx, u, body, err)
	}
	res.Blob = info
	return res, nil
}

// begin opens the partial upload for this Fetch, discarding one that cannot be right.
func (c *Client) begin(ctx context.Context, st *state, size int64) (store.Upload, int64, error) {
	up, err := c.Store.Begin(ctx, st.key)
	if errors.Is(err, store.ErrLocked) {
		// Another process is downloading the same content: wait for it like for a 503.
		return nil, 0, transient(fmt.Errorf("fetch: %w", err))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("fetch: %w", err)
	}
	off := up.Offset()
	if off > size {
		if up, err = c.restart(ctx, st, up); err != nil {
			return nil, 0, err
		}
		off = 0
	}
	if off > 0 {
		st.resumed = true
	}
	return up, off, nil
}

// restart discards up's partial data and begins anew.
func (c *Client) restart(ctx context.Context, st *state, up store.Upload) (store.Upload, error) {
	if err := up.Abort(); err != nil {
		return nil, fmt.Errorf("fetch: discarding partial download: %w", err)
	}
	st.resumed = false
	up, err := c.Store.Begin(ctx, st.key)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if up.Offset() != 0 {
		_ = up.Close()
		return nil, fmt.Errorf("fetch: store kept a partial upload after Abort")
	}
	return up, nil
}

func (c *Client) newRequest(ctx context.Context, req Request, u *url.URL, offset int64, st *state) (*http.Request, error) {
	hreq, err := http.NewRequestWithContext(withCallerHeaders(ctx, req.Header), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedURL, err)
	}
	for k, vs := range req.Header {
		hreq.Header[k] = slices.Clone(vs)
	}
	credentialsOf(ctx).apply(hreq.Header, u)
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", c.userAgent())
	}
	if hreq.Header.Get("Accept-Encoding") == "" {
		// The exact bytes, never a transparently decompressed body.
		hreq.Header.Set("Accept-Encoding", "identity")
	}
	hreq.Header.Del("Range")
	hreq.Header.Del("If-Range")
	if v := req.Validators.ETag; v != "" {
		hreq.Header.Set("If-None-Match", v)
	}
	if v := req.Validators.LastModified; v != "" {
		hreq.Header.Set("If-Modified-Since", v)
	}
	if offset > 0 {
		hreq.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		if st.ifRange != "" {
			hreq.Header.Set("If-Range", st.ifRange)
		}
	}
	return hreq, nil
}

func checkLength(cl int64, req Request, u *url.URL) error {
	if cl < 0 {
		return nil
	}
	if req.Expect.Size > 0 && cl != req.Expect.Size {
		return fmt.Errorf("fetch %s: %w: Content-Length %d, expected %d bytes", u.Redacted(), store.ErrDigestMismatch, cl, req.Expect.Size)
	}
	if req.Expect.Size <= 0 && cl > maxSize(req) {
		return fmt.Errorf("fetch %s: %w: Content-Length %d is over the limit of %d bytes", u.Redacted(), store.ErrTooLarge, cl, maxSize(req))
	}
	return nil
}

func maxSize(req Request) int64 {
	if req.MaxSize > 0 {
		return req.MaxSize
	}
	return DefaultMaxSize
}

// transportErr classifies an error from http.Client.Do (retry.Classify): TLS and scheme
// errors and our refused redirects are final, the rest is worth another attempt.
func (c *Client) transportErr(ctx, actx context.Context, u *url.URL, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(actx), ErrReadTimeout) {
		return transient(fmt.Errorf("fetch %s: %w", u.Redacted(), ErrReadTimeout))
	}
	err = fmt.Errorf("fetch %s: %w", u.Redacted(), err)
	if errors.Is(err, ErrTooManyRedirects) {
		return err // our redirect policy refused
	}
	return &netError{err: err, class: retry.Classify(err)}
}

// bodyErr classifies an error met while storing a body: a read failure is transient,
// anything else (verification, size cap, the store itself) is final.
func (c *Client) bodyErr(ctx, actx context.Context, u *url.URL, body *bodyReader, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if body.err != nil && errors.Is(err, body.err) {
		if errors.Is(body.err, ErrTooSlow) {
			return body.err // final: see Client.MinRate
		}
		if errors.Is(context.Cause(actx), ErrReadTimeout) {
			return transient(fmt.Errorf("fetch %s: %w", u.Redacted(), ErrReadTimeout))
		}
		return transient(fmt.Errorf("fetch %s: reading body: %w", u.Redacted(), body.err))
	}
	return fmt.Errorf("fetch %s: %w", u.Redacted(), err)
}

// snippet reads the start of an error body for HTTPError, as printable text.
func snippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	s := strings.Map(func(r rune) rune {
		if r == utf8RuneError || (!unicode.IsPrint(r) && r != ' ') {
			return ' '
		}
		return r
	}, string(b))
	return strings.Join(strings.Fields(s), " ")
}

const utf8RuneError = '\uFFFD'

// uploadKey names the partial upload of one URL's expected content, stable across runs.
func uploadKey(rawURL string, e store.Expect) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n", rawURL, e.Size)
	algs := make([]string, 0, len(e.Sums))
	for a := range e.Sums {
		algs = append(algs, string(a))
	}
	slices.Sort(algs)
	for _, a := range algs {
		fmt.Fprintf(h, "%s:%s\n", a, strings.ToLower(e.Sums[store.Algorithm(a)]))
	}
	return "fetch-" + hex.EncodeToString(h.Sum(nil))
}

// bodyReader reads a response body: it keeps the idle timer alive, applies the rate limit,
// checks the minimum rate, reports progress and records the first read error so that it
// can be told apart from errors of the store.
type bodyReader struct {
	ctx  context.Context
	r    io.Reader
	idle *idle
	c    *Client
	p    *progress
	url  *url.URL
	err  error

	minRate     int64 // bytes per second; 0: none
	window      time.Duration
	windowStart time.Time
	windowBytes int64
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if lim := b.c.sh.limiter; lim != nil && len(p) > lim.Burst() {
		p = p[:lim.Burst()]
	}
	n, err := b.r.Read(p)
	if n > 0 {
		b.idle.reset()
		if lim := b.c.sh.limiter; lim != nil {
			b.idle.pause()
			waited := time.Now()
			werr := throttle(b.ctx, lim, n)
			b.windowStart = b.windowStart.Add(time.Since(waited)) // our own wait is not the upstream's slowness
			b.idle.reset()
			if werr != nil && err == nil {
				err = werr
			}
		}
		b.p.add(int64(n))
		if serr := b.checkRate(n); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// checkRate counts n more bytes; at the end of each window it fails when fewer than
// minRate per second arrived in it.
func (b *bodyReader) checkRate(n int) error {
	if b.minRate <= 0 {
		return nil
	}
	b.windowBytes += int64(n)
	el := time.Since(b.windowStart)
	if el < b.window {
		return nil
	}
	if rate := int64(float64(b.windowBytes) / el.Seconds()); rate < b.minRate {
		return fmt.Errorf("fetch %s: %w: %d B/s over %s (minimum %d B/s)", b.url.Redacted(), ErrTooSlow, rate, el.Round(time.Second), b.minRate)
	}
	b.windowStart, b.windowBytes = time.Now(), 0
	return nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// throttle waits until the limiter allows n more bytes, or ctx ends (then ctx's error,
// never a "would exceed the deadline" error of its own).
func throttle(ctx context.Context, lim *rate.Limiter, n int) error {
	r := lim.ReserveN(time.Now(), n)
	if !r.OK() {
		return fmt.Errorf("fetch: rate limit burst below %d bytes", n)
	}
	d := r.Delay()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// capWriter passes at most left bytes to w; more is a digest mismatch.
type capWriter struct {
	w    io.Writer
	left int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		n, err := c.w.Write(p[:c.left])
		c.left -= int64(n)
		if err != nil {
			return n, err
		}
		return n, fmt.Errorf("%w: more bytes than expected", store.ErrDigestMismatch)
	}
	n, err := c.w.Write(p)
	c.left -= int64(n)
	return n, err
}

// capReader fails with store.ErrTooLarge once more than left bytes arrive.
type capReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.limit == 0 {
		c.limit = c.left
	}
	if c.left < 0 {
		return 0, fmt.Errorf("%w: body is over the limit of %d bytes", store.ErrTooLarge, c.limit)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, fmt.Errorf("%w: body is over the limit of %d bytes", store.ErrTooLarge, c.limit)
	}
	return n, err
}
