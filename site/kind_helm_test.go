package site

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestHelmKind: helm: entries parse with the words, the helm mirrors sync in
// config order so that one finds a dependency another holds, a mirror whose chart needs
// an unconfigured repository fails alone, and the server answers /helm/<name>/.
func TestHelmKind(t *testing.T) {
	signer, err := pgp.GenerateKey("Vendor", "v@example.org", pgp.KeyOptions{})
	require.NoError(t, err)
	libs, apps := helmtest.New(t), helmtest.New(t)
	libs.Add(t, &helmtest.Chart{Name: "lib", Version: "2.1.0"}, signer, false)
	apps.Add(t, &helmtest.Chart{Name: "app", Version: "1.0.0", Dependencies: []map[string]string{
		{"name": "lib", "version": "^2", "repository": libs.URL()}}}, signer, true)
	apps.Add(t, &helmtest.Chart{Name: "lonely", Version: "1.0.0", Dependencies: []map[string]string{
		{"name": "x", "version": "1", "repository": "https://charts.nowhere.example"}}}, signer, false)

	dir := t.TempDir()
	pub, err := signer.PublicKey(true)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vendor.asc"), pub, 0o644))
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte(`
oci:
  - name: k8s
    images: [registry.example/app:1.0.0]
helm:
  - name: libs
    url: `+libs.URL()+`
    keyring: ./vendor.asc
    required: true
    charts: [{name: lib, latest: 1}]
  - name: apps
    url: `+apps.URL()+`/
    keyring: ./vendor.asc
    charts:
      - {name: app, version: ">=1.0.0 <2.0.0", exclude_images: [busybox]}
    images_to: k8s
    values: [./values/app.yaml]
    kube_version: "1.30.0"
  - name: bad
    url: `+apps.URL()+`
    keyring: ./vendor.asc
    charts: [{name: lonely}]
`))
	require.NoError(t, err)
	require.Len(t, cfg.Mirrors.Helm, 3)
	require.Equal(t, []string{"helm/libs"}, cfg.Mirrors.Helm[1].After())
	require.Equal(t, "k8s", cfg.Mirrors.Helm[1].ImagesTo())

	s := store.NewMemory()
	env := cfg.Env(s, nil, nil)
	ctx := context.Background()
	ms := []Mirror{cfg.Mirrors.Helm[2], cfg.Mirrors.Helm[1], cfg.Mirrors.Helm[0]} // any order: the ones before come first
	err = env.SyncAll(ctx, ms, SyncOptions{})
	var se *SyncError
	require.True(t, errors.As(err, &se), "%v", err)
	require.Len(t, se.Failed, 1)
	require.ErrorIs(t, se.Failed["helm/bad"], helm.ErrDependency)
	require.ErrorContains(t, se.Failed["helm/bad"], "https://charts.nowhere.example")

	items, err := cfg.Mirrors.Helm[1].Inventory(ctx, s)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.Equal(t, "pkg:helm/app@1.0.0", items[0].PURL)

	sts, err := cfg.Status(ctx, s, time.Now())
	require.NoError(t, err)
	for _, st := range sts {
		if st.Ref == "helm/apps" {
			require.Empty(t, st.Warnings)
		}
	}
	// A version without .prov (not required here) is held, and status says so.
	apps.Add(t, &helmtest.Chart{Name: "app", Version: "1.1.0", Dependencies: []map[string]string{
		{"name": "lib", "version": "^2", "repository": libs.URL()}}}, nil, true)
	_, err = cfg.Mirrors.Helm[1].Sync(ctx, env)
	require.NoError(t, err)
	sts, err = cfg.Status(ctx, s, time.Now())
	require.NoError(t, err)
	var warned []string
	for _, st := range sts {
		if st.Ref == "helm/apps" {
			warned = st.Warnings
		}
	}
	require.Len(t, warned, 1)
	require.Contains(t, warned[0], "1 of 2 chart versions have no verified provenance")

	h := cfg.Mirrors.Helm[1]
	sig, err := h.Signature(ctx, s, nil)
	require.NoError(t, err)
	require.Equal(t, "upstream", sig.By)
	require.Equal(t, []string{signer.Fingerprint()}, sig.Fingerprints)
	sn, err := h.Snippets(ctx, s, "http://mirror.internal/helm/apps/", nil)
	require.NoError(t, err)
	require.Equal(t, "helm repo add apps http://mirror.internal/helm/apps\nhelm pull apps/app --version 1.0.0 --verify --keyring vendor.asc\n", sn[0].Text)

	srv := httptest.NewServer(NewServer(cfg, env))
	t.Cleanup(srv.Close)
	for p, want := range map[string]int{"/helm/apps/index.yaml": 200, "/helm/apps/app-1.0.0.tgz": 200, "/helm/apps/app-1.0.0.tgz.prov": 200,
		"/helm/libs/lib-2.1.0.tgz": 200, "/helm/apps/lib-2.1.0.tgz": 404, "/helm/bad/index.yaml": 404} {
		resp, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, p)
	}

	_, err = Parse(filepath.Join(dir, "airgap.yaml"), []byte(`
helm:
  - name: apps
    url: `+apps.URL()+`
    charts: [{name: app}]
    images_to: nowhere
`))
	require.ErrorIs(t, err, store.ErrConfig)
	require.ErrorContains(t, err, "names no configured oci mirror")
}

// TestHelmImagesJoinTheOCIMirror: the images a held chart renders (with the configured
// values over its defaults) are copied by the oci mirror images_to names, and its
// inventory says which chart asked; a chart that does not render fails that oci
// mirror naming the chart and version.
func TestHelmImagesJoinTheOCIMirror(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.Start()
	require.NoError(t, err)
	defer up.Close()
	signer, err := pgp.GenerateKey("Vendor", "v@example.org", pgp.KeyOptions{})
	require.NoError(t, err)
	repo := helmtest.New(t)
	repo.Add(t, &helmtest.Chart{Name: "web", Version: "1.0.0", Image: up.Ref("library/app:1.0.0")}, signer, false)

	dir := t.TempDir()
	pub, err := signer.PublicKey(true)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vendor.asc"), pub, 0o644))
	// The values file overrides the chart's image, as `helm template -f` would.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "values"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "values", "web.yaml"), []byte("image: "+up.Ref("library/app:1.1.0")+"\n"), 0o644))
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte(`
oci:
  - name: k8s
    registries: [{host: `+up.Host+`, plain_http: true}]
helm:
  - name: charts
    url: `+repo.URL()+`
    keyring: ./vendor.asc
    charts: [{name: web, images: [`+up.Ref("library/alpine:3.19")+`]}]
    images_to: k8s
    values: [values/web.yaml]
`))
	require.NoError(t, err)
	s := store.NewMemory()
	env := cfg.Env(s, nil, nil)
	require.NoError(t, env.SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{}))
	by := requestedBy(t, s, cfg.Mirrors.OCI[0])
	assert.Equal(t, map[string][]string{
		"library/app:1.1.0":   {"helm/charts web 1.0.0"},
		"library/alpine:3.19": {"helm/charts web 1.0.0"},
	}, by)

	// Values that break the template: the oci mirror fails, naming the chart.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "values", "web.yaml"), []byte("replicas: [\n"), 0o644))
	err = env.SyncAll(ctx, []Mirror{cfg.Mirrors.OCI[0]}, SyncOptions{})
	var se *SyncError
	require.ErrorAs(t, err, &se)
	require.Contains(t, se.Failed, "oci/k8s")
	assert.ErrorContains(t, se.Failed["oci/k8s"], "helm/charts")
	assert.Len(t, requestedBy(t, s, cfg.Mirrors.OCI[0]), 2, "the last published tree stays")
}

// TestHelmPlan: sync --dry-run plans a helm mirror (helm.Mirror.Plan): before a sync
// the archives' sizes are unknown (an index gives none) and reported so, after it the
// store holds them.
func TestHelmPlan(t *testing.T) {
	ctx := context.Background()
	repo := helmtest.New(t)
	repo.Add(t, &helmtest.Chart{Name: "web", Version: "1.0.0"}, nil, false)
	cfg, err := Parse(filepath.Join(t.TempDir(), "airgap.yaml"), []byte(`
helm:
  - name: charts
    url: `+repo.URL()+`
    charts: [{name: web}]
`))
	require.NoError(t, err)
	s := store.NewMemory()
	env := cfg.Env(s, nil, nil)
	r, err := env.PlanAll(ctx, cfg.Mirrors.All())
	require.NoError(t, err)
	require.Len(t, r.Mirrors, 1)
	mp := r.Mirrors[0]
	require.NoError(t, mp.Err)
	assert.False(t, mp.Unplanned)
	assert.Equal(t, 2, mp.Unknown, "the archive and its .prov: sizes unknown")
	assert.True(t, r.Partial)

	require.NoError(t, env.SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{}))
	r, err = env.PlanAll(ctx, cfg.Mirrors.All())
	require.NoError(t, err)
	assert.Equal(t, 1, r.Mirrors[0].Held, "the archive, by its index digest")
	assert.Zero(t, r.Mirrors[0].Unknown, "the held version has no .prov: none is planned")
	assert.False(t, r.Partial)
}
