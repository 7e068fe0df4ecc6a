package oci

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertNothingPublished checks that a failed sync left the ref where it was.
func assertNothingPublished(t *testing.T, s store.Store, ref string, before store.Digest) {
	t.Helper()
	d, err := s.Ref(context.Background(), ref)
	if before == "" {
		assert.ErrorIs(t, err, store.ErrNotFound)
		return
	}
	require.NoError(t, err)
	assert.Equal(t, before, d)
}

func TestSyncRejectsCorruptBlob(t *testing.T) {
	up := startUpstream(t)
	s := store.NewMemory()
	bad := up.Content["library/alpine:3.19"].Blobs[1]
	up.Faults.CorruptBlob.Store(bad.Digest)
	m := newMirror(up, s, "library/alpine:3.19")
	_, err := m.Sync(context.Background())
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	ok, _ := s.Has(context.Background(), store.Digest(bad.Digest))
	assert.False(t, ok, "corrupt blob must not be stored")
	assertNothingPublished(t, s, m.Ref(), "")
}

func TestSyncRejectsHugeManifest(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	huge := ocitest.Image(ocitest.ImageSpec{Seed: 9, Layers: 1, LayerSize: 64, Annotations: map[string]string{"padding": strings.Repeat("x", 100<<10)}})
	require.NoError(t, up.PushManifest(ctx, "big/one", "1", huge))
	s := store.NewMemory()
	m := newMirror(up, s, "big/one:1")
	m.MaxManifestSize = 64 << 10 // the default is 4 MiB; a small cap keeps the test fast
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, store.ErrTooLarge)
	assertNothingPublished(t, s, m.Ref(), "")
}

func TestSyncVanishedTag(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/app:1.0.0")
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	before, err := s.Ref(ctx, m.Ref())
	require.NoError(t, err)
	require.NoError(t, up.DeleteTag(ctx, "library/app", "1.0.0"))
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, err, store.ErrNotFound, "the SDK's not-found, whatever the mirror kind")
	var re *RegistryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)
	assertNothingPublished(t, s, m.Ref(), before)
}

func TestSyncUnauthorized(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no host credentials leak in
	ctx := context.Background()
	up := startUpstream(t)
	up.Faults.User.Store("alice")
	up.Faults.Password.Store("secret")
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19")
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, ErrUnauthorized)
	assertNothingPublished(t, s, m.Ref(), "")

	m = newMirror(up, s, "library/alpine:3.19")
	m.Registries[0].Username, m.Registries[0].Password = "alice", "secret"
	_, err = m.Sync(ctx)
	require.NoError(t, err)
}

func TestSyncRateLimitStorm(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	up.Faults.TooManyRequests.Store(-1)
	up.Faults.RetryAfter.Store("0")
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19")
	m.Client = &Client{Registries: m.Registries, RateLimit: RateLimitTransport{Policy: retry.Policy{Retries: 3, Backoff: time.Millisecond}}}
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, ErrRateLimited)
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 4, rl.Attempts)
	assertNothingPublished(t, s, m.Ref(), "")

	// A short burst is ridden out.
	up.Faults.TooManyRequests.Store(3)
	m = newMirror(up, s, "library/alpine:3.19")
	m.Client = &Client{Registries: m.Registries, RateLimit: RateLimitTransport{Policy: retry.Policy{Backoff: time.Millisecond}}}
	_, err = m.Sync(ctx)
	require.NoError(t, err)
}

func TestRateLimitTransportHonoursHeaders(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch r.URL.Path {
		case "/far":
			w.Header().Set("Retry-After", "3600")
		case "/hub":
			w.Header().Set("RateLimit-Limit", "100;w=21600")
			w.Header().Set("RateLimit-Remaining", "0;w=21600")
		case "/soon":
			if calls < 3 {
				w.Header().Set("RateLimit-Reset", "0")
				break
			}
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := &http.Client{Transport: &RateLimitTransport{Policy: retry.Policy{MaxRetryAfter: time.Minute, Backoff: time.Millisecond}}}

	_, err := c.Get(srv.URL + "/far")
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, time.Hour, rl.Wait)
	assert.Equal(t, 1, rl.Attempts, "a wait over MaxRetryAfter fails at once")

	_, err = c.Get(srv.URL + "/hub")
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 6*time.Hour, rl.Wait)
	assert.Equal(t, 0, rl.Remaining)
	assert.Equal(t, 100, rl.Limit)

	calls = 0
	resp, err := c.Get(srv.URL + "/soon")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 3, calls)

	// A cancelled context ends the wait.
	ctx, cancel := context.WithCancel(context.Background())
	c2 := &http.Client{Transport: &RateLimitTransport{Policy: retry.Policy{Backoff: time.Hour, MaxBackoff: 2 * time.Hour, MaxRetryAfter: 2 * time.Hour, MaxTime: 3 * time.Hour}}}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/none", nil)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	_, err = c2.Do(req)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestPlainHTTPNeverInferred(t *testing.T) {
	up := startUpstream(t)
	up.Requests()
	s := store.NewMemory()
	m := &Mirror{Name: "x", Store: s, Images: []string{up.Ref("library/alpine:3.19")}}
	_, err := m.Sync(context.Background())
	require.Error(t, err, "127.0.0.1 without PlainHTTP must be spoken to over https")
	for _, r := range up.Requests() {
		t.Errorf("plain http request reached the server: %s", r)
	}
	g := &schemeGuard{inner: http.DefaultTransport, plain: func(string) bool { return false }}
	req, _ := http.NewRequest("GET", up.Server.URL+"/v2/", nil)
	_, err = g.RoundTrip(req)
	assert.ErrorIs(t, err, ErrPlainHTTP)
}

func TestSyncBearerToken(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	up := startUpstream(t)
	up.Faults.Token.Store("tok-123")
	up.Faults.User.Store("bob")
	up.Faults.Password.Store("pw")
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19")
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, ErrUnauthorized, "no credentials: the token endpoint refuses")
	assertNothingPublished(t, s, m.Ref(), "")

	m = newMirror(up, s, "library/alpine:3.19", "library/multi:1.0")
	m.Registries[0].Username, m.Registries[0].Password = "bob", "pw"
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.Contains(t, up.Scopes, "repository:library/alpine:pull")
	assert.Contains(t, up.Scopes, "repository:library/multi:pull")
}

func TestSyncDockerConfigCredentials(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	up.Faults.User.Store("carol")
	up.Faults.Password.Store("pw2")
	dir := t.TempDir()
	cfg := `{"auths":{"` + up.Host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("carol:pw2")) + `"}}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
	t.Setenv("DOCKER_CONFIG", dir)
	s := store.NewMemory()
	_, err := newMirror(up, s, "library/alpine:3.19").Sync(ctx)
	require.NoError(t, err)
}

func TestTransportRetriesTransientFailures(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	c := &http.Client{Transport: &RateLimitTransport{Policy: retry.Policy{Backoff: time.Millisecond}}}
	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 3, calls)

	calls = 0
	resp, err = c.Post(srv.URL, "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode, "POST is not retried on 503")
	assert.Equal(t, 1, calls)
}

func TestSyncResumesInterruptedBlob(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s, err := store.Open(t.TempDir())
	require.NoError(t, err)
	layer := up.Content["library/alpine:3.19"].Blobs[1]
	up.Faults.CutBlob.Store(layer.Digest)
	m := newMirror(up, s, "library/alpine:3.19")
	_, err = m.Sync(ctx)
	require.NoError(t, err, "the connection dropped mid-blob; the retry asks for the rest")
	assert.Equal(t, int64(1), up.Faults.Ranges.Load())
	ok, err := s.Has(ctx, store.Digest(layer.Digest))
	require.NoError(t, err)
	assert.True(t, ok)

	// With no retries the run fails, publishes nothing, and the next run resumes. One
	// download at a time: a concurrent one cut short by the failure would be resumed too.
	s2, err := store.Open(t.TempDir())
	require.NoError(t, err)
	up.Faults.CutBlob.Store(layer.Digest)
	m = newMirror(up, s2, "library/alpine:3.19")
	m.Concurrency = 1
	m.Fetch = &fetch.Client{Store: s2, Retries: -1}
	_, err = m.Sync(ctx)
	require.Error(t, err)
	assertNothingPublished(t, s2, m.Ref(), "")
	m = newMirror(up, s2, "library/alpine:3.19")
	m.Fetch = &fetch.Client{Store: s2, Retries: -1}
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), up.Faults.Ranges.Load())
}

// The transport retries by the SDK's policy: a dropped connection and a 500 on GET are
// retried; when the retries are spent, or the registry asks for a wait over
// MaxRetryAfter, the caller gets the registry's last answer, body included.
func TestTransportRetryPolicy(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch r.URL.Path {
		case "/drop":
			if calls == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
		case "/500":
			if calls == 1 {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
		case "/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("busy"))
			return
		case "/later":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	var waits int
	c := &http.Client{Transport: &RateLimitTransport{Policy: retry.Policy{Retries: 2, MaxRetryAfter: time.Minute,
		Sleep: func(context.Context, time.Duration) error { waits++; return nil }}}}
	for _, path := range []string{"/drop", "/500"} {
		calls = 0
		resp, err := c.Get(srv.URL + path)
		require.NoError(t, err, path)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, path)
		assert.Equal(t, 2, calls, path)
	}

	calls = 0
	resp, err := c.Get(srv.URL + "/busy")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "busy", string(b), "the last answer's body")
	assert.Equal(t, 3, calls, "Retries 2: three attempts")

	calls, waits = 0, 0
	resp, err = c.Get(srv.URL + "/later")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, 1, calls, "a Retry-After over MaxRetryAfter is not waited for")
	assert.Zero(t, waits)
}

// A refused scheme is final for store/fetch too: it is not retried as a network error.
func TestPlainHTTPRefusalIsNotRetried(t *testing.T) {
	up := startUpstream(t)
	up.Requests()
	c := &Client{} // 127.0.0.1 not configured PlainHTTP
	var waits int
	fc := &fetch.Client{Store: store.NewMemory(), HTTP: c.HTTPClient(),
		Sleep: func(context.Context, time.Duration) error { waits++; return nil }}
	_, err := fc.Fetch(context.Background(), fetch.Request{URL: up.Server.URL + "/v2/library/alpine/blobs/sha256:" + strings.Repeat("0", 64)})
	require.ErrorIs(t, err, ErrPlainHTTP)
	assert.Zero(t, waits, "the refusal was retried")
	assert.Empty(t, up.Requests())
}
