package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RateLimitTransport retries requests answered 429 Too Many Requests, and idempotent
// requests (GET, HEAD) that failed transiently (connection reset or refused, timeouts,
// 408, 502, 503, 504) with
// backoff. For a 429 it waits as long
// as the registry asks (Retry-After in seconds or as an HTTP date; else RateLimit-Reset;
// else Docker Hub's RateLimit-Remaining window when the quota is spent; else exponential
// backoff with jitter), sleeps only while the request's context lives, and gives up with
// a *RateLimitError after MaxRetries retries or when the registry asks for more than
// MaxWait. Requests whose body cannot be replayed are not retried.
type RateLimitTransport struct {
	// Inner does the requests; nil means http.DefaultTransport.
	Inner http.RoundTripper
	// MaxRetries is how many times a 429 is retried; 0 means 5, negative means never.
	MaxRetries int
	// MaxWait caps one wait; a registry asking for longer fails at once. 0 means 2 minutes.
	MaxWait time.Duration
	// BaseDelay is the first backoff when the registry gives no hint; 0 means 500ms.
	BaseDelay time.Duration
	// Logger receives a warning per wait; nil discards.
	Logger *slog.Logger
}

// RoundTrip implements http.RoundTripper.
func (t *RateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	inner := t.Inner
	if inner == nil {
		inner = http.DefaultTransport
	}
	retries := t.MaxRetries
	if retries == 0 {
		retries = 5
	}
	maxWait := t.MaxWait
	if maxWait == 0 {
		maxWait = 2 * time.Minute
	}
	base := t.BaseDelay
	if base == 0 {
		base = 500 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(req.Context())
			if req.Body != nil && req.Body != http.NoBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := inner.RoundTrip(r)
		if transient(req, resp, err) && attempt <= retries {
			if resp != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
			}
			wait, hinted := time.Duration(0), false
			if resp != nil {
				wait, hinted = retryWait(resp.Header, time.Now())
			}
			if !hinted || wait > maxWait {
				wait = backoff(base, attempt, maxWait)
			}
			if t.Logger != nil {
				t.Logger.Warn("registry request failed: retrying", "url", redactURL(req), "wait", wait, "attempt", attempt, "err", err)
			}
			if serr := sleepCtx(req.Context(), wait); serr != nil {
				if err == nil {
					err = fmt.Errorf("oci: %s: %s", redactURL(req), resp.Status)
				}
				return nil, fmt.Errorf("%w (while waiting: %w)", err, serr)
			}
			continue
		}
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			return resp, err
		}
		wait, hinted := retryWait(resp.Header, time.Now())
		remaining, limit := rateLimitHeaders(resp.Header)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		rlErr := &RateLimitError{URL: redactURL(req), Attempts: attempt, Wait: wait, Remaining: remaining, Limit: limit}
		replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		if attempt > retries || !replayable || wait > maxWait {
			return nil, rlErr
		}
		if !hinted {
			wait = backoff(base, attempt, maxWait)
		}
		if t.Logger != nil {
			t.Logger.Warn("registry rate limit: waiting", "url", rlErr.URL, "wait", wait, "attempt", attempt, "remaining", remaining)
		}
		if err := sleepCtx(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("%w (while waiting: %w)", rlErr, err)
		}
	}
}

// backoff is exponential with jitter: about base * 2^(attempt-1), capped.
func backoff(base time.Duration, attempt int, maxWait time.Duration) time.Duration {
	w := base << min(attempt-1, 20)
	w = w/2 + rand.N(w/2+1)
	return min(w, maxWait)
}

// transient reports a failure worth retrying for an idempotent request (GET, HEAD): a
// network error other than cancellation, 408, 502, 503, 504.
func transient(req *http.Request, resp *http.Response, err error) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if err != nil {
		if req.Context().Err() != nil {
			return false
		}
		var ne net.Error
		return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || (errors.As(err, &ne) && ne.Timeout())
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryWait reads how long a 429 asks to wait. hinted is false when the answer says
// nothing usable.
func retryWait(h http.Header, now time.Time) (wait time.Duration, hinted bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
		if at, err := http.ParseTime(v); err == nil {
			d := at.Sub(now)
			if d < 0 {
				d = 0
			}
			return d, true
		}
	}
	if v := firstField(h.Get("RateLimit-Reset")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
	}
	// Docker Hub: "RateLimit-Remaining: 0;w=21600" means the window's quota is spent.
	if rem := h.Get("RateLimit-Remaining"); rem != "" {
		if n, err := strconv.Atoi(firstField(rem)); err == nil && n == 0 {
			if w := param(rem, "w"); w != "" {
				if s, err := strconv.Atoi(w); err == nil && s > 0 {
					return time.Duration(s) * time.Second, true
				}
			}
		}
	}
	return 0, false
}

// rateLimitHeaders returns RateLimit-Remaining and RateLimit-Limit, -1 when absent.
func rateLimitHeaders(h http.Header) (remaining, limit int) {
	remaining, limit = -1, -1
	if n, err := strconv.Atoi(firstField(h.Get("RateLimit-Remaining"))); err == nil {
		remaining = n
	}
	if n, err := strconv.Atoi(firstField(h.Get("RateLimit-Limit"))); err == nil {
		limit = n
	}
	return remaining, limit
}

func firstField(v string) string {
	if i := strings.IndexAny(v, ";,"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

func param(v, key string) string {
	for _, f := range strings.Split(v, ";")[1:] {
		k, val, ok := strings.Cut(strings.TrimSpace(f), "=")
		if ok && strings.EqualFold(k, key) {
			return strings.Trim(val, `"`)
		}
	}
	return ""
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func redactURL(req *http.Request) string {
	u := *req.URL
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// schemeGuard refuses any request whose scheme differs from what the registry's
// configuration says: https everywhere, plain http only to hosts configured PlainHTTP.
// go-containerregistry silently downgrades loopback and RFC 1918 hosts to http; behind
// this guard nothing is inferred.
type schemeGuard struct {
	inner http.RoundTripper
	plain func(host string) bool
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	want := "https"
	if g.plain(req.URL.Host) {
		want = "http"
	}
	if req.URL.Scheme != want {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %s request to %s (configured: %s)", ErrPlainHTTP, req.URL.Scheme, req.URL.Host, want)
	}
	return g.inner.RoundTrip(req)
}
