package pypi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/pypi/pep508"
	"github.com/airgapkit/airgap/pypi/simple"
	"github.com/airgapkit/airgap/store"
)

// HandlerOption configures NewHandler.
type HandlerOption func(*handler)

// WithDefaultJSON makes requests without an Accept header (and */* ones) get PEP 691 JSON
// instead of HTML.
func WithDefaultJSON() HandlerOption { return func(h *handler) { h.defaultJSON = true } }

// NewHandler serves the mirror that ref publishes in s as a simple repository:
// /simple/ and /simple/<name>/ negotiated between PEP 691 JSON (only as
// application/vnd.pypi.simple.v1+json, honouring q-values) and PEP 503 HTML, and the
// files under /packages/ with Range and ETag support. Requests for /simple and
// /simple/<name> are redirected to the trailing-slash form, non-normalised names to the
// normalised one; redirects are relative, so the handler works under http.StripPrefix.
func NewHandler(s store.Store, ref string, opts ...HandlerOption) http.Handler {
	h := &handler{live: &store.Live{Store: s, Ref: ref}}
	for _, o := range opts {
		o(h)
	}
	return h
}

type handler struct {
	live        *store.Live
	defaultJSON bool
}

func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusMovedPermanently)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case p == "":
		redirect(w, "simple/")
		return
	case p == "simple":
		redirect(w, "simple/")
		return
	}
	snap, _, err := h.live.Snapshot(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "nothing published yet", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "store unavailable", http.StatusInternalServerError)
		return
	}
	if rest, ok := strings.CutPrefix(p, "simple/"); ok {
		h.serveSimple(w, r, snap, rest)
		return
	}
	if strings.HasPrefix(p, "packages/") {
		f, ok := snap.Lookup(p)
		if !ok {
			http.NotFound(w, r)
			return
		}
		store.ServeFile(w, r, h.live.Store, p, f)
		return
	}
	http.NotFound(w, r)
}

func (h *handler) serveSimple(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, rest string) {
	dir := "simple/"
	if rest != "" {
		name, tail, slash := strings.Cut(rest, "/")
		if tail != "" || name == "" {
			http.NotFound(w, r)
			return
		}
		norm := pep508.NormalizeName(name)
		switch {
		case norm != name && slash:
			redirect(w, "../"+norm+"/")
			return
		case norm != name:
			redirect(w, norm+"/")
			return
		case !slash:
			redirect(w, name+"/")
			return
		}
		dir += name + "/"
	}
	mediaType, ok := negotiate(r.Header.Get("Accept"), h.defaultJSON)
	w.Header().Add("Vary", "Accept")
	if !ok {
		http.Error(w, "not acceptable: offer "+simple.MediaTypeJSON+", "+simple.MediaTypeHTML+", text/html", http.StatusNotAcceptable)
		return
	}
	name := dir + "index.html"
	if mediaType == simple.MediaTypeJSON {
		name = dir + "index.json"
	}
	f, found := snap.Lookup(name)
	if !found {
		http.NotFound(w, r)
		return
	}
	ct := mediaType
	if mediaType == simple.MediaTypeLegacyHTML {
		ct = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	store.ServeFile(w, r, h.live.Store, name, f)
}

// negotiate picks the index format for an Accept header: the offer with the highest
// q-value; at equal q an exactly named type beats a wildcard match, and among exact
// matches JSON is preferred, among wildcard matches HTML. ok is false when nothing offered
// is acceptable.
func negotiate(accept string, defaultJSON bool) (string, bool) {
	offers := []string{simple.MediaTypeJSON, simple.MediaTypeHTML, simple.MediaTypeLegacyHTML}
	if strings.TrimSpace(accept) == "" {
		if defaultJSON {
			return simple.MediaTypeJSON, true
		}
		return simple.MediaTypeLegacyHTML, true
	}
	type score struct {
		q     float64
		spec  int
		order int
	}
	best, bestScore := "", score{}
	for i, offer := range offers {
		sc := score{q: -1, spec: -1}
		for _, part := range strings.Split(accept, ",") {
			fields := strings.Split(part, ";")
			mt := strings.ToLower(strings.TrimSpace(fields[0]))
			q := 1.0
			for _, param := range fields[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
						q = f
					} else {
						q = 0
					}
				}
			}
			spec := -1
			switch {
			case mt == offer:
				spec = 2
			case offer == simple.MediaTypeJSON && mt == "application/vnd.pypi.simple.latest+json",
				offer == simple.MediaTypeHTML && mt == "application/vnd.pypi.simple.latest+html":
				spec = 2
			case mt == "*/*":
				spec = 0
			case strings.HasSuffix(mt, "/*") && strings.HasPrefix(offer, strings.TrimSuffix(mt, "*")):
				spec = 1
			}
			// the most specific matching range decides the offer's q
			if spec > sc.spec {
				sc.spec, sc.q = spec, q
			}
		}
		if sc.spec < 0 || sc.q <= 0 {
			continue
		}
		// preference among equals: JSON for exact requests, HTML for wildcards
		sc.order = len(offers) - i
		if sc.spec < 2 && !defaultJSON {
			sc.order = i
		}
		if best == "" || sc.q > bestScore.q || (sc.q == bestScore.q && (sc.spec > bestScore.spec || (sc.spec == bestScore.spec && sc.order > bestScore.order))) {
			best, bestScore = offer, sc
		}
	}
	return best, best != ""
}
