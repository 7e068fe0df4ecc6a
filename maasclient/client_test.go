package maasclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/maasclient/maastest"
	"github.com/airgapkit/airgap/store"
)

// sleepRecorder replaces the client's waits: it records them and returns at once
// (or with ctx's error).
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
	hook  func(n int)
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	n := len(r.waits)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(n)
	}
	return ctx.Err()
}

func newFake(t *testing.T, opts Options) (*maastest.Server, *Client, *sleepRecorder) {
	t.Helper()
	fake := maastest.New(t)
	c, err := New(fake.URL, maastest.APIKey, opts)
	require.NoError(t, err)
	rec := &sleepRecorder{}
	c.sleep = rec.sleep
	t.Cleanup(func() { assert.Empty(t, fake.Violations(), "protocol violations seen by the fake MAAS") })
	return fake, c, rec
}

func TestParseAPIKey(t *testing.T) {
	c, err := ParseAPIKey(" ck:tk:ts\n")
	require.NoError(t, err)
	assert.Equal(t, Credentials{"ck", "tk", "ts"}, c)
	assert.Equal(t, "ck:tk:ts", c.String())
	for _, bad := range []string{"", "a:b", "a:b:c:d", "a::c", ":b:c", "a:b:", "a b:c:d", `a:"b:c`, "a:b,c:d"} {
		_, err := ParseAPIKey(bad)
		assert.ErrorIs(t, err, ErrInvalidAPIKey, bad)
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://10.0.0.2:5240/MAAS":                "http://10.0.0.2:5240/MAAS/api/2.0/",
		"http://10.0.0.2:5240/MAAS/":               "http://10.0.0.2:5240/MAAS/api/2.0/",
		"http://10.0.0.2:5240/MAAS/api/2.0":        "http://10.0.0.2:5240/MAAS/api/2.0/",
		"https://maas.internal:5443/MAAS/api/2.0/": "https://maas.internal:5443/MAAS/api/2.0/",
		"https://maas.internal:5443":               "https://maas.internal:5443/MAAS/api/2.0/",
		" http://[fd00::2]:5240/MAAS?x=1#y ":       "http://[fd00::2]:5240/MAAS/api/2.0/",
		"http://proxy.internal/custom/maas":        "http://proxy.internal/custom/maas/api/2.0/",
	} {
		u, err := NormalizeURL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, u.String(), in)
	}
	for _, bad := range []string{"", "maas.internal:5240", "ftp://maas/MAAS", "http:///MAAS", "http://user:pw@maas/MAAS", "http://%zz"} {
		_, err := NormalizeURL(bad)
		assert.ErrorIs(t, err, ErrInvalidURL, bad)
	}
}

func TestAuthorizationHeader(t *testing.T) {
	cr := Credentials{ConsumerKey: "ck", TokenKey: "tk", TokenSecret: "s e/c&r+t"}
	now := time.Unix(1764000000, 0)
	h1, err := cr.AuthorizationHeader(now)
	require.NoError(t, err)
	h2, err := cr.AuthorizationHeader(now)
	require.NoError(t, err)
	params := func(h string) map[string]string {
		rest, ok := strings.CutPrefix(h, "OAuth ")
		require.True(t, ok, h)
		m := map[string]string{}
		for _, p := range strings.Split(rest, ", ") {
			k, v, ok := strings.Cut(p, "=")
			require.True(t, ok)
			m[k] = strings.Trim(v, `"`)
		}
		return m
	}
	p1, p2 := params(h1), params(h2)
	assert.Equal(t, "ck", p1["oauth_consumer_key"])
	assert.Equal(t, "tk", p1["oauth_token"])
	assert.Equal(t, "PLAINTEXT", p1["oauth_signature_method"])
	// "&" + encode(secret), then encoded again as a header parameter.
	assert.Equal(t, "%26s%2520e%252Fc%2526r%252Bt", p1["oauth_signature"])
	assert.Equal(t, "1764000000", p1["oauth_timestamp"])
	assert.Equal(t, "1.0", p1["oauth_version"])
	assert.Len(t, p1["oauth_nonce"], 32)
	assert.NotEqual(t, p1["oauth_nonce"], p2["oauth_nonce"])
	assert.Len(t, p1, 7)
}

func TestParseFieldErrors(t *testing.T) {
	f, err := ParseFieldErrors([]byte(`{"url": ["This field is required."], "__all__": "One of keyring_data or keyring_filename must be specified.", "n": [1, "x"], "o": {"a": 1}, "e": []}`))
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{
		"url": {"This field is required."}, "__all__": {"One of keyring_data or keyring_filename must be specified."},
		"n": {"1", "x"}, "o": {`{"a": 1}`}, "e": {},
	}, f)
	for _, bad := range []string{"Unrecognised signature: method=GET op=foo", "null", "[1]", `"x"`, ""} {
		_, err := ParseFieldErrors([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestOptionsValidation(t *testing.T) {
	_, err := New("http://maas/MAAS", "bad", Options{})
	assert.ErrorIs(t, err, ErrInvalidAPIKey)
	_, err = New("maas", "a:b:c", Options{})
	assert.ErrorIs(t, err, ErrInvalidURL)
	_, err = New("http://maas/MAAS", "a:b:c", Options{HTTPClient: http.DefaultClient, InsecureSkipVerify: true})
	assert.Error(t, err)
	_, err = New("https://maas/MAAS", "a:b:c", Options{CACertPEM: []byte("not a certificate")})
	assert.Error(t, err)
	c, err := New("http://maas:5240/MAAS/", "a:b:c", Options{})
	require.NoError(t, err)
	assert.Equal(t, "http://maas:5240/MAAS/api/2.0/", c.BaseURL())
	err = c.Get(context.Background(), "../../accounts/", "", nil, nil)
	assert.ErrorContains(t, err, "leaves")
	err = c.Get(context.Background(), "http://elsewhere/", "", nil, nil)
	assert.ErrorContains(t, err, "bad API path")
}

// TestRetryHonoursRetryAfter: 503 and 409 with Retry-After are retried after the time
// asked, each attempt signed afresh (the fake refuses a reused nonce).
func TestRetryHonoursRetryAfter(t *testing.T) {
	ctx := context.Background()
	fake, c, rec := newFake(t, Options{})
	fake.Fail(maastest.Failure{Path: "boot-sources/", Method: "GET", Status: 503, RetryAfter: "1", Times: 2, Body: "database locked"})
	fake.Fail(maastest.Failure{Path: "boot-sources/", Method: "GET", Status: 409, RetryAfter: "7", Body: "serialization failure"})
	src, err := c.BootSources(ctx)
	require.NoError(t, err)
	require.Len(t, src, 1)
	// At least what was asked, and no more than the backoff when that is longer.
	require.Len(t, rec.waits, 3)
	assertWait(t, rec.waits[0], time.Second, 2*time.Second)
	assertWait(t, rec.waits[1], 2*time.Second, 4*time.Second)
	assertWait(t, rec.waits[2], 7*time.Second, 8*time.Second)

	var nonces []string
	for _, r := range fake.Requests() {
		if r.Path == "boot-sources/" {
			nonces = append(nonces, r.Auth["oauth_nonce"])
		}
	}
	require.Len(t, nonces, 4)
	seen := map[string]bool{}
	for _, n := range nonces {
		assert.False(t, seen[n], "nonce reused across retries")
		seen[n] = true
	}

	// 503 without Retry-After backs off; the wait is capped by MaxRetryWait.
	rec.waits = nil
	fake.Fail(maastest.Failure{Path: "zones/", Status: 503, Times: 3})
	fake.Fail(maastest.Failure{Path: "users/", Status: 503, RetryAfter: "3600"})
	_, err = c.Zones(ctx)
	require.NoError(t, err)
	_, err = c.Users(ctx)
	require.NoError(t, err)
	require.Len(t, rec.waits, 4)
	assertWait(t, rec.waits[0], time.Second, 2*time.Second)
	assertWait(t, rec.waits[1], 2*time.Second, 4*time.Second)
	assertWait(t, rec.waits[2], 4*time.Second, 8*time.Second)
	assert.Equal(t, DefaultMaxRetryWait, rec.waits[3], "Retry-After: 3600 capped")

	// A 409 without Retry-After is a state conflict: not retried.
	rec.waits = nil
	_, err = c.Deploy(ctx, "8x2kq9", DeployOptions{})
	require.ErrorIs(t, err, ErrConflict)
	assert.Contains(t, err.Error(), "Can't deploy a machine that is in the 'New' state")
	assert.Empty(t, rec.waits)
}

func assertWait(t *testing.T, got, lo, hi time.Duration) {
	t.Helper()
	assert.True(t, got >= lo && got <= hi, "wait %s not in [%s, %s]", got, lo, hi)
}

func TestRetriesBounded(t *testing.T) {
	fake, c, rec := newFake(t, Options{MaxRetries: 2})
	fake.Fail(maastest.Failure{Path: "version/", Status: 503, RetryAfter: "1", Times: 10, Body: "busy"})
	_, err := c.Version(context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, "busy", apiErr.Body)
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.Len(t, rec.waits, 2)

	c2, err := New(fake.URL, maastest.APIKey, Options{MaxRetries: -1})
	require.NoError(t, err)
	_, err = c2.Version(context.Background())
	assert.ErrorIs(t, err, ErrUnavailable)
}

// TestRetryWaitIsCancellable: a cancelled context ends the wait with ctx's error.
func TestRetryWaitIsCancellable(t *testing.T) {
	fake, c, _ := newFake(t, Options{})
	fake.Fail(maastest.Failure{Path: "version/", Status: 503, RetryAfter: "30", Times: 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The real timer, with the context cancelled as the 30-second wait begins.
	c.sleep = func(ctx context.Context, d time.Duration) error {
		assert.Equal(t, 30*time.Second, d)
		cancel()
		return sleepCtx(ctx, d)
	}
	_, err := c.Version(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "503")
}

// TestRetryRealWait: the real timer with a one-second Retry-After (no timing asserted).
func TestRetryRealWait(t *testing.T) {
	fake, c, _ := newFake(t, Options{})
	c.sleep = sleepCtx
	fake.Fail(maastest.Failure{Path: "version/", Status: 503, RetryAfter: "1"})
	v, err := c.Version(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "3.5.4", v.Version)
}

func TestTypedErrors(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, Options{})

	_, err := c.CreateBootSource(ctx, BootSourceRequest{KeyringFilename: "/k.gpg"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrBadRequest)
	assert.Equal(t, map[string][]string{"url": {"This field is required."}}, apiErr.Fields)
	assert.Contains(t, err.Error(), "url: This field is required.")

	_, err = c.CreateBootSource(ctx, BootSourceRequest{URL: "http://mirror/"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"One of keyring_data or keyring_filename must be specified."}, apiErr.Fields["__all__"])

	_, err = c.BootSource(ctx, 999)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, err, store.ErrNotFound, "the SDK's not-found")
	assert.NotErrorIs(t, err, ErrBadRequest)
	assert.NotErrorIs(t, &APIError{StatusCode: 400}, store.ErrNotFound)

	fake.Fail(maastest.Failure{Path: "users/", Status: 403, Body: "You do not have permission"})
	_, err = c.Users(ctx)
	assert.ErrorIs(t, err, ErrForbidden)

	fake.Fail(maastest.Failure{Path: "zones/", Status: 500, Body: "Internal server error: boom"})
	_, err = c.Zones(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 500, apiErr.StatusCode)
	assert.Contains(t, err.Error(), "500 Internal Server Error: Internal server error: boom")

	err = c.Get(ctx, "boot-resources/", "no_such_op", nil, nil)
	require.ErrorAs(t, err, &apiErr)
	assert.Nil(t, apiErr.Fields, "a text 400 has no field errors")
	assert.Contains(t, apiErr.Body, "Unrecognised signature")

	_, err = c.GetConfig(ctx, "no_such_setting")
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Fields["name"][0], "is not a valid config setting")

}

// TestOAuthTimestampFromClock: the timestamp follows Options.Now and the fake checks it.
func TestOAuthTimestampFromClock(t *testing.T) {
	fake := maastest.New(t)
	skewed, err := New(fake.URL, maastest.APIKey, Options{Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	require.NoError(t, err)
	_, err = skewed.Version(context.Background())
	assert.ErrorIs(t, err, ErrUnauthorized)
	require.Len(t, fake.Violations(), 1)
	assert.Contains(t, fake.Violations()[0], "oauth_timestamp")
	r := fake.Requests()[0]
	assert.Equal(t, "version/", r.Path)
	assert.NotEmpty(t, r.Auth["oauth_timestamp"])
}

func TestWrongSecretUnauthorized(t *testing.T) {
	fake := maastest.New(t)
	wrong, err := New(fake.URL, maastest.ConsumerKey+":"+maastest.TokenKey+":wrongsecret", Options{})
	require.NoError(t, err)
	_, err = wrong.Version(context.Background())
	assert.ErrorIs(t, err, ErrUnauthorized)
	require.Len(t, fake.Violations(), 1)
	assert.Contains(t, fake.Violations()[0], "oauth_signature")
}

// TestRedirectIsSignedAfresh: a redirect to the MAAS host (http -> another port, as a
// proxy or a TLS redirect does) is signed with a new nonce; elsewhere it carries no
// credentials.
func TestRedirectIsSignedAfresh(t *testing.T) {
	fake, _, _ := newFake(t, Options{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.TrimSuffix(fake.URL, "/MAAS/")+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	c, err := New(front.URL+"/MAAS/", maastest.APIKey, Options{})
	require.NoError(t, err)
	require.NoError(t, c.SetConfig(context.Background(), ConfigUpstreamDNS, "10.1.1.1"))
	assert.Equal(t, "10.1.1.1", fake.Config("upstream_dns"), "the POST body followed the 307")

	var seen string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get("Authorization")
		_, _ = w.Write([]byte(`{"version": "x"}`))
	}))
	defer other.Close()
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.RequestURI(), http.StatusFound)
	}))
	defer away.Close()
	c2, err := New(away.URL+"/MAAS/", maastest.APIKey, Options{})
	require.NoError(t, err)
	_, err = c2.Version(context.Background())
	require.NoError(t, err)
	assert.Empty(t, seen, "credentials are not sent to another host")
}

// TestConcurrentUse: one client from many goroutines (run with -race); every request
// has its own nonce.
func TestConcurrentUse(t *testing.T) {
	fake, c, _ := newFake(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Zones(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, fake.Requests(), 16)
}
