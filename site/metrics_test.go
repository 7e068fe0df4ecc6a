package site

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// scrape GETs /metrics and parses it with Prometheus's own text parser.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// value is the metric of family name whose labels include want; ok false when absent.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

func TestMetricsMoveAfterSyncAndRequests(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	body := []byte("a tool carried across\n")
	src := filepath.Join(dir, "tool.txt")
	require.NoError(t, os.WriteFile(src, body, 0o644))
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte(fmt.Sprintf(`
files:
  - {name: tools, urls: ["%s?checksum=sha256:%x"]}
  - {name: dead, urls: ["http://%s/f?checksum=sha256:%064d"]}
`, src, sha256.Sum256(body), closedPort(t), 0)))
	require.NoError(t, err)
	s := store.NewMemory()
	env := cfg.Env(s, nil, nil)
	srv := httptest.NewServer(NewServer(cfg, env))
	defer srv.Close()

	fams := scrape(t, srv.URL)
	_, ok := value(fams, "airgap_mirror_bytes", map[string]string{"mirror": "files/tools"})
	assert.False(t, ok, "nothing held before the first sync")
	_, ok = value(fams, "airgap_sync_last_ok", map[string]string{"mirror": "files/tools"})
	assert.False(t, ok, "no sync recorded yet")
	assert.NotNil(t, fams["go_goroutines"], "the Go runtime's collector")

	require.Error(t, env.SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{}), "the dead upstream fails")
	fams = scrape(t, srv.URL)
	held, _ := value(fams, "airgap_mirror_bytes", map[string]string{"mirror": "files/tools"})
	assert.Equal(t, float64(len(body)), held)
	items, _ := value(fams, "airgap_mirror_items", map[string]string{"mirror": "files/tools"})
	assert.Equal(t, 1.0, items)
	fetched, _ := value(fams, "airgap_sync_fetched_bytes", map[string]string{"mirror": "files/tools"})
	assert.Equal(t, float64(len(body)), fetched)
	n, _ := value(fams, "airgap_sync_fetched_items", map[string]string{"mirror": "files/tools"})
	assert.Equal(t, 1.0, n)
	okv, _ := value(fams, "airgap_sync_last_ok", map[string]string{"mirror": "files/tools"})
	assert.Equal(t, 1.0, okv)
	success, ok := value(fams, "airgap_sync_last_success_timestamp_seconds", map[string]string{"mirror": "files/tools"})
	assert.True(t, ok)
	assert.Greater(t, success, 1e9)
	_, ok = value(fams, "airgap_sync_duration_seconds", map[string]string{"mirror": "files/tools"})
	assert.True(t, ok)
	okv, _ = value(fams, "airgap_sync_last_ok", map[string]string{"mirror": "files/dead"})
	assert.Equal(t, 0.0, okv)
	errs, _ := value(fams, "airgap_sync_errors_total", map[string]string{"mirror": "files/dead", "kind": "network"})
	assert.Equal(t, 1.0, errs)

	require.Error(t, env.SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{}))
	fams = scrape(t, srv.URL)
	errs, _ = value(fams, "airgap_sync_errors_total", map[string]string{"mirror": "files/dead", "kind": "network"})
	assert.Equal(t, 2.0, errs, "failures add up across syncs")
	fetched, _ = value(fams, "airgap_sync_fetched_bytes", map[string]string{"mirror": "files/tools"})
	assert.Equal(t, 0.0, fetched, "the resync fetched nothing")

	get := func(path string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get("/files/tools/tool.txt")
	get("/files/tools/tool.txt")
	get("/files/tools/missing")
	req, _ := http.NewRequest("BREW", srv.URL+"/files/tools/tool.txt", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	fams = scrape(t, srv.URL)
	got, _ := value(fams, "airgap_http_requests_total", map[string]string{"mirror": "files/tools", "method": "GET", "code": "200"})
	assert.Equal(t, 2.0, got)
	got, _ = value(fams, "airgap_http_requests_total", map[string]string{"mirror": "files/tools", "method": "GET", "code": "404"})
	assert.Equal(t, 1.0, got)
	_, ok = value(fams, "airgap_http_requests_total", map[string]string{"method": "BREW"})
	assert.False(t, ok, "unknown methods are not labels")
	_, ok = value(fams, "airgap_http_requests_total", map[string]string{"mirror": "files/tools", "method": "other"})
	assert.True(t, ok)
	sent, _ := value(fams, "airgap_http_response_bytes_total", map[string]string{"mirror": "files/tools"})
	assert.GreaterOrEqual(t, sent, float64(2*len(body)))
	inflight, ok := value(fams, "airgap_http_requests_in_flight", map[string]string{"mirror": "files/tools"})
	assert.True(t, ok)
	assert.Equal(t, 0.0, inflight)
}
