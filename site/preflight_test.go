package site

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/rpm/rpmtest"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// counted records the paths of the requests an upstream answers.
type counted struct {
	h  http.Handler
	mu sync.Mutex
	r  []string
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.r = append(c.r, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

// take returns the requests so far and forgets them.
func (c *counted) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.r
	c.r = nil
	return out
}

// planSite is a site of every kind with signed indices or pages (apt, simplestreams,
// oci, pypi, rpm, helm) on local fakes whose requests are recorded, by kind.
func planSite(t *testing.T) (*Config, map[string]func() []string, *pgp.Signer) {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	require.NoError(t, os.MkdirAll(keys, 0o755))
	up := map[string]func() []string{}
	serve := func(kind string, h http.Handler) string {
		c := &counted{h: h}
		srv := httptest.NewServer(c)
		t.Cleanup(srv.Close)
		up[kind] = c.take
		return srv.URL
	}
	archive, err := pgp.GenerateKey("Apttest Archive Key", "", pgp.KeyOptions{})
	require.NoError(t, err)
	pub, err := archive.PublicKey(true)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(keys, "archive.asc"), pub, 0o644))
	repo, err := apttest.Build(apttest.Options{Suites: []string{"stable", "testing"}, Signer: archive, ByHash: true}, []apttest.Package{
		{Name: "hello", Version: "2.10-3", Depends: "libhello (>= 1.0)"}, {Name: "libhello", Version: "1.1-1"}, {Name: "unwanted", Version: "9.9-1"}})
	require.NoError(t, err)
	aptURL := serve("apt", apttest.NewServer(repo))

	streams, err := simplestreamstest.New(simplestreamstest.Options{})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(keys, "images.gpg"), streams.Keyring(), 0o644))
	streamsURL := serve("simplestreams", streams)

	reg, err := ocitest.Start()
	require.NoError(t, err)
	t.Cleanup(reg.Close)
	reg.Requests() // its filling
	up["oci"] = reg.Requests

	lib := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-lib", Version: "1.1"})
	app := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-app", Version: "1.0", RequiresDist: []string{"demo-lib>=1.1"}})
	pypiURL := serve("pypi", pypitest.New(pypitest.Project{Name: "demo-app", Dists: []pypitest.Dist{app}},
		pypitest.Project{Name: "demo-lib", Dists: []pypitest.Dist{lib}}))

	tree := rpmtest.Default(t)
	require.NoError(t, os.WriteFile(filepath.Join(keys, "RPM-GPG-KEY-test"), tree.Key, 0o644))
	rpmURL := serve("rpm", apttest.NewServer(&apttest.Repo{Files: tree.Files}))

	charts := helmtest.New(t)
	charts.Add(t, &helmtest.Chart{Name: "web", Version: "1.0.0"}, archive, true)
	up["helm"] = charts.Requests

	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), fmt.Appendf(nil, `
apt:
  - {name: debian, url: %[1]s, keyring: keys/archive.asc, suites: [stable, testing], components: [main], architectures: [amd64],
     filter: {packages: [hello], dependencies: true}}
simplestreams:
  - {name: maas, url: "%[2]s/", keyring: keys/images.gpg, filters: ["release~(jammy|noble)", "arch=amd64"], max: 1}
oci:
  - {name: k8s, images: ["%[3]s/library/alpine:3.19", "%[3]s/library/multi:1.0"], registries: [{host: "%[3]s", plain_http: true}]}
pypi:
  - {name: python, url: "%[4]s/simple/", requirements: ["demo-app>=1.0"]}
rpm:
  - {name: rocky9, url: "%[5]s/", repos: [BaseOS/x86_64/os, AppStream/x86_64/os], keyring: keys/RPM-GPG-KEY-test,
     filter: {packages: [httpd], dependencies: true}}
helm:
  - {name: charts, url: "%[6]s", keyring: keys/archive.asc, required: true, charts: [{name: web}]}
`, aptURL, streamsURL, reg.Host, pypiURL, rpmURL, charts.URL()))
	require.NoError(t, err)
	operator, err := pgp.GenerateKey("airgap operator", "", pgp.KeyOptions{})
	require.NoError(t, err)
	return cfg, up, operator
}

// payload reports whether a request fetches a payload (not an index, page or manifest).
func payload(kind, req string) bool {
	p := req[strings.Index(req, " ")+1:]
	switch kind {
	case "apt":
		return strings.Contains(p, "/pool/")
	case "simplestreams":
		return !strings.Contains(p, "/streams/")
	case "oci":
		return strings.Contains(p, "/blobs/")
	case "pypi":
		return strings.HasPrefix(p, "/files/") && !strings.HasSuffix(p, ".metadata")
	case "rpm":
		return strings.HasSuffix(p, ".rpm")
	case "helm":
		return !strings.HasSuffix(p, "/index.yaml")
	}
	panic(kind)
}

// The disk preflight runs inside each mirror's sync, on the plan of its own metadata
// round: a sync that would not fit fails before any payload request with nothing
// published, and a no-op sync sends each conditional request once (planning first, the
// old way, sent every one twice).
func TestSyncPreflightInsideTheSync(t *testing.T) {
	ctx := context.Background()
	cfg, up, operator := planSite(t)
	ms := cfg.Mirrors.All()
	s := store.NewMemory()
	env := cfg.Env(s, operator, nil)
	var freeAsked int
	disk := func(free int64) *DiskCheck {
		return NewDiskCheck(s, "/store", func(string) (int64, error) { freeAsked++; return free, nil }, nil)
	}

	// Too little room: each mirror is refused after its metadata, before its payload;
	// but a helm index gives no sizes, and an unknown size is not guessed: it goes on.
	err := env.SyncAll(ctx, ms, SyncOptions{Concurrency: 1, Disk: disk(MinMargin)})
	var se *SyncError
	require.ErrorAs(t, err, &se)
	assert.Len(t, se.Failed, len(ms)-1)
	assert.NotContains(t, se.Failed, "helm/charts")
	var ns *NoSpaceError
	require.ErrorAs(t, err, &ns, "the numbers are in the error")
	assert.Positive(t, ns.Need)
	assert.Equal(t, int64(MinMargin), ns.Free)
	assert.Equal(t, len(ms)-1, freeAsked, "free space read once per mirror that needs known bytes")
	for kind, take := range up {
		reqs := take()
		assert.NotEmpty(t, reqs, kind)
		for _, r := range reqs {
			assert.False(t, kind != "helm" && payload(kind, r), "%s: refused before its payload: %s", kind, r)
		}
	}
	for _, m := range ms {
		_, _, err := store.OpenPublished(ctx, s, Ref(m))
		if Ref(m) == "helm/charts" {
			assert.NoError(t, err, "published")
			continue
		}
		assert.ErrorIs(t, err, store.ErrNotFound, "%s: nothing published", Ref(m))
	}

	// Room enough: the same syncs publish.
	require.NoError(t, env.SyncAll(ctx, ms, SyncOptions{Disk: disk(1 << 50)}))
	for _, take := range up {
		take()
	}

	// A no-op sync with the preflight sends what one without it sends: one conditional
	// request per signed index or page.
	noop := func(opt SyncOptions) map[string][]string {
		require.NoError(t, env.SyncAll(ctx, ms, opt))
		out := map[string][]string{}
		for kind, take := range up {
			out[kind] = take()
		}
		return out
	}
	unchecked := noop(SyncOptions{})
	checked := noop(SyncOptions{Disk: disk(1 << 50)})
	for kind := range up {
		assert.ElementsMatch(t, unchecked[kind], checked[kind], kind)
	}
	assert.Equal(t, []string{"GET /dists/stable/InRelease", "GET /dists/testing/InRelease"}, sorted(checked["apt"]))
	assert.Equal(t, []string{"GET /simple/demo-app/", "GET /simple/demo-lib/"}, sorted(checked["pypi"]))
	assert.Equal(t, []string{"GET /AppStream/x86_64/os/repodata/repomd.xml", "GET /AppStream/x86_64/os/repodata/repomd.xml.asc",
		"GET /BaseOS/x86_64/os/repodata/repomd.xml", "GET /BaseOS/x86_64/os/repodata/repomd.xml.asc"}, sorted(checked["rpm"]))
	assert.Equal(t, []string{"GET /charts/index.yaml"}, checked["helm"])
	t.Logf("no-op sync, requests per upstream: %v", counts(checked))

	// Planning first (what the CLI did before) costs the metadata round again.
	_, err = env.PlanAll(ctx, ms)
	require.NoError(t, err)
	twice := noop(SyncOptions{})
	for kind := range up {
		assert.Greater(t, len(twice[kind]), len(checked[kind]), kind)
	}
	t.Logf("plan then no-op sync, requests per upstream: %v", counts(twice))
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func counts(m map[string][]string) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}
