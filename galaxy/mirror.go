package galaxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// DefaultConcurrency is how many requests a sync runs at once when Mirror.Concurrency is 0.
const DefaultConcurrency = 8

// Mirror mirrors collections and roles from one Galaxy server into a store and publishes
// them as the ref "galaxy/<Name>". The exported fields with yaml tags are what an operator
// configures; Store, Fetch and Logger are set by the program.
type Mirror struct {
	// Name names the mirror; the ref is "galaxy/<Name>".
	Name string `yaml:"name"`
	// URL is the Galaxy server, as for ansible-galaxy -s (https://galaxy.ansible.com/,
	// a galaxy_ng API root, another airgap mirror).
	URL string `yaml:"url"`
	// Upstream is the old name of URL, still accepted (with a warning at Sync).
	//
	// Deprecated: use URL.
	Upstream string `yaml:"upstream"`
	// Token authenticates to galaxy_ng / Automation Hub. It is sent to the origin of URL
	// only (scheme, host and port), never to a download_url or redirect elsewhere.
	Token string `yaml:"token"`
	// TokenType is "Token" (default) or "Bearer".
	TokenType string `yaml:"token_type"`
	// AuthURL is an SSO token endpoint (Automation Hub: the auth_url of ansible.cfg);
	// Token is then an offline token exchanged there for Bearer access tokens.
	AuthURL string `yaml:"auth_url"`
	// Collections to mirror.
	Collections []CollectionSpec `yaml:"collections"`
	// Roles to mirror.
	Roles []RoleSpec `yaml:"roles"`
	// Requirements names requirements.yml files whose collections and roles are mirrored
	// too.
	Requirements []string `yaml:"requirements"`
	// NoDependencies turns off following collection dependencies. By default, for every
	// dependency of every mirrored version the newest upstream version matching it is
	// mirrored as well, until the set is closed.
	NoDependencies bool `yaml:"no_dependencies"`
	// KeepOld keeps versions mirrored earlier that the selection no longer names (for
	// example when "latest: 3" moves on).
	KeepOld bool `yaml:"keep_old"`
	// AllowMissingChecksum accepts artifacts for which the upstream gives no sha256 (they
	// are then only as trustworthy as the connection). Logged per artifact.
	AllowMissingChecksum bool `yaml:"allow_missing_checksum"`
	// SkipArtifactCheck turns off checking each new artifact's content (MANIFEST.json
	// naming the right collection and version, FILES.json and every file's sha256) as
	// ansible-galaxy does at install time. The sha256 from the index is still verified.
	SkipArtifactCheck bool `yaml:"skip_artifact_check"`
	// Concurrency caps simultaneous requests (0: DefaultConcurrency).
	Concurrency int `yaml:"concurrency"`
	// MaxPages caps one paginated listing (0: DefaultMaxPages).
	MaxPages int `yaml:"max_pages"`

	// Store receives the content. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads (its Store must be Store). Nil: a default client on Store.
	Fetch *fetch.Client `yaml:"-"`
	// Logger receives progress records. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
	// Preflight, when set, is handed what Plan lists once the collections are resolved,
	// before any artifact is downloaded.
	Preflight store.Preflight `yaml:"-"`

	now func() time.Time // tests
}

// SyncStats describes what a sync did.
type SyncStats struct {
	// SyncResult says what was published (Changed is false when the result equals what
	// was already published and no generation was written) and counts the archives
	// fetched (Downloaded, DownloadedBytes) and those already stored (Reused).
	store.SyncResult
	// Collections and Versions count what the published snapshot holds.
	Collections int
	Versions    int
	// Roles and RoleVersions likewise for roles.
	Roles        int
	RoleVersions int
	// Requests counts the API requests made to the upstream (downloads excluded).
	Requests int64
}

// Ref returns the store ref the mirror publishes: "galaxy/<Name>".
func (m *Mirror) Ref() string { return "galaxy/" + m.Name }

// Endpoints lists the URLs a sync contacts: the upstream, and GitHub when roles are
// mirrored (role archives usually live there). Downloads may also go, or be redirected,
// to whatever host the upstream names in download_url; the token goes to the upstream's
// origin only (see Client.Token).
func (m *Mirror) Endpoints() []string {
	out := []string{m.url()}
	if m.AuthURL != "" {
		out = append(out, m.AuthURL)
	}
	if len(m.Roles) > 0 || len(m.Requirements) > 0 {
		out = append(out, "https://github.com/", "https://codeload.github.com/")
	}
	return out
}

// url is URL, or its deprecated name.
func (m *Mirror) url() string {
	if m.URL != "" {
		return m.URL
	}
	return m.Upstream
}

func (m *Mirror) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (m *Mirror) concurrency() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return DefaultConcurrency
}

// stamp returns a timestamp in the form Galaxy writes, with microseconds.
func (m *Mirror) stamp() string {
	now := time.Now
	if m.now != nil {
		now = m.now
	}
	return now().UTC().Format("2006-01-02T15:04:05.000000Z")
}

// selection is the validated set of wishes.
type selection struct {
	collections []collWish
	roles       []RoleSpec
}

type collWish struct {
	ns, name string
	rng      Range
	spec     CollectionSpec
}

func (m *Mirror) selection() (*selection, error) {
	sel := &selection{}
	colls := append([]CollectionSpec(nil), m.Collections...)
	roles := append([]RoleSpec(nil), m.Roles...)
	for _, p := range m.Requirements {
		req, err := LoadRequirements(p)
		if err != nil {
			return nil, err
		}
		colls = append(colls, req.Collections...)
		roles = append(roles, req.Roles...)
	}
	for _, c := range colls {
		if c.Type != "" && c.Type != "galaxy" {
			m.logger().Warn("galaxy: skipping a collection that is not on a Galaxy server", "name", c.Name, "type", c.Type)
			continue
		}
		ns, name, err := splitName(c.Name)
		if err != nil {
			return nil, err
		}
		r, err := ParseRange(c.Version)
		if err != nil {
			return nil, fmt.Errorf("galaxy: collection %s: %w", c.Name, err)
		}
		sel.collections = append(sel.collections, collWish{ns: ns, name: name, rng: r, spec: c})
	}
	for _, r := range roles {
		if r.SCM != "" {
			m.logger().Warn("galaxy: skipping a role from a source repository", "name", r.Name)
			continue
		}
		if _, _, err := splitRole(r.Name); err != nil {
			return nil, err
		}
		sel.roles = append(sel.roles, r)
	}
	return sel, nil
}

// collState is what a sync knows about one upstream collection.
type collState struct {
	ns, name string
	info     CollectionInfo
	versions []string // upstream, as listed
	notFound error
	old      *collectionRecord
	selected map[string]*pick
}

// pick is one selected version.
type pick struct {
	cv    *CollectionVersion
	chain []string
}

// syncRun carries one Sync.
type syncRun struct {
	m      *Mirror
	c      *Client
	old    *index
	mu     sync.Mutex
	states map[string]*collState
	stats  SyncStats
}

// Sync fetches what the selection names, verifies every artifact against the upstream's
// sha256 (and its content, as ansible-galaxy does, unless SkipArtifactCheck), and
// publishes a new snapshot through store.Update, unless the result is what is already
// published (SyncStats.Changed false). An artifact is checked unless the published tree
// vouches for it under the same trust settings, so changing AllowMissingChecksum,
// SkipArtifactCheck or the upstream checks everything again. A failed sync publishes
// nothing.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	if m.Store == nil {
		return SyncStats{}, fmt.Errorf("%w: Mirror.Store is nil", ErrConfig)
	}
	if m.Name == "" || store.ValidatePath(m.Ref()) != nil || strings.Contains(m.Name, "/") {
		return SyncStats{}, fmt.Errorf("%w: bad mirror name %q", ErrConfig, m.Name)
	}
	if m.URL != "" && m.Upstream != "" && m.URL != m.Upstream {
		return SyncStats{}, fmt.Errorf("%w: url %q and its deprecated name upstream %q disagree", ErrConfig, m.URL, m.Upstream)
	}
	log := m.logger()
	if m.Upstream != "" {
		log.Warn("galaxy: the setting upstream is deprecated; call it url", "mirror", m.Name)
	}
	sel, run, err := m.newRun()
	if err != nil {
		return SyncStats{}, err
	}
	log.Info("galaxy: sync", "mirror", m.Name, "upstream", m.url(), "collections", len(sel.collections), "roles", len(sel.roles))

	// The upstream's sha256 sums are as good as the upstream.
	trust := store.TrustOf(m).WithRoot("upstream", m.url())
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), trust, func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			log.Info("galaxy: checking everything again", "mirror", m.Name, "changed", prev.TrustChanged)
		}
		if prev.Snapshot != nil {
			var err error
			if run.old, err = loadIndex(ctx, m.Store, prev.Snapshot); err != nil {
				return nil, err
			}
		}
		if err := run.collections(ctx, sel.collections); err != nil {
			return nil, err
		}
		if err := m.Preflight.Check(ctx, run.items(sel)); err != nil {
			return nil, err
		}
		if err := run.downloadArtifacts(ctx); err != nil {
			return nil, err
		}
		roles, err := run.roles(ctx, sel.roles)
		if err != nil {
			return nil, err
		}
		return run.snapshot(ctx, roles)
	})
	if err != nil {
		return run.done(err)
	}
	run.stats.Generation, run.stats.Changed = gen, changed
	if changed {
		log.Info("galaxy: published", "mirror", m.Name, "snapshot", gen.Snapshot, "versions", run.stats.Versions, "downloaded", run.stats.Downloaded)
	} else {
		log.Info("galaxy: nothing changed", "mirror", m.Name)
	}
	return run.done(nil)
}

// newRun reads the selection and makes the run of a sync.
func (m *Mirror) newRun() (*selection, *syncRun, error) {
	sel, err := m.selection()
	if err != nil {
		return nil, nil, err
	}
	fc := m.Fetch
	if fc == nil {
		fc = &fetch.Client{Store: m.Store, Logger: m.Logger}
	}
	run := &syncRun{m: m, states: map[string]*collState{},
		c:   &Client{URL: m.url(), Token: m.Token, TokenType: m.TokenType, AuthURL: m.AuthURL, Fetch: fc, MaxPages: m.MaxPages},
		old: &index{collections: map[string]*collectionRecord{}, roles: map[string]*roleRecord{}, roleByID: map[int64]*roleRecord{}}}
	run.stats.Ref = m.Ref()
	return sel, run, nil
}

// Plan resolves the collections as Sync does (version lists and details: metadata only)
// and lists each selected artifact with the sha256 and size Galaxy gives (unknown when
// it gives none). Roles (v1) carry no size before their archive is fetched: each is
// one item of unknown size.
func (m *Mirror) Plan(ctx context.Context) (store.Plan, error) {
	if m.Store == nil {
		return store.Plan{}, fmt.Errorf("%w: Mirror.Store is nil", ErrConfig)
	}
	sel, run, err := m.newRun()
	if err != nil {
		return store.Plan{}, err
	}
	if published, _, err := store.OpenPublished(ctx, m.Store, m.Ref()); err == nil {
		if run.old, err = loadIndex(ctx, m.Store, published); err != nil {
			return store.Plan{}, err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, err
	}
	if err := run.collections(ctx, sel.collections); err != nil {
		return store.Plan{}, err
	}
	return run.items(sel), nil
}

// items lists the selected artifacts and roles as Plan does.
func (r *syncRun) items(sel *selection) store.Plan {
	var p store.Plan
	for _, st := range r.sortedStates() {
		for _, pk := range st.selected {
			it := store.PlannedItem{Name: pk.cv.ID(), Size: store.UnknownSize}
			if d, err := store.DigestFromHex(pk.cv.SHA256); err == nil {
				it.Digest = d
			}
			if pk.cv.Size > 0 {
				it.Size = pk.cv.Size
			}
			p.Items = append(p.Items, it)
		}
	}
	for _, role := range sel.roles {
		p.Items = append(p.Items, store.PlannedItem{Name: "role " + role.Name, Size: store.UnknownSize})
	}
	return p
}

func (r *syncRun) done(err error) (SyncStats, error) {
	r.stats.Requests = r.c.Requests()
	if err != nil {
		return r.stats, fmt.Errorf("galaxy: sync %s: %w", r.m.Name, err)
	}
	return r.stats, nil
}

// vouched reports whether the published tree, read under the same trust settings, holds
// the artifact with this content: it was checked when that tree was made.
func (r *syncRun) vouched(cv *CollectionVersion, d store.Digest) bool {
	if r.old.snap == nil {
		return false
	}
	f, ok := r.old.snap.Lookup(artifactsDir + cv.Filename)
	return ok && f.Digest == d
}

// state returns the loaded state of a collection (loadStates must have run for it).
func (r *syncRun) state(full string) *collState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[full]
}

// loadStates reads the upstream's collection info and version list for every name not yet
// loaded, in parallel. A collection the upstream lacks is recorded, not an error.
func (r *syncRun) loadStates(ctx context.Context, names [][2]string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.m.concurrency())
	for _, n := range names {
		full := n[0] + "." + n[1]
		r.mu.Lock()
		_, have := r.states[full]
		if !have {
			r.states[full] = &collState{ns: n[0], name: n[1], selected: map[string]*pick{}, old: r.old.collections[full]}
		}
		st := r.states[full]
		r.mu.Unlock()
		if have {
			continue
		}
		g.Go(func() error { return r.loadState(gctx, st) })
	}
	return g.Wait()
}

func (r *syncRun) loadState(ctx context.Context, st *collState) error {
	info, err := r.c.Collection(ctx, st.ns, st.name)
	if errors.Is(err, ErrNotFound) {
		st.notFound = err
		return nil
	}
	if err != nil {
		return err
	}
	st.info = info
	if old := st.old; old != nil && info.UpdatedAt != "" && old.UpstreamUpdatedAt == info.UpdatedAt && len(old.UpstreamVersions) > 0 {
		st.versions = old.UpstreamVersions
		return nil
	}
	vs, err := r.c.Versions(ctx, st.ns, st.name)
	if errors.Is(err, ErrNotFound) {
		st.notFound = err
		return nil
	}
	if err != nil {
		return err
	}
	st.versions = vs
	return nil
}

// matching returns the upstream versions of st that satisfy rng, newest first.
func (st *collState) matching(rng Range, pre bool) []string {
	var out []string
	for _, s := range st.versions {
		v, err := ParseVersion(s)
		if err != nil {
			continue
		}
		if rng.Match(v, pre) {
			out = append(out, s)
		}
	}
	SortVersions(out)
	return out
}

// collections selects and closes over dependencies (metadata only: downloadArtifacts
// fetches the artifacts).
func (r *syncRun) collections(ctx context.Context, wishes []collWish) error {
	names := make([][2]string, 0, len(wishes))
	for _, w := range wishes {
		names = append(names, [2]string{w.ns, w.name})
	}
	if err := r.loadStates(ctx, names); err != nil {
		return err
	}
	var pending []*pickRef
	add := func(st *collState, v string, chain []string) {
		if _, ok := st.selected[v]; ok {
			return
		}
		p := &pick{chain: chain}
		st.selected[v] = p
		pending = append(pending, &pickRef{st: st, version: v, p: p})
	}
	for _, w := range wishes {
		st := r.state(w.ns + "." + w.name)
		if st.notFound != nil {
			return fmt.Errorf("collection %s.%s: %w", w.ns, w.name, st.notFound)
		}
		vs := st.matching(w.rng, w.spec.Pre)
		if len(vs) == 0 {
			return fmt.Errorf("%w: collection %s.%s:%s (upstream has %d versions)", ErrNoMatch, w.ns, w.name, w.rng, len(st.versions))
		}
		if w.spec.Latest > 0 && len(vs) > w.spec.Latest {
			vs = vs[:w.spec.Latest]
		}
		for _, v := range vs {
			add(st, v, []string{st.ns + "." + st.name + ":" + v})
		}
		if r.m.KeepOld && st.old != nil {
			for _, cv := range st.old.Versions {
				add(st, cv.Version, []string{cv.ID()})
			}
		}
	}
	var missing []error
	for len(pending) > 0 {
		if err := r.details(ctx, pending); err != nil {
			return err
		}
		if r.m.NoDependencies {
			break
		}
		level := pending
		pending = nil
		var need [][2]string
		for _, pr := range level {
			for dep := range pr.p.cv.Dependencies {
				ns, name, _ := splitName(dep)
				need = append(need, [2]string{ns, name})
			}
		}
		sort.Slice(need, func(i, j int) bool { return need[i][0]+need[i][1] < need[j][0]+need[j][1] })
		if err := r.loadStates(ctx, need); err != nil {
			return err
		}
		for _, pr := range level {
			deps := make([]string, 0, len(pr.p.cv.Dependencies))
			for dep := range pr.p.cv.Dependencies {
				deps = append(deps, dep)
			}
			sort.Strings(deps)
			for _, dep := range deps {
				rs := pr.p.cv.Dependencies[dep]
				rng, _ := ParseRange(rs) // validated when decoded
				st := r.state(dep)
				miss := &MissingDependencyError{Chain: pr.p.chain, Dependency: dep, Range: rng.String()}
				if st.notFound != nil {
					miss.Err = ErrNotFound
					missing = append(missing, miss)
					continue
				}
				vs := st.matching(rng, false)
				if len(vs) == 0 {
					miss.Err = ErrNoMatch
					missing = append(missing, miss)
					continue
				}
				chain := append(append([]string(nil), pr.p.chain...), dep+":"+vs[0])
				add(st, vs[0], chain)
			}
		}
	}
	if len(missing) > 0 {
		return errors.Join(missing...)
	}
	return nil
}

type pickRef struct {
	st      *collState
	version string
	p       *pick
}

// details fills in the version details: from the previous snapshot when it has the
// version, else from the upstream.
func (r *syncRun) details(ctx context.Context, picks []*pickRef) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.m.concurrency())
	for _, pr := range picks {
		if pr.st.old != nil {
			if cv := pr.st.old.version(pr.version); cv != nil {
				pr.p.cv = cv
				continue
			}
		}
		g.Go(func() error {
			cv, err := r.c.VersionDetail(gctx, pr.st.ns, pr.st.name, pr.version)
			if err != nil {
				return err
			}
			pr.p.cv = cv
			return nil
		})
	}
	return g.Wait()
}

// downloadArtifacts fetches every selected artifact that the store lacks, verified by
// its sha256 (and size when given).
func (r *syncRun) downloadArtifacts(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.m.concurrency())
	for _, st := range r.sortedStates() {
		for _, p := range st.selected {
			cv := p.cv
			if cv.SHA256 == "" && !r.m.AllowMissingChecksum {
				return fmt.Errorf("%w: %s (set allow_missing_checksum to accept it)", ErrNoChecksum, cv.ID())
			}
			g.Go(func() error {
				var e store.Expect
				if cv.SHA256 != "" {
					e = e.With(store.SHA256, cv.SHA256)
					e.Size = cv.Size
				} else {
					r.m.logger().Warn("galaxy: artifact without sha256 accepted", "collection", cv.ID())
				}
				res, err := r.c.Download(gctx, fetch.Request{URL: cv.DownloadURL, Expect: e})
				if err != nil {
					return fmt.Errorf("artifact %s: %w", cv.ID(), err)
				}
				// A blob already stored is not vouched for by being stored: a failed
				// sync leaves what it downloaded behind.
				if !r.m.SkipArtifactCheck && !r.vouched(cv, res.Blob.Digest) {
					if err := checkStoredArtifact(gctx, r.m.Store, res.Blob.Digest, cv); err != nil {
						return err
					}
				}
				r.count(res)
				if cv.SHA256 == "" {
					cv.SHA256, cv.SHA256Computed = res.Blob.Digest.Hex(), true
				}
				cv.Size = res.Blob.Size
				return nil
			})
		}
	}
	return g.Wait()
}

func (r *syncRun) count(res fetch.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.FinalURL == "" {
		r.stats.Reused++
	} else {
		r.stats.Downloaded++
		r.stats.DownloadedBytes += res.Blob.Size
	}
}

func (r *syncRun) sortedStates() []*collState {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*collState, 0, len(r.states))
	for _, st := range r.states {
		if len(st.selected) > 0 {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ns+"."+out[i].name < out[j].ns+"."+out[j].name })
	return out
}

// roles looks up, selects and downloads roles.
func (r *syncRun) roles(ctx context.Context, specs []RoleSpec) ([]*roleRecord, error) {
	out := make([]*roleRecord, len(specs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.m.concurrency())
	for i, spec := range specs {
		g.Go(func() error {
			rec, err := r.role(gctx, spec)
			out[i] = rec
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Merge duplicates (the same role named twice) and give every role a stable id.
	merged := map[string]*roleRecord{}
	var keys []string
	for _, rec := range out {
		k := rec.Owner + "." + rec.Name
		if have, ok := merged[k]; ok {
			for _, v := range rec.Versions {
				if !hasRoleVersion(have, v.Name) {
					have.Versions = append(have.Versions, v)
				}
			}
			continue
		}
		merged[k] = rec
		keys = append(keys, k)
	}
	sort.Strings(keys)
	used := map[int64]bool{}
	res := make([]*roleRecord, 0, len(keys))
	for _, k := range keys {
		rec := merged[k]
		id := int64(crc32.ChecksumIEEE([]byte(k))%(1<<30)) + 1
		for used[id] {
			id++
		}
		used[id] = true
		rec.ID = id
		sort.SliceStable(rec.Versions, func(i, j int) bool { return compareLoose(rec.Versions[i].Name, rec.Versions[j].Name) > 0 })
		res = append(res, rec)
	}
	return res, nil
}

func hasRoleVersion(rec *roleRecord, v string) bool {
	for _, rv := range rec.Versions {
		if rv.Name == v {
			return true
		}
	}
	return false
}

func (r *syncRun) role(ctx context.Context, spec RoleSpec) (*roleRecord, error) {
	owner, name, _ := splitRole(spec.Name)
	role, err := r.c.LookupRole(ctx, owner, name)
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", spec.Name, err)
	}
	versions, err := r.c.RoleVersions(ctx, role)
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", spec.Name, err)
	}
	byName := map[string]RoleVersion{}
	var names []string
	for _, v := range versions {
		if _, ok := byName[v.Name]; !ok {
			names = append(names, v.Name)
		}
		byName[v.Name] = v
	}
	sort.SliceStable(names, func(i, j int) bool { return compareLoose(names[i], names[j]) > 0 })
	var want []string
	if len(spec.Versions) > 0 {
		for _, v := range spec.Versions {
			if _, ok := byName[v]; !ok {
				return nil, fmt.Errorf("%w: role %s version %s (upstream has %v)", ErrNoMatch, spec.Name, v, names)
			}
			want = append(want, v)
		}
	} else {
		n := spec.Latest
		if n <= 0 {
			n = 1
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%w: role %s has no versions upstream", ErrNoMatch, spec.Name)
		}
		want = names[:min(n, len(names))]
	}
	rec := &roleRecord{Role: *role}
	rec.Owner, rec.Name = owner, name
	if rec.GithubUser == "" {
		rec.GithubUser = owner
	}
	if rec.GithubRepo == "" {
		rec.GithubRepo = name
	}
	old := r.old.roles[owner+"."+name]
	for _, v := range want {
		src := roleArchiveURL(role, byName[v])
		if src == "" {
			return nil, fmt.Errorf("%w: role %s version %s has no download URL", ErrMalformed, spec.Name, v)
		}
		if old != nil {
			if ov := findRoleVersion(old, v); ov != nil && ov.Source == src {
				if ok, _ := r.m.Store.Has(ctx, ov.File.Digest); ok {
					r.mu.Lock()
					r.stats.Reused++
					r.mu.Unlock()
					rec.Versions = append(rec.Versions, ov)
					continue
				}
			}
		}
		u, err := url.Parse(src)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("%w: role %s version %s: bad URL %q", ErrMalformed, spec.Name, v, src)
		}
		res, err := r.c.Download(ctx, fetch.Request{URL: src})
		if err != nil {
			return nil, fmt.Errorf("role %s version %s: %w", spec.Name, v, err)
		}
		if err := checkGzip(ctx, r.m.Store, res.Blob.Digest); err != nil {
			return nil, fmt.Errorf("role %s version %s: %w", spec.Name, v, err)
		}
		r.count(res)
		rec.Versions = append(rec.Versions, &roleVersionRecord{Name: v, Source: src,
			Path: roleArchivePath(owner, name, v),
			File: store.File{Digest: res.Blob.Digest, Size: res.Blob.Size, MediaType: artifactType}})
	}
	return rec, nil
}

func findRoleVersion(rec *roleRecord, v string) *roleVersionRecord {
	for _, rv := range rec.Versions {
		if rv.Name == v {
			return rv
		}
	}
	return nil
}

// checkGzip refuses a role archive that is not gzip data (an HTML error page, say).
func checkGzip(ctx context.Context, s store.Store, d store.Digest) error {
	b, err := s.Open(ctx, d)
	if err != nil {
		return err
	}
	defer b.Close()
	var magic [2]byte
	if _, err := b.Read(magic[:]); err != nil || magic != [2]byte{0x1f, 0x8b} {
		return fmt.Errorf("%w: role archive is not gzip data", ErrMalformed)
	}
	return nil
}

// snapshot builds the new tree from the selected versions and roles.
func (r *syncRun) snapshot(ctx context.Context, roles []*roleRecord) (*store.Snapshot, error) {
	snap := store.NewSnapshot()
	snap.Annotations[annUpstream] = r.m.url()
	stamp := r.m.stamp()
	for _, st := range r.sortedStates() {
		rec := &collectionRecord{Namespace: st.ns, Name: st.name, CreatedAt: stamp,
			UpstreamUpdatedAt: st.info.UpdatedAt, UpstreamVersions: st.versions}
		for _, p := range st.selected {
			rec.Versions = append(rec.Versions, p.cv)
		}
		rec.sortVersions()
		rec.UpdatedAt = stamp
		if old := st.old; old != nil {
			rec.CreatedAt = old.CreatedAt
			if old.versionKey() == rec.versionKey() {
				rec.UpdatedAt = old.UpdatedAt
			} else if old.UpdatedAt >= stamp {
				// Clocks can step back: updated_at must still change.
				rec.UpdatedAt = old.UpdatedAt + "1"
			}
		}
		for _, cv := range rec.Versions {
			d, err := store.DigestFromHex(cv.SHA256)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cv.ID(), err)
			}
			if err := snap.Add(artifactsDir+cv.Filename, store.File{Digest: d, Size: cv.Size, MediaType: artifactType}); err != nil {
				return nil, err
			}
		}
		if err := addJSON(ctx, r.m.Store, snap, collectionRecordPath(st.ns, st.name), rec); err != nil {
			return nil, err
		}
		r.stats.Collections++
		r.stats.Versions += len(rec.Versions)
	}
	for _, rec := range roles {
		for _, v := range rec.Versions {
			if err := snap.Add(v.Path, v.File); err != nil {
				return nil, err
			}
		}
		if err := addJSON(ctx, r.m.Store, snap, roleRecordPath(rec.Owner, rec.Name), rec); err != nil {
			return nil, err
		}
		r.stats.Roles++
		r.stats.RoleVersions += len(rec.Versions)
	}
	return snap, nil
}

func addJSON(ctx context.Context, s store.Store, snap *store.Snapshot, path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	info, err := store.PutBytes(ctx, s, store.Expect{}, buf.Bytes())
	if err != nil {
		return err
	}
	return snap.Add(path, store.File{Digest: info.Digest, Size: info.Size, MediaType: recordType})
}
