package snapproxy

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/airgapkit/airgap/store"
)

// NewHandler serves the snapshot published under ref (for example "snaps/maas"): every
// file by its path (NAME_REV.snap, NAME_REV.assert, manifest.json, install.sh), the pair
// install.sh installs of a snap by name: /NAME.snap and /NAME.assert, with ?arch=ARCH
// when the mirror holds several architectures of it (default amd64, or the only one),
// and below /v2/ and /api/v1/ the Snap Store API of NewStoreHandler, so that the
// mirror's URL is a store snapd refreshes from.
func NewHandler(s store.Store, ref string, opts ...HandlerOption) http.Handler {
	return &handler{live: &store.Live{Store: s, Ref: ref}, api: NewStoreHandler(s, []string{ref}, opts...)}
}

type handler struct {
	live *store.Live
	api  http.Handler

	mu     sync.Mutex
	record store.Digest
	out    *Output
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isAPIPath(r.URL.Path) {
		h.api.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	snap, gen, err := h.live.Snapshot(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "nothing published yet", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "store unavailable", http.StatusInternalServerError)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		name = ManifestFile
	}
	if f, ok := snap.Lookup(name); ok {
		store.ServeFile(w, r, h.live.Store, name, f)
		return
	}
	stem, ext, ok := cutExt(name)
	if !ok || !validName(stem) {
		http.NotFound(w, r)
		return
	}
	out, err := h.output(r, snap, gen.Record)
	if err != nil {
		http.Error(w, "manifest unavailable", http.StatusInternalServerError)
		return
	}
	ms, ok := pick(out.Manifest, stem, r.URL.Query().Get("arch"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	path := ms.File
	if ext == ".assert" {
		path = ms.Assert
	}
	f, ok := snap.Lookup(path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+path+`"`)
	store.ServeFile(w, r, h.live.Store, path, f)
}

func cutExt(name string) (string, string, bool) {
	for _, ext := range []string{".snap", ".assert"} {
		if stem, ok := strings.CutSuffix(name, ext); ok {
			return stem, ext, true
		}
	}
	return "", "", false
}

func (h *handler) output(r *http.Request, snap *store.Snapshot, rec store.Digest) (*Output, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.out != nil && h.record == rec {
		return h.out, nil
	}
	out, err := outputOf(r.Context(), h.live.Store, snap)
	if err != nil {
		return nil, err
	}
	h.out, h.record = out, rec
	return out, nil
}

// pick finds the snap of that name for arch ("" : amd64, or the only architecture).
func pick(man *Manifest, name, arch string) (ManifestSnap, bool) {
	var found []ManifestSnap
	for _, s := range man.Snaps {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if arch == "" {
		var archs []string
		for _, s := range found {
			archs = append(archs, s.Architectures...)
		}
		slices.Sort(archs)
		if archs = slices.Compact(archs); len(archs) == 1 {
			arch = archs[0]
		} else {
			arch = "amd64"
		}
	}
	// The revision install.sh installs; else the newest.
	var best ManifestSnap
	ok := false
	for _, s := range found {
		if !slices.Contains(s.Architectures, arch) {
			continue
		}
		if slices.Contains(man.Install[arch], strings.TrimSuffix(s.File, ".snap")) {
			return s, true
		}
		if !ok || s.Revision > best.Revision {
			best, ok = s, true
		}
	}
	return best, ok
}
