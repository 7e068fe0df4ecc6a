package snapproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// newStore publishes snapproxytest's demo world.
func newStore(t testing.TB, opts snapproxytest.Options) *snapproxytest.Server {
	srv := snapproxytest.New(opts)
	t.Cleanup(srv.Close)
	srv.AddDemo()
	return srv
}

func newMirror(t testing.TB, srv *snapproxytest.Server, s store.Store) *Mirror {
	trust, err := ParseTrust(srv.TrustedKeys())
	require.NoError(t, err)
	return &Mirror{
		Name: "maas", URL: srv.URL(), Store: s, Trust: trust,
		Snaps:         []SnapSpec{{Name: "maas", Channel: "3.5/stable"}},
		Architectures: []string{"amd64", "arm64"},
		Fetch:         &fetch.Client{Store: s, Backoff: 1, MaxBackoff: 1},
	}
}

func TestSyncRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{Token: "sekrit"})
	s := store.NewMemory()
	m := newMirror(t, srv, s)
	m.Authorization = "Macaroon sekrit"
	m.Snaps = append(m.Snaps, SnapSpec{Name: "hello", Architectures: []string{"amd64"}})
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed)
	// maas, core22, gtk-common-themes (all), core18, snapd per arch, hello (amd64) and its core.
	assert.Equal(t, 2+2+1+2+2+1+1, st.Snaps)
	assert.Equal(t, 8, st.Dependencies)
	assert.Equal(t, int64(0), srv.CDNAuthorized(), "credentials leaked to the CDN")

	out, err := ReadOutput(ctx, s, "snaps/maas")
	require.NoError(t, err)
	trust, err := ParseTrust(srv.TrustedKeys())
	require.NoError(t, err)
	require.NoError(t, out.Verify(ctx, trust))
	assert.Equal(t, []string{"snapd_300", "core_400", "core18_60", "core22_200", "gtk-common-themes_50", "hello_7", "maas_100"}, out.Manifest.Install["amd64"])
	assert.Equal(t, []string{"snapd_301", "core18_61", "core22_201", "gtk-common-themes_50", "maas_101"}, out.Manifest.Install["arm64"])
	for _, ms := range out.Manifest.Snaps {
		if ms.Name == "gtk-common-themes" {
			assert.Equal(t, []string{"amd64", "arm64"}, ms.Architectures)
			assert.Equal(t, ClassProvider, ms.Class)
			assert.Equal(t, []string{"maas"}, ms.RequiredBy)
		}
	}
	// The .assert holds account-key, account(s), snap-declaration, snap-revision in that order.
	set, err := out.Assertions(ctx, out.Manifest.Snaps[0])
	require.NoError(t, err)
	var types []string
	for _, a := range set {
		types = append(types, a.Type())
	}
	assert.Equal(t, []string{"account-key", "account", "snap-declaration", "snap-revision"}, types)

	// install.sh acks then installs in order.
	h := NewHandler(s, "snaps/maas")
	body := get(t, h, "/install.sh")
	assert.Less(t, strings.Index(body, "snap ack snapd_300.assert"), strings.Index(body, "snap install core22_200.snap"))
	assert.Less(t, strings.Index(body, "snap install gtk-common-themes_50.snap"), strings.Index(body, "snap install maas_100.snap"))
	// By name, per architecture.
	assert.Equal(t, string(snapproxytest.Content("maas", 101, "arm64", 0)), get(t, h, "/maas.snap?arch=arm64"))
	assert.True(t, strings.HasPrefix(get(t, h, "/hello.assert"), "type: account-key\n"))
	assert.Contains(t, get(t, h, "/"), `"name": "maas"`)

	// A second sync changes nothing and downloads nothing.
	before := srv.Downloads()
	st2, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, st2.Changed)
	assert.Equal(t, before, srv.Downloads())
	assert.Equal(t, st.Generation, st2.Generation)
}

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, http.StatusOK, rec.Code, path)
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestSyncRevisionPinAndNoDependencies(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{})
	s := store.NewMemory()
	m := newMirror(t, srv, s)
	m.Snaps = []SnapSpec{{Name: "maas", Revision: 90, Architectures: []string{"amd64"}}}
	m.NoDependencies = true
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	out, err := ReadOutput(ctx, s, "snaps/maas")
	require.NoError(t, err)
	require.Len(t, out.Manifest.Snaps, 1)
	assert.Equal(t, "maas_90.snap", out.Manifest.Snaps[0].File)
}

// publishesNothing runs a sync that must fail with want and leave the ref unset.
func publishesNothing(t *testing.T, m *Mirror, want error) error {
	t.Helper()
	_, err := m.Sync(context.Background())
	require.ErrorIs(t, err, want)
	_, cerr := store.Current(context.Background(), m.Store, m.Ref())
	require.ErrorIs(t, cerr, store.ErrNotFound)
	return err
}

func TestSyncNegative(t *testing.T) {
	cases := []struct {
		name   string
		faults snapproxytest.Faults
		want   error
	}{
		{"wrong sha3-384", snapproxytest.Faults{WrongSHA3: "core22"}, store.ErrDigestMismatch},
		{"snap-revision for another snap", snapproxytest.Faults{RevisionForOtherSnap: "maas"}, ErrAssertionMismatch},
		{"untrusted signer", snapproxytest.Faults{UntrustedSigner: true}, ErrUntrustedKey},
		{"truncated assertion", snapproxytest.Faults{TruncateAssertions: true}, ErrMalformedAssertion},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newStore(t, snapproxytest.Options{})
			srv.SetFaults(tc.faults)
			publishesNothing(t, newMirror(t, srv, store.NewMemory()), tc.want)
		})
	}
}

func TestSyncChannelNotFound(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	m := newMirror(t, srv, store.NewMemory())
	m.Snaps = []SnapSpec{{Name: "maas", Channel: "9.9/stable"}}
	err := publishesNothing(t, m, ErrChannelNotFound)
	var se *StoreError
	require.True(t, errors.As(err, &se))
	assert.Contains(t, se.Releases, Release{Architecture: "amd64", Channel: "3.5/stable"})
	assert.ErrorIs(t, err, ErrRevisionNotFound)

	m.Snaps = []SnapSpec{{Name: "maas", Revision: 12345}}
	err = publishesNothing(t, m, ErrRevisionNotFound)
	assert.NotErrorIs(t, err, ErrChannelNotFound)

	m.Snaps = []SnapSpec{{Name: "no-such-snap"}}
	publishesNothing(t, m, ErrNameNotFound)
}

func TestSyncRetries429(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	srv.SetFaults(snapproxytest.Faults{TooManyRequests: 2})
	m := newMirror(t, srv, store.NewMemory())
	st, err := m.Sync(context.Background())
	require.NoError(t, err)
	assert.True(t, st.Changed)
}

func TestSyncRequiresTrust(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	m := newMirror(t, srv, store.NewMemory())
	m.Trust = nil
	publishesNothing(t, m, ErrNoTrustedKeys)
	// With the check explicitly off, a sync still checks digests and assertions' contents.
	m.InsecureSkipSignature = true
	srv.SetFaults(snapproxytest.Faults{UntrustedSigner: true})
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
}

func TestInfo(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	c := &Client{BaseURL: srv.URL(), Fetch: &fetch.Client{Store: store.NewMemory()}}
	info, err := c.Info(context.Background(), "maas", "arm64")
	require.NoError(t, err)
	var chans []string
	for _, e := range info.ChannelMap {
		chans = append(chans, e.Channel+"@"+e.Architecture)
	}
	assert.Equal(t, []string{"3.4/stable@arm64", "3.5/stable@arm64"}, chans)
	assert.Equal(t, "3.5", info.DefaultTrack)
	_, err = c.Info(context.Background(), "nope", "")
	assert.ErrorIs(t, err, ErrNameNotFound)
}

func TestSyncResumesCutDownloads(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	srv.SetFaults(snapproxytest.Faults{CutDownloads: true})
	m := newMirror(t, srv, store.NewMemory())
	st, err := m.Sync(context.Background())
	require.NoError(t, err)
	// Every file took two requests: the cut one and the resumed one.
	assert.Equal(t, int64(2*st.Snaps), srv.Downloads())
	assert.Equal(t, int64(st.Snaps), srv.RangeRequests())
	out, err := ReadOutput(context.Background(), m.Store, m.Ref())
	require.NoError(t, err)
	require.NoError(t, out.Verify(context.Background(), m.Trust))
}

func TestRefreshRetries429(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	srv.SetFaults(snapproxytest.Faults{TooManyRequests: 2})
	c := &Client{BaseURL: srv.URL(), Fetch: &fetch.Client{Store: store.NewMemory(), Backoff: 1, MaxBackoff: 1}}
	res, err := c.Refresh(context.Background(), "amd64", []Action{{Name: "hello", Channel: "latest/edge"}, {Name: "maas", Channel: "3.4"}})
	require.NoError(t, err)
	assert.Equal(t, 7, res[0].Snap.Revision)
	assert.Equal(t, 90, res[1].Snap.Revision)
	srv.SetFaults(snapproxytest.Faults{TooManyRequests: 100})
	c.Retries = 1
	_, err = c.Refresh(context.Background(), "amd64", []Action{{Name: "hello"}})
	var he *fetch.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusTooManyRequests, he.StatusCode)
}

// A refresh answered 503 with Retry-After as an HTTP date waits until then (the date
// form was once read as no hint at all), by Fetch's policy.
func TestRefreshRetryAfterDate(t *testing.T) {
	up := newStore(t, snapproxytest.Options{})
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", time.Now().Add(20*time.Second).UTC().Format(http.TimeFormat))
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		proxy, _ := http.NewRequestWithContext(r.Context(), r.Method, up.URL()+r.URL.Path, r.Body)
		proxy.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(proxy)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &Client{BaseURL: srv.URL, Fetch: &fetch.Client{Store: store.NewMemory(),
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}}
	res, err := c.Refresh(context.Background(), "amd64", []Action{{Name: "hello"}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	require.Len(t, waits, 1)
	assert.Greater(t, waits[0], 15*time.Second, "the date's wait")
}

func TestSyncFilesystemStore(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(t.TempDir())
	require.NoError(t, err)
	srv := newStore(t, snapproxytest.Options{})
	m := newMirror(t, srv, s)
	m.Fetch = nil
	m.Snaps = append(m.Snaps, SnapSpec{Name: "hello", Channel: "latest/edge"})
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	out, err := ReadOutput(ctx, s, m.Ref())
	require.NoError(t, err)
	require.NoError(t, out.Verify(ctx, m.Trust))
	assert.Contains(t, out.Manifest.Install["arm64"], "hello_8")
}

func TestStoreErrorMatching(t *testing.T) {
	e := &StoreError{Name: "x", Code: "revision-not-found", Channel: "latest/stable", Architecture: "amd64",
		Releases: []Release{{Architecture: "amd64", Channel: "latest/edge"}}}
	assert.ErrorIs(t, e, ErrChannelNotFound)
	assert.ErrorIs(t, e, ErrRevisionNotFound)
	assert.NotErrorIs(t, e, ErrNameNotFound)
	assert.Contains(t, e.Error(), "latest/edge/amd64")
	assert.ErrorIs(t, &StoreError{Code: "invalid-channel", Channel: "x"}, ErrChannelNotFound)
	assert.ErrorIs(t, &StoreError{Code: "name-not-found"}, ErrNameNotFound)
	// The SDK's not-found, whatever the mirror kind.
	for _, code := range []string{"name-not-found", "snap-not-found", "revision-not-found", "invalid-channel", "id-not-found"} {
		assert.ErrorIs(t, &StoreError{Code: code}, store.ErrNotFound, code)
	}
	assert.NotErrorIs(t, &StoreError{Code: "user-authorization-needs-refresh"}, store.ErrNotFound)
	// Without a channel the store looked in the default track.
	def := &StoreError{Name: "x", Code: "revision-not-found", Architecture: "s390x"}
	assert.ErrorIs(t, def, ErrChannelNotFound)
	assert.Equal(t, "snapproxy: x default channel (s390x): revision-not-found", def.Error())
}

// store_url, the old name of url, still works, with a warning; given both, they must
// agree.
func TestStoreURLDeprecated(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{})
	m := newMirror(t, srv, store.NewMemory())
	m.URL, m.StoreURL = "", srv.URL()
	var logs bytes.Buffer
	m.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed)
	assert.Contains(t, logs.String(), "store_url is deprecated")

	m.URL = "https://elsewhere.example"
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, ErrConfig)
	require.ErrorIs(t, err, store.ErrConfig)
}

// Other trusted root keys (here one more) make the next sync publish a generation that
// records them, though the files are the same: a sync under other trust never answers
// "nothing changed". The files it knows by sha3-384 are not fetched again.
func TestTrustedKeysChangeRepublishes(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{})
	s := store.NewMemory()
	m := newMirror(t, srv, s)
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	require.False(t, st.Changed)

	roots, err := DecodeAll(bytes.NewReader(srv.TrustedKeys()), 8)
	require.NoError(t, err)
	other := snapproxytest.NewKey("rogue", "other-authority")
	extra, err := DecodeAssertion(other.AccountKey(other, "other"))
	require.NoError(t, err)
	m.Trust, err = NewTrust(append(roots, extra)...)
	require.NoError(t, err)
	downloads := srv.Downloads()
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed, "new root keys must be recorded")
	assert.Equal(t, downloads, srv.Downloads())
	g, err := store.Current(ctx, s, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, string(m.Trust.Digest()), g.Trust.Roots()["trusted_keys"])

	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, st.Changed)

	// Switching the check off is a trust change too.
	m.InsecureSkipSignature = true
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed)
}

func TestTrustDigest(t *testing.T) {
	a := snapproxytest.NewKey("root", "acct-a")
	b := snapproxytest.NewKey("rogue", "acct-b")
	ka, err := DecodeAssertion(a.AccountKey(a, "a"))
	require.NoError(t, err)
	kb, err := DecodeAssertion(b.AccountKey(b, "b"))
	require.NoError(t, err)
	ab, err := NewTrust(ka, kb)
	require.NoError(t, err)
	ba, err := NewTrust(kb, ka)
	require.NoError(t, err)
	onlyA, err := NewTrust(ka)
	require.NoError(t, err)
	assert.Equal(t, ab.Digest(), ba.Digest(), "order does not count")
	assert.NotEqual(t, ab.Digest(), onlyA.Digest())
}
