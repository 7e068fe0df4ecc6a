package pypi_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/store"
)

// TestInventory: every distribution file the index holds, wheels and sdists, named and
// versioned as the published pages list them, with the upstream URL and the page that
// vouched for its sha256; for upstream pages in either format.
func TestInventory(t *testing.T) {
	for _, format := range []string{"json", "html"} {
		t.Run(format, func(t *testing.T) {
			up := pypitest.New(
				pypitest.Project{Name: "demo-lib", Dists: []pypitest.Dist{
					w("Demo_Lib", "1.0+local.2"),
					pypitest.BuildSdist(pypitest.WheelSpec{Name: "Demo.Lib", Version: "1.0+local.2"}),
				}},
				pypitest.Project{Name: "app", Dists: []pypitest.Dist{w("app", "2.0", "demo-lib")}},
			)
			up.Format = format
			srv := httptest.NewServer(up)
			defer srv.Close()
			s := store.NewMemory()
			m := &pypi.Mirror{URL: srv.URL + "/simple", Requirements: []string{"app"}, Sdists: true, Store: s}
			_, err := m.Sync(context.Background())
			require.NoError(t, err)

			items, err := pypi.Inventory(context.Background(), s, m.Ref())
			require.NoError(t, err)
			snap, _, err := store.OpenPublished(context.Background(), s, m.Ref())
			require.NoError(t, err)
			var got []string
			for _, it := range items {
				f, ok := snap.Lookup(it.Path)
				require.True(t, ok, it.Path)
				assert.Equal(t, f.Digest, it.Digest)
				assert.Equal(t, f.Size, it.Size)
				assert.Equal(t, "library", it.Type)
				assert.Equal(t, srv.URL+"/files/"+it.Name+"/"+it.Path[len("packages/"+it.Name+"/"):], it.Upstream)
				assert.Equal(t, "sha256 in the simple index of "+srv.URL+"/simple/"+it.Name+"/", it.VouchedBy)
				got = append(got, it.Path+" "+it.Name+" "+it.Version+" "+it.PURL)
			}
			assert.Equal(t, []string{
				"packages/app/app-2.0-py3-none-any.whl app 2.0 pkg:pypi/app@2.0",
				"packages/demo-lib/demo_lib-1.0+local.2-py3-none-any.whl demo-lib 1.0+local.2 pkg:pypi/demo-lib@1.0%2Blocal.2",
				"packages/demo-lib/demo_lib-1.0+local.2.tar.gz demo-lib 1.0+local.2 pkg:pypi/demo-lib@1.0%2Blocal.2",
			}, got)
		})
	}
}
