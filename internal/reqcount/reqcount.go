// Package reqcount counts the HTTP requests a benchmarked sync sends, to show what a
// no-op sync costs the upstream.
package reqcount

import (
	"net/http"
	"sync/atomic"
)

// Client returns an HTTP client over http.DefaultTransport and the count of the
// requests it has sent (reset it with Store(0) between runs).
func Client() (*http.Client, *atomic.Int64) {
	n := new(atomic.Int64)
	return &http.Client{Transport: transport{http.DefaultTransport, n}}, n
}

type transport struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.rt.RoundTrip(r)
}
