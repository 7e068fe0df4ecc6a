package site

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// publishTree publishes files (path -> content) under ref, as a sync would.
func publishTree(t testing.TB, s store.Store, ref string, files map[string]string) {
	t.Helper()
	ctx := context.Background()
	_, _, err := store.Update(ctx, s, ref, store.TrustOf(struct{}{}), func(store.Prev) (*store.Snapshot, error) {
		snap := store.NewSnapshot()
		for p, c := range files {
			info, err := store.PutBytes(ctx, s, store.Expect{}, []byte(c))
			if err != nil {
				return nil, err
			}
			if err := snap.Add(p, store.File{Digest: info.Digest, Size: info.Size}); err != nil {
				return nil, err
			}
		}
		return snap, nil
	})
	require.NoError(t, err)
}

// transparentSite is Debian's two archives on one host, and MAAS's images, each mirrored
// and published.
func transparentSite(t testing.TB) (*Server, *Config) {
	t.Helper()
	cfg, err := Parse(filepath.Join(t.TempDir(), "airgap.yaml"), []byte(`
apt:
  - {name: debian, url: http://deb.debian.org/debian, suites: [bookworm]}
  - {name: security, url: http://deb.debian.org/debian-security/, suites: [bookworm-security]}
simplestreams:
  - {name: maas, url: "http://images.maas.io/ephemeral-v3/stable/"}
files:
  - {name: tools, urls: ["http://downloads.example.org/t.tgz?checksum=sha256:00"]}
hosts:
  deb.debian.org: [apt/debian, apt/security]
  images.maas.io: simplestreams/maas
`))
	require.NoError(t, err)
	s := store.NewMemory()
	publishTree(t, s, "apt/debian", map[string]string{"dists/bookworm/InRelease": "main archive"})
	publishTree(t, s, "apt/security", map[string]string{"dists/bookworm-security/InRelease": "security archive"})
	publishTree(t, s, "simplestreams/maas", map[string]string{"streams/v1/index.sjson": "signed index"})
	return NewServer(cfg, cfg.Env(s, nil, nil)), cfg
}

func TestHostsServeAtTheUpstreamPath(t *testing.T) {
	srv, _ := transparentSite(t)
	for _, tc := range []struct {
		host, path string
		code       int
		body       string
	}{
		{"deb.debian.org", "/debian/dists/bookworm/InRelease", 200, "main archive"},
		{"deb.debian.org:80", "/debian-security/dists/bookworm-security/InRelease", 200, "security archive"},
		{"DEB.debian.org", "/debian/dists/bookworm/InRelease", 200, "main archive"},
		{"images.maas.io", "/ephemeral-v3/stable/streams/v1/index.sjson", 200, "signed index"},
		{"deb.debian.org", "/debian-security/dists/bookworm/InRelease", 404, ""}, // the other archive's suite
		{"deb.debian.org", "/dists/bookworm/InRelease", 404, ""},
		{"deb.debian.org", "/debianx/dists/bookworm/InRelease", 404, ""},
		{"images.maas.io", "/streams/v1/index.sjson", 404, ""},
		{"mirror.internal", "/apt/security/dists/bookworm-security/InRelease", 200, "security archive"},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", tc.path, nil)
		r.Host = tc.host
		srv.ServeHTTP(rec, r)
		assert.Equal(t, tc.code, rec.Code, "%s%s", tc.host, tc.path)
		if tc.body != "" {
			assert.Equal(t, tc.body, rec.Body.String(), "%s%s", tc.host, tc.path)
		}
	}
}

// A client with the mirror as its HTTP proxy (apt's Acquire::http::Proxy, http_proxy=)
// sends absolute URIs: routed like Host requests; any other host is refused, never fetched.
func TestProxyRequests(t *testing.T) {
	srv, _ := transparentSite(t)
	mirror := httptest.NewServer(srv)
	defer mirror.Close()
	proxy, _ := url.Parse(mirror.URL)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	get := func(u string) (int, string) {
		resp, err := client.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("http://deb.debian.org/debian-security/dists/bookworm-security/InRelease")
	assert.Equal(t, 200, code)
	assert.Equal(t, "security archive", body)
	code, body = get("http://images.maas.io/ephemeral-v3/stable/streams/v1/index.sjson")
	assert.Equal(t, 200, code)
	assert.Equal(t, "signed index", body)

	code, body = get("http://archive.ubuntu.com/ubuntu/dists/noble/InRelease")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, body, "archive.ubuntu.com is not a mirrored host")
	// The mirror's own paths answer for its own address, in proxy form too.
	code, body = get(mirror.URL + "/apt/debian/dists/bookworm/InRelease")
	assert.Equal(t, 200, code)
	assert.Equal(t, "main archive", body)

	req, _ := http.NewRequest(http.MethodConnect, mirror.URL, nil)
	req.Host = "deb.debian.org:443"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestHostRoutesOrder(t *testing.T) {
	_, cfg := transparentSite(t)
	routes, err := cfg.hostRoutes("deb.debian.org")
	require.NoError(t, err)
	assert.Equal(t, []route{{"/debian-security", "apt/security"}, {"/debian", "apt/debian"}}, routes)
}
