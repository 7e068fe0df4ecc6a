package snapproxy

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// StoreVersion is the Snap Store API version the store API answers as, in the
// Snap-Store-Version header (snapd reads it when a request is refused, to leave out what
// an older store does not know): 55, the version that takes "held" in a refresh context.
const StoreVersion = 55

// HandlerOption configures NewHandler and NewStoreHandler.
type HandlerOption func(*apiOptions)

type apiOptions struct {
	external    string
	basePath    string
	requestHost bool
}

// WithExternalURL sets the URL devices reach the store API at, mount prefix included
// ("https://mirror.example/snaps/maas", or "https://api.snapcraft.io" inside a CONNECT
// tunnel): the download URLs of its answers are made from it. Without it they are made
// from the address of the listener the request came in on (and its TLS state) plus the
// base path, never from the Host header (a forged Host would send clients, and caches on
// the way, elsewhere).
func WithExternalURL(u string) HandlerOption {
	return func(o *apiOptions) { o.external = strings.TrimRight(u, "/") }
}

// WithBasePath sets the path prefix the handler is mounted under with http.StripPrefix
// ("/snaps/maas"), for the download URLs made without WithExternalURL.
func WithBasePath(p string) HandlerOption {
	return func(o *apiOptions) { o.basePath = strings.TrimRight("/"+strings.Trim(p, "/"), "/") }
}

// WithRequestHost makes the download URLs from the request's Host (and TLS state), for a
// handler that answers at the root of host names the server has already matched against
// a configured list (DNS pointing api.snapcraft.io at the mirror), where the Host header
// can only name one of them.
func WithRequestHost() HandlerOption {
	return func(o *apiOptions) { o.requestHost = true }
}

// NewStoreHandler serves the Snap Store API that snapd speaks, answered from the
// snapshots published under refs (one or several snaps mirrors, merged) and never from
// upstream:
//
//   - POST /v2/snaps/refresh: install, refresh and download actions (by channel, with the
//     snap's default track for a channel without one, or by revision; epochs; the device's
//     Snap-Device-Architecture and Snap-Device-Series), the error results the store gives
//     for what is not held (name-not-found, id-not-found, revision-not-found with the
//     releases that exist), no result for a refresh with nothing newer, and
//     fetch-assertions; GET answers 405 with Allow: POST;
//   - GET /v2/snaps/info/<name>: the channel map of what is held;
//   - GET /v2/snaps/find: the held snaps matching q or name;
//   - GET /v2/assertions/<type>/<primary key...> and /api/v1/snaps/assertions/...: the
//     assertions of the mirrors, byte for byte as the store signed them, up to the
//     client's max-format;
//   - GET /api/v1/snaps/download/<snap-id>_<revision>.snap, the download URLs the answers
//     give (Range, If-Range, ETag);
//   - POST /api/v1/snaps/auth/nonces and .../sessions: the device session snapd asks a
//     store for when the device has a serial (accepted, never checked: the mirror serves
//     public content);
//   - GET /v2/auth/store/assertions: the store assertion of a registered proxy store
//     (Mirror.StoreAssertion) with its chain, for `snap ack`.
//
// Answers carry Snap-Store-Version; errors are the store's JSON error lists.
func NewStoreHandler(s store.Store, refs []string, opts ...HandlerOption) http.Handler {
	a := &storeAPI{cat: &catalogs{s: s}}
	for _, ref := range refs {
		a.cat.refs = append(a.cat.refs, &store.Live{Store: s, Ref: ref})
	}
	for _, o := range opts {
		o(&a.opts)
	}
	return a
}

type storeAPI struct {
	cat  *catalogs
	opts apiOptions
}

// isAPIPath tells the store API's paths from the files of a mirror.
func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/api/v1/")
}

func (a *storeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Snap-Store-Version", strconv.Itoa(StoreVersion))
	p := r.URL.Path
	switch {
	case p == "/v2/snaps/refresh":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		a.refresh(w, r)
	case p == "/api/v1/snaps/auth/nonces" || p == "/api/v1/snaps/auth/sessions":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		a.deviceAuth(w, r, strings.HasSuffix(p, "sessions"))
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		methodNotAllowed(w, "GET, HEAD")
	case strings.HasPrefix(p, "/v2/snaps/info/"):
		a.info(w, r, strings.TrimPrefix(p, "/v2/snaps/info/"))
	case p == "/v2/snaps/find":
		a.find(w, r)
	case strings.HasPrefix(p, "/v2/assertions/"):
		a.assertion(w, r, strings.TrimPrefix(p, "/v2/assertions/"), false)
	case strings.HasPrefix(p, "/api/v1/snaps/assertions/"):
		a.assertion(w, r, strings.TrimPrefix(p, "/api/v1/snaps/assertions/"), true)
	case strings.HasPrefix(p, "/api/v1/snaps/download/"):
		a.download(w, r, strings.TrimPrefix(p, "/api/v1/snaps/download/"))
	case p == "/v2/auth/store/assertions":
		a.storeAssertion(w, r)
	default:
		errorList(w, http.StatusNotFound, "not-found", "no such endpoint in this mirror's store API")
	}
}

// catalog loads what the refs publish, answering 500 when the store fails.
func (a *storeAPI) catalog(w http.ResponseWriter, r *http.Request) (*catalog, bool) {
	cat, err := a.cat.current(r.Context())
	if err != nil {
		errorList(w, http.StatusInternalServerError, "internal-error", "the mirror's store is unavailable")
		return nil, false
	}
	return cat, true
}

// publicURL is the URL the store API is reached at (see WithExternalURL).
func (a *storeAPI) publicURL(r *http.Request) string {
	if a.opts.external != "" {
		return a.opts.external
	}
	if a.opts.requestHost && r.Host != "" {
		u := url.URL{Scheme: "http", Host: r.Host, Path: a.opts.basePath}
		if r.TLS != nil {
			u.Scheme = "https"
		}
		return u.String()
	}
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	if !ok {
		return a.opts.basePath
	}
	u := url.URL{Scheme: "http", Host: addr.String(), Path: a.opts.basePath}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return u.String()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error-list":[{"code":"internal-error","message":"encoding"}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorList answers the store's form of a failed request.
func errorList(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error-list": []apiError{{code, msg}}})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	errorList(w, http.StatusMethodNotAllowed, "method-not-allowed", "use "+allow)
}

// fieldSet is the fields a client asked for (nil: every field).
type fieldSet map[string]bool

func parseFields(s string) fieldSet {
	if s == "" {
		return nil
	}
	f := fieldSet{}
	for _, name := range strings.Split(s, ",") {
		f[strings.TrimSpace(name)] = true
	}
	return f
}

func (f fieldSet) has(name string) bool { return f == nil || f[name] }

// revisionFields are the fields that describe one revision; the others describe the snap.
var revisionFields = map[string]bool{
	"architectures": true, "base": true, "confinement": true, "created-at": true, "download": true, "epoch": true,
	"revision": true, "snap-yaml": true, "type": true, "version": true, "resources": true,
}

// snapJSON renders the fields of r that f asks for; which selects snap-level, revision
// level or all fields.
func (a *storeAPI) snapJSON(r *http.Request, h *heldSnap, rev *heldRev, f fieldSet, which string) map[string]any {
	out := map[string]any{}
	put := func(name string, v any) {
		if f.has(name) && (which == "all" || (which == "revision") == revisionFields[name]) {
			out[name] = v
		}
	}
	put("architectures", rev.yaml.Architectures)
	put("base", nullable(rev.Base))
	put("confinement", rev.Confinement)
	put("contact", "")
	put("created-at", rev.Created)
	put("description", rev.yaml.Description)
	put("download", map[string]any{"url": a.publicURL(r) + "/api/v1/snaps/download/" + rev.downloadName(),
		"sha3-384": strings.ToLower(rev.SHA3_384), "size": rev.Size, "deltas": []any{}})
	put("epoch", rev.yaml.Epoch)
	put("license", rev.yaml.License)
	put("links", map[string][]string{})
	put("media", []any{})
	put("name", h.name)
	put("prices", map[string]string{})
	put("private", false)
	put("publisher", map[string]string{"id": rev.Publisher, "username": rev.PublisherUsername,
		"display-name": rev.PublisherDisplayName, "validation": "unproven"})
	put("revision", rev.Revision)
	put("snap-id", h.id)
	put("snap-yaml", rev.SnapYAML)
	put("summary", rev.yaml.Summary)
	put("title", rev.yaml.Title)
	put("type", rev.Type)
	put("version", rev.Version)
	put("website", "")
	put("store-url", "")
	put("common-ids", []string{})
	put("categories", []any{})
	put("resources", []any{})
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// info answers GET /v2/snaps/info/<name>: the channel map of the revisions released (for
// the architecture asked, or all).
func (a *storeAPI) info(w http.ResponseWriter, r *http.Request, name string) {
	if r.Header.Get("Snap-Device-Series") != series {
		errorList(w, http.StatusBadRequest, "missing-header", "Snap-Device-Series: 16 is required")
		return
	}
	cat, ok := a.catalog(w, r)
	if !ok {
		return
	}
	h := cat.snaps[name]
	notFound := func() {
		errorList(w, http.StatusNotFound, "snap-not-found", fmt.Sprintf("No snap named '%s' found in series '16'.", name))
	}
	if h == nil {
		notFound()
		return
	}
	arch := r.URL.Query().Get("architecture")
	fields := parseFields(r.URL.Query().Get("fields"))
	var cm []map[string]any
	var top *heldRev
	for _, rel := range h.releases() {
		if arch != "" && rel.Architecture != arch {
			continue
		}
		ch, err := ParseChannel(rel.Channel, "latest")
		if err != nil {
			continue
		}
		rev := h.released(ch, rel.Architecture)
		if rev == nil {
			continue
		}
		if top == nil || rev.Revision > top.Revision {
			top = rev
		}
		e := a.snapJSON(r, h, rev, fields, "revision")
		e["channel"] = map[string]any{"architecture": rel.Architecture, "name": ch.Short(), "track": ch.Track,
			"risk": ch.Risk, "released-at": rev.Created}
		if e["revision"] == nil {
			e["revision"] = rev.Revision
		}
		cm = append(cm, e)
	}
	if len(cm) == 0 {
		notFound()
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": h.name, "snap-id": h.id, "default-track": nullable(h.track()),
		"channel-map": cm, "snap": a.snapJSON(r, h, top, fields, "snap"),
	})
}

// track is the snap's default track ("" for latest).
func (h *heldSnap) track() string {
	if h.defaultTrack == "latest" {
		return ""
	}
	return h.defaultTrack
}

// find answers GET /v2/snaps/find: held snaps whose name, title or summary holds q, or
// whose name starts with name, with a release for the architecture in the risk asked
// (channel, default any) and a confinement listed (confinement, default any).
func (a *storeAPI) find(w http.ResponseWriter, r *http.Request) {
	cat, ok := a.catalog(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	term := strings.ToLower(strings.TrimSpace(q.Get("q")))
	prefix := strings.TrimSuffix(strings.TrimSpace(q.Get("name")), "*")
	arch := q.Get("architecture")
	if arch == "" {
		arch = r.Header.Get("Snap-Device-Architecture")
	}
	risk := q.Get("channel")
	confinements := q.Get("confinement")
	fields := parseFields(q.Get("fields"))
	results := []map[string]any{}
	names := make([]string, 0, len(cat.snaps))
	for n := range cat.snaps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := cat.snaps[n]
		if prefix != "" && !strings.HasPrefix(n, prefix) {
			continue
		}
		rev, ch := h.findable(arch, risk)
		if rev == nil {
			continue
		}
		if term != "" && !strings.Contains(n, term) && !strings.Contains(strings.ToLower(rev.yaml.Summary), term) &&
			!strings.Contains(strings.ToLower(rev.yaml.Title), term) {
			continue
		}
		if confinements != "" && !containsField(confinements, rev.Confinement) {
			continue
		}
		revision := a.snapJSON(r, h, rev, fields, "revision")
		revision["channel"] = ch.Short()
		revision["revision"] = rev.Revision
		results = append(results, map[string]any{"name": h.name, "snap-id": h.id, "revision": revision,
			"snap": a.snapJSON(r, h, rev, fields, "snap")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

func containsField(list, v string) bool {
	for _, f := range strings.Split(list, ",") {
		if strings.TrimSpace(f) == v {
			return true
		}
	}
	return false
}

// findable is the revision find shows for a snap: released for arch in the default
// track at risk (stable when risk is ""), else in any track at that risk.
func (h *heldSnap) findable(arch, risk string) (*heldRev, Channel) {
	want := risk
	if want == "" {
		want = "stable"
	}
	var other *heldRev
	var otherCh Channel
	for _, rel := range h.releases() {
		ch, err := ParseChannel(rel.Channel, "latest")
		if err != nil || arch != "" && rel.Architecture != arch || risk != "" && ch.Risk != risk || ch.Branch != "" {
			continue
		}
		rev := h.released(ch, rel.Architecture)
		if rev == nil {
			continue
		}
		if ch.Track == h.trackOrLatest() && ch.Risk == want {
			return rev, ch
		}
		if other == nil {
			other, otherCh = rev, ch
		}
	}
	return other, otherCh
}

func (h *heldSnap) trackOrLatest() string {
	if t := h.track(); t != "" {
		return t
	}
	return "latest"
}

// assertion answers GET /v2/assertions/<type>/<key...> (v1: /api/v1/snaps/assertions/,
// whose errors are problem+json).
func (a *storeAPI) assertion(w http.ResponseWriter, r *http.Request, rest string, v1 bool) {
	notFound := func(msg string) {
		if v1 {
			b, _ := json.Marshal(map[string]any{"status": http.StatusNotFound, "title": "not found", "type": "about:blank",
				"detail": msg, "error-list": []apiError{{"not-found", msg}}})
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(append(b, '\n'))
			return
		}
		errorList(w, http.StatusNotFound, "not-found", msg)
	}
	if !accepts(r, AssertionMediaType) {
		errorList(w, http.StatusNotAcceptable, "not-acceptable", "Accept "+AssertionMediaType)
		return
	}
	maxFormat := 0
	if v := r.URL.Query().Get("max-format"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errorList(w, http.StatusBadRequest, "invalid-request", "max-format must be a non-negative integer")
			return
		}
		maxFormat = n
	}
	cat, ok := a.catalog(w, r)
	if !ok {
		return
	}
	asrt := cat.assertions[rest]
	if asrt == nil || asrt.format() > maxFormat {
		notFound(rest + " not found")
		return
	}
	serveAssertions(w, r, append(asrt.Raw(), '\n'))
}

// format is the assertion's format header (0 when absent).
func (a *Assertion) format() int {
	n, _ := strconv.Atoi(a.Header("format"))
	return n
}

func serveAssertions(w http.ResponseWriter, r *http.Request, b []byte) {
	w.Header().Set("Content-Type", AssertionMediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

// accepts reports whether the request's Accept admits mt (no Accept admits anything).
func accepts(r *http.Request, mt string) bool {
	acc := r.Header.Values("Accept")
	if len(acc) == 0 {
		return true
	}
	major, _, _ := strings.Cut(mt, "/")
	for _, v := range acc {
		for _, part := range strings.Split(v, ",") {
			t, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if t == mt || t == "*/*" || t == major+"/*" {
				return true
			}
		}
	}
	return false
}

// download serves a held revision by the name its download URL gives.
func (a *storeAPI) download(w http.ResponseWriter, r *http.Request, name string) {
	cat, ok := a.catalog(w, r)
	if !ok {
		return
	}
	rev := cat.downloads[name]
	if rev == nil {
		errorList(w, http.StatusNotFound, "not-found", "no such snap file in this mirror")
		return
	}
	store.ServeFile(w, r, a.cat.s, name, store.File{Digest: rev.file.Digest, Size: rev.file.Size, MediaType: "application/octet-stream"})
}

// storeAssertion answers GET /v2/auth/store/assertions.
func (a *storeAPI) storeAssertion(w http.ResponseWriter, r *http.Request) {
	cat, ok := a.catalog(w, r)
	if !ok {
		return
	}
	if cat.store == nil {
		errorList(w, http.StatusNotFound, "not-found", "this mirror holds no store assertion (store_assertion)")
		return
	}
	serveAssertions(w, r, cat.store)
}

// maxAuthBody caps a device-session request.
const maxAuthBody = 1 << 20

// deviceAuth answers the nonce and session requests of a device with a serial, as a
// store does (the session macaroon is opaque to snapd). Nothing is checked: the mirror
// serves public content only.
func (a *storeAPI) deviceAuth(w http.ResponseWriter, r *http.Request, session bool) {
	token := func() string {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	if !session {
		writeJSON(w, http.StatusOK, map[string]string{"nonce": token()})
		return
	}
	var req struct {
		SessionRequest string `json:"device-session-request"`
		Serial         string `json:"serial-assertion"`
	}
	err := json.NewDecoder(io.LimitReader(r.Body, maxAuthBody)).Decode(&req)
	if err != nil || req.SessionRequest == "" || req.Serial == "" {
		errorList(w, http.StatusBadRequest, "invalid-request", "device-session-request and serial-assertion are required")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"macaroon": token()})
}
