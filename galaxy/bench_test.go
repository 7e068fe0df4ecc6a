package galaxy

import (
	"context"
	"fmt"
	"testing"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/store"
)

// benchUpstream serves 50 collections of 20 versions each.
func benchUpstream(b *testing.B) (*galaxytest.Server, string, []CollectionSpec) {
	b.Helper()
	up := galaxytest.New(galaxytest.Options{PageSize: 100})
	var specs []CollectionSpec
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("c%02d", i)
		for j := 0; j < 20; j++ {
			up.AddCollection(galaxytest.Collection{Namespace: "bench", Name: name, Version: fmt.Sprintf("1.%d.0", j)})
		}
		specs = append(specs, CollectionSpec{Name: "bench." + name})
	}
	u, stop := up.Start()
	b.Cleanup(stop)
	return up, u, specs
}

// BenchmarkMirror50x20 mirrors 50 collections x 20 versions (1000 artifacts) from a
// local upstream into a fresh filesystem store, and resyncs with nothing changed.
func BenchmarkMirror50x20(b *testing.B) {
	ctx := context.Background()
	up, u, specs := benchUpstream(b)

	b.Run("full", func(b *testing.B) {
		var bytes, reqs int64
		for b.Loop() {
			b.StopTimer()
			s, err := store.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			m := &Mirror{Name: "bench", URL: u, Collections: specs, Store: s, Fetch: newFetch(s)}
			up.ResetCounters()
			b.StartTimer()
			st, err := m.Sync(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if st.Versions != 1000 {
				b.Fatalf("%d versions", st.Versions)
			}
			bytes += st.DownloadedBytes
			reqs += up.Requests()
		}
		b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
		b.SetBytes(bytes / int64(b.N))
	})

	b.Run("noop-resync", func(b *testing.B) {
		s, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		m := &Mirror{Name: "bench", URL: u, Collections: specs, Store: s, Fetch: newFetch(s)}
		if _, err := m.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		var reqs, downloads int64
		for b.Loop() {
			up.ResetCounters()
			st, err := m.Sync(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if st.Changed || st.Downloaded != 0 {
				b.Fatalf("no-op resync published=%v downloaded=%d", st.Changed, st.Downloaded)
			}
			reqs += up.Requests()
			downloads += up.Downloads()
		}
		b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
		b.ReportMetric(float64(downloads)/float64(b.N), "downloads/op")
	})
}
