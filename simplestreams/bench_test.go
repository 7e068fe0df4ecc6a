package simplestreams_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
)

// BenchmarkParseFilter parses a products document of 2,000 products x 5 versions (40,000
// items) and selects amd64 with max=1, as a MAAS mirror does. heap-MB is the live heap
// while the parsed document is held.
func BenchmarkParseFilter(b *testing.B) {
	doc := simplestreamstest.LargeProducts(2000, 5)
	filters, err := simplestreams.ParseFilters([]string{"arch=amd64", "label=stable", "ftype~^(boot-|squashfs)"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var items int
	var heap uint64
	for i := 0; b.Loop(); i++ {
		p, err := simplestreams.ParseProducts(doc)
		if err != nil {
			b.Fatal(err)
		}
		sel := p.Select(filters.Match, 1)
		items = len(sel.Items())
		if i == 0 {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap = ms.HeapAlloc
			runtime.KeepAlive(p)
		}
	}
	b.ReportMetric(float64(items), "items-selected")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
	b.ReportMetric(float64(len(doc))/(1<<20), "doc-MB")
}

// BenchmarkNoopResync measures a resync when nothing changed upstream: one conditional
// request per signed document (requests/op), nothing parsed, nothing published.
func BenchmarkNoopResync(b *testing.B) {
	e := newEnv(b, nil)
	e.sync(b)
	e.up.ResetRequests()
	b.ReportAllocs()
	for b.Loop() {
		st := e.sync(b)
		if st.Changed {
			b.Fatal("not up to date")
		}
	}
	total := 0
	for _, n := range e.up.Requests() {
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "requests/op")
}

// BenchmarkParseProducts parses the products document of BenchmarkParseFilter alone: a
// document read whole (it is signed whole), so B/MiB is what the parsed tree costs per
// MiB of JSON. MaxDocumentSize caps the document.
func BenchmarkParseProducts(b *testing.B) {
	doc := simplestreamstest.LargeProducts(2000, 5)
	testutil.AllocPerMiB(b, int64(len(doc)), func() error {
		_, err := simplestreams.ParseProducts(doc)
		return err
	})
}

// BenchmarkParseIndex parses an index of 5,000 entries.
func BenchmarkParseIndex(b *testing.B) {
	ix := simplestreams.NewIndex(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	for i := range 5000 {
		p := &simplestreams.Products{ContentID: fmt.Sprintf("com.example:stream-%d", i), Datatype: simplestreams.DatatypeImageDownloads,
			Format: simplestreams.FormatProducts, Products: map[string]*simplestreams.Product{fmt.Sprintf("com.example:product-%d", i): nil}}
		ix.Entries[p.ContentID] = simplestreams.IndexEntryFor(p, "streams/v1/"+p.ContentID+".json", nil)
	}
	doc, err := simplestreams.EncodeIndex(ix)
	if err != nil {
		b.Fatal(err)
	}
	testutil.AllocPerMiB(b, int64(len(doc)), func() error {
		ix, err := simplestreams.ParseIndex(doc)
		if err == nil && len(ix.Entries) != 5000 {
			err = fmt.Errorf("%d entries", len(ix.Entries))
		}
		return err
	})
}
