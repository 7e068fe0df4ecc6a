package helm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// Plan says what a sync would hold, from the upstream's metadata only (sync --dry-run),
// without fetching an archive or publishing.
//
// For an index repository: the selected versions and the same-repository dependencies
// their index entries list (the index carries Chart.yaml's dependencies; Chart.lock's
// exact versions are in the archives only, so a closure through a lock may differ, and
// dependencies other mirrors hold are theirs to plan). Each archive is named by its
// index digest; an index gives no size, so an archive's size is known only when the
// store already holds that digest, and unknown otherwise. A version the published tree
// holds (same digest) has the .prov that tree holds, or none; another version's .prov
// is of unknown size (an index does not say whether there is one).
//
// For an oci:// repository: the selected tags' chart and provenance layers, with the
// digests and sizes of their manifests. Their dependencies are in the charts' config
// blobs, which a plan does not read: they are not planned.
func (m *Mirror) Plan(ctx context.Context) (store.Plan, error) {
	if m.Store == nil {
		return store.Plan{}, fmt.Errorf("%w: helm: Mirror.Store is nil", store.ErrConfig)
	}
	if err := m.Validate(); err != nil {
		return store.Plan{}, err
	}
	ss := m.newSession()
	if ss.reg != nil {
		ss.idx = &Index{Entries: map[string][]*Version{}, fields: map[string]any{}}
	} else if _, err := ss.loadIndex(ctx, fetch.Validators{}, ""); err != nil {
		return store.Plan{}, err
	}
	todo, err := ss.selected(ctx)
	if err != nil {
		return store.Plan{}, err
	}
	published, _, err := store.OpenPublished(ctx, m.Store, m.Ref())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, err
	}
	return ss.plan(ctx, todo, published)
}

// selected are the versions the configured charts select from the index (or tags).
func (ss *session) selected(ctx context.Context) ([]*Version, error) {
	var todo []*Version
	for _, c := range ss.m.Charts {
		es, err := ss.entries(ctx, c.Name)
		if err != nil {
			return nil, fmt.Errorf("helm: mirror %s: chart %s: %w", ss.m.Name, c.Name, err)
		}
		vs, err := Select(es, c.Version, c.Latest)
		if err != nil {
			return nil, fmt.Errorf("helm: mirror %s: chart %s: %w", ss.m.Name, c.Name, err)
		}
		todo = append(todo, vs...)
	}
	return todo, nil
}

// plan lists what holding the versions todo and their same-repository dependencies
// takes (Plan), against the published tree (nil before the first publish).
func (ss *session) plan(ctx context.Context, todo []*Version, published *store.Snapshot) (store.Plan, error) {
	m := ss.m
	var p store.Plan
	seen := map[string]bool{}
	for len(todo) > 0 {
		v := todo[0]
		todo = todo[1:]
		file := chartFile(v)
		if seen[file] {
			continue
		}
		seen[file] = true
		if ss.reg != nil {
			items, err := ss.planOCI(ctx, v)
			if err != nil {
				return store.Plan{}, fmt.Errorf("helm: mirror %s: chart %s %s: %w", m.Name, v.Name, v.Version, err)
			}
			p.Items = append(p.Items, items...)
			continue
		}
		it := store.PlannedItem{Name: file, Size: store.UnknownSize}
		if d, err := store.DigestFromHex(v.Digest); err == nil {
			it.Digest = d
		}
		p.Items = append(p.Items, it)
		prov := store.PlannedItem{Name: file + ".prov", Size: store.UnknownSize}
		held := false
		if published != nil {
			f, ok := published.Lookup(file)
			held = ok && f.Digest == it.Digest
			if pf, ok := published.Lookup(prov.Name); held && ok {
				prov.Digest, prov.Size = pf.Digest, pf.Size
			}
		}
		if !held || prov.Digest != "" {
			p.Items = append(p.Items, prov) // a held version without one has none to fetch
		}
		if m.deps() {
			more, err := ss.indexDeps(ctx, v)
			if err != nil {
				return store.Plan{}, fmt.Errorf("helm: mirror %s: chart %s %s: %w", m.Name, v.Name, v.Version, err)
			}
			todo = append(todo, more...)
		}
	}
	return p, nil
}

// indexDeps are the versions of this repository that an index entry's dependencies
// (Chart.yaml's, as the index lists them) select.
func (ss *session) indexDeps(ctx context.Context, v *Version) ([]*Version, error) {
	list, _ := v.fields["dependencies"].([]any)
	var out []*Version
	for _, e := range list {
		d, _ := e.(map[string]any)
		dep, _ := d["name"].(string)
		repo, _ := d["repository"].(string)
		if dep == "" || NormalizeURL(strings.TrimSpace(repo)) != NormalizeURL(ss.m.URL) {
			continue // vendored, local, or another mirror's
		}
		es, err := ss.entries(ctx, dep)
		if err != nil {
			return nil, err
		}
		vs, err := Select(es, scalar(d["version"]), 1)
		if err != nil {
			return nil, fmt.Errorf("dependency %s: %w: %w", dep, ErrDependency, err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// planOCI reads a tag's manifest: its chart and provenance layers.
func (ss *session) planOCI(ctx context.Context, v *Version) ([]store.PlannedItem, error) {
	_, _, man, err := ss.manifest(ctx, v)
	if err != nil {
		return nil, err
	}
	var items []store.PlannedItem
	for _, l := range man.Layers {
		file := chartFile(v)
		switch l.MediaType {
		case MediaTypeChart, mediaTypeLegacyChart:
		case MediaTypeProvenance:
			file += ".prov"
		default:
			continue
		}
		items = append(items, store.PlannedItem{Name: file, Digest: store.Digest(l.Digest.String()), Size: l.Size})
	}
	return items, nil
}
