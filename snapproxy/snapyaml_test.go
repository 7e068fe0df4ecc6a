package snapproxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

func TestSnapYAMLDependencies(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		// snapd >= 2.66 installs the snapd snap before any application on a classic
		// system without it, whatever the base.
		{"name: a\n", []string{"core", "snapd"}},
		{"name: a\nbase: core\n", []string{"core", "snapd"}},
		{"name: a\nbase: core22\n", []string{"core22", "snapd"}},
		// base: none means no base, not a snap named none.
		{"name: a\nbase: none\n", []string{"snapd"}},
		// Bases, os, kernel, gadget and snapd have no prerequisites.
		{"name: core22\ntype: base\n", nil},
		{"name: core\ntype: os\n", nil},
		{"name: snapd\ntype: snapd\n", nil},
		{"name: pc-kernel\ntype: kernel\nbase: core22\n", nil},
		{"name: pc\ntype: gadget\nbase: core22\n", nil},
		{"name: a\nbase: core20\nplugs:\n  themes:\n    interface: content\n    default-provider: gtk-common-themes:gtk-3-themes\n  x11: {}\n  other:\n    interface: home\n", []string{"core20", "gtk-common-themes", "snapd"}},
		{"name: a\nplugs:\n  content:\n    default-provider: prov\n", []string{"core", "prov", "snapd"}},
	} {
		y, err := ParseSnapYAML([]byte(tc.yaml))
		require.NoError(t, err, tc.yaml)
		assert.Equal(t, tc.want, y.Dependencies(), tc.yaml)
	}
	for _, bad := range []string{"name: [", "name: a\nbase: ../etc\n", "name: a\nplugs:\n  p:\n    interface: content\n    default-provider: 'bad name'\n"} {
		_, err := ParseSnapYAML([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
}

func TestMirrorConfigYAML(t *testing.T) {
	var m Mirror
	require.NoError(t, yaml.Unmarshal([]byte(`
name: maas
url: https://snaps.example.internal
snaps:
  - name: maas
    channel: 3.5/stable
  - name: lxd
    revision: 1234
    architectures: [arm64]
architectures: [amd64, arm64]
trusted_keys: /etc/airgap/snap-root.assert
authorization: Macaroon x
`), &m))
	assert.Equal(t, "snaps/maas", m.Ref())
	assert.Equal(t, []SnapSpec{{Name: "maas", Channel: "3.5/stable"}, {Name: "lxd", Revision: 1234, Architectures: []string{"arm64"}}}, m.Snaps)
	assert.Equal(t, "/etc/airgap/snap-root.assert", m.TrustedKeys)
	assert.Equal(t, []string{"https://snaps.example.internal"}, m.Endpoints())
	assert.Equal(t, []string{DefaultStoreURL, "https://*.snapcraftcontent.com"}, (&Mirror{}).Endpoints())

	// The old name still reads.
	var old Mirror
	require.NoError(t, yaml.Unmarshal([]byte("name: maas\nstore_url: https://old.example.internal\n"), &old))
	assert.Equal(t, []string{"https://old.example.internal"}, old.Endpoints())
}

// The store's download URL redirects to another host: the Authorization header sent to
// the store must not follow.
func TestDownloadDropsAuthOnCDNRedirect(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{Token: "tok"})
	s := store.NewMemory()
	c := &Client{BaseURL: srv.URL(), Fetch: &fetch.Client{Store: s}, Header: http.Header{"Authorization": {"Macaroon tok"}}}
	res, err := c.Refresh(context.Background(), "amd64", []Action{{Name: "hello"}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	got, err := c.Download(context.Background(), res[0].Snap.Download, "")
	require.NoError(t, err)
	assert.Equal(t, res[0].Snap.Download.Size, got.Blob.Size)
	assert.Contains(t, got.FinalURL, srv.CDN.URL)
	assert.Equal(t, int64(0), srv.CDNAuthorized())
	// Without the token the store refuses.
	c.Header = nil
	_, err = c.Refresh(context.Background(), "amd64", []Action{{Name: "hello"}})
	var he *fetch.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
}

func TestHandlerEdges(t *testing.T) {
	s := store.NewMemory()
	h := NewHandler(s, "snaps/none")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/install.sh", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/install.sh", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)

	srv := newStore(t, snapproxytest.Options{})
	m := newMirror(t, srv, s)
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	h = NewHandler(s, m.Ref())
	for path, code := range map[string]int{"/maas.snap": 200, "/maas.snap?arch=s390x": 404, "/nope.snap": 404, "/../x": 404, "/maas_100.assert": 200} {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, code, rec.Code, path)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/maas_100.assert", nil))
	assert.Equal(t, AssertionMediaType, rec.Header().Get("Content-Type"))
}

// Every application brings snapd (snapd >= 2.66 installs it first on a classic system
// without it), base core included; base: none brings no base.
func TestSyncAlwaysSnapd(t *testing.T) {
	ctx := context.Background()
	srv := snapproxytest.New(snapproxytest.Options{})
	t.Cleanup(srv.Close)
	srv.Add(snapproxytest.Snap{Name: "hello", Revision: 1})
	srv.Add(snapproxytest.Snap{Name: "core", Revision: 2, Type: "os"})
	srv.Add(snapproxytest.Snap{Name: "snapd", Revision: 3, Type: "snapd"})
	srv.Add(snapproxytest.Snap{Name: "static-tool", Revision: 4, Base: "none"})
	m := newMirror(t, srv, store.NewMemory())
	m.Snaps = []SnapSpec{{Name: "hello"}, {Name: "static-tool"}}
	m.Architectures = []string{"amd64"}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	out, err := ReadOutput(ctx, m.Store, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, []string{"snapd_3", "core_2", "hello_1", "static-tool_4"}, out.Manifest.Install["amd64"])
}
