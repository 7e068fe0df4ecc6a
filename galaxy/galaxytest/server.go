package galaxytest

import (
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

// Options shape the upstream's answers, to exercise what differs between Galaxy servers.
type Options struct {
	// PageSize is how many versions a page holds at most, whatever the client asks
	// (0: 10).
	PageSize int
	// ResultsKey is the key of a page's items: "data" (galaxy_ng, the default) or
	// "results" (pulp_ansible).
	ResultsKey string
	// AbsoluteLinks writes links.next as absolute URLs instead of root-relative ones.
	AbsoluteLinks bool
	// Token, when set, is required on every API request and download, as
	// "Authorization: Token <t>" or "Authorization: Bearer <t>".
	Token string
	// DownloadBase, when set, is the base URL that download_url values (collections and
	// roles) name instead of the server's own: artifacts kept on another host.
	DownloadBase string
	// RedirectDownloads, when set, makes the server answer its own downloads with a 302
	// to the same path under this base URL, as galaxy_ng sends clients to object storage.
	RedirectDownloads string
}

// Faults break the upstream on purpose.
type Faults struct {
	// WrongSHA256 makes version details advertise a wrong artifact sha256.
	WrongSHA256 bool
	// LoopPagination makes the last page of every version listing link back to the first.
	LoopPagination bool
	// MalformedJSON truncates every JSON answer whose path starts with this prefix.
	MalformedJSON string
	// NoSHA256 makes version details advertise an empty sha256.
	NoSHA256 bool
}

type version struct {
	c          Collection
	artifact   []byte
	sha        string
	signatures []map[string]string
	created    string
}

type collection struct {
	ns, name string
	updated  string
	versions map[string]*version
}

type role struct {
	id          int
	owner, name string
	versions    map[string][]byte
}

// Server is a small Galaxy upstream: /api/ discovery, v3 collections with pagination,
// version details with sha256 and an absolute download_url, artifact downloads, v1 roles
// with their query strings and role archives. Its root answers HTML, like
// galaxy.ansible.com, so clients must find /api/ themselves. Safe for concurrent use.
type Server struct {
	opts Options

	mu          sync.Mutex
	faults      Faults
	collections map[string]*collection
	roles       map[string]*role
	clock       int

	requests  atomic.Int64
	downloads atomic.Int64
}

// New returns an empty upstream.
func New(opts Options) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 10
	}
	if opts.ResultsKey == "" {
		opts.ResultsKey = "data"
	}
	return &Server{opts: opts, collections: map[string]*collection{}, roles: map[string]*role{}}
}

// Start serves s on 127.0.0.1 and returns its URL and a function that stops it.
func (s *Server) Start() (url string, stop func()) {
	ts := httptest.NewServer(s)
	return ts.URL, ts.Close
}

// SetFaults replaces the faults in effect.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Requests returns how many requests the server answered (downloads included).
func (s *Server) Requests() int64 { return s.requests.Load() }

// Downloads returns how many of the requests were artifact or role downloads.
func (s *Server) Downloads() int64 { return s.downloads.Load() }

// ResetCounters sets Requests and Downloads back to zero.
func (s *Server) ResetCounters() { s.requests.Store(0); s.downloads.Store(0) }

// tick returns a new, strictly increasing timestamp.
func (s *Server) tick() string {
	s.clock++
	return epoch.Add(time.Duration(s.clock) * time.Second).Format("2006-01-02T15:04:05.000000Z")
}

// AddCollection generates the artifact of c, adds it and returns it.
func (s *Server) AddCollection(c Collection) []byte {
	a := BuildArtifact(c)
	s.add(c, a)
	return a
}

// AddArtifact adds an artifact built elsewhere (ansible-galaxy collection build); its
// name, version and dependencies come from its MANIFEST.json.
func (s *Server) AddArtifact(artifact []byte) (Collection, error) {
	c, err := ReadManifest(artifact)
	if err != nil {
		return Collection{}, err
	}
	s.add(c, artifact)
	return c, nil
}

// AddRawArtifact serves artifact as the artifact of c, whatever it holds (to test
// clients that check artifacts).
func (s *Server) AddRawArtifact(c Collection, artifact []byte) { s.add(c, artifact) }

func (s *Server) add(c Collection, artifact []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := c.Namespace + "." + c.Name
	col := s.collections[key]
	if col == nil {
		col = &collection{ns: c.Namespace, name: c.Name, versions: map[string]*version{}}
		s.collections[key] = col
	}
	now := s.tick()
	col.versions[c.Version] = &version{c: c, artifact: artifact, sha: sha256Hex(artifact), created: now}
	col.updated = now
}

// SetSignatures attaches signature objects to a version's detail answer.
func (s *Server) SetSignatures(id string, sigs []map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, ver, _ := strings.Cut(id, ":")
	if col := s.collections[name]; col != nil {
		if v := col.versions[ver]; v != nil {
			v.signatures = sigs
		}
	}
}

// AddRole adds a role with generated archives for the given versions.
func (s *Server) AddRole(owner, name string, versions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := owner + "." + name
	r := s.roles[key]
	if r == nil {
		r = &role{id: 1000 + len(s.roles), owner: owner, name: name, versions: map[string][]byte{}}
		s.roles[key] = r
	}
	for _, v := range versions {
		r.versions[v] = BuildRole(owner, name, v)
	}
}

// ServeHTTP answers the Galaxy API, artifact and role downloads.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Token != "" {
		a := r.Header.Get("Authorization")
		if a != "Token "+s.opts.Token && a != "Bearer "+s.opts.Token {
			s.json(w, r, http.StatusUnauthorized, map[string]any{"detail": "Authentication credentials were not provided."})
			return
		}
	}
	p := r.URL.Path
	if s.opts.RedirectDownloads != "" && (strings.HasPrefix(p, "/download/") || strings.HasPrefix(p, "/roles/")) {
		http.Redirect(w, r, s.opts.RedirectDownloads+p, http.StatusFound)
		return
	}
	switch {
	case p == "/":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>Galaxy</title>")
	case p == "/api": // as galaxy.ansible.com does; ansible-galaxy asks for /api
		http.Redirect(w, r, "/api/", http.StatusMovedPermanently)
	case p == "/api/":
		s.json(w, r, http.StatusOK, map[string]any{"available_versions": map[string]string{"v1": "v1/", "v3": "v3/"}})
	case strings.HasPrefix(p, "/api/v3/collections/"):
		s.serveCollection(w, r, strings.Split(strings.Trim(strings.TrimPrefix(p, "/api/v3/collections/"), "/"), "/"))
	case strings.HasPrefix(p, "/download/"):
		s.downloads.Add(1)
		name := strings.TrimPrefix(p, "/download/")
		for _, col := range s.collections {
			for _, v := range col.versions {
				if v.c.Filename() == name {
					w.Header().Set("Content-Type", "application/gzip")
					_, _ = w.Write(v.artifact)
					return
				}
			}
		}
		http.NotFound(w, r)
	case p == "/api/v1/roles/":
		q := r.URL.Query()
		var results []any
		if ro := s.roles[q.Get("owner__username")+"."+q.Get("name")]; ro != nil {
			results = append(results, map[string]any{"id": ro.id, "name": ro.name, "github_user": ro.owner,
				"github_repo": "ansible-role-" + ro.name, "summary_fields": map[string]any{"namespace": map[string]string{"name": ro.owner}}})
		}
		s.json(w, r, http.StatusOK, map[string]any{"count": len(results), "next_link": nil, "next": nil, "results": orEmpty(results)})
	case strings.HasPrefix(p, "/api/v1/roles/"):
		s.serveRoleVersions(w, r, strings.Split(strings.Trim(strings.TrimPrefix(p, "/api/v1/roles/"), "/"), "/"))
	case strings.HasPrefix(p, "/roles/"):
		s.downloads.Add(1)
		parts := strings.Split(strings.TrimPrefix(p, "/roles/"), "/")
		if len(parts) == 3 {
			if ro := s.roles[parts[0]+"."+parts[1]]; ro != nil {
				if b, ok := ro.versions[strings.TrimSuffix(parts[2], ".tar.gz")]; ok {
					w.Header().Set("Content-Type", "application/gzip")
					_, _ = w.Write(b)
					return
				}
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

func orEmpty(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func (s *Server) json(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, _ := json.Marshal(v)
	if s.faults.MalformedJSON != "" && strings.HasPrefix(r.URL.Path, s.faults.MalformedJSON) {
		b = b[:len(b)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func baseURL(r *http.Request) string { return "http://" + r.Host }

// downloadBase is where download_url values point.
func (s *Server) downloadBase(r *http.Request) string {
	if s.opts.DownloadBase != "" {
		return s.opts.DownloadBase
	}
	return baseURL(r)
}

func sortedVersions(col *collection) []*version {
	out := make([]*version, 0, len(col.versions))
	for _, v := range col.versions {
		out = append(out, v)
	}
	// Newest first by creation order, as Galaxy lists them.
	sort.Slice(out, func(i, j int) bool { return out[i].created > out[j].created })
	return out
}

func (s *Server) serveCollection(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	col := s.collections[parts[0]+"."+parts[1]]
	if col == nil {
		s.json(w, r, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"status": "404", "code": "not_found"}}})
		return
	}
	href := "/api/v3/collections/" + col.ns + "/" + col.name + "/"
	vs := sortedVersions(col)
	switch {
	case len(parts) == 2:
		s.json(w, r, http.StatusOK, map[string]any{"href": href, "namespace": col.ns, "name": col.name,
			"updated_at": col.updated, "created_at": vs[len(vs)-1].created,
			"highest_version": map[string]string{"version": vs[0].c.Version, "href": href + "versions/" + vs[0].c.Version + "/"}})
	case len(parts) == 3 && parts[2] == "versions":
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit <= 0 || limit > s.opts.PageSize {
			limit = s.opts.PageSize
		}
		offset = max(0, min(offset, len(vs)))
		items := []any{}
		for _, v := range vs[offset:min(offset+limit, len(vs))] {
			items = append(items, map[string]any{"version": v.c.Version, "href": href + "versions/" + v.c.Version + "/", "created_at": v.created})
		}
		var next any
		link := func(off int) string {
			l := href + "versions/?limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(off)
			if s.opts.AbsoluteLinks {
				l = baseURL(r) + l
			}
			return l
		}
		if offset+limit < len(vs) {
			next = link(offset + limit)
		} else if s.faults.LoopPagination {
			next = link(0)
		}
		s.json(w, r, http.StatusOK, map[string]any{"meta": map[string]int{"count": len(vs)},
			"links": map[string]any{"first": link(0), "next": next}, s.opts.ResultsKey: items})
	case len(parts) == 4 && parts[2] == "versions":
		v := col.versions[parts[3]]
		if v == nil {
			s.json(w, r, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"status": "404", "code": "not_found"}}})
			return
		}
		sha := v.sha
		if s.faults.WrongSHA256 {
			sha = sha256Hex([]byte("not the artifact"))
		}
		if s.faults.NoSHA256 {
			sha = ""
		}
		deps := v.c.Dependencies
		if deps == nil {
			deps = map[string]string{}
		}
		detail := map[string]any{
			"version": v.c.Version, "href": href + "versions/" + v.c.Version + "/",
			"namespace": map[string]string{"name": col.ns}, "collection": map[string]string{"name": col.name},
			"download_url": s.downloadBase(r) + "/download/" + v.c.Filename(),
			"artifact":     map[string]any{"filename": v.c.Filename(), "sha256": sha, "size": len(v.artifact)},
			"metadata":     map[string]any{"dependencies": deps, "description": "test collection", "tags": []string{}},
			"created_at":   v.created, "requires_ansible": ">=2.14.0",
		}
		if v.signatures != nil {
			detail["signatures"] = v.signatures
		}
		s.json(w, r, http.StatusOK, detail)
	default:
		http.NotFound(w, r)
	}
}

// serveRoleVersions answers roles/{id}/versions/, two versions per page with v1's
// next_link, so that clients must paginate.
func (s *Server) serveRoleVersions(w http.ResponseWriter, r *http.Request, parts []string) {
	var ro *role
	for _, x := range s.roles {
		if len(parts) > 0 && strconv.Itoa(x.id) == parts[0] {
			ro = x
		}
	}
	if ro == nil || len(parts) != 2 || parts[1] != "versions" {
		http.NotFound(w, r)
		return
	}
	names := make([]string, 0, len(ro.versions))
	for v := range ro.versions {
		names = append(names, v)
	}
	sort.Strings(names)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	const size = 2
	start := min((page-1)*size, len(names))
	var results []any
	for _, v := range names[start:min(start+size, len(names))] {
		results = append(results, map[string]any{"name": v,
			"download_url": s.downloadBase(r) + "/roles/" + ro.owner + "/" + ro.name + "/" + v + ".tar.gz"})
	}
	var next any
	if start+size < len(names) {
		next = "/api/v1/roles/" + parts[0] + "/versions/?page=" + strconv.Itoa(page+1)
	}
	s.json(w, r, http.StatusOK, map[string]any{"count": len(names), "next_link": next, "results": orEmpty(results)})
}
