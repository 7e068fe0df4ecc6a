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
// registry: GET and HEAD of /v2/, /v2/<name>/manifests/<tag or digest>,
// /v2/<name>/blobs/<digest> (with Range), /v2/<name>/tags/list (with n and last), and the
// OCI 1.1 referrers API /v2/<name>/referrers/<digest> (with artifactType). Answers
// carry Docker-Content-Digest and the stored media type; errors are distribution error
// JSON (NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, UNSUPPORTED). Every request is
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
	repoSet   map[string]bool
	tagLists  map[string][]string
	referrers map[string][]Descriptor // "<repo>@<subject digest>" -> referrers; nil until asked
}

// index returns the repositories and sorted tag lists of snap, computed once per
// published snapshot.
func (h *handler) index(snap *store.Snapshot) (map[string]bool, map[string][]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.indexed == snap {
		return h.repoSet, h.tagLists
	}
	repos := map[string]bool{}
	tags := map[string][]string{}
	for p := range snap.Files {
		repo, kind, n, ok := parsePath(p)
		if !ok {
			continue
		}
		repos[repo] = true
		if kind == "tag" {
			tags[repo] = append(tags[repo], n)
		}
	}
	for _, t := range tags {
		sort.Strings(t)
	}
	h.indexed, h.repoSet, h.tagLists, h.referrers = snap, repos, tags, nil
	return repos, tags
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
		regError(w, http.StatusNotFound, "NOT_FOUND", "not a registry path")
		return
	}
	snap, _, err := h.live.Snapshot(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "nothing published yet")
		return
	}
	if err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "store unavailable")
		return
	}
	rest := p[len("/v2/"):]
	switch {
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
		regError(w, http.StatusNotFound, "NOT_FOUND", "unknown registry path")
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
		if repos, _ := h.index(snap); repos[c] {
			return c, true
		}
	}
	return "", false
}

func (h *handler) manifest(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name, ref string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	var f store.File
	if d, err := store.ParseDigest(ref); err == nil {
		f, ok = snap.Lookup(manifestPath(repo, d))
	} else if validTag(ref) {
		f, ok = snap.Lookup(tagPath(repo, ref))
	}
	if !ok {
		regError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
		return
	}
	w.Header().Set("Docker-Content-Digest", string(f.Digest))
	w.Header().Set("Content-Type", f.MediaType)
	store.ServeFile(w, r, h.s, "manifest.json", f)
}

func (h *handler) blob(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name, ref string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	d, err := store.ParseDigest(ref)
	if err != nil {
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
		return
	}
	f, ok := snap.Lookup(layerPath(repo, d))
	if !ok {
		// Manifests are blobs too (clients may fetch an index's children as blobs).
		f, ok = snap.Lookup(manifestPath(repo, d))
	}
	if !ok {
		regError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
		return
	}
	w.Header().Set("Docker-Content-Digest", string(f.Digest))
	w.Header().Set("Content-Type", "application/octet-stream")
	store.ServeFile(w, r, h.s, "blob", f)
}

func (h *handler) tags(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	_, all := h.index(snap)
	tags := all[repo]
	q := r.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(tags, last)
		for i < len(tags) && tags[i] <= last {
			i++
		}
		tags = tags[i:]
	}
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n >= 0 && n < len(tags) {
		tags = tags[:n]
		if n > 0 {
			next := *r.URL
			v := next.Query()
			v.Set("last", tags[n-1])
			next.RawQuery = v.Encode()
			w.Header().Set("Link", "<"+next.RequestURI()+`>; rel="next"`)
		}
	}
	if tags == nil {
		tags = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "tags": tags})
}

// referrersOf answers the OCI 1.1 referrers API from the manifests of the snapshot that
// name the digest as their subject.
func (h *handler) referrersOf(w http.ResponseWriter, r *http.Request, snap *store.Snapshot, name, ref string) {
	repo, ok := h.repo(r, snap, name)
	if !ok {
		regError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository not known to this mirror")
		return
	}
	d, err := store.ParseDigest(ref)
	if err != nil {
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
	for _, p := range snap.Paths() {
		repo, kind, _, ok := parsePath(p)
		f := snap.Files[p]
		if !ok || kind != "manifest" || (f.MediaType != MediaTypeOCIManifest && f.MediaType != MediaTypeOCIIndex) {
			continue
		}
		b, err := store.ReadBlob(r.Context(), h.s, f.Digest, DefaultMaxManifestSize)
		if err != nil {
			return nil, err
		}
		m, err := ParseManifest(f.MediaType, b)
		if err != nil || m.Subject == nil {
			continue
		}
		at := m.ArtifactType
		if at == "" && m.Config != nil {
			at = m.Config.MediaType
		}
		key := repo + "@" + string(m.Subject.Digest)
		out[key] = append(out[key], Descriptor{MediaType: f.MediaType, Digest: f.Digest, Size: f.Size, ArtifactType: at, Annotations: m.Annotations})
	}
	if h.indexed == snap {
		h.referrers = out
	}
	return out, nil
}
