package apttest

import (
	"net/http"
	"strings"
)

// ForwardProxy is an HTTP forward proxy for tests of real clients configured with
// Acquire::http::Proxy: it answers absolute-URI requests ("GET http://deb.debian.org/
// debian/dists/bookworm/InRelease") whose host and path start with a key of routes
// ("deb.debian.org/debian") from that route's handler, with the key's path stripped, and
// refuses everything else (requests in origin form, CONNECT, other hosts) with 403, as
// a proxy that allows only its mirrors does. Nothing is forwarded to the network.
func ForwardProxy(routes map[string]http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect && r.URL.IsAbs() && r.URL.Scheme == "http" {
			for prefix, h := range routes {
				host, dir, _ := strings.Cut(prefix, "/")
				rest, ok := strings.CutPrefix(r.URL.Path, "/"+dir+"/")
				if r.URL.Host != host || !ok && dir != "" {
					continue
				}
				if dir == "" {
					rest = strings.TrimPrefix(r.URL.Path, "/")
				}
				r2 := r.Clone(r.Context())
				r2.URL.Path, r2.URL.RawPath, r2.RequestURI = "/"+rest, "", ""
				h.ServeHTTP(w, r2)
				return
			}
		}
		http.Error(w, "forbidden by the test proxy", http.StatusForbidden)
	})
}
