package galaxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/airgapkit/airgap/store"
)

// DefaultMaxPageSize caps the page size the handler serves (ansible-galaxy asks for 100).
const DefaultMaxPageSize = 100

// HandlerOption configures NewHandler.
type HandlerOption func(*handler)

// WithExternalURL sets the public URL under which the handler is reached, including any
// mount prefix (e.g. "https://mirror.example/galaxy/community"). download_url values are
// built from it; without it they are built from the address of the listener the request
// came in on (and its TLS state) plus the base path, never from the request's Host header
// (a forged Host would otherwise send clients, and caches on the way, elsewhere). Behind a
// reverse proxy, or when clients reach the mirror by a name (routing by Host), set it. Its
// path also sets the base path unless WithBasePath is given.
func WithExternalURL(u string) HandlerOption {
	return func(h *handler) {
		h.external = strings.TrimRight(u, "/")
	}
}

// WithBasePath sets the path prefix the handler is mounted under when it is mounted with
// http.StripPrefix (e.g. "/galaxy/community"), so that the root-relative links it writes
// (links.next, href) point back at it.
func WithBasePath(p string) HandlerOption {
	return func(h *handler) {
		h.base = "/" + strings.Trim(p, "/")
		if h.base == "/" {
			h.base = ""
		}
		h.baseSet = true
	}
}

// WithMaxPageSize caps the number of versions per page (0 or less: DefaultMaxPageSize).
// A listing longer than a page is paginated with root-relative links.next, as
// ansible-core 2.14 requires.
func WithMaxPageSize(n int) HandlerOption {
	return func(h *handler) { h.maxPage = n }
}

// NewHandler serves the snapshot that ref publishes as a Galaxy server that ansible-galaxy
// (ansible-core 2.14 and later) uses unchanged:
//
//	/api/                                       discovery (available_versions v1 and v3)
//	/api/v3/collections/                        the collections, paginated
//	/api/v3/collections/{ns}/{name}/            highest_version, updated_at
//	/api/v3/collections/{ns}/{name}/versions/   paginated (?limit=&offset=), root-relative links.next
//	/api/v3/collections/{ns}/{name}/versions/{v}/  download_url (absolute: see WithExternalURL), artifact, metadata, signatures
//	/download/{ns}-{name}-{v}.tar.gz            the artifact (Range, ETag)
//	/api/v1/roles/?owner__username=X&name=Y     role lookup
//	/api/v1/roles/{id}/versions/                role versions with download_url
//	/download/roles/{owner}/{name}/{v}.tar.gz   the role archive
//
// The galaxy_ng form /api/v3/plugin/ansible/content/published/collections/index/... is
// answered like /api/v3/collections/....
func NewHandler(s store.Store, ref string, opts ...HandlerOption) http.Handler {
	h := &handler{live: &store.Live{Store: s, Ref: ref}}
	for _, o := range opts {
		o(h)
	}
	if h.maxPage <= 0 {
		h.maxPage = DefaultMaxPageSize
	}
	if h.external != "" && !h.baseSet {
		if u, err := url.Parse(h.external); err == nil {
			h.base = strings.TrimRight(u.Path, "/")
		}
	}
	return h
}

type handler struct {
	live     *store.Live
	external string
	base     string
	baseSet  bool
	maxPage  int

	mu  sync.Mutex
	rec store.Digest
	ix  *index
}

func (h *handler) index(ctx context.Context) (*index, error) {
	snap, gen, err := h.live.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ix != nil && h.rec == gen.Record {
		return h.ix, nil
	}
	ix, err := loadIndex(ctx, h.live.Store, snap)
	if err != nil {
		return nil, err
	}
	h.ix, h.rec = ix, gen.Record
	return ix, nil
}

// publicURL is the URL of the handler's root, without a trailing slash: the external
// URL, else the address of the listener the request came in on. ansible-core 2.14 needs
// an absolute download_url; only a request served without a listener (no
// http.LocalAddrContextKey, or a Unix socket) gets the root-relative one, which newer
// clients accept. The Host header is never used.
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

const galaxyNGIndex = "/api/v3/plugin/ansible/content/published/collections/index/"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if p == "/api" || p == "/api/" {
		writeJSON(w, http.StatusOK, map[string]any{
			"description":        "airgap Galaxy mirror",
			"current_version":    "v3",
			"available_versions": map[string]string{"v1": "v1/", "v3": "v3/"},
		})
		return
	}
	ix, err := h.index(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		jsonError(w, http.StatusNotFound, "nothing published yet")
		return
	}
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "store unavailable")
		return
	}
	if rest, ok := strings.CutPrefix(p, galaxyNGIndex); ok {
		p = "/api/v3/collections/" + rest
	}
	switch {
	case strings.HasPrefix(p, "/download/roles/") && strings.HasSuffix(p, ".tar.gz"):
		h.serveFile(w, r, ix, "roles/"+strings.TrimPrefix(p, "/download/roles/"))
	case strings.HasPrefix(p, "/download/"):
		name := strings.TrimPrefix(p, "/download/")
		if strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		h.serveFile(w, r, ix, artifactsDir+name)
	case strings.HasPrefix(p, "/api/v3/collections/"):
		h.serveCollections(w, r, ix, splitPath(strings.TrimPrefix(p, "/api/v3/collections/")))
	case p == "/api/v3" || p == "/api/v3/":
		writeJSON(w, http.StatusOK, map[string]any{"collections": h.base + "/api/v3/collections/"})
	case strings.HasPrefix(p, "/api/v1/roles/") || p == "/api/v1/roles":
		h.serveRoles(w, r, ix, splitPath(strings.TrimPrefix(strings.TrimPrefix(p, "/api/v1/roles"), "/")))
	default:
		jsonError(w, http.StatusNotFound, "not found")
	}
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, ix *index, name string) {
	f, ok := ix.snap.Lookup(name)
	if !ok || store.ValidatePath(name) != nil {
		http.NotFound(w, r)
		return
	}
	store.ServeFile(w, r, h.live.Store, name, f)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{
		"status": strconv.Itoa(status), "code": strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_"), "detail": msg,
	}}})
}

// pageBounds reads ?limit=&offset= (and the v1 ?page_size=&page=).
func (h *handler) pageBounds(r *http.Request, total int) (limit, offset int) {
	q := r.URL.Query()
	limit = h.maxPage
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = min(n, h.maxPage)
	} else if n, err := strconv.Atoi(q.Get("page_size")); err == nil && n > 0 {
		limit = min(n, h.maxPage)
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 {
		offset = n
	} else if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		offset = (n - 1) * limit
	}
	offset = min(offset, total)
	return limit, offset
}

// pageLinks returns the v3 links object with root-relative URLs for path.
func (h *handler) pageLinks(path string, limit, offset, total int) map[string]any {
	link := func(off int) string {
		return h.base + path + "?limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(off)
	}
	last := 0
	if total > 0 {
		last = (total - 1) / limit * limit
	}
	links := map[string]any{"first": link(0), "last": link(last), "next": nil, "previous": nil}
	if offset+limit < total {
		links["next"] = link(offset + limit)
	}
	if offset > 0 {
		links["previous"] = link(max(0, offset-limit))
	}
	return links
}

func (h *handler) collectionHref(rec *collectionRecord) string {
	return h.base + "/api/v3/collections/" + rec.Namespace + "/" + rec.Name + "/"
}

func (h *handler) collectionSummary(rec *collectionRecord) map[string]any {
	out := map[string]any{
		"href":           h.collectionHref(rec),
		"namespace":      rec.Namespace,
		"name":           rec.Name,
		"deprecated":     false,
		"versions_url":   h.collectionHref(rec) + "versions/",
		"created_at":     rec.CreatedAt,
		"updated_at":     rec.UpdatedAt,
		"download_count": 0,
	}
	if hv := rec.highest(); hv != nil {
		out["highest_version"] = map[string]string{"href": h.collectionHref(rec) + "versions/" + hv.Version + "/", "version": hv.Version}
	}
	return out
}

func (h *handler) serveCollections(w http.ResponseWriter, r *http.Request, ix *index, parts []string) {
	switch len(parts) {
	case 0: // every collection
		names := make([]string, 0, len(ix.collections))
		for n := range ix.collections {
			names = append(names, n)
		}
		sort.Strings(names)
		limit, offset := h.pageBounds(r, len(names))
		data := []any{}
		for _, n := range names[offset:min(offset+limit, len(names))] {
			data = append(data, h.collectionSummary(ix.collections[n]))
		}
		writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]int{"count": len(names)},
			"links": h.pageLinks("/api/v3/collections/", limit, offset, len(names)), "data": data})
		return
	case 1:
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	rec, ok := ix.collections[parts[0]+"."+parts[1]]
	if !ok {
		jsonError(w, http.StatusNotFound, "collection not found")
		return
	}
	switch {
	case len(parts) == 2:
		writeJSON(w, http.StatusOK, h.collectionSummary(rec))
	case len(parts) == 3 && parts[2] == "versions":
		limit, offset := h.pageBounds(r, len(rec.Versions))
		data := []any{}
		for _, v := range rec.Versions[offset:min(offset+limit, len(rec.Versions))] {
			data = append(data, map[string]any{
				"version":          v.Version,
				"href":             h.collectionHref(rec) + "versions/" + v.Version + "/",
				"created_at":       v.CreatedAt,
				"updated_at":       rec.UpdatedAt,
				"requires_ansible": v.RequiresAnsible,
				"marks":            []string{},
			})
		}
		writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]int{"count": len(rec.Versions)},
			"links": h.pageLinks("/api/v3/collections/"+rec.Namespace+"/"+rec.Name+"/versions/", limit, offset, len(rec.Versions)),
			"data":  data})
	case len(parts) == 4 && parts[2] == "versions":
		cv := rec.version(parts[3])
		if cv == nil {
			jsonError(w, http.StatusNotFound, "version not found")
			return
		}
		writeJSON(w, http.StatusOK, h.versionDetail(r, rec, cv))
	default:
		jsonError(w, http.StatusNotFound, "not found")
	}
}

func (h *handler) versionDetail(r *http.Request, rec *collectionRecord, cv *CollectionVersion) map[string]any {
	meta := cv.Metadata
	if len(meta) == 0 {
		meta, _, _ = normalizeMetadata(nil)
	}
	sigs := cv.Signatures
	if sigs == nil {
		sigs = []json.RawMessage{}
	}
	return map[string]any{
		"version":      cv.Version,
		"href":         h.collectionHref(rec) + "versions/" + cv.Version + "/",
		"namespace":    map[string]string{"name": cv.Namespace},
		"collection":   map[string]string{"id": cv.Namespace + "." + cv.Name, "name": cv.Name, "href": h.collectionHref(rec)},
		"name":         cv.Name,
		"download_url": h.publicURL(r) + "/download/" + url.PathEscape(cv.Filename),
		"artifact": map[string]any{
			"filename": cv.Filename,
			"sha256":   cv.SHA256,
			"size":     cv.Size,
		},
		"metadata":         meta,
		"signatures":       sigs,
		"requires_ansible": cv.RequiresAnsible,
		"created_at":       cv.CreatedAt,
		"updated_at":       rec.UpdatedAt,
	}
}

func (h *handler) roleJSON(rec *roleRecord) map[string]any {
	return map[string]any{
		"id":            rec.ID,
		"name":          rec.Name,
		"role_type":     "ANS",
		"github_user":   rec.GithubUser,
		"github_repo":   rec.GithubRepo,
		"github_branch": rec.Branch,
		"description":   rec.Description,
		"url":           h.base + "/api/v1/roles/" + strconv.FormatInt(rec.ID, 10) + "/",
		"related":       map[string]string{"versions": h.base + "/api/v1/roles/" + strconv.FormatInt(rec.ID, 10) + "/versions/"},
		"summary_fields": map[string]any{
			"namespace": map[string]string{"name": rec.Owner},
			"versions":  h.roleVersionsJSON(nil, rec),
		},
	}
}

func (h *handler) roleVersionsJSON(r *http.Request, rec *roleRecord) []any {
	out := []any{}
	for _, v := range rec.Versions {
		item := map[string]any{"name": v.Name}
		if r != nil {
			u := h.publicURL(r) + "/download/" + v.Path
			item["download_url"] = u
			item["source"] = u
		}
		out = append(out, item)
	}
	return out
}

// v1Page writes a v1 listing (results, count, next_link).
func (h *handler) v1Page(w http.ResponseWriter, r *http.Request, path string, items []any) {
	limit, offset := h.pageBounds(r, len(items))
	var next, prev any
	link := func(page int) string {
		return h.base + path + "?page=" + strconv.Itoa(page) + "&page_size=" + strconv.Itoa(limit)
	}
	if offset+limit < len(items) {
		next = link(offset/limit + 2)
	}
	if offset > 0 {
		prev = link(offset / limit)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(items), "next": next, "next_link": next,
		"previous": prev, "previous_link": prev, "results": items[offset:min(offset+limit, len(items))]})
}

func (h *handler) serveRoles(w http.ResponseWriter, r *http.Request, ix *index, parts []string) {
	switch len(parts) {
	case 0:
		q := r.URL.Query()
		owner := q.Get("owner__username")
		if owner == "" {
			owner = q.Get("namespace")
		}
		name := q.Get("name")
		keys := make([]string, 0, len(ix.roles))
		for k := range ix.roles {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var items []any
		for _, k := range keys {
			rec := ix.roles[k]
			if owner != "" && !strings.EqualFold(owner, rec.Owner) || name != "" && !strings.EqualFold(name, rec.Name) {
				continue
			}
			items = append(items, h.roleJSON(rec))
		}
		h.v1Page(w, r, "/api/v1/roles/", items)
		return
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	rec, ok := ix.roleByID[id]
	if err != nil || !ok {
		jsonError(w, http.StatusNotFound, "role not found")
		return
	}
	switch {
	case len(parts) == 1:
		writeJSON(w, http.StatusOK, h.roleJSON(rec))
	case len(parts) == 2 && parts[1] == "versions":
		h.v1Page(w, r, "/api/v1/roles/"+parts[0]+"/versions/", h.roleVersionsJSON(r, rec))
	default:
		jsonError(w, http.StatusNotFound, "not found")
	}
}
