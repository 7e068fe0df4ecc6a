package oci

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLayoutExportImport(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/multi:1.0", "tools/db:2")
	m.Referrers = true
	_, err := m.Sync(ctx)
	require.NoError(t, err)

	dir := filepath.Join(t.TempDir(), "layout")
	n, err := ExportLayout(ctx, s, m.Ref(), dir)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "three images and the cosign signature tag")
	// Exporting again replaces entries by name: no duplicates (go-containerregistry #1807).
	n, err = ExportLayout(ctx, s, m.Ref(), dir)
	require.NoError(t, err)
	idx, err := readLayoutIndex(dir)
	require.NoError(t, err)
	assert.Len(t, idx.Manifests, 5, "4 tags and the untagged SBOM referrer, each once")
	_, err = os.Stat(filepath.Join(dir, layoutLock))
	assert.True(t, os.IsNotExist(err), "lock released")

	local := strings.ReplaceAll(up.Host, ":", "-")
	t.Run("skopeo reads the layout", func(t *testing.T) {
		skopeo := testutil.RequireBinary(t, "skopeo", "skopeo")
		raw := testutil.Run(t, time.Minute, nil, skopeo, "inspect", "--raw", "oci:"+dir+":"+local+"/library/multi:1.0")
		assert.Equal(t, up.Content["library/multi:1.0"].Digest, sha256Hex(raw))
	})

	s2 := store.NewMemory()
	st, err := ImportLayout(ctx, s2, "oci/imported", dir, "")
	require.NoError(t, err)
	assert.Equal(t, 4, st.Images)
	snap := published(t, s2, "oci/imported")
	orig := published(t, s, m.Ref())
	assert.Equal(t, orig.Files, snap.Files, "the import is the same tree")
	for _, r := range []string{"library/alpine:3.19", "library/multi:1.0", "tools/db:2"} {
		repo, tag, _ := strings.Cut(r, ":")
		f, ok := snap.Lookup(tagPath(local+"/"+repo, tag))
		require.True(t, ok, r)
		assert.Equal(t, up.Content[r].Digest, string(f.Digest))
	}

	// A tampered blob in the layout is refused and nothing is published.
	layer := up.Content["library/alpine:3.19"].Blobs[1]
	p := filepath.Join(dir, "blobs", "sha256", store.Digest(layer.Digest).Hex())
	b, _ := os.ReadFile(p)
	b[0] ^= 1
	require.NoError(t, os.WriteFile(p, b, 0o644))
	s3 := store.NewMemory()
	_, err = ImportLayout(ctx, s3, "oci/imported", dir, "")
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assertNothingPublished(t, s3, "oci/imported", "")
}

func TestLayoutSingleWriter(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateLayout(dir)
	require.NoError(t, err)
	_, err = CreateLayout(dir)
	require.ErrorIs(t, err, ErrLayoutLocked)
	d := store.DigestOf([]byte("x"))
	require.NoError(t, w.WriteBlob(d, 1, strings.NewReader("x")))
	require.ErrorIs(t, w.WriteBlob(store.DigestOf([]byte("y")), 1, strings.NewReader("z")), store.ErrDigestMismatch)
	w.SetRef("a:1", Descriptor{MediaType: MediaTypeOCIManifest, Digest: d, Size: 1})
	w.SetRef("a:1", Descriptor{MediaType: MediaTypeOCIManifest, Digest: d, Size: 1})
	require.NoError(t, w.Commit())
	require.NoError(t, w.Close())
	idx, err := readLayoutIndex(dir)
	require.NoError(t, err)
	assert.Len(t, idx.Manifests, 1)
	entries, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	assert.Len(t, entries, 1, "no temp files left")
}
