package helm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/airgapkit/airgap/store"
)

// Select picks versions of one chart as helm's --version does: constraint is a
// Masterminds/semver constraint, which admits prereleases only when it names one; empty
// admits every release. latest > 0 keeps the newest latest of them; latest 0 keeps all
// when a constraint is given, else the newest. Versions that are not semver are
// skipped, as helm skips them. None left: ErrNoChart.
func Select(vs []*Version, constraint string, latest int) ([]*Version, error) {
	var c *semver.Constraints
	if constraint != "" {
		var err error
		if c, err = semver.NewConstraint(constraint); err != nil {
			return nil, fmt.Errorf("%w: version %q: %v", store.ErrConfig, constraint, err)
		}
	} else if latest == 0 {
		latest = 1
	}
	type cand struct {
		v  *Version
		sv *semver.Version
	}
	var cs []cand
	for _, v := range vs {
		sv, err := semver.NewVersion(v.Version)
		if err != nil {
			continue
		}
		if c == nil && sv.Prerelease() != "" || c != nil && !c.Check(sv) {
			continue
		}
		cs = append(cs, cand{v, sv})
	}
	if len(cs) == 0 {
		if len(vs) == 0 {
			return nil, fmt.Errorf("%w: not in the index", ErrNoChart)
		}
		return nil, fmt.Errorf("%w: no version satisfies %q", ErrNoChart, constraint)
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return b.sv.Compare(a.sv) })
	if latest > 0 && len(cs) > latest {
		cs = cs[:latest]
	}
	out := make([]*Version, len(cs))
	for i, c := range cs {
		out[i] = c.v
	}
	return out, nil
}

// resolveDep decides where dependency d of chart c comes from: vendored in the archive
// (nothing to do); this repository (the version to add); another helm mirror, which
// must already hold a satisfying version, or an oci mirror (recorded in need).
func (ss *session) resolveDep(ctx context.Context, c *Chart, d Dependency) (same *Version, need string, err error) {
	if c.vendors(d) {
		return nil, "", nil
	}
	constraint := d.Version
	if v := c.Locked[d.Name]; v != "" {
		constraint = "=" + v // Chart.lock's exact version, as helm dependency build takes it
	}
	repo := strings.TrimSpace(d.Repository)
	n := NormalizeURL(repo)
	switch {
	case n == NormalizeURL(ss.m.URL) && !strings.HasPrefix(repo, "file://"):
		es, err := ss.entries(ctx, d.Name)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrDependency, err)
		}
		vs, err := Select(es, constraint, 1)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrDependency, err)
		}
		return vs[0], "", nil
	case repo == "" || strings.HasPrefix(repo, "file://"):
		return nil, "", fmt.Errorf("%w: not vendored under charts/", ErrDependency)
	case strings.HasPrefix(repo, "@") || strings.HasPrefix(repo, "alias:"):
		return nil, "", fmt.Errorf("%w: a local repository name, not a URL", ErrDependency)
	case strings.HasPrefix(repo, "oci://"):
		target := strings.Trim(strings.TrimPrefix(repo, "oci://"), "/") + "/" + d.Name
		keys := slices.Collect(maps.Keys(ss.m.OCIRepositories))
		slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
		for _, k := range keys {
			p := strings.Trim(k, "/")
			if target == p || strings.HasPrefix(target, p+"/") {
				return nil, fmt.Sprintf("oci/%s:%s@%s", ss.m.OCIRepositories[k], target, constraint), nil
			}
		}
		return nil, "", fmt.Errorf("%w: no oci mirror is configured for %s", ErrDependency, target)
	}
	other, ok := ss.m.Repositories[n]
	if !ok {
		return nil, "", fmt.Errorf("%w: no helm mirror is configured for repository %s", ErrDependency, repo)
	}
	if err := holds(ctx, ss.m.Store, "helm/"+other, d.Name, constraint); err != nil {
		return nil, "", err
	}
	return nil, fmt.Sprintf("helm/%s:%s@%s", other, d.Name, constraint), nil
}

// holds checks that the published tree of another helm mirror holds a version of chart
// that satisfies constraint: a dependency in another repository is that mirror's to
// mirror, so it must be configured (or pulled in) there, and synced first.
func holds(ctx context.Context, s store.Store, ref, chart, constraint string) error {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s has not published yet (it is synced before the mirrors that depend on it)", ErrDependency, ref)
	}
	if err != nil {
		return err
	}
	var st State
	if err := json.Unmarshal([]byte(snap.Annotations[annState]), &st); err != nil {
		return fmt.Errorf("%w: %s: state: %v", ErrMalformed, ref, err)
	}
	var vs []*Version
	for _, h := range st.Charts {
		if h.Name == chart {
			vs = append(vs, &Version{Name: h.Name, Version: h.Version})
		}
	}
	if constraint == "" {
		constraint = "*"
	}
	if _, err := Select(vs, constraint, 1); err != nil {
		return fmt.Errorf("%w: %s holds no version of %s satisfying %q: add it to that mirror's charts", ErrDependency, ref, chart, constraint)
	}
	return nil
}
