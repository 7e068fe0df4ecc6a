package snapproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
)

// apiWorld is a synced mirror served by its handler on 127.0.0.1, and a device pointed
// at it as at a proxy store.
type apiWorld struct {
	up     *snapproxytest.Server
	m      *Mirror
	srv    *httptest.Server
	base   string
	trust  *Trust
	device *snapproxytest.Device
}

func newAPIWorld(t *testing.T, specs ...SnapSpec) *apiWorld {
	t.Helper()
	w := &apiWorld{up: newStore(t, snapproxytest.Options{})}
	s := store.NewMemory()
	w.m = newMirror(t, w.up, s)
	w.m.Snaps = specs
	w.trust = w.m.Trust
	w.sync(t)
	// Mounted below a prefix, as serve mounts it.
	mux := http.NewServeMux()
	mux.Handle("/snaps/maas/", http.StripPrefix("/snaps/maas", NewHandler(s, w.m.Ref(), WithBasePath("/snaps/maas"))))
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	w.base = w.srv.URL + "/snaps/maas"
	w.device = w.newDevice("amd64")
	return w
}

func (w *apiWorld) sync(t *testing.T) {
	t.Helper()
	_, err := w.m.Sync(context.Background())
	require.NoError(t, err)
}

// post sends a refresh request body with snapd's headers, h overriding them ("" : left
// out).
func (w *apiWorld) post(t *testing.T, body []byte, h map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.base+"/v2/snaps/refresh", bytes.NewReader(body))
	for k, v := range map[string]string{"User-Agent": "snapd/2.66", "Snap-Device-Series": "16", "Snap-Device-Architecture": "amd64",
		"Content-Type": "application/json", "Snap-Device-Capabilities": "default-tracks"} {
		req.Header.Set(k, v)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// refresh posts a refresh request and returns the status and results.
func (w *apiWorld) refresh(t *testing.T, body any) (int, []map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp := w.post(t, b, nil)
	var res struct {
		Results []map[string]any `json:"results"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	return resp.StatusCode, res.Results
}

// newDevice trusts the test store's root, as snapd trusts Canonical's, and verifies every
// download's assertions with it.
func (w *apiWorld) newDevice(arch string) *snapproxytest.Device {
	return &snapproxytest.Device{Store: w.base, Arch: arch, Trusted: []string{w.up.Root.ID},
		Verify: func(stream [][]byte) error {
			set, err := DecodeAll(bytes.NewReader(bytes.Join(stream, []byte("\n"))), 0)
			if err != nil {
				return err
			}
			return w.trust.Verify(set)
		}}
}

// The device installs from the default track, by channel and by revision, refreshes
// from an older held revision to the newest, and then finds nothing newer.
func TestAPIInstallAndRefresh(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas", Keep: 2}, SnapSpec{Name: "maas", Channel: "3.4/stable"})
	w.up.Add(snapproxytest.Snap{Name: "maas", Revision: 110, Channels: []string{"3.5/stable"}, Base: "core22", DeclarationFormat: 3})
	w.sync(t)
	d := w.device

	in, err := d.Install(ctx, "maas", "", 0)
	require.NoError(t, err)
	assert.Equal(t, 110, in.Revision, "no channel: the default track 3.5's stable")
	assert.Equal(t, "3.5/stable", in.Channel)
	assert.Equal(t, snapproxytest.Content("maas", 110, "amd64", 0), in.File)

	old := w.newDevice("amd64")
	in, err = old.Install(ctx, "maas", "", 100)
	require.NoError(t, err, "the older revision is held")
	assert.Equal(t, 100, in.Revision)
	changed, err := old.Refresh(ctx, "maas")
	require.NoError(t, err)
	require.Len(t, changed, 1)
	assert.Equal(t, 110, changed[0].Revision, "refreshed to the newest held revision of the channel tracked")
	changed, err = old.Refresh(ctx)
	require.NoError(t, err)
	assert.Empty(t, changed, "nothing newer: no action")
	// The store gives no result for a snap with nothing newer.
	id := snapproxytest.SnapID("maas")
	status, results := w.refresh(t, map[string]any{
		"context": []any{map[string]any{"snap-id": id, "instance-key": id, "revision": 110, "tracking-channel": "3.5/stable",
			"epoch": map[string]any{"read": []int{0}, "write": []int{0}}}},
		"actions": []any{map[string]any{"action": "refresh", "instance-key": id, "snap-id": id}}, "fields": []string{"revision"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, results)

	other := w.newDevice("arm64")
	in, err = other.Install(ctx, "maas", "3.4/stable", 0)
	require.NoError(t, err)
	assert.Equal(t, 91, in.Revision)
	// Prerequisites come from the mirror too.
	for _, dep := range []string{"core22", "snapd", "gtk-common-themes"} {
		_, err := other.Install(ctx, dep, "", 0)
		require.NoError(t, err, dep)
	}
	// Switching channel is a refresh with a channel.
	res, err := other.Refresh(ctx, "maas")
	require.NoError(t, err)
	assert.Empty(t, res, "3.4/stable has nothing newer")
}

// A held snap stays in the context and is not refreshed by the scheduled refresh.
func TestAPIRefreshHold(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas", Keep: 2})
	w.up.Add(snapproxytest.Snap{Name: "maas", Revision: 110, Channels: []string{"3.5/stable"}, Base: "core22", DeclarationFormat: 3})
	w.sync(t)
	d := w.device
	_, err := d.Install(ctx, "maas", "", 100)
	require.NoError(t, err)
	d.Hold("maas")
	changed, err := d.Refresh(ctx)
	require.NoError(t, err)
	assert.Empty(t, changed)
	assert.Equal(t, 100, d.Installed("maas").Revision)
	changed, err = d.Refresh(ctx, "maas")
	require.NoError(t, err, "an explicit refresh of a held snap goes ahead")
	require.Len(t, changed, 1)
}

// What the mirror does not hold gets the errors the store gives: name-not-found,
// revision-not-found listing the releases (wrong architecture, unknown channel or
// revision), id-not-found for an installed snap it does not hold.
func TestAPINotHeld(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas", Channel: "3.5/stable"})
	d := w.device

	_, err := d.Install(ctx, "nosuch", "", 0)
	require.ErrorIs(t, err, snapproxytest.ErrSnapNotFound)

	s390 := w.newDevice("s390x")
	_, err = s390.Install(ctx, "maas", "", 0)
	require.ErrorIs(t, err, snapproxytest.ErrRevisionNotAvailable)
	var ae *snapproxytest.ActionError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "maas", ae.Name)
	assert.Equal(t, []snapproxytest.Release{{Architecture: "amd64", Channel: "3.5/stable"}, {Architecture: "arm64", Channel: "3.5/stable"}}, ae.Releases)

	for _, tc := range []struct {
		channel  string
		revision int
	}{{"3.4/stable", 0}, {"3.5/edge", 0}, {"", 90}} {
		_, err = d.Install(ctx, "maas", tc.channel, tc.revision)
		require.ErrorIs(t, err, snapproxytest.ErrRevisionNotAvailable, "%+v", tc)
	}

	// An installed snap the mirror does not hold: id-not-found.
	_, err = d.Install(ctx, "maas", "", 0)
	require.NoError(t, err)
	_, err = w.newDevice("amd64").Install(ctx, "maas", "", 0)
	require.NoError(t, err)
	stranger := w.newDevice("amd64")
	_, err = stranger.Install(ctx, "maas", "", 0)
	require.NoError(t, err)
	stranger.Installed("maas").SnapID = snapproxytest.SnapID("elsewhere")
	_, err = stranger.Refresh(ctx, "maas")
	require.ErrorIs(t, err, snapproxytest.ErrSnapNotFound)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "id-not-found", ae.Code)
}

// A revision that cannot read the installed epoch is not offered; the held revision that
// bridges the epochs is, then the newest.
func TestAPIEpochs(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "hello", Channel: "latest/stable", Keep: 3, Architectures: []string{"amd64"}})
	d := w.device
	_, err := d.Install(ctx, "hello", "", 0)
	require.NoError(t, err)
	assert.Equal(t, 7, d.Installed("hello").Revision)

	w.up.Add(snapproxytest.Snap{Name: "hello", Revision: 20, Channels: []string{"latest/stable"}, Epoch: snapproxytest.Epoch{Read: []uint32{0, 1}, Write: []uint32{1}}})
	w.sync(t)
	w.up.Add(snapproxytest.Snap{Name: "hello", Revision: 30, Channels: []string{"latest/stable"}, Epoch: snapproxytest.Epoch{Read: []uint32{1}, Write: []uint32{1}}})
	w.sync(t)

	changed, err := d.Refresh(ctx, "hello")
	require.NoError(t, err)
	require.Len(t, changed, 1)
	assert.Equal(t, 20, changed[0].Revision, "30 cannot read epoch 0: 20 (1*) bridges")
	assert.Equal(t, snapproxytest.Epoch{Read: []uint32{0, 1}, Write: []uint32{1}}, changed[0].Epoch)
	changed, err = d.Refresh(ctx, "hello")
	require.NoError(t, err)
	require.Len(t, changed, 1)
	assert.Equal(t, 30, changed[0].Revision)

	fresh := w.newDevice("amd64")
	in, err := fresh.Install(ctx, "hello", "", 0)
	require.NoError(t, err)
	assert.Equal(t, 30, in.Revision, "a new install reads no data: the newest")
}

// Downloads resume with Range; a device with a serial gets a session first.
func TestAPIDownloadResumeAndSession(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas"})
	d := w.device
	d.CutDownloads = 1000
	d.Serial = true
	_, err := d.Install(ctx, "maas", "", 0)
	require.NoError(t, err)
	assert.Equal(t, 1, d.Ranged)
}

// Info shows the channel map of what is held for the device's architecture; find the
// held snaps.
func TestAPIInfoAndFind(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas"}, SnapSpec{Name: "maas", Channel: "3.4/stable"})
	info, err := w.device.Info(ctx, "maas")
	require.NoError(t, err)
	require.NotNil(t, info.DefaultTrack)
	assert.Equal(t, "3.5", *info.DefaultTrack)
	got := map[string]int{}
	for _, c := range info.ChannelMap {
		got[c.Channel.Name] = c.Revision
	}
	assert.Equal(t, map[string]int{"3.5/stable": 100, "3.4/stable": 90}, got)

	_, err = w.device.Info(ctx, "nosuch")
	require.ErrorIs(t, err, snapproxytest.ErrSnapNotFound)
	_, err = w.newDevice("s390x").Info(ctx, "maas")
	require.ErrorIs(t, err, snapproxytest.ErrSnapNotFound, "nothing for s390x")

	names, err := w.device.Find(ctx, "maas")
	require.NoError(t, err)
	assert.Equal(t, []string{"maas"}, names)
	names, err = w.device.Find(ctx, "test snap")
	require.NoError(t, err)
	assert.Equal(t, []string{"core18", "core22", "gtk-common-themes", "maas", "snapd"}, names, "summary matches")
	names, err = w.device.Find(ctx, "nosuch")
	require.NoError(t, err)
	assert.Empty(t, names)
}

// Assertions are served byte for byte, up to max-format; what is not held is the store's
// not-found, in v2 JSON and v1 problem+json.
func TestAPIAssertions(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas"})
	out, err := ReadOutput(ctx, w.m.Store, w.m.Ref())
	require.NoError(t, err)
	ms, ok := pick(out.Manifest, "maas", "amd64")
	require.True(t, ok)
	set, err := out.Assertions(ctx, ms)
	require.NoError(t, err)
	for _, a := range set {
		b, err := w.device.Assertion(ctx, a.Type(), a.PrimaryKey()...)
		require.NoError(t, err, a.String())
		assert.Equal(t, append(append([]byte{}, a.Raw()...), '\n'), b, a.String())
	}
	decl := set[len(set)-2]
	require.Equal(t, "snap-declaration", decl.Type())
	require.Equal(t, "3", decl.Header("format"))

	_, err = w.device.Assertion(ctx, "snap-revision", "nosuch")
	require.ErrorIs(t, err, snapproxytest.ErrAssertionNotFound)
	_, err = w.device.Assertion(ctx, "account", "nobody")
	require.ErrorIs(t, err, snapproxytest.ErrAssertionNotFound)

	get := func(path string, accept string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, w.base+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	key := "/snap-declaration/16/" + decl.Header("snap-id")
	assert.Equal(t, http.StatusNotFound, get("/v2/assertions"+key+"?max-format=2", AssertionMediaType).StatusCode, "format 3 > max-format 2")
	assert.Equal(t, http.StatusOK, get("/v2/assertions"+key+"?max-format=3", AssertionMediaType).StatusCode)
	assert.Equal(t, http.StatusNotAcceptable, get("/v2/assertions"+key+"?max-format=3", "text/html").StatusCode)
	resp := get("/api/v1/snaps/assertions"+key+"?max-format=6", AssertionMediaType)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, string(decl.Raw())+"\n", string(b))
	resp = get("/api/v1/snaps/assertions/account/nobody", AssertionMediaType)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var problem struct {
		Status int `json:"status"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&problem))
	assert.Equal(t, 404, problem.Status)
}

// Canonical's real assertions, mirrored as the chain of a configured assertion and the
// trusted root, are served through the API byte for byte: the five of the shared
// fixtures.
func TestAPIServesCanonicalChain(t *testing.T) {
	ctx := context.Background()
	up := snapproxytest.New(snapproxytest.Options{Canonical: true})
	t.Cleanup(up.Close)
	root, err := ParseTrust(snapproxytest.CanonicalRoot())
	require.NoError(t, err)
	s := store.NewMemory()
	m := &Mirror{Name: "canonical", URL: up.URL(), Store: s, Trust: root,
		Assertions: []string{"account-key/7qWG-Uwck6Dji43a3Z8ZZrm7rAziZAch3xf76iFvqe4GaD0LI7U9lYPWMSJAsEgu"}}
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	srv := httptest.NewServer(NewHandler(s, m.Ref()))
	t.Cleanup(srv.Close)
	d := &snapproxytest.Device{Store: srv.URL}

	files, err := filepath.Glob("../../shared/fixtures/snap/*.account*")
	if len(files) == 0 {
		files, err = filepath.Glob("snapproxytest/testdata/canonical/*.account*")
	}
	require.NoError(t, err)
	require.Len(t, files, 5)
	for _, f := range files {
		want, err := os.ReadFile(f)
		require.NoError(t, err)
		a, err := DecodeAssertion(want)
		require.NoError(t, err, f)
		got, err := d.Assertion(ctx, a.Type(), a.PrimaryKey()...)
		require.NoError(t, err, f)
		assert.Equal(t, string(bytes.TrimRight(want, "\n"))+"\n", string(got), f)
	}

	// assertions.assert acks in order: every prerequisite before what needs it.
	out, err := ReadOutput(ctx, s, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, AssertionsFile, out.Manifest.Assertions)
	b, err := readFile(ctx, s, out.Snapshot, AssertionsFile)
	require.NoError(t, err)
	chain, err := DecodeAll(bytes.NewReader(b), 0)
	require.NoError(t, err)
	var names []string
	for _, a := range chain {
		names = append(names, a.String())
	}
	assert.Equal(t, []string{"account/canonical", "account-key/" + snapproxytest.CanonicalStoreKeyID, "account/test-snapd",
		"account-key/7qWG-Uwck6Dji43a3Z8ZZrm7rAziZAch3xf76iFvqe4GaD0LI7U9lYPWMSJAsEgu"}, names)
	require.NoError(t, root.Verify(chain))
}

// The API refuses what a store refuses as a whole, with the store's error list.
func TestAPIRefusesBadRequests(t *testing.T) {
	w := newAPIWorld(t, SnapSpec{Name: "maas"})
	post := func(body string, h map[string]string) *http.Response { return w.post(t, []byte(body), h) }
	ok := `{"context":[],"actions":[{"action":"install","instance-key":"install-1","name":"maas","epoch":null}],"fields":["revision"]}`
	resp := post(ok, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "55", resp.Header.Get("Snap-Store-Version"))
	for name, tc := range map[string]struct {
		body string
		h    map[string]string
	}{
		"no series":       {ok, map[string]string{"Snap-Device-Series": ""}},
		"no architecture": {ok, map[string]string{"Snap-Device-Architecture": ""}},
		"bad json":        {`{"context":[],"actions":[`, nil},
		"wrong type":      {`{"context":[],"actions":[{"action":"install","instance-key":"i","name":"maas","revision":"9"}]}`, nil},
		"unknown action":  {`{"context":[],"actions":[{"action":"purge","instance-key":"i","name":"maas"}]}`, nil},
		"refresh no ctx":  {`{"context":[],"actions":[{"action":"refresh","instance-key":"x","snap-id":"x"}]}`, nil},
		"repeated key":    {`{"context":[],"actions":[{"action":"install","instance-key":"i","name":"a"},{"action":"install","instance-key":"i","name":"b"}]}`, nil},
	} {
		resp := post(tc.body, tc.h)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
		var e struct {
			ErrorList []apiError `json:"error-list"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e), name)
		assert.NotEmpty(t, e.ErrorList, name)
	}
	// GET of the refresh endpoint is the store's 405, naming POST.
	resp, err := http.Get(w.base + "/v2/snaps/refresh")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	resp, err = http.Get(w.base + "/v2/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// fetch-assertions: stream URLs for what is newer than the device has, not-found entries
// for what the mirror does not hold.
func TestAPIFetchAssertions(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas"})
	out, err := ReadOutput(ctx, w.m.Store, w.m.Ref())
	require.NoError(t, err)
	ms, _ := pick(out.Manifest, "maas", "amd64")
	set, err := out.Assertions(ctx, ms)
	require.NoError(t, err)
	decl := set[len(set)-2]
	ask := func(ifNewer *int, key string) map[string]any {
		a := map[string]any{"type": "snap-declaration", "primary-key": []string{"16", key}}
		if ifNewer != nil {
			a["if-newer-than"] = *ifNewer
		}
		status, results := w.refresh(t, map[string]any{"context": []any{}, "fields": []string{},
			"actions":               []any{map[string]any{"action": "fetch-assertions", "key": "g1", "assertions": []any{a}}},
			"assertion-max-formats": map[string]int{"snap-declaration": 6}})
		require.Equal(t, http.StatusOK, status)
		require.Len(t, results, 1)
		return results[0]
	}
	r := ask(nil, decl.Header("snap-id"))
	urls := r["assertion-stream-urls"].([]any)
	require.Len(t, urls, 1)
	resp, err := http.Get(urls[0].(string))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, string(decl.Raw())+"\n", string(b))
	zero := 0
	assert.Empty(t, ask(&zero, decl.Header("snap-id"))["assertion-stream-urls"], "revision 0 held: nothing newer")
	r = ask(nil, "nosuch")
	assert.Equal(t, "not-found", r["error-list"].([]any)[0].(map[string]any)["code"])
}
