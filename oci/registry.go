package oci

import (
	"net/http"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// NewRegistryHandler serves the snapshots of several refs as one registry, as
// NewHandler serves one: a request for a repository is answered by the first ref (in
// the order given) whose published snapshot holds it, so a repository in two mirrors is
// the first one's; /v2/_catalog lists the repositories of all. Names are unchanged (each
// mirror's LocalName). A repository none holds is refused as NewHandler refuses it.
func NewRegistryHandler(s store.Store, refs []string, opts ...HandlerOption) http.Handler {
	rh := &registryHandler{}
	for _, ref := range refs {
		rh.hs = append(rh.hs, NewHandler(s, ref, opts...).(*handler))
	}
	return rh
}

type registryHandler struct{ hs []*handler }

func (rh *registryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if len(rh.hs) == 1 || !ok || rest == "" || r.Method != http.MethodGet && r.Method != http.MethodHead {
		rh.hs[0].ServeHTTP(w, r) // the answers that do not depend on a snapshot
		return
	}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if rest == "_catalog" {
		rh.catalog(w, r)
		return
	}
	name := repositoryOf(rest)
	var first *store.Snapshot
	var firstH *handler
	for _, h := range rh.hs {
		snap, _, err := h.live.Snapshot(r.Context())
		if err != nil {
			continue // unpublished or unreadable: the next mirror may hold it
		}
		if first == nil {
			first, firstH = snap, h
		}
		if name != "" {
			if _, ok := h.repo(r, snap, name); ok {
				h.serve(w, r, snap)
				return
			}
		}
	}
	if first == nil {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "nothing published yet")
		return
	}
	firstH.serve(w, r, first) // the refusal NewHandler gives
}

// catalog lists the repositories of every published ref, each once, sorted and paged.
func (rh *registryHandler) catalog(w http.ResponseWriter, r *http.Request) {
	var all []string
	for _, h := range rh.hs {
		if snap, _, err := h.live.Snapshot(r.Context()); err == nil {
			all = append(all, h.index(snap).list...)
		}
	}
	slices.Sort(all)
	writeCatalog(w, r, slices.Compact(all))
}
