package apt_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/internal/apttest"
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
}

func newEnv(t *testing.T, opt apttest.Options) *env {
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
	repo, err := apttest.Build(opt, testPackages())
	require.NoError(t, err)
	up := apttest.NewServer(repo)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	return &env{upstream: up, srv: srv, key: key, opKey: op, store: store.NewMemory(), repoOpt: opt}
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
	require.False(t, st.NotModified)
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
	require.True(t, st.NotModified)
	require.Equal(t, 2, e.upstream.Count(""))
	require.Equal(t, 2, e.upstream.NotModified())
}
