package pypi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/store"
)

// TestIndexCredentials: user:password in the index URL (as pip takes them) authenticate
// every request to the index's origin, file links that name it absolutely included
// (devpi, Artifactory); file links to a second origin on 127.0.0.1, and redirects there,
// go without them; and the password is in nothing the mirror publishes, records or
// reports.
func TestIndexCredentials(t *testing.T) {
	projects := []pypitest.Project{
		{Name: "app", Dists: []pypitest.Dist{w("app", "1.0", "lib")}},
		{Name: "lib", Dists: []pypitest.Dist{w("lib", "1.0")}},
	}
	for _, format := range []string{"json", "html"} {
		for _, files := range []string{"own origin", "second origin", "redirect"} {
			t.Run(format+"/"+files, func(t *testing.T) {
				rec := &testutil.Recorder{Next: pypitest.New(projects...)}
				second := httptest.NewServer(rec)
				defer second.Close()
				up := pypitest.New(projects...)
				up.Format, up.User, up.Password = format, "alice", "s3cret"
				srv := httptest.NewServer(up) // its URL is the base of the links below
				defer srv.Close()
				switch files {
				case "own origin":
					up.FilesBase = srv.URL
				case "second origin":
					up.FilesBase = second.URL
				case "redirect":
					up.RedirectFiles = second.URL
				}

				s := store.NewMemory()
				m := &pypi.Mirror{URL: strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1) + "/simple/",
					Requirements: []string{"app"}, Store: s}
				st, err := m.Sync(context.Background())
				require.NoError(t, err)
				assert.Equal(t, 2, st.Files)
				if files != "own origin" {
					assert.Positive(t, rec.Hits(), "the files came from the second origin")
				}
				assert.Empty(t, rec.Leaked())

				snap, gen, err := store.OpenPublished(context.Background(), s, m.Ref())
				require.NoError(t, err)
				items, err := pypi.Inventory(context.Background(), s, m.Ref())
				require.NoError(t, err)
				for what, v := range map[string]any{"snapshot": snap, "trust": gen.Trust.Roots(), "inventory": items, "stats": st, "endpoints": m.Endpoints()} {
					b, err := json.Marshal(v)
					require.NoError(t, err)
					assert.NotContains(t, string(b), "s3cret", what)
				}
			})
		}
	}
}
