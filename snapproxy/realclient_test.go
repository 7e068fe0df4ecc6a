package snapproxy

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
)

// TestRealSnapDownload drives snapd's own store client (`snap download`, Debian's snapd)
// against the mirror's store API, as snapd uses a proxy store's url: it resolves the
// snap by a download action with the default track, downloads it (sha3-384 checked),
// and fetches the snap-revision, snap-declaration (snapd's max-format), publisher
// account and the account-keys up to the root. The root is the test store's, which
// snapd does not build in, so it stops there, and says so: everything before the trust
// root was accepted.
func TestRealSnapDownload(t *testing.T) {
	snap := testutil.RequireBinary(t, "snap", "snapd")
	w := newAPIWorld(t, SnapSpec{Name: "maas"})
	dir := t.TempDir()
	out, err := testutil.RunErr(t, time.Minute, []string{"SNAPPY_FORCE_API_URL=" + w.base + "/", "HOME=" + dir, "https_proxy=", "http_proxy="},
		snap, "download", "--target-directory="+dir, "maas")
	require.Error(t, err, "the test root is not snapd's")
	assert.Contains(t, out, `Fetching snap "maas"`)
	assert.Contains(t, out, `Fetching assertions for "maas"`)
	assert.Contains(t, out, "circular assertions are not expected: account-key ("+w.up.Root.ID+")",
		"snapd fetched the whole chain up to the root it does not trust")
	got, err := os.ReadFile(filepath.Join(dir, "maas_100.snap"))
	require.NoError(t, err)
	assert.Equal(t, snapproxytest.Content("maas", 100, "amd64", 0), got)
}
