package helm_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/store"
)

func TestParseIndex(t *testing.T) {
	for _, f := range []string{"testdata/index.yaml", "testdata/index.json"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		idx, err := helm.ParseIndex(b)
		require.NoError(t, err, f)
		require.NotEmpty(t, idx.Entries, f)
	}
	b, _ := os.ReadFile("testdata/index.yaml")
	idx, err := helm.ParseIndex(b)
	require.NoError(t, err)
	cm := idx.Entries["cert-manager"]
	require.Equal(t, "v1.14.5", cm[0].Version)
	require.Equal(t, "1", cm[1].Version, "an unquoted 1.0 is a YAML number, as helm's own decoder sees it")

	for name, in := range map[string]string{
		"apiVersion v2":    "apiVersion: v2\nentries: {}\n",
		"no apiVersion":    "entries: {}\n",
		"name not its key": "apiVersion: v1\nentries: {a: [{name: b, version: 1.0.0, urls: [x]}]}\n",
		"no urls":          "apiVersion: v1\nentries: {a: [{name: a, version: 1.0.0}]}\n",
		"bad digest":       "apiVersion: v1\nentries: {a: [{name: a, version: 1.0.0, urls: [x], digest: zz}]}\n",
		"not yaml":         "{[",
	} {
		_, err := helm.ParseIndex([]byte(in))
		require.ErrorIs(t, err, store.ErrMalformed, name)
	}
	_, err = helm.ParseIndex(bytes.Repeat([]byte{' '}, int(helm.MaxIndexSize)+1))
	require.ErrorIs(t, err, store.ErrTooLarge)
}

func TestDependencyKinds(t *testing.T) {
	v, _ := signers(t)
	for name, c := range map[string]struct {
		deps     []map[string]string
		vendored []*helmtest.Chart
		oci      map[string]string
		want     error
		need     string
	}{
		"vendored needs nothing": {deps: []map[string]string{{"name": "sub", "version": "1.0.0", "repository": "https://elsewhere.example"}},
			vendored: []*helmtest.Chart{{Name: "sub", Version: "1.0.0"}}},
		"file:// not vendored": {deps: []map[string]string{{"name": "sub", "version": "1.0.0", "repository": "file://../sub"}}, want: helm.ErrDependency},
		"local repo name":      {deps: []map[string]string{{"name": "sub", "version": "1.0.0", "repository": "@stable"}}, want: helm.ErrDependency},
		"oci without mirror":   {deps: []map[string]string{{"name": "redis", "version": "19.x", "repository": "oci://registry-1.docker.io/bitnamicharts"}}, want: helm.ErrDependency},
		"oci with mirror": {deps: []map[string]string{{"name": "redis", "version": "19.x", "repository": "oci://registry-1.docker.io/bitnamicharts"}},
			oci: map[string]string{"registry-1.docker.io/bitnamicharts": "charts"}, need: "oci/charts:registry-1.docker.io/bitnamicharts/redis@19.x"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.main.Add(t, &helmtest.Chart{Name: "app", Version: "1.1.0", Dependencies: c.deps, Vendored: c.vendored}, v, true)
			_, main := f.mirrors()
			main.Charts = []helm.ChartSpec{{Name: "app", Version: "1.1.0"}}
			main.OCIRepositories = c.oci
			_, err := main.Sync(context.Background())
			if c.want != nil {
				require.ErrorIs(t, err, c.want)
				require.ErrorContains(t, err, "dependency")
				return
			}
			require.NoError(t, err)
			hs, err := helm.Charts(context.Background(), f.s, "helm/main")
			require.NoError(t, err)
			require.Len(t, hs, 1)
			if c.need != "" {
				require.Equal(t, []string{c.need}, hs[0].Needs)
			}
		})
	}
}
