package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// origin is a test server on 127.0.0.1 (its own port: its own origin) that records the
// credentials each path was sent and answers by its routes (a redirect target, or a body).
type origin struct {
	*httptest.Server
	mu     sync.Mutex
	seen   map[string][]string // path -> credential headers as "Name: value"
	routes map[string]string   // path -> redirect target
}

func newOrigin(t *testing.T) *origin {
	o := &origin{seen: map[string][]string{}, routes: map[string]string{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		creds := []string{}
		for _, k := range []string{"Authorization", "X-Token", "Cookie", "Proxy-Authorization"} {
			if v := r.Header.Get(k); v != "" {
				creds = append(creds, k+": "+v)
			}
		}
		o.seen[r.URL.Path] = creds
		to, ok := o.routes[r.URL.Path]
		o.mu.Unlock()
		if ok {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		fmt.Fprint(w, "payload of "+r.URL.Path)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) sent(path string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	got, ok := o.seen[path]
	if !ok {
		return []string{"(not requested)"}
	}
	return got
}

// TestCredentialsStayOnTheirOrigins: Request.Credentials go to the origins they allow
// (the request's own by default) on the first request and on every redirect hop, and
// never to a second origin on another port of 127.0.0.1: not when the URL names it, not
// through a redirect, not on the way back either.
func TestCredentialsStayOnTheirOrigins(t *testing.T) {
	a, b := newOrigin(t), newOrigin(t)
	a.routes["/to-b"] = b.URL + "/landed"
	a.routes["/local"] = "/here"
	a.routes["/round"] = b.URL + "/back"
	b.routes["/back"] = a.URL + "/home"
	creds := http.Header{"Authorization": {"Bearer s3cret"}, "X-Token": {"t0k"}}
	all := []string{"Authorization: Bearer s3cret", "X-Token: t0k"}

	c, _ := newClient(store.NewMemory())
	for _, tc := range []struct {
		url     string
		origins []string
		final   string
	}{
		{url: a.URL + "/direct"},
		{url: a.URL + "/local", final: "/here"},
		{url: a.URL + "/to-b", final: "/landed"},
		{url: a.URL + "/round", final: "/home"},
		{url: b.URL + "/download", origins: []string{a.URL + "/api/"}},
	} {
		res, err := c.Fetch(t.Context(), Request{URL: tc.url, Credentials: creds, CredentialOrigins: tc.origins,
			Header: http.Header{"Cookie": {"session=1"}, "Accept": {"*/*"}}})
		require.NoError(t, err, tc.url)
		if tc.final != "" {
			assert.True(t, strings.HasSuffix(res.FinalURL, tc.final), res.FinalURL)
		}
	}
	withCookie := append([]string{}, all...)
	withCookie = append(withCookie, "Cookie: session=1")
	assert.Equal(t, withCookie, a.sent("/direct"))
	assert.Equal(t, withCookie, a.sent("/local"))
	assert.Equal(t, withCookie, a.sent("/here"), "a redirect within the origin keeps them")
	assert.Equal(t, withCookie, a.sent("/to-b"))
	assert.Empty(t, b.sent("/landed"), "a redirect to another origin goes without")
	assert.Empty(t, b.sent("/back"))
	assert.Equal(t, withCookie, a.sent("/home"), "back on the origin they are for")
	assert.Empty(t, b.sent("/download"), "a URL on another origin than the credentials are for")

	// Allowing the second origin sends them there too.
	_, err := c.Fetch(t.Context(), Request{URL: a.URL + "/to-b", Credentials: creds, CredentialOrigins: []string{a.URL, b.URL}})
	require.NoError(t, err)
	assert.Equal(t, all, b.sent("/landed"))

	_, err = c.Fetch(t.Context(), Request{URL: a.URL + "/direct", Credentials: creds, CredentialOrigins: []string{"127.0.0.1:80"}})
	require.ErrorIs(t, err, ErrUnsupportedURL)
}

// TestRedirectPolicyIsByOrigin: a redirect from https to plain http on the same host and
// port (the same host:port, which is all the old rule compared) drops Header's and
// Credentials' secrets; one within the origin keeps them.
func TestRedirectPolicyIsByOrigin(t *testing.T) {
	first := httptest.NewRequest(http.MethodGet, "https://hub.example:8443/api/a.tar.gz", nil)
	u, _ := url.Parse(first.URL.String())
	ctx, err := withCredentials(context.Background(), Request{Credentials: http.Header{"X-Token": {"t0k"}}}, u)
	require.NoError(t, err)
	ctx = withCallerHeaders(ctx, http.Header{"X-Api-Key": {"k"}})
	for target, keeps := range map[string]bool{
		"http://hub.example:8443/a.tar.gz":    false,
		"https://hub.example:8444/a.tar.gz":   false,
		"https://HUB.example:8443/b/a.tar.gz": true,
	} {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Token s3cret")
		req.Header.Set("X-Api-Key", "k")
		require.NoError(t, checkRedirect(req, []*http.Request{first}))
		assert.Equal(t, keeps, req.Header.Get("Authorization") != "", target)
		assert.Equal(t, keeps, req.Header.Get("X-Api-Key") != "", target)
		assert.Equal(t, keeps, req.Header.Get("X-Token") != "", target)
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Hub.Example/api/":        "https://hub.example:443",
		"https://hub.example:443/x":       "https://hub.example:443",
		"HTTP://hub.example/":             "http://hub.example:80",
		"http://hub.example:443/":         "http://hub.example:443",
		"https://user:pw@[::1]:8443/x?y":  "https://[::1]:8443",
		"ftp://hub.example/":              "",
		"/relative/path":                  "",
		"s3::https://bucket.example/file": "",
	} {
		u, err := url.Parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, Origin(u), in)
	}
}

// TestScopeCredentials: a transport that authenticates by itself sends its credentials
// to the allowed origin only; a redirect to a second origin on 127.0.0.1 goes without,
// even with the Authorization header that the redirect copied from the first request,
// and a request there directly goes without too.
func TestScopeCredentials(t *testing.T) {
	a, b := newOrigin(t), newOrigin(t)
	a.routes["/blob"] = b.URL + "/cdn"
	auth := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("Authorization", "Bearer s3cret") // as registry transports do, on the caller's request
		return http.DefaultTransport.RoundTrip(r)
	})
	rt, err := ScopeCredentials(auth, http.DefaultTransport, a.URL+"/v2/")
	require.NoError(t, err)
	hc := &http.Client{Transport: rt}
	for _, u := range []string{a.URL + "/blob", b.URL + "/direct"} {
		resp, err := hc.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Equal(t, []string{"Authorization: Bearer s3cret"}, a.sent("/blob"))
	assert.Empty(t, b.sent("/cdn"))
	assert.Empty(t, b.sent("/direct"))

	_, err = ScopeCredentials(auth, http.DefaultTransport)
	require.ErrorIs(t, err, ErrUnsupportedURL)
}
