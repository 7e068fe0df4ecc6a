package galaxy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/store"
)

// retar rewrites an artifact, changing the content of one member.
func retar(t *testing.T, a []byte, member string, body []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(a))
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, _ := io.ReadAll(tr)
		if h.Name == member {
			b = body
			h.Size = int64(len(b))
		}
		require.NoError(t, tw.WriteHeader(h))
		_, _ = tw.Write(b)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestCheckArtifact(t *testing.T) {
	c := galaxytest.Collection{Namespace: "acme", Name: "x", Version: "1.0.0", Files: map[string]string{"plugins/modules/m.py": "print(1)\n"}}
	a := galaxytest.BuildArtifact(c)
	require.NoError(t, CheckArtifact(bytes.NewReader(a), "acme", "x", "1.0.0"))
	assert.ErrorIs(t, CheckArtifact(bytes.NewReader(a), "acme", "x", "1.0.1"), ErrBadArtifact)
	assert.ErrorIs(t, CheckArtifact(bytes.NewReader(retar(t, a, "plugins/modules/m.py", []byte("print(2)\n"))), "acme", "x", "1.0.0"), ErrBadArtifact)
	assert.ErrorIs(t, CheckArtifact(bytes.NewReader(retar(t, a, "FILES.json", []byte(`{"files":[]}`))), "acme", "x", "1.0.0"), ErrBadArtifact)
	assert.ErrorIs(t, CheckArtifact(bytes.NewReader([]byte("<html>")), "acme", "x", "1.0.0"), ErrBadArtifact)
	assert.ErrorIs(t, CheckArtifact(bytes.NewReader(a[:len(a)/2]), "acme", "x", "1.0.0"), ErrBadArtifact)
}

func TestSyncRefusesBadArtifact(t *testing.T) {
	ctx := context.Background()
	up := galaxytest.New(galaxytest.Options{})
	// The index's sha256 matches what is served, but the artifact holds another collection.
	up.AddRawArtifact(galaxytest.Collection{Namespace: "acme", Name: "evil", Version: "1.0.0"},
		galaxytest.BuildArtifact(galaxytest.Collection{Namespace: "acme", Name: "other", Version: "1.0.0"}))
	u, stop := up.Start()
	defer stop()
	s := store.NewMemory()
	m := &Mirror{Name: "bad", URL: u, Collections: []CollectionSpec{{Name: "acme.evil"}}, Store: s, Fetch: newFetch(s)}
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, ErrBadArtifact)
	_, err = s.Ref(ctx, m.Ref())
	assert.ErrorIs(t, err, store.ErrNotFound)
	m.SkipArtifactCheck = true
	_, err = m.Sync(ctx)
	require.NoError(t, err)
}

func FuzzCheckArtifact(f *testing.F) {
	f.Add(galaxytest.BuildArtifact(galaxytest.Collection{Namespace: "a", Name: "b", Version: "1.0.0"}))
	f.Add([]byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := CheckArtifact(bytes.NewReader(b), "a", "b", "1.0.0"); err != nil {
			assert.ErrorIs(t, err, ErrBadArtifact)
		}
	})
}
