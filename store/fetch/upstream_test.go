package fetch

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airgapkit/airgap/store"
)

// upstream is a scriptable test server for one file.
type upstream struct {
	content []byte
	modTime time.Time
	etag    string

	mu         sync.Mutex
	failN      int    // answer the next failN requests with failStatus
	failStatus int    //
	retryAfter string // sent with failStatus
	cutN       int    // cut the next cutN bodies after cutAt bytes
	cutAt      int
	hangN      int  // hang (after hangAt bytes) on the next hangN requests
	hangAt     int  //
	noRange    bool // ignore Range (always 200)
	chunked    bool // no Content-Length
	requests   []http.Header
	onRequest  func(*http.Request)

	sent        atomic.Int64
	inflight    atomic.Int32
	maxInflight atomic.Int32
	delay       time.Duration
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func newUpstream(t testing.TB, content []byte) (*upstream, *httptest.Server) {
	u := &upstream{content: content, modTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), etag: `"v1"`}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return u, srv
}

func (u *upstream) expect() store.Expect {
	return store.ExpectDigest(store.DigestOf(u.content), int64(len(u.content)))
}

// set changes the script under the lock.
func (u *upstream) set(fn func(u *upstream)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fn(u)
}

func (u *upstream) reqs() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.requests...)
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := u.inflight.Add(1)
	defer u.inflight.Add(-1)
	for {
		m := u.maxInflight.Load()
		if n <= m || u.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	u.mu.Lock()
	u.requests = append(u.requests, r.Header.Clone())
	on := u.onRequest
	fail := u.failN > 0
	if fail {
		u.failN--
	}
	cut := u.cutN > 0
	if cut {
		u.cutN--
	}
	hang := u.hangN > 0
	if hang {
		u.hangN--
	}
	status, ra, cutAt, hangAt, noRange, chunked, delay := u.failStatus, u.retryAfter, u.cutAt, u.hangAt, u.noRange, u.chunked, u.delay
	content, etag, modTime := u.content, u.etag, u.modTime
	u.mu.Unlock()
	if on != nil {
		on(r)
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	if fail {
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		http.Error(w, "scripted failure", status)
		return
	}
	if hang && hangAt == 0 {
		<-r.Context().Done()
		return
	}
	if noRange {
		r.Header.Del("Range")
	}
	cw := &countingWriter{ResponseWriter: w, u: u, limit: -1}
	if cut {
		cw.limit = cutAt
	}
	if hang {
		cw.limit, cw.hang, cw.ctx = hangAt, true, r.Context()
	}
	w.Header().Set("ETag", etag)
	if chunked {
		if inm := r.Header.Get("If-None-Match"); inm == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = cw.Write(content)
		return
	}
	http.ServeContent(cw, r, "file.bin", modTime, bytes.NewReader(content))
}

// countingWriter counts body bytes and can cut or hang the body after limit bytes.
type countingWriter struct {
	http.ResponseWriter
	u       *upstream
	limit   int
	written int
	hang    bool
	ctx     context.Context
}

func (c *countingWriter) Write(p []byte) (int, error) {
	cut := c.limit >= 0 && c.written+len(p) > c.limit
	if cut {
		p = p[:c.limit-c.written]
	}
	n, err := c.write(p)
	if cut {
		c.ResponseWriter.(http.Flusher).Flush()
		if c.hang {
			<-c.ctx.Done()
		}
		panic(http.ErrAbortHandler)
	}
	return n, err
}

// write counts p as sent before it goes (and takes back what did not), so that a client
// that has read the whole body never sees the count behind.
func (c *countingWriter) write(p []byte) (int, error) {
	c.u.sent.Add(int64(len(p)))
	n, err := c.ResponseWriter.Write(p)
	c.written += n
	c.u.sent.Add(int64(n - len(p)))
	return n, err
}

// sleeps records the waits a Client asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// events collects progress events.
type events struct {
	mu sync.Mutex
	ev []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.ev = append(e.ev, ev)
	e.mu.Unlock()
}

func (e *events) all() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.ev...)
}

func blobs(t testing.TB, s store.Store) []store.BlobInfo {
	t.Helper()
	var out []store.BlobInfo
	if err := s.Walk(context.Background(), func(b store.BlobInfo) error { out = append(out, b); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}
