package helm_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// ociCharts is an upstream registry holding charts under charts/<name>, as helm push
// leaves them (tags with "_" for "+"), with the archives by tag.
type ociCharts struct {
	reg  *ocitest.Registry
	tgz  map[string][]byte // by "name:tag"
	keys string
}

func newOCICharts(t *testing.T) *ociCharts {
	reg, err := ocitest.StartEmpty()
	require.NoError(t, err)
	t.Cleanup(reg.Close)
	v, _ := signers(t)
	return &ociCharts{reg: reg, tgz: map[string][]byte{}, keys: keyringFile(t, v)}
}

// push packages c and pushes it under its version's tag; signer nil: no provenance.
func (o *ociCharts) push(t *testing.T, c *helmtest.Chart, signer *pgp.Signer) ocitest.Manifest {
	t.Helper()
	tgz, err := helmtest.Package(c)
	require.NoError(t, err)
	var prov []byte
	if signer != nil {
		prov, err = helmtest.Prov(c, helmtest.File(c.Name, c.Version), tgz, signer)
		require.NoError(t, err)
	}
	tag := strings.ReplaceAll(c.Version, "+", "_")
	m := ocitest.Chart(helmtest.ChartJSON(c), tgz, prov)
	require.NoError(t, o.reg.PushManifest(context.Background(), "charts/"+c.Name, tag, m))
	o.tgz[c.Name+":"+tag] = tgz
	return m
}

func (o *ociCharts) mirror(s store.Store, charts ...helm.ChartSpec) *helm.Mirror {
	return &helm.Mirror{Name: "oci", URL: "oci://" + o.reg.Host + "/charts", PlainHTTP: true, Keyring: o.keys, Required: true,
		Charts: charts, Store: s, Fetch: &fetch.Client{Store: s, Retries: -1}}
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, u)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// An oci:// repository: tags listed (paged, Link followed), mapped to versions and
// selected like an index's, each manifest's chart and provenance layers verified, and
// the charts served as a classic repository whose archives are the upstream's bytes.
func TestOCIMirror(t *testing.T) {
	o := newOCICharts(t)
	v, _ := signers(t)
	for _, ver := range []string{"1.0.0", "1.1.0", "1.2.0+build.1", "2.0.0-rc.1"} {
		o.push(t, &helmtest.Chart{Name: "app", Version: ver}, v)
	}
	o.push(t, &helmtest.Chart{Name: "lib", Version: "0.3.0"}, v)
	o.reg.Faults.TagPage.Store(2) // app: two pages; 1.2.0_build.1 only on the second
	s := store.NewMemory()
	m := o.mirror(s, helm.ChartSpec{Name: "app", Version: ">=1.1.0"}, helm.ChartSpec{Name: "lib"})
	assert.Equal(t, []string{"http://" + o.reg.Host + "/v2/charts"}, m.Endpoints(), "the registry API, for firewall rules")
	st, err := m.Sync(context.Background())
	require.NoError(t, err)
	assert.True(t, st.Changed)
	assert.Equal(t, 3, st.Versions)
	assert.Equal(t, 3, st.Signed)

	base := serve(t, s, "oci") + "/helm/oci/"
	var idx struct {
		Entries map[string][]struct {
			Version, Digest, Created, Description string
			URLs                                  []string
		}
	}
	require.NoError(t, yaml.Unmarshal(get(t, base+"index.yaml"), &idx))
	require.Len(t, idx.Entries["app"], 2)
	assert.Equal(t, "1.2.0+build.1", idx.Entries["app"][0].Version, "newest first")
	assert.Equal(t, "1.1.0", idx.Entries["app"][1].Version)
	assert.Equal(t, "test chart app", idx.Entries["app"][0].Description, "the entry is the chart's config")
	assert.Equal(t, "2024-01-01T00:00:00Z", idx.Entries["app"][0].Created, "created from the manifest annotation")
	for key, tgz := range map[string]string{"app:1.2.0_build.1": "app-1.2.0+build.1.tgz", "lib:0.3.0": "lib-0.3.0.tgz"} {
		e := idx.Entries[strings.Split(key, ":")[0]][0]
		assert.Equal(t, []string{tgz}, e.URLs)
		body := get(t, base+tgz)
		assert.Equal(t, o.tgz[key], body, "byte-identical to the chart layer")
		sum := sha256.Sum256(body)
		assert.Equal(t, hex.EncodeToString(sum[:]), e.Digest)
		assert.Contains(t, string(get(t, base+tgz+".prov")), "BEGIN PGP SIGNED MESSAGE")
	}
	hs, err := helm.Charts(context.Background(), s, "helm/oci")
	require.NoError(t, err)
	for _, h := range hs {
		assert.Contains(t, h.Upstream, "oci://"+o.reg.Host+"/charts/"+h.Name+":")
		assert.Contains(t, h.Upstream, "@sha256:")
	}

	// Nothing changed upstream: tags and manifests are read again, no blob is.
	o.reg.Requests()
	st, err = m.Sync(context.Background())
	require.NoError(t, err)
	assert.False(t, st.Changed)
	assert.Equal(t, 0, st.Downloaded)
	for _, r := range o.reg.Requests() {
		assert.NotContains(t, r, "/blobs/", "a held blob is not downloaded again")
	}
}

func TestOCIMirrorRefuses(t *testing.T) {
	v, rogue := signers(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, o *ociCharts)
		want  error
	}{
		{"unsigned under required", func(t *testing.T, o *ociCharts) {
			o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0"}, nil)
		}, helm.ErrUnsigned},
		{"signed by another key", func(t *testing.T, o *ociCharts) {
			o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0"}, rogue)
		}, helm.ErrSignature},
		{"chart layer changed after signing", func(t *testing.T, o *ociCharts) {
			c := &helmtest.Chart{Name: "app", Version: "1.0.0"}
			tgz, err := helmtest.Package(c)
			require.NoError(t, err)
			prov, err := helmtest.Prov(c, "app-1.0.0.tgz", append([]byte("x"), tgz...), v)
			require.NoError(t, err)
			require.NoError(t, o.reg.PushManifest(ctx, "charts/app", "1.0.0", ocitest.Chart(helmtest.ChartJSON(c), tgz, prov)))
		}, helm.ErrDigest},
		{"Chart.yaml names another version", func(t *testing.T, o *ociCharts) {
			o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0", ChartYAMLVersion: "9.9.9"}, nil)
		}, helm.ErrMetadata},
		{"blob corrupted in transit", func(t *testing.T, o *ociCharts) {
			m := o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0"}, v)
			o.reg.Faults.CorruptBlob.Store(m.Blobs[1].Digest)
		}, store.ErrDigestMismatch},
		{"not a chart", func(t *testing.T, o *ociCharts) {
			require.NoError(t, o.reg.PushManifest(ctx, "charts/app", "1.0.0", ocitest.Image(ocitest.ImageSpec{Seed: 7})))
		}, helm.ErrMalformed},
		{"no such repository (NAME_UNKNOWN)", func(t *testing.T, o *ociCharts) {
			o.push(t, &helmtest.Chart{Name: "other", Version: "1.0.0"}, v)
		}, helm.ErrNoChart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOCICharts(t)
			tc.setup(t, o)
			s := store.NewMemory()
			m := o.mirror(s, helm.ChartSpec{Name: "app"})
			if tc.want == helm.ErrMetadata {
				m.Required = false
			}
			_, err := m.Sync(ctx)
			require.ErrorIs(t, err, tc.want)
			_, _, err = store.OpenPublished(ctx, s, "helm/oci")
			require.ErrorIs(t, err, store.ErrNotFound, "nothing published")
		})
	}
}

// plain http is the operator's word, never inferred from 127.0.0.1: without it the
// registry is asked over https, which this one does not speak.
func TestOCIMirrorHTTPSByDefault(t *testing.T) {
	o := newOCICharts(t)
	v, _ := signers(t)
	o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0"}, v)
	s := store.NewMemory()
	m := o.mirror(s, helm.ChartSpec{Name: "app"})
	m.PlainHTTP = false
	o.reg.Requests()
	_, err := m.Sync(context.Background())
	require.Error(t, err)
	assert.Empty(t, o.reg.Requests(), "no request went over plain http")
}

// A chart's dependency on its own oci:// repository joins the mirror (its tags listed
// on demand); one on another registry must be an oci mirror's.
func TestOCIMirrorDependencies(t *testing.T) {
	o := newOCICharts(t)
	v, _ := signers(t)
	for _, ver := range []string{"0.3.0", "0.4.0"} {
		o.push(t, &helmtest.Chart{Name: "lib", Version: ver}, v)
	}
	o.push(t, &helmtest.Chart{Name: "web", Version: "1.0.0", Dependencies: []map[string]string{
		{"name": "lib", "version": "~0.3", "repository": "oci://" + o.reg.Host + "/charts"}}}, v)
	o.push(t, &helmtest.Chart{Name: "api", Version: "1.0.0", Dependencies: []map[string]string{
		{"name": "redis", "version": "19.x", "repository": "oci://registry.example/bitnamicharts"}}}, v)
	s := store.NewMemory()
	st, err := o.mirror(s, helm.ChartSpec{Name: "web"}).Sync(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, st.Versions)
	hs, err := helm.Charts(context.Background(), s, "helm/oci")
	require.NoError(t, err)
	require.Len(t, hs, 2)
	assert.Equal(t, "lib-0.3.0.tgz", hs[0].File)
	assert.False(t, hs[0].Selected)

	_, err = o.mirror(store.NewMemory(), helm.ChartSpec{Name: "api"}).Sync(context.Background())
	require.ErrorIs(t, err, helm.ErrDependency)
	assert.ErrorContains(t, err, "registry.example/bitnamicharts/redis")
}

// A registry that answers 429 for a while: its API requests (the ping, tag lists,
// manifests) are asked again under the fetch client's retry policy, as blobs are.
func TestOCIMirrorRetries(t *testing.T) {
	o := newOCICharts(t)
	v, _ := signers(t)
	o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0"}, v)
	s := store.NewMemory()
	m := o.mirror(s, helm.ChartSpec{Name: "app"})
	m.Fetch = &fetch.Client{Store: s, Retries: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	for _, n := range []int64{1, 3} { // 429s in a row, within Retries
		o.reg.Faults.TooManyRequests.Store(n)
		_, err := m.Sync(context.Background())
		require.NoError(t, err, "%d answers 429", n)
	}
	o.reg.Faults.TooManyRequests.Store(-1)
	_, err := o.mirror(store.NewMemory(), helm.ChartSpec{Name: "app"}).Sync(context.Background())
	require.Error(t, err, "no retries left")
}
