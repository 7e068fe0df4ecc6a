package site

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/oci"
)

// Server is the handler `airgap serve` runs:
//   - every mirror under /<kind>/<name>/, at the paths its upstream uses below that
//     prefix; and the registry API of every oci mirror at /v2/: a repository is answered
//     by the first oci mirror in the config that holds it (status says which, and warns
//     of repositories a later mirror holds too); /v2/_catalog lists them all (metrics
//     count these requests as mirror "oci" when there are several);
//   - the host names of Config.Hosts, transparently: a request whose Host header, or the
//     absolute URI a proxy client sends (GET http://deb.debian.org/debian/... as apt sends
//     with Acquire::http::Proxy), names one of them is answered by the mirrors it routes
//     to, each at its upstream URL's path. A proxy request for any other host is refused:
//     the mirror never fetches upstream;
//   - the status page at / (HTML) and /status.json (StatusReport), /healthz, Prometheus
//     /metrics, and an access log line per request when AccessLog is set.
type Server struct {
	// AccessLog, when set before serving, receives a line per request in nginx's
	// combined log format with the Host and the seconds taken after it (see
	// writeAccessLog); one Write each, so give it a buffered writer.
	AccessLog io.Writer

	cfg     *Config
	env     *Env
	mux     *http.ServeMux
	mirrors map[string]http.Handler // "/<kind>/<name>" -> its handler, as mux has it
	hosts   map[string][]mount      // lower-case host name -> mounts, longest prefix first
	self    map[string]bool         // host names that are the mirror itself (external_url)
	metrics *metrics
	items   itemCounts // Inventory counts for the status page and metrics

	// The CONNECT tunnels to the Snap Store's hosts, set up at the first CONNECT.
	tunnelOnce sync.Once
	tunnels    *tunnels
	tunnelErr  error
}

// mount is one mirror answering below a path prefix ("" for the whole host).
type mount struct {
	prefix string
	ref    string
	h      http.Handler
}

// NewServer builds the handler for cfg's mirrors over env's store.
func NewServer(cfg *Config, env *Env) *Server {
	s := &Server{cfg: cfg, env: env, mux: http.NewServeMux(), mirrors: map[string]http.Handler{}, hosts: map[string][]mount{}, self: map[string]bool{}}
	s.metrics = newMetrics(s)
	for _, m := range cfg.Mirrors.All() {
		prefix := "/" + Ref(m)
		h := s.metrics.count(Ref(m), http.StripPrefix(prefix, m.Handler(env, prefix)))
		s.mux.Handle(prefix+"/", h)
		s.mirrors[prefix] = h
	}
	// The registry API has fixed paths: /v2/ serves every oci mirror, each repository
	// from the first mirror in the config that holds it (oci.NewRegistryHandler).
	if refs := cfg.ociRefs(); len(refs) > 0 {
		label := refs[0]
		if len(refs) > 1 {
			label = "oci"
		}
		s.mux.Handle("/v2/", s.metrics.count(label, oci.NewRegistryHandler(env.Store, refs)))
	}
	for host := range cfg.Hosts {
		routes, _ := cfg.hostRoutes(host) // validated by Parse
		for _, rt := range routes {
			m := cfg.Mirrors.Find(rt.ref)
			h := s.metrics.count(rt.ref, m.Handler(env, ""))
			if rt.prefix != "" {
				h = http.StripPrefix(rt.prefix, h)
			}
			s.hosts[strings.ToLower(host)] = append(s.hosts[strings.ToLower(host)], mount{prefix: rt.prefix, ref: rt.ref, h: h})
		}
	}
	if u, err := url.Parse(cfg.ExternalURL); err == nil && u.Hostname() != "" {
		s.self[strings.ToLower(u.Hostname())] = true
	}
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	s.mux.Handle("/metrics", s.metrics.handler())
	s.mux.HandleFunc("/status.json", s.serveStatusJSON)
	s.mux.HandleFunc("/{$}", s.serveStatusPage)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.logged(w, r, s.route) }

// logged runs h and writes the access log line.
func (s *Server) logged(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if s.AccessLog == nil {
		h(w, r)
		return
	}
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	h(rec, r)
	writeAccessLog(s.AccessLog, r, rec.status, rec.bytes, start)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		s.connect(w, r)
		return
	}
	host := hostOnly(r.Host)
	if mounts, ok := s.hosts[host]; ok && r.URL.Path != "/healthz" && r.URL.Path != "/metrics" {
		for _, m := range mounts {
			if m.prefix == "" || r.URL.Path == m.prefix || strings.HasPrefix(r.URL.Path, m.prefix+"/") {
				m.h.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	// A proxy request (absolute URI) for a host this mirror does not hold would need the
	// upstream, which the inside does not reach.
	if r.URL.IsAbs() && !s.isSelf(r, host) {
		refuse(w, http.StatusForbidden, fmt.Sprintf("%s is not a mirrored host (configured: %s)", host, strings.Join(s.hostNames(), ", ")))
		return
	}
	if h := s.mirrorFor(r.URL.Path); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// mirrorFor is the handler of the mirror a clean path /<kind>/<name>/... names, found
// without the mux's pattern matching (most requests are for a file of a mirror); nil
// sends the request on to the mux, which also cleans paths and redirects.
func (s *Server) mirrorFor(p string) http.Handler {
	kind := strings.IndexByte(p[min(1, len(p)):], '/') + 1
	if kind <= 0 {
		return nil
	}
	name := strings.IndexByte(p[kind+1:], '/')
	if name < 0 {
		return nil
	}
	h := s.mirrors[p[:kind+1+name]]
	if h == nil || path.Clean(p) != p { // path.Clean allocates only for unclean paths
		return nil
	}
	return h
}

// isSelf reports whether host names the mirror itself: external_url's host, or the
// address the request arrived on.
func (s *Server) isSelf(r *http.Request, host string) bool {
	if s.self[host] {
		return true
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if h, _, err := net.SplitHostPort(a.String()); err == nil && strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

func (s *Server) hostNames() []string {
	names := make([]string, 0, len(s.hosts))
	for h := range s.hosts {
		names = append(names, h)
	}
	slices.Sort(names)
	return names
}

// hostOnly is a Host header's name without port, in lower case.
func hostOnly(hostport string) string {
	h := strings.ToLower(hostport)
	if name, _, err := net.SplitHostPort(h); err == nil {
		return strings.Trim(name, "[]")
	}
	return strings.Trim(h, "[]")
}

func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, "airgap:", msg)
}

// ociRefs are the oci mirrors' refs in config order: the order /v2/ looks in.
func (c *Config) ociRefs() []string {
	var refs []string
	for _, m := range c.Mirrors.OCI {
		refs = append(refs, Ref(m))
	}
	return refs
}

// route is one mirror of a transparent host, below prefix.
type route struct{ prefix, ref string }

// mounted is implemented by kinds whose tree sits below a path on its upstream host
// (apt's archive root /debian, simplestreams' /ephemeral-v3/stable); the others answer
// at the root of a host.
type mounted interface {
	Mounts() []string
}

// hostRoutes lists the mirrors of Hosts[host] with the path prefix each answers below,
// longest first. Two mirrors at the same prefix of one host are an error.
func (c *Config) hostRoutes(host string) ([]route, error) {
	var out []route
	seen := map[string]string{}
	for _, ref := range c.Hosts[host] {
		m := c.Mirrors.Find(ref)
		if m == nil {
			return nil, fmt.Errorf("%q names no configured mirror", ref)
		}
		prefixes := []string{""}
		if mm, ok := m.(mounted); ok && len(mm.Mounts()) > 0 {
			prefixes = mm.Mounts()
		}
		for _, p := range prefixes {
			if other, dup := seen[p]; dup && other != ref {
				return nil, fmt.Errorf("%s and %s both answer at %q", other, ref, p+"/")
			}
			seen[p] = ref
			out = append(out, route{prefix: p, ref: ref})
		}
	}
	slices.SortStableFunc(out, func(a, b route) int { return len(b.prefix) - len(a.prefix) })
	return out, nil
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

// ReadFrom passes copies on to the underlying writer's ReadFrom, so that files still go
// by sendfile.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	n, err := io.Copy(r.ResponseWriter, src)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
