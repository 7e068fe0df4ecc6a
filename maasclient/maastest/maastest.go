// Package maastest is a fake MAAS region API 2.0 (MAAS 3.5) for tests: an httptest
// server on 127.0.0.1 that keeps state (boot sources, selections and the boot source
// cache, boot resources and the import, package repositories, configuration, users,
// SSH keys, machines, zones), answers with JSON in the shapes MAAS returns, and refuses
// what MAAS refuses, with MAAS's messages:
//
//   - a partial update keeps the fields it does not name (MAAS's APIEditMixin), so a
//     boot source given keyring_data while it still has a keyring_filename is a 400;
//   - a selection is validated against the boot source cache, which saving boot source
//     1 does not refresh (MAAS 3.4-3.7); an import refreshes it first;
//   - selection lists left out are stored empty, and an empty list imports nothing;
//   - the selection of the commissioning release cannot be deleted (MAAS <= 3.6), and
//     release settings only take releases whose images are imported;
//   - main_archive and ports_archive refuse components (disabled_components instead)
//     and cannot be disabled;
//   - the login form sets the CSRF cookie on the POST that logs in; session writes must
//     echo it, with a Referer over https.
//
// It is also strict where clients get the wire format wrong: the OAuth 1.0a PLAINTEXT
// header is checked field by field and a reused nonce is refused; POST and PUT must be
// multipart; selection lists must come as repeated keys; keyring_data must be a file
// part. Every deviation is recorded (Violations) and every request too (Requests).
// Failures (409/503 with Retry-After, ...) can be queued. It is test support, not API.
package maastest

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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

// The stock boot source of a fresh MAAS.
const (
	StockImageURL        = "http://images.maas.io/ephemeral-v3/stable/"
	StockKeyringFilename = "/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg"
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
	catalogs    map[string][]Image // what each image URL serves, by URL without trailing slash
	catalogFunc func(url string) []Image
	cache       map[int][]Image // the boot source cache, by boot source id
	resources   []*BootResource
	repos       []*Repo
	config      map[string]any
	users       []User
	sshKeys     []SSHKey
	machines    []*Machine
	scripts     map[string][2][]string // commissioning and testing scripts MAAS read, by system_id
	zones       []Zone
	importPolls int
	importLeft  int
	importing   bool
	imports     int
	sessions    map[string]string // session id -> its CSRF token
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

// Repo is a package repository. Default marks main_archive and ports_archive (MAAS
// keeps the flag but does not show it).
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
	Default            bool     `json:"-"`
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

// newServer is the state of a MAAS just installed inside an air gap: one boot source at
// images.maas.io (unreachable, so its cache is empty and nothing is imported) with the
// jammy selection MAAS creates, jammy as commissioning and default release, the two
// default archives, an admin user, a default zone and two machines.
func newServer() *Server {
	s := &Server{
		now:      time.Now,
		nonces:   map[string]bool{},
		sessions: map[string]string{},
		catalogs: map[string][]Image{},
		cache:    map[int][]Image{},
		scripts:  map[string][2][]string{},
		nextID:   1,
		config: map[string]any{
			"maas_name": "maas-fake", "upstream_dns": "", "http_proxy": "", "enable_http_proxy": true,
			"use_peer_proxy": false, "boot_images_auto_import": true, "boot_images_no_proxy": false,
			"commissioning_osystem": "ubuntu", "commissioning_distro_series": "jammy",
			"default_osystem": "ubuntu", "default_distro_series": "jammy",
			"ntp_servers": "ntp.ubuntu.com", "ntp_external_only": false,
			"enable_analytics": true, "release_notifications": true,
		},
	}
	src := &BootSource{ID: s.id(), URL: StockImageURL, KeyringFilename: StockKeyringFilename}
	src.ResourceURI = fmt.Sprintf("%sboot-sources/%d/", apiPrefix, src.ID)
	src.Created, src.Updated = s.stamp(), s.stamp()
	s.sources = append(s.sources, src)
	s.selections = append(s.selections, s.newSelection(src.ID, "ubuntu", "jammy", []string{"amd64"}, []string{"*"}, []string{"*"}))
	main := &Repo{ID: s.id(), Name: "main_archive", URL: "http://archive.ubuntu.com/ubuntu", Arches: mainArches}
	ports := &Repo{ID: s.id(), Name: "ports_archive", URL: "http://ports.ubuntu.com/ubuntu-ports", Arches: portsArches}
	for _, r := range []*Repo{main, ports} {
		r.Default, r.Enabled, r.DisableSources = true, true, true
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

// Start starts a fake MAAS over plain HTTP in the stock state (see the package doc).
// Close stops it.
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

// Scripts returns the commissioning and testing scripts MAAS understood from the last
// commission of a machine.
func (s *Server) Scripts(systemID string) (commissioning, testing []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.scripts[systemID]
	return sc[0], sc[1]
}

// Machine returns a copy of a machine.
func (s *Server) Machine(systemID string) (Machine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.machines, func(m *Machine) bool { return m.SystemID == systemID })
	if i < 0 {
		return Machine{}, false
	}
	return *s.machines[i], true
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
	if status, msg := s.authenticate(r, &req); status != 0 {
		s.requests = append(s.requests, req)
		http.Error(w, msg, status)
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fieldError(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string][]string{field: {msg}})
}

// plainError is how MAAS answers a ValidationError raised outside a form: 400 with the
// message as text.
func plainError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

func notFound(w http.ResponseWriter) {
	http.Error(w, "No matching object found", http.StatusNotFound)
}

func badOp(w http.ResponseWriter, req *Request) {
	http.Error(w, fmt.Sprintf("Unrecognised signature: method=%s op=%s", req.Method, req.Op), http.StatusBadRequest)
}

// pyList formats values as Python prints a list, as MAAS's messages quote them.
func pyList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + v + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
