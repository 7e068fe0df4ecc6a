package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

func newClient(s store.Store) (*Client, *sleeps) {
	sl := &sleeps{}
	return &Client{Store: s, Sleep: sl.sleep}, sl
}

func TestFetchVerifiesAndStores(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(100_000))
	s := store.NewMemory()
	c, _ := newClient(s)
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	assert.Equal(t, int64(len(up.content)), res.Blob.Size)
	assert.Equal(t, srv.URL+"/f", res.FinalURL)
	assert.Equal(t, `"v1"`, res.Validators.ETag)
	assert.NotEmpty(t, res.Validators.LastModified)
	h := up.reqs()[0]
	assert.Equal(t, DefaultUserAgent, h.Get("User-Agent"))
	assert.Equal(t, "identity", h.Get("Accept-Encoding"))
	assert.Empty(t, h.Get("Range"))

	// Present in the store: no request at all.
	res2, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, res.Blob, res2.Blob)
	assert.Len(t, up.reqs(), 1)
	assert.Empty(t, res2.FinalURL)
}

func TestFetchBytesUnknownSize(t *testing.T) {
	up, srv := newUpstream(t, []byte("Origin: Ubuntu\n"))
	c, _ := newClient(store.NewMemory())
	b, res, err := c.FetchBytes(t.Context(), Request{URL: srv.URL + "/Release"})
	require.NoError(t, err)
	assert.Equal(t, up.content, b)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
}

func TestConditionalGet(t *testing.T) {
	up, srv := newUpstream(t, []byte("index v1"))
	c, _ := newClient(store.NewMemory())
	_, res, err := c.FetchBytes(t.Context(), Request{URL: srv.URL + "/idx"})
	require.NoError(t, err)
	b, res2, err := c.FetchBytes(t.Context(), Request{URL: srv.URL + "/idx", Validators: res.Validators})
	require.NoError(t, err)
	assert.True(t, res2.NotModified)
	assert.Nil(t, b)
	assert.Equal(t, res.Validators.ETag, res2.Validators.ETag)
	assert.True(t, res2.Blob.Digest.IsZero())
	r := up.reqs()
	require.Len(t, r, 2)
	assert.Equal(t, `"v1"`, r[1].Get("If-None-Match"))
	assert.Equal(t, res.Validators.LastModified, r[1].Get("If-Modified-Since"))

	// Last-Modified alone also works.
	_, res3, err := c.FetchBytes(t.Context(), Request{URL: srv.URL + "/idx", Validators: Validators{LastModified: res.Validators.LastModified}})
	require.NoError(t, err)
	assert.True(t, res3.NotModified)

	// Changed content: 200 with new validators.
	up.set(func(u *upstream) {
		u.etag = `"v2"`
		u.content = []byte("index v2")
		u.modTime = u.modTime.Add(time.Hour)
	})
	b, res4, err := c.FetchBytes(t.Context(), Request{URL: srv.URL + "/idx", Validators: res.Validators})
	require.NoError(t, err)
	assert.False(t, res4.NotModified)
	assert.Equal(t, "index v2", string(b))
	assert.Equal(t, `"v2"`, res4.Validators.ETag)
}

func TestRetryOn500ThenSucceeds(t *testing.T) {
	up, srv := newUpstream(t, []byte("hello"))
	up.failN, up.failStatus = 2, http.StatusInternalServerError
	c, sl := newClient(store.NewMemory())
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Len(t, up.reqs(), 3)
	w := sl.all()
	require.Len(t, w, 2)
	// Exponential with equal jitter: [250ms,500ms], then [500ms,1s].
	assert.GreaterOrEqual(t, w[0], DefaultBackoff/2)
	assert.LessOrEqual(t, w[0], DefaultBackoff)
	assert.GreaterOrEqual(t, w[1], DefaultBackoff)
	assert.LessOrEqual(t, w[1], 2*DefaultBackoff)
}

func TestRetryAfterHonoured(t *testing.T) {
	up, srv := newUpstream(t, []byte("hello"))
	up.failN, up.failStatus, up.retryAfter = 1, http.StatusTooManyRequests, "1"
	c, sl := newClient(store.NewMemory())
	c.Backoff = time.Millisecond
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Len(t, up.reqs(), 2)
	assert.Equal(t, []time.Duration{time.Second}, sl.all())
}

func TestRetryAfterDateAndCap(t *testing.T) {
	up, srv := newUpstream(t, []byte("hello"))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	up.failN, up.failStatus = 1, http.StatusServiceUnavailable
	up.retryAfter = now.Add(90 * time.Second).Format(http.TimeFormat)
	c, sl := newClient(store.NewMemory())
	c.Backoff, c.MaxRetryAfter = time.Millisecond, time.Minute
	c.now = func() time.Time { return now }
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Minute}, sl.all(), "90s capped at MaxRetryAfter")
}

func TestNotFoundIsNotRetried(t *testing.T) {
	up, srv := newUpstream(t, []byte("x"))
	up.failN, up.failStatus = 10, http.StatusNotFound
	c, sl := newClient(store.NewMemory())
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f"})
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 404, he.StatusCode)
	assert.Contains(t, he.Body, "scripted failure")
	assert.False(t, he.Temporary())
	assert.Len(t, up.reqs(), 1)
	assert.Empty(t, sl.all())
}

func TestRetriesExhausted(t *testing.T) {
	up, srv := newUpstream(t, []byte("x"))
	up.failN, up.failStatus = 100, http.StatusBadGateway
	c, sl := newClient(store.NewMemory())
	c.Retries = 2
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f"})
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusBadGateway, he.StatusCode)
	assert.Contains(t, err.Error(), "after 3 attempts")
	assert.Len(t, up.reqs(), 3)
	assert.Len(t, sl.all(), 2)

	c2, _ := newClient(store.NewMemory())
	c2.Retries = -1
	up.set(func(u *upstream) { u.requests = nil })
	_, err = c2.Fetch(t.Context(), Request{URL: srv.URL + "/f"})
	require.ErrorAs(t, err, &he)
	assert.Len(t, up.reqs(), 1)
}

func TestResumeAfterCut(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(1<<20))
	up.cutN, up.cutAt = 1, 300_000
	s := store.NewMemory()
	c, sl := newClient(s)
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/big", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	r := up.reqs()
	require.Len(t, r, 2)
	assert.Empty(t, r[0].Get("Range"))
	assert.Regexp(t, `^bytes=\d+-$`, r[1].Get("Range"))
	assert.Equal(t, `"v1"`, r[1].Get("If-Range"))
	assert.Less(t, up.sent.Load(), int64(2*len(up.content)))
	assert.Equal(t, int64(len(up.content)), up.sent.Load(), "every byte sent once")
	assert.Len(t, sl.all(), 1)
}

func TestUnknownSizeCutRestartsFromScratch(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(200_000))
	up.cutN, up.cutAt = 1, 50_000
	c, _ := newClient(store.NewMemory())
	b, _, err := c.FetchBytes(t.Context(), Request{URL: srv.URL + "/idx"})
	require.NoError(t, err)
	assert.Equal(t, up.content, b)
	r := up.reqs()
	require.Len(t, r, 2)
	assert.Empty(t, r[1].Get("Range"), "no resume without a pinned size and digest")
}

// testResumeAcrossRuns: the first run dies after a cut (no retries); a new Client on the
// same store continues with Range.
func testResumeAcrossRuns(t *testing.T, open func() store.Store) {
	up, srv := newUpstream(t, randomBytes(600_000))
	up.cutN, up.cutAt = 1, 200_000
	c1 := &Client{Store: open(), Retries: -1}
	_, err := c1.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.Error(t, err)
	assert.Empty(t, blobs(t, c1.Store))

	c2, _ := newClient(open())
	res, err := c2.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	r := up.reqs()
	require.Len(t, r, 2)
	assert.Regexp(t, `^bytes=[1-9]\d*-$`, r[1].Get("Range"))
	assert.Empty(t, r[1].Get("If-Range"), "the validator is not known across runs")
	assert.Equal(t, int64(len(up.content)), up.sent.Load())
}

func TestResumeAcrossRunsMemory(t *testing.T) {
	s := store.NewMemory()
	testResumeAcrossRuns(t, func() store.Store { return s })
}

func TestServerIgnoresRange(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(500_000))
	up.cutN, up.cutAt, up.noRange = 1, 100_000, true
	c, _ := newClient(store.NewMemory())
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	r := up.reqs()
	require.Len(t, r, 2)
	assert.NotEmpty(t, r[1].Get("Range"))
}

func TestDigestMismatchLeavesNothing(t *testing.T) {
	up, srv := newUpstream(t, []byte("the real content"))
	s := store.NewMemory()
	c, sl := newClient(s)
	e := store.ExpectDigest(store.DigestOf([]byte("something else!")), int64(len(up.content)))
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: e})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Empty(t, blobs(t, s))
	u, err := s.Begin(t.Context(), uploadKey(srv.URL+"/f", e))
	require.NoError(t, err)
	assert.Zero(t, u.Offset(), "no partial left")
	assert.Len(t, up.reqs(), 1, "a fresh download that does not verify is not retried")
	assert.Empty(t, sl.all())

	// Unknown size, wrong digest: the Put path.
	_, err = c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: store.Expect{Sums: e.Sums}})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Empty(t, blobs(t, s))
}

func TestCorruptPartialRetriedOnceFromScratch(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(300_000))
	s := store.NewMemory()
	key := uploadKey(srv.URL+"/f", up.expect())
	u, err := s.Begin(t.Context(), key)
	require.NoError(t, err)
	_, err = u.Write(randomBytes(1000)) // garbage from an "earlier run"
	require.NoError(t, err)
	require.NoError(t, u.Close())

	c, _ := newClient(s)
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	r := up.reqs()
	require.Len(t, r, 2)
	assert.Equal(t, "bytes=1000-", r[0].Get("Range"))
	assert.Empty(t, r[1].Get("Range"))
}

func TestContentLengthContradictsExpect(t *testing.T) {
	up, srv := newUpstream(t, []byte("0123456789"))
	s := store.NewMemory()
	c, _ := newClient(s)
	e := store.ExpectDigest(store.DigestOf([]byte("x")), 999)
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: e})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Contains(t, err.Error(), "Content-Length 10")
	assert.Len(t, up.reqs(), 1)
	assert.Empty(t, blobs(t, s))
}

func TestOversize(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(5000))
	s := store.NewMemory()
	c, _ := newClient(s)
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", MaxSize: 4096})
	require.ErrorIs(t, err, store.ErrTooLarge)
	assert.Contains(t, err.Error(), "Content-Length")

	up.set(func(u *upstream) { u.chunked = true }) // no Content-Length: the streaming cap must catch it
	_, err = c.Fetch(t.Context(), Request{URL: srv.URL + "/f", MaxSize: 4096})
	require.ErrorIs(t, err, store.ErrTooLarge)
	assert.Len(t, up.reqs(), 2, "not retried")
	assert.Empty(t, blobs(t, s))

	// Exactly at the cap is fine.
	_, err = c.Fetch(t.Context(), Request{URL: srv.URL + "/f", MaxSize: 5000})
	require.NoError(t, err)
}

func TestChunkedBodyLongerThanExpected(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(5000))
	up.chunked = true
	s := store.NewMemory()
	c, _ := newClient(s)
	e := store.ExpectDigest(store.DigestOf(up.content[:4000]), 4000)
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: e})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Empty(t, blobs(t, s))
	u, err := s.Begin(t.Context(), uploadKey(srv.URL+"/f", e))
	require.NoError(t, err)
	assert.Zero(t, u.Offset())
}

func TestHangingUpstreamTimesOut(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(100_000))
	up.hangN = 1 // before the header
	c, _ := newClient(store.NewMemory())
	c.ReadTimeout = 50 * time.Millisecond
	c.Retries = -1
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.ErrorIs(t, err, ErrReadTimeout)

	// Mid-body: the next attempt resumes.
	up.set(func(u *upstream) { u.hangN, u.hangAt = 1, 30_000 })
	c2, _ := newClient(store.NewMemory())
	c2.ReadTimeout = time.Second // long enough for the first 30 kB to arrive on a busy machine
	res, err := c2.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	r := up.reqs()
	assert.NotEmpty(t, r[len(r)-1].Get("Range"))
}

func TestCancelDuringBackoff(t *testing.T) {
	up, srv := newUpstream(t, []byte("x"))
	ctx, cancel := context.WithCancel(t.Context())
	up.failN, up.failStatus = 100, http.StatusServiceUnavailable
	up.onRequest = func(*http.Request) { cancel() }
	c := &Client{Store: store.NewMemory(), Backoff: time.Hour, MaxBackoff: time.Hour}
	_, err := c.Fetch(ctx, Request{URL: srv.URL + "/f"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, up.reqs(), 1)
}

func TestCancelBeforeStart(t *testing.T) {
	_, srv := newUpstream(t, []byte("x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c, _ := newClient(store.NewMemory())
	_, err := c.Fetch(ctx, Request{URL: srv.URL + "/f"})
	require.ErrorIs(t, err, context.Canceled)
}

func TestAuthStrippedAcrossHosts(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]http.Header{}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
		fmt.Fprint(w, "payload")
	}))
	defer other.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
		switch r.URL.Path {
		case "/away": // another port on the same address: another host for us
			http.Redirect(w, r, other.URL+"/landed", http.StatusFound)
		case "/local":
			http.Redirect(w, r, "/here", http.StatusFound)
		default:
			fmt.Fprint(w, "payload")
		}
	}))
	defer origin.Close()

	c, _ := newClient(store.NewMemory())
	hdr := http.Header{"Authorization": {"Bearer secret"}, "X-Api-Token": {"t0k"}, "Accept": {"application/json"}, "Cookie": {"session=1"}}
	res, err := c.Fetch(t.Context(), Request{URL: origin.URL + "/away", Header: hdr})
	require.NoError(t, err)
	assert.Equal(t, other.URL+"/landed", res.FinalURL)
	_, err = c.Fetch(t.Context(), Request{URL: origin.URL + "/local", Header: hdr})
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "Bearer secret", seen["/away"].Get("Authorization"))
	assert.Equal(t, "t0k", seen["/away"].Get("X-Api-Token"))
	landed := seen["/landed"]
	assert.Empty(t, landed.Get("Authorization"))
	assert.Empty(t, landed.Get("X-Api-Token"))
	assert.Empty(t, landed.Get("Cookie"))
	assert.Equal(t, "application/json", landed.Get("Accept"))
	assert.Equal(t, DefaultUserAgent, landed.Get("User-Agent"))
	here := seen["/here"]
	assert.Equal(t, "Bearer secret", here.Get("Authorization"), "same host keeps credentials")
	assert.Equal(t, "t0k", here.Get("X-Api-Token"))
}

func TestCallerCheckRedirectStillConsulted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusFound)
			return
		}
		fmt.Fprint(w, "b")
	}))
	defer srv.Close()
	refuse := errors.New("no redirects please")
	c, _ := newClient(store.NewMemory())
	c.HTTP = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return refuse }}
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/a"})
	require.ErrorIs(t, err, refuse)
}

func TestRedirectLoopLimited(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	c, sl := newClient(store.NewMemory())
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/loop"})
	require.ErrorIs(t, err, ErrTooManyRedirects)
	assert.Empty(t, sl.all(), "not retried")
	mu.Lock()
	assert.Equal(t, MaxRedirects, hits)
	mu.Unlock()
}

func TestPerHostLimit(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(10_000))
	up.delay = 20 * time.Millisecond
	c, _ := newClient(store.NewMemory())
	c.PerHost = 2
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := c.Fetch(t.Context(), Request{URL: fmt.Sprintf("%s/f%d", srv.URL, i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, up.maxInflight.Load(), int32(2))
	assert.GreaterOrEqual(t, up.maxInflight.Load(), int32(1))
	assert.Len(t, up.reqs(), 8)
}

func TestSameBlobConcurrentlyDownloadedOnce(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(300_000))
	up.delay = 10 * time.Millisecond
	c, _ := newClient(store.NewMemory())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Len(t, up.reqs(), 1)
	c.sh.keysMu.Lock()
	assert.Empty(t, c.sh.keys, "key locks are released")
	c.sh.keysMu.Unlock()
}

func TestProgressEvents(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(1<<20))
	ev := &events{}
	c, _ := newClient(store.NewMemory())
	c.Progress = ev.add
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	all := ev.all()
	require.GreaterOrEqual(t, len(all), 2)
	last := all[len(all)-1]
	assert.True(t, last.Done)
	require.NoError(t, last.Err)
	assert.Equal(t, int64(len(up.content)), last.Bytes)
	assert.Equal(t, int64(len(up.content)), last.Total)
	assert.LessOrEqual(t, len(all), 1+len(up.content)/progressBytes+1, "throttled")
	for _, e := range all[:len(all)-1] {
		assert.False(t, e.Done)
	}

	// A failure ends with a Done event carrying the error; unknown total is -1.
	ev2 := &events{}
	up.set(func(u *upstream) { u.failN, u.failStatus = 1, http.StatusForbidden })
	c.Progress = ev2.add
	_, err = c.Fetch(t.Context(), Request{URL: srv.URL + "/other"})
	require.Error(t, err)
	all = ev2.all()
	require.Len(t, all, 1)
	assert.True(t, all[0].Done)
	assert.Equal(t, int64(-1), all[0].Total)
	var he *HTTPError
	assert.ErrorAs(t, all[0].Err, &he)

	// A cache hit still gets its final event.
	ev3 := &events{}
	c.Progress = ev3.add
	_, err = c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	require.Len(t, ev3.all(), 1)
	assert.Equal(t, Event{URL: srv.URL + "/f", Bytes: int64(len(up.content)), Total: int64(len(up.content)), Done: true}, ev3.all()[0])
}

func TestRateLimit(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(64<<10))
	c, _ := newClient(store.NewMemory())
	c.RateLimit = 32 << 20
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
}

func TestUnsupportedURL(t *testing.T) {
	c, _ := newClient(store.NewMemory())
	for _, u := range []string{"file:///etc/passwd", "/etc/passwd", "s3::https://b/k", "ftp://x/y", "http://", "::"} {
		_, err := c.Fetch(t.Context(), Request{URL: u})
		assert.ErrorIs(t, err, ErrUnsupportedURL, u)
	}
	_, err := (&Client{}).Fetch(t.Context(), Request{URL: "http://127.0.0.1/"})
	assert.Error(t, err)
}

func TestBadExpect(t *testing.T) {
	c, _ := newClient(store.NewMemory())
	_, err := c.Fetch(t.Context(), Request{URL: "http://127.0.0.1:1/", Expect: store.Expect{Sums: map[store.Algorithm]string{store.SHA256: "zz"}}})
	require.ErrorIs(t, err, store.ErrInvalidDigest)
}

// Issue #19: an upstream that refuses connections fails fast: retried once, not Retries
// times.
func TestConnectionRefusedIsRetriedOnce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	c, sl := newClient(store.NewMemory())
	_, err := c.Fetch(t.Context(), Request{URL: addr + "/f"})
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Len(t, sl.all(), 1)
	assert.True(t, strings.Contains(err.Error(), "after 2 attempts"), err.Error())
}

// Attempts that move the partial forward are not counted against Retries.
func TestManyCutsWithProgressStillSucceed(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(1<<20))
	up.cutN, up.cutAt = 20, 100_000
	c, _ := newClient(store.NewMemory())
	c.Retries = 1 // even the last allowed attempt is forgiven when it made progress
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	assert.Len(t, up.reqs(), 11)
	assert.Equal(t, int64(len(up.content)), up.sent.Load())
}

type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestCallerHTTPClientAndUserAgent(t *testing.T) {
	up, srv := newUpstream(t, []byte("x"))
	up.failN, up.failStatus = 1, http.StatusRequestTimeout // 408 is retried
	ct := &countingTransport{}
	c, sl := newClient(store.NewMemory())
	c.HTTP = &http.Client{Transport: ct}
	c.UserAgent = "mirror-job/1"
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Header: http.Header{"User-Agent": {"override/2"}}})
	require.NoError(t, err)
	assert.Equal(t, 2, ct.n)
	assert.Len(t, sl.all(), 1)
	assert.Equal(t, "override/2", up.reqs()[0].Get("User-Agent"))
	_, err = c.Fetch(t.Context(), Request{URL: srv.URL + "/g"})
	require.NoError(t, err)
	assert.Equal(t, "mirror-job/1", up.reqs()[2].Get("User-Agent"))
	c.CloseIdleConnections()
}

func TestUnsolicited304IsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	c, _ := newClient(store.NewMemory())
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f"})
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusNotModified, he.StatusCode)
}

func TestRangeNotSatisfiableStartsOver(t *testing.T) {
	content := randomBytes(50_000)
	var mu sync.Mutex
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		if r.Header.Get("Range") != "" {
			w.Header().Set("Content-Range", "bytes */50000")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		_, _ = w.Write(content)
	}))
	defer srv.Close()
	s := store.NewMemory()
	e := store.ExpectDigest(store.DigestOf(content), int64(len(content)))
	u, err := s.Begin(t.Context(), uploadKey(srv.URL+"/f", e))
	require.NoError(t, err)
	_, _ = u.Write(content[:100]) // what an earlier run left
	require.NoError(t, u.Close())
	c, sl := newClient(s)
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: e})
	require.NoError(t, err)
	assert.Equal(t, e.Digest(), res.Blob.Digest)
	assert.Equal(t, []string{"bytes=100-", ""}, ranges)
	assert.Empty(t, sl.all(), "no wait before starting over")
}

func TestRateLimitHoldsBack(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(20_000))
	ev := &events{}
	c, _ := newClient(store.NewMemory())
	c.RateLimit = 1000 // bytes/s: 20 s for the file
	c.Progress = ev.add
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Fetch(ctx, Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	all := ev.all()
	last := all[len(all)-1]
	assert.True(t, last.Done)
	assert.Less(t, last.Bytes, int64(len(up.content)))
}
