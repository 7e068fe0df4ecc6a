package pypi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/pypi/pep440"
	"github.com/airgapkit/airgap/pypi/pep508"
	"github.com/airgapkit/airgap/pypi/simple"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// Snapshot layout and annotations.
const (
	annUpstream   = "pypi.upstream"
	annPagePrefix = "pypi.page."
	upstreamDir   = "upstream/"
	maxMetaFile   = wheel.MaxMetadataSize
)

// dist is one usable upstream distribution file.
type dist struct {
	simple.File
	project string
	version pep440.Version
	vkey    string
	isWheel bool
	tags    []wheel.Tag
}

type project struct {
	name     string
	notFound bool
	// dists are the page's distributions that some target can install; the others are
	// dropped as the page is read, so that a page of a hundred thousand files costs what
	// the targets keep of it.
	dists []*dist
	// the upstream page as fetched, kept in the snapshot for conditional requests
	pageFile store.File
	pageMeta pageMeta
	pageBase *url.URL // what its relative URLs are relative to
}

// pageMeta is what a snapshot remembers about an upstream page.
type pageMeta struct {
	ETag, LastModified, ContentType, URL string
}

func (p pageMeta) encode() string {
	return strings.Join([]string{p.ETag, p.LastModified, p.ContentType, p.URL}, "\n")
}

func decodePageMeta(s string) (pageMeta, bool) {
	f := strings.Split(s, "\n")
	if len(f) != 4 {
		return pageMeta{}, false
	}
	return pageMeta{f[0], f[1], f[2], f[3]}, true
}

type need struct {
	req    pep508.Requirement
	target int
	chain  []string
	top    bool
}

func (n need) key() string {
	return fmt.Sprintf("%s|%s|%s|%d|%v", n.req.Normalized(), n.req.Specifiers, strings.Join(n.req.Extras, ","), n.target, n.top)
}

type selKey struct{ project, version string }

type selection struct {
	project string
	version pep440.Version
	targets map[int]bool
	pinned  bool
}

type expansion struct {
	need   need
	sel    *selection
	target int
	extras []string
	chain  []string
	dist   *dist // the file whose metadata is read
}

// metaResult is a distribution's core metadata, read once.
type metaResult struct {
	data      []byte
	file      store.File // stored .metadata blob; zero for sdists
	fromWheel bool
	err       error
}

type syncer struct {
	m       *Mirror
	client  *fetch.Client
	targets []wheel.Target
	envs    []pep508.Environment
	base    *url.URL        // the index, without credentials
	creds   http.Header     // the index's, for its origin (withCredentials)
	prev    *store.Snapshot // the published tree, when it may be reused (store.Prev)

	mu        sync.Mutex
	projects  map[string]*project
	selected  map[selKey]*selection
	needsSeen map[string]bool
	expanded  map[string]bool
	// excluded marks "project|version|target" combinations that the index offered but
	// whose core metadata's Requires-Python rules the target out.
	excluded map[string]bool
	meta     map[string]*metaResult // by dist URL
	counted  map[string]bool        // distribution URLs counted in stats
	stats    SyncStats
	// planOnly downloads no distribution (Plan): one whose metadata is in it alone is
	// listed in unread instead.
	planOnly bool
	unread   []string
}

// errNotRead is why a Plan does not know a distribution's dependencies.
var errNotRead = errors.New("metadata is only in the file itself, which a plan does not download")

// Sync resolves the requirements and their dependencies for every target, downloads what
// is new (verified by sha256), writes the simple index and publishes it atomically under
// Ref() (store.Update): a resync that arrives at the published tree publishes nothing
// (SyncStats.Changed false), and one whose upstream or trust settings changed reuses
// nothing of the previous tree. Nothing is published when it fails. The caller should
// hold the store's writer lock if GC may run concurrently.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	if err := m.validate(); err != nil {
		return SyncStats{}, err
	}
	reqs, err := m.requirements()
	if err != nil {
		return SyncStats{}, err
	}
	if m.Upstream != "" {
		m.logger().Warn("pypi: the setting upstream is deprecated; call it url", "mirror", m.Ref())
	}
	s := m.newSyncer()
	// The index's sha256 sums are as good as the upstream they come from.
	trust := store.TrustOf(m).WithRoot("upstream", m.upstream())
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), trust, func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			m.logger().Info("pypi: reusing nothing of the published tree", "ref", m.Ref(), "changed", prev.TrustChanged)
		}
		s.prev = prev.Snapshot
		if err := s.resolve(ctx, reqs); err != nil {
			return nil, err
		}
		return s.build(ctx)
	})
	if err != nil {
		return s.stats, err // build's errors say "pypi:", Update's name the ref
	}
	s.stats.Generation, s.stats.Changed = gen, changed
	if changed {
		m.logger().Info("pypi: published", "ref", m.Ref(), "projects", s.stats.Projects, "files", s.stats.Files,
			"downloaded", s.stats.Downloaded, "unsatisfied", len(s.stats.Unsatisfied))
	} else {
		m.logger().Info("pypi: nothing changed", "ref", m.Ref(), "projects", s.stats.Projects, "files", s.stats.Files)
	}
	return s.stats, nil
}

// newSyncer makes the state of one Sync or Plan.
func (m *Mirror) newSyncer() *syncer {
	base, _ := url.Parse(m.upstream())
	_, creds := splitUserinfo(m.rawUpstream())
	s := &syncer{
		m: m, client: m.client(), targets: m.targets(), base: base, creds: creds,
		projects: map[string]*project{}, selected: map[selKey]*selection{},
		needsSeen: map[string]bool{}, expanded: map[string]bool{}, meta: map[string]*metaResult{},
		excluded: map[string]bool{},
		counted:  map[string]bool{},
	}
	s.stats.Ref = m.Ref()
	for _, t := range s.targets {
		s.envs = append(s.envs, t.Environment())
	}
	return s
}

// Plan resolves the requirements as Sync does (the project pages, by full requests, and
// the PEP 658 metadata files of the chosen versions) and lists the distributions a sync
// would publish, each with the sha256 the index gives and its size when the index gives
// one (PEP 691/700 "size"; unknown otherwise), without downloading a distribution or
// publishing anything: a dry run. A chosen wheel or sdist without a metadata file is read
// by Sync for its dependencies; Plan reads none, so what they depend on is not listed:
// each such file adds an item of unknown size saying so. The pages and metadata files
// it read stay in the store, unreferenced until a sync publishes them.
func (m *Mirror) Plan(ctx context.Context) (store.Plan, error) {
	if err := m.validate(); err != nil {
		return store.Plan{}, err
	}
	reqs, err := m.requirements()
	if err != nil {
		return store.Plan{}, err
	}
	s := m.newSyncer()
	s.planOnly = true
	if err := s.resolve(ctx, reqs); err != nil {
		return store.Plan{}, err
	}
	p := planOf(s.chosen())
	slices.Sort(s.unread)
	for _, d := range s.unread {
		p.Items = append(p.Items, store.PlannedItem{Name: "dependencies of " + d, Size: store.UnknownSize})
	}
	return p, nil
}

// planOf lists files as the store sees them (see Plan).
func planOf(files []*dist) store.Plan {
	p := store.Plan{Items: make([]store.PlannedItem, 0, len(files))}
	for _, d := range files {
		it := store.PlannedItem{Name: "packages/" + d.project + "/" + d.Filename, Size: store.UnknownSize}
		if dg, err := store.DigestFromHex(d.Hashes["sha256"]); err == nil {
			it.Digest = dg
		}
		if d.Size > 0 {
			it.Size = d.Size
		}
		p.Items = append(p.Items, it)
	}
	return p
}

// resolve runs the resolution rounds from the requirements.
func (s *syncer) resolve(ctx context.Context, reqs []pep508.Requirement) error {
	var frontier []need
	for _, r := range reqs {
		for ti := range s.targets {
			ok, err := r.Applies(s.envs[ti], nil)
			if err != nil {
				s.m.logger().Warn("pypi: marker undecidable, requirement kept", "requirement", r.String(), "target", s.targets[ti].String(), "err", err)
				ok = true
			}
			if ok {
				frontier = append(frontier, need{req: r, target: ti, chain: []string{r.String()}, top: true})
			}
		}
	}
	for round := 0; len(frontier) > 0; round++ {
		s.m.logger().Debug("pypi: resolving", "round", round, "requirements", len(frontier))
		var err error
		if frontier, err = s.round(ctx, frontier); err != nil {
			return err
		}
	}
	for _, u := range s.stats.Unsatisfied {
		s.m.logger().Warn("pypi: unsatisfiable requirement", "requirement", u.Requirement, "target", u.Target,
			"chain", strings.Join(u.Chain, " -> "), "reason", u.Reason)
	}
	if len(s.stats.Unsatisfied) > 0 && !s.m.AllowUnsatisfied {
		return &UnsatisfiedError{Items: s.stats.Unsatisfied}
	}
	return nil
}

// parallel runs fn for every item with at most n at a time; the first error cancels the
// rest.
func parallel[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(n)
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}

// round handles one breadth of requirements and returns the next.
func (s *syncer) round(ctx context.Context, frontier []need) ([]need, error) {
	// 1. project pages
	var names []string
	seen := map[string]bool{}
	for _, n := range frontier {
		name := n.req.Normalized()
		if _, ok := s.projects[name]; !ok && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	err := parallel(ctx, s.m.concurrency(), names, func(ctx context.Context, name string) error {
		p, err := s.loadProject(ctx, name)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.projects[name] = p
		s.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	// 2. versions
	var exps []*expansion
	for _, n := range frontier {
		e, err := s.choose(ctx, n)
		if err != nil {
			return nil, err
		}
		exps = append(exps, e...)
	}
	if s.m.NoDependencies {
		return nil, nil
	}
	// 3. metadata of the chosen versions
	var todo []*dist
	queued := map[string]bool{}
	for _, e := range exps {
		if _, ok := s.meta[e.dist.URL]; !ok && !queued[e.dist.URL] {
			queued[e.dist.URL] = true
			todo = append(todo, e.dist)
		}
	}
	err = parallel(ctx, s.m.concurrency(), todo, func(ctx context.Context, d *dist) error {
		r, err := s.readMetadata(ctx, d)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.meta[d.URL] = r
		s.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	// 4. their dependencies
	var next []need
	for _, e := range exps {
		mr := s.meta[e.dist.URL]
		label := e.sel.project + " " + e.sel.version.String()
		if mr.err != nil {
			s.stats.DependenciesUnknown = appendUnique(s.stats.DependenciesUnknown, label+": "+mr.err.Error())
			continue
		}
		md, err := wheel.ParseMetadata(mr.data)
		if err != nil {
			return nil, fmt.Errorf("pypi: %s: %w", e.dist.Filename, err)
		}
		// An index may omit Requires-Python that the metadata declares: pip would refuse
		// this version on the target, so choose again without it.
		if ok, err := s.targets[e.target].RequiresPython(md.RequiresPython); err == nil && !ok {
			s.m.logger().Info("pypi: Requires-Python in metadata excludes version", "project", e.sel.project,
				"version", label, "requires_python", md.RequiresPython, "target", s.targets[e.target].String())
			s.excluded[excludeKey(e.sel.project, e.dist.vkey, e.target)] = true
			delete(s.needsSeen, e.need.key())
			next = append(next, e.need)
			continue
		}
		if !e.dist.isWheel && !md.DependenciesKnown() {
			s.stats.DependenciesUnknown = appendUnique(s.stats.DependenciesUnknown, label+": sdist metadata does not declare its dependencies")
			continue
		}
		reqs, err := md.Requirements()
		if err != nil {
			return nil, err
		}
		chain := append(append([]string(nil), e.chain...), label)
		for _, r := range reqs {
			if r.URL != "" {
				s.stats.Skipped = appendUnique(s.stats.Skipped, label+" requires "+r.Name+" by URL")
				continue
			}
			ok, err := r.Applies(s.envs[e.target], e.extras)
			if err != nil {
				s.m.logger().Warn("pypi: marker undecidable, dependency kept", "dependency", r.String(), "of", label, "err", err)
				ok = true
			}
			if ok {
				next = append(next, need{req: r, target: e.target, chain: append(chain[:len(chain):len(chain)], r.String())})
			}
		}
	}
	return next, nil
}

func excludeKey(project, vkey string, target int) string {
	return fmt.Sprintf("%s|%s|%d", project, vkey, target)
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// loadProject fetches a project page into the store (conditionally, when the previous
// snapshot kept it) and reads it from there as a stream.
func (s *syncer) loadProject(ctx context.Context, name string) (*project, error) {
	p := &project{name: name}
	pageURL := s.base.ResolveReference(&url.URL{Path: url.PathEscape(name) + "/"}).String()
	req := s.withCredentials(fetch.Request{URL: pageURL, Header: http.Header{"Accept": {simple.AcceptHeader}}, MaxSize: s.m.maxPageSize()})
	var prevFile store.File
	var prevMeta pageMeta
	if s.prev != nil {
		f, ok1 := s.prev.Lookup(upstreamDir + name)
		pm, ok2 := decodePageMeta(s.prev.Annotations[annPagePrefix+name])
		if ok1 && ok2 {
			if has, _ := s.m.Store.Has(ctx, f.Digest); has {
				prevFile, prevMeta = f, pm
				req.Validators = fetch.Validators{ETag: pm.ETag, LastModified: pm.LastModified}
			}
		}
	}
	res, err := s.client.Fetch(ctx, req)
	var he *fetch.HTTPError
	if errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusGone) {
		p.notFound = true
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pypi: project %s: %w", name, err)
	}
	meta := pageMeta{ETag: res.Validators.ETag, LastModified: res.Validators.LastModified, URL: res.FinalURL}
	if res.NotModified {
		meta.ContentType, meta.URL = prevMeta.ContentType, prevMeta.URL
		p.pageFile = prevFile
		s.mu.Lock()
		s.stats.PagesNotModified++
		s.mu.Unlock()
	} else {
		meta.ContentType = res.Header.Get("Content-Type")
		p.pageFile = store.File{Digest: res.Blob.Digest, Size: res.Blob.Size, MediaType: meta.ContentType}
		s.mu.Lock()
		s.stats.PagesFetched++
		s.mu.Unlock()
	}
	if meta.URL == "" {
		meta.URL = pageURL
	}
	p.pageMeta = meta
	if p.pageBase, err = url.Parse(meta.URL); err != nil {
		p.pageBase, _ = url.Parse(pageURL)
	}
	// A file listed twice: the first entry this mirror could use or reports as skipped
	// wins (the others need no memory).
	seen := map[string]bool{}
	err = s.scanDists(ctx, p, func(d *dist) {
		if !seen[d.Filename] && s.installableAnywhere(d) {
			seen[d.Filename] = true
			p.dists = append(p.dists, d)
		}
	}, func(f simple.File, why string) {
		if !seen[f.Filename] {
			seen[f.Filename] = true
			s.mu.Lock()
			s.stats.Skipped = append(s.stats.Skipped, name+": "+f.Filename+": "+why)
			s.mu.Unlock()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("pypi: project %s: %w", name, err)
	}
	return p, nil
}

// scanDists reads p's stored page and hands each distribution to fn, and each file that
// classify refuses with a reason to skip.
func (s *syncer) scanDists(ctx context.Context, p *project, fn func(*dist), skip func(simple.File, string)) error {
	return scanBlob(ctx, s.m.Store, p.pageFile.Digest, p.pageMeta.ContentType, p.pageBase, func(f simple.File) error {
		if d, why := s.classify(p.name, f); d != nil {
			fn(d)
		} else if why != "" && skip != nil {
			skip(f, why)
		}
		return nil
	})
}

// scanBlob reads a project page stored as blob d, handing each file to fn as it is read
// (simple.ScanPage): memory holds one entry of the page at a time.
func scanBlob(ctx context.Context, s store.Store, d store.Digest, contentType string, base *url.URL, fn func(simple.File) error) error {
	b, err := s.Open(ctx, d)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = simple.ScanPage(store.ContextReader(ctx, b), contentType, base, fn)
	return err
}

// classify turns a page entry into a dist, or says why it is ignored ("" for files that
// are simply not distributions this mirror handles).
func (s *syncer) classify(project string, f simple.File) (*dist, string) {
	if f.Filename != path.Base(f.Filename) || store.ValidatePath(f.Filename) != nil {
		return nil, "unsafe file name"
	}
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, "not an http(s) URL"
	}
	if sum := f.Hashes["sha256"]; len(sum) != 64 {
		return nil, "no sha256 in the index"
	}
	n, why := parseDistName(project, f.Filename)
	if n == nil {
		return nil, why
	}
	return &dist{File: f, project: project, version: n.version, vkey: n.version.String(), isWheel: n.isWheel, tags: n.tags}, ""
}

// distName is what a distribution's file name says.
type distName struct {
	version pep440.Version
	isWheel bool
	tags    []wheel.Tag
}

// parseDistName reads the file name of a distribution of project (normalized): a wheel
// or a source distribution. It returns nil and why the file is refused, or nil and ""
// for files that are no distribution this mirror handles (.egg, .exe, signatures).
func parseDistName(project, filename string) (*distName, string) {
	n := &distName{}
	var ver string
	switch {
	case strings.HasSuffix(filename, ".whl"):
		w, err := wheel.ParseFilename(filename)
		if err != nil {
			return nil, err.Error()
		}
		if pep508.NormalizeName(w.Name) != project {
			return nil, "wheel of another project"
		}
		n.isWheel, n.tags, ver = true, w.Tags, w.Version
	case wheel.IsSdist(filename):
		v, err := wheel.SdistVersion(filename, project)
		if err != nil {
			return nil, err.Error()
		}
		ver = v
	default:
		return nil, ""
	}
	v, err := pep440.Parse(ver)
	if err != nil {
		return nil, "version " + ver + " is not PEP 440"
	}
	n.version = v
	return n, ""
}

// usable reports whether d can be installed on target ti (yanked aside).
func (s *syncer) usable(d *dist, ti int) bool {
	return !s.excluded[excludeKey(d.project, d.vkey, ti)] && s.installable(d, ti)
}

// installableAnywhere reports whether some target could install d.
func (s *syncer) installableAnywhere(d *dist) bool {
	for ti := range s.targets {
		if s.installable(d, ti) {
			return true
		}
	}
	return false
}

// installable reports whether target ti could install d, by what the index says of it:
// its wheel tags, whether it is an sdist, its Requires-Python.
func (s *syncer) installable(d *dist, ti int) bool {
	t := s.targets[ti]
	if d.isWheel {
		if !t.Supports(d.tags) {
			return false
		}
	} else if !s.m.Sdists {
		return false
	}
	ok, err := t.RequiresPython(d.RequiresPython)
	return ok || err != nil // pip ignores a malformed Requires-Python
}

// choose picks the versions a requirement admits on its target and returns the
// dependency expansions they need.
func (s *syncer) choose(ctx context.Context, n need) ([]*expansion, error) {
	k := n.key()
	if s.needsSeen[k] {
		return nil, nil
	}
	s.needsSeen[k] = true
	name := n.req.Normalized()
	p := s.projects[name]
	unsatisfied := func(reason string) ([]*expansion, error) {
		chain := n.chain[:len(n.chain)-1]
		if len(chain) == 0 {
			chain = []string{"(listed requirement)"}
		}
		s.stats.Unsatisfied = append(s.stats.Unsatisfied, Unsatisfied{
			Requirement: n.req.String(), Target: s.targets[n.target].String(),
			Chain: chain, Reason: reason,
		})
		return nil, nil
	}
	if p.notFound {
		return unsatisfied("no such project upstream")
	}
	pinned := false
	if len(n.req.Specifiers) == 1 {
		sp := n.req.Specifiers[0]
		pinned = sp.Op == pep440.OpArbitrary || (sp.Op == pep440.OpEqual && !sp.Wildcard)
	}
	type cand struct {
		v        pep440.Version
		unyanked bool
	}
	byVer := map[string]*cand{}
	anyMatch := false
	for _, d := range p.dists {
		if n.req.Specifiers.Matches(d.version) {
			anyMatch = true
		}
		if !s.usable(d, n.target) {
			continue
		}
		c := byVer[d.vkey]
		if c == nil {
			c = &cand{v: d.version}
			byVer[d.vkey] = c
		}
		if !d.Yanked {
			c.unyanked = true
		}
	}
	var vs []pep440.Version
	for _, c := range byVer {
		if c.unyanked || pinned {
			vs = append(vs, c.v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return pep440.Compare(vs[i], vs[j]) > 0 })
	vs = n.req.Specifiers.Filter(vs, s.m.Prereleases)
	if len(vs) == 0 {
		if !anyMatch {
			// The page's files that no target can install were not kept: read it again.
			err := s.scanDists(ctx, p, func(d *dist) {
				anyMatch = anyMatch || n.req.Specifiers.Matches(d.version)
			}, nil)
			if err != nil {
				return nil, fmt.Errorf("pypi: project %s: %w", name, err)
			}
		}
		if !anyMatch {
			return unsatisfied("no version matches " + orAny(n.req.Specifiers.String()))
		}
		return unsatisfied("no installable, unyanked file for this target (wheel tags, Requires-Python, sdists off)")
	}
	limit := positive(s.m.DependencyLatest)
	if n.top {
		limit = positive(s.m.Latest)
	}
	if len(vs) > limit {
		vs = vs[:limit]
	}
	var out []*expansion
	for _, v := range vs {
		sk := selKey{name, v.String()}
		sel := s.selected[sk]
		if sel == nil {
			sel = &selection{project: name, version: v, targets: map[int]bool{}}
			s.selected[sk] = sel
		}
		sel.targets[n.target] = true
		sel.pinned = sel.pinned || pinned
		ek := fmt.Sprintf("%s|%s|%d|%s", name, v.String(), n.target, strings.Join(n.req.Extras, ","))
		if s.expanded[ek] {
			continue
		}
		s.expanded[ek] = true
		if d := s.metadataSource(p, v.String(), n.target); d != nil {
			out = append(out, &expansion{need: n, sel: sel, target: n.target, extras: n.req.Extras, chain: n.chain, dist: d})
		}
	}
	return out, nil
}

func orAny(spec string) string {
	if spec == "" {
		return "(any)"
	}
	return spec
}

// metadataSource picks the file whose metadata stands for a version on a target: a wheel
// with a PEP 658 file, else any wheel, else a source distribution.
func (s *syncer) metadataSource(p *project, vkey string, ti int) *dist {
	var best *dist
	rank := func(d *dist) int {
		switch {
		case d.isWheel && d.CoreMetadata:
			return 3
		case d.isWheel:
			return 2
		case strings.HasSuffix(strings.ToLower(d.Filename), ".tar.gz"):
			return 1
		}
		return 0
	}
	for _, d := range p.dists {
		if d.vkey != vkey || !s.usable(d, ti) {
			continue
		}
		if best == nil || rank(d) > rank(best) {
			best = d
		}
	}
	return best
}

// prevMetadata returns the .metadata a previous snapshot published for the same bytes.
func (s *syncer) prevMetadata(ctx context.Context, d *dist) (*metaResult, bool) {
	if s.prev == nil {
		return nil, false
	}
	p := "packages/" + d.project + "/" + d.Filename
	f, ok := s.prev.Lookup(p)
	if !ok || f.Digest.Hex() != d.Hashes["sha256"] {
		return nil, false
	}
	mf, ok := s.prev.Lookup(p + ".metadata")
	if !ok {
		return nil, false
	}
	b, err := store.ReadBlob(ctx, s.m.Store, mf.Digest, maxMetaFile)
	if err != nil {
		return nil, false
	}
	return &metaResult{data: b, file: mf}, true
}

// readMetadata obtains a distribution's core metadata: from the previous snapshot, from
// upstream's PEP 658 file, or out of the distribution itself (downloaded into the store,
// where it is needed anyway). A failure to read metadata that is not a transport or
// verification error is recorded in the result, not returned.
func (s *syncer) readMetadata(ctx context.Context, d *dist) (*metaResult, error) {
	if r, ok := s.prevMetadata(ctx, d); ok {
		return r, nil
	}
	if d.isWheel && d.CoreMetadata {
		e := store.Expect{}
		if sum := d.CoreMetadataHashes["sha256"]; sum != "" {
			e = e.With(store.SHA256, sum)
		}
		b, res, err := s.client.FetchBytes(ctx, s.withCredentials(fetch.Request{URL: d.URL + ".metadata", Expect: e, MaxSize: maxMetaFile}))
		var he *fetch.HTTPError
		switch {
		case err == nil:
			return &metaResult{data: b, file: store.File{Digest: res.Blob.Digest, Size: res.Blob.Size}}, nil
		case errors.As(err, &he) && he.StatusCode >= 400 && he.StatusCode < 500:
			s.m.logger().Warn("pypi: advertised metadata file missing upstream, reading the wheel", "url", d.URL+".metadata", "status", he.StatusCode)
		default:
			return nil, fmt.Errorf("pypi: %s.metadata: %w", d.Filename, err)
		}
	}
	if s.planOnly {
		s.mu.Lock()
		s.unread = append(s.unread, d.Filename)
		s.mu.Unlock()
		return &metaResult{err: fmt.Errorf("%s: %w", d.Filename, errNotRead)}, nil
	}
	info, err := s.download(ctx, d)
	if err != nil {
		return nil, err
	}
	blob, err := s.m.Store.Open(ctx, info.Digest)
	if err != nil {
		return nil, fmt.Errorf("pypi: %s: %w", d.Filename, err)
	}
	defer blob.Close()
	var b []byte
	switch {
	case d.isWheel:
		b, err = wheel.ReadMetadata(&readerAt{r: blob}, blob.Size(), d.project)
	case strings.HasSuffix(strings.ToLower(d.Filename), ".tar.gz"):
		b, err = wheel.ReadSdistMetadata(store.ContextReader(ctx, blob))
	default:
		err = errors.New("metadata of this archive kind is not read")
	}
	if err != nil {
		return &metaResult{err: fmt.Errorf("%s: %w", d.Filename, err)}, nil
	}
	r := &metaResult{data: b, fromWheel: d.isWheel}
	if d.isWheel {
		bi, err := s.putSmall(ctx, b)
		if err != nil {
			return nil, fmt.Errorf("pypi: %s.metadata: %w", d.Filename, err)
		}
		r.file = store.File{Digest: bi.Digest, Size: bi.Size}
	}
	return r, nil
}

// download fetches a distribution into the store, verified against the index's sha256
// (and size when the index gives one); a file already stored costs no request.
func (s *syncer) download(ctx context.Context, d *dist) (store.BlobInfo, error) {
	e := store.Expect{Size: d.Size}.With(store.SHA256, d.Hashes["sha256"])
	dg := e.Digest()
	had, _ := s.m.Store.Has(ctx, dg)
	res, err := s.client.Fetch(ctx, s.withCredentials(fetch.Request{URL: d.URL, Expect: e}))
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("pypi: %s: %w", d.Filename, err)
	}
	return res.Blob, s.countDownload(d.URL, had, res.Blob.Size)
}

// countDownload records one distribution fetch in the stats once per URL.
func (s *syncer) countDownload(u string, had bool, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counted[u] {
		return nil
	}
	s.counted[u] = true
	if had {
		s.stats.Reused++
	} else {
		s.stats.Downloaded++
		s.stats.DownloadedBytes += size
	}
	return nil
}

// readerAt adapts a seekable blob to io.ReaderAt for archive/zip.
type readerAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (ra *readerAt) ReadAt(p []byte, off int64) (int, error) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if _, err := ra.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(ra.r, p)
}

// chosen lists the files to publish: of each selected version, those some target can
// install (a yanked one only when pinned), by project.
func (s *syncer) chosen() []*dist {
	var files []*dist
	for _, p := range s.sortedProjects() {
		for _, d := range p.dists {
			sel := s.selected[selKey{p.name, d.vkey}]
			if sel == nil || (d.Yanked && !sel.pinned) {
				continue
			}
			for ti := range sel.targets {
				if s.usable(d, ti) {
					files = append(files, d)
					break
				}
			}
		}
	}
	return files
}

// build downloads every chosen file and writes the index into a new snapshot.
func (s *syncer) build(ctx context.Context) (*store.Snapshot, error) {
	files := s.chosen()
	if err := s.m.Preflight.Check(ctx, planOf(files)); err != nil {
		return nil, err
	}
	type out struct {
		blob store.BlobInfo
		meta *metaResult
	}
	results := make(map[*dist]*out, len(files))
	for _, d := range files {
		results[d] = &out{}
	}
	err := parallel(ctx, s.m.concurrency(), files, func(ctx context.Context, d *dist) error {
		info, err := s.download(ctx, d)
		if err != nil {
			return err
		}
		results[d].blob = info
		if !d.isWheel {
			return nil
		}
		s.mu.Lock()
		mr := s.meta[d.URL]
		s.mu.Unlock()
		if mr == nil || mr.file.Digest == "" {
			if mr, err = s.readMetadata(ctx, d); err != nil {
				return err
			}
		}
		results[d].meta = mr
		return nil
	})
	if err != nil {
		return nil, err
	}

	snap := store.NewSnapshot()
	snap.Annotations[annUpstream] = s.m.upstream()
	pages := map[string]*simple.Page{}
	var names []string
	for _, d := range files {
		r := results[d]
		dir := "packages/" + d.project + "/"
		if err := snap.Add(dir+d.Filename, store.File{Digest: r.blob.Digest, Size: r.blob.Size}); err != nil {
			return nil, fmt.Errorf("pypi: %w", err)
		}
		pg := pages[d.project]
		if pg == nil {
			pg = &simple.Page{Name: d.project}
			pages[d.project] = pg
			names = append(names, d.project)
		}
		rp := d.RequiresPython
		if rp == "" && r.meta != nil && r.meta.err == nil {
			// Tell pip what the metadata says even when upstream's index did not.
			if md, err := wheel.ParseMetadata(r.meta.data); err == nil {
				rp = md.RequiresPython
			}
		}
		f := simple.File{
			Filename: d.Filename, URL: "../../" + dir + url.PathEscape(d.Filename),
			Hashes: map[string]string{"sha256": r.blob.Digest.Hex()}, RequiresPython: rp,
			Yanked: d.Yanked, YankedReason: d.YankedReason, Size: r.blob.Size, UploadTime: d.UploadTime,
		}
		if r.meta != nil && r.meta.err == nil && r.meta.file.Digest != "" {
			if err := snap.Add(dir+d.Filename+".metadata", store.File{Digest: r.meta.file.Digest, Size: r.meta.file.Size}); err != nil {
				return nil, fmt.Errorf("pypi: %w", err)
			}
			f.CoreMetadata = true
			f.CoreMetadataHashes = map[string]string{"sha256": r.meta.file.Digest.Hex()}
			s.stats.MetadataFiles++
			if r.meta.fromWheel {
				s.stats.MetadataFromWheel++
			}
		}
		pg.Files = append(pg.Files, f)
		s.stats.Files++
		s.stats.Bytes += r.blob.Size
	}
	sort.Strings(names)
	for _, name := range names {
		pg := pages[name]
		versions := map[string]pep440.Version{}
		for _, d := range files {
			if d.project == name {
				versions[d.vkey] = d.version
			}
		}
		vs := make([]pep440.Version, 0, len(versions))
		for _, v := range versions {
			vs = append(vs, v)
		}
		sort.Slice(vs, func(i, j int) bool { return pep440.Compare(vs[i], vs[j]) < 0 })
		for _, v := range vs {
			pg.Versions = append(pg.Versions, v.String())
		}
		s.stats.Versions += len(vs)
		if err := s.addPage(ctx, snap, "simple/"+name+"/", func(w io.Writer) error { return simple.WritePageHTML(w, pg) },
			func(w io.Writer) error { return simple.WritePageJSON(w, pg) }); err != nil {
			return nil, err
		}
		p := s.projects[name]
		if p.pageFile.Digest != "" {
			if err := snap.Add(upstreamDir+name, p.pageFile); err != nil {
				return nil, fmt.Errorf("pypi: %w", err)
			}
			snap.Annotations[annPagePrefix+name] = p.pageMeta.encode()
		}
	}
	s.stats.Projects = len(names)
	if err := s.addPage(ctx, snap, "simple/", func(w io.Writer) error { return simple.WriteRootHTML(w, names) },
		func(w io.Writer) error { return simple.WriteRootJSON(w, names) }); err != nil {
		return nil, err
	}
	return snap, nil
}

// addPage stores the HTML and JSON forms of one index page under dir.
func (s *syncer) addPage(ctx context.Context, snap *store.Snapshot, dir string, writeHTML, writeJSON func(io.Writer) error) error {
	for _, v := range []struct {
		name, mediaType string
		write           func(io.Writer) error
	}{{"index.html", "text/html; charset=utf-8", writeHTML}, {"index.json", simple.MediaTypeJSON, writeJSON}} {
		var buf bytes.Buffer
		if err := v.write(&buf); err != nil {
			return err
		}
		info, err := s.putSmall(ctx, buf.Bytes())
		if err != nil {
			return fmt.Errorf("pypi: %s%s: %w", dir, v.name, err)
		}
		if err := snap.Add(dir+v.name, store.File{Digest: info.Digest, Size: info.Size, MediaType: v.mediaType}); err != nil {
			return fmt.Errorf("pypi: %w", err)
		}
	}
	return nil
}

// putSmall stores generated content unless the store already has it, which spares a
// write and an fsync per unchanged page on a resync.
func (s *syncer) putSmall(ctx context.Context, b []byte) (store.BlobInfo, error) {
	sum := sha256.Sum256(b)
	e := store.Expect{Size: int64(len(b))}.With(store.SHA256, hex.EncodeToString(sum[:]))
	if info, err := s.m.Store.Stat(ctx, e.Digest()); err == nil && info.Size == int64(len(b)) {
		return info, nil
	}
	return store.PutBytes(ctx, s.m.Store, e, b)
}

func (s *syncer) sortedProjects() []*project {
	out := make([]*project, 0, len(s.projects))
	for _, p := range s.projects {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
