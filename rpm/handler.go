package rpm

import (
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// HandlerOption configures NewHandler.
type HandlerOption func(*handler)

// WithExternalURL sets the public URL of the mirror's tree, mount prefix included
// (https://mirror.example/rpm/rocky9): the baseurl and gpgkey URLs of the .repo file
// are built from it. Without it they are built from the address of the listener the
// request came in on plus the base path, never from the Host header.
func WithExternalURL(u string) HandlerOption {
	return func(h *handler) { h.external = strings.TrimRight(u, "/") }
}

// WithBasePath sets the prefix the handler is mounted under with http.StripPrefix
// ("/rpm/rocky9").
func WithBasePath(p string) HandlerOption {
	return func(h *handler) { h.base = "/" + strings.Trim(p, "/") }
}

type handler struct {
	s              store.Store
	ref, name      string
	files          http.Handler
	external, base string
}

// RepoFileName is where NewHandler serves the mirror's .repo file: <name>.repo at the
// root of the tree.
func RepoFileName(ref string) string { return path.Base(ref) + ".repo" }

// NewHandler serves the tree that ref ("rpm/<name>") publishes at the upstream's paths
// (<repo path>/repodata/..., the packages, keys/), straight from the store, with Range,
// ETag, If-None-Match and Content-Type, every answer from one complete published
// snapshot; and a ready .repo file for /etc/yum.repos.d at /<name>.repo (see RepoDefs).
func NewHandler(s store.Store, ref string, opts ...HandlerOption) http.Handler {
	h := &handler{s: s, ref: ref, name: path.Base(ref), files: store.NewHandler(s, ref)}
	for _, o := range opts {
		o(h)
	}
	if h.base == "/" {
		h.base = ""
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/"+RepoFileName(h.ref) {
		h.files.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	snap, _, err := store.OpenPublished(r.Context(), h.s, h.ref)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	repos, err := reposOf(snap, h.ref)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, signed := snap.Lookup(MirrorKeyPath)
	b := RepoFile(RepoDefs(h.publicURL(r), h.name, repos, signed))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodGet {
		w.Write(b)
	}
}

func (h *handler) publicURL(r *http.Request) string {
	if h.external != "" {
		return h.external
	}
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	if !ok {
		return h.base
	}
	u := url.URL{Scheme: "http", Host: addr.String(), Path: h.base}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return u.String()
}
