package helmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/store/pgp"
)

// Chart describes one chart version to serve.
type Chart struct {
	Name, Version string
	// Dependencies are Chart.yaml's dependencies (name, version, repository).
	Dependencies []map[string]string
	// Vendored are subcharts packed under charts/ (their own archives).
	Vendored []*Chart
	// ChartYAMLName and ChartYAMLVersion, when set, are written into the archive's
	// Chart.yaml instead of Name and Version (a chart that lies about itself).
	ChartYAMLName, ChartYAMLVersion string
	// Image is the image the chart's Deployment runs.
	Image string
}

type entry struct {
	c         *Chart
	tgz, prov []byte
	digest    string // what the index lists
	remote    bool
}

// Repo is a running fake repository: Index serves index.yaml, Assets the archives the
// index names with absolute URLs.
type Repo struct {
	Index, Assets *httptest.Server
	// NoValidators answers without ETag (and ignores If-None-Match), as some servers do.
	NoValidators bool

	mu       sync.Mutex
	entries  map[string]*entry // by file name
	gets     map[string]int
	requests []string
}

// New starts a repository on 127.0.0.1 (two servers), closed with the test.
func New(t testing.TB) *Repo {
	r := &Repo{entries: map[string]*entry{}, gets: map[string]int{}}
	r.Index = httptest.NewServer(http.HandlerFunc(r.serveIndex))
	r.Assets = httptest.NewServer(http.HandlerFunc(r.serveAsset))
	t.Cleanup(r.Index.Close)
	t.Cleanup(r.Assets.Close)
	return r
}

// URL is the repository URL (what `helm repo add` takes).
func (r *Repo) URL() string { return r.Index.URL + "/charts" }

// File is a chart version's archive name.
func File(name, version string) string { return name + "-" + version + ".tgz" }

// Add packages c and serves it; signer, when not nil, signs a .prov for it; remote puts
// the archive (and .prov) on the Assets server with an absolute URL.
func (r *Repo) Add(t testing.TB, c *Chart, signer *pgp.Signer, remote bool) {
	t.Helper()
	tgz, err := Package(c)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tgz)
	e := &entry{c: c, tgz: tgz, digest: hex.EncodeToString(sum[:]), remote: remote}
	if signer != nil {
		if e.prov, err = Prov(c, File(c.Name, c.Version), tgz, signer); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	r.entries[File(c.Name, c.Version)] = e
	r.mu.Unlock()
}

// Tamper replaces the archive served for name-version (after signing; the index keeps
// the old digest unless keepDigest is false).
func (r *Repo) Tamper(name, version string, tgz []byte, keepDigest bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[File(name, version)]
	e.tgz = tgz
	if !keepDigest {
		sum := sha256.Sum256(tgz)
		e.digest = hex.EncodeToString(sum[:])
	}
}

// SetProv replaces the .prov served for name-version.
func (r *Repo) SetProv(name, version string, prov []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[File(name, version)].prov = prov
}

// Requests returns the "METHOD path" of every request either server answered so far
// and forgets them.
func (r *Repo) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.requests
	r.requests = nil
	return out
}

// Gets counts the GETs of a path (index.yaml or an archive's file name).
func (r *Repo) Gets(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gets[name]
}

func (r *Repo) indexYAML() []byte { return indexYAML(r.entries, r.Assets.URL) }

// indexYAML writes the index of entries (by file name) as `helm repo index` does, remote
// ones with absolute URLs below assets.
func indexYAML(es map[string]*entry, assets string) []byte {
	entries := map[string][]map[string]any{}
	for file, e := range es {
		u := file
		if e.remote {
			u = assets + "/releases/download/" + e.c.Name + "-" + e.c.Version + "/" + file
		}
		m := map[string]any{
			"apiVersion": "v2", "name": e.c.Name, "version": e.c.Version, "urls": []string{u},
			"digest": e.digest, "created": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339Nano),
			"description": "test chart " + e.c.Name, "appVersion": "1.0",
			"annotations": map[string]string{"artifacthub.io/license": "Apache-2.0"},
		}
		if len(e.c.Dependencies) > 0 {
			m["dependencies"] = e.c.Dependencies
		}
		entries[e.c.Name] = append(entries[e.c.Name], m)
	}
	for _, l := range entries { // newest first, as helm repo index writes
		sort.Slice(l, func(i, j int) bool { return l[i]["version"].(string) > l[j]["version"].(string) })
	}
	b, _ := yaml.Marshal(map[string]any{"apiVersion": "v1", "entries": entries, "generated": "2026-01-02T03:04:05Z", "serverInfo": map[string]string{"contextPath": "/charts"}})
	return b
}

// Static builds a repository as files to serve from a directory (index.yaml with
// relative URLs, the archives and, with a signer, their .prov files): for benchmarks.
func Static(charts []*Chart, signer *pgp.Signer) (map[string][]byte, error) {
	files := map[string][]byte{}
	es := map[string]*entry{}
	for _, c := range charts {
		tgz, err := Package(c)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(tgz)
		f := File(c.Name, c.Version)
		es[f] = &entry{c: c, tgz: tgz, digest: hex.EncodeToString(sum[:])}
		files[f] = tgz
		if signer != nil {
			if files[f+".prov"], err = Prov(c, f, tgz, signer); err != nil {
				return nil, err
			}
		}
	}
	files["index.yaml"] = indexYAML(es, "")
	return files, nil
}

func (r *Repo) serveIndex(w http.ResponseWriter, req *http.Request) {
	p, ok := strings.CutPrefix(req.URL.Path, "/charts/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	r.serve(w, req, p, false)
}

func (r *Repo) serveAsset(w http.ResponseWriter, req *http.Request) {
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/releases/download/"), "/")
	if len(parts) != 2 || !strings.HasPrefix(req.URL.Path, "/releases/download/") {
		http.NotFound(w, req)
		return
	}
	r.serve(w, req, parts[1], true)
}

func (r *Repo) serve(w http.ResponseWriter, req *http.Request, name string, remote bool) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.mu.Lock()
	r.gets[name]++
	r.requests = append(r.requests, req.Method+" "+req.URL.Path)
	var body []byte
	if name == "index.yaml" && !remote {
		body = r.indexYAML()
	} else if e, ok := r.entries[strings.TrimSuffix(name, ".prov")]; ok && e.remote == remote {
		body = e.tgz
		if strings.HasSuffix(name, ".prov") {
			body = e.prov
		}
	}
	r.mu.Unlock()
	if body == nil {
		http.NotFound(w, req)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	if r.NoValidators {
		etag = ""
	} else {
		w.Header().Set("ETag", etag)
	}
	if etag != "" && req.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(body))
}

// chartYAML is the archive's Chart.yaml.
func chartYAML(c *Chart) []byte {
	b, _ := yaml.Marshal(chartMeta(c))
	return b
}

// ChartJSON is the chart's Chart.yaml as JSON: the config blob of the chart's OCI
// manifest (helm push writes it so).
func ChartJSON(c *Chart) []byte {
	b, _ := json.Marshal(chartMeta(c))
	return b
}

func chartMeta(c *Chart) map[string]any {
	name, version := c.Name, c.Version
	if c.ChartYAMLName != "" {
		name = c.ChartYAMLName
	}
	if c.ChartYAMLVersion != "" {
		version = c.ChartYAMLVersion
	}
	m := map[string]any{"apiVersion": "v2", "name": name, "version": version, "description": "test chart " + c.Name, "appVersion": "1.0", "type": "application"}
	if len(c.Dependencies) > 0 {
		m["dependencies"] = c.Dependencies
	}
	return m
}

// Package builds the chart archive as `helm package` lays it out.
func Package(c *Chart) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: c.Name + "/" + name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	image := c.Image
	if image == "" {
		image = "registry.example/" + c.Name + ":" + c.Version
	}
	files := map[string][]byte{
		"Chart.yaml":  chartYAML(c),
		"values.yaml": fmt.Appendf(nil, "image: %s\nreplicas: 1\n", image),
		"templates/deployment.yaml": []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-` + c.Name + `
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: main
          image: {{ .Values.image | quote }}
`),
	}
	for _, v := range c.Vendored {
		b, err := Package(v)
		if err != nil {
			return nil, err
		}
		files["charts/"+File(v.Name, v.Version)] = b
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := add(n, files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Prov writes the .prov `helm package --sign` writes: the chart's Chart.yaml, a "..."
// line, then files: {<file>: sha256:<hex>}, clearsigned.
func Prov(c *Chart, file string, tgz []byte, signer *pgp.Signer) ([]byte, error) {
	sum := sha256.Sum256(tgz)
	files, _ := yaml.Marshal(map[string]any{"files": map[string]string{file: "sha256:" + hex.EncodeToString(sum[:])}})
	body := append(append(chartYAML(c), "\n...\n"...), files...)
	return signer.Clearsign(body)
}
