package pypitest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airgapkit/airgap/pypi/pep508"
	"github.com/airgapkit/airgap/pypi/wheel"
)

// Dist is one distribution file a project offers.
type Dist struct {
	Filename       string
	Data           []byte
	RequiresPython string
	Yanked         bool
	YankedReason   string
	// Metadata is the core metadata served as "<file>.metadata"; nil: none advertised.
	Metadata []byte
	// MetadataMissing advertises the .metadata file but answers 404 for it.
	MetadataMissing bool
	// WrongHash advertises a sha256 that does not match Data.
	WrongHash bool
	// WrongMetadataHash advertises a sha256 for the .metadata file that does not match.
	WrongMetadataHash bool
}

// Project is one project of the index.
type Project struct {
	Name  string
	Dists []Dist
	// MalformedPage replaces the project page body with this text.
	MalformedPage string
}

// Upstream is an http.Handler serving a set of projects under /simple/ and /files/.
type Upstream struct {
	// Format forces "json" or "html" pages; "" negotiates with Accept.
	Format string
	// User and Password, when set, are required as HTTP basic credentials on every
	// request, as a private devpi or Artifactory index asks (401 with a Basic challenge
	// otherwise).
	User, Password string
	// FilesBase, when set ("http://host:port"), makes file links absolute URLs on that
	// base, as pypi.org links files.pythonhosted.org and devpi links its own host.
	FilesBase string
	// RedirectFiles, when set to a base URL, answers file requests with a 302 to
	// <base><path>.
	RedirectFiles string

	mu       sync.RWMutex
	projects map[string]*Project
	pages    atomic.Int64
	files    atomic.Int64
	metas    atomic.Int64
	notMod   atomic.Int64
}

// New returns an index serving projects.
func New(projects ...Project) *Upstream {
	u := &Upstream{projects: map[string]*Project{}}
	for _, p := range projects {
		u.Add(p)
	}
	return u
}

// Add adds or replaces a project.
func (u *Upstream) Add(p Project) {
	u.mu.Lock()
	defer u.mu.Unlock()
	cp := p
	u.projects[pep508.NormalizeName(p.Name)] = &cp
}

// Update changes a project in place (e.g. to add a version or yank one).
func (u *Upstream) Update(name string, fn func(*Project)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p := u.projects[pep508.NormalizeName(name)]; p != nil {
		fn(p)
	}
}

// Requests reports how many page, distribution file and metadata file requests were
// answered with a body, and how many pages got 304 Not Modified.
func (u *Upstream) Requests() (pages, files, metadata, notModified int64) {
	return u.pages.Load(), u.files.Load(), u.metas.Load(), u.notMod.Load()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var zeroTime = time.Time{}

// ServeHTTP answers /simple/<name>/, /files/<name>/<file> and /files/<name>/<file>.metadata.
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u.User != "" {
		if user, pw, ok := r.BasicAuth(); !ok || user != u.User || pw != u.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="pypitest"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
	}
	p := r.URL.Path
	if u.RedirectFiles != "" && strings.HasPrefix(p, "/files/") {
		http.Redirect(w, r, u.RedirectFiles+p, http.StatusFound)
		return
	}
	switch {
	case strings.HasPrefix(p, "/simple/"):
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/simple/"), "/")
		u.servePage(w, r, name)
	case strings.HasPrefix(p, "/files/"):
		parts := strings.Split(strings.TrimPrefix(p, "/files/"), "/")
		if len(parts) != 2 {
			http.NotFound(w, r)
			return
		}
		u.serveFile(w, r, parts[0], parts[1])
	default:
		http.NotFound(w, r)
	}
}

func (u *Upstream) project(name string) *Project {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.projects[pep508.NormalizeName(name)]
}

func (u *Upstream) servePage(w http.ResponseWriter, r *http.Request, name string) {
	proj := u.project(name)
	if proj == nil || pep508.NormalizeName(name) != name {
		http.NotFound(w, r)
		return
	}
	useJSON := u.Format == "json" || (u.Format == "" && strings.Contains(r.Header.Get("Accept"), "application/vnd.pypi.simple.v1+json"))
	var body []byte
	var ct string
	if useJSON {
		body, ct = u.pageJSON(proj), "application/vnd.pypi.simple.v1+json"
	} else {
		body, ct = u.pageHTML(proj), "text/html; charset=utf-8"
	}
	if proj.MalformedPage != "" {
		body = []byte(proj.MalformedPage)
	}
	etag := `"` + sha(body)[:16] + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Vary", "Accept")
	if r.Header.Get("If-None-Match") == etag {
		u.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	u.pages.Add(1)
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(body)
}

func (u *Upstream) hash(d Dist) string {
	if d.WrongHash {
		return sha(append([]byte("wrong"), d.Data...))
	}
	return sha(d.Data)
}

func metaHash(d Dist) string {
	if d.WrongMetadataHash {
		return sha(append([]byte("wrong"), d.Metadata...))
	}
	return sha(d.Metadata)
}

// pageJSON uses relative URLs, as PEP 691 allows (absolute ones with FilesBase).
func (u *Upstream) pageJSON(p *Project) []byte {
	type file struct {
		Filename       string            `json:"filename"`
		URL            string            `json:"url"`
		Hashes         map[string]string `json:"hashes"`
		RequiresPython *string           `json:"requires-python,omitempty"`
		Yanked         any               `json:"yanked,omitempty"`
		CoreMetadata   any               `json:"core-metadata,omitempty"`
		Size           int               `json:"size"`
	}
	norm := pep508.NormalizeName(p.Name)
	out := struct {
		Meta  map[string]string `json:"meta"`
		Name  string            `json:"name"`
		Files []file            `json:"files"`
	}{Meta: map[string]string{"api-version": "1.1"}, Name: norm, Files: []file{}}
	for _, d := range p.Dists {
		link := "../../files/" + norm + "/" + d.Filename
		if u.FilesBase != "" {
			link = u.FilesBase + "/files/" + norm + "/" + d.Filename
		}
		f := file{Filename: d.Filename, URL: link,
			Hashes: map[string]string{"sha256": u.hash(d)}, Size: len(d.Data)}
		if d.RequiresPython != "" {
			rp := d.RequiresPython
			f.RequiresPython = &rp
		}
		if d.Yanked {
			f.Yanked = true
			if d.YankedReason != "" {
				f.Yanked = d.YankedReason
			}
		}
		if d.Metadata != nil {
			f.CoreMetadata = map[string]string{"sha256": metaHash(d)}
		}
		out.Files = append(out.Files, f)
	}
	b, _ := json.Marshal(out)
	return b
}

// pageHTML uses absolute-path URLs (absolute ones with FilesBase) and the legacy
// data-dist-info-metadata attribute alongside the PEP 714 one, as older indexes do.
func (u *Upstream) pageHTML(p *Project) []byte {
	norm := pep508.NormalizeName(p.Name)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for " + norm + "</title></head><body>\n")
	for _, d := range p.Dists {
		fmt.Fprintf(&b, `<a href="%s/files/%s/%s#sha256=%s"`, u.FilesBase, norm, d.Filename, u.hash(d))
		if d.RequiresPython != "" {
			fmt.Fprintf(&b, ` data-requires-python="%s"`, html.EscapeString(d.RequiresPython))
		}
		if d.Yanked {
			fmt.Fprintf(&b, ` data-yanked="%s"`, html.EscapeString(d.YankedReason))
		}
		if d.Metadata != nil {
			fmt.Fprintf(&b, ` data-dist-info-metadata="sha256=%s" data-core-metadata="sha256=%s"`, metaHash(d), metaHash(d))
		}
		fmt.Fprintf(&b, ">%s</a><br/>\n", html.EscapeString(d.Filename))
	}
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}

func (u *Upstream) serveFile(w http.ResponseWriter, r *http.Request, name, filename string) {
	proj := u.project(name)
	if proj == nil {
		http.NotFound(w, r)
		return
	}
	base, isMeta := strings.CutSuffix(filename, ".metadata")
	for _, d := range proj.Dists {
		if d.Filename != base {
			continue
		}
		if isMeta {
			if d.Metadata == nil || d.MetadataMissing {
				break
			}
			u.metas.Add(1)
			http.ServeContent(w, r, filename, zeroTime, bytes.NewReader(d.Metadata))
			return
		}
		u.files.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, filename, zeroTime, bytes.NewReader(d.Data))
		return
	}
	http.NotFound(w, r)
}

// WheelSpec describes a wheel to generate.
type WheelSpec struct {
	Name, Version string
	// Tag is the compatibility tag, default "py3-none-any".
	Tag            string
	RequiresPython string
	RequiresDist   []string
	ProvidesExtra  []string
	// NoMetadataFile leaves the .metadata file unadvertised (pip then reads the wheel).
	NoMetadataFile bool
}

var fixedTime = time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)

// CoreMetadata renders the METADATA text for spec.
func CoreMetadata(spec WheelSpec, metadataVersion string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Metadata-Version: %s\nName: %s\nVersion: %s\nSummary: generated test distribution\n", metadataVersion, spec.Name, spec.Version)
	if spec.RequiresPython != "" {
		fmt.Fprintf(&b, "Requires-Python: %s\n", spec.RequiresPython)
	}
	for _, e := range spec.ProvidesExtra {
		fmt.Fprintf(&b, "Provides-Extra: %s\n", e)
	}
	for _, r := range spec.RequiresDist {
		fmt.Fprintf(&b, "Requires-Dist: %s\n", r)
	}
	b.WriteString("\nGenerated by airgap's pypitest.\n")
	return []byte(b.String())
}

func escapeName(name string) string { return strings.ReplaceAll(pep508.NormalizeName(name), "-", "_") }

// BuildWheel generates a valid, installable wheel: a module named after the project,
// METADATA, WHEEL and a RECORD with sha256 hashes. The result is deterministic.
func BuildWheel(spec WheelSpec) Dist {
	tag := spec.Tag
	if tag == "" {
		tag = "py3-none-any"
	}
	mod := escapeName(spec.Name)
	distInfo := fmt.Sprintf("%s-%s.dist-info", mod, spec.Version)
	meta := CoreMetadata(spec, "2.1")
	files := []struct {
		name string
		body []byte
	}{
		{mod + "/__init__.py", []byte(fmt.Sprintf("__version__ = %q\n", spec.Version))},
		{distInfo + "/METADATA", meta},
		{distInfo + "/WHEEL", []byte("Wheel-Version: 1.0\nGenerator: airgap-pypitest\nRoot-Is-Purelib: true\nTag: " + tag + "\n")},
	}
	var record strings.Builder
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, body []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fixedTime})
		if err != nil {
			panic(err)
		}
		_, _ = w.Write(body)
	}
	for _, f := range files {
		add(f.name, f.body)
		h := sha256.Sum256(f.body)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(h[:]), len(f.body))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", distInfo)
	add(distInfo+"/RECORD", []byte(record.String()))
	if err := zw.Close(); err != nil {
		panic(err)
	}
	d := Dist{
		Filename:       fmt.Sprintf("%s-%s-%s.whl", mod, spec.Version, tag),
		Data:           buf.Bytes(),
		RequiresPython: spec.RequiresPython,
	}
	if !spec.NoMetadataFile {
		d.Metadata = meta
	}
	return d
}

// BuildSdist generates a .tar.gz source distribution whose PKG-INFO (Metadata-Version 2.2)
// declares the dependencies statically.
func BuildSdist(spec WheelSpec) Dist {
	root := fmt.Sprintf("%s-%s", escapeName(spec.Name), spec.Version)
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	gz.ModTime = fixedTime
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		body []byte
	}{
		{root + "/PKG-INFO", CoreMetadata(spec, "2.2")},
		{root + "/pyproject.toml", []byte("[build-system]\nrequires = []\n")},
	} {
		_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: fixedTime, Typeflag: tar.TypeReg})
		_, _ = tw.Write(f.body)
	}
	_ = tw.Close()
	_ = gz.Close()
	return Dist{Filename: root + ".tar.gz", Data: buf.Bytes(), RequiresPython: spec.RequiresPython}
}

// RealWheels reads every .whl in dir (e.g. /usr/share/python-wheels, where Debian's
// python3-pip-whl and python3-setuptools-whl put pip and setuptools) into projects, with
// their METADATA advertised as PEP 658 files.
func RealWheels(dir string) ([]Project, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.whl"))
	if err != nil {
		return nil, err
	}
	byName := map[string]*Project{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		fn := filepath.Base(p)
		w, err := wheel.ParseFilename(fn)
		if err != nil {
			return nil, err
		}
		name := pep508.NormalizeName(w.Name)
		meta, err := wheel.ReadMetadata(bytes.NewReader(data), int64(len(data)), name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		proj := byName[name]
		if proj == nil {
			proj = &Project{Name: name}
			byName[name] = proj
		}
		proj.Dists = append(proj.Dists, Dist{Filename: fn, Data: data, Metadata: meta, RequiresPython: requiresPython(meta)})
	}
	var out []Project
	for _, p := range byName {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func requiresPython(meta []byte) string {
	for _, line := range strings.Split(string(meta), "\n") {
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Requires-Python:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Closure generates n projects "gen-0" ... "gen-<n-1>", each with versions 1.0 and 2.0;
// project i's 2.0 requires gen-(2i+1)[all] behind a marker that holds on Linux and
// gen-(2i+2)[all] through its extra "all", so that resolving "gen-0[all]" for a Linux
// target reaches all n. Every file is a real wheel.
func Closure(n int) []Project {
	out := make([]Project, 0, n)
	for i := range n {
		name := fmt.Sprintf("gen-%d", i)
		var deps []string
		var extras []string
		if c := 2*i + 1; c < n {
			deps = append(deps, fmt.Sprintf("gen-%d[all]>=1.0; sys_platform == \"linux\"", c))
		}
		if c := 2*i + 2; c < n {
			deps = append(deps, fmt.Sprintf("gen-%d[all]>=2.0; extra == \"all\"", c))
			extras = append(extras, "all")
		}
		p := Project{Name: name}
		p.Dists = append(p.Dists,
			BuildWheel(WheelSpec{Name: name, Version: "1.0"}),
			BuildWheel(WheelSpec{Name: name, Version: "2.0", RequiresDist: deps, ProvidesExtra: extras, RequiresPython: ">=3.8"}))
		out = append(out, p)
	}
	return out
}
