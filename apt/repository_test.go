package apt_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

func TestRepositoryInclude(t *testing.T) {
	ctx := context.Background()
	key, err := pgp.GenerateKey("Local", "l@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	s := store.NewMemory()
	r := &apt.Repository{Name: "local", Origin: "Local", Label: "Local", Architectures: []string{"amd64", "arm64"}, Store: s, Signer: key}
	deb := func(p apttest.Package) io.Reader { return bytes.NewReader(apttest.BuildDeb(p)) }
	_, _, err = r.Include(ctx, "jammy", "main",
		deb(apttest.Package{Name: "tool", Version: "1.0-1"}),
		deb(apttest.Package{Name: "libtool-data", Version: "1.0-1", Source: "libtool", Architecture: "all"}))
	require.NoError(t, err)
	_, _, err = r.Include(ctx, "jammy", "main", deb(apttest.Package{Name: "tool", Version: "1.1-1"}))
	require.NoError(t, err)
	_, _, err = r.Include(ctx, "jammy", "main", deb(apttest.Package{Name: "tool", Version: "0.9-1"}))
	require.ErrorIs(t, err, apt.ErrNotNewer)
	_, _, err = r.Include(ctx, "jammy", "main", bytes.NewReader([]byte("garbage")))
	require.ErrorIs(t, err, apt.ErrMalformed)

	snap, _, err := store.OpenPublished(ctx, s, "apt/local")
	require.NoError(t, err)
	_, ok := snap.Lookup("pool/main/t/tool/tool_1.0-1_amd64.deb")
	require.False(t, ok, "replaced version still in the tree")
	_, ok = snap.Lookup("pool/main/t/tool/tool_1.1-1_amd64.deb")
	require.True(t, ok)
	_, ok = snap.Lookup("pool/main/libt/libtool/libtool-data_1.0-1_all.deb")
	require.True(t, ok)
	f, ok := snap.Lookup("dists/jammy/main/binary-arm64/Packages")
	require.True(t, ok)
	b, err := store.ReadBlob(ctx, s, f.Digest, 1<<20)
	require.NoError(t, err)
	var names []string
	require.NoError(t, apt.ReadPackages(ctx, bytes.NewReader(b), func(p apt.Package, _ apt.Paragraph) error {
		require.NoError(t, p.CheckDownloadable())
		names = append(names, p.Name+" "+p.Version+" "+p.Architecture)
		return nil
	}))
	require.Equal(t, []string{"libtool-data 1.0-1 all"}, names)
	f, _ = snap.Lookup("dists/jammy/InRelease")
	in, err := store.ReadBlob(ctx, s, f.Digest, 1<<20)
	require.NoError(t, err)
	text, _, err := key.Keyring().VerifyClearsigned(in)
	require.NoError(t, err)
	rel, err := apt.ParseRelease(bytes.NewReader(text))
	require.NoError(t, err)
	require.Equal(t, "Local", rel.Origin)
	require.Contains(t, rel.Files, "main/binary-amd64/Packages")
	require.Contains(t, rel.Files, "main/binary-amd64/Packages.xz")
	require.True(t, rel.AcquireByHash)
	// by-hash: the previous generation's index is still there
	var byHash int
	for _, p := range snap.Paths() {
		if bytes.Contains([]byte(p), []byte("binary-amd64/by-hash/SHA256/")) {
			byHash++
		}
	}
	require.Equal(t, 6, byHash, "3 current + 3 of the previous generation")
}

// TestRepositoryIncludeUnchanged: including only what the repository holds publishes
// nothing; a tree published before trust was recorded (store.Publish) keeps its packages
// when the next Include goes through store.Update.
func TestRepositoryIncludeUnchanged(t *testing.T) {
	ctx := context.Background()
	key, err := pgp.GenerateKey("Local", "l@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	s := store.NewMemory()
	r := &apt.Repository{Name: "local", Store: s, Signer: key}
	tool := apttest.BuildDeb(apttest.Package{Name: "tool", Version: "1.0-1"})
	gen, changed, err := r.Include(ctx, "jammy", "main", bytes.NewReader(tool))
	require.NoError(t, err)
	require.True(t, changed)
	again, changed, err := r.Include(ctx, "jammy", "main", bytes.NewReader(tool))
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, gen.Record, again.Record)

	// the same tree, republished without trust, as before store.Update
	_, err = store.Publish(ctx, s, r.Ref(), gen.Record, gen.Snapshot)
	require.NoError(t, err)
	_, changed, err = r.Include(ctx, "jammy", "main", bytes.NewReader(apttest.BuildDeb(apttest.Package{Name: "other", Version: "1"})))
	require.NoError(t, err)
	require.True(t, changed)
	snap, _, err := store.OpenPublished(ctx, s, r.Ref())
	require.NoError(t, err)
	for _, p := range []string{"pool/main/t/tool/tool_1.0-1_amd64.deb", "pool/main/o/other/other_1_amd64.deb"} {
		_, ok := snap.Lookup(p)
		require.True(t, ok, p)
	}
}
