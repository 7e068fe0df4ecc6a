package galaxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
)

// TestTokenStaysOnTheUpstreamOrigin: the upstream requires the token everywhere, and its
// artifacts and role archives are on a second origin, named by download_url or reached by a
// redirect from the upstream's own download URL: that origin never sees the token.
func TestTokenStaysOnTheUpstreamOrigin(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(cdn string) galaxytest.Options
	}{
		{"download_url on another origin", func(cdn string) galaxytest.Options {
			return galaxytest.Options{Token: "s3cret", DownloadBase: cdn}
		}},
		{"redirect to another origin", func(cdn string) galaxytest.Options {
			return galaxytest.Options{Token: "s3cret", RedirectDownloads: cdn}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cdn := galaxytest.New(galaxytest.Options{})
			rec := &testutil.Recorder{Next: cdn, Secret: "s3cret"}
			cdnSrv := httptest.NewServer(rec)
			defer cdnSrv.Close()
			up := galaxytest.New(tc.opts(cdnSrv.URL))
			for _, c := range []galaxytest.Collection{
				{Namespace: "acme", Name: "lib", Version: "1.0.0"},
				{Namespace: "acme", Name: "app", Version: "1.0.0", Dependencies: map[string]string{"acme.lib": ">=1.0.0"}},
			} {
				cdn.AddRawArtifact(c, up.AddCollection(c))
			}
			up.AddRole("jdoe", "web", "1.0.0")
			cdn.AddRole("jdoe", "web", "1.0.0")
			u, stop := up.Start()
			defer stop()

			s := store.NewMemory()
			m := &Mirror{Name: "t", URL: u, Token: "s3cret", Store: s, Fetch: newFetch(s),
				Collections: []CollectionSpec{{Name: "acme.app"}}, Roles: []RoleSpec{{Name: "jdoe.web"}}}
			st, err := m.Sync(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 3, st.Downloaded)
			assert.Equal(t, 3, rec.Hits(), "every download came from the second origin")
			assert.Empty(t, rec.Leaked())
		})
	}
}

// TestTokenExchangeStaysOnTheAuthOrigin: an SSO endpoint that redirects the exchange (a
// 307 resends the body, refresh token included) to another origin is refused, once.
func TestTokenExchangeStaysOnTheAuthOrigin(t *testing.T) {
	_, u := upstream(t, galaxytest.Options{Token: "access-1"})
	elsewhere := &testutil.Recorder{Secret: "s3cret"}
	other := httptest.NewServer(elsewhere)
	defer other.Close()
	var calls atomic.Int64
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer sso.Close()
	s := store.NewMemory()
	m := testMirror(s, u)
	m.Token, m.AuthURL = "s3cret", sso.URL
	m.Concurrency = 1 // one exchange at a time, so that a retry would show
	_, err := m.Sync(context.Background())
	require.ErrorIs(t, err, ErrAuth)
	assert.ErrorContains(t, err, "redirect to another origin")
	assert.EqualValues(t, 1, calls.Load(), "not retried")
	assert.Zero(t, elsewhere.Hits())
}

// TestTokenNotSentWhereTheAPIRedirects: an upstream whose API redirects to another
// origin (which serves the API and the artifacts without a token) is followed there
// without the token.
func TestTokenNotSentWhereTheAPIRedirects(t *testing.T) {
	up := galaxytest.New(galaxytest.Options{})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "lib", Version: "1.0.0"})
	rec := &testutil.Recorder{Next: up, Secret: "s3cret"}
	back := httptest.NewServer(rec)
	defer back.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, back.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer front.Close()

	s := store.NewMemory()
	m := &Mirror{Name: "t", URL: front.URL, Token: "s3cret", Store: s, Fetch: newFetch(s),
		Collections: []CollectionSpec{{Name: "acme.lib"}}}
	st, err := m.Sync(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Downloaded)
	assert.Positive(t, rec.Hits())
	assert.Empty(t, rec.Leaked())
}
