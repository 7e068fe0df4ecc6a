package snapproxytest

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Authority is the account that owns the test root and store keys.
const Authority = "canonical"

// Snap is one snap revision for one architecture, as the test store publishes it.
type Snap struct {
	Name     string
	Revision int
	// Architecture is a dpkg architecture ("amd64", "arm64", ...) or "all".
	Architecture string
	// Channels the revision is released to ("latest/stable", "3.5/edge", ...; a bare risk
	// means latest/<risk>). Empty: latest/stable.
	Channels []string
	Version  string
	// Type is app (default), base, os, snapd, gadget or kernel.
	Type string
	// Base is the snap-yaml base ("" for none).
	Base string
	// Providers are the default-providers of content plugs.
	Providers []string
	// Publisher is the publisher's account id (default "publisher-<name>").
	Publisher string
	// Size is the length of the generated file (default 4096).
	Size int
	// Confinement is strict (default), classic or devmode.
	Confinement string
	// Epoch is the snap's epoch (zero: epoch 0), written into its snap.yaml and served
	// as the epoch object.
	Epoch Epoch
	// DeclarationFormat is the format of the snap's snap-declaration: 0, or 1 to 6 for
	// declarations that use the interface-rule features of later formats. The store
	// serves an assertion only to a client whose max-format admits it.
	DeclarationFormat int
}

// Options shape the test store.
type Options struct {
	// Token, when set, is required as "Authorization: Macaroon <token>" on API requests
	// and on the download redirector; the CDN refuses any request carrying Authorization.
	Token string
	// Canonical serves Canonical's real assertions (CanonicalChain) byte for byte: the
	// root and store account-keys, the canonical and test-snapd accounts, the
	// phelps-test-key account-key. Snaps published by CanonicalPublisher then come with
	// the real publisher account; their snap-declarations and snap-revisions are still
	// signed by StoreKey (only Canonical holds the real store key), so they chain to
	// Root, not to the real root.
	Canonical bool
	// Wrap, when set, wraps the handlers of both hosts (API and CDN), to count or log
	// the requests they serve.
	Wrap func(http.Handler) http.Handler
}

// Faults break the store on purpose.
type Faults struct {
	// WrongSHA3 makes refresh results advertise a wrong sha3-384 for the named snap.
	WrongSHA3 string
	// RevisionForOtherSnap serves, for the named snap, a snap-revision assertion that
	// names another snap-id (with the right digest).
	RevisionForOtherSnap string
	// UntrustedSigner signs snap-declarations with a key that the root never certified.
	UntrustedSigner bool
	// TruncateAssertions cuts every assertion answer in half.
	TruncateAssertions bool
	// TooManyRequests answers the first N requests of every refresh, assertion and
	// download URL with 429 and Retry-After: 0.
	TooManyRequests int
	// CutDownloads makes the CDN send only the first half of each file's first full
	// download before dropping the connection (clients must resume with Range).
	CutDownloads bool
}

type snapRev struct {
	Snap
	id      string
	content []byte
	sha3hex string
	sha3b64 string
	yaml    string
}

// Server is a small Snap Store: POST /v2/snaps/refresh (download actions),
// GET /v2/snaps/info/<name>, GET /v2/assertions/{type}/{keys...} and snap downloads that
// redirect from the API host to a second "CDN" host, like the real store. Keys and
// content are deterministic. Safe for concurrent use.
type Server struct {
	// API is the store API host; CDN serves the files.
	API *httptest.Server
	CDN *httptest.Server
	// Root is the trusted root key; StoreKey (certified by Root) signs declarations,
	// revisions and accounts.
	Root, StoreKey *Key
	rogue          *Key

	opts Options

	mu            sync.Mutex
	faults        Faults
	snaps         []*snapRev
	hits          map[string]int
	defaultTracks map[string]string
	headers       map[string]http.Header

	requests  atomic.Int64
	downloads atomic.Int64
	ranged    atomic.Int64
	// cdnAuth counts CDN requests that carried an Authorization header.
	cdnAuth atomic.Int64
}

// New starts a test store on 127.0.0.1. Close it when done.
func New(opts Options) *Server {
	s := &Server{
		Root:     NewKey("root", Authority),
		StoreKey: NewKey("store", Authority),
		rogue:    NewKey("rogue", Authority),
		opts:     opts,
		hits:     map[string]int{},

		defaultTracks: map[string]string{},
		headers:       map[string]http.Header{},
	}
	wrap := opts.Wrap
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	s.CDN = httptest.NewServer(wrap(http.HandlerFunc(s.serveCDN)))
	s.API = httptest.NewServer(wrap(http.HandlerFunc(s.serveAPI)))
	return s
}

// Close stops both servers.
func (s *Server) Close() {
	s.API.Close()
	s.CDN.Close()
}

// URL is the store API base URL (for Mirror.StoreURL).
func (s *Server) URL() string { return s.API.URL }

// TrustedKeys returns the root account-key assertion (self-signed) to configure as
// trusted.
func (s *Server) TrustedKeys() []byte { return s.Root.AccountKey(s.Root, "root") }

// SetFaults replaces the active faults and resets the 429 counters.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.hits = map[string]int{}
}

// SetDefaultTrack sets the default track of a snap: what the store resolves a request
// without a track to, for clients that send "Snap-Device-Capabilities: default-tracks"
// (others get latest), and what info reports as default-track.
func (s *Server) SetDefaultTrack(name, track string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defaultTracks[name] = track
}

// LastHeader returns the headers of the last request to an endpoint: "refresh", "info",
// "assertions" or "download" (the API host's redirector); nil if there was none.
func (s *Server) LastHeader(endpoint string) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[endpoint].Clone()
}

func (s *Server) record(endpoint string, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headers[endpoint] = r.Header.Clone()
}

// Requests counts API requests.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Downloads counts file bodies served by the CDN.
func (s *Server) Downloads() int64 { return s.downloads.Load() }

// CDNAuthorized counts CDN requests that carried an Authorization header (should be 0).
func (s *Server) CDNAuthorized() int64 { return s.cdnAuth.Load() }

// AddDemo publishes a small, typical world for demos: maas (3.5/stable and 3.4/stable,
// default track 3.5, a format 3 snap-declaration) on core22 with a content provider on
// core18, core22, core18, snapd, and hello on core, for amd64 and arm64 (the provider is
// architecture-independent).
func (s *Server) AddDemo() {
	s.SetDefaultTrack("maas", "3.5")
	for i, arch := range []string{"amd64", "arm64"} {
		s.Add(Snap{Name: "maas", Revision: 100 + i, Architecture: arch, Channels: []string{"3.5/stable"}, Base: "core22", Providers: []string{"gtk-common-themes"}, DeclarationFormat: 3})
		s.Add(Snap{Name: "maas", Revision: 90 + i, Architecture: arch, Channels: []string{"3.4/stable"}, Base: "core22", DeclarationFormat: 3})
		s.Add(Snap{Name: "core22", Revision: 200 + i, Architecture: arch, Type: "base"})
		s.Add(Snap{Name: "core18", Revision: 60 + i, Architecture: arch, Type: "base"})
		s.Add(Snap{Name: "snapd", Revision: 300 + i, Architecture: arch, Type: "snapd"})
		s.Add(Snap{Name: "core", Revision: 400 + i, Architecture: arch, Type: "os"})
		s.Add(Snap{Name: "hello", Revision: 7 + i, Architecture: arch, Channels: []string{"latest/stable", "latest/edge"}})
	}
	s.Add(Snap{Name: "gtk-common-themes", Revision: 50, Architecture: "all", Base: "core18"})
}

// RangeRequests counts CDN requests that asked for a byte range (resumed downloads).
func (s *Server) RangeRequests() int64 { return s.ranged.Load() }

// SnapID returns the snap-id the store gives name.
func SnapID(name string) string {
	sum := sha256.Sum256([]byte("snap-id " + name))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

// Content returns the file the store serves for a snap revision (deterministic).
func Content(name string, revision int, arch string, size int) []byte {
	if size <= 0 {
		size = 4096
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "hsqs test snap %s revision %d %s\n", name, revision, arch)
	for b.Len() < size {
		b.WriteString(name)
		b.WriteByte(byte('a' + revision%26))
	}
	return b.Bytes()[:size]
}

// Add publishes a snap revision.
func (s *Server) Add(sn Snap) {
	if sn.Architecture == "" {
		sn.Architecture = "amd64"
	}
	if len(sn.Channels) == 0 {
		sn.Channels = []string{"latest/stable"}
	}
	for i, c := range sn.Channels {
		sn.Channels[i] = normChannel(c)
	}
	if sn.Type == "" {
		sn.Type = "app"
	}
	if sn.Confinement == "" {
		sn.Confinement = "strict"
	}
	if sn.Version == "" {
		sn.Version = "1." + strconv.Itoa(sn.Revision)
	}
	if sn.Publisher == "" {
		sn.Publisher = "publisher-" + sn.Name
	}
	r := &snapRev{Snap: sn, id: SnapID(sn.Name)}
	r.content = Content(sn.Name, sn.Revision, sn.Architecture, sn.Size)
	sum := sha3.Sum384(r.content)
	r.sha3hex = hex.EncodeToString(sum[:])
	r.sha3b64 = base64.RawURLEncoding.EncodeToString(sum[:])
	var y strings.Builder
	fmt.Fprintf(&y, "name: %s\nversion: '%s'\nsummary: test snap %s\ntype: %s\nconfinement: %s\narchitectures: [%s]\n", sn.Name, sn.Version, sn.Name, sn.Type, sn.Confinement, sn.Architecture)
	if len(sn.Epoch.Write) > 0 {
		fmt.Fprintf(&y, "epoch:\n  read: %s\n  write: %s\n", yamlList(sn.Epoch.Read), yamlList(sn.Epoch.Write))
	}
	if sn.Base != "" {
		fmt.Fprintf(&y, "base: %s\n", sn.Base)
	}
	if len(sn.Providers) > 0 {
		y.WriteString("plugs:\n")
		for i, p := range sn.Providers {
			fmt.Fprintf(&y, "  content-%d:\n    interface: content\n    target: $SNAP/data-%d\n    default-provider: %s\n", i, i, p)
		}
	}
	r.yaml = y.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snaps = append(s.snaps, r)
}

// normChannel turns "stable" into "latest/stable" and "3.5" into "3.5/stable".
func normChannel(c string) string { return resolveChannel(c, "latest") }

// resolveChannel completes a requested channel the way the store does: no channel means
// the stable risk of track, a bare risk (or risk/branch) that risk of track, a bare track
// its stable risk.
func resolveChannel(c, track string) string {
	risks := map[string]bool{"stable": true, "candidate": true, "beta": true, "edge": true}
	parts := strings.Split(c, "/")
	switch {
	case c == "":
		return track + "/stable"
	case risks[parts[0]]:
		return track + "/" + c
	case len(parts) == 1:
		return c + "/stable"
	}
	return c
}

// defaultTrack is the track a request without one resolves to: the snap's default track
// for clients that declare the default-tracks capability, latest for the others.
func (s *Server) defaultTrack(name string, r *http.Request) string {
	s.mu.Lock()
	t := s.defaultTracks[name]
	s.mu.Unlock()
	if t == "" || !hasCapability(r, "default-tracks") {
		return "latest"
	}
	return t
}

func hasCapability(r *http.Request, c string) bool {
	for _, v := range r.Header.Values("Snap-Device-Capabilities") {
		for _, f := range strings.Fields(v) {
			if f == c {
				return true
			}
		}
	}
	return false
}

func (s *Server) authorized(r *http.Request) bool {
	return s.opts.Token == "" || r.Header.Get("Authorization") == "Macaroon "+s.opts.Token
}

// throttle answers 429 while the fault is active for this path.
func (s *Server) throttle(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	n := s.faults.TooManyRequests
	s.hits[r.URL.Path]++
	hit := s.hits[r.URL.Path]
	s.mu.Unlock()
	if hit <= n {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return true
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errorList(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error-list": []map[string]string{{"code": code, "message": msg}}})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if !s.authorized(r) {
		errorList(w, http.StatusUnauthorized, "macaroon-needs-refresh", "authorization required")
		return
	}
	p := r.URL.Path
	switch {
	case p == "/v2/snaps/refresh" && r.Method == http.MethodPost:
		s.record("refresh", r)
		if s.throttle(w, r) {
			return
		}
		s.refresh(w, r)
	case strings.HasPrefix(p, "/v2/snaps/info/") && r.Method == http.MethodGet:
		s.record("info", r)
		s.info(w, r, strings.TrimPrefix(p, "/v2/snaps/info/"))
	case strings.HasPrefix(p, "/v2/assertions/") && r.Method == http.MethodGet:
		s.record("assertions", r)
		s.assertion(w, r, strings.Split(strings.TrimPrefix(p, "/v2/assertions/"), "/"))
	case strings.HasPrefix(p, "/api/v1/snaps/download/") && r.Method == http.MethodGet:
		s.record("download", r)
		if s.throttle(w, r) {
			return
		}
		http.Redirect(w, r, s.CDN.URL+"/download-origin/"+strings.TrimPrefix(p, "/api/v1/snaps/download/"), http.StatusFound)
	default:
		errorList(w, http.StatusNotFound, "not-found", "no such endpoint")
	}
}

func (s *Server) findFile(file string) *snapRev {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.snaps {
		if fileName(r) == file {
			return r
		}
	}
	return nil
}

func fileName(r *snapRev) string {
	return fmt.Sprintf("%s_%d_%s.snap", r.id, r.Revision, r.Architecture)
}

func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.cdnAuth.Add(1)
		http.Error(w, "credentials sent to the CDN", http.StatusBadRequest)
		return
	}
	if s.throttle(w, r) {
		return
	}
	sn := s.findFile(strings.TrimPrefix(r.URL.Path, "/download-origin/"))
	if sn == nil {
		http.NotFound(w, r)
		return
	}
	s.downloads.Add(1)
	if r.Header.Get("Range") != "" {
		s.ranged.Add(1)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	s.mu.Lock()
	cut := s.faults.CutDownloads && r.Header.Get("Range") == "" && s.hits["cut "+r.URL.Path] == 0
	if cut {
		s.hits["cut "+r.URL.Path]++
	}
	s.mu.Unlock()
	if cut {
		w.Header().Set("Content-Length", strconv.Itoa(len(sn.content)))
		w.Header().Set("Accept-Ranges", "bytes")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(sn.content[:len(sn.content)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(sn.content))
}

type action struct {
	Action      string `json:"action"`
	InstanceKey string `json:"instance-key"`
	Name        string `json:"name"`
	SnapID      string `json:"snap-id"`
	Channel     string `json:"channel"`
	Revision    int    `json:"revision"`
}

// risks from most to least stable: a channel with nothing falls back to the more stable.
var riskOrder = []string{"stable", "candidate", "beta", "edge"}

// pick finds the revision an action asks for; the action's channel is already resolved.
func (s *Server) pick(name, arch string, a action) (*snapRev, []map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := false
	var releases []map[string]string
	var cands []*snapRev
	for _, r := range s.snaps {
		if r.Name != name {
			continue
		}
		known = true
		if r.Architecture != arch && r.Architecture != "all" {
			continue
		}
		cands = append(cands, r)
		for _, c := range r.Channels {
			releases = append(releases, map[string]string{"architecture": r.Architecture, "channel": c})
		}
	}
	if !known {
		return nil, nil, false
	}
	if a.Revision > 0 {
		for _, r := range cands {
			if r.Revision == a.Revision {
				return r, nil, true
			}
		}
		return nil, releases, true
	}
	track, risk, _ := strings.Cut(a.Channel, "/")
	start := -1
	for i, rk := range riskOrder {
		if rk == risk {
			start = i
		}
	}
	for i := start; i >= 0; i-- {
		want := track + "/" + riskOrder[i]
		var best *snapRev
		for _, r := range cands {
			for _, c := range r.Channels {
				if c == want && (best == nil || r.Revision > best.Revision) {
					best = r
				}
			}
		}
		if best != nil {
			return best, nil, true
		}
	}
	return nil, releases, true
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("User-Agent") == "" {
		errorList(w, http.StatusBadRequest, "invalid-header", "User-Agent required")
		return
	}
	if r.Header.Get("Snap-Device-Series") != "16" {
		errorList(w, http.StatusBadRequest, "invalid-header", "Snap-Device-Series must be 16")
		return
	}
	arch := r.Header.Get("Snap-Device-Architecture")
	if arch == "" {
		errorList(w, http.StatusBadRequest, "invalid-header", "Snap-Device-Architecture required")
		return
	}
	var req struct {
		Context []any    `json:"context"`
		Actions []action `json:"actions"`
		Fields  []string `json:"fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Context == nil {
		errorList(w, http.StatusBadRequest, "invalid-request", "bad request body")
		return
	}
	s.mu.Lock()
	faults := s.faults
	s.mu.Unlock()
	results := []map[string]any{}
	for _, a := range req.Actions {
		if a.Action != "download" {
			errorList(w, http.StatusBadRequest, "invalid-action", "only download actions here")
			return
		}
		if a.Revision == 0 {
			a.Channel = resolveChannel(a.Channel, s.defaultTrack(a.Name, r))
		}
		sn, releases, known := s.pick(a.Name, arch, a)
		if sn == nil {
			res := map[string]any{"result": "error", "instance-key": a.InstanceKey, "name": a.Name}
			if !known {
				res["error"] = map[string]any{"code": "name-not-found", "message": "No snap named '" + a.Name + "' found in series '16'."}
			} else {
				res["error"] = map[string]any{"code": "revision-not-found", "message": "No revision was found in the Store.",
					"extra": map[string]any{"releases": releases}}
			}
			results = append(results, res)
			continue
		}
		sha := sn.sha3hex
		if faults.WrongSHA3 == sn.Name {
			sum := sha3.Sum384([]byte("not this"))
			sha = hex.EncodeToString(sum[:])
		}
		results = append(results, map[string]any{
			"result": "download", "instance-key": a.InstanceKey, "snap-id": sn.id, "name": sn.Name,
			"effective-channel": a.Channel,
			"snap": map[string]any{
				"snap-id": sn.id, "name": sn.Name, "revision": sn.Revision, "version": sn.Version,
				"type": sn.Type, "base": nullable(sn.Base), "confinement": sn.Confinement, "snap-yaml": sn.yaml,
				"epoch":     sn.epochJSON(),
				"publisher": map[string]any{"id": sn.Publisher, "username": sn.Publisher, "display-name": sn.Publisher},
				"download":  map[string]any{"url": s.API.URL + "/api/v1/snaps/download/" + fileName(sn), "sha3-384": sha, "size": len(sn.content), "deltas": []any{}},
			},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results, "error-list": []any{}})
}

// epochJSON is the store's epoch object of a snap.
func (sn Snap) epochJSON() Epoch {
	if len(sn.Epoch.Write) == 0 {
		return Epoch{Read: []uint32{0}, Write: []uint32{0}}
	}
	return sn.Epoch
}

func yamlList(l []uint32) string {
	parts := make([]string, len(l))
	for i, n := range l {
		parts[i] = strconv.FormatUint(uint64(n), 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) info(w http.ResponseWriter, r *http.Request, name string) {
	if r.Header.Get("Snap-Device-Series") != "16" {
		errorList(w, http.StatusBadRequest, "invalid-header", "Snap-Device-Series must be 16")
		return
	}
	arch := r.URL.Query().Get("architecture")
	s.mu.Lock()
	var revs []*snapRev
	for _, sn := range s.snaps {
		if sn.Name == name {
			revs = append(revs, sn)
		}
	}
	s.mu.Unlock()
	if len(revs) == 0 {
		errorList(w, http.StatusNotFound, "snap-not-found", "No snap named '"+name+"' found in series '16'.")
		return
	}
	var cm []map[string]any
	for _, sn := range revs {
		if arch != "" && sn.Architecture != arch && sn.Architecture != "all" {
			continue
		}
		for _, c := range sn.Channels {
			track, risk, _ := strings.Cut(c, "/")
			cm = append(cm, map[string]any{
				"channel": map[string]any{"name": c, "track": track, "risk": risk, "architecture": sn.Architecture,
					"released-at": epoch.Format(time.RFC3339)},
				"revision": sn.Revision, "version": sn.Version, "type": sn.Type, "base": nullable(sn.Base),
				"download": map[string]any{"url": s.API.URL + "/api/v1/snaps/download/" + fileName(sn), "sha3-384": sn.sha3hex, "size": len(sn.content)},
			})
		}
	}
	sort.Slice(cm, func(i, j int) bool {
		ci, cj := cm[i]["channel"].(map[string]any), cm[j]["channel"].(map[string]any)
		return fmt.Sprint(ci["name"], ci["architecture"]) < fmt.Sprint(cj["name"], cj["architecture"])
	})
	s.mu.Lock()
	track := s.defaultTracks[name]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"name": name, "snap-id": revs[0].id, "channel-map": cm, "default-track": nullable(track),
		"snap": map[string]any{"name": name, "snap-id": revs[0].id, "publisher": map[string]any{"id": revs[0].Publisher}},
	})
}

func (s *Server) assertion(w http.ResponseWriter, r *http.Request, parts []string) {
	if r.Header.Get("Accept") != "application/x.ubuntu.assertion" {
		errorList(w, http.StatusNotAcceptable, "not-acceptable", "Accept application/x.ubuntu.assertion")
		return
	}
	if s.throttle(w, r) {
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
	s.mu.Lock()
	faults := s.faults
	s.mu.Unlock()
	body := s.lookupAssertion(parts, faults)
	// A client that does not admit the assertion's format gets nothing (the store keeps
	// no older revision of a test assertion to fall back to).
	if body == nil || formatOf(body) > maxFormat {
		errorList(w, http.StatusNotFound, "not-found", "not found")
		return
	}
	if faults.TruncateAssertions {
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Type", "application/x.ubuntu.assertion")
	_, _ = w.Write(body)
}

// formatOf reads the format header of an encoded assertion (0 when absent).
func formatOf(b []byte) int {
	head, _, _ := bytes.Cut(b, []byte("\n\n"))
	for _, l := range strings.Split(string(head), "\n") {
		if v, ok := strings.CutPrefix(l, "format: "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

func (s *Server) lookupAssertion(parts []string, f Faults) []byte {
	if len(parts) < 2 {
		return nil
	}
	if s.opts.Canonical && len(parts) == 2 {
		if b := canonicalAssertion(parts[0], parts[1]); b != nil {
			return b
		}
	}
	stamp := epoch.Format(time.RFC3339)
	switch parts[0] {
	case "account-key":
		switch parts[1] {
		case s.StoreKey.ID:
			return s.StoreKey.AccountKey(s.Root, "store")
		case s.Root.ID:
			return s.Root.AccountKey(s.Root, "root")
		case s.rogue.ID:
			return s.rogue.AccountKey(s.rogue, "rogue")
		}
	case "account":
		if parts[1] == Authority {
			return s.Root.Sign("account", []Header{{"revision", "1"}, {"account-id", Authority}, {"display-name", "Test authority"},
				{"username", Authority}, {"validation", "verified"}, {"timestamp", stamp}}, nil)
		}
		s.mu.Lock()
		found := false
		for _, sn := range s.snaps {
			found = found || sn.Publisher == parts[1]
		}
		s.mu.Unlock()
		if found {
			return s.StoreKey.Sign("account", []Header{{"account-id", parts[1]}, {"display-name", "Publisher " + parts[1]},
				{"username", parts[1]}, {"validation", "unproven"}, {"timestamp", stamp}}, nil)
		}
	case "snap-declaration":
		if len(parts) != 3 || parts[1] != "16" {
			return nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, sn := range s.snaps {
			if sn.id == parts[2] {
				signer := s.StoreKey
				if f.UntrustedSigner {
					signer = s.rogue
				}
				var hs []Header
				if sn.DeclarationFormat > 0 {
					hs = append(hs, Header{"format", strconv.Itoa(sn.DeclarationFormat)})
				}
				hs = append(hs, Header{"series", "16"}, Header{"snap-id", sn.id}, Header{"publisher-id", sn.Publisher},
					Header{"snap-name", sn.Name}, Header{"timestamp", stamp})
				return signer.Sign("snap-declaration", hs, nil)
			}
		}
	case "snap-revision":
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, sn := range s.snaps {
			if sn.sha3b64 == parts[1] {
				id := sn.id
				if f.RevisionForOtherSnap == sn.Name {
					id = SnapID(sn.Name + "-other")
				}
				return s.StoreKey.Sign("snap-revision", []Header{{"snap-sha3-384", sn.sha3b64}, {"snap-id", id},
					{"snap-size", strconv.Itoa(len(sn.content))}, {"snap-revision", strconv.Itoa(sn.Revision)},
					{"developer-id", sn.Publisher}, {"timestamp", stamp}}, nil)
			}
		}
	}
	return nil
}
