package site

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is serve's Prometheus registry: request counters kept as requests are answered,
// and the store's figures (what each mirror holds, its freshness, its recorded syncs)
// read when scraped. The names are documented in README ("Metrics").
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec // mirror, method, code
	sent     *prometheus.CounterVec // mirror
	inflight *prometheus.GaugeVec   // mirror
}

func newMetrics(srv *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airgap_http_requests_total", Help: "HTTP requests answered, by mirror, method and status code.",
		}, []string{"mirror", "method", "code"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airgap_http_response_bytes_total", Help: "Response body bytes sent, by mirror.",
		}, []string{"mirror"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "airgap_http_requests_in_flight", Help: "Requests being answered now, by mirror.",
		}, []string{"mirror"}),
	}
	m.reg.MustRegister(m.requests, m.sent, m.inflight, storeCollector{srv},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// reqKey is a request's method and status code.
type reqKey struct {
	method string
	code   int
}

// mirrorCounters are one mirror's request metrics, resolved once so that answering a
// request costs no label lookup (and no allocation) once its method and code were seen.
type mirrorCounters struct {
	vec      *prometheus.CounterVec // curried with the mirror
	mu       sync.RWMutex
	requests map[reqKey]prometheus.Counter
	sent     prometheus.Counter
	inflight prometheus.Gauge
}

func (c *mirrorCounters) counter(method string, code int) prometheus.Counter {
	k := reqKey{method, code}
	c.mu.RLock()
	ctr, ok := c.requests[k]
	c.mu.RUnlock()
	if ok {
		return ctr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctr, ok = c.requests[k]; !ok {
		ctr = c.vec.WithLabelValues(method, strconv.Itoa(code))
		c.requests[k] = ctr
	}
	return ctr
}

// knownMethods are the methods counted by name; any other is "other", so that clients
// cannot grow the label set.
var knownMethods = map[string]string{"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT",
	"DELETE": "DELETE", "PATCH": "PATCH", "OPTIONS": "OPTIONS", "CONNECT": "CONNECT"}

func (m *metrics) count(mirror string, h http.Handler) http.Handler {
	c := &mirrorCounters{
		vec:      m.requests.MustCurryWith(prometheus.Labels{"mirror": mirror}),
		requests: map[reqKey]prometheus.Counter{},
		sent:     m.sent.WithLabelValues(mirror),
		inflight: m.inflight.WithLabelValues(mirror),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.inflight.Inc()
		rec, ok := w.(*recorder) // the access log's, when serving through Server
		if !ok {
			rec = &recorder{ResponseWriter: w, status: http.StatusOK}
		}
		defer func() { // also when the handler panics (net/http recovers it)
			c.inflight.Dec()
			method, ok := knownMethods[r.Method]
			if !ok {
				method = "other"
			}
			c.counter(method, rec.status).Inc()
			c.sent.Add(float64(rec.bytes))
		}()
		h.ServeHTTP(rec, r)
	})
}

// The store's figures, per mirror (label "mirror": its ref).
var (
	descPublished = prometheus.NewDesc("airgap_mirror_published_timestamp_seconds", "When the mirror's current generation was published.", []string{"mirror"}, nil)
	descFiles     = prometheus.NewDesc("airgap_mirror_files", "Files in the mirror's published tree.", []string{"mirror"}, nil)
	descItems     = prometheus.NewDesc("airgap_mirror_items", "Items (packages, images, wheels, ...) the mirror's inventory lists.", []string{"mirror"}, nil)
	descHeld      = prometheus.NewDesc("airgap_mirror_bytes", "Bytes of the mirror's published tree.", []string{"mirror"}, nil)
	descGens      = prometheus.NewDesc("airgap_mirror_generations", "Generations of the mirror kept in the store.", []string{"mirror"}, nil)
	descFresh     = prometheus.NewDesc("airgap_mirror_freshness_seconds", "Seconds until what vouches for the published tree expires (Valid-Until, signature expiry); negative once past. Absent when nothing expires.", []string{"mirror"}, nil)
	descUnread    = prometheus.NewDesc("airgap_mirror_unreadable", "1 when the mirror's published tree could not be read.", []string{"mirror"}, nil)
	descSuccess   = prometheus.NewDesc("airgap_sync_last_success_timestamp_seconds", "When the mirror's last successful sync finished.", []string{"mirror"}, nil)
	descLastOK    = prometheus.NewDesc("airgap_sync_last_ok", "1 when the mirror's last sync succeeded, 0 when it failed.", []string{"mirror"}, nil)
	descDuration  = prometheus.NewDesc("airgap_sync_duration_seconds", "How long the mirror's last sync took.", []string{"mirror"}, nil)
	descFetchedB  = prometheus.NewDesc("airgap_sync_fetched_bytes", "Bytes the mirror's last successful sync downloaded.", []string{"mirror"}, nil)
	descFetchedN  = prometheus.NewDesc("airgap_sync_fetched_items", "Files the mirror's last successful sync downloaded.", []string{"mirror"}, nil)
	descErrors    = prometheus.NewDesc("airgap_sync_errors_total", "Failed syncs of the mirror, by kind of error (site.ErrorKind).", []string{"mirror", "kind"}, nil)
)

// storeCollector reads the figures from the store at each scrape (the syncs run in
// other processes; the store is what they share). It is unchecked: the mirrors are
// known only then.
type storeCollector struct{ srv *Server }

func (storeCollector) Describe(chan<- *prometheus.Desc) {}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	list, err := c.srv.cfg.status(ctx, c.srv.env.Store, now, &c.srv.items)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descPublished, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, st := range list {
		if !st.Configured {
			continue
		}
		r := st.Ref
		if st.Error != "" {
			gauge(descUnread, 1, r)
		} else {
			gauge(descUnread, 0, r)
		}
		if !st.Published.IsZero() {
			gauge(descPublished, float64(st.Published.UnixNano())/1e9, r)
			gauge(descFiles, float64(st.Files), r)
			gauge(descItems, float64(st.Items), r)
			gauge(descHeld, float64(st.Bytes), r)
			gauge(descGens, float64(st.Generations), r)
			if !st.Expires.IsZero() {
				gauge(descFresh, st.Expires.Sub(now).Seconds(), r)
			}
		}
		if s := st.LastSync; s != nil {
			if !s.LastSuccess.IsZero() {
				gauge(descSuccess, float64(s.LastSuccess.UnixNano())/1e9, r)
			}
			ok := 0.0
			if s.OK {
				ok = 1
			}
			gauge(descLastOK, ok, r)
			gauge(descDuration, s.Duration().Seconds(), r)
			gauge(descFetchedB, float64(s.FetchedBytes), r)
			gauge(descFetchedN, float64(s.FetchedItems), r)
			for kind, n := range s.Errors {
				ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(n), r, kind)
			}
		}
	}
}
