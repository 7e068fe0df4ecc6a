package apt_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

// publishedRelease reads a suite's Release from the mirror's published tree.
func publishedRelease(t *testing.T, s store.Store, m *apt.Mirror, suite string) *apt.Release {
	t.Helper()
	ctx := context.Background()
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	f, ok := snap.Lookup("dists/" + suite + "/Release")
	require.True(t, ok)
	b, err := store.ReadBlob(ctx, s, f.Digest, 1<<20)
	require.NoError(t, err)
	rel, err := apt.ParseRelease(bytes.NewReader(b))
	require.NoError(t, err)
	return rel
}

// TestValidUntilNeverLater: the republished Valid-Until is the upstream's when the
// upstream has one and valid_for is zero or longer; valid_for shortens it; without an
// upstream Valid-Until valid_for alone decides. An unchanged upstream is not re-signed
// for a Valid-Until that re-signing cannot extend.
func TestValidUntilNeverLater(t *testing.T) {
	ctx := context.Background()
	date := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	now := time.Now().UTC().Truncate(time.Second)
	upstreamVU := date.Add(48 * time.Hour)
	for _, c := range []struct {
		name     string
		upstream time.Duration // apttest ValidFor (negative: no Valid-Until)
		validFor time.Duration
		want     time.Time
	}{
		{"upstream's kept", 48 * time.Hour, 0, upstreamVU},
		{"valid_for cannot extend it", 48 * time.Hour, 7 * 24 * time.Hour, upstreamVU},
		{"valid_for shortens it", 48 * time.Hour, 6 * time.Hour, now.Add(6 * time.Hour)},
		{"no upstream Valid-Until", -1, 7 * 24 * time.Hour, now.Add(7 * 24 * time.Hour)},
		{"none at all", -1, 0, time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, apttest.Options{Date: date, ValidFor: c.upstream})
			m := e.mirror()
			m.ValidFor = c.validFor
			m.Now = func() time.Time { return now }
			_, err := m.Sync(ctx)
			require.NoError(t, err)
			for _, s := range m.Suites {
				require.Equal(t, c.want, publishedRelease(t, e.store, m, s).ValidUntil, s)
			}
			e.upstream.ResetCounts()
			st, err := m.Sync(ctx)
			require.NoError(t, err)
			require.False(t, st.Changed)
			require.Equal(t, len(m.Suites), e.upstream.Count(""))
		})
	}
}

// TestValidUntilResign: an unchanged upstream is re-signed when the published
// Valid-Until (from valid_for) is near and re-signing pushes it later.
func TestValidUntilResign(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	e := newEnv(t, apttest.Options{ValidFor: 30 * 24 * time.Hour})
	m := e.mirror()
	m.ValidFor = 24 * time.Hour
	m.Now = func() time.Time { return now }
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	now = now.Add(20 * time.Hour)
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	require.Equal(t, now.Add(24*time.Hour), publishedRelease(t, e.store, m, "stable").ValidUntil)
}

// TestTrustChangeRebuilds: the published tree remembers what it was verified with. Turning
// signature checks back on, or changing the keyring, makes the next sync read and verify
// every Release again instead of answering 304; an upstream the new trust does not
// accept is refused (#17).
func TestTrustChangeRebuilds(t *testing.T) {
	ctx := context.Background()
	mallory, err := pgp.GenerateKey("Mallory", "m@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)

	t.Run("InsecureSkipSignature turned off", func(t *testing.T) {
		e := newEnv(t, apttest.Options{})
		opt := e.repoOpt
		opt.Signer = mallory
		repo, err := apttest.Build(opt, testPackages())
		require.NoError(t, err)
		e.upstream.Replace(repo)
		m := e.mirror()
		m.InsecureSkipSignature = true
		_, err = m.Sync(ctx)
		require.NoError(t, err)
		m.InsecureSkipSignature = false
		e.upstream.ResetCounts()
		_, err = m.Sync(ctx)
		require.ErrorIs(t, err, pgp.ErrSignature)
		require.Zero(t, e.upstream.NotModified(), "InRelease read in full, not conditionally")
	})
	t.Run("keyring changed", func(t *testing.T) {
		e := newEnv(t, apttest.Options{})
		m := e.mirror()
		_, err := m.Sync(ctx)
		require.NoError(t, err)
		gen := published(t, e.store)
		m.Keys = mallory.Keyring()
		e.upstream.ResetCounts()
		_, err = m.Sync(ctx)
		require.ErrorIs(t, err, pgp.ErrSignature)
		require.Zero(t, e.upstream.NotModified(), "InRelease read in full, not conditionally")
		require.Equal(t, gen, published(t, e.store))
		// the right key again: verified, unchanged upstream, the same tree, but published
		// anew under the trust it was verified with
		m.Keys = pgp.MergeKeyrings(e.key.Keyring(), mallory.Keyring())
		st, err := m.Sync(ctx)
		require.NoError(t, err)
		require.True(t, st.Changed)
		require.NotEqual(t, gen, published(t, e.store))
		st, err = m.Sync(ctx)
		require.NoError(t, err)
		require.False(t, st.Changed)
	})
	t.Run("Allow switch turned off", func(t *testing.T) {
		e := newEnv(t, apttest.Options{})
		m := e.mirror()
		m.AllowExpired = true
		_, err := m.Sync(ctx)
		require.NoError(t, err)
		m.AllowExpired = false
		e.upstream.ResetCounts()
		st, err := m.Sync(ctx)
		require.NoError(t, err)
		require.True(t, st.Changed, "published anew under the stricter trust")
		require.Zero(t, e.upstream.NotModified())
	})
}
