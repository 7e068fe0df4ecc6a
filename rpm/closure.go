package rpm

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
)

// candidate is a package of one repository of the mirror.
type candidate struct {
	pkg    *Package
	repo   *repoState
	path   string // in the published tree
	hidden bool   // filtered out by dnf's modular filtering (default streams)
}

// universe indexes every package of a mirror's repositories for the closure.
type universe struct {
	all      []*candidate
	byName   map[string][]*candidate
	provides map[string][]provider
	files    map[string][]*candidate
}

type provider struct {
	c   *candidate
	dep Dep
}

func newUniverse(repos []*repoState, mods *moduleSet) (*universe, error) {
	u := &universe{byName: map[string][]*candidate{}, provides: map[string][]provider{}, files: map[string][]*candidate{}}
	for _, rs := range repos {
		paths := map[string]string{}
		for _, p := range rs.pkgs {
			pp, err := checkHref(rs.path, p.Href)
			if err != nil {
				return nil, fmt.Errorf("rpm: %s: %s: %w", rs.path, p, err)
			}
			if was, ok := paths[pp]; ok && was != p.Checksum.Value {
				return nil, fmt.Errorf("rpm: %s: %w: %s is listed with two different checksums", rs.path, ErrMalformed, p.Href)
			}
			paths[pp] = p.Checksum.Value
			c := &candidate{pkg: p, repo: rs, path: pp, hidden: mods.hides(p)}
			u.all = append(u.all, c)
			u.byName[p.Name] = append(u.byName[p.Name], c)
			for _, d := range p.Provides {
				u.provides[d.Name] = append(u.provides[d.Name], provider{c, d})
			}
			for _, f := range p.Files {
				u.files[f] = append(u.files[f], c)
			}
		}
	}
	return u, nil
}

// addFiles records the owners of file paths found in a repository's filelists.
func (u *universe) addFiles(rs *repoState, owners map[string][]string) {
	byID := map[string]*candidate{}
	for _, c := range u.all {
		if c.repo == rs {
			byID[c.pkg.Checksum.Value] = c
		}
	}
	for f, ids := range owners {
		for _, id := range ids {
			if c := byID[id]; c != nil && !slices.Contains(u.files[f], c) {
				u.files[f] = append(u.files[f], c)
			}
		}
	}
}

// providers returns the packages that satisfy d, modular filtering applied.
func (u *universe) providers(d Dep) []*candidate {
	var out []*candidate
	for _, p := range u.provides[d.Name] {
		if !p.c.hidden && p.dep.Satisfies(d) && !slices.Contains(out, p.c) {
			out = append(out, p.c)
		}
	}
	if strings.HasPrefix(d.Name, "/") {
		for _, c := range u.files[d.Name] {
			if !c.hidden && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// best keeps, for each package name among cs, the newest version (of every arch that
// has it), preferring the 64-bit and noarch builds over the 32-bit multilib ones.
func best(cs []*candidate) []*candidate {
	byName := map[string][]*candidate{}
	for _, c := range cs {
		byName[c.pkg.Name] = append(byName[c.pkg.Name], c)
	}
	var out []*candidate
	for _, name := range sortedKeys(byName) {
		group := byName[name]
		if slices.ContainsFunc(group, func(c *candidate) bool { return !multilib32(c.pkg.Arch) }) {
			group = slices.DeleteFunc(slices.Clone(group), func(c *candidate) bool { return multilib32(c.pkg.Arch) })
		}
		newest := group[0].pkg.EVR
		for _, c := range group[1:] {
			if c.pkg.EVR.Compare(newest) > 0 {
				newest = c.pkg.EVR
			}
		}
		for _, c := range group {
			if c.pkg.EVR.Compare(newest) == 0 && c.pkg.EVR.Release == newest.Release {
				out = append(out, c)
			}
		}
	}
	return out
}

func multilib32(arch string) bool {
	return arch == "i686" || arch == "i586" || arch == "i386" || arch == "athlon"
}

// needs lists the simple dependencies of p a mirror must satisfy: Requires (all
// kinds), and Recommends with weak; rich dependencies expanded by Rich.Needed; rpmlib()
// capabilities (provided by rpm itself) left out.
func needs(p *Package, weak bool) ([]Dep, error) {
	deps := p.Requires
	if weak {
		deps = append(slices.Clone(deps), p.Recommends...)
	}
	var out []Dep
	for _, d := range deps {
		if strings.HasPrefix(d.Name, "rpmlib(") {
			continue
		}
		if !d.IsRich() {
			out = append(out, d)
			continue
		}
		r, err := ParseRich(d.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, r.Needed()...)
	}
	return out, nil
}

// fileNeeds lists the file paths that dependencies of any package name (what filelists
// must be searched for), excluding those primary already answers.
func (u *universe) fileNeeds(weak bool) (map[string]bool, error) {
	out := map[string]bool{}
	for _, c := range u.all {
		deps, err := needs(c.pkg, weak)
		if err != nil {
			return nil, err
		}
		if weak {
			leaves, err := supplementLeaves(c.pkg)
			if err != nil {
				return nil, err
			}
			deps = append(deps, leaves...)
		}
		for _, d := range deps {
			if strings.HasPrefix(d.Name, "/") && len(u.files[d.Name]) == 0 && len(u.provides[d.Name]) == 0 {
				out[d.Name] = true
			}
		}
	}
	return out, nil
}

// supplementLeaves are the capabilities a package's Supplements name.
func supplementLeaves(p *Package) ([]Dep, error) {
	var out []Dep
	for _, d := range p.Supplements {
		if !d.IsRich() {
			out = append(out, d)
			continue
		}
		r, err := ParseRich(d.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, r.Leaves()...)
	}
	return out, nil
}

// closure selects the packages matching the filter's patterns (the newest of each
// name, modular filtering applied) and, with Dependencies, everything they need.
func (ss *session) closure(u *universe) ([]*candidate, []Unsatisfied, error) {
	f := ss.m.Filter
	held := map[*candidate]bool{}
	var queue []*candidate
	add := func(cs []*candidate) {
		for _, c := range cs {
			if !held[c] {
				held[c] = true
				queue = append(queue, c)
			}
		}
	}
	for _, pat := range f.Packages {
		var matched []*candidate
		for _, name := range sortedKeys(u.byName) {
			if ok, _ := path.Match(pat, name); ok {
				for _, c := range u.byName[name] {
					if !c.hidden {
						matched = append(matched, c)
					}
				}
			}
		}
		if len(matched) == 0 {
			if f.Strict {
				return nil, nil, fmt.Errorf("rpm: mirror %s: %w: no package matches %q", ss.m.Name, ErrUnsatisfied, pat)
			}
			ss.log.Warn("rpm: filter names a package that no repository has", "package", pat)
		}
		add(best(matched))
	}
	var unsat []Unsatisfied
	weak := f.weak()
	for f.Dependencies {
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			deps, err := needs(c.pkg, weak)
			if err != nil {
				return nil, nil, err
			}
			for _, d := range deps {
				ps := u.providers(d)
				if len(ps) == 0 {
					if f.Strict {
						return nil, nil, fmt.Errorf("rpm: mirror %s: %w: %s requires %s", ss.m.Name, ErrUnsatisfied, c.pkg, d)
					}
					ss.log.Warn("rpm: unsatisfied dependency", "package", c.pkg.String(), "requires", d.String())
					unsat = append(unsat, Unsatisfied{Package: c.pkg.String(), Requires: d.String()})
					continue
				}
				add(best(ps))
			}
		}
		if !weak {
			break
		}
		// Supplements: a package that supplements something held comes along.
		var more []*candidate
		for _, c := range u.all {
			if held[c] || c.hidden || len(c.pkg.Supplements) == 0 {
				continue
			}
			leaves, err := supplementLeaves(c.pkg)
			if err != nil {
				return nil, nil, err
			}
			if slices.ContainsFunc(leaves, func(d Dep) bool {
				return slices.ContainsFunc(u.providers(d), func(p *candidate) bool { return held[p] })
			}) {
				more = append(more, c)
			}
		}
		if len(more) == 0 {
			break
		}
		add(best(more))
		if len(queue) == 0 {
			break
		}
	}
	out := make([]*candidate, 0, len(held))
	for c := range held {
		out = append(out, c)
	}
	return out, unsat, nil
}

// selectPackages is the set a sync holds: every package, or the filter's closure
// (file provides searched in filelists, modular filtering by the default streams).
func (ss *session) selectPackages(ctx context.Context, repos []*repoState, stats *SyncStats) ([]*candidate, error) {
	mods := &moduleSet{}
	if !ss.m.Filter.All() || !ss.m.Pristine {
		var err error
		if mods, err = ss.readModules(ctx, repos); err != nil {
			return nil, err
		}
	}

	u, err := newUniverse(repos, mods)
	if err != nil {
		return nil, err
	}
	var sel []*candidate
	if ss.m.Filter.All() {
		sel = u.all
	} else {
		if ss.m.Filter.Dependencies {
			want, err := u.fileNeeds(ss.m.Filter.weak())
			if err != nil {
				return nil, err
			}
			if len(want) > 0 {
				for _, rs := range repos {
					owners, err := ss.fileOwners(ctx, rs, want)
					if err != nil {
						return nil, err
					}
					u.addFiles(rs, owners)
				}
			}
		}
		if sel, stats.Unsatisfied, err = ss.closure(u); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(sel, func(a, b *candidate) int { return cmp.Compare(a.path, b.path) })
	sel = slices.CompactFunc(sel, func(a, b *candidate) bool { return a.path == b.path })
	return sel, nil
}

// fileOwners searches a repository's filelists for the packages owning the wanted
// paths (pkgids by path).
func (ss *session) fileOwners(ctx context.Context, rs *repoState, want map[string]bool) (map[string][]string, error) {
	d, ok := rs.md.Find("filelists")
	if !ok {
		return nil, nil
	}
	rc, err := ss.openData(ctx, d, rs.data["filelists"])
	if err != nil {
		return nil, fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
	}
	defer rc.Close()
	out := map[string][]string{}
	err = ReadFilelists(ctx, rc, func(pkgid string, files []string) error {
		for _, f := range files {
			if want[f] {
				out[f] = append(out[f], pkgid)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
	}
	return out, nil
}
