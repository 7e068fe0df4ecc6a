package apt_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

// testPackages is a small universe with dependencies, alternatives and a virtual package.
func testPackages() []apttest.Package {
	return []apttest.Package{
		{Name: "hello", Version: "2.10-3", Depends: "libc6 (>= 2.34), greeting-data | fallback-data", Recommends: "hello-doc"},
		{Name: "hello-doc", Version: "2.10-3", Architecture: "all", Source: "hello"},
		{Name: "libc6", Version: "2.36-9", PreDepends: "libgcc-s1", Section: "libs", Priority: "required"},
		{Name: "libc6", Version: "2.30-1", Section: "libs", Priority: "required"},
		{Name: "libgcc-s1", Version: "12.2.0-14", Source: "gcc-12", Section: "libs"},
		{Name: "fallback-data", Version: "1.0", Architecture: "all"},
		{Name: "greeting-english", Version: "1.0", Architecture: "all", Provides: "greeting-data"},
		{Name: "cowsay", Version: "3.03+dfsg2-8", Architecture: "all", Depends: "perl:any", Section: "games"},
		{Name: "perl", Version: "5.36.0-7", Section: "perl", Priority: "standard", MultiArch: "allowed"},
		{Name: "unrelated", Version: "0.1", Section: "misc"},
		{Name: "hello", Version: "2.10-4", Suite: "stable-updates", Depends: "libc6 (>= 2.36)"},
	}
}

type env struct {
	upstream *apttest.Server
	srv      *httptest.Server
	key      *pgp.Signer
	opKey    *pgp.Signer
	store    store.Store
	repoOpt  apttest.Options
	pkgs     []apttest.Package
}

func newEnv(t testing.TB, opt apttest.Options) *env {
	t.Helper()
	return newEnvWith(t, opt, testPackages())
}

// newEnvWith serves pkgs, signed by a new upstream key, with opt's defaults: suites
// stable and stable-updates, architectures amd64 and all.
func newEnvWith(t testing.TB, opt apttest.Options, pkgs []apttest.Package) *env {
	t.Helper()
	key, err := pgp.GenerateKey("Upstream Archive", "upstream@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	op, err := pgp.GenerateKey("Operator", "op@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	opt.Signer = key
	if opt.Suites == nil {
		opt.Suites = []string{"stable", "stable-updates"}
	}
	if opt.Architectures == nil {
		opt.Architectures = []string{"amd64", "all"}
	}
	repo, err := apttest.Build(opt, pkgs)
	require.NoError(t, err)
	up := apttest.NewServer(repo)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	return &env{upstream: up, srv: srv, key: key, opKey: op, store: store.NewMemory(), repoOpt: opt, pkgs: pkgs}
}

func (e *env) mirror() *apt.Mirror {
	return &apt.Mirror{
		Name:          "test",
		URL:           e.srv.URL,
		Suites:        e.repoOpt.Suites,
		Architectures: []string{"amd64", "all"},
		Store:         e.store,
		Fetch:         &fetch.Client{Store: e.store, Backoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Keys:          e.key.Keyring(),
		Signer:        e.opKey,
		ValidFor:      7 * 24 * time.Hour,
	}
}

func TestMirrorFullAndNoop(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, apttest.Options{ByHash: true, Sources: true, Translations: true})
	m := e.mirror()
	m.Sources = true
	m.Translations = []string{"en"}
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	require.Greater(t, st.Files, 10)
	snap, _, err := store.OpenPublished(ctx, e.store, "apt/test")
	require.NoError(t, err)
	for _, p := range []string{"dists/stable/InRelease", "dists/stable/Release", "dists/stable/Release.gpg",
		"dists/stable/main/binary-amd64/Packages", "dists/stable/main/binary-amd64/Packages.xz",
		"dists/stable/main/source/Sources.gz", "dists/stable/main/i18n/Translation-en",
		"archive-key.asc", "archive-key.gpg", "pool/main/h/hello/hello_2.10-3_amd64.deb"} {
		_, ok := snap.Lookup(p)
		require.True(t, ok, p)
	}
	// no-op resync: one conditional request per suite
	e.upstream.ResetCounts()
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	require.False(t, st.Changed)
	require.Equal(t, 2, e.upstream.Count(""))
	require.Equal(t, 2, e.upstream.NotModified())
}

// TestReleaseGPGFallback: without InRelease, Release + Release.gpg are verified; a bad
// Release.gpg is refused.
func TestReleaseGPGFallback(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, apttest.Options{})
	for _, s := range e.repoOpt.Suites {
		e.upstream.Set("dists/"+s+"/InRelease", nil)
	}
	m := e.mirror()
	_, err := m.Sync(ctx)
	require.NoError(t, err)

	e2 := newEnv(t, apttest.Options{})
	e2.upstream.Set("dists/stable/InRelease", nil)
	e2.upstream.Set("dists/stable/Release.gpg", e.upstream.File("dists/stable/Release.gpg"))
	_, err = e2.mirror().Sync(ctx)
	require.ErrorIs(t, err, pgp.ErrSignature)
	require.Empty(t, published(t, e2.store))

	// InsecureSkipSignature reads it anyway (and still checks every checksum)
	m2 := e2.mirror()
	m2.Keys, m2.InsecureSkipSignature = nil, true
	_, err = m2.Sync(ctx)
	require.NoError(t, err)
}

// TestHandler serves a published tree: 304 on If-None-Match, Range, 404 outside it.
func TestHandler(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, apttest.Options{})
	m := e.mirror()
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	srv := httptest.NewServer(apt.NewHandler(e.store, m.Ref()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/dists/stable/InRelease")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/dists/stable/InRelease", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/pool/main/h/hello/hello_2.10-3_amd64.deb", nil)
	req.Header.Set("Range", "bytes=0-7")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, "!<arch>\n", string(b))
	resp, err = http.Get(srv.URL + "/pool/../../etc/passwd")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestByHashGenerations: after an upstream change the previous generation's by-hash
// indices stay reachable; a config change rebuilds without a conditional request.
func TestByHashGenerations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, apttest.Options{})
	m := e.mirror()
	m.Filter = apt.Filter{Packages: []string{"hello"}}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	snap1, _, err := store.OpenPublished(ctx, e.store, m.Ref())
	require.NoError(t, err)
	m.Filter.Packages = append(m.Filter.Packages, "perl")
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	snap2, _, err := store.OpenPublished(ctx, e.store, m.Ref())
	require.NoError(t, err)
	n1, n2 := 0, 0
	for _, p := range snap2.Paths() {
		if strings.Contains(p, "/by-hash/") {
			n2++
			if _, ok := snap1.Lookup(p); ok {
				n1++
			}
		}
	}
	require.Greater(t, n1, 0, "old by-hash files kept")
	require.Greater(t, n2, n1, "new by-hash files added")
}

// BenchmarkNoopResync times a resync of an unchanged upstream: one conditional request
// per suite, nothing published.
func BenchmarkNoopResync(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, apttest.Options{ByHash: true})
	m := e.mirror()
	if _, err := m.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	e.upstream.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := m.Sync(ctx)
		if err != nil || st.Changed {
			b.Fatal(err, st.Changed)
		}
	}
	b.ReportMetric(float64(e.upstream.Count(""))/float64(b.N)/float64(len(m.Suites)), "requests/suite")
}

// TestByHashFallback: Release says Acquire-By-Hash but the by-hash files are missing:
// the plain paths are used.
func TestByHashFallback(t *testing.T) {
	e := newEnv(t, apttest.Options{ByHash: true})
	n := 0
	for _, s := range e.repoOpt.Suites {
		for _, a := range []string{"amd64", "all"} {
			for _, c := range []string{"", ".gz", ".xz"} {
				p := "dists/" + s + "/main/binary-" + a + "/Packages" + c
				if b := e.upstream.File(p); b != nil {
					e.upstream.Set("dists/"+s+"/main/binary-"+a+"/by-hash/SHA256/"+sha256hex(b), nil)
					n++
				}
			}
		}
	}
	require.Greater(t, n, 0)
	_, err := e.mirror().Sync(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, published(t, e.store))
}
