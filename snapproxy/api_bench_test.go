package snapproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// benchCatalog syncs 50 snaps (48 apps, a base, snapd) and returns the store and ref.
func benchCatalog(b *testing.B) (store.Store, string) {
	srv := snapproxytest.New(snapproxytest.Options{})
	b.Cleanup(srv.Close)
	srv.Add(snapproxytest.Snap{Name: "core22", Revision: 1, Type: "base"})
	srv.Add(snapproxytest.Snap{Name: "snapd", Revision: 2, Type: "snapd"})
	var specs []SnapSpec
	for i := range 48 {
		name := fmt.Sprintf("app%d", i)
		srv.Add(snapproxytest.Snap{Name: name, Revision: 10 + i, Base: "core22"})
		specs = append(specs, SnapSpec{Name: name})
	}
	trust, err := ParseTrust(srv.TrustedKeys())
	if err != nil {
		b.Fatal(err)
	}
	s := store.NewMemory()
	m := &Mirror{Name: "bench", URL: srv.URL(), Snaps: specs, Store: s, Trust: trust, Fetch: &fetch.Client{Store: s}}
	if _, err := m.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s, m.Ref()
}

// BenchmarkAPIRefresh50 is a scheduled refresh of a device with 50 snaps installed (at
// older revisions: 50 results), answered from the cached catalog.
func BenchmarkAPIRefresh50(b *testing.B) {
	s, ref := benchCatalog(b)
	h := NewStoreHandler(s, []string{ref}, WithExternalURL("http://mirror"))
	var ctxs, actions []map[string]any
	for i := range 48 {
		id := snapproxytest.SnapID(fmt.Sprintf("app%d", i))
		ctxs = append(ctxs, map[string]any{"snap-id": id, "instance-key": id, "revision": 1, "tracking-channel": "stable",
			"epoch": map[string]any{"read": []int{0}, "write": []int{0}}})
		actions = append(actions, map[string]any{"action": "refresh", "instance-key": id, "snap-id": id})
	}
	body, _ := json.Marshal(map[string]any{"context": ctxs, "actions": actions, "fields": []string{"download", "epoch", "name", "revision", "snap-id", "version", "type"}})
	do := func() {
		req := httptest.NewRequest(http.MethodPost, "/v2/snaps/refresh", bytes.NewReader(body))
		req.Header.Set("User-Agent", "bench")
		req.Header.Set("Snap-Device-Series", "16")
		req.Header.Set("Snap-Device-Architecture", "amd64")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
	do() // builds the catalog
	b.ReportAllocs()
	for b.Loop() {
		do()
	}
}

// BenchmarkAPICatalog50 is building the catalog of 50 held snaps (every manifest entry,
// every .assert parsed and indexed): what the first request after a publish pays.
func BenchmarkAPICatalog50(b *testing.B) {
	s, ref := benchCatalog(b)
	snap, _, err := store.OpenPublished(context.Background(), s, ref)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildCatalog(context.Background(), s, []*store.Snapshot{snap}); err != nil {
			b.Fatal(err)
		}
	}
}
