package snapproxy

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
)

// heldRevisions lists the revisions of name the published manifest holds for arch, and
// the one install.sh installs.
func heldRevisions(t *testing.T, s store.Store, ref, name, arch string) (held []int, installed string) {
	t.Helper()
	out, err := ReadOutput(context.Background(), s, ref)
	require.NoError(t, err)
	for _, ms := range out.Manifest.Snaps {
		for _, a := range ms.Architectures {
			if ms.Name == name && a == arch {
				held = append(held, ms.Revision)
			}
		}
	}
	for _, f := range out.Manifest.Install[arch] {
		if len(f) > len(name) && f[:len(name)+1] == name+"_" {
			installed = f
		}
	}
	return held, installed
}

// keep: 3 holds the channel's last three revisions across syncs, newest first; install.sh
// installs the current one only; an older revision comes from the published tree without
// a download, its assertions checked again.
func TestSyncKeepsRevisionsOfAChannel(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{})
	s := store.NewMemory()
	m := newMirror(t, srv, s)
	m.Snaps = []SnapSpec{{Name: "maas", Channel: "3.5/stable", Keep: 3}}
	m.Architectures = []string{"amd64"}
	sync := func() SyncStats {
		st, err := m.Sync(ctx)
		require.NoError(t, err)
		return st
	}
	sync()
	held, inst := heldRevisions(t, s, m.Ref(), "maas", "amd64")
	assert.Equal(t, []int{100}, held)
	assert.Equal(t, "maas_100", inst)

	for i, rev := range []int{110, 120, 130} {
		srv.Add(snapproxytest.Snap{Name: "maas", Revision: rev, Channels: []string{"3.5/stable"}, Base: "core22", DeclarationFormat: 3})
		before := srv.Downloads()
		st := sync()
		assert.True(t, st.Changed)
		assert.Equal(t, int64(1), srv.Downloads()-before, "only the new revision is downloaded")
		held, inst = heldRevisions(t, s, m.Ref(), "maas", "amd64")
		want := []int{100, 110, 120, 130}[max(0, i-1) : i+2]
		assert.ElementsMatch(t, want, held, "after %d", rev)
		assert.Equal(t, "maas_"+strconv.Itoa(rev), inst)
	}
	out, err := ReadOutput(ctx, s, m.Ref())
	require.NoError(t, err)
	trust, err := ParseTrust(srv.TrustedKeys())
	require.NoError(t, err)
	require.NoError(t, out.Verify(ctx, trust))
	for _, ms := range out.Manifest.Snaps {
		if ms.Name != "maas" {
			continue
		}
		if ms.Revision == 130 {
			assert.Equal(t, []Release{{Architecture: "amd64", Channel: "3.5/stable"}}, ms.Releases)
		} else {
			assert.Empty(t, ms.Releases, "an older revision is held, not released")
			assert.Equal(t, "3.5/stable", ms.Channel)
		}
	}
	// Nothing new: nothing changes.
	assert.False(t, sync().Changed)
}

// Two channels of one snap are both held; install.sh installs the first spec's.
func TestSyncTwoChannelsOfOneSnap(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	s := store.NewMemory()
	m := newMirror(t, srv, s)
	m.Snaps = []SnapSpec{{Name: "maas", Channel: "3.5/stable"}, {Name: "maas", Channel: "3.4/stable"}}
	m.Architectures = []string{"arm64"}
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	held, inst := heldRevisions(t, s, m.Ref(), "maas", "arm64")
	assert.ElementsMatch(t, []int{101, 91}, held)
	assert.Equal(t, "maas_101", inst)
}

func TestSyncKeepConfig(t *testing.T) {
	srv := newStore(t, snapproxytest.Options{})
	m := newMirror(t, srv, store.NewMemory())
	for _, bad := range [][]SnapSpec{
		{{Name: "maas", Revision: 90, Keep: 2}},
		{{Name: "maas", Channel: "3.5/stable", Keep: -1}},
		{{Name: "maas", Channel: "3.5/nightly"}},
	} {
		m.Snaps = bad
		publishesNothing(t, m, ErrConfig)
	}
	m.Snaps = []SnapSpec{{Name: "maas"}}
	m.Assertions = []string{"account-key"}
	publishesNothing(t, m, ErrConfig)
}
