package simplestreams_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestTrustChangeVerifiesAgain: a tree published under other trust settings lends the next
// sync nothing. Turning InsecureSkipSignature off, or changing the keyring, makes the sync
// read every document whole and verify it with the keyring now configured, although every
// document would answer 304; a keyring without the upstream's key then fails and keeps
// the published tree.
func TestTrustChangeVerifiesAgain(t *testing.T) {
	for _, pristine := range []bool{false, true} {
		t.Run(map[bool]string{false: "resigned", true: "pristine"}[pristine], func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, func(m *simplestreams.Mirror) {
				m.Pristine = pristine
				m.InsecureSkipSignature, m.UpstreamKeyring = true, nil
			})
			first := e.sync(t)
			require.True(t, first.Changed)
			e.sync(t) // validators recorded: the next one would be all 304s
			before, err := e.st.Ref(ctx, e.m.Ref())
			require.NoError(t, err)

			// Signatures on, with a keyring that lacks the upstream's key.
			e.m.InsecureSkipSignature, e.m.UpstreamKeyring = false, strangerKey.Keyring()
			e.up.ResetRequests()
			_, err = e.m.Sync(ctx)
			require.ErrorIs(t, err, pgp.ErrUnknownKey)
			assert.Equal(t, 1, e.up.Requests()[simplestreamstest.IndexBase+".sjson"], "read whole, not revalidated")
			after, err := e.st.Ref(ctx, e.m.Ref())
			require.NoError(t, err)
			assert.Equal(t, before, after, "nothing published")

			// The right keyring: everything read and verified, the items reused.
			e.m.UpstreamKeyring = e.up.Signer.Keyring()
			st := e.sync(t)
			assert.True(t, st.Changed, "a new generation records the new trust settings")
			assert.Zero(t, st.NotModified)
			assert.Equal(t, 4, st.Documents)
			assert.Zero(t, st.Downloaded)
			assert.Equal(t, first.Items, st.Reused)
			gen, err := store.Current(ctx, e.st, e.m.Ref())
			require.NoError(t, err)
			assert.Equal(t, "false", gen.Trust.Switches()["InsecureSkipSignature"])
			assert.Equal(t, st.Generation, gen)
			assert.False(t, e.sync(t).Changed, "then nothing changes")

			// Another keyring that still holds the upstream's key: verified again.
			e.m.UpstreamKeyring = pgp.MergeKeyrings(e.up.Signer.Keyring(), strangerKey.Keyring())
			st = e.sync(t)
			assert.True(t, st.Changed)
			assert.Zero(t, st.NotModified)
		})
	}
}

// TestRollbackAcrossTrustChange: the rollback floor is the published tree's, even when
// that tree was published under other trust settings and lends nothing else.
func TestRollbackAcrossTrustChange(t *testing.T) {
	e := newEnv(t, nil)
	e.sync(t)
	ix, err := e.up.Document(simplestreamstest.IndexBase)
	require.NoError(t, err)
	ix["updated"] = "Mon, 01 Jan 2024 00:00:00 +0000"
	require.NoError(t, e.up.SetDocument(simplestreamstest.IndexBase, ix))
	e.m.UpstreamKeyring = pgp.MergeKeyrings(e.up.Signer.Keyring(), strangerKey.Keyring())
	_, err = e.m.Sync(context.Background())
	require.ErrorIs(t, err, simplestreams.ErrRollback)

	e.m.AllowRollback = true
	st := e.sync(t)
	assert.True(t, st.Changed)
	assert.Zero(t, st.Removed, "the same items")
}
