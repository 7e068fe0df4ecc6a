package helm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/store"
)

// A plan lists the selected versions and the same-repository dependencies their index
// entries name, by digest: sizes unknown until the store holds them (an index gives
// none), .prov files unknown until a published tree holds them. It publishes nothing.
func TestPlanIndex(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	libs, main := f.mirrors()
	p, err := main.Plan(ctx)
	require.NoError(t, err)
	names := map[string]store.PlannedItem{}
	for _, it := range p.Items {
		names[it.Name] = it
	}
	assert.ElementsMatch(t, []string{"app-1.1.0.tgz", "app-1.1.0.tgz.prov", "app-1.0.0.tgz", "app-1.0.0.tgz.prov",
		"common-1.0.0.tgz", "common-1.0.0.tgz.prov"}, keys(names), "lib is the libs mirror's")
	for n, it := range names {
		assert.Equal(t, int64(store.UnknownSize), it.Size, n)
	}
	assert.NotEmpty(t, names["common-1.0.0.tgz"].Digest)
	_, _, err = store.OpenPublished(ctx, f.s, main.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "a plan publishes nothing")
	fig, err := store.NewTally().Add(ctx, f.s, p)
	require.NoError(t, err)
	assert.Equal(t, store.PlanFigures{Items: 6, Fetch: 6, Unknown: 6}, fig)

	sync2(t, libs, main)
	p, err = main.Plan(ctx)
	require.NoError(t, err)
	fig, err = store.NewTally().Add(ctx, f.s, p)
	require.NoError(t, err)
	assert.Equal(t, 6, fig.Held, "archives by index digest, .prov files from the published tree")
	assert.Zero(t, fig.Unknown)
	assert.Positive(t, fig.HeldBytes)
}

// An oci:// plan has the layers' digests and sizes from the manifests.
func TestPlanOCI(t *testing.T) {
	o := newOCICharts(t)
	v, _ := signers(t)
	m1 := o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0"}, v)
	o.push(t, &helmtest.Chart{Name: "app", Version: "0.9.0"}, nil)
	s := store.NewMemory()
	m := o.mirror(s, helm.ChartSpec{Name: "app"})
	p, err := m.Plan(context.Background())
	require.NoError(t, err)
	require.Equal(t, []store.PlannedItem{
		{Name: "app-1.0.0.tgz", Digest: store.Digest(m1.Blobs[1].Digest), Size: int64(len(m1.Blobs[1].Data))},
		{Name: "app-1.0.0.tgz.prov", Digest: store.Digest(m1.Blobs[2].Digest), Size: int64(len(m1.Blobs[2].Data))},
	}, p.Items)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A sync hands its Preflight what Plan lists, once the tags and manifests are read and
// before any chart blob; a refusal publishes nothing, and each manifest is read once.
func TestSyncPreflight(t *testing.T) {
	ctx := context.Background()
	o := newOCICharts(t)
	v, _ := signers(t)
	o.push(t, &helmtest.Chart{Name: "app", Version: "1.0.0"}, v)
	s := store.NewMemory()
	m := o.mirror(s, helm.ChartSpec{Name: "app"})
	want, err := m.Plan(ctx)
	require.NoError(t, err)
	o.reg.Requests()

	full := errors.New("no room")
	var got store.Plan
	m.Preflight = func(_ context.Context, p store.Plan) error { got = p; return full }
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, full)
	assert.Equal(t, want, got)
	for _, r := range o.reg.Requests() {
		assert.NotContains(t, r, "/blobs/", "refused before the chart's blobs")
	}
	_, _, err = store.OpenPublished(ctx, s, m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "nothing published")

	m.Preflight = func(context.Context, store.Plan) error { return nil }
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	manifests := 0
	for _, r := range o.reg.Requests() {
		if strings.Contains(r, "/manifests/") {
			manifests++
		}
	}
	assert.Equal(t, 1, manifests, "the plan's manifest read serves the download too")
}
