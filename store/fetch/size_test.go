package fetch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// A dry run knows a local file's size (a path or file://, as go-getter reads them) and
// says unknown for the Generic forms it cannot ask without fetching.
func TestSizeOfGenericURLs(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tool.tar.gz")
	require.NoError(t, os.WriteFile(f, make([]byte, 1234), 0o644))
	t.Chdir(dir)
	c := &Client{Store: store.NewMemory()}
	for u, want := range map[string]int64{
		f:                            1234,
		"tool.tar.gz":                1234,
		"file://" + f:                1234,
		dir:                          store.UnknownSize,
		filepath.Join(dir, "gone"):   store.UnknownSize,
		"s3::https://s3.example/b/k": store.UnknownSize,
		"git::https://git.example/r": store.UnknownSize,
		"gcs://bucket/k":             store.UnknownSize,
	} {
		n, err := c.Size(t.Context(), Request{URL: u, Generic: true})
		require.NoError(t, err, u)
		assert.Equal(t, want, n, u)
	}
	_, err := c.Size(t.Context(), Request{URL: f})
	assert.ErrorIs(t, err, ErrUnsupportedURL, "a local path only with Generic")
}
