package pypi_test

import (
	"context"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

const closureSize = 200

func closureMirror(b *testing.B, s store.Store, url string) *pypi.Mirror {
	return &pypi.Mirror{
		URL:          url + "/simple/",
		Requirements: []string{"gen-0[all]"},
		Targets:      []wheel.Target{{Python: "3.11", Platform: "manylinux_2_28_x86_64"}},
		Store:        s,
		Fetch:        &fetch.Client{Store: s, Retries: -1},
	}
}

func reportHeap(b *testing.B) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
}

// stores are the backends the benchmarks run on: in memory, and the filesystem store
// with fsync as deployed.
var stores = []struct {
	name string
	new  func(b *testing.B) store.Store
}{
	{"memory", func(*testing.B) store.Store { return store.NewMemory() }},
	{"fs", func(b *testing.B) store.Store {
		s, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// BenchmarkSyncClosure200 resolves and mirrors a 200-project closure (reached through
// markers and extras) from a local upstream into an empty store.
func BenchmarkSyncClosure200(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) { benchSync(b, st.new) })
	}
}

func benchSync(b *testing.B, newStore func(*testing.B) store.Store) {
	srv := httptest.NewServer(pypitest.New(pypitest.Closure(closureSize)...))
	defer srv.Close()
	var stats pypi.SyncStats
	for b.Loop() {
		s := newStore(b)
		var err error
		stats, err = closureMirror(b, s, srv.URL).Sync(context.Background())
		if err != nil {
			b.Fatal(err)
		}
	}
	if stats.Projects != closureSize {
		b.Fatalf("mirrored %d projects, want %d", stats.Projects, closureSize)
	}
	b.ReportMetric(float64(stats.Files), "files")
	reportHeap(b)
}

// BenchmarkResyncNoop resyncs the same closure when nothing changed upstream: pages
// revalidated by ETag, no file fetched.
func BenchmarkResyncNoop(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) { benchResync(b, st.new(b)) })
	}
}

func benchResync(b *testing.B, s store.Store) {
	srv := httptest.NewServer(pypitest.New(pypitest.Closure(closureSize)...))
	defer srv.Close()
	m := closureMirror(b, s, srv.URL)
	if _, err := m.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	var stats pypi.SyncStats
	for b.Loop() {
		var err error
		stats, err = m.Sync(context.Background())
		if err != nil {
			b.Fatal(err)
		}
	}
	if stats.Downloaded != 0 || stats.PagesFetched != 0 {
		b.Fatalf("no-op resync downloaded %d files, %d pages", stats.Downloaded, stats.PagesFetched)
	}
	reportHeap(b)
}
