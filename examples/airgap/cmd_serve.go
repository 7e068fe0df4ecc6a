package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/tlsutil"
)

func (a *app) serveCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve every published mirror over HTTP(S) to unmodified clients",
		Long: "Paths: /apt/<name>/, /simplestreams/<name>/, /pypi/<name>/simple/, /galaxy/<name>/api/,\n" +
			"/snaps/<name>/, /files/<name>/, /oci/<name>/ and the OCI registry API at /v2/.\n" +
			"With hosts: in the config, a request whose Host matches is served from that mirror at\n" +
			"the upstream's own paths (point DNS for archive.ubuntu.com at the mirror).\n" +
			"Also /healthz and Prometheus /metrics. TLS (tls: in the config) reloads renewed files.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(a.configPath)
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Listen = listen
			}
			s, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			srv := &http.Server{
				Addr:              cfg.Listen,
				Handler:           newServer(cfg, a.runtime(cfg, s, nil)),
				ReadHeaderTimeout: 30 * time.Second,
				ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug), // TLS handshake noise
			}
			scheme := "http"
			if cfg.TLS != nil {
				rl, err := tlsutil.NewReloader(cfg.path(cfg.TLS.Cert), cfg.path(cfg.TLS.Key), tlsutil.ReloaderOptions{})
				if err != nil {
					return err
				}
				srv.TLSConfig = rl.ServerConfig()
				scheme = "https"
			}
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return err
			}
			a.log.Info("serving", "url", scheme+"://"+ln.Addr().String())
			return serveUntilDone(cmd.Context(), srv, ln, cfg.TLS != nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default: the config's listen)")
	return cmd
}

// serveUntilDone serves until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, useTLS bool) error {
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}

// server routes requests to the mirrors' handlers and keeps the metrics.
type server struct {
	rt      *runtime
	cfg     *Config
	mux     *http.ServeMux
	byHost  map[string]http.Handler
	metrics *metrics
}

// newServer builds the handler that `airgap serve` runs.
func newServer(cfg *Config, rt *runtime) http.Handler {
	s := &server{rt: rt, cfg: cfg, mux: http.NewServeMux(), byHost: map[string]http.Handler{}, metrics: newMetrics()}
	byRef := map[string]mirror{}
	for _, c := range cfg.Mirrors.all() {
		prefix := "/" + ref(c)
		byRef[ref(c)] = c.mirror
		s.mux.Handle(prefix+"/", s.metrics.count(ref(c), http.StripPrefix(prefix, c.Handler(rt, prefix))))
	}
	// The registry API has fixed paths: /v2/ goes to the first OCI mirror.
	if len(cfg.Mirrors.OCI) > 0 {
		m := cfg.Mirrors.OCI[0]
		s.mux.Handle("/v2/", s.metrics.count(ref(m), m.Handler(rt, "")))
	}
	for host, target := range cfg.Hosts {
		s.byHost[strings.ToLower(host)] = s.metrics.count(target, byRef[target].Handler(rt, ""))
	}
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	s.mux.HandleFunc("/metrics", s.serveMetrics)
	s.mux.HandleFunc("/{$}", s.index)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if h, ok := s.byHost[host]; ok && r.URL.Path != "/healthz" && r.URL.Path != "/metrics" {
		h.ServeHTTP(rec, r)
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	s.rt.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
		slog.String("remote", r.RemoteAddr), slog.String("method", r.Method), slog.String("host", r.Host),
		slog.String("path", r.URL.RequestURI()), slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
		slog.Duration("took", time.Since(start)))
}

// index lists the mirrors on the root page.
func (s *server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "airgap mirror")
	for _, c := range s.cfg.Mirrors.all() {
		state := "not published"
		if g, err := store.Current(r.Context(), s.rt.store, ref(c)); err == nil {
			state = "published " + g.Published.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "/%s/  %s\n", ref(c), state)
	}
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
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

func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
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
	for _, c := range s.cfg.Mirrors.all() {
		snap, g, err := store.OpenPublished(r.Context(), s.rt.store, ref(c))
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "airgap_mirror_published_timestamp_seconds{mirror=%q} %d\n", ref(c), g.Published.Unix())
		fmt.Fprintf(w, "airgap_mirror_files{mirror=%q} %d\n", ref(c), len(snap.Files))
	}
}
