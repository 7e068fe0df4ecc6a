package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/require"
)

// BenchmarkSyncUnchanged measures a sync where nothing changed upstream (one HEAD per
// image, nothing fetched, nothing published).
func BenchmarkSyncUnchanged(b *testing.B) {
	up, err := startUpstreamB()
	require.NoError(b, err)
	defer up.Close()
	s := store.NewMemory()
	m := &Mirror{Name: "b", Store: s, Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}},
		Images: []string{up.Ref("library/alpine:3.19"), up.Ref("library/multi:1.0"), up.Ref("tools/db:2")}}
	ctx := context.Background()
	_, err = m.Sync(ctx)
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandlerManifest measures GET of a tagged manifest from the read-only handler.
func BenchmarkHandlerManifest(b *testing.B) {
	up, err := startUpstreamB()
	require.NoError(b, err)
	defer up.Close()
	s := store.NewMemory()
	m := &Mirror{Name: "b", Store: s, Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}},
		Images: []string{up.Ref("library/multi:1.0")}}
	_, err = m.Sync(context.Background())
	require.NoError(b, err)
	h := NewHandler(s, m.Ref())
	path := "/v2/" + strings.ReplaceAll(up.Host, ":", "-") + "/library/multi/manifests/1.0"
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkSyncUnchangedReferrers is BenchmarkSyncUnchanged for an index with referrers at
// every level (ocitest.ReferrerTree): the referrer walk asks once per manifest.
func BenchmarkSyncUnchangedReferrers(b *testing.B) {
	up, err := startUpstreamB()
	require.NoError(b, err)
	defer up.Close()
	ctx := context.Background()
	_, err = up.PushReferrerTree(ctx, "nest/app", "1", 500)
	require.NoError(b, err)
	m := &Mirror{Name: "b", Store: store.NewMemory(), Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}},
		Images: []string{up.Ref("nest/app:1")}, Referrers: true}
	_, err = m.Sync(ctx)
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncFanOut measures a cold sync of ocitest.FanOut(1000): an index of 1000
// child indexes each listing 1000 images. "same": the same child and the same image
// repeated (300 KiB of manifests); "distinct": 1000 child indexes of 150 KiB listing 1000
// images, copied with MaxDescriptors raised; "refused": the same under the default
// MaxDescriptors, until ErrTooManyDescriptors.
func BenchmarkSyncFanOut(b *testing.B) {
	for _, bc := range []struct {
		name     string
		distinct bool
		max      int
	}{{"same", false, 0}, {"distinct", true, 2_000_000}, {"refused", true, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			up, err := ocitest.StartEmpty()
			require.NoError(b, err)
			defer up.Close()
			ctx := context.Background()
			require.NoError(b, up.PushManifest(ctx, "fan/out", "1", ocitest.FanOut(1000, bc.distinct)))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				m := &Mirror{Name: fmt.Sprint("b", i), Store: store.NewMemory(), Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}},
					Images: []string{up.Ref("fan/out:1")}, MaxDescriptors: bc.max}
				_, err := m.Sync(ctx)
				if bc.name == "refused" && errors.Is(err, ErrTooManyDescriptors) {
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
