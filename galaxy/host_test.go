package galaxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/store"
)

// TestHandlerNeverEchoesHost: whatever Host a request names, no answer of the handler
// (headers or body, found or not) carries it; download URLs name the listener, over TLS
// too, or the external URL when one is configured.
func TestHandlerNeverEchoesHost(t *testing.T) {
	s, m := syncedTestMirror(t)
	const forged = "evil.example:666"

	for _, tc := range []struct {
		name string
		srv  *httptest.Server
		want string // the prefix of every download URL
	}{
		{"listener", httptest.NewServer(http.StripPrefix("/g", NewHandler(s, m.Ref(), WithBasePath("/g")))), ""},
		{"tls listener", httptest.NewTLSServer(http.StripPrefix("/g", NewHandler(s, m.Ref(), WithBasePath("/g")))), ""},
		{"external", httptest.NewServer(http.StripPrefix("/g", NewHandler(s, m.Ref(), WithExternalURL("https://mirror.example/g")))), "https://mirror.example/g/download/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.srv.Close()
			client := tc.srv.Client() // trusts the TLS server's certificate
			want := tc.want
			if want == "" {
				want = tc.srv.URL + "/g/download/"
			}
			get := func(method, path string) (int, []byte) {
				req, err := http.NewRequest(method, tc.srv.URL+path, nil)
				require.NoError(t, err)
				req.Host = forged
				resp, err := client.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				for k, vs := range resp.Header {
					for _, v := range vs {
						assert.NotContains(t, v, "evil.example", "%s %s: header %s", method, path, k)
					}
				}
				assert.NotContains(t, string(b), "evil.example", "%s %s", method, path)
				return resp.StatusCode, b
			}
			_, b := get(http.MethodGet, "/g/api/v1/roles/?owner__username=jdoe&name=web")
			var roles struct {
				Results []struct {
					ID int64 `json:"id"`
				} `json:"results"`
			}
			require.NoError(t, json.Unmarshal(b, &roles))
			require.Len(t, roles.Results, 1)
			role := "/g/api/v1/roles/" + strconv.FormatInt(roles.Results[0].ID, 10)
			var downloads []string
			for _, p := range []string{
				"/g/api/", "/g/api/v3/", "/g/api/v3/collections/", "/g/api/v3/collections/acme/app/",
				"/g/api/v3/collections/acme/app/versions/", "/g/api/v3/collections/acme/app/versions/1.0.0/",
				"/g/api/v3/plugin/ansible/content/published/collections/index/acme/app/versions/1.1.0/",
				role + "/", role + "/versions/", "/g/api/v3/collections/acme/nope/", "/g/nope",
				"/g/download/acme-app-1.0.0.tar.gz", "/g/download/roles/jdoe/web/2.0.0.tar.gz", "/g/download/nope.tar.gz",
			} {
				status, b := get(http.MethodGet, p)
				if status != http.StatusOK || !strings.HasPrefix(p, "/g/api/") {
					continue
				}
				var doc struct {
					DownloadURL string `json:"download_url"`
					Results     []struct {
						DownloadURL string `json:"download_url"`
						Source      string `json:"source"`
					} `json:"results"`
				}
				require.NoError(t, json.Unmarshal(b, &doc), p)
				if doc.DownloadURL != "" {
					downloads = append(downloads, doc.DownloadURL)
				}
				for _, r := range doc.Results {
					if r.DownloadURL != "" {
						downloads = append(downloads, r.DownloadURL, r.Source)
					}
				}
			}
			get(http.MethodPost, "/g/api/")
			assert.Len(t, downloads, 2+2*2, "two version details, two role versions with download_url and source")
			for _, d := range downloads {
				assert.True(t, strings.HasPrefix(d, want), "%s starts with %s", d, want)
			}
			if tc.want == "" {
				status, _ := get(http.MethodGet, strings.TrimPrefix(downloads[0], tc.srv.URL))
				assert.Equal(t, http.StatusOK, status, "the listener's URL serves the artifact")
			}
		})
	}
}

// TestHandlerWithoutListener: a request served without a listener (a recorder, an
// in-process mux) gets a root-relative download_url, never its Host.
func TestHandlerWithoutListener(t *testing.T) {
	s, m := syncedTestMirror(t)
	req := httptest.NewRequest(http.MethodGet, "/api/v3/collections/acme/app/versions/1.0.0/", nil)
	req.Host = "evil.example"
	rec := httptest.NewRecorder()
	NewHandler(s, m.Ref(), WithBasePath("/g")).ServeHTTP(rec, req)
	var doc struct {
		DownloadURL string `json:"download_url"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	assert.Equal(t, "/g/download/acme-app-1.0.0.tar.gz", doc.DownloadURL)
}

// syncedTestMirror syncs testMirror from the standard upstream into a memory store.
func syncedTestMirror(t *testing.T) (store.Store, *Mirror) {
	t.Helper()
	_, u := upstream(t, galaxytest.Options{})
	s := store.NewMemory()
	m := testMirror(s, u)
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	return s, m
}
