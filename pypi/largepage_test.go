package pypi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

func bigMirror(t testing.TB, url string) *pypi.Mirror {
	s, err := store.Open(t.TempDir())
	require.NoError(t, err)
	return &pypi.Mirror{
		URL: url + "/simple/", Requirements: []string{"big"},
		Targets: []wheel.Target{{Python: "3.11", Platform: "manylinux_2_28_x86_64"}},
		Store:   s, Fetch: &fetch.Client{Store: s, Retries: -1},
	}
}

// TestSyncLargePage syncs a project whose page is 60 MB (issue #19) into a filesystem
// store and bounds the heap the sync holds meanwhile: the page goes to the store and is
// parsed from there as a stream, and only the files a target can install are kept.
// Before, the same sync held the page, its parse and every file entry (363 MB of RSS
// for the JSON page, measured by bench/pypi.sh).
func TestSyncLargePage(t *testing.T) {
	if testing.Short() {
		t.Skip("serves and parses 120 MB")
	}
	const maxGrowth = 48 << 20
	for _, format := range []string{"json", "html"} {
		t.Run(format, func(t *testing.T) {
			srv := httptest.NewServer(&pypitest.BigPage{Name: "big", Size: 60 << 20, Format: format})
			defer srv.Close()
			m := bigMirror(t, srv.URL)
			h := testutil.NewHeapWatch()
			stop := h.Every(5 * time.Millisecond)
			st, err := m.Sync(context.Background())
			stop()
			require.NoError(t, err)
			assert.Equal(t, 1, st.Files) // the newest cp311 manylinux x86_64 wheel
			assert.Equal(t, 1, st.MetadataFiles)
			t.Logf("%s: peak heap growth %.1f MiB", format, float64(h.Growth())/(1<<20))
			assert.Less(t, h.Growth(), uint64(maxGrowth))
		})
	}
}

// TestMaxPageSize: a page over Mirror.MaxPageSize fails the sync with store.ErrTooLarge,
// naming the page and the cap, whether the server announces the length or not.
func TestMaxPageSize(t *testing.T) {
	big := &pypitest.BigPage{Name: "big", Size: 4 << 20, Format: "json"}
	for name, h := range map[string]http.Handler{
		"chunked": big,
		"content-length": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/simple/big/" {
				big.ServeHTTP(w, r)
				return
			}
			var b strings.Builder
			_, _ = big.WritePage(&b, "http://"+r.Host+"/files/")
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
			w.Header().Set("Content-Length", fmt.Sprint(b.Len()))
			_, _ = w.Write([]byte(b.String()))
		}),
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			m := bigMirror(t, srv.URL)
			m.MaxPageSize = 1 << 20
			_, err := m.Sync(context.Background())
			require.ErrorIs(t, err, store.ErrTooLarge)
			assert.Contains(t, err.Error(), srv.URL+"/simple/big/")
			assert.Contains(t, err.Error(), "1048576")
			m.MaxPageSize = 0 // the default cap admits it
			_, err = m.Sync(context.Background())
			require.NoError(t, err)
		})
	}
}
