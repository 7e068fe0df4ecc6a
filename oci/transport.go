package oci

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store/fetch/retry"
)

// RateLimitTransport retries failed registry requests by a retry.Policy (see
// store/fetch/retry for what counts as transient and how waits grow): 429 Too Many
// Requests for any request whose body can be replayed, and transient failures (network
// errors, 408, 425, 500, 502, 503, 504) of GET and HEAD; other methods are not retried
// on those, as the registry may have acted on them. The wait is what the registry asks
// for (Retry-After in seconds or as an HTTP date; else RateLimit-Reset; else Docker Hub's
// RateLimit-Remaining window when the quota is spent), at least the policy's backoff. A
// registry that asks for longer than Policy.MaxRetryAfter is not waited for: the request
// fails at once (a 429 with a *RateLimitError), rather than after a wait that cannot be
// long enough. Waits end with the request's context.
type RateLimitTransport struct {
	// Inner does the requests; nil means http.DefaultTransport.
	Inner http.RoundTripper
	// Policy bounds the retries (zero: the SDK's defaults, retry.Policy).
	Policy retry.Policy
	// Logger receives a warning per retry; nil discards.
	Logger *slog.Logger
}

// maxDrain caps what is read of a failed response before it is retried or returned.
const maxDrain = 64 << 10

// RoundTrip implements http.RoundTripper.
func (t *RateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	inner := t.Inner
	if inner == nil {
		inner = http.DefaultTransport
	}
	maxHint := t.Policy.MaxRetryAfter
	if maxHint == 0 {
		maxHint = retry.DefaultMaxRetryAfter
	}
	idempotent := req.Method == http.MethodGet || req.Method == http.MethodHead
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	a := t.Policy.Start()
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
		if err != nil {
			class := retry.Classify(err)
			if !idempotent || !replayable {
				class = retry.Permanent
			}
			if werr := a.Wait(req.Context(), class, 0, err); werr != nil {
				return nil, werr
			}
			t.warn(req, attempt, "err", err)
			continue
		}
		is429 := resp.StatusCode == http.StatusTooManyRequests
		class := retry.ClassifyStatus(resp.StatusCode)
		switch {
		case is429:
			class = retry.Transient
		case class == retry.Permanent, !idempotent:
			return resp, nil
		}
		if !replayable {
			class = retry.Permanent
		}
		hint, hinted := retryWait(resp.Header, time.Now())
		if hinted && hint > maxHint {
			class = retry.Permanent // asked for longer than we wait: fail now
		}
		failed := drain(resp)
		var fail error = fmt.Errorf("oci: %s %s: %s", req.Method, redactURL(req), resp.Status)
		if is429 {
			remaining, limit := rateLimitHeaders(resp.Header)
			fail = &RateLimitError{URL: redactURL(req), Attempts: attempt, Wait: hint, Remaining: remaining, Limit: limit}
		}
		werr := a.Wait(req.Context(), class, hint, fail)
		switch {
		case werr == nil:
			t.warn(req, attempt, "status", resp.StatusCode, "asked", hint)
			continue
		case req.Context().Err() != nil, errors.Is(werr, retry.ErrGaveUp):
			return nil, werr
		case is429:
			return nil, fail // it counts the attempts itself
		}
		return failed, nil // the last answer, for the caller to read
	}
}

func (t *RateLimitTransport) warn(req *http.Request, attempt int, args ...any) {
	if t.Logger != nil {
		t.Logger.Warn("oci: registry request failed: retrying", append([]any{"url", redactURL(req), "attempt", attempt}, args...)...)
	}
}

// drain reads the start of a failed response and closes it, so that its connection can
// be reused during the wait; it returns the response with that start as its body.
func drain(resp *http.Response) *http.Response {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// retryWait reads how long a failed answer asks to wait: Retry-After, else
// RateLimit-Reset, else Docker Hub's RateLimit-Remaining window when its quota is spent.
// hinted is false when the answer says nothing usable.
func retryWait(h http.Header, now time.Time) (wait time.Duration, hinted bool) {
	if d, ok := retry.ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	if d, ok := retry.ParseRetryAfter(firstField(h.Get("RateLimit-Reset")), now); ok {
		return d, true
	}
	// Docker Hub: "RateLimit-Remaining: 0;w=21600" means the window's quota is spent.
	if rem := h.Get("RateLimit-Remaining"); rem != "" {
		if n, err := strconv.Atoi(firstField(rem)); err == nil && n == 0 {
			if d, ok := retry.ParseRetryAfter(param(rem, "w"), now); ok && d > 0 {
				return d, true
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
		// Permanent, also for store/fetch, which would retry an error of the transport.
		return nil, retry.Mark(fmt.Errorf("%w: %s request to %s (configured: %s)", ErrPlainHTTP, req.URL.Scheme, req.URL.Host, want), retry.Permanent)
	}
	return g.inner.RoundTrip(req)
}
