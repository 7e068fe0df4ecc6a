package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// trickle is an upstream that sends size bytes, one every gap (TUF's slow retrieval).
func trickle(t *testing.T, size int, gap time.Duration) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for i := 0; i < size; i++ {
			if _, err := w.Write([]byte{'x'}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(gap):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// Issue #19: an upstream sending a byte at a time, never idle long enough for the read
// timeout, stalled a sync for ever.
func TestTooSlowFails(t *testing.T) {
	srv, requests := trickle(t, 1000, 20*time.Millisecond) // ~50 B/s
	c, _ := newClient(store.NewMemory())
	c.MinRate, c.MinRateWindow = 1000, 300*time.Millisecond
	start := time.Now()
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/slow.bin"})
	require.ErrorIs(t, err, ErrTooSlow)
	assert.Contains(t, err.Error(), srv.URL+"/slow.bin")
	assert.Contains(t, err.Error(), "minimum 1000 B/s")
	assert.Less(t, time.Since(start), 20*time.Second, "fails after the window, not when the body ends")
	assert.EqualValues(t, 1, requests.Load(), "not retried: a trickling upstream would trickle again")
}

func TestRateLimitWaitIsNotSlowness(t *testing.T) {
	body := make([]byte, 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	c, _ := newClient(store.NewMemory())
	// Our own limit makes the download take ~1s; the upstream itself is fast.
	c.RateLimit, c.MinRate, c.MinRateWindow = 64<<10, 1<<20, 200*time.Millisecond
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: store.Expect{Size: int64(len(body))}})
	require.NoError(t, err)
}

func TestMaxFileTime(t *testing.T) {
	srv, _ := trickle(t, 1000, 5*time.Millisecond)
	c, _ := newClient(store.NewMemory())
	c.MinRate, c.MaxFileTime = -1, 200*time.Millisecond
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/long.bin"})
	require.ErrorIs(t, err, ErrFileDeadline)
	assert.Contains(t, err.Error(), "/long.bin")
	assert.Contains(t, err.Error(), "200ms")

	// The caller's own deadline stays the caller's.
	c2, _ := newClient(store.NewMemory())
	c2.MinRate = -1
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = c2.Fetch(ctx, Request{URL: srv.URL + "/long.bin"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrFileDeadline)
}
