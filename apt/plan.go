package apt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/airgapkit/airgap/store"
	"golang.org/x/sync/errgroup"
)

// Plan is what a sync would publish (see Mirror.Plan).
type Plan struct {
	// Suites are the suites read, in configuration order.
	Suites []string
	// Indices is how many upstream indices were read.
	Indices int
	// Packages are the selected binary packages, one per index that lists them, sorted by
	// suite, name, version and architecture.
	Packages []PlannedPackage
	// Sources is how many source packages are selected.
	Sources int
	// Files are the pool files of the tree, sorted by path.
	Files []PlannedFile
	// Bytes is the total size of Files.
	Bytes int64
	// Unsatisfied lists dependencies of selected packages that nothing satisfies.
	Unsatisfied []Unsatisfied
}

// PlannedPackage is a selected binary package.
type PlannedPackage struct {
	Suite        string
	Name         string
	Version      string
	Architecture string
	// Filename is the pool path in the published tree (the upstream's, unless two
	// upstreams carry different files at that path).
	Filename string
}

// PlannedFile is a pool file of the published tree.
type PlannedFile struct {
	Path string // in the published tree
	URL  string // where it is fetched from
	Size int64
	// Digest is the file's sha256 from the index ("" when the index lists none).
	Digest store.Digest
}

// Items is the plan as the store sees it: one item per pool file, with the size and
// sha256 the indices give (a sync also publishes the indices, not counted here).
func (p *Plan) Items() store.Plan {
	out := store.Plan{Items: make([]store.PlannedItem, 0, len(p.Files))}
	for _, f := range p.Files {
		out.Items = append(out.Items, store.PlannedItem{Name: f.Path, Digest: f.Digest, Size: f.Size})
	}
	return out
}

// Plan reads and verifies the configured suites and indices exactly as Sync does (every
// check applies, and the Release files are always read in full) and reports what a sync
// would publish, without fetching a pool file or publishing anything: a dry run. The
// indices it fetched stay in the store, unreferenced until a sync publishes them.
func (m *Mirror) Plan(ctx context.Context) (*Plan, error) {
	ss, err := m.start(ctx)
	if err != nil {
		return nil, err
	}
	published, _, err := store.OpenPublished(ctx, m.Store, m.Ref())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	suites, _, err := m.fetchSuites(ctx, ss, nil)
	if err != nil {
		return nil, err
	}
	sp, err := m.plan(ctx, ss, suites, published)
	defer sp.close()
	if err != nil {
		return nil, err
	}
	out := &Plan{Indices: len(sp.jobs), Unsatisfied: sp.unsatisfied}
	for _, st := range suites {
		out.Suites = append(out.Suites, st.name)
	}
	for _, j := range sp.jobs {
		for _, s := range j.srcs {
			if sp.wantSource(s) {
				out.Sources++
			}
		}
		for _, p := range j.pkgs {
			if j.kind == kindPackages && sp.selected[p] {
				out.Packages = append(out.Packages, PlannedPackage{Suite: j.suite.name, Name: p.Name, Version: p.Version,
					Architecture: p.Architecture, Filename: sp.filename(p)})
			}
		}
	}
	slices.SortStableFunc(out.Packages, func(a, b PlannedPackage) int {
		if c := strings.Compare(a.Suite, b.Suite); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := CompareVersions(a.Version, b.Version); c != 0 {
			return c
		}
		return strings.Compare(a.Architecture, b.Architecture)
	})
	out.Files = sp.files()
	for _, f := range out.Files {
		out.Bytes += f.Size
	}
	return out, nil
}

// files lists the pool files as a Plan does.
func (sp *syncPlan) files() []PlannedFile {
	out := make([]PlannedFile, 0, len(sp.pool))
	for _, f := range sp.pool {
		out = append(out, PlannedFile{Path: f.path, URL: f.url, Size: f.expect.Size, Digest: f.expect.Digest()})
	}
	return out
}

// syncPlan is the state of a sync once its indices are read and its selection made.
type syncPlan struct {
	jobs        []*indexJob
	selected    map[*Package]bool
	srcSel      map[string]bool // name "\x00" version of the selected binaries' sources
	allSources  bool            // the filter selects everything
	unsatisfied []Unsatisfied
	pool        []*poolFile // sorted by path
	// renamed and srcDirs move files that two upstreams carry at the same path with
	// different contents: the later upstream's go to another path; moved maps each such
	// published path to the upstream's.
	renamed map[*Package]string
	srcDirs map[*SourcePackage]string
	moved   map[string]string
}

// poolFile is one file of the published pool.
type poolFile struct {
	path   string // in the published tree
	url    string
	expect store.Expect
	up     *upstream
}

// close removes the temporary files of the plan's indices.
func (sp *syncPlan) close() {
	if sp == nil {
		return
	}
	for _, j := range sp.jobs {
		j.removeSpill()
	}
}

// wantSource reports whether a source package is published.
func (sp *syncPlan) wantSource(s *SourcePackage) bool {
	return sp.allSources || sp.srcSel[s.Name+"\x00"+s.Version]
}

// filename is the published pool path of p.
func (sp *syncPlan) filename(p *Package) string {
	if f, ok := sp.renamed[p]; ok {
		return f
	}
	return p.Filename
}

// plan checks the Release files against the rollback floor of the published tree,
// fetches and parses every index, applies the filter and the dependency closure over
// all of them, and lists the pool files to publish. The returned plan is to be closed
// even when err is set.
func (m *Mirror) plan(ctx context.Context, ss *session, suites []*suiteState, published *store.Snapshot) (*syncPlan, error) {
	log := ss.log
	sp := &syncPlan{}
	for _, st := range suites {
		if err := m.checkRelease(st, published, log); err != nil {
			return sp, err
		}
	}
	for _, st := range suites {
		var err error
		if m.Pristine {
			err = m.planPristine(st)
		} else {
			st.jobs, err = m.planIndices(st)
		}
		if err != nil {
			return sp, err
		}
		sp.jobs = append(sp.jobs, st.jobs...)
	}
	var err error
	if m.Pristine {
		err = m.fetchHeld(ctx, ss, suites)
	} else {
		err = m.fetchIndices(ctx, ss, suites)
	}
	if err != nil {
		return sp, err
	}
	// parse in parallel, one decoder per core; the universe is filled in job order
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, j := range sp.jobs {
		g.Go(func() error { return m.parseIndex(gctx, j) })
	}
	if err := g.Wait(); err != nil {
		return sp, err
	}
	uni := NewUniverse()
	for _, j := range sp.jobs {
		if j.kind != kindPackages {
			continue
		}
		for _, p := range j.pkgs {
			if err := uni.Add(p); err != nil {
				return sp, fmt.Errorf("apt: suite %s %s: %w", j.suite.name, j.file.Path, err)
			}
		}
	}
	if sp.selected, sp.unsatisfied, err = m.selectPackages(uni, log); err != nil {
		return sp, err
	}
	sp.srcSel, sp.allSources = map[string]bool{}, m.Filter.All()
	for p := range sp.selected {
		sp.srcSel[p.Source+"\x00"+p.SourceVersion] = true
	}
	if err := sp.planPool(log, m.Pristine); err != nil {
		return sp, err
	}
	return sp, nil
}

// fetchIndices downloads, for each index job and each file carried verbatim, the first
// listed variant the upstream serves.
func (m *Mirror) fetchIndices(ctx context.Context, ss *session, suites []*suiteState) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency())
	var mu sync.Mutex
	for _, st := range suites {
		for _, j := range st.jobs {
			g.Go(func() (err error) {
				j.file, j.blob, err = m.fetchVariant(gctx, ss, st, j.variants)
				return err
			})
		}
		for _, vs := range st.extra {
			g.Go(func() error {
				f, info, err := m.fetchVariant(gctx, ss, st, vs)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				st.verbatim = append(st.verbatim, VerbatimFile{Path: f.Path, SHA512: f.SHA512,
					File: store.File{Digest: info.Digest, Size: info.Size}})
				return nil
			})
		}
	}
	return g.Wait()
}

// held counts the packages and sources a pristine tree holds (the indices list more).
func (sp *syncPlan) held() (pkgs, srcs int) {
	for _, j := range sp.jobs {
		for _, p := range j.pkgs {
			if j.kind == kindInstaller || sp.selected[p] {
				pkgs++
			}
		}
		for _, s := range j.srcs {
			if sp.wantSource(s) {
				srcs++
			}
		}
	}
	return pkgs, srcs
}

// selectPackages applies the filter and the dependency closure over every binary index.
func (m *Mirror) selectPackages(uni *Universe, log *slog.Logger) (map[*Package]bool, []Unsatisfied, error) {
	sel := map[*Package]bool{}
	f := m.Filter
	var roots []*Package
	matched := map[string]bool{}
	for _, p := range uni.Packages() {
		if f.Match(p) {
			roots = append(roots, p)
			matched[p.Name] = true
		}
	}
	for _, name := range f.Packages {
		if strings.ContainsAny(name, "*?[") || matched[name] {
			continue
		}
		if f.Strict {
			return nil, nil, fmt.Errorf("apt: mirror %s: %w: %s", m.Name, ErrUnsatisfied, name)
		}
		log.Warn("apt: filter names a package that no suite has", "package", name)
	}
	var unsatisfied []Unsatisfied
	if (f.Dependencies || f.Recommends) && !f.All() {
		all, unsat, err := uni.Closure(roots, f.Recommends)
		if err != nil {
			return nil, nil, err
		}
		roots, unsatisfied = all, unsat
		for _, u := range unsat {
			log.Warn("apt: unsatisfied dependency", "package", u.Package, "needs", u.Relation)
		}
	}
	for _, p := range roots {
		sel[p] = true
	}
	// the same file listed by several indices (binary-all and binary-<arch>, or several
	// suites) is selected everywhere
	key := func(p *Package) string { return p.Key() + "\x00" + p.Filename + "\x00" + p.SHA256 + p.SHA512 }
	keys := map[string]bool{}
	for p := range sel {
		keys[key(p)] = true
	}
	for _, p := range uni.Packages() {
		if keys[key(p)] {
			sel[p] = true
		}
	}
	return sel, unsatisfied, nil
}

// planPool lists the pool files of the selection. A path that two upstreams fill with
// different files keeps the first upstream's; the other's moves to a path named by its
// checksum, and its stanza is rewritten to match, except in a pristine tree, whose
// indices cannot change: there it is ErrPoolConflict. Within one upstream such a path is
// ErrMalformed.
func (sp *syncPlan) planPool(log *slog.Logger, pristine bool) error {
	pool := map[string]*poolFile{}
	sp.renamed, sp.srcDirs, sp.moved = map[*Package]string{}, map[*SourcePackage]string{}, map[string]string{}
	// probe reports whether p can take the file: free, or holding the same content.
	probe := func(p string, e store.Expect, up *upstream) (ok bool, err error) {
		old, taken := pool[p]
		switch {
		case !taken || sameContent(old.expect, e):
			return true, nil
		case old.up == up:
			return false, fmt.Errorf("%w: %s is listed with two different contents", ErrMalformed, p)
		case pristine:
			return false, fmt.Errorf("%w: %s differs in %s and %s", ErrPoolConflict, p, old.up.URL, up.URL)
		}
		return false, nil
	}
	put := func(p, src string, e store.Expect, up *upstream) {
		if _, ok := pool[p]; !ok {
			pool[p] = &poolFile{path: p, url: up.base() + escapePath(src), expect: e, up: up}
			if p != src {
				sp.moved[p] = src
			}
		}
	}
	for _, j := range sp.jobs {
		up := j.suite.up
		for _, p := range j.pkgs {
			if j.kind == kindPackages && !sp.selected[p] {
				continue
			}
			e, err := p.Expect()
			if err != nil {
				return err
			}
			dst := p.Filename
			ok, err := probe(dst, e, up)
			if err != nil {
				return err
			}
			if !ok {
				dst = path.Dir(p.Filename) + "/" + shortSum(e) + "/" + path.Base(p.Filename)
				if ok, err = probe(dst, e, up); err != nil || !ok {
					return fmt.Errorf("%w: %s: no free pool path", ErrMalformed, p.Filename)
				}
				log.Info("apt: two upstreams carry different files at one pool path: publishing the later one's elsewhere",
					"path", p.Filename, "published", dst, "upstream", up.URL)
				sp.renamed[p] = dst
			}
			put(dst, p.Filename, e, up)
		}
		for _, s := range j.srcs {
			if !sp.wantSource(s) {
				continue
			}
			dir, moved := s.Directory, false
			for attempt := 0; ; attempt++ {
				free := true
				for _, f := range s.Files {
					e, err := f.Expect()
					if err != nil {
						return err
					}
					ok, err := probe(dir+"/"+f.Path, e, up)
					if err != nil {
						return err
					}
					free = free && ok
				}
				if free {
					break
				}
				if attempt > 0 {
					return fmt.Errorf("%w: source %s %s: no free pool directory", ErrMalformed, s.Name, s.Version)
				}
				dir, moved = s.Directory+"/"+sourceSum(s), true
			}
			if moved {
				log.Info("apt: two upstreams carry different source files in one pool directory: publishing the later one's elsewhere",
					"directory", s.Directory, "published", dir, "upstream", up.URL)
				sp.srcDirs[s] = dir
			}
			for _, f := range s.Files {
				e, _ := f.Expect()
				put(dir+"/"+f.Path, s.Directory+"/"+f.Path, e, up)
			}
		}
	}
	for _, p := range sortedKeys(pool) {
		sp.pool = append(sp.pool, pool[p])
	}
	return nil
}

// sameContent reports whether two expectations describe the same file: one size, and at
// least one checksum in common, all common ones equal.
func sameContent(a, b store.Expect) bool {
	if a.Size != b.Size {
		return false
	}
	common := false
	for alg, v := range a.Sums {
		if w, ok := b.Sums[alg]; ok {
			if v != w {
				return false
			}
			common = true
		}
	}
	return common
}

// shortSum names a moved pool file: the start of its strongest checksum.
func shortSum(e store.Expect) string {
	s := e.Sums[store.SHA256]
	if s == "" {
		s = e.Sums[store.SHA512]
	}
	return s[:16]
}

// sourceSum names a moved source directory: the start of a hash of all its files' sums.
func sourceSum(s *SourcePackage) string {
	h := sha256.New()
	for _, f := range s.Files {
		io.WriteString(h, f.Path+" "+f.SHA256+f.SHA512+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// suiteTree describes the suite to publish: regenerated indices holding the selected
// stanzas, and the Release metadata kept from upstream (its Valid-Until as the cap of the
// republished one).
func (m *Mirror) suiteTree(st *suiteState, sp *syncPlan) (SuiteTree, int, int) {
	rel := *st.rel
	rel.Para = Paragraph{Fields: append([]Field(nil), st.rel.Para.Fields...)}
	comps := st.components()
	archs := selectedList(m.Architectures, rel.Architectures)
	rel.Components = comps
	rel.Architectures = heldArchs(st.rel, archs)
	if !slices.Contains(archs, "all") {
		rel.Para.Delete("No-Support-for-Architecture-all")
	}
	tree := SuiteTree{Dir: st.name, Release: rel, Verbatim: st.verbatim}
	slices.SortFunc(tree.Verbatim, func(a, b VerbatimFile) int { return strings.Compare(a.Path, b.Path) })
	npkgs, nsrcs := 0, 0
	names := map[string]bool{}
	for p := range sp.selected {
		names[p.Name] = true
	}
	for _, j := range st.jobs {
		var sel []int
		var edit func(int) (string, string)
		switch j.kind {
		case kindPackages, kindInstaller:
			for i, p := range j.pkgs {
				if j.kind == kindInstaller || sp.selected[p] {
					sel = append(sel, i)
				}
			}
			npkgs += len(sel)
			edit = func(i int) (string, string) {
				if f, ok := sp.renamed[j.pkgs[i]]; ok {
					return "Filename", f
				}
				return "", ""
			}
		case kindSources:
			for i, s := range j.srcs {
				if sp.wantSource(s) {
					sel = append(sel, i)
				}
			}
			nsrcs += len(sel)
			edit = func(i int) (string, string) {
				if d, ok := sp.srcDirs[j.srcs[i]]; ok {
					return "Directory", d
				}
				return "", ""
			}
		case kindTranslation:
			all := m.Filter.All()
			tree.Indices = append(tree.Indices, GeneratedIndex{Path: j.path, Write: func(ctx context.Context, w io.Writer) error {
				return m.rewriteTranslation(ctx, j, w, func(p Paragraph) bool {
					return all || names[strings.TrimSpace(p.Get("Package"))]
				})
			}})
			continue
		}
		tree.Indices = append(tree.Indices, GeneratedIndex{Path: j.path, Write: func(ctx context.Context, w io.Writer) error {
			return m.copyStanzas(ctx, j, w, sel, edit)
		}})
	}
	return tree, npkgs, nsrcs
}
