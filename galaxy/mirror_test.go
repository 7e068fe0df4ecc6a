package galaxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func newFetch(s store.Store) *fetch.Client {
	return &fetch.Client{Store: s, Retries: 1, Sleep: noSleep}
}

// upstream builds the standard test upstream: acme.lib with four versions (one a
// pre-release), acme.app depending on it, acme.many with 15 versions, and a role.
func upstream(t testing.TB, opts galaxytest.Options) (*galaxytest.Server, string) {
	t.Helper()
	up := galaxytest.New(opts)
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0", "2.1.0-rc.1"} {
		up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "lib", Version: v})
	}
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "app", Version: "1.0.0", Dependencies: map[string]string{"acme.lib": ">=1.0.0,<2.0.0"}})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "app", Version: "1.1.0", Dependencies: map[string]string{"acme.lib": ">=2.0.0"}})
	for i := 1; i <= 15; i++ {
		up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "many", Version: "1." + strconv.Itoa(i) + ".0"})
	}
	up.AddRole("jdoe", "web", "1.0.0", "1.1.0", "2.0.0")
	u, stop := up.Start()
	t.Cleanup(stop)
	return up, u
}

func testMirror(s store.Store, u string) *Mirror {
	return &Mirror{
		Name: "test",
		URL:  u,
		Collections: []CollectionSpec{
			{Name: "acme.app"},
			{Name: "acme.many", Version: ">=1.0.0,<2", Latest: 12},
		},
		Roles: []RoleSpec{{Name: "jdoe.web", Latest: 2}},
		Store: s,
		Fetch: newFetch(s),
	}
}

// getWithHost GETs u from a server with the given Host header and returns the body.
func getWithHost(t testing.TB, u, host string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, b)
	return b
}

func getJSON(t testing.TB, h http.Handler, target string) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	require.Equal(t, http.StatusOK, rec.Code, "%s: %s", target, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), target)
	return out
}

func TestMirrorSyncAndServe(t *testing.T) {
	ctx := context.Background()
	up, u := upstream(t, galaxytest.Options{PageSize: 4})
	s := store.NewMemory()
	m := testMirror(s, u)
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed)
	// app 1.0.0 + 1.1.0, lib 1.1.0 (for app 1.0.0) + 2.0.0 (for app 1.1.0), many 1.4..1.15.
	assert.Equal(t, 3, st.Collections)
	assert.Equal(t, 2+2+12, st.Versions)
	assert.Equal(t, 1, st.Roles)
	assert.Equal(t, 2, st.RoleVersions)
	assert.Equal(t, 18, st.Downloaded)

	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	_, ok := snap.Lookup("artifacts/acme-lib-1.1.0.tar.gz")
	assert.True(t, ok)
	_, ok = snap.Lookup("artifacts/acme-lib-1.0.0.tar.gz")
	assert.False(t, ok, "only the newest matching dependency version")
	_, ok = snap.Lookup("artifacts/acme-lib-2.1.0-rc.1.tar.gz")
	assert.False(t, ok, "pre-releases only on request")
	_, ok = snap.Lookup("roles/jdoe/web/2.0.0.tar.gz")
	assert.True(t, ok)

	// Serve it under a mount prefix, as the CLI does.
	mux := http.NewServeMux()
	mux.Handle("/galaxy/test/", http.StripPrefix("/galaxy/test", NewHandler(s, m.Ref(), WithBasePath("/galaxy/test"), WithMaxPageSize(5))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	api := getJSON(t, mux, "/galaxy/test/api/")
	assert.Equal(t, map[string]any{"v1": "v1/", "v3": "v3/"}, api["available_versions"])

	col := getJSON(t, mux, "/galaxy/test/api/v3/collections/acme/many/")
	assert.Equal(t, "1.15.0", col["highest_version"].(map[string]any)["version"])
	firstUpdated := col["updated_at"].(string)
	assert.NotEmpty(t, firstUpdated)

	// Pages of 5 with root-relative next links, followed to the end.
	var versions []string
	next := "/galaxy/test/api/v3/collections/acme/many/versions/?limit=100"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 10)
		page := getJSON(t, mux, next)
		assert.EqualValues(t, 12, page["meta"].(map[string]any)["count"])
		for _, it := range page["data"].([]any) {
			versions = append(versions, it.(map[string]any)["version"].(string))
		}
		n, _ := page["links"].(map[string]any)["next"].(string)
		if n != "" {
			assert.True(t, strings.HasPrefix(n, "/galaxy/test/api/v3/collections/acme/many/versions/?"), n)
		}
		next = n
	}
	assert.Len(t, versions, 12)
	assert.Equal(t, "1.15.0", versions[0])
	assert.Equal(t, "1.4.0", versions[11])

	// Version detail: absolute download_url from the Host, sha256 of the served bytes.
	// download_url names the listener the request came in on, whatever Host it gave.
	body := getWithHost(t, srv.URL+"/galaxy/test/api/v3/collections/acme/app/versions/1.0.0/", "mirror.example:8080")
	var detail struct {
		DownloadURL string `json:"download_url"`
		Artifact    struct {
			SHA256   string `json:"sha256"`
			Filename string `json:"filename"`
			Size     int64  `json:"size"`
		} `json:"artifact"`
		Metadata struct {
			Dependencies map[string]string `json:"dependencies"`
		} `json:"metadata"`
		Namespace  struct{ Name string } `json:"namespace"`
		Collection struct{ Name string } `json:"collection"`
		Signatures []any                 `json:"signatures"`
	}
	require.NoError(t, json.Unmarshal(body, &detail))
	assert.Equal(t, srv.URL+"/galaxy/test/download/acme-app-1.0.0.tar.gz", detail.DownloadURL)
	assert.Equal(t, map[string]string{"acme.lib": ">=1.0.0,<2.0.0"}, detail.Metadata.Dependencies)
	assert.Equal(t, "acme", detail.Namespace.Name)
	assert.Equal(t, "app", detail.Collection.Name)
	assert.NotNil(t, detail.Signatures)

	resp, err := http.Get(srv.URL + "/galaxy/test/download/" + detail.Artifact.Filename)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(body)
	assert.Equal(t, detail.Artifact.SHA256, hex.EncodeToString(sum[:]))
	assert.EqualValues(t, len(body), detail.Artifact.Size)
	assert.Equal(t, `"`+detail.Artifact.SHA256+`"`, resp.Header.Get("ETag"))

	// Roles: lookup by query string, versions with absolute download URLs.
	roles := getJSON(t, mux, "/galaxy/test/api/v1/roles/?owner__username=jdoe&name=web")
	results := roles["results"].([]any)
	require.Len(t, results, 1)
	id := int64(results[0].(map[string]any)["id"].(float64))
	var rv struct {
		Results []struct {
			Name        string `json:"name"`
			DownloadURL string `json:"download_url"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(getWithHost(t, srv.URL+"/galaxy/test/api/v1/roles/"+strconv.FormatInt(id, 10)+"/versions/", "mirror.example"), &rv))
	require.Len(t, rv.Results, 2)
	assert.Equal(t, "2.0.0", rv.Results[0].Name)
	assert.Equal(t, srv.URL+"/galaxy/test/download/roles/jdoe/web/2.0.0.tar.gz", rv.Results[0].DownloadURL)
	none := getJSON(t, mux, "/galaxy/test/api/v1/roles/?owner__username=jdoe&name=nope")
	assert.Empty(t, none["results"])

	// A no-op resync: no downloads, no new generation, one listing-free request per
	// collection (updated_at unchanged) plus discovery and the role's two.
	up.ResetCounters()
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, st.Changed)
	assert.Equal(t, 0, st.Downloaded)
	assert.EqualValues(t, 0, up.Downloads())
	assert.EqualValues(t, 2+3+3, up.Requests(), "discovery (2 with the HTML root), 3 collection infos; role lookup + 2 version pages")

	// A new upstream version appears after the next sync, with a new updated_at.
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "many", Version: "1.16.0"})
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed)
	assert.Equal(t, 1, st.Downloaded)
	col = getJSON(t, mux, "/galaxy/test/api/v3/collections/acme/many/")
	assert.Equal(t, "1.16.0", col["highest_version"].(map[string]any)["version"])
	assert.NotEqual(t, firstUpdated, col["updated_at"])
	app := getJSON(t, mux, "/galaxy/test/api/v3/collections/acme/app/")
	assert.NotEqual(t, col["updated_at"], app["updated_at"], "untouched collections keep their updated_at")

	// The mirror is itself an upstream: a second mirror syncs from it through the prefix.
	s2 := store.NewMemory()
	m2 := &Mirror{Name: "inner", URL: srv.URL + "/galaxy/test/", Store: s2, Fetch: newFetch(s2),
		Collections: []CollectionSpec{{Name: "acme.app", Version: "==1.0.0"}}, Roles: []RoleSpec{{Name: "jdoe.web", Versions: []string{"1.1.0"}}}}
	st2, err := m2.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st2.Versions)
	assert.Equal(t, 1, st2.RoleVersions)
}

func TestUpstreamVariants(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []galaxytest.Options{
		{PageSize: 3, ResultsKey: "results"},
		{PageSize: 2, AbsoluteLinks: true},
		{PageSize: 100, Token: "s3cret"},
	} {
		t.Run(opts.ResultsKey+strconv.FormatBool(opts.AbsoluteLinks)+opts.Token, func(t *testing.T) {
			_, u := upstream(t, opts)
			s := store.NewMemory()
			m := testMirror(s, u)
			m.Token = opts.Token
			st, err := m.Sync(ctx)
			require.NoError(t, err)
			assert.Equal(t, 16, st.Versions)
			if opts.Token != "" {
				m.Name, m.Token, m.TokenType = "bearer", opts.Token, "Bearer"
				_, err = m.Sync(ctx)
				require.NoError(t, err)
				m.Name, m.Token = "anonymous", ""
				_, err = m.Sync(ctx)
				var he *fetch.HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
			}
		})
	}
}

func TestSyncFailuresPublishNothing(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		faults galaxytest.Faults
		change func(m *Mirror)
		want   error
	}{
		{name: "sha256 mismatch", faults: galaxytest.Faults{WrongSHA256: true}, want: store.ErrDigestMismatch},
		{name: "no sha256", faults: galaxytest.Faults{NoSHA256: true}, want: ErrNoChecksum},
		{name: "pagination loop", faults: galaxytest.Faults{LoopPagination: true}, want: ErrPaginationLoop},
		{name: "malformed page", faults: galaxytest.Faults{MalformedJSON: "/api/v3/collections/acme/many/versions/"}, want: ErrMalformed},
		{name: "malformed detail", faults: galaxytest.Faults{MalformedJSON: "/api/v3/collections/acme/lib/versions/1.1.0/"}, want: ErrMalformed},
		{name: "malformed roles", faults: galaxytest.Faults{MalformedJSON: "/api/v1/"}, want: ErrMalformed},
		{name: "no api", faults: galaxytest.Faults{MalformedJSON: "/api/"}, want: ErrNoAPI},
		{name: "unknown collection", change: func(m *Mirror) { m.Collections = append(m.Collections, CollectionSpec{Name: "acme.nope"}) }, want: ErrNotFound},
		{name: "no match", change: func(m *Mirror) {
			m.Collections = append(m.Collections, CollectionSpec{Name: "acme.lib", Version: ">=9"})
		}, want: ErrNoMatch},
		{name: "unknown role", change: func(m *Mirror) { m.Roles = []RoleSpec{{Name: "jdoe.nope"}} }, want: ErrNotFound},
		{name: "unknown role version", change: func(m *Mirror) { m.Roles = []RoleSpec{{Name: "jdoe.web", Versions: []string{"9.9"}}} }, want: ErrNoMatch},
		{name: "too many pages", change: func(m *Mirror) { m.MaxPages = 2 }, want: ErrTooManyPages},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up, u := upstream(t, galaxytest.Options{PageSize: 4})
			up.SetFaults(c.faults)
			s := store.NewMemory()
			m := testMirror(s, u)
			if c.change != nil {
				c.change(m)
			}
			st, err := m.Sync(ctx)
			require.ErrorIs(t, err, c.want)
			assert.False(t, st.Changed)
			_, err = s.Ref(ctx, m.Ref())
			assert.ErrorIs(t, err, store.ErrNotFound, "nothing published")
		})
	}

	// A later failure leaves the earlier publication in place.
	up, u := upstream(t, galaxytest.Options{})
	s := store.NewMemory()
	m := testMirror(s, u)
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	before, err := s.Ref(ctx, m.Ref())
	require.NoError(t, err)
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "many", Version: "1.99.0"})
	up.SetFaults(galaxytest.Faults{WrongSHA256: true})
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	after, err := s.Ref(ctx, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, before, after)

	// Accepting missing checksums is explicit.
	up.SetFaults(galaxytest.Faults{NoSHA256: true})
	m.AllowMissingChecksum = true
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed)
}

func TestMissingDependencyChain(t *testing.T) {
	ctx := context.Background()
	up := galaxytest.New(galaxytest.Options{})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "top", Version: "1.0.0", Dependencies: map[string]string{"acme.mid": "*"}})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "mid", Version: "1.0.0", Dependencies: map[string]string{"acme.gone": ">=1.0.0", "acme.low": ">=3.0.0"}})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "low", Version: "1.0.0"})
	u, stop := up.Start()
	defer stop()
	s := store.NewMemory()
	m := &Mirror{Name: "deps", URL: u, Collections: []CollectionSpec{{Name: "acme.top"}}, Store: s, Fetch: newFetch(s)}
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, ErrMissingDependency)
	var miss *MissingDependencyError
	require.ErrorAs(t, err, &miss)
	assert.Equal(t, []string{"acme.top:1.0.0", "acme.mid:1.0.0"}, miss.Chain)
	assert.Contains(t, err.Error(), "acme.gone:>=1.0.0 (required by acme.top:1.0.0 -> acme.mid:1.0.0)")
	assert.Contains(t, err.Error(), "acme.low:>=3.0.0")
	assert.True(t, errors.Is(err, ErrNoMatch) && errors.Is(err, ErrNotFound))
	_, err = s.Ref(ctx, m.Ref())
	assert.ErrorIs(t, err, store.ErrNotFound)

	m.NoDependencies = true
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Versions)
}

func TestSignaturesKept(t *testing.T) {
	ctx := context.Background()
	up := galaxytest.New(galaxytest.Options{})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "signed", Version: "1.0.0"})
	sig := map[string]string{"signature": "-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n", "pubkey_fingerprint": "ABCD", "signing_service": "ansible-default"}
	up.SetSignatures("acme.signed:1.0.0", []map[string]string{sig})
	u, stop := up.Start()
	defer stop()
	s := store.NewMemory()
	m := &Mirror{Name: "sig", URL: u, Collections: []CollectionSpec{{Name: "acme.signed"}}, Store: s, Fetch: newFetch(s)}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	h := NewHandler(s, m.Ref(), WithExternalURL("https://mirror.example/g/x"))
	d := getJSON(t, h, "/api/v3/collections/acme/signed/versions/1.0.0/")
	sigs := d["signatures"].([]any)
	require.Len(t, sigs, 1)
	assert.Equal(t, sig["signature"], sigs[0].(map[string]any)["signature"])
	assert.Equal(t, "https://mirror.example/g/x/download/acme-signed-1.0.0.tar.gz", d["download_url"])
	assert.Equal(t, "/g/x/api/v3/collections/acme/signed/versions/1.0.0/", d["href"])
}

func TestHandlerErrors(t *testing.T) {
	s := store.NewMemory()
	h := NewHandler(s, "galaxy/none")
	for _, c := range []struct {
		method, target string
		code           int
	}{
		{http.MethodGet, "/api/", http.StatusOK},
		{http.MethodGet, "/api/v3/collections/a/b/", http.StatusNotFound},
		{http.MethodPost, "/api/", http.StatusMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
		assert.Equal(t, c.code, rec.Code, c.target)
	}
}

func TestMirrorRequirementsFileAndKeepOld(t *testing.T) {
	ctx := context.Background()
	up, u := upstream(t, galaxytest.Options{PageSize: 4})
	req := t.TempDir() + "/requirements.yml"
	require.NoError(t, os.WriteFile(req, []byte(`---
collections:
  - name: acme.lib
    version: ">=1.0.0,<2.0.0"
  - name: https://example.invalid/x.tar.gz
    type: url
roles:
  - name: jdoe.web
    version: 1.0.0
  - src: https://github.com/x/y.git
    scm: git
`), 0o644))
	s := store.NewMemory()
	m := &Mirror{Name: "req", URL: u, Requirements: []string{req}, Store: s, Fetch: newFetch(s),
		Collections: []CollectionSpec{{Name: "acme.many", Latest: 2}}, KeepOld: true}
	assert.Equal(t, []string{u, "https://github.com/", "https://codeload.github.com/"}, m.Endpoints())
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2+2, st.Versions) // lib 1.0.0, 1.1.0; many 1.14.0, 1.15.0
	assert.Equal(t, 1, st.RoleVersions)

	// latest: 2 moves on; KeepOld keeps what was mirrored before.
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "many", Version: "1.16.0"})
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, st.Versions)
	assert.Equal(t, 1, st.Downloaded)
	m.KeepOld = false
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, st.Versions)
	assert.Equal(t, 0, st.Downloaded)
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	_, ok := snap.Lookup("artifacts/acme-many-1.14.0.tar.gz")
	assert.False(t, ok)

	bad := t.TempDir() + "/bad.yml"
	require.NoError(t, os.WriteFile(bad, []byte("collections:\n  - nodot\n"), 0o644))
	m.Requirements = []string{bad}
	_, err = m.Sync(ctx)
	assert.ErrorIs(t, err, ErrRequirements)
}

func TestSSOTokenExchange(t *testing.T) {
	ctx := context.Background()
	_, u := upstream(t, galaxytest.Options{Token: "access-1"})
	var calls atomic.Int64
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "refresh_token" ||
			r.PostForm.Get("client_id") != "cloud-services" || r.PostForm.Get("refresh_token") != "offline-xyz" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"access-1","expires_in":900,"token_type":"Bearer"}`)
	}))
	defer sso.Close()
	s := store.NewMemory()
	m := testMirror(s, u)
	m.Token, m.AuthURL = "offline-xyz", sso.URL
	assert.Contains(t, m.Endpoints(), sso.URL)
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, calls.Load(), "one exchange, reused while valid")

	m.Name, m.Token = "wrong", "revoked"
	_, err = m.Sync(ctx)
	assert.ErrorIs(t, err, ErrAuth)
}

func TestMirrorConfigYAML(t *testing.T) {
	var m Mirror
	require.NoError(t, yaml.Unmarshal([]byte(`
name: community
url: https://galaxy.ansible.com/
token: abc
token_type: Bearer
collections:
  - name: community.general
    version: ">=8.0.0,<9"
    latest: 3
  - name: ansible.posix
roles:
  - name: geerlingguy.docker
    versions: [7.1.0, 7.0.0]
requirements: [/etc/airgap/requirements.yml]
no_dependencies: true
keep_old: true
concurrency: 4
`), &m))
	assert.Equal(t, "galaxy/community", m.Ref())
	assert.Equal(t, "https://galaxy.ansible.com/", m.URL)
	assert.Equal(t, CollectionSpec{Name: "community.general", Version: ">=8.0.0,<9", Latest: 3}, m.Collections[0])
	assert.Equal(t, []string{"7.1.0", "7.0.0"}, m.Roles[0].Versions)
	assert.True(t, m.NoDependencies && m.KeepOld)
	assert.Equal(t, "Bearer", m.TokenType)
	assert.Equal(t, 4, m.Concurrency)
}

func TestHandlerRangeAndHead(t *testing.T) {
	ctx := context.Background()
	_, u := upstream(t, galaxytest.Options{})
	s := store.NewMemory()
	m := &Mirror{Name: "r", URL: u, Collections: []CollectionSpec{{Name: "acme.lib", Version: "==1.0.0"}}, Store: s, Fetch: newFetch(s)}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	h := NewHandler(s, m.Ref())
	req := httptest.NewRequest(http.MethodGet, "/download/acme-lib-1.0.0.tar.gz", nil)
	req.Header.Set("Range", "bytes=0-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusPartialContent, rec.Code)
	assert.Equal(t, []byte{0x1f, 0x8b}, rec.Body.Bytes())
	etag := rec.Header().Get("ETag")
	req = httptest.NewRequest(http.MethodGet, "/download/acme-lib-1.0.0.tar.gz", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNotModified, rec.Code)
	for _, p := range []string{"/download/../collections/acme/lib.json", "/download/roles/x/y.json", "/download/nope.tar.gz"} {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		assert.Equal(t, http.StatusNotFound, rec.Code, p)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/api/v3/collections/acme/lib/", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
}

// badArtifactUpstream serves acme.evil 1.0.0 whose sha256 is right but whose content is
// another collection.
func badArtifactUpstream(t *testing.T) string {
	up := galaxytest.New(galaxytest.Options{})
	up.AddRawArtifact(galaxytest.Collection{Namespace: "acme", Name: "evil", Version: "1.0.0"},
		galaxytest.BuildArtifact(galaxytest.Collection{Namespace: "acme", Name: "other", Version: "1.0.0"}))
	u, stop := up.Start()
	t.Cleanup(stop)
	return u
}

// A failed sync leaves the artifact it downloaded in the store; being stored does not
// make it checked, so the next sync refuses it again instead of publishing it.
func TestRefusedArtifactStaysRefused(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	m := &Mirror{Name: "bad", URL: badArtifactUpstream(t), Collections: []CollectionSpec{{Name: "acme.evil"}}, Store: s, Fetch: newFetch(s)}
	for range 2 {
		_, err := m.Sync(ctx)
		require.ErrorIs(t, err, ErrBadArtifact)
		_, err = s.Ref(ctx, m.Ref())
		require.ErrorIs(t, err, store.ErrNotFound, "nothing published")
	}
}

// Issue #17: turning a check back on must check again, never answer "nothing changed"
// over a tree published while it was off.
func TestTrustChangeChecksAgain(t *testing.T) {
	ctx := context.Background()
	t.Run("SkipArtifactCheck", func(t *testing.T) {
		s := store.NewMemory()
		m := &Mirror{Name: "bad", URL: badArtifactUpstream(t), Collections: []CollectionSpec{{Name: "acme.evil"}}, Store: s, Fetch: newFetch(s),
			SkipArtifactCheck: true}
		st, err := m.Sync(ctx)
		require.NoError(t, err)
		require.True(t, st.Changed)
		m.SkipArtifactCheck = false
		_, err = m.Sync(ctx)
		require.ErrorIs(t, err, ErrBadArtifact)
		cur, err := store.Current(ctx, s, m.Ref())
		require.NoError(t, err)
		assert.Equal(t, st.Generation.Record, cur.Record, "the earlier publication stays, and is not blessed")
	})
	t.Run("AllowMissingChecksum", func(t *testing.T) {
		up, u := upstream(t, galaxytest.Options{})
		up.SetFaults(galaxytest.Faults{NoSHA256: true})
		s := store.NewMemory()
		m := testMirror(s, u)
		m.AllowMissingChecksum = true
		_, err := m.Sync(ctx)
		require.NoError(t, err)
		m.AllowMissingChecksum = false
		_, err = m.Sync(ctx)
		require.ErrorIs(t, err, ErrNoChecksum)
	})
}

// A cancelled discovery is not remembered: the Client (and a Mirror) works afterwards.
func TestDiscoverAfterCancel(t *testing.T) {
	_, u := upstream(t, galaxytest.Options{})
	s := store.NewMemory()
	c := &Client{URL: u, Fetch: newFetch(s)}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.Discover(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	root, versions, err := c.Discover(context.Background())
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(root, "/api/"), root)
	assert.Contains(t, versions, "v3")
	_, err = c.Collection(context.Background(), "acme", "lib")
	require.NoError(t, err)

	m := testMirror(s, u)
	_, err = m.Sync(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	st, err := m.Sync(context.Background())
	require.NoError(t, err)
	assert.True(t, st.Changed)
}

// The token exchange retries as downloads do: a 503 is waited out, a 400 is final.
func TestTokenExchangeRetries(t *testing.T) {
	ctx := context.Background()
	_, u := upstream(t, galaxytest.Options{Token: "access-1"})
	var calls atomic.Int32
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		_ = r.ParseForm()
		switch {
		case r.PostForm.Get("refresh_token") != "offline-xyz":
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		case n == 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		default:
			_, _ = io.WriteString(w, `{"access_token":"access-1","expires_in":900}`)
		}
	}))
	defer sso.Close()
	s := store.NewMemory()
	m := testMirror(s, u)
	m.Token, m.AuthURL = "offline-xyz", sso.URL
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 2, calls.Load())

	calls.Store(0)
	m.Name, m.Token = "revoked", "revoked"
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, ErrAuth)
	var he *fetch.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusBadRequest, he.StatusCode)
	assert.Contains(t, err.Error(), "POST")
	assert.EqualValues(t, 1, calls.Load(), "a refusal is not retried")
}

// The old name of URL still works, with a warning; the two disagreeing is an error.
func TestDeprecatedUpstreamName(t *testing.T) {
	_, u := upstream(t, galaxytest.Options{})
	s := store.NewMemory()
	m := testMirror(s, u)
	m.URL, m.Upstream = "", u
	var logs strings.Builder
	m.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "upstream is deprecated")
	assert.Equal(t, []string{u, "https://github.com/", "https://codeload.github.com/"}, m.Endpoints())
	m.URL = "https://galaxy.ansible.com/"
	_, err = m.Sync(context.Background())
	assert.ErrorIs(t, err, ErrConfig)
	assert.ErrorIs(t, err, store.ErrConfig)
}
