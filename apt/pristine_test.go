package apt_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

// debianShaped is an upstream suite "bookworm" shaped like deb.debian.org's: Origin
// Debian, InRelease + Release + Release.gpg, Acquire-By-Hash with by-hash copies,
// Packages listed plain, .gz and .xz but served compressed only, Sources, Translation-en,
// and dep11, cnf, Contents and i18n/Index files; amd64 and arm64, main and contrib.
func debianShaped(t testing.TB) *env {
	t.Helper()
	pkgs := append(testPackages()[:10:10], apttest.Package{Name: "firmware-x", Version: "1", Component: "contrib"})
	for i := range pkgs {
		pkgs[i].Suite = ""
	}
	e := newEnvWith(t, apttest.Options{Suites: []string{"bookworm"}, Architectures: []string{"amd64", "arm64", "all"},
		Origin: "Debian", Label: "Debian", ByHash: true, NoPlain: true, NoArchAllPackages: true, Sources: true, Translations: true,
		Extra: map[string][]byte{
			"main/dep11/Components-amd64.yml.gz":             []byte("dep11 amd64"),
			"main/dep11/Components-arm64.yml.gz":             []byte("dep11 arm64"),
			"main/dep11/icons-64x64.tar.gz":                  []byte("icons"),
			"main/cnf/Commands-amd64.xz":                     []byte("cnf amd64"),
			"main/Contents-amd64.gz":                         []byte("contents amd64"),
			"main/i18n/Index":                                []byte("SHA1:\n"),
			"main/binary-amd64/Release":                      []byte("Archive: stable\nComponent: main\nArchitecture: amd64\n"),
			"main/installer-amd64/current/images/SHA256SUMS": []byte("not mirrored"),
		}}, pkgs)
	return e
}

func (e *env) pristine() *apt.Mirror {
	m := e.mirror()
	m.Suites, m.Components, m.Architectures = []string{"bookworm"}, []string{"main"}, []string{"amd64"}
	m.Pristine, m.Signer, m.ValidFor = true, nil, 0
	m.Filter = apt.Filter{Packages: []string{"hello"}, Dependencies: true}
	return m
}

// readTree returns the content of a published file (nil when absent).
func readTree(t testing.TB, s store.Store, ref, p string) []byte {
	t.Helper()
	ctx := context.Background()
	snap, _, err := store.OpenPublished(ctx, s, ref)
	require.NoError(t, err)
	f, ok := snap.Lookup(p)
	if !ok {
		return nil
	}
	b, err := store.ReadBlob(ctx, s, f.Digest, 1<<30)
	require.NoError(t, err)
	return b
}

// TestPristine: a pristine mirror serves the upstream's InRelease, Release, Release.gpg
// and every index variant it serves for the chosen component and architecture, byte for
// byte, at their paths and by hash; only the closure's pool files; nothing of the other
// architecture or component, nor files apt does not read. Inventory lists what is held,
// Suites the upstream's Valid-Until, and a no-op resync is one conditional request.
func TestPristine(t *testing.T) {
	ctx := context.Background()
	e := debianShaped(t)
	m := e.pristine()
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	ref := m.Ref()
	dist := "dists/bookworm/"
	same := []string{"InRelease", "Release", "Release.gpg",
		"main/binary-amd64/Packages.gz", "main/binary-amd64/Packages.xz", "main/binary-amd64/Release",
		"main/i18n/Translation-en.gz", "main/i18n/Translation-en.xz", "main/i18n/Index",
		"main/dep11/Components-amd64.yml.gz", "main/dep11/icons-64x64.tar.gz", "main/cnf/Commands-amd64.xz"}
	for _, p := range same {
		up := e.upstream.File(dist + p)
		require.NotNil(t, up, p)
		require.Equal(t, up, readTree(t, e.store, ref, dist+p), p)
		if !strings.HasSuffix(p, "Release") && !strings.HasSuffix(p, "Release.gpg") {
			require.Equal(t, up, readTree(t, e.store, ref, dist+filepath.Dir(p)+"/by-hash/SHA256/"+sha256hex(up)), p+" by hash")
		}
	}
	for _, p := range []string{"main/binary-amd64/Packages", // listed, not served upstream
		"main/binary-arm64/Packages.xz", "main/binary-all/Packages.xz", "contrib/binary-amd64/Packages.xz",
		"main/dep11/Components-arm64.yml.gz", "main/Contents-amd64.gz", // contents: false
		"main/source/Sources.xz", // sources: false
		"main/installer-amd64/current/images/SHA256SUMS"} {
		require.Nil(t, readTree(t, e.store, ref, dist+p), p)
	}
	require.Nil(t, readTree(t, e.store, ref, "archive-key.asc"), "no operator key in a pristine tree")

	// hello, libc6 (>= 2.34) at its newest, its pre-dependency, the provider of greeting-data
	closure := []string{"pool/main/g/gcc-12/libgcc-s1_12.2.0-14_amd64.deb", "pool/main/g/greeting-english/greeting-english_1.0_all.deb",
		"pool/main/h/hello/hello_2.10-3_amd64.deb", "pool/main/libc/libc6/libc6_2.36-9_amd64.deb"}
	var pool []string
	snap, _, err := store.OpenPublished(ctx, e.store, ref)
	require.NoError(t, err)
	for _, p := range snap.Paths() {
		if strings.HasPrefix(p, "pool/") {
			pool = append(pool, p)
			require.Equal(t, e.upstream.File(p), readTree(t, e.store, ref, p), p)
		}
	}
	require.Equal(t, closure, pool)
	require.Equal(t, 4, st.Files)

	items, err := apt.Inventory(ctx, e.store, ref)
	require.NoError(t, err)
	var paths []string
	for _, it := range items {
		paths = append(paths, it.Path)
		require.Equal(t, e.srv.URL+"/"+it.Path, it.Upstream)
		require.Equal(t, "SHA256 in bookworm/main Packages, listed by InRelease signed by "+e.key.Fingerprint(), it.VouchedBy)
	}
	require.Equal(t, pool, paths, "the upstream Packages lists more: only what is held")
	require.Equal(t, "pkg:deb/debian/hello@2.10-3?arch=amd64", items[slices.IndexFunc(items, func(it store.Item) bool { return it.Name == "hello" })].PURL)

	suites, err := apt.Suites(ctx, e.store, ref)
	require.NoError(t, err)
	require.Len(t, suites, 1)
	up := e.upstreamRelease(t, "bookworm")
	require.Equal(t, apt.PublishedSuite{Name: "bookworm", Origin: "Debian", Components: []string{"main"}, Architectures: []string{"amd64"},
		Pristine: true, ValidUntil: up.ValidUntil, Upstream: e.srv.URL + "/", UpstreamDate: up.Date, UpstreamValidUntil: up.ValidUntil,
		SignedBy: "InRelease", Signers: []string{e.key.Fingerprint()}}, suites[0])

	e.upstream.ResetCounts()
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	require.False(t, st.Changed)
	require.Equal(t, 1, e.upstream.Count(""))
	require.Equal(t, 1, e.upstream.NotModified())
}

// upstreamRelease parses the Release the upstream serves for suite.
func (e *env) upstreamRelease(t testing.TB, suite string) *apt.Release {
	t.Helper()
	rel, err := apt.ParseRelease(bytes.NewReader(e.upstream.File("dists/" + suite + "/Release")))
	require.NoError(t, err)
	return rel
}

// TestPristineRealApt: real apt with its stock configuration, trusting only the
// upstream's key (a keyring file in trusted.gpg.d standing in for the stock keyring, no
// signed-by), reaches deb.debian.org through a proxy that routes it to the pristine
// tree: apt-get update is clean, the closure installs (download only), a package the
// indices list but the mirror does not hold is a 404.
func TestPristineRealApt(t *testing.T) {
	testutil.RequireBinary(t, "apt-get", "apt")
	ctx := context.Background()
	e := debianShaped(t)
	m := e.pristine()
	_, err := m.Sync(ctx)
	require.NoError(t, err)

	proxy := httptest.NewServer(apttest.ForwardProxy(map[string]http.Handler{"deb.debian.org/debian": apt.NewHandler(e.store, m.Ref())}))
	t.Cleanup(proxy.Close)
	dir := t.TempDir()
	env := aptEnv(t, dir, "deb http://deb.debian.org/debian bookworm main")
	pub, err := e.key.PublicKey(false)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc/trusted.gpg.d/debian-archive-bookworm-stable.gpg"), pub, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc/apt.conf.d/90mirror"),
		[]byte("Acquire::http::Proxy \""+proxy.URL+"\";\n#clear Acquire::Languages;\nAcquire::Languages { \"en\"; };\n"), 0o644))

	out := testutil.Run(t, 2*time.Minute, env, "apt-get", "update")
	t.Log(out)
	require.NotContains(t, out, "W: ")
	require.NotContains(t, out, "Err:")
	require.Contains(t, out, "http://deb.debian.org/debian bookworm/main Translation-en")
	out = testutil.Run(t, time.Minute, env, "apt-cache", "policy", "hello", "unrelated")
	require.Contains(t, out, "hello:\n  Installed: (none)\n  Candidate: 2.10-3")
	require.Contains(t, out, "unrelated:\n  Installed: (none)\n  Candidate: 0.1", "the upstream index lists everything")
	out = testutil.Run(t, 2*time.Minute, env, "apt-get", "install", "--download-only", "-y", "--no-install-recommends", "hello")
	t.Log(out)
	debs, err := filepath.Glob(filepath.Join(dir, "cache/archives/*.deb"))
	require.NoError(t, err)
	var names []string
	for _, d := range debs {
		names = append(names, filepath.Base(d))
	}
	require.ElementsMatch(t, []string{"hello_2.10-3_amd64.deb", "libc6_2.36-9_amd64.deb", "libgcc-s1_12.2.0-14_amd64.deb", "greeting-english_1.0_all.deb"}, names)
	out, err = testutil.RunErr(t, time.Minute, env, "apt-get", "install", "--download-only", "-y", "unrelated")
	require.Error(t, err)
	require.Contains(t, out, "404")
}

// TestPristineRefused: a pristine sync refuses an index or a verbatim file that does not
// match the signed Release, a Release that is not the text InRelease signs, a Release.gpg
// by another key, an expired or rolled-back Release, a listed Packages index that is not
// served at all, and ValidFor; the last verified tree stays published and served.
func TestPristineRefused(t *testing.T) {
	ctx := context.Background()
	mallory, err := pgp.GenerateKey("Mallory", "m@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	flip := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-1] ^= 1; return b }
	for _, c := range []struct {
		name   string
		mutate func(e *env)
		want   error
	}{
		{"Packages.xz", func(e *env) { tamper(e, "main/binary-amd64/Packages.xz", flip) }, apt.ErrIndexChecksum},
		{"Packages.gz at its path only", func(e *env) {
			p := "dists/bookworm/main/binary-amd64/Packages.gz"
			e.upstream.Set("dists/bookworm/main/binary-amd64/by-hash/SHA256/"+sha256hex(e.upstream.File(p)), nil)
			e.upstream.Set(p, flip(e.upstream.File(p)))
		}, store.ErrDigestMismatch},
		{"Translation-en.gz", func(e *env) { tamper(e, "main/i18n/Translation-en.gz", flip) }, apt.ErrIndexChecksum},
		{"dep11", func(e *env) { tamper(e, "main/dep11/Components-amd64.yml.gz", flip) }, apt.ErrIndexChecksum},
		{"Release not InRelease's text", func(e *env) {
			p := "dists/bookworm/Release"
			e.upstream.Set(p, append(bytes.Clone(e.upstream.File(p)), "X-Extra: 1\n"...))
		}, apt.ErrIndexChecksum},
		{"Release.gpg by another key", func(e *env) {
			sig, err := mallory.DetachSign(bytes.NewReader(e.upstream.File("dists/bookworm/Release")), true)
			require.NoError(t, err)
			e.upstream.Set("dists/bookworm/Release.gpg", sig)
		}, pgp.ErrSignature},
		{"no Packages variant served", func(e *env) {
			for _, ext := range []string{".gz", ".xz"} {
				p := "dists/bookworm/main/binary-amd64/Packages" + ext
				e.upstream.Set("dists/bookworm/main/binary-amd64/by-hash/SHA256/"+sha256hex(e.upstream.File(p)), nil)
				e.upstream.Set(p, nil)
			}
		}, notFound{}},
		{"expired", func(e *env) {
			rebuild(t, e, func(o *apttest.Options) { o.Date, o.ValidFor = time.Now().Add(-20*24*time.Hour), time.Hour })
		}, apt.ErrExpired},
		{"rollback", func(e *env) { rebuild(t, e, func(o *apttest.Options) { o.Date = time.Now().Add(-48 * time.Hour) }) }, apt.ErrRollback},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := debianShaped(t)
			m := e.pristine()
			_, err := m.Sync(ctx)
			require.NoError(t, err)
			before := published(t, e.store)
			inRelease := readTree(t, e.store, m.Ref(), "dists/bookworm/InRelease")
			// a newer upstream, every index of it changed (what the store holds already is
			// not fetched again), then the damage
			e.pkgs = append(e.pkgs, apttest.Package{Name: "newer", Version: "1"})
			rebuild(t, e, func(o *apttest.Options) {
				o.Date = time.Now().Add(-10 * time.Minute).Truncate(time.Second)
				o.Extra = maps.Clone(o.Extra)
				o.Extra["main/dep11/Components-amd64.yml.gz"] = []byte("dep11 amd64, newer")
			})
			c.mutate(e)
			_, err = m.Sync(ctx)
			if nf, ok := c.want.(notFound); ok {
				require.True(t, nf.Is(err), "%v", err)
			} else {
				require.ErrorIs(t, err, c.want)
			}
			require.Equal(t, before, published(t, e.store), "nothing published")
			srv := httptest.NewServer(apt.NewHandler(e.store, m.Ref()))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL + "/dists/bookworm/InRelease")
			require.NoError(t, err)
			defer resp.Body.Close()
			var b bytes.Buffer
			_, err = b.ReadFrom(resp.Body)
			require.NoError(t, err)
			require.Equal(t, inRelease, b.Bytes(), "the last verified tree is served")
		})
	}
	m := &apt.Mirror{Name: "x", URL: "http://127.0.0.1/", Suites: []string{"s"}, Pristine: true, ValidFor: time.Hour}
	require.ErrorContains(t, m.Validate(), "valid_for")
}

// notFound matches the upstream's 404.
type notFound struct{}

func (notFound) Error() string { return "404" }
func (notFound) Is(err error) bool {
	var he *fetch.HTTPError
	return errors.As(err, &he) && he.StatusCode == http.StatusNotFound
}

// tamper serves p (relative to dists/bookworm/) changed by f, at its path and by hash.
func tamper(e *env, p string, f func([]byte) []byte) {
	dist := "dists/bookworm/"
	b := e.upstream.File(dist + p)
	bad := f(b)
	e.upstream.Set(dist+p, bad)
	e.upstream.Set(dist+filepath.Dir(p)+"/by-hash/SHA256/"+sha256hex(b), bad)
}

// rebuild replaces the upstream with a build of the same packages under changed options.
func rebuild(t testing.TB, e *env, change func(*apttest.Options)) {
	opt := e.repoOpt
	change(&opt)
	repo, err := apttest.Build(opt, e.pkgs)
	require.NoError(t, err)
	e.upstream.Replace(repo)
}

// TestPristineUpstreams: with two archives each suite is served verbatim from its own
// upstream, signed by its own key, and the closure spans both. Two upstreams that carry
// different files at one pool path cannot both be served verbatim: a pristine sync
// refuses, naming the path.
func TestPristineUpstreams(t *testing.T) {
	ctx := context.Background()
	a := newTwoArchives(t)
	s := store.NewMemory()
	m := a.mirror(s, nil)
	m.Pristine, m.Sources = true, false
	m.Filter = apt.Filter{Packages: []string{"hello"}, Dependencies: true}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	for _, c := range []struct {
		suite, url string
		key        *pgp.Signer
	}{{"stable", a.main.URL, a.mainKey}, {"stable-security", a.sec.URL, a.secKey}} {
		resp, err := a.main.Client().Get(c.url + "/dists/" + c.suite + "/InRelease")
		require.NoError(t, err)
		var up bytes.Buffer
		_, err = up.ReadFrom(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, up.Bytes(), readTree(t, s, m.Ref(), "dists/"+c.suite+"/InRelease"), c.suite)
	}
	items, err := apt.Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	var got []string
	for _, it := range items {
		got = append(got, it.Upstream)
	}
	require.Equal(t, []string{a.main.URL + "/pool/main/g/gcc-12/libgcc-s1_12.2.0-14_amd64.deb",
		a.sec.URL + "/pool/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb", a.main.URL + "/pool/main/h/hello/hello_2.10-3_amd64.deb"}, got)
	suites, err := apt.Suites(ctx, s, m.Ref())
	require.NoError(t, err)
	require.Equal(t, []string{a.mainKey.Fingerprint()}, suites[0].Signers)
	require.Equal(t, []string{a.secKey.Fingerprint()}, suites[1].Signers)

	s = store.NewMemory()
	m = a.mirror(s, nil)
	m.Pristine = true // the filter names tool, which both archives carry, built differently
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, apt.ErrPoolConflict)
	require.ErrorContains(t, err, "pool/main/t/tool/tool_1.0_amd64.deb")
	_, err = s.Ref(ctx, m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestPristineSourcesContents: with Sources, Contents and a language list, a pristine
// tree also holds the Sources variants and the closure's source files, Contents-<arch>,
// and only the Translation-* of those languages.
func TestPristineSourcesContents(t *testing.T) {
	ctx := context.Background()
	e := debianShaped(t)
	m := e.pristine()
	m.Sources, m.Contents, m.Translations = true, true, []string{"de"}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	dist := "dists/bookworm/"
	for _, p := range []string{"main/source/Sources.gz", "main/source/Sources.xz", "main/Contents-amd64.gz",
		"pool/main/h/hello/hello_2.10-3.dsc", "pool/main/h/hello/hello_2.10-3.tar.xz"} {
		if !strings.HasPrefix(p, "pool/") {
			p = dist + p
		}
		require.Equal(t, e.upstream.File(p), readTree(t, e.store, m.Ref(), p), p)
	}
	require.Nil(t, readTree(t, e.store, m.Ref(), dist+"main/i18n/Translation-en.xz"))
	require.Nil(t, readTree(t, e.store, m.Ref(), "pool/main/u/unrelated/unrelated_0.1.dsc"))
	items, err := apt.Inventory(ctx, e.store, m.Ref())
	require.NoError(t, err)
	i := slices.IndexFunc(items, func(it store.Item) bool { return it.Path == "pool/main/h/hello/hello_2.10-3.dsc" })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, "pkg:deb/debian/hello@2.10-3?arch=source", items[i].PURL)
	require.Equal(t, "SHA256 in bookworm/main Sources, listed by InRelease signed by "+e.key.Fingerprint(), items[i].VouchedBy)
}

// TestPristineArchAll: a Release that lists "all" without "No-Support-for-Architecture-all:
// Packages" makes apt read binary-all whatever architectures it has, so a pristine mirror
// holds binary-all too, and apt-get update is clean.
func TestPristineArchAll(t *testing.T) {
	testutil.RequireBinary(t, "apt-get", "apt")
	ctx := context.Background()
	e := newEnvWith(t, apttest.Options{Suites: []string{"stable"}, ByHash: true}, testPackages()[:10])
	m := e.mirror()
	m.Suites, m.Architectures, m.Pristine, m.Signer, m.ValidFor = []string{"stable"}, []string{"amd64"}, true, nil, 0
	m.Filter = apt.Filter{Packages: []string{"cowsay"}, Dependencies: true}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	p := "dists/stable/main/binary-all/Packages.xz"
	require.Equal(t, e.upstream.File(p), readTree(t, e.store, m.Ref(), p))
	suites, err := apt.Suites(ctx, e.store, m.Ref())
	require.NoError(t, err)
	require.Equal(t, []string{"amd64", "all"}, suites[0].Architectures)

	srv := httptest.NewServer(apt.NewHandler(e.store, m.Ref()))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	pub, err := e.key.PublicKey(false)
	require.NoError(t, err)
	env := aptEnv(t, dir, "deb "+srv.URL+"/ stable main")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc/trusted.gpg.d/upstream.gpg"), pub, 0o644))
	out := testutil.Run(t, 2*time.Minute, env, "apt-get", "update")
	require.NotContains(t, out, "W: ")
	require.NotContains(t, out, "Err:")
	require.Contains(t, testutil.Run(t, time.Minute, env, "apt-cache", "policy", "cowsay"), "Candidate: 3.03+dfsg2-8")
}
