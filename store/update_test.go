package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// config stands for a package's Mirror.
type config struct {
	Name                  string
	InsecureSkipSignature bool
	AllowRollback         bool
	SkipArtifactCheck     bool
	Verbose               bool   // not a trust setting
	PlainHTTP             bool   `trust:""`
	CABundle              string `trust:""`
	Registries            []registry
	Hosts                 map[string]registry
	Embedded
	Store store.Store // interfaces are not followed
	Next  *config     // nor pointers
}

type registry struct {
	Host      string
	PlainHTTP bool `trust:""`
	Insecure  bool
}

type Embedded struct{ AllowExpired bool }

func TestTrustOfFindsEverySwitch(t *testing.T) {
	cfg := &config{InsecureSkipSignature: true, PlainHTTP: true, CABundle: "/etc/ca.pem",
		Registries: []registry{{Host: "a", PlainHTTP: true}, {Host: "b"}},
		Hosts:      map[string]registry{"z": {Insecure: true}, "y": {}},
		Next:       &config{AllowRollback: true}}
	got := store.TrustOf(cfg).Switches()
	assert.Equal(t, map[string]string{
		"InsecureSkipSignature": "true", "AllowRollback": "false", "SkipArtifactCheck": "false",
		"PlainHTTP": "true", "CABundle": "/etc/ca.pem", "AllowExpired": "false",
		"Registries[0].PlainHTTP": "true", "Registries[0].Insecure": "false",
		"Registries[1].PlainHTTP": "false", "Registries[1].Insecure": "false",
		"Hosts[y].PlainHTTP": "false", "Hosts[y].Insecure": "false",
		"Hosts[z].PlainHTTP": "false", "Hosts[z].Insecure": "true",
	}, got)
	// A value and a pointer give the same Trust.
	assert.Equal(t, store.TrustOf(cfg).Fingerprint(), store.TrustOf(*cfg).Fingerprint())
}

func TestTrustFingerprint(t *testing.T) {
	base := store.TrustOf(config{}).WithRoot("keyring", "sha256:aa").WithRoot("upstream", "https://u/")
	same := store.TrustOf(config{Name: "other", Verbose: true}).WithRoot("upstream", "https://u/").WithRoot("keyring", "sha256:aa")
	assert.Equal(t, base.Fingerprint(), same.Fingerprint(), "order and non-trust fields do not count")
	assert.Empty(t, base.Diff(same))

	flag := store.TrustOf(config{InsecureSkipSignature: true}).WithRoot("keyring", "sha256:aa").WithRoot("upstream", "https://u/")
	assert.NotEqual(t, base.Fingerprint(), flag.Fingerprint())
	assert.Equal(t, []string{"InsecureSkipSignature: true -> false"}, base.Diff(flag))

	key := store.TrustOf(config{}).WithRoot("keyring", "sha256:bb").WithRoot("upstream", "https://u/")
	assert.Equal(t, []string{"root keyring: changed"}, key.Diff(base))
	assert.Equal(t, []string{"root keyring: removed"}, store.TrustOf(config{}).WithRoot("upstream", "https://u/").Diff(base))

	// WithRoot does not change the Trust it was called on.
	_ = base.WithRoot("keyring", "sha256:cc")
	assert.Equal(t, "sha256:aa", base.Roots()["keyring"])
}

func TestTrustOfRefusesNonStruct(t *testing.T) {
	s := store.NewMemory()
	_, _, err := store.Update(context.Background(), s, "r/x", store.TrustOf("nope"), func(store.Prev) (*store.Snapshot, error) {
		t.Fatal("build called")
		return nil, nil
	})
	assert.ErrorIs(t, err, store.ErrConfig)
	_, _, err = store.Update(context.Background(), s, "r/x", store.Trust{}, func(store.Prev) (*store.Snapshot, error) {
		t.Fatal("build called")
		return nil, nil
	})
	assert.ErrorContains(t, err, "TrustOf")
}

// tree stores files and returns a snapshot of them.
func tree(t *testing.T, s store.Store, files map[string]string, ann map[string]string) *store.Snapshot {
	t.Helper()
	snap := store.NewSnapshot()
	for p, c := range files {
		info, err := store.PutBytes(context.Background(), s, store.Expect{}, []byte(c))
		require.NoError(t, err)
		require.NoError(t, snap.Add(p, store.File{Digest: info.Digest, Size: info.Size}))
	}
	for k, v := range ann {
		snap.Annotations[k] = v
	}
	return snap
}

func history(t *testing.T, s store.Store, ref string) []store.Generation {
	t.Helper()
	h, err := store.History(context.Background(), s, ref, 0)
	require.NoError(t, err)
	return h
}

func TestUpdatePublishesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	trust := store.TrustOf(config{})
	files := map[string]string{"a": "1", "b": "2"}

	g1, changed, err := store.Update(ctx, s, "r/x", trust, func(p store.Prev) (*store.Snapshot, error) {
		assert.Zero(t, p.Generation.Record)
		assert.Nil(t, p.Snapshot)
		assert.Nil(t, p.Published)
		assert.Nil(t, p.TrustChanged, "nothing published: nothing changed")
		return tree(t, s, files, map[string]string{"etag": "x"}), nil
	})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, trust.Fingerprint(), g1.Trust.Fingerprint())

	// The same tree again (a new Created): no new generation.
	g2, changed, err := store.Update(ctx, s, "r/x", trust, func(p store.Prev) (*store.Snapshot, error) {
		require.NotNil(t, p.Snapshot)
		assert.Equal(t, "x", p.Snapshot.Annotations["etag"])
		assert.Equal(t, g1.Record, p.Generation.Record)
		return tree(t, s, files, map[string]string{"etag": "x"}), nil
	})
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, g1.Record, g2.Record)

	// nil: keep (not modified).
	g3, changed, err := store.Update(ctx, s, "r/x", trust, func(store.Prev) (*store.Snapshot, error) { return nil, nil })
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, g1.Record, g3.Record)
	assert.Len(t, history(t, s, "r/x"), 1)

	// An annotation alone is a change; so is a file.
	g4, changed, err := store.Update(ctx, s, "r/x", trust, func(store.Prev) (*store.Snapshot, error) {
		return tree(t, s, files, map[string]string{"etag": "y"}), nil
	})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, g1.Record, g4.Parent)
	_, changed, err = store.Update(ctx, s, "r/x", trust, func(store.Prev) (*store.Snapshot, error) {
		return tree(t, s, map[string]string{"a": "1", "b": "3"}, map[string]string{"etag": "y"}), nil
	})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Len(t, history(t, s, "r/x"), 3)
}

func TestUpdateTrustChangeForcesVerification(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	files := map[string]string{"Release": "signed?"}
	insecure := store.TrustOf(config{InsecureSkipSignature: true}).WithRoot("keyring", "none")
	g1, _, err := store.Update(ctx, s, "apt/x", insecure, func(store.Prev) (*store.Snapshot, error) {
		return tree(t, s, files, nil), nil
	})
	require.NoError(t, err)

	secure := store.TrustOf(config{}).WithRoot("keyring", "sha256:k")
	// A sync that would answer "not modified" is refused: nothing verified it.
	_, _, err = store.Update(ctx, s, "apt/x", secure, func(p store.Prev) (*store.Snapshot, error) {
		assert.Nil(t, p.Snapshot, "a tree verified under other settings is not offered for reuse")
		require.NotNil(t, p.Published)
		assert.Equal(t, g1.Record, p.Generation.Record)
		assert.Equal(t, []string{"root keyring: changed", "InsecureSkipSignature: true -> false"}, p.TrustChanged)
		return nil, nil
	})
	require.ErrorContains(t, err, "nothing to keep")
	assert.Len(t, history(t, s, "apt/x"), 1, "nothing published")

	// Verifying again and arriving at the same tree records the new trust, on the same
	// manifest.
	g2, changed, err := store.Update(ctx, s, "apt/x", secure, func(store.Prev) (*store.Snapshot, error) {
		return tree(t, s, files, nil), nil
	})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, g1.Snapshot, g2.Snapshot)
	assert.Equal(t, secure.Fingerprint(), g2.Trust.Fingerprint())
	cur, err := store.Current(ctx, s, "apt/x")
	require.NoError(t, err)
	assert.Equal(t, secure.Fingerprint(), cur.Trust.Fingerprint(), "the recorded trust survives the record blob")

	// From now on the secure sync may keep it.
	_, changed, err = store.Update(ctx, s, "apt/x", secure, func(p store.Prev) (*store.Snapshot, error) {
		assert.NotNil(t, p.Snapshot)
		assert.Nil(t, p.TrustChanged)
		return nil, nil
	})
	require.NoError(t, err)
	assert.False(t, changed)
}

func TestUpdateAfterPlainPublish(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	snap := tree(t, s, map[string]string{"f": "1"}, nil)
	d, err := store.WriteSnapshot(ctx, s, snap)
	require.NoError(t, err)
	g, err := store.Publish(ctx, s, "r/x", "", d)
	require.NoError(t, err)
	assert.True(t, g.Trust.IsZero())
	_, changed, err := store.Update(ctx, s, "r/x", store.TrustOf(config{}), func(p store.Prev) (*store.Snapshot, error) {
		assert.Nil(t, p.Snapshot)
		assert.Equal(t, []string{"no trust settings recorded"}, p.TrustChanged)
		return tree(t, s, map[string]string{"f": "1"}, nil), nil
	})
	require.NoError(t, err)
	assert.True(t, changed, "the first update records trust")
}

func TestUpdateConflict(t *testing.T) {
	ctx := context.Background()
	trust := store.TrustOf(config{})
	for _, same := range []bool{false, true} {
		s := store.NewMemory()
		_, _, err := store.Update(ctx, s, "r/x", trust, func(store.Prev) (*store.Snapshot, error) {
			return tree(t, s, map[string]string{"f": "1"}, nil), nil
		})
		require.NoError(t, err)
		var other store.Generation
		_, _, err = store.Update(ctx, s, "r/x", trust, func(p store.Prev) (*store.Snapshot, error) {
			// Another writer publishes while this sync runs.
			d, err := store.WriteSnapshot(ctx, s, tree(t, s, map[string]string{"f": "other"}, nil))
			require.NoError(t, err)
			other, err = store.Publish(ctx, s, "r/x", p.Generation.Record, d)
			require.NoError(t, err)
			if same {
				return nil, nil
			}
			return tree(t, s, map[string]string{"f": "2"}, nil), nil
		})
		require.ErrorIs(t, err, store.ErrConflict, "same=%v", same)
		cur, err := store.Current(ctx, s, "r/x")
		require.NoError(t, err)
		assert.Equal(t, other.Record, cur.Record, "the other writer's generation stays")
	}
}

func TestUpdateBuildErrorPublishesNothing(t *testing.T) {
	s := store.NewMemory()
	boom := errors.New("boom")
	_, _, err := store.Update(context.Background(), s, "r/x", store.TrustOf(config{}), func(store.Prev) (*store.Snapshot, error) {
		tree(t, s, map[string]string{"f": "1"}, nil)
		return nil, boom
	})
	assert.Same(t, boom, err)
	_, err = store.Current(context.Background(), s, "r/x")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = store.Update(context.Background(), s, "../x", store.TrustOf(config{}), nil)
	assert.ErrorIs(t, err, store.ErrUnsafePath)
}

func TestUpdateRefusesMissingFiles(t *testing.T) {
	s := store.NewMemory()
	_, _, err := store.Update(context.Background(), s, "r/x", store.TrustOf(config{}), func(store.Prev) (*store.Snapshot, error) {
		snap := store.NewSnapshot()
		require.NoError(t, snap.Add("f", store.File{Digest: store.DigestOf([]byte("never stored")), Size: 12}))
		return snap, nil
	})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestGenerationRecordCompatible(t *testing.T) {
	// A record written before trust was recorded reads as zero Trust, and one without
	// trust is written exactly as before.
	old := `{"snapshot":"sha256:` + strings.Repeat("a", 64) + `","published":"2026-01-02T03:04:05Z"}`
	var g store.Generation
	require.NoError(t, json.Unmarshal([]byte(old), &g))
	assert.True(t, g.Trust.IsZero())
	b, err := json.Marshal(g)
	require.NoError(t, err)
	assert.JSONEq(t, old, string(b))
	assert.NotContains(t, string(b), "trust")
}
