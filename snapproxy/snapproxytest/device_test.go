package snapproxytest

import (
	"context"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeStore answers one install of "hello" with a result that mutate may break, serves
// the file and its assertions (signed by the test store key), and records the refresh
// request.
type fakeStore struct {
	srv     *httptest.Server
	content []byte
	mutate  func(res map[string]any, snap map[string]any)
	request map[string]any
	header  http.Header
}

func newFakeStore(t *testing.T) *fakeStore {
	f := &fakeStore{content: Content("hello", 7, "amd64", 0)}
	key := NewKey("store", Authority)
	sum := sha3.Sum384(f.content)
	b64 := base64.RawURLEncoding.EncodeToString(sum[:])
	id := SnapID("hello")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/snaps/refresh", func(w http.ResponseWriter, r *http.Request) {
		f.header = r.Header.Clone()
		_ = json.NewDecoder(r.Body).Decode(&f.request)
		snap := map[string]any{"name": "hello", "snap-id": id, "revision": 7, "version": "1.7", "type": "app",
			"epoch":    map[string]any{"read": []int{0}, "write": []int{0}},
			"download": map[string]any{"url": f.srv.URL + "/dl/hello_7.snap", "sha3-384": hex.EncodeToString(sum[:]), "size": len(f.content)}}
		res := map[string]any{"result": "install", "instance-key": "install-1", "name": "hello", "snap-id": id,
			"effective-channel": "latest/stable", "snap": snap}
		if f.mutate != nil {
			f.mutate(res, snap)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"results": []any{res}})
	})
	mux.HandleFunc("GET /dl/", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", epoch, strings.NewReader(string(f.content)))
	})
	assertions := map[string][]byte{
		"snap-revision/" + b64: key.Sign("snap-revision", []Header{{"snap-sha3-384", b64}, {"snap-id", id},
			{"snap-size", strconv.Itoa(len(f.content))}, {"snap-revision", "7"}, {"developer-id", "dev"}}, nil),
		"snap-declaration/16/" + id: key.Sign("snap-declaration", []Header{{"series", "16"}, {"snap-id", id}, {"publisher-id", "dev"}, {"snap-name", "hello"}}, nil),
		"account/dev":               key.Sign("account", []Header{{"account-id", "dev"}}, nil),
	}
	mux.HandleFunc("GET /v2/assertions/", func(w http.ResponseWriter, r *http.Request) {
		b, ok := assertions[strings.TrimPrefix(r.URL.Path, "/v2/assertions/")]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error-list":[{"code":"not-found","message":"no"}]}`)
			return
		}
		w.Header().Set("Content-Type", "application/x.ubuntu.assertion")
		_, _ = w.Write(b)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeStore) device() *Device {
	return &Device{Store: f.srv.URL, Trusted: []string{NewKey("store", Authority).ID}}
}

// The device sends what snapd sends.
func TestDeviceSendsWhatSnapdSends(t *testing.T) {
	f := newFakeStore(t)
	d := f.device()
	d.StoreID = "mystore"
	_, err := d.Install(context.Background(), "hello", "", 0)
	require.NoError(t, err)
	for k, v := range map[string]string{"Snap-Device-Series": "16", "Snap-Device-Architecture": "amd64", "Snap-Classic": "true",
		"Snap-Device-Capabilities": "default-tracks", "Snap-Device-Store": "mystore", "Content-Type": "application/json", "Accept": "application/json"} {
		assert.Equal(t, v, f.header.Get(k), k)
	}
	assert.True(t, strings.HasPrefix(f.header.Get("User-Agent"), "snapd/"))
	a := f.request["actions"].([]any)[0].(map[string]any)
	epoch, has := a["epoch"]
	assert.True(t, has, "install sends epoch")
	assert.Nil(t, epoch, "as null")
	assert.Equal(t, "install-1", a["instance-key"])
	assert.Equal(t, []any{}, f.request["context"])

	// A refresh: the context holds the installed snap, the action no epoch.
	_, err = d.Refresh(context.Background(), "hello")
	require.Error(t, err, "the fake answers an install result to a refresh")
	c := f.request["context"].([]any)[0].(map[string]any)
	assert.Equal(t, SnapID("hello"), c["instance-key"])
	assert.Equal(t, "latest/stable", c["tracking-channel"])
	assert.Equal(t, map[string]any{"read": []any{0.0}, "write": []any{0.0}}, c["epoch"])
	a = f.request["actions"].([]any)[0].(map[string]any)
	_, has = a["epoch"]
	assert.False(t, has, "refresh sends no epoch")
	assert.Equal(t, "refresh", a["action"])
}

// The device refuses what snapd refuses, and what would fail later in an air gap.
func TestDeviceRefuses(t *testing.T) {
	for name, mutate := range map[string]func(res, snap map[string]any){
		"revision as string": func(_, s map[string]any) { s["revision"] = "7" },
		"no snap-id":         func(_, s map[string]any) { delete(s, "snap-id") },
		"other name":         func(_, s map[string]any) { s["name"] = "other" },
		"no epoch":           func(_, s map[string]any) { delete(s, "epoch") },
		"no version":         func(_, s map[string]any) { delete(s, "version") },
		"bad type":           func(_, s map[string]any) { s["type"] = "thing" },
		"no download":        func(_, s map[string]any) { delete(s, "download") },
		"download elsewhere": func(_, s map[string]any) {
			s["download"].(map[string]any)["url"] = "https://api.snapcraft.io/dl/hello_7.snap"
		},
		"relative download": func(_, s map[string]any) { s["download"].(map[string]any)["url"] = "/dl/hello_7.snap" },
		"upper-case sha3": func(_, s map[string]any) {
			d := s["download"].(map[string]any)
			d["sha3-384"] = strings.ToUpper(d["sha3-384"].(string))
		},
		"wrong sha3":           func(_, s map[string]any) { s["download"].(map[string]any)["sha3-384"] = strings.Repeat("ab", 48) },
		"wrong size":           func(_, s map[string]any) { s["download"].(map[string]any)["size"] = 10 },
		"unknown instance-key": func(r, _ map[string]any) { r["instance-key"] = "install-9" },
		"refresh for install":  func(r, _ map[string]any) { r["result"] = "refresh" },
		"no effective-channel": func(r, _ map[string]any) { delete(r, "effective-channel") },
		"error without name": func(r, _ map[string]any) {
			r["result"], r["error"], r["name"] = "error", map[string]any{"code": "name-not-found"}, ""
		},
		"error without a code":  func(r, _ map[string]any) { r["result"], r["error"] = "error", map[string]any{} },
		"revision of elsewhere": func(_, s map[string]any) { s["revision"] = 8 },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeStore(t)
			f.mutate = mutate
			d := f.device()
			_, err := d.Install(context.Background(), "hello", "stable", 0)
			require.ErrorIs(t, err, ErrRefused)
			assert.Nil(t, d.Installed("hello"))
		})
	}
	// The file must be what the snap-revision vouches for.
	f := newFakeStore(t)
	good := f.device()
	_, err := good.Install(context.Background(), "hello", "", 0)
	require.NoError(t, err)
	f.content = append(f.content[:len(f.content)-1], 'X')
	_, err = f.device().Install(context.Background(), "hello", "", 0)
	require.ErrorIs(t, err, ErrRefused, "sha3-384 mismatch on download")
}

// An assertion 404 must be the store's JSON error list.
func TestDeviceAssertionNotFound(t *testing.T) {
	f := newFakeStore(t)
	_, err := f.device().Assertion(context.Background(), "account", "nobody")
	require.ErrorIs(t, err, ErrAssertionNotFound)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	_, err = (&Device{Store: plain.URL}).Assertion(context.Background(), "account", "nobody")
	require.ErrorIs(t, err, ErrRefused, "a text/plain 404 is not the store's")
}
