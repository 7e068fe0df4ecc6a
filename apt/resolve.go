package apt

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Relation is one alternative of a dependency: a package name with an optional
// architecture qualifier and version constraint.
type Relation struct {
	Name    string
	Arch    string // qualifier after ':' ("any", "native", an architecture), or ""
	Op      string // "<<", "<=", "=", ">=", ">>", or "" for any version
	Version string
}

// String writes the relation as in a control file.
func (r Relation) String() string {
	s := r.Name
	if r.Arch != "" {
		s += ":" + r.Arch
	}
	if r.Op != "" {
		s += " (" + r.Op + " " + r.Version + ")"
	}
	return s
}

// Satisfied reports whether version meets the relation's constraint.
func (r Relation) Satisfied(version string) bool {
	if r.Op == "" {
		return true
	}
	c := CompareVersions(version, r.Version)
	switch r.Op {
	case "<<":
		return c < 0
	case "<=":
		return c <= 0
	case "=":
		return c == 0
	case ">=":
		return c >= 0
	case ">>":
		return c > 0
	}
	return false
}

// ParseRelations parses a dependency field (Depends, Pre-Depends, Recommends, Provides):
// groups separated by ',' of alternatives separated by '|'. Architecture restrictions
// ("[amd64]") and build profiles ("<!nocheck>") are accepted and dropped. The obsolete
// operators "<" and ">" mean "<=" and ">=".
func ParseRelations(field string) ([][]Relation, error) {
	var out [][]Relation
	for _, group := range strings.Split(field, ",") {
		if strings.TrimSpace(group) == "" {
			continue
		}
		var alts []Relation
		for _, alt := range strings.Split(group, "|") {
			r, err := parseRelation(alt)
			if err != nil {
				return nil, err
			}
			alts = append(alts, r)
		}
		out = append(out, alts)
	}
	return out, nil
}

func parseRelation(s string) (Relation, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "[<"); i >= 0 && !strings.Contains(s[:i], "(") {
		// architecture restriction or build profile after the name (no version part)
		s = strings.TrimSpace(s[:i])
	}
	var r Relation
	name := s
	if i := strings.IndexByte(s, '('); i >= 0 {
		j := strings.IndexByte(s, ')')
		if j < i {
			return Relation{}, fmt.Errorf("%w: relation %q: unbalanced parenthesis", ErrMalformed, s)
		}
		name = strings.TrimSpace(s[:i])
		cons := strings.TrimSpace(s[i+1 : j])
		k := 0
		for k < len(cons) && strings.IndexByte("<>=", cons[k]) >= 0 {
			k++
		}
		r.Op, r.Version = cons[:k], strings.TrimSpace(cons[k:])
		switch r.Op {
		case "<":
			r.Op = "<="
		case ">":
			r.Op = ">="
		case "<<", "<=", "=", ">=", ">>":
		default:
			return Relation{}, fmt.Errorf("%w: relation %q: operator %q", ErrMalformed, s, r.Op)
		}
		if r.Version == "" || strings.ContainsAny(r.Version, " \t") {
			return Relation{}, fmt.Errorf("%w: relation %q: version", ErrMalformed, s)
		}
	}
	name, arch, _ := strings.Cut(name, ":")
	if name == "" || strings.ContainsAny(name, " \t()[]<>") {
		return Relation{}, fmt.Errorf("%w: relation %q: package name", ErrMalformed, s)
	}
	r.Name, r.Arch = name, arch
	return r, nil
}

// Filter selects packages. A package is selected when its name matches one of Packages
// (exact names or path.Match globs), or its Section one of Sections (the whole section
// or the part after "area/"), or its Priority one of Priorities. A Filter with all three
// empty selects every package. With Dependencies, everything the selected packages
// Depend and Pre-Depend on is added, recursively, across every suite and component of
// the mirror; with Recommends, recommended packages as well.
type Filter struct {
	Packages     []string `yaml:"packages"`
	Sections     []string `yaml:"sections"`
	Priorities   []string `yaml:"priorities"`
	Dependencies bool     `yaml:"dependencies"`
	Recommends   bool     `yaml:"recommends"`
	// Strict turns a name in Packages (not a glob) that matches no package into
	// ErrUnsatisfied instead of a logged warning.
	Strict bool `yaml:"strict"`
}

// All reports whether f selects every package.
func (f Filter) All() bool {
	return len(f.Packages) == 0 && len(f.Sections) == 0 && len(f.Priorities) == 0
}

// Match reports whether p is selected by the name, section and priority lists (without
// dependencies).
func (f Filter) Match(p *Package) bool {
	if f.All() {
		return true
	}
	for _, pat := range f.Packages {
		if pat == p.Name {
			return true
		}
		if ok, _ := path.Match(pat, p.Name); ok {
			return true
		}
	}
	sec := p.Section
	if i := strings.LastIndexByte(sec, '/'); i >= 0 {
		sec = sec[i+1:]
	}
	for _, s := range f.Sections {
		if s == p.Section || s == sec {
			return true
		}
	}
	for _, pr := range f.Priorities {
		if pr == p.Priority {
			return true
		}
	}
	return false
}

// Universe is a set of binary packages from any number of suites and components in which
// dependencies are resolved.
type Universe struct {
	byName   map[string][]*Package
	provides map[string][]provider
	all      []*Package
}

type provider struct {
	pkg     *Package
	version string // versioned Provides ("= v"), or ""
}

// NewUniverse returns an empty Universe.
func NewUniverse() *Universe {
	return &Universe{byName: map[string][]*Package{}, provides: map[string][]provider{}}
}

// Add puts p into the universe. Its Provides field must parse.
func (u *Universe) Add(p *Package) error {
	u.byName[p.Name] = append(u.byName[p.Name], p)
	u.all = append(u.all, p)
	if p.Provides == "" {
		return nil
	}
	groups, err := ParseRelations(p.Provides)
	if err != nil {
		return fmt.Errorf("apt: package %s Provides: %w", p.Key(), err)
	}
	for _, g := range groups {
		for _, r := range g {
			u.provides[r.Name] = append(u.provides[r.Name], provider{p, r.Version})
		}
	}
	return nil
}

// Packages returns every package added, in the order added.
func (u *Universe) Packages() []*Package { return u.all }

// archOK reports whether a package of architecture pa can satisfy a dependency of a
// package of architecture from.
func archOK(pa, from string) bool { return pa == from || pa == "all" || from == "all" }

// candidates returns the packages that satisfy r for a dependent of architecture arch:
// real packages first (newest version first), then providers.
func (u *Universe) candidates(r Relation, arch string) []*Package {
	var real []*Package
	for _, p := range u.byName[r.Name] {
		if archOK(p.Architecture, arch) && r.Satisfied(p.Version) {
			real = append(real, p)
		}
	}
	sort.SliceStable(real, func(i, j int) bool { return CompareVersions(real[i].Version, real[j].Version) > 0 })
	var prov []*Package
	for _, pv := range u.provides[r.Name] {
		if !archOK(pv.pkg.Architecture, arch) {
			continue
		}
		if r.Op != "" && (pv.version == "" || !r.Satisfied(pv.version)) {
			continue
		}
		prov = append(prov, pv.pkg)
	}
	sort.SliceStable(prov, func(i, j int) bool {
		a, b := prov[i], prov[j]
		if pa, pb := priorityRank(a.Priority), priorityRank(b.Priority); pa != pb {
			return pa < pb
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return CompareVersions(a.Version, b.Version) > 0
	})
	return append(real, prov...)
}

func priorityRank(p string) int {
	switch p {
	case "required":
		return 0
	case "important":
		return 1
	case "standard":
		return 2
	case "optional":
		return 3
	}
	return 4
}

// Unsatisfied is a dependency that no package of the universe satisfies.
type Unsatisfied struct {
	Package  string // key of the dependent package
	Relation string // the whole alternative group, as written
}

// Closure returns roots plus everything they need, recursively: for every Depends and
// Pre-Depends group (and Recommends when recommends is set) that the selection does not
// satisfy yet, the first alternative that can be satisfied is followed, choosing the
// newest real package that meets the version constraint, else a package that Provides
// the name (a versioned Provides for a versioned dependency). Version constraints are
// honoured. Architecture qualifiers are ignored: a dependency is resolved among
// packages of the dependent's architecture and "all". Groups nothing satisfies are
// returned in unsatisfied; they do not stop the closure.
func (u *Universe) Closure(roots []*Package, recommends bool) (selected []*Package, unsatisfied []Unsatisfied, err error) {
	in := map[*Package]bool{}
	queue := append([]*Package(nil), roots...)
	for _, p := range roots {
		in[p] = true
	}
	satisfiedBySelection := func(r Relation, arch string) bool {
		for _, c := range u.candidates(r, arch) {
			if in[c] {
				return true
			}
		}
		return false
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		selected = append(selected, p)
		fields := []string{p.PreDepends, p.Depends}
		if recommends {
			fields = append(fields, p.Recommends)
		}
		for _, field := range fields {
			groups, err := ParseRelations(field)
			if err != nil {
				return nil, nil, fmt.Errorf("apt: package %s: %w", p.Key(), err)
			}
		group:
			for _, alts := range groups {
				for _, r := range alts {
					if satisfiedBySelection(r, p.Architecture) {
						continue group
					}
				}
				for _, r := range alts {
					if cs := u.candidates(r, p.Architecture); len(cs) > 0 {
						in[cs[0]] = true
						queue = append(queue, cs[0])
						continue group
					}
				}
				var names []string
				for _, r := range alts {
					names = append(names, r.String())
				}
				unsatisfied = append(unsatisfied, Unsatisfied{Package: p.Key(), Relation: strings.Join(names, " | ")})
			}
		}
	}
	return selected, unsatisfied, nil
}
