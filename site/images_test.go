package site

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
)

// fakeProvider stands in for the helm kind: its images exist once it has synced, as a
// published tree's do.
type fakeProvider struct {
	name, to string
	images   []oci.RequestedImage
	fail     error // what Sync returns

	mu     sync.Mutex
	synced bool
}

func (f *fakeProvider) Kind() string                                                 { return "fake" }
func (f *fakeProvider) Name() string                                                 { return f.name }
func (f *fakeProvider) Validate() error                                              { return nil }
func (f *fakeProvider) Endpoints() []string                                          { return nil }
func (f *fakeProvider) Handler(*Env, string) http.Handler                            { return http.NotFoundHandler() }
func (f *fakeProvider) ImagesTo() string                                             { return f.to }
func (f *fakeProvider) Inventory(context.Context, store.Store) ([]store.Item, error) { return nil, nil }

func (f *fakeProvider) Sync(context.Context, *Env) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.synced = true // a failed sync keeps what was published before
	}
	return Result{}, f.fail
}

func (f *fakeProvider) RequestedImages(context.Context, store.Store) ([]oci.RequestedImage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.synced {
		return nil, store.ErrNotFound
	}
	return f.images, nil
}

func ociMirror(up *ocitest.Registry, name string, images ...string) *OCIMirror {
	m := &OCIMirror{Mirror: oci.Mirror{Name: name, Registries: []oci.RegistryConfig{{Host: up.Host, PlainHTTP: true}}}}
	for _, im := range images {
		m.Images = append(m.Images, up.Ref(im))
	}
	return m
}

func requestedBy(t *testing.T, s store.Store, m Mirror) map[string][]string {
	t.Helper()
	items, err := m.Inventory(context.Background(), s)
	require.NoError(t, err)
	out := map[string][]string{}
	for _, it := range items {
		out[it.Name[strings.Index(it.Name, "/")+1:]+":"+it.Version] = it.RequestedBy
	}
	return out
}

// An oci mirror listed before its providers still syncs after them, and copies their
// images with its own platform filter; the inventory names the chart that asked.
func TestImageProviders(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.Start()
	require.NoError(t, err)
	defer up.Close()
	s := store.NewMemory()
	k8s := ociMirror(up, "k8s", "library/alpine:3.19")
	k8s.Platforms = []string{"linux/amd64"}
	charts := &fakeProvider{name: "charts", to: "k8s", images: []oci.RequestedImage{
		{Ref: up.Ref("library/multi:1.0"), RequestedBy: "fake/charts web 1.0.0"},
		{Ref: up.Ref("library/alpine:3.19"), RequestedBy: "fake/charts web 1.0.0"},
	}}
	more := &fakeProvider{name: "more", to: "oci/k8s", images: []oci.RequestedImage{{Ref: up.Ref("library/app:1.0.0"), RequestedBy: "fake/more api 2.0.0"}}}
	other := ociMirror(up, "other", "library/app:1.1.0")
	env := &Env{Store: s, Logger: slog.New(slog.DiscardHandler)}
	ms := []Mirror{k8s, other, charts, more, charts} // named twice: synced once
	for range 3 {                                    // the order is decided, not won by a race
		require.NoError(t, env.SyncAll(ctx, ms, SyncOptions{Concurrency: 1}))
	}
	assert.Equal(t, map[string][]string{
		"library/alpine:3.19": {"fake/charts web 1.0.0"},
		"library/multi:1.0":   {"fake/charts web 1.0.0"},
		"library/app:1.0.0":   {"fake/more api 2.0.0"},
	}, requestedBy(t, s, k8s))
	assert.Equal(t, map[string][]string{"library/app:1.1.0": nil}, requestedBy(t, s, other), "providers feed only the mirror they name")
	var sbom bytes.Buffer
	require.NoError(t, WriteInventory(ctx, &sbom, s, []Mirror{k8s}))
	assert.Contains(t, sbom.String(), `"name": "airgap:requested-by",
          "value": "fake/more api 2.0.0"`)

	// Synced alone, the oci mirror keeps the images of the providers' published trees; a
	// provider that fails hands over what it published before.
	env.all = func() []Mirror { return ms }
	charts.fail = errors.New("upstream down")
	err = env.SyncAll(ctx, []Mirror{charts, k8s}, SyncOptions{})
	var se *SyncError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, []string{"fake/charts"}, keys(se.Failed))
	assert.Len(t, requestedBy(t, s, k8s), 3)
	require.NoError(t, env.SyncAll(ctx, []Mirror{k8s}, SyncOptions{}))
	assert.Len(t, requestedBy(t, s, k8s), 3)

	// A provider whose published tree cannot be read fails the mirror it feeds.
	bad := &fakeProvider{name: "bad", to: "k8s", images: []oci.RequestedImage{{Ref: "UPPER/x", RequestedBy: "fake/bad x 1"}}, synced: true}
	env.all = func() []Mirror { return append(ms, bad) }
	err = env.SyncAll(ctx, []Mirror{k8s}, SyncOptions{})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, []string{"oci/k8s"}, keys(se.Failed))
	assert.ErrorIs(t, se.Failed["oci/k8s"], oci.ErrInvalidReference)
}

func TestImagesToMustNameAnOCIMirror(t *testing.T) {
	up, err := ocitest.Start()
	require.NoError(t, err)
	defer up.Close()
	all := []Mirror{ociMirror(up, "k8s"), &FilesMirror{}, &AptMirror{}}
	all[2].(*AptMirror).Mirror.Name = "debian"
	for to, want := range map[string]string{
		"k8s":        "",
		"oci/k8s":    "",
		"":           "",
		"nope":       `"nope" names no configured oci mirror`,
		"debian":     `"debian" names apt/debian, not an oci mirror`,
		"apt/debian": `"apt/debian": images go to an oci mirror, not to apt mirrors`,
	} {
		assert.Equal(t, want, checkImagesTo(&fakeProvider{name: "c", to: to}, all), to)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
