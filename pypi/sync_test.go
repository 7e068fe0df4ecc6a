package pypi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/airgapkit/airgap/pypi/simple"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

var (
	linux311 = wheel.Target{Python: "3.11", Platform: "manylinux_2_28_x86_64"}
	linux313 = wheel.Target{Python: "3.13", Platform: "manylinux_2_28_x86_64"}
)

func w(name, version string, deps ...string) pypitest.Dist {
	return pypitest.BuildWheel(pypitest.WheelSpec{Name: name, Version: version, RequiresDist: deps})
}

// demoProjects is the generated part of the test index: dependencies behind markers and
// extras, a cycle, yanked and pre-release versions, Requires-Python, platform wheels, and
// metadata served three ways (PEP 658 file, none, advertised but 404).
func demoProjects() []pypitest.Project {
	app2 := pypitest.BuildWheel(pypitest.WheelSpec{Name: "app", Version: "2.0", ProvidesExtra: []string{"extra"}, RequiresDist: []string{
		"lib>=1.0",
		"newpy",
		`winonly; sys_platform == "win32"`,
		`old-py; python_version < "3.8"`,
		`Extra_Dep; extra == "extra"`,
	}})
	lib2 := w("lib", "2.0")
	lib2.Yanked, lib2.YankedReason = true, "broken <build>"
	pinned15 := w("pinned", "1.5")
	pinned15.Yanked = true
	nometa := pypitest.BuildWheel(pypitest.WheelSpec{Name: "nometa", Version: "1.0", NoMetadataFile: true})
	missing := w("missingmeta", "1.0")
	missing.MetadataMissing = true
	newpy2 := pypitest.BuildWheel(pypitest.WheelSpec{Name: "newpy", Version: "2.0", RequiresPython: ">=3.12"})
	return []pypitest.Project{
		{Name: "app", Dists: []pypitest.Dist{w("app", "1.0"), app2}},
		{Name: "lib", Dists: []pypitest.Dist{w("lib", "1.0"), w("lib", "1.1", "cyc-a", "nometa", "missingmeta"), lib2, w("lib", "3.0rc1")}},
		{Name: "cyc-a", Dists: []pypitest.Dist{w("cyc-a", "1.0", "cyc-b>=1")}},
		{Name: "cyc-b", Dists: []pypitest.Dist{w("cyc-b", "1.0", "Cyc_A")}},
		{Name: "newpy", Dists: []pypitest.Dist{w("newpy", "1.0"), newpy2}},
		{Name: "winonly", Dists: []pypitest.Dist{pypitest.BuildWheel(pypitest.WheelSpec{Name: "winonly", Version: "1.0", Tag: "cp311-cp311-win_amd64"})}},
		{Name: "extra-dep", Dists: []pypitest.Dist{w("extra-dep", "1.0")}},
		{Name: "nometa", Dists: []pypitest.Dist{nometa}},
		{Name: "missingmeta", Dists: []pypitest.Dist{missing}},
		{Name: "pinned", Dists: []pypitest.Dist{w("pinned", "1.0"), pinned15}},
		{Name: "plat", Dists: []pypitest.Dist{
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "plat", Version: "1.0", Tag: "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"}),
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "plat", Version: "1.0", Tag: "cp313-cp313-manylinux_2_17_x86_64"}),
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "plat", Version: "1.0", Tag: "cp311-cp311-win_amd64"}),
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "plat", Version: "1.0", Tag: "cp311-cp311-macosx_11_0_arm64"}),
			pypitest.BuildSdist(pypitest.WheelSpec{Name: "plat", Version: "1.0"}),
		}},
	}
}

var demoRequirements = []string{"app[extra]", "pinned==1.5", "pinned<1.5", "plat"}

type env struct {
	up    *pypitest.Upstream
	srv   *httptest.Server
	store store.Store
}

func newEnv(t testing.TB, projects ...pypitest.Project) *env {
	up := pypitest.New(projects...)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	return &env{up: up, srv: srv, store: store.NewMemory()}
}

func (e *env) mirror(reqs ...string) *pypi.Mirror {
	return &pypi.Mirror{
		URL:          e.srv.URL + "/simple/",
		Requirements: reqs,
		Targets:      []wheel.Target{linux311, linux313},
		Store:        e.store,
		Fetch:        &fetch.Client{Store: e.store, Retries: -1},
	}
}

func published(t testing.TB, s store.Store, ref string) *store.Snapshot {
	snap, _, err := store.OpenPublished(context.Background(), s, ref)
	require.NoError(t, err)
	return snap
}

func packages(snap *store.Snapshot) []string {
	var out []string
	for _, p := range snap.Paths() {
		if strings.HasPrefix(p, "packages/") && !strings.HasSuffix(p, ".metadata") {
			out = append(out, strings.TrimPrefix(p, "packages/"))
		}
	}
	return out
}

func TestSyncResolvesClosure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, demoProjects()...)
	m := e.mirror(demoRequirements...)
	stats, err := m.Sync(ctx)
	require.NoError(t, err)
	snap := published(t, e.store, "pypi/python")
	assert.Equal(t, []string{
		"app/app-2.0-py3-none-any.whl",
		"cyc-a/cyc_a-1.0-py3-none-any.whl",
		"cyc-b/cyc_b-1.0-py3-none-any.whl",
		"extra-dep/extra_dep-1.0-py3-none-any.whl",
		"lib/lib-1.1-py3-none-any.whl",
		"missingmeta/missingmeta-1.0-py3-none-any.whl",
		"newpy/newpy-1.0-py3-none-any.whl",
		"newpy/newpy-2.0-py3-none-any.whl",
		"nometa/nometa-1.0-py3-none-any.whl",
		"pinned/pinned-1.0-py3-none-any.whl",
		"pinned/pinned-1.5-py3-none-any.whl",
		"plat/plat-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"plat/plat-1.0-cp313-cp313-manylinux_2_17_x86_64.whl",
	}, packages(snap))
	for _, p := range packages(snap) {
		_, ok := snap.Lookup("packages/" + p + ".metadata")
		assert.True(t, ok, "metadata next to %s", p)
	}
	assert.Empty(t, stats.Unsatisfied)
	assert.Equal(t, 13, stats.Files)
	assert.Equal(t, 13, stats.MetadataFiles)
	assert.Equal(t, 2, stats.MetadataFromWheel, "nometa and missingmeta")
	assert.Equal(t, 13, stats.Downloaded)
	assert.Equal(t, 10, stats.Projects)

	// The index: PEP 503 HTML and PEP 691 JSON.
	h := pypi.NewHandler(e.store, "pypi/python")
	page := get(t, h, "/simple/lib/", simple.AcceptHeader)
	var jp struct {
		Meta  map[string]string `json:"meta"`
		Name  string            `json:"name"`
		Files []map[string]any  `json:"files"`
	}
	require.NoError(t, json.Unmarshal([]byte(page), &jp))
	assert.Equal(t, "lib", jp.Name)
	require.Len(t, jp.Files, 1)
	assert.Equal(t, "../../packages/lib/lib-1.1-py3-none-any.whl", jp.Files[0]["url"])
	assert.Contains(t, jp.Files[0], "core-metadata")
	assert.NotContains(t, jp.Files[0], "dist-info-metadata")

	html := get(t, h, "/simple/pinned/", "text/html")
	assert.Contains(t, html, `data-yanked=""`)
	assert.Contains(t, html, `data-core-metadata="sha256=`)
	assert.NotContains(t, html, `data-dist-info-metadata`)
	newpy := get(t, h, "/simple/newpy/", "text/html")
	assert.Contains(t, newpy, `data-requires-python="&gt;=3.12"`)
	assert.Contains(t, newpy, `#sha256=`)

	// No-op resync: nothing downloaded, pages revalidated with ETags.
	_, files1, _, _ := e.up.Requests()
	stats2, err := m.Sync(ctx)
	require.NoError(t, err)
	_, files2, _, notMod := e.up.Requests()
	assert.Equal(t, files1, files2, "no distribution fetched again")
	assert.Equal(t, 0, stats2.Downloaded)
	assert.Equal(t, 13, stats2.Reused)
	assert.Equal(t, 0, stats2.PagesFetched)
	assert.Equal(t, int64(stats2.PagesNotModified), notMod)
	assert.Equal(t, snap.Files, published(t, e.store, "pypi/python").Files)

	// A new upstream version is picked up, and only it is fetched.
	e.up.Update("extra-dep", func(p *pypitest.Project) { p.Dists = append(p.Dists, w("extra-dep", "1.1")) })
	stats3, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, stats3.Downloaded)
	snap3 := published(t, e.store, "pypi/python")
	_, ok := snap3.Lookup("packages/extra-dep/extra_dep-1.1-py3-none-any.whl")
	assert.True(t, ok)
}

func get(t testing.TB, h http.Handler, path, accept string) string {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, "%s: %s", path, rec.Body.String())
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestSyncHTMLUpstream(t *testing.T) {
	e := newEnv(t, demoProjects()...)
	e.up.Format = "html"
	stats, err := e.mirror(demoRequirements...).Sync(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 13, stats.Files)
	assert.Equal(t, 13, stats.MetadataFiles)
	assert.Equal(t, 2, stats.MetadataFromWheel, "nometa has none, missingmeta's answers 404")
}

func TestSyncPolicies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, demoProjects()...)
	m := e.mirror("lib", "plat")
	m.Prereleases, m.Latest, m.Sdists, m.NoDependencies = true, 2, true, true
	m.Targets = []wheel.Target{{Python: "3.11", Platform: "win_amd64"}, {Python: "3.12", Platform: "macosx_14_0_arm64"}}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"lib/lib-1.1-py3-none-any.whl",
		"lib/lib-3.0rc1-py3-none-any.whl",
		"plat/plat-1.0-cp311-cp311-win_amd64.whl",
		"plat/plat-1.0.tar.gz",
	}, packages(published(t, e.store, "pypi/python")))
}

func TestUnsatisfied(t *testing.T) {
	ctx := context.Background()
	projects := append(demoProjects(), pypitest.Project{Name: "needs-missing", Dists: []pypitest.Dist{w("needs-missing", "1.0", "does-not-exist>=1", "lib>=9")}})
	e := newEnv(t, projects...)
	m := e.mirror("needs-missing", "nosuchproject", "winonly")
	m.Targets = []wheel.Target{linux311}
	stats, err := m.Sync(ctx)
	var ue *pypi.UnsatisfiedError
	require.ErrorAs(t, err, &ue)
	assert.ErrorIs(t, err, pypi.ErrUnsatisfied)
	got := map[string]pypi.Unsatisfied{}
	for _, u := range ue.Items {
		got[u.Requirement] = u
	}
	require.Len(t, got, 4, "%v", ue.Items)
	assert.Equal(t, []string{"needs-missing", "needs-missing 1.0"}, got["does-not-exist>=1"].Chain)
	assert.Equal(t, "no such project upstream", got["does-not-exist>=1"].Reason)
	assert.Contains(t, got["lib>=9"].Reason, "no version matches")
	assert.Equal(t, "no such project upstream", got["nosuchproject"].Reason)
	// winonly has only a Windows wheel: the platform excludes every file.
	assert.Contains(t, got["winonly"].Reason, "no installable")
	assert.Equal(t, len(ue.Items), len(stats.Unsatisfied))
	_, err = store.Current(ctx, e.store, "pypi/python")
	assert.ErrorIs(t, err, store.ErrNotFound, "nothing published")

	m.AllowUnsatisfied = true
	stats, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.Len(t, stats.Unsatisfied, 4)
	assert.Equal(t, []string{"needs-missing/needs_missing-1.0-py3-none-any.whl"}, packages(published(t, e.store, "pypi/python")))
}

func TestMarkerExcludesEverything(t *testing.T) {
	// A dependency whose marker is false on every target is not required at all.
	e := newEnv(t, demoProjects()...)
	m := e.mirror("app")
	m.Targets = []wheel.Target{linux311}
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	for _, p := range packages(published(t, e.store, "pypi/python")) {
		assert.NotContains(t, p, "winonly")
		assert.NotContains(t, p, "old-py")
		assert.NotContains(t, p, "extra")
	}
}

func TestHashMismatch(t *testing.T) {
	ctx := context.Background()
	projects := demoProjects()
	bad := w("bad", "1.0")
	bad.WrongHash = true
	projects = append(projects, pypitest.Project{Name: "bad", Dists: []pypitest.Dist{bad}})
	e := newEnv(t, projects...)
	m := e.mirror("lib", "bad")
	_, err := m.Sync(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, store.ErrDigestMismatch)
	_, err = store.Current(ctx, e.store, "pypi/python")
	assert.ErrorIs(t, err, store.ErrNotFound, "nothing published")
	has, err := e.store.Has(ctx, store.Digest("sha256:"+sha256hex(bad.Data)))
	require.NoError(t, err)
	assert.False(t, has, "the bad file never enters the store")
}

func TestMalformedPages(t *testing.T) {
	for name, c := range map[string]struct{ format, body string }{
		"json-syntax":     {"json", `{"meta": {"api-version": "1.0"}, "files": [`},
		"json-no-meta":    {"json", `{"name": "x", "files": []}`},
		"json-api-2":      {"json", `{"meta": {"api-version": "2.0"}, "name": "x", "files": []}`},
		"json-yanked-num": {"json", `{"meta": {"api-version": "1.0"}, "name": "x", "files": [{"filename": "x-1.0-py3-none-any.whl", "url": "x", "hashes": {}, "yanked": 3}]}`},
		"html-api-2":      {"html", `<html><head><meta name="pypi:repository-version" content="2.0"></head><body></body></html>`},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, pypitest.Project{Name: "x", MalformedPage: c.body, Dists: []pypitest.Dist{w("x", "1.0")}})
			e.up.Format = c.format
			_, err := e.mirror("x").Sync(context.Background())
			require.Error(t, err)
			assert.True(t, errors.Is(err, simple.ErrMalformedIndex) || errors.Is(err, simple.ErrUnsupportedAPI), "%v", err)
		})
	}
	// HTML that is merely garbage has no files: the requirement is unsatisfied.
	e := newEnv(t, pypitest.Project{Name: "x", MalformedPage: "<<<a href=>>>&&&", Dists: []pypitest.Dist{w("x", "1.0")}})
	e.up.Format = "html"
	_, err := e.mirror("x").Sync(context.Background())
	assert.ErrorIs(t, err, pypi.ErrUnsatisfied)
}

func TestConfigErrors(t *testing.T) {
	s := store.NewMemory()
	for _, m := range []*pypi.Mirror{
		{Store: s},
		{Store: s, Requirements: []string{"a>="}},
		{Store: s, Requirements: []string{"a @ https://x/a.whl"}},
		{Store: s, Requirements: []string{"a"}, URL: "file:///etc"},
		{Store: s, Requirements: []string{"a"}, Targets: []wheel.Target{{Python: "three"}}},
		{Requirements: []string{"a"}},
		{Store: s, RequirementsFile: "/nonexistent/requirements.txt"},
	} {
		_, err := m.Sync(context.Background())
		assert.ErrorIs(t, err, pypi.ErrConfig)
	}
}

func TestEndpoints(t *testing.T) {
	assert.Equal(t, []string{"https://pypi.org/simple/", "https://files.pythonhosted.org/"}, (&pypi.Mirror{}).Endpoints())
	assert.Equal(t, []string{"http://devpi:3141/root/pypi/+simple/"}, (&pypi.Mirror{URL: "http://devpi:3141/root/pypi/+simple"}).Endpoints())
	assert.Equal(t, "pypi/internal", (&pypi.Mirror{Name: "internal"}).Ref())
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSdistDependenciesAndRequirementsFile(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t,
		pypitest.Project{Name: "src-only", Dists: []pypitest.Dist{pypitest.BuildSdist(pypitest.WheelSpec{Name: "src-only", Version: "0.5", RequiresDist: []string{`dep>=1; python_version >= "3"`}})}},
		pypitest.Project{Name: "dep", Dists: []pypitest.Dist{w("dep", "1.0")}},
	)
	reqFile := filepath.Join(t.TempDir(), "requirements.txt")
	require.NoError(t, os.WriteFile(reqFile, []byte("# pinned by the operator\nsrc_only==0.5 \\\n  --hash=sha256:00\n"), 0o644))
	m := e.mirror()
	m.RequirementsFile = reqFile
	m.Sdists = true
	stats, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"dep/dep-1.0-py3-none-any.whl", "src-only/src_only-0.5.tar.gz"}, packages(published(t, e.store, "pypi/python")))
	assert.Empty(t, stats.DependenciesUnknown)

	// Without sdists the only file is excluded: unsatisfied, with the reason.
	m.Sdists = false
	_, err = m.Sync(ctx)
	var ue *pypi.UnsatisfiedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Items[0].Reason, "no installable")
}

func TestMetadataHashMismatch(t *testing.T) {
	bad := w("badmeta", "1.0")
	bad.WrongMetadataHash = true
	e := newEnv(t, pypitest.Project{Name: "badmeta", Dists: []pypitest.Dist{bad}})
	_, err := e.mirror("badmeta").Sync(context.Background())
	assert.ErrorIs(t, err, store.ErrDigestMismatch)
	_, err = store.Current(context.Background(), e.store, "pypi/python")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// Issue #17: a resync of an unchanged upstream published a new generation every time,
// so gc --keep N pushed out real history and every incremental bundle carried a
// snapshot.
func TestNoopResyncPublishesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, demoProjects()...)
	m := e.mirror(demoRequirements...)
	first, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, first.Changed)
	again, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Equal(t, first.Generation.Record, again.Generation.Record)
	h, err := store.History(ctx, e.store, m.Ref(), 0)
	require.NoError(t, err)
	assert.Len(t, h, 1, "no generation for a no-op resync")

	e.up.Update("extra-dep", func(p *pypitest.Project) { p.Dists = append(p.Dists, w("extra-dep", "1.1")) })
	third, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, third.Changed)
	assert.Equal(t, first.Generation.Record, third.Generation.Parent)
}

// The old name of URL still works, with a warning; the two disagreeing is an error.
func TestDeprecatedUpstreamName(t *testing.T) {
	e := newEnv(t, pypitest.Project{Name: "quiet", Dists: []pypitest.Dist{w("quiet", "1.0")}})
	var logs strings.Builder
	m := e.mirror("quiet")
	m.URL, m.Upstream = "", e.srv.URL+"/simple/"
	m.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "upstream is deprecated")
	m.URL = "https://pypi.org/simple/"
	_, err = m.Sync(context.Background())
	assert.ErrorIs(t, err, pypi.ErrConfig)
	assert.ErrorIs(t, err, store.ErrConfig)
}

func TestCancelledSyncPublishesNothing(t *testing.T) {
	e := newEnv(t, demoProjects()...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.mirror(demoRequirements...).Sync(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = store.Current(context.Background(), e.store, "pypi/python")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestRequiresPythonOnlyInMetadata(t *testing.T) {
	// The index gives no Requires-Python; the wheel's metadata does.
	v2 := pypitest.BuildWheel(pypitest.WheelSpec{Name: "quiet", Version: "2.0", RequiresPython: ">=3.12"})
	v2.RequiresPython = ""
	e := newEnv(t, pypitest.Project{Name: "quiet", Dists: []pypitest.Dist{w("quiet", "1.0"), v2}})
	stats, err := e.mirror("quiet").Sync(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"quiet/quiet-1.0-py3-none-any.whl", "quiet/quiet-2.0-py3-none-any.whl"}, packages(published(t, e.store, "pypi/python")))
	assert.Equal(t, 2, stats.Versions)
	page := get(t, pypi.NewHandler(e.store, "pypi/python"), "/simple/quiet/", "text/html")
	assert.Contains(t, page, `quiet-2.0-py3-none-any.whl#sha256=`)
	assert.Contains(t, page, `data-requires-python="&gt;=3.12"`, "taken from the metadata")

	m := e.mirror("quiet")
	m.Targets = []wheel.Target{linux311}
	_, err = m.Sync(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"quiet/quiet-1.0-py3-none-any.whl"}, packages(published(t, e.store, "pypi/python")))
}
