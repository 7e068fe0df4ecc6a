package site

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/tlsutil"
)

// snapSite is a synced snaps mirror with connect: served on 127.0.0.1; ca is the PEM of
// the local CA a device trusts.
type snapSite struct {
	addr  string
	ca    []byte
	trust *snapproxy.Trust
	root  string
}

func newSnapSite(t *testing.T, o ServeOptions, connect bool) *snapSite {
	t.Helper()
	up := snapproxytest.New(snapproxytest.Options{})
	t.Cleanup(up.Close)
	up.AddDemo()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "root.assert"), up.TrustedKeys(), 0o644))
	ca, err := tlsutil.NewCA(tlsutil.CAOptions{KeyType: tlsutil.ECDSAP256})
	require.NoError(t, err)
	require.NoError(t, ca.WriteFiles(filepath.Join(dir, "ca")))
	conf := "snaps:\n  - name: maas\n    url: " + up.URL() + "\n    trusted_keys: root.assert\n    snaps: [{name: maas}]\n    architectures: [amd64]\n"
	if connect {
		conf += "    connect: {ca_cert: ca/cert.pem, ca_key: ca/key.pem}\n"
	}
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte(conf))
	require.NoError(t, err)
	cfg.Serve = o
	env := cfg.Env(store.NewMemory(), nil, nil)
	_, err = cfg.Mirrors.Snaps[0].Sync(context.Background(), env)
	require.NoError(t, err)
	trust, err := snapproxy.ParseTrust(up.TrustedKeys())
	require.NoError(t, err)
	return &snapSite{addr: serveWith(t, NewServer(cfg, env), o), ca: ca.CertPEM(), trust: trust, root: up.Root.ID}
}

// client uses the mirror as its HTTPS proxy and trusts the local CA only.
func (s *snapSite) client(t *testing.T) *http.Client {
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(s.ca))
	proxy, _ := url.Parse("http://" + s.addr)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func (s *snapSite) device(t *testing.T) *snapproxytest.Device {
	return &snapproxytest.Device{Store: "https://api.snapcraft.io", HTTP: s.client(t), Trusted: []string{s.root},
		Verify: func(stream [][]byte) error {
			set, err := snapproxy.DecodeAll(bytes.NewReader(bytes.Join(stream, []byte("\n"))), 0)
			if err != nil {
				return err
			}
			return s.trust.Verify(set)
		}}
}

// snap set system proxy.https=http://mirror:PORT + store-certs: the device talks to
// api.snapcraft.io through the mirror, which answers the CONNECT with a certificate of
// the local CA and serves the store API inside.
func TestConnectServesTheStoreAPI(t *testing.T) {
	ctx := context.Background()
	site := newSnapSite(t, ServeOptions{}, true)
	d := site.device(t)
	in, err := d.Install(ctx, "maas", "", 0)
	require.NoError(t, err)
	assert.Equal(t, 100, in.Revision)
	assert.Equal(t, "3.5/stable", in.Channel)
	changed, err := d.Refresh(ctx)
	require.NoError(t, err)
	assert.Empty(t, changed)
	info, err := d.Info(ctx, "maas")
	require.NoError(t, err)
	assert.Equal(t, 100, info.ChannelMap[0].Revision)

	// The CDN host gets its own certificate; the tunnel answers the same API.
	resp, err := site.client(t).Get("https://canonical-lgw01.cdn.snapcraftcontent.com/v2/snaps/info/nosuch")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "no Snap-Device-Series")
}

// Any other host is refused with 403 and the connection closed; so is another port.
func TestConnectRefusesOtherHosts(t *testing.T) {
	site := newSnapSite(t, ServeOptions{}, true)
	for _, target := range []string{"https://example.com/", "https://login.ubuntu.com/", "https://api.snapcraft.io:8443/", "https://snapcraftcontent.com/"} {
		_, err := site.client(t).Get(target)
		require.Error(t, err, target)
		assert.Contains(t, err.Error(), "Forbidden", target)
	}
	c, err := net.Dial("tcp", site.addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.True(t, resp.Close, "the connection is closed")

	// A client that asks the tunnel to api.snapcraft.io for another name gets no
	// certificate.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(site.ca)
	raw := connectTo(t, site.addr, "api.snapcraft.io:443")
	err = tls.Client(raw, &tls.Config{ServerName: "evil.example", RootCAs: pool}).Handshake()
	require.Error(t, err)
}

// Without connect: CONNECT is not offered at all, and status says snapd cannot refresh
// from the mirror.
func TestConnectNotConfigured(t *testing.T) {
	site := newSnapSite(t, ServeOptions{}, false)
	_, err := site.client(t).Get("https://api.snapcraft.io/v2/snaps/info/maas")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Method Not Allowed")
	for _, connect := range []bool{false, true} {
		m := &SnapsMirror{}
		if connect {
			m.Connect = &SnapsConnect{CACert: "c", CAKey: "k"}
		}
		assert.Equal(t, !connect, len(m.Warnings()) == 1, "connect %v", connect)
	}
}

// connectTo opens a tunnel and returns the connection after the 200.
func connectTo(t *testing.T, addr, target string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Zero(t, br.Buffered())
	return c
}

// The serve timeouts hold inside a tunnel: a client that opens one and never speaks
// TLS, or leaves it idle, is closed.
func TestConnectTunnelTimeouts(t *testing.T) {
	o := ServeOptions{ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	site := newSnapSite(t, o, true)
	silent := connectTo(t, site.addr, "api.snapcraft.io:443")
	assert.True(t, closedWithin(t, silent, 5*time.Second), "no TLS handshake: closed")

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(site.ca)
	tc := tls.Client(connectTo(t, site.addr, "api.snapcraft.io:443"), &tls.Config{ServerName: "api.snapcraft.io", RootCAs: pool})
	require.NoError(t, tc.Handshake())
	_, err := io.WriteString(tc, "GET /v2/snaps/refresh HTTP/1.1\r\nHost: api.snapcraft.io\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.True(t, closedWithin(t, tc, 5*time.Second), "idle tunnel: closed")
}

// curl, as a real client: the store API through the mirror as HTTPS proxy, verified
// against the local CA; another host refused.
func TestConnectWithCurl(t *testing.T) {
	curl := testutil.RequireBinary(t, "curl", "curl")
	site := newSnapSite(t, ServeOptions{}, true)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, site.ca, 0o644))
	out, err := exec.Command(curl, "-sS", "--fail", "--proxy", "http://"+site.addr, "--cacert", caFile,
		"-H", "Snap-Device-Series: 16", "https://api.snapcraft.io/v2/snaps/info/maas?architecture=amd64").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), `"default-track":"3.5"`)
	out, err = exec.Command(curl, "-sS", "--proxy", "http://"+site.addr, "--cacert", caFile, "https://example.com/").CombinedOutput()
	require.Error(t, err)
	assert.True(t, strings.Contains(string(out), "403"), string(out))
}

// TestConnectWithRealSnap: snapd's own store client (`snap download`, Debian's snapd),
// with the mirror as its HTTPS proxy and the local CA as its only root, talks to
// api.snapcraft.io through the tunnel: resolves, downloads (sha3-384 checked) and
// fetches the assertions up to the test root, which it does not build in.
func TestConnectWithRealSnap(t *testing.T) {
	snap := testutil.RequireBinary(t, "snap", "snapd")
	site := newSnapSite(t, ServeOptions{}, true)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, site.ca, 0o644))
	out, err := testutil.RunErr(t, time.Minute, []string{"https_proxy=http://" + site.addr, "HTTPS_PROXY=", "no_proxy=", "NO_PROXY=",
		"SSL_CERT_FILE=" + ca, "SSL_CERT_DIR=" + dir, "HOME=" + dir, "SNAPPY_FORCE_API_URL="}, snap, "download", "--target-directory="+dir, "maas")
	require.Error(t, err, "the test root is not snapd's")
	assert.Contains(t, out, `Fetching assertions for "maas"`)
	assert.Contains(t, out, "circular assertions are not expected: account-key ("+site.root+")")
	got, err := os.ReadFile(filepath.Join(dir, "maas_100.snap"))
	require.NoError(t, err)
	assert.Equal(t, snapproxytest.Content("maas", 100, "amd64", 0), got)
}

// With DNS pointing api.snapcraft.io at the mirror (hosts:), the store API answers at the
// root of that host, and its download URLs stay on it.
func TestSnapsTransparentHost(t *testing.T) {
	up := snapproxytest.New(snapproxytest.Options{})
	t.Cleanup(up.Close)
	up.AddDemo()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "root.assert"), up.TrustedKeys(), 0o644))
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte("external_url: http://mirror.internal:8080\nsnaps:\n  - name: maas\n    url: "+up.URL()+
		"\n    trusted_keys: root.assert\n    snaps: [{name: maas}]\n    architectures: [amd64]\nhosts:\n  api.snapcraft.io: snaps/maas\n"))
	require.NoError(t, err)
	env := cfg.Env(store.NewMemory(), nil, nil)
	_, err = cfg.Mirrors.Snaps[0].Sync(context.Background(), env)
	require.NoError(t, err)
	srv := NewServer(cfg, env)
	for host, want := range map[string]string{
		"api.snapcraft.io":     `"url":"http://api.snapcraft.io/api/v1/snaps/download/`,
		"mirror.internal:8080": `"url":"http://mirror.internal:8080/snaps/maas/api/v1/snaps/download/`,
	} {
		path := "/v2/snaps/info/maas"
		if host != "api.snapcraft.io" {
			path = "/snaps/maas" + path
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = host
		req.Header.Set("Snap-Device-Series", "16")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, host)
		assert.Contains(t, rec.Body.String(), want, host)
	}
}
