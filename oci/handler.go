package oci

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/airgapkit/airgap/store"
)

// HandlerOption configures NewHandler.
type HandlerOption func(*handler)

// WithDefaultNamespace makes repository names that are not found be looked up again
// under ns ("docker.io" lets clients pull "library/alpine" as well as
// "docker.io/library/alpine"). containerd's "?ns=" query parameter, sent to mirrors,
// works without this option.
func WithDefaultNamespace(ns string) HandlerOption {
	return func(h *handler) { h.namespace = strings.ReplaceAll(ns, ":", "-") }
}

// NewHandler serves the snapshot that ref publishes as a read-only OCI distribution
// registry: GET and HEAD of /v2/, /v2/_catalog and /v2/<name>/tags/list (both with n
// and last, and a Link header to the next page), /v2/<name>/manifests/<tag or digest>,
// /v2/<name>/blobs/<digest> (with Range), and the OCI 1.1 referrers API
// /v2/<name>/referrers/<digest> (with artifactType; a platform-filtered index lists the
// referrers of the upstream index it came from too). Answers carry Docker-Content-Digest
// and the stored media type. Refusals are distribution error JSON with the spec's codes:
// 404 NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN (uploads/...);
// 400 DIGEST_INVALID (a malformed digest), UNSUPPORTED (a bad n); 405 UNSUPPORTED for
// every method but GET and HEAD; 404 UNSUPPORTED for paths outside the API. An invalid
// tag names nothing (404). A 416 names the size in Content-Range. Every request is
// answered from one published snapshot; a new publish is picked up at the next request.
func NewHandler(s store.Store, ref string, opts ...HandlerOption) http.Handler {
	h := &handler{live: &store.Live{Store: s, Ref: ref}, s: s}
	for _, o := range opts {
		o(h)
	}
	return h
}

type handler struct {
	live      *store.Live
	s         store.Store
	namespace string

	mu        sync.Mutex
	indexed   *store.Snapshot
	names     *snapNames
	referrers map[string][]Descriptor // "<repo>@<subject digest>" -> referrers; nil until asked
}

// snapNames are the names one snapshot serves.
type snapNames struct {
	repos map[string]bool
	list  []string            // repositories, sorted
	tags  map[string][]string // sorted tags by repository
}

// index returns the repositories and tags of snap, computed once per published snapshot.
func (h *handler) index(snap *store.Snapshot) *snapNames {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.indexed == snap {
		return h.names
	}
	n := &snapNames{repos: map[string]bool{}, tags: map[string][]string{}}
	for p := range snap.Files {
		repo, kind, tag, ok := parsePath(p)
		if !ok {
			continue
		}
		if !n.repos[repo] {
			n.repos[repo] = true
			n.list = append(n.list, repo)
		}
		if kind == "tag" {
			n.tags[repo] = append(n.tags[repo], tag)
		}
	}
	sort.Strings(n.list)
	for _, t := range n.tags {
		sort.Strings(t)
	}
	h.indexed, h.names, h.referrers = snap, n, nil
	return n
}

func regError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"code": code, "message": msg}}})
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		regError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "this registry is read-only")
		return
	}
	p := r.URL.Path
	if p == "/v2" || p == "/v2/" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
		return
	}
	if !strings.HasPrefix(p, "/v2/") {
		regError(w, http.StatusNotFound, "UNSUPPORTED", "not a registry path")
		return
	}
	snap, ok := h.snapshot(w, r)
	if !ok {
		return
	}
	h.serve(w, r, snap)
}

// snapshot is the published snapshot, or false with the refusal written.
func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) (*store.Snapshot, bool) {
	snap, _, err := h.live.Snapshot(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "nothing published yet")
		return nil, false
	}
	if err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "store unavailable")
		return nil, false
	}
	return snap, true
}

// repositoryOf is the repository name a registry path below /v2/ names ("" for
// /v2/_catalog and paths outside the API).
func repositoryOf(rest string) string {
	if strings.HasSuffix(rest, "/tags/list") {
		return strings.TrimSuffix(rest, "/tags/list")
	}
	for _, sep := range []string{"/referrers/", "/manifests/", "/blobs/"} {
		if i := strings.LastIndex(rest, sep); i >= 0 {
			return rest[:i]
		}
	}
	return ""
}

// serve answers a GET or HEAD below /v2/ from snap.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, snap *store.Snapshot) {
	rest := r.URL.Path[len("/v2/"):]
	switch {
	case rest == "_catalog":
		h.catalog(w, r, snap)
	case strings.HasSuffix(rest, "/tags/list"):
		h.tags(w, r, snap, strings.TrimSuffix(rest, "/tags/list"))
	case strings.Contains(rest, "/referrers/"):
		i := strings.LastIndex(rest, "/referrers/")
		h.referrersOf(w, r, snap, rest[:i], rest[i+len("/referrers/"):])
	case strings.Contains(rest, "/manifests/"):
		i := strings.LastIndex(rest, "/manifests/")
		h.manifest(w, r, snap, rest[:i], rest[i+len("/manifests/"):])
	case strings.Contains(rest, "/blobs/"):
		i := strings.LastIndex(rest, "/blobs/")
		h.blob(w, r, snap, rest[:i], rest[i+len("/blobs/"):])
	default:
		regError(w, http.StatusNotFound, "UNSUPPORTED", "unknown registry path")
	}
}

// repo finds the local repository for a requested name, trying the ?ns= namespace and
// the default namespace.
func (h *handler) repo(r *http.Request, snap *store.Snapshot, name string) (string, bool) {
	cands := []string{name}
	if ns := r.URL.Query().Get("ns"); ns != "" {
		cands = append(cands, strings.ReplaceAll(ns, ":", "-")+"/"+name)
		if ns == DockerHub && !strings.Contains(name, "/") {
			cands = append(cands, DockerHub+"/library/"+name)
		}
	}
	if h.namespace != "" {
		cands = append(cands, h.namespace+"/"+name)
	}
	for _, c := range cands {
		if store.ValidatePath(c) != nil {
			continue
		}
		if h.index(snap).repos[c] {
			return c, true
		}
	}
	return "", false
}

// parseDigestRef reads a reference that names content by digest. wellFormed is false
// (400 DIGEST_INVALID) for anything that is not a digest; a well-formed digest of
// another registered algorithm (sha512) is not an error but names nothing here (d "").
func parseDigestRef(s string) (d store.Digest, wellFormed bool) {
	if d, err := store.ParseDigest(s); err == nil {
		return d, true
	}
	enc, ok := strings.CutPrefix(s, "sha512:")
	if !ok || len(enc) != 128 {
		return "", false
	}
	for i := 0; i < len(enc); i++ {
		if c := enc[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return "", true
}

func (h *handler) manifest(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name, ref string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	var f store.File
	found := false
	switch {
	case strings.Contains(ref, ":"):
		d, wellFormed := parseDigestRef(ref)
		if !wellFormed {
			regError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
			return
		}
		if d != "" {
			f, found = snap.Lookup(manifestPath(repo, d))
		}
	case validTag(ref):
		f, found = snap.Lookup(tagPath(repo, ref))
	}
	if !found {
		regError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
		return
	}
	serveContent(w, r, h.s, "manifest.json", f.MediaType, f)
}

func (h *handler) blob(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name, ref string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	if ref == "uploads" || strings.HasPrefix(ref, "uploads/") {
		regError(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "this registry is read-only: no uploads")
		return
	}
	d, wellFormed := parseDigestRef(ref)
	if !wellFormed {
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
		return
	}
	f, ok := snap.Lookup(layerPath(repo, d))
	if !ok {
		// Manifests are blobs too (clients may fetch an index's children as blobs).
		f, ok = snap.Lookup(manifestPath(repo, d))
	}
	if d == "" || !ok {
		regError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
		return
	}
	serveContent(w, r, h.s, "blob", "application/octet-stream", f)
}

// serveContent answers with a stored manifest or blob: its digest, the given media type,
// Range (store.ServeFile: a 416 names the size in Content-Range).
func serveContent(w http.ResponseWriter, r *http.Request, s store.Store, name, mediaType string, f store.File) {
	w.Header().Set("Docker-Content-Digest", string(f.Digest))
	w.Header().Set("Content-Type", mediaType)
	store.ServeFile(w, r, s, name, f)
}

func (h *handler) tags(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	tags, ok := page(w, r, h.index(snap).tags[repo])
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "tags": tags})
}

// catalog lists the repositories (GET /v2/_catalog, with n and last).
func (h *handler) catalog(w http.ResponseWriter, r *http.Request, snap *store.Snapshot) {
	writeCatalog(w, r, h.index(snap).list)
}

// writeCatalog answers a catalog request with the page of list (sorted) it asks for.
func writeCatalog(w http.ResponseWriter, r *http.Request, list []string) {
	repos, ok := page(w, r, list)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"repositories": repos})
}

// page applies a listing's n and last query parameters to the sorted list and links the
// next page. It answers 400 and returns false when n is not a non-negative integer.
func page(w http.ResponseWriter, r *http.Request, list []string) ([]string, bool) {
	q := r.URL.Query()
	if last := q.Get("last"); last != "" {
		list = list[sort.Search(len(list), func(i int) bool { return list[i] > last }):]
	}
	if q.Has("n") {
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 0 {
			regError(w, http.StatusBadRequest, "UNSUPPORTED", "n must be a non-negative integer")
			return nil, false
		}
		if n < len(list) {
			list = list[:n]
			if n > 0 {
				next := *r.URL
				v := next.Query()
				v.Set("last", list[n-1])
				next.RawQuery = v.Encode()
				w.Header().Set("Link", "<"+next.RequestURI()+`>; rel="next"`)
			}
		}
	}
	if list == nil {
		list = []string{}
	}
	return list, true
}

// referrersOf answers the OCI 1.1 referrers API from the manifests of the snapshot that
// name the digest as their subject.
func (h *handler) referrersOf(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name, ref string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	d, wellFormed := parseDigestRef(ref)
	if !wellFormed {
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
		return
	}
	all, err := h.referrerIndex(r, snap)
	if err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "store unavailable")
		return
	}
	list := []Descriptor{}
	at := r.URL.Query().Get("artifactType")
	for _, x := range all[repo+"@"+string(d)] {
		if at == "" || x.ArtifactType == at {
			list = append(list, x)
		}
	}
	if at != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", MediaTypeOCIIndex)
	_ = json.NewEncoder(w).Encode(map[string]any{"schemaVersion": 2, "mediaType": MediaTypeOCIIndex, "manifests": list})
}

// referrerIndex reads the snapshot's OCI manifests once and maps subjects to referrers.
func (h *handler) referrerIndex(r *http.Request, snap *store.Snapshot) (map[string][]Descriptor, error) {
	h.index(snap)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.indexed == snap && h.referrers != nil {
		return h.referrers, nil
	}
	out := map[string][]Descriptor{}
	sources := map[string]string{} // "<repo>@<filtered index>" -> "<repo>@<upstream index>"
	for _, p := range snap.Paths() {
		repo, kind, _, ok := parsePath(p)
		f := snap.Files[p]
		if !ok || kind != "manifest" || (f.MediaType != MediaTypeOCIManifest && !IsIndex(f.MediaType)) {
			continue
		}
		b, err := store.ReadBlob(r.Context(), h.s, f.Digest, DefaultMaxManifestSize)
		if err != nil {
			return nil, err
		}
		m, err := ParseManifest(f.MediaType, b)
		if err != nil {
			continue
		}
		if src := m.Annotations[AnnotationSourceDigest]; src != "" && IsIndex(m.MediaType) {
			sources[repo+"@"+string(f.Digest)] = repo + "@" + src
		}
		if m.Subject == nil {
			continue
		}
		key := repo + "@" + string(m.Subject.Digest)
		out[key] = append(out[key], referrerDescriptor(m, Descriptor{MediaType: f.MediaType, Digest: f.Digest, Size: f.Size}))
	}
	// A platform-filtered index answers with the referrers of the index it came from.
	for filtered, src := range sources {
		out[filtered] = append(out[filtered], out[src]...)
	}
	if h.indexed == snap {
		h.referrers = out
	}
	return out, nil
}
