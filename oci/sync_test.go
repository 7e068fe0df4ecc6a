package oci

import (
	"context"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyncKeepsDigests(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/multi:1.0", "tools/db:2")
	m.Referrers = true
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Images)
	snap := published(t, s, "oci/test")
	local := strings.ReplaceAll(up.Host, ":", "-")
	for _, tc := range []struct{ repo, tag string }{{"library/alpine", "3.19"}, {"library/multi", "1.0"}, {"tools/db", "2"}} {
		f, ok := snap.Lookup(tagPath(local+"/"+tc.repo, tc.tag))
		require.True(t, ok, tc.repo)
		want := up.Content[tc.repo+":"+tc.tag]
		assert.Equal(t, want.Digest, string(f.Digest), tc.repo)
		assert.Equal(t, want.MediaType, f.MediaType)
	}
	// Children of the index and every layer are there.
	multi := up.Content["library/multi:1.0"]
	for _, ch := range multi.Children {
		_, ok := snap.Lookup(manifestPath(local+"/library/multi", store.Digest(ch.Digest)))
		assert.True(t, ok)
		for _, b := range ch.Blobs {
			_, ok := snap.Lookup(layerPath(local+"/library/multi", store.Digest(b.Digest)))
			assert.True(t, ok)
		}
	}
	// Cosign signature tag came along, and the OCI referrer of tools/db.
	alpine := up.Content["library/alpine:3.19"]
	_, ok := snap.Lookup(tagPath(local+"/library/alpine", "sha256-"+store.Digest(alpine.Digest).Hex()+".sig"))
	assert.True(t, ok, "cosign signature tag")
	var sbom string
	for k, v := range up.Content {
		if strings.HasPrefix(k, "tools/db:sha256:") {
			sbom = v.Digest
		}
	}
	_, ok = snap.Lookup(manifestPath(local+"/tools/db", store.Digest(sbom)))
	assert.True(t, ok, "referrer")

	// A second sync with nothing new: one HEAD per image (plus the referrer look-ups).
	up.Requests()
	m.Referrers = false
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Unchanged)
	assert.Equal(t, 0, st.Downloaded)
	reqs := up.Requests()
	var heads int
	for _, r := range reqs {
		if strings.HasPrefix(r, "HEAD ") {
			heads++
		} else if r != "GET /v2/" {
			t.Errorf("unexpected request %s", r)
		}
	}
	assert.Equal(t, 3, heads, "%v", reqs)
}
