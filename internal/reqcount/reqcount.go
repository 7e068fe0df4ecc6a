// Package reqcount counts the HTTP requests a benchmarked sync sends, to show what a
// no-op sync costs the upstream: on the client side (Client) or, for upstreams in
// another process than the sync, on the server side (Paths).
package reqcount

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
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

// ColdThenNoop runs a sync twice and prints "cold SECONDS ITEMS", then, counting the
// requests of the second run with n, "noop SECONDS REQUESTS"; the second run must
// publish nothing.
func ColdThenNoop(w io.Writer, n *atomic.Int64, sync func() (items int, changed bool, err error)) error {
	t0 := time.Now()
	items, _, err := sync()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "cold %.3f %d\n", time.Since(t0).Seconds(), items)
	n.Store(0)
	t0 = time.Now()
	_, changed, err := sync()
	if err != nil {
		return err
	}
	if changed {
		return errors.New("the no-op sync published")
	}
	fmt.Fprintf(w, "noop %.3f %d\n", time.Since(t0).Seconds(), n.Load())
	return nil
}

// Paths counts the requests an upstream answers, by path. Safe for concurrent use.
type Paths struct {
	mu sync.Mutex
	n  map[string]int
}

// Wrap returns next, counting each request it serves.
func (p *Paths) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Add(r.URL.Path)
		next.ServeHTTP(w, r)
	})
}

// Add counts one request of path.
func (p *Paths) Add(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[string]int{}
	}
	p.n[path]++
}

// Take returns the counts since the last Take, sorted by path, and starts over.
func (p *Paths) Take() []Count {
	p.mu.Lock()
	n := p.n
	p.n = nil
	p.mu.Unlock()
	out := make([]Count, 0, len(n))
	for path, c := range n {
		out = append(out, Count{Path: path, Requests: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Count is how many requests one path received.
type Count struct {
	Path     string
	Requests int
}
