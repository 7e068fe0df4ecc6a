package helm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/store"
)

func TestSyncHoldsSelectionAndClosure(t *testing.T) {
	f := newFixture(t)
	libs, main := f.mirrors()
	sync2(t, libs)
	st, err := main.Sync(context.Background())
	require.NoError(t, err)
	require.True(t, st.Changed)
	// app 1.0.0 and 1.1.0 (latest: 2) and common ~1.0 (newest: 1.0.0 only matches ~1.0).
	require.Equal(t, 3, st.Versions)
	require.Equal(t, 3, st.Signed)

	hs, err := helm.Charts(context.Background(), f.s, "helm/main")
	require.NoError(t, err)
	var files []string
	for _, h := range hs {
		files = append(files, h.File)
	}
	require.Equal(t, []string{"app-1.0.0.tgz", "app-1.1.0.tgz", "common-1.0.0.tgz"}, files)
	require.Contains(t, hs[0].Needs, "helm/libs:lib@^2.0.0")

	// libs: prereleases only when the constraint names one.
	lh, err := helm.Charts(context.Background(), f.s, "helm/libs")
	require.NoError(t, err)
	require.Len(t, lh, 2)

	// The served index: held versions only, relative URLs, upstream fields kept.
	snap, _, err := store.OpenPublished(context.Background(), f.s, "helm/main")
	require.NoError(t, err)
	file, _ := snap.Lookup("index.yaml")
	b, err := store.ReadBlob(context.Background(), f.s, file.Digest, file.Size)
	require.NoError(t, err)
	var idx struct {
		APIVersion string                      `yaml:"apiVersion"`
		Generated  string                      `yaml:"generated"`
		Entries    map[string][]map[string]any `yaml:"entries"`
	}
	require.NoError(t, yaml.Unmarshal(b, &idx))
	require.Equal(t, "v1", idx.APIVersion)
	require.Equal(t, "2026-01-02T03:04:05Z", idx.Generated)
	require.Len(t, idx.Entries["app"], 2)
	require.Len(t, idx.Entries["common"], 1)
	app := idx.Entries["app"][0]
	require.Equal(t, "1.1.0", app["version"], "upstream order (newest first) kept")
	require.Equal(t, []any{"app-1.1.0.tgz"}, app["urls"])
	require.NotEmpty(t, app["created"])
	require.NotEmpty(t, app["digest"])
	require.Equal(t, map[string]any{"artifacthub.io/license": "Apache-2.0"}, app["annotations"])
	for _, p := range []string{"app-1.1.0.tgz.prov", "common-1.0.0.tgz.prov"} {
		_, ok := snap.Lookup(p)
		require.True(t, ok, p)
	}

	items, err := helm.Inventory(context.Background(), f.s, "helm/main")
	require.NoError(t, err)
	require.Equal(t, "pkg:helm/app@1.0.0", items[0].PURL)
	require.Contains(t, items[0].VouchedBy, "provenance signed by")

	// No-op: the index answers 304, nothing is downloaded or published.
	gets := f.main.Gets("app-1.1.0.tgz")
	st, err = main.Sync(context.Background())
	require.NoError(t, err)
	require.False(t, st.Changed)
	require.Equal(t, 0, st.Downloaded)
	require.Equal(t, gets, f.main.Gets("app-1.1.0.tgz"))
	require.Equal(t, 3, st.Versions)
}

// each negative case fails its mirror with its own error and publishes nothing, while
// another mirror (libs) still publishes.
func TestSyncRefusals(t *testing.T) {
	_, rogueKey := signers(t)
	cases := []struct {
		name   string
		mangle func(t *testing.T, f *fixture)
		want   error
	}{
		{"tgz changed after signing, index digest kept", func(t *testing.T, f *fixture) {
			b, _ := helmtest.Package(&helmtest.Chart{Name: "app", Version: "1.1.0", Image: "evil.example/x:1"})
			f.main.Tamper("app", "1.1.0", b, true)
		}, helm.ErrDigest},
		{"tgz and index digest changed after signing", func(t *testing.T, f *fixture) {
			b, _ := helmtest.Package(&helmtest.Chart{Name: "app", Version: "1.1.0", Image: "evil.example/x:1"})
			f.main.Tamper("app", "1.1.0", b, false)
		}, helm.ErrDigest},
		{"prov signed by another key", func(t *testing.T, f *fixture) {
			b, _ := helmtest.Package(&helmtest.Chart{Name: "app", Version: "1.1.0"})
			p, err := helmtest.Prov(&helmtest.Chart{Name: "app", Version: "1.1.0"}, "app-1.1.0.tgz", b, rogueKey)
			require.NoError(t, err)
			f.main.SetProv("app", "1.1.0", p)
		}, helm.ErrSignature},
		{"Chart.yaml name does not match the index", func(t *testing.T, f *fixture) {
			v, _ := signers(t)
			f.main.Add(t, &helmtest.Chart{Name: "app", Version: "1.1.0", ChartYAMLName: "other"}, v, true)
		}, helm.ErrMetadata},
		{"unsigned under required", func(t *testing.T, f *fixture) {
			f.main.Add(t, &helmtest.Chart{Name: "app", Version: "1.1.0"}, nil, true)
		}, helm.ErrUnsigned},
		{"dependency repository not configured", func(t *testing.T, f *fixture) {
			v, _ := signers(t)
			f.main.Add(t, &helmtest.Chart{Name: "app", Version: "1.1.0", Dependencies: []map[string]string{
				{"name": "x", "version": "1.0.0", "repository": "https://charts.unknown.example"}}}, v, true)
		}, helm.ErrDependency},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			c.mangle(t, f)
			libs, main := f.mirrors()
			sync2(t, libs)
			_, err := main.Sync(context.Background())
			require.ErrorIs(t, err, c.want)
			require.Contains(t, err.Error(), "app 1.1.0")
			_, err = store.Current(context.Background(), f.s, "helm/main")
			require.ErrorIs(t, err, store.ErrNotFound, "nothing published")
			_, err = store.Current(context.Background(), f.s, "helm/libs")
			require.NoError(t, err, "the other mirror published")
		})
	}
}

func TestDependencyErrorNamesChartAndURL(t *testing.T) {
	f := newFixture(t)
	_, main := f.mirrors()
	main.Repositories = nil
	_, err := main.Sync(context.Background())
	require.ErrorIs(t, err, helm.ErrDependency)
	require.ErrorIs(t, err, store.ErrConfig)
	for _, s := range []string{"chart app 1.", "dependency lib", f.libs.URL()} {
		require.Contains(t, err.Error(), s)
	}
	// The other mirror configured but not holding the dependency.
	libs, main := f.mirrors()
	libs.Charts = []helm.ChartSpec{{Name: "lib", Version: "<2.0.0"}}
	_, err = libs.Sync(context.Background())
	require.ErrorIs(t, err, helm.ErrNoChart)
	_, err = main.Sync(context.Background())
	require.ErrorIs(t, err, helm.ErrDependency)
	require.True(t, strings.Contains(err.Error(), "has not published"), err.Error())
}

// A held version whose upstream digest changes is fetched and verified again: a valid
// re-release is taken, a bad one fails the mirror and keeps the published tree.
func TestChangedDigestIsVerifiedAgain(t *testing.T) {
	f := newFixture(t)
	libs, main := f.mirrors()
	sync2(t, libs, main)
	before, err := store.Current(context.Background(), f.s, "helm/main")
	require.NoError(t, err)
	b, _ := helmtest.Package(&helmtest.Chart{Name: "app", Version: "1.1.0", Image: "evil.example/x:1"})
	f.main.Tamper("app", "1.1.0", b, false)
	_, err = main.Sync(context.Background())
	require.ErrorIs(t, err, helm.ErrDigest)
	after, err := store.Current(context.Background(), f.s, "helm/main")
	require.NoError(t, err)
	require.Equal(t, before.Record, after.Record)

	v, _ := signers(t)
	f.main.Add(t, &helmtest.Chart{Name: "app", Version: "1.1.0", Image: "registry.example/app:1.1.0-r1"}, v, true)
	st, err := main.Sync(context.Background())
	require.NoError(t, err)
	require.True(t, st.Changed)
}

func TestSelect(t *testing.T) {
	var vs []*helm.Version
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0", "not-semver", "v0.9.0"} {
		vs = append(vs, &helm.Version{Name: "c", Version: v})
	}
	names := func(vs []*helm.Version) (out []string) {
		for _, v := range vs {
			out = append(out, v.Version)
		}
		return out
	}
	got, err := helm.Select(vs, "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"2.0.0"}, names(got))
	got, err = helm.Select(vs, ">=1.0.0 <2.0.0", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"1.1.0", "1.0.0"}, names(got))
	got, err = helm.Select(vs, ">=1.2.0-0 <2.0.0", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"1.2.0-rc.1"}, names(got))
	got, err = helm.Select(vs, "*", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"2.0.0", "1.1.0"}, names(got))
	_, err = helm.Select(vs, ">5", 0)
	require.True(t, errors.Is(err, helm.ErrNoChart) && errors.Is(err, store.ErrNotFound))
}

func TestResolveURL(t *testing.T) {
	for _, c := range [][3]string{
		{"https://charts.example/sub", "a-1.tgz", "https://charts.example/sub/a-1.tgz"},
		{"https://charts.example/sub/", "a-1.tgz", "https://charts.example/sub/a-1.tgz"},
		{"https://charts.example/sub?token=x", "a-1.tgz", "https://charts.example/sub/a-1.tgz?token=x"},
		{"https://charts.example/sub", "https://github.com/o/r/releases/download/a-1/a-1.tgz", "https://github.com/o/r/releases/download/a-1/a-1.tgz"},
		{"https://charts.example/sub", "../x/a-1.tgz", "https://charts.example/x/a-1.tgz"},
	} {
		got, err := helm.ResolveURL(c[0], c[1])
		require.NoError(t, err)
		require.Equal(t, c[2], got, c)
	}
	require.Equal(t, helm.NormalizeURL("HTTPS://Charts.Example:443/x/"), helm.NormalizeURL("https://charts.example/x/index.yaml"))
}

// Unresolved notices a dependency the other mirror no longer holds.
func TestUnresolved(t *testing.T) {
	f := newFixture(t)
	libs, main := f.mirrors()
	sync2(t, libs, main)
	u, err := helm.Unresolved(context.Background(), f.s, "helm/main")
	require.NoError(t, err)
	require.Empty(t, u)
	libs.Charts = []helm.ChartSpec{{Name: "lib", Version: "=3.0.0-rc.1"}}
	sync2(t, libs)
	u, err = helm.Unresolved(context.Background(), f.s, "helm/main")
	require.NoError(t, err)
	require.Len(t, u, 2) // app 1.0.0 and 1.1.0
	require.Contains(t, u[0], "helm/libs:lib@^2.0.0")
}

// A server without validators: the same index bytes are "not modified" too; only the
// index is fetched.
func TestNoOpWithoutValidators(t *testing.T) {
	f := newFixture(t)
	f.main.NoValidators = true
	libs, main := f.mirrors()
	sync2(t, libs, main)
	provs := f.main.Gets("common-1.0.0.tgz.prov")
	st, err := main.Sync(context.Background())
	require.NoError(t, err)
	require.False(t, st.Changed)
	require.Equal(t, 1, st.Downloaded)
	require.Equal(t, 3, st.Versions)
	require.Equal(t, provs, f.main.Gets("common-1.0.0.tgz.prov"))
}
