package site

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/airgapkit/airgap/store"
)

// metrics counts requests and bytes per mirror and status class, in Prometheus text format.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]*atomic.Int64 // mirror, code
	bytes    map[string]*atomic.Int64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]*atomic.Int64{}, bytes: map[string]*atomic.Int64{}}
}

func (m *metrics) count(mirror string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*recorder) // the access log's, when serving through Server
		if !ok {
			rec = &recorder{ResponseWriter: w, status: http.StatusOK}
		}
		h.ServeHTTP(rec, r)
		m.mu.Lock()
		key := [2]string{mirror, fmt.Sprint(rec.status)}
		if m.requests[key] == nil {
			m.requests[key] = &atomic.Int64{}
		}
		if m.bytes[mirror] == nil {
			m.bytes[mirror] = &atomic.Int64{}
		}
		m.requests[key].Add(1)
		m.bytes[mirror].Add(rec.bytes)
		m.mu.Unlock()
	})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m := s.metrics
	m.mu.Lock()
	reqKeys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		reqKeys = append(reqKeys, k)
	}
	sort.Slice(reqKeys, func(i, j int) bool {
		return reqKeys[i][0]+" "+reqKeys[i][1] < reqKeys[j][0]+" "+reqKeys[j][1]
	})
	fmt.Fprintln(w, "# HELP airgap_http_requests_total HTTP requests served, by mirror and status code.")
	fmt.Fprintln(w, "# TYPE airgap_http_requests_total counter")
	for _, k := range reqKeys {
		fmt.Fprintf(w, "airgap_http_requests_total{mirror=%q,code=%q} %d\n", k[0], k[1], m.requests[k].Load())
	}
	fmt.Fprintln(w, "# HELP airgap_http_response_bytes_total Response body bytes served, by mirror.")
	fmt.Fprintln(w, "# TYPE airgap_http_response_bytes_total counter")
	names := make([]string, 0, len(m.bytes))
	for n := range m.bytes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "airgap_http_response_bytes_total{mirror=%q} %d\n", n, m.bytes[n].Load())
	}
	m.mu.Unlock()

	fmt.Fprintln(w, "# HELP airgap_mirror_published_timestamp_seconds When the mirror's current snapshot was published.")
	fmt.Fprintln(w, "# TYPE airgap_mirror_published_timestamp_seconds gauge")
	fmt.Fprintln(w, "# HELP airgap_mirror_files Files in the mirror's current snapshot.")
	fmt.Fprintln(w, "# TYPE airgap_mirror_files gauge")
	for _, c := range s.cfg.Mirrors.All() {
		snap, g, err := store.OpenPublished(r.Context(), s.env.Store, Ref(c))
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "airgap_mirror_published_timestamp_seconds{mirror=%q} %d\n", Ref(c), g.Published.Unix())
		fmt.Fprintf(w, "airgap_mirror_files{mirror=%q} %d\n", Ref(c), len(snap.Files))
	}
}
