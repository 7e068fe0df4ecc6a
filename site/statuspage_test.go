package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page's screenshot to docs/status.png")

// statusSite syncs one mirror of apt (re-signed, and pristine with a Valid-Until 5 hours
// away), pypi, oci, galaxy and files from the local fakes into a store, plus a files
// mirror whose upstream is down, and returns the config, the store and the sync's error.
func statusSite(t testing.TB) (*Config, store.Store, error) {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	require.NoError(t, os.MkdirAll(keys, 0o755))
	archive, err := pgp.GenerateKey("Apttest Archive Key", "", pgp.KeyOptions{})
	require.NoError(t, err)
	pub, err := archive.PublicKey(true)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(keys, "archive.asc"), pub, 0o644))
	pkgs := []apttest.Package{
		{Name: "hello", Version: "2.10-3", Depends: "libhello (>= 1.0)", Description: "the classic greeting"},
		{Name: "libhello", Version: "1.1-1", Section: "libs"},
		{Name: "unwanted", Version: "9.9-1"},
	}
	repo, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: archive, ByHash: true}, pkgs)
	require.NoError(t, err)
	aptUp := httptest.NewServer(apttest.NewServer(repo))
	t.Cleanup(aptUp.Close)
	shortRepo, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: archive, ValidFor: 6 * time.Hour}, pkgs[:2])
	require.NoError(t, err)
	shortUp := httptest.NewServer(apttest.NewServer(shortRepo))
	t.Cleanup(shortUp.Close)

	lib := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-lib", Version: "1.1"})
	app := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-app", Version: "1.0", RequiresDist: []string{"demo-lib>=1.1"}})
	pypiUp := httptest.NewServer(pypitest.New(
		pypitest.Project{Name: "demo-app", Dists: []pypitest.Dist{app}},
		pypitest.Project{Name: "demo-lib", Dists: []pypitest.Dist{lib}}))
	t.Cleanup(pypiUp.Close)

	reg, err := ocitest.Start()
	require.NoError(t, err)
	t.Cleanup(reg.Close)

	gal := galaxytest.New(galaxytest.Options{})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "base", Version: "1.0.0"})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "tools", Version: "1.1.0", Dependencies: map[string]string{"demo.base": ">=1.0.0"}})
	galURL, stop := gal.Start()
	t.Cleanup(stop)

	notes := []byte("Carried across the gap.\n")
	file := filepath.Join(dir, "install-notes.txt")
	require.NoError(t, os.WriteFile(file, notes, 0o644))

	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), fmt.Appendf(nil, `
apt:
  - {name: debian, url: %[1]s, keyring: keys/archive.asc, suites: [stable], components: [main], architectures: [amd64],
     filter: {packages: [hello], dependencies: true}}
  - {name: short, url: %[2]s, keyring: keys/archive.asc, suites: [stable], components: [main], architectures: [amd64], pristine: true}
oci:
  - {name: k8s, images: ["%[3]s/library/alpine:3.19"], registries: [{host: "%[3]s", plain_http: true}]}
pypi:
  - {name: python, url: "%[4]s/simple/", requirements: ["demo-app>=1.0"]}
galaxy:
  - {name: ansible, url: "%[5]s", collections: [{name: demo.tools}]}
files:
  - {name: tools, urls: ["%[6]s?checksum=sha256:%[7]x"]}
  - {name: dead, urls: ["http://%[8]s/gone.tgz?checksum=sha256:%064[9]d"]}
hosts:
  deb.debian.org: apt/debian
`, aptUp.URL, shortUp.URL, reg.Host, pypiUp.URL, galURL, file, sha256.Sum256(notes), closedPort(t), 0))
	require.NoError(t, err)
	s, err := store.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	operator, err := pgp.GenerateKey("airgap operator", "", pgp.KeyOptions{})
	require.NoError(t, err)
	return cfg, s, cfg.Env(s, operator, nil).SyncAll(context.Background(), cfg.Mirrors.All(), SyncOptions{})
}

// chromium runs headless Chromium with args and the page at url. It is kept off every
// network but loopback: its own services are switched off, and a proxy that does not
// exist takes anything that is not for 127.0.0.1.
func chromium(t *testing.T, bin, url string, args ...string) string {
	t.Helper()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir(),
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--disable-breakpad", "--no-pings", "--disable-domain-reliability",
		"--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.0.0.1"}
	return testutil.Output(t, 2*time.Minute, nil, bin, append(append(base, args...), url)...)
}

// The status page at / as a browser renders it lists every mirror with its figures, says
// which need attention, and gives snippets that work when pasted: the apt ones drive
// the real apt-get.
func TestStatusPageInChromium(t *testing.T) {
	bin := testutil.RequireBinary(t, "chromium", "chromium")
	testutil.RequireBinary(t, "apt-get", "apt")
	testutil.RequireBinary(t, "curl", "curl")
	cfg, s, syncErr := statusSite(t)
	var se *SyncError
	require.ErrorAs(t, syncErr, &se)
	require.Len(t, se.Failed, 1, "only the dead upstream fails: %v", syncErr)
	srv := httptest.NewServer(NewServer(cfg, cfg.Env(s, nil, nil)))
	defer srv.Close()

	// The figures the page must show, from /status.json (the same report).
	resp, err := http.Get(srv.URL + "/status.json")
	require.NoError(t, err)
	var rep StatusReport
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	resp.Body.Close()
	want := map[string]MirrorStatus{}
	for _, m := range rep.Mirrors {
		want[m.Ref] = m
	}
	require.Len(t, want, len(cfg.Mirrors.All()), "every configured mirror, and not the sync record")

	dom := chromium(t, bin, srv.URL+"/", "--dump-dom")
	doc, err := html.Parse(strings.NewReader(dom))
	require.NoError(t, err)
	sections := map[string]*html.Node{}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "section" && attr(n, "data-ref") != "" {
			sections[attr(n, "data-ref")] = n
		}
	}
	for ref, st := range want {
		sec := sections[ref]
		require.NotNil(t, sec, "%s has a section", ref)
		if ref == "files/dead" {
			assert.Contains(t, attr(sec, "class"), "alarm", "a failed sync is red")
			assert.Contains(t, text(sec), "failed (network)")
			continue
		}
		require.False(t, st.Published.IsZero(), ref)
		assert.Positive(t, st.Items, ref)
		assert.Equal(t, fmt.Sprintf("%d items", st.Items), field(sec, "items"), ref)
		assert.Equal(t, fmt.Sprintf("%d files", st.Files), field(sec, "files"), ref)
		assert.Equal(t, HumanBytes(st.Bytes), field(sec, "bytes"), ref)
		assert.Contains(t, text(sec), st.Upstreams[0], ref)
		assert.Contains(t, text(sec), "ok ", "%s: last sync", ref)
		assert.NotEmpty(t, snippets(sec), "%s has snippets", ref)
	}
	assert.ElementsMatch(t, []string{"apt/debian", "apt/short", "files/dead", "files/tools", "galaxy/ansible", "oci/k8s", "pypi/python"}, slices.Collect(maps.Keys(sections)))
	short := want["apt/short"]
	assert.True(t, short.ExpiresSoon)
	assert.Equal(t, "upstream", short.SignedBy.By)
	assert.Contains(t, attr(sections["apt/short"], "class"), "alarm", "under a day left is red")
	assert.NotContains(t, attr(sections["apt/debian"], "class"), "alarm")
	assert.Equal(t, "operator", want["apt/debian"].SignedBy.By)
	assert.Contains(t, text(sections["apt/debian"]), want["apt/debian"].SignedBy.Fingerprints[0], "the operator key's fingerprint")
	assert.Contains(t, snippets(sections["pypi/python"])["pip"], "index-url = "+srv.URL+"/pypi/python/simple/")
	assert.Contains(t, snippets(sections["oci/k8s"])["containerd: "+reg(t, want["oci/k8s"])], `override_path = true`)
	assert.Contains(t, dom, "127.0.0.1\tdeb.debian.org", "the DNS lines for hosts:")

	// The apt snippets, as pasted: only the keyring directory moves into the test's
	// apt root (the test leaves the host's /etc alone).
	aptDir := t.TempDir()
	keyrings := filepath.Join(aptDir, "keyrings")
	sn := snippets(sections["apt/debian"])
	keyCmd, sources := sn["apt: the operator key for signed-by"], sn["apt sources"]
	require.NotEmpty(t, keyCmd)
	require.Contains(t, sources, "deb [signed-by=/etc/apt/keyrings/airgap-debian.asc] "+srv.URL+"/apt/debian/ stable main")
	keyCmd = strings.ReplaceAll(keyCmd, "/etc/apt/keyrings", keyrings)
	sources = strings.ReplaceAll(sources, "/etc/apt/keyrings", keyrings)
	testutil.Run(t, time.Minute, nil, "sh", "-c", keyCmd)
	env, err := apttest.ClientConfig(aptDir, sources)
	require.NoError(t, err)
	out := testutil.Run(t, 2*time.Minute, env, "apt-get", "update")
	assert.NotContains(t, out, "W: ")
	assert.NotContains(t, out, "Err:")
	testutil.Run(t, 2*time.Minute, env, "apt-get", "install", "--download-only", "-y", "hello")
	debs, err := filepath.Glob(filepath.Join(aptDir, "cache/archives/*.deb"))
	require.NoError(t, err)
	assert.Len(t, debs, 2, "hello and the libhello it depends on, from the mirror")

	png := filepath.Join(t.TempDir(), "status.png")
	chromium(t, bin, srv.URL+"/", "--screenshot="+png, "--window-size=1100,2600", "--hide-scrollbars")
	b, err := os.ReadFile(png)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")), "a PNG")
	if *updateScreenshot {
		require.NoError(t, os.WriteFile(filepath.Join("..", "docs", "status.png"), b, 0o644))
	}
}

// reg is the upstream registry of the oci mirror's one image.
func reg(t *testing.T, st MirrorStatus) string {
	t.Helper()
	require.NotEmpty(t, st.Snippets)
	return strings.TrimPrefix(st.Snippets[0].Title, "containerd: ")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text is the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// field is the text of the element below n with data-field=name.
func field(n *html.Node, name string) string {
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && attr(d, "data-field") == name {
			return text(d)
		}
	}
	return ""
}

// snippets maps each snippet's title to its text, as the browser shows it.
func snippets(n *html.Node) map[string]string {
	out := map[string]string{}
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == "pre" && attr(d, "class") == "snippet" {
			out[attr(d, "data-title")] = text(d)
		}
	}
	return out
}

// BenchmarkStatusPage renders / of the seven-mirror site (the inventories are read once
// per generation, then remembered).
func BenchmarkStatusPage(b *testing.B) {
	cfg, s, _ := statusSite(b)
	srv := httptest.NewServer(NewServer(cfg, cfg.Env(s, nil, nil)))
	defer srv.Close()
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(srv.URL + "/")
		if err != nil {
			b.Fatal(err)
		}
		size, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(size), "page-bytes")
}
