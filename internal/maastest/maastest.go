// Package maastest is a fake MAAS region API 2.0 for tests: an httptest server on
// 127.0.0.1 that keeps state (boot sources and selections, boot resources and the
// import, package repositories, configuration, users, SSH keys, machines, zones),
// answers with JSON in the shapes MAAS 3.x returns, and is strict where real MAAS is
// strict or where clients get it wrong: the OAuth 1.0a PLAINTEXT header is checked
// field by field and a reused nonce is refused; POST and PUT must be multipart; lists
// must come as repeated keys; keyring_data must be a file part. Every deviation is
// recorded (Violations) and every request too (Requests). Failures (409/503 with
// Retry-After, ...) can be queued. It is test support, not API.
package maastest

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials of the fake's admin user.
const (
	ConsumerKey = "Kc0nsumerKey00000a"
	TokenKey    = "Ht0kenKey000000000b"
	TokenSecret = "s3cretTokenSecret000000000000000c"
	APIKey      = ConsumerKey + ":" + TokenKey + ":" + TokenSecret
	Username    = "admin"
	Password    = "correct horse battery staple"
	apiPrefix   = "/MAAS/api/2.0/"
)

// Request is one API request as the fake saw it.
type Request struct {
	Method  string
	Path    string // below /MAAS/api/2.0/, e.g. "boot-sources/1/"
	Op      string
	Query   url.Values
	Form    url.Values        // plain multipart fields, in order per key
	Files   map[string][]byte // file parts by field name
	Auth    map[string]string // decoded OAuth parameters
	RawAuth map[string]string // OAuth parameters as sent (still percent-encoded)
	Session bool              // authenticated by session cookie
}

// Failure makes matching requests fail before they reach the handler.
type Failure struct {
	Method     string // "" matches any
	Path       string // "" matches any; else exact, e.g. "boot-sources/"
	Op         string // "" matches any
	Status     int
	RetryAfter string
	Body       string
	Times      int // how many requests fail; 0 means 1
}

// Server is the fake MAAS.
type Server struct {
	// URL is the MAAS URL, "http://127.0.0.1:port/MAAS/".
	URL string

	srv *httptest.Server
	now func() time.Time

	mu          sync.Mutex
	nonces      map[string]bool
	requests    []Request
	violations  []string
	failures    []*Failure
	nextID      int
	sources     []*BootSource
	selections  []*Selection
	resources   []*BootResource
	repos       []*Repo
	config      map[string]any
	users       []User
	sshKeys     []SSHKey
	machines    []*Machine
	zones       []Zone
	importPolls int
	mirrorArch  []string
	importLeft  int
	importing   bool
	imports     int
	csrf        string
	sessions    map[string]bool
}

// BootSource, Selection, BootResource, Repo, User, SSHKey, Machine and Zone are the
// fake's records, marshalled as MAAS does. They are written from MAAS's answers, not
// shared with maasclient, on purpose: a wrong JSON tag in the client must not be
// mirrored by the fake and pass unnoticed.
type BootSource struct {
	ID              int    `json:"id"`
	URL             string `json:"url"`
	KeyringFilename string `json:"keyring_filename"`
	KeyringData     string `json:"keyring_data"`
	Created         string `json:"created"`
	Updated         string `json:"updated"`
	ResourceURI     string `json:"resource_uri"`
}

// Selection is a boot source selection.
type Selection struct {
	ID           int      `json:"id"`
	BootSourceID int      `json:"boot_source_id"`
	OS           string   `json:"os"`
	Release      string   `json:"release"`
	Arches       []string `json:"arches"`
	Subarches    []string `json:"subarches"`
	Labels       []string `json:"labels"`
	ResourceURI  string   `json:"resource_uri"`
}

// BootResource is a synced image.
type BootResource struct {
	ID           int            `json:"id"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	Architecture string         `json:"architecture"`
	ResourceURI  string         `json:"resource_uri"`
	Sets         map[string]any `json:"sets,omitempty"`
}

// Repo is a package repository.
type Repo struct {
	ID                 int      `json:"id"`
	Name               string   `json:"name"`
	URL                string   `json:"url"`
	Distributions      []string `json:"distributions"`
	DisabledPockets    []string `json:"disabled_pockets"`
	DisabledComponents []string `json:"disabled_components"`
	DisableSources     bool     `json:"disable_sources"`
	Components         []string `json:"components"`
	Arches             []string `json:"arches"`
	Key                string   `json:"key"`
	Enabled            bool     `json:"enabled"`
	ResourceURI        string   `json:"resource_uri"`
}

// User is a MAAS user.
type User struct {
	Username    string `json:"username"`
	Email       string `json:"email"`
	IsSuperuser bool   `json:"is_superuser"`
	IsLocal     bool   `json:"is_local"`
	ResourceURI string `json:"resource_uri"`
}

// SSHKey is an SSH public key of the admin user.
type SSHKey struct {
	ID          int     `json:"id"`
	Key         string  `json:"key"`
	Keysource   *string `json:"keysource"`
	ResourceURI string  `json:"resource_uri"`
}

// Zone is a physical zone.
type Zone struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ResourceURI string `json:"resource_uri"`
}

// Machine is a machine (the fields clients read).
type Machine struct {
	SystemID     string         `json:"system_id"`
	Hostname     string         `json:"hostname"`
	FQDN         string         `json:"fqdn"`
	Status       int            `json:"status"`
	StatusName   string         `json:"status_name"`
	PowerState   string         `json:"power_state"`
	PowerType    string         `json:"power_type"`
	Architecture string         `json:"architecture"`
	OSystem      string         `json:"osystem"`
	DistroSeries string         `json:"distro_series"`
	Owner        *string        `json:"owner"`
	CPUCount     int            `json:"cpu_count"`
	Memory       int            `json:"memory"`
	Storage      float64        `json:"storage"`
	IPAddresses  []string       `json:"ip_addresses"`
	TagNames     []string       `json:"tag_names"`
	Zone         map[string]any `json:"zone"`
	Pool         map[string]any `json:"pool"`
	ResourceURI  string         `json:"resource_uri"`
}

// New starts a fake MAAS (see Start) and stops it when the test ends.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func newServer() *Server {
	s := &Server{
		now:      time.Now,
		nonces:   map[string]bool{},
		sessions: map[string]bool{},
		nextID:   1,
		config: map[string]any{
			"maas_name": "maas-fake", "upstream_dns": "", "http_proxy": "", "enable_http_proxy": true,
			"use_peer_proxy": false, "boot_images_auto_import": true, "default_distro_series": "jammy",
			"default_osystem": "ubuntu", "ntp_servers": "ntp.ubuntu.com", "ntp_external_only": false,
			"enable_analytics": true, "release_notifications": true,
		},
	}
	src := &BootSource{ID: s.id(), URL: "http://images.maas.io/ephemeral-v3/stable/", KeyringFilename: "/snap/maas/current/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg"}
	src.ResourceURI = fmt.Sprintf("%sboot-sources/%d/", apiPrefix, src.ID)
	src.Created, src.Updated = s.stamp(), s.stamp()
	s.sources = append(s.sources, src)
	s.selections = append(s.selections, s.newSelection(src.ID, "ubuntu", "jammy", []string{"amd64"}, []string{"*"}, []string{"*"}))
	main := &Repo{ID: s.id(), Name: "main_archive", URL: "http://archive.ubuntu.com/ubuntu", Arches: []string{"amd64", "i386"}, Enabled: true, DisableSources: true}
	ports := &Repo{ID: s.id(), Name: "ports_archive", URL: "http://ports.ubuntu.com/ubuntu-ports", Arches: []string{"armhf", "arm64", "ppc64el", "s390x"}, Enabled: true, DisableSources: true}
	for _, r := range []*Repo{main, ports} {
		r.ResourceURI = fmt.Sprintf("%spackage-repositories/%d/", apiPrefix, r.ID)
		r.Distributions, r.DisabledPockets, r.DisabledComponents, r.Components = []string{}, []string{}, []string{}, []string{}
		s.repos = append(s.repos, r)
	}
	s.users = []User{{Username: Username, Email: "admin@example.invalid", IsSuperuser: true, IsLocal: true, ResourceURI: apiPrefix + "users/admin/"}}
	s.zones = []Zone{{ID: s.id(), Name: "default", Description: "", ResourceURI: apiPrefix + "zones/default/"}}
	s.machines = []*Machine{s.newMachine("4y3h7n", "node1", 4), s.newMachine("8x2kq9", "node2", 0)}

	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused TLS handshakes are expected in tests
	return s
}

// Start starts a fake MAAS over plain HTTP with MAAS's defaults: one boot source at
// images.maas.io with a jammy selection, main_archive and ports_archive, an admin
// user, a default zone and two machines. Close stops it.
func Start() *Server {
	s := newServer()
	s.srv.Start()
	s.URL = s.srv.URL + "/MAAS/"
	return s
}

// NewTLS is New over HTTPS, serving cert (as after `maas config-tls enable`).
func NewTLS(t testing.TB, cert tls.Certificate) *Server {
	s := newServer()
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.srv.StartTLS()
	s.URL = s.srv.URL + "/MAAS/"
	t.Cleanup(s.Close)
	return s
}

// Fail queues a failure.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.failures = append(s.failures, &f)
}

// SetImportPolls sets how many is_importing answers are true after an import starts.
func (s *Server) SetImportPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.importPolls = n
}

// SetMirrorArches limits what an import finds to these architectures, as a mirror
// that carries only some of the selected ones; none means all.
func (s *Server) SetMirrorArches(arches ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mirrorArch = arches
}

// SetNow replaces the clock that OAuth timestamps are checked against.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Requests returns the API requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Violations returns the protocol deviations seen so far (empty when the client
// behaved).
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// Imports is how many imports were started.
func (s *Server) Imports() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.imports
}

// Config returns a configuration value.
func (s *Server) Config(name string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.config[name]
}

// BootSources returns copies of the boot sources.
func (s *Server) BootSources() []BootSource {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []BootSource
	for _, b := range s.sources {
		out = append(out, *b)
	}
	return out
}

// AddBootSource adds a boot source (to test that extra ones are removed).
func (s *Server) AddBootSource(u string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &BootSource{ID: s.id(), URL: u, KeyringFilename: "/x.gpg", Created: s.stamp(), Updated: s.stamp()}
	b.ResourceURI = fmt.Sprintf("%sboot-sources/%d/", apiPrefix, b.ID)
	s.sources = append(s.sources, b)
	return b.ID
}

// Selections returns copies of the selections of a boot source.
func (s *Server) Selections(sourceID int) []Selection {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Selection
	for _, x := range s.selections {
		if x.BootSourceID == sourceID {
			out = append(out, *x)
		}
	}
	return out
}

// Repos returns copies of the package repositories.
func (s *Server) Repos() []Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Repo
	for _, r := range s.repos {
		out = append(out, *r)
	}
	return out
}

func (s *Server) id() int {
	s.nextID++
	return s.nextID - 1
}

func (s *Server) stamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000") }

func (s *Server) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

func (s *Server) newSelection(src int, os, release string, arches, subarches, labels []string) *Selection {
	x := &Selection{ID: s.id(), BootSourceID: src, OS: os, Release: release, Arches: arches, Subarches: subarches, Labels: labels}
	x.ResourceURI = fmt.Sprintf("%sboot-sources/%d/selections/%d/", apiPrefix, src, x.ID)
	return x
}

func (s *Server) newMachine(id, host string, status int) *Machine {
	return &Machine{
		SystemID: id, Hostname: host, FQDN: host + ".maas", Status: status, StatusName: statusNames[status],
		PowerState: "off", PowerType: "ipmi", Architecture: "amd64/generic", CPUCount: 8, Memory: 16384, Storage: 256060.5,
		IPAddresses: []string{}, TagNames: []string{"virtual"},
		Zone:        map[string]any{"id": 1, "name": "default", "description": "", "resource_uri": apiPrefix + "zones/default/"},
		Pool:        map[string]any{"id": 0, "name": "default", "description": "Default pool", "resource_uri": apiPrefix + "resourcepool/0/"},
		ResourceURI: apiPrefix + "machines/" + id + "/",
	}
}

var statusNames = map[int]string{0: "New", 1: "Commissioning", 4: "Ready", 6: "Deployed", 9: "Deploying", 10: "Allocated", 12: "Releasing"}

// ---- HTTP ----

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/MAAS/accounts/login/":
		s.login(w, r)
		return
	case "/MAAS/accounts/authenticate/":
		s.authenticateAPI(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, apiPrefix) {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, apiPrefix), Op: r.URL.Query().Get("op"), Query: r.URL.Query()}
	if msg := s.authenticate(r, &req); msg != "" {
		s.requests = append(s.requests, req)
		http.Error(w, msg, http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if msg := s.readForm(r, &req); msg != "" {
			s.requests = append(s.requests, req)
			writeJSON(w, http.StatusBadRequest, map[string][]string{"__all__": {msg}})
			return
		}
	} else if r.ContentLength > 0 {
		s.violate("%s %s with a body", r.Method, r.URL.Path)
	}
	s.requests = append(s.requests, req)
	for i, f := range s.failures {
		if (f.Method == "" || f.Method == req.Method) && (f.Path == "" || f.Path == req.Path) && (f.Op == "" || f.Op == req.Op) {
			f.Times--
			if f.Times <= 0 {
				s.failures = slices.Delete(s.failures, i, i+1)
			}
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return
		}
	}
	s.route(w, &req)
}

// authenticate checks the OAuth header (or the session cookie) and returns a message
// for a 401, or "".
func (s *Server) authenticate(r *http.Request, req *Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		if c, err := r.Cookie("sessionid"); err == nil && s.sessions[c.Value] {
			req.Session = true
			if r.Method != http.MethodGet {
				tok, _ := r.Cookie("csrftoken")
				if tok == nil || r.Header.Get("X-CSRFToken") != tok.Value {
					s.violate("%s %s: session request without a matching X-CSRFToken", r.Method, r.URL.Path)
					return "CSRF verification failed."
				}
			}
			return ""
		}
		return "Authorization Error: no credentials"
	}
	rest, ok := strings.CutPrefix(h, "OAuth ")
	if !ok {
		s.violate("Authorization is not OAuth: %q", h)
		return "Authorization Error: not OAuth"
	}
	req.Auth, req.RawAuth = map[string]string{}, map[string]string{}
	for _, part := range strings.Split(rest, ", ") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			s.violate("malformed OAuth parameter %q in %q", part, h)
			return "Authorization Error: malformed header"
		}
		raw := v[1 : len(v)-1]
		dec, err := url.PathUnescape(raw)
		if err != nil {
			s.violate("OAuth parameter %s not percent-encoded: %q", k, raw)
			return "Authorization Error: bad encoding"
		}
		if _, dup := req.Auth[k]; dup {
			s.violate("OAuth parameter %s twice", k)
		}
		req.Auth[k], req.RawAuth[k] = dec, raw
	}
	want := []string{"oauth_consumer_key", "oauth_nonce", "oauth_signature", "oauth_signature_method", "oauth_timestamp", "oauth_token", "oauth_version"}
	var got []string
	for k := range req.Auth {
		if k != "realm" {
			got = append(got, k)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		s.violate("OAuth parameters %v, want %v", got, want)
		return "Authorization Error: missing parameters"
	}
	switch {
	case req.Auth["oauth_version"] != "1.0":
		s.violate("oauth_version %q", req.Auth["oauth_version"])
		return "Authorization Error: version"
	case req.Auth["oauth_signature_method"] != "PLAINTEXT":
		s.violate("oauth_signature_method %q", req.Auth["oauth_signature_method"])
		return "Authorization Error: signature method"
	case req.RawAuth["oauth_signature"] != "%26"+TokenSecret:
		s.violate("oauth_signature sent as %q, want %q", req.RawAuth["oauth_signature"], "%26"+TokenSecret)
		return "Authorization Error: Invalid access token"
	case req.Auth["oauth_consumer_key"] != ConsumerKey || req.Auth["oauth_token"] != TokenKey:
		return "Authorization Error: Invalid access token"
	case req.Auth["oauth_nonce"] == "":
		s.violate("empty oauth_nonce")
		return "Authorization Error: nonce"
	case s.nonces[req.Auth["oauth_nonce"]]:
		s.violate("oauth_nonce %s reused", req.Auth["oauth_nonce"])
		return "Authorization Error: nonce already used"
	}
	s.nonces[req.Auth["oauth_nonce"]] = true
	ts, err := strconv.ParseInt(req.Auth["oauth_timestamp"], 10, 64)
	if err != nil {
		s.violate("oauth_timestamp %q", req.Auth["oauth_timestamp"])
		return "Authorization Error: timestamp"
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		s.violate("oauth_timestamp %d is %v off", ts, d)
		return "Authorization Error: timestamp expired"
	}
	return ""
}

// readForm parses a multipart body into req.Form and req.Files.
func (s *Server) readForm(r *http.Request, req *Request) string {
	req.Form, req.Files = url.Values{}, map[string][]byte{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if r.ContentLength == 0 && mt == "" {
			return "" // a POST without fields
		}
		s.violate("%s %s body is %q, want multipart/form-data", r.Method, r.URL.Path, mt)
		return "body must be multipart/form-data"
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return err.Error()
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(io.LimitReader(p, 1<<20))
		if p.FileName() != "" {
			req.Files[p.FormName()] = data
		} else {
			req.Form.Add(p.FormName(), string(data))
		}
	}
	return ""
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		if s.csrf == "" {
			s.csrf = fmt.Sprintf("csrf%016x", time.Now().UnixNano())
		}
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: s.csrf, Path: "/"})
		writeJSON(w, http.StatusOK, map[string]any{"authenticated": false, "external_auth_url": nil, "no_users": false})
	case http.MethodPost:
		tok, _ := r.Cookie("csrftoken")
		if tok == nil || tok.Value != s.csrf || r.Header.Get("X-CSRFToken") != s.csrf {
			s.violate("login POST without the CSRF cookie and header")
			http.Error(w, "CSRF verification failed. Request aborted.", http.StatusForbidden)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("username") != Username || r.PostForm.Get("password") != Password {
			writeJSON(w, http.StatusBadRequest, map[string][]string{"__all__": {"Please enter a correct username and password. Note that both fields may be case-sensitive."}})
			return
		}
		sid := fmt.Sprintf("sess%016x", time.Now().UnixNano())
		s.sessions[sid] = true
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: sid, Path: "/", HttpOnly: true})
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// authenticateAPI hands out the API key for a user name and password.
func (s *Server) authenticateAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("username") != Username || r.PostForm.Get("password") != Password {
		http.Error(w, "Username or password incorrect.", http.StatusForbidden)
		return
	}
	if r.PostForm.Get("consumer") == "" {
		s.mu.Lock()
		s.violate("authenticate without a consumer name")
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, map[string]string{"consumer_key": ConsumerKey, "token_key": TokenKey, "token_secret": TokenSecret, "name": r.PostForm.Get("consumer")})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fieldError(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string][]string{field: {msg}})
}

func notFound(w http.ResponseWriter) {
	http.Error(w, "No matching object found", http.StatusNotFound)
}

func badOp(w http.ResponseWriter, req *Request) {
	http.Error(w, fmt.Sprintf("Unrecognised signature: method=%s op=%s", req.Method, req.Op), http.StatusBadRequest)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
