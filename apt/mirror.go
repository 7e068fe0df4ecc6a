package apt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
	"golang.org/x/sync/errgroup"
)

// DefaultConcurrency is how many files a sync downloads at once.
const DefaultConcurrency = 8

// maxReleaseSize caps an InRelease or Release download.
const maxReleaseSize = 64 << 20

// maxClockSkew is how far in the future an upstream Date may lie before ErrFutureDate.
const maxClockSkew = 5 * time.Minute

// Mirror mirrors suites of one or more upstream Debian or Ubuntu archives into a store
// and publishes them as one tree, filtered and re-signed with the operator's key, under
// the ref "apt/<Name>". The yaml-tagged fields are the operator's configuration; the
// others are set by the program.
//
// URL, Suites and Keyring name one upstream; Upstreams adds more (Debian's security
// archive has its own URL). Every suite of every upstream is published under
// dists/<suite>, with one pool, and the dependency closure is computed over all of them
// together, so that a dependency resolves to the newest version any upstream offers.
type Mirror struct {
	// Name names the mirror; the published ref is "apt/<Name>".
	Name string `yaml:"name"`
	// URL is the archive root (the directory holding dists/ and pool/), e.g.
	// http://deb.debian.org/debian. Empty when every upstream is in Upstreams.
	URL string `yaml:"url"`
	// Suites are the dists to mirror from URL (bookworm, bookworm-updates, ...).
	Suites []string `yaml:"suites"`
	// Upstreams are further archives to mirror into the same tree.
	Upstreams []Upstream `yaml:"upstreams"`
	// Components to mirror (the default of every upstream). Empty: every component the
	// Release lists.
	Components []string `yaml:"components"`
	// Architectures to mirror, e.g. [amd64, all]. "all" adds binary-all indices where the
	// Release has them. Empty: every architecture the Release lists.
	Architectures []string `yaml:"architectures"`
	// Sources mirrors Sources indices and the source packages of the selected binaries.
	Sources bool `yaml:"sources"`
	// Installer mirrors debian-installer (udeb) Packages indices and every udeb in them.
	Installer bool `yaml:"installer"`
	// Translations are the languages of Translation-* files to carry (e.g. [en]),
	// filtered to the selected packages.
	Translations []string `yaml:"translations"`
	// Contents carries Contents-<arch> indices verbatim.
	Contents bool `yaml:"contents"`
	// DEP11 carries dep11 (AppStream) metadata verbatim.
	DEP11 bool `yaml:"dep11"`
	// Filter selects packages (by default every package).
	Filter Filter `yaml:"filter"`
	// Keyring is the path of the upstream's public keyring (armored or binary); the
	// default of every entry of Upstreams.
	Keyring string `yaml:"keyring"`
	// IndexFormats are the variants of an index to read, in order of preference, among
	// those its Release lists: "plain", "zst", "gz", "xz", "bz2". Each is tried by hash,
	// then at its path; one the upstream does not serve (404, 403, 410) gives way to the
	// next. Empty: plain, zst, gz, xz, bz2 (cheapest to decode first; on a slow link put
	// xz first: it is the smallest).
	IndexFormats []string `yaml:"index_formats"`
	// ValidFor sets Valid-Until of the republished Release to Date + ValidFor. It can only
	// shorten the upstream's Valid-Until: the republished one is never later. Zero: the
	// upstream's (none when it has none).
	ValidFor time.Duration `yaml:"valid_for"`
	// KeyName is the base name of the exported public key files (see Publisher.KeyName).
	KeyName string `yaml:"key_name"`
	// Concurrency caps parallel downloads. Zero: DefaultConcurrency.
	Concurrency int `yaml:"concurrency"`
	// AllowExpired accepts an upstream Release past its Valid-Until (logged). The
	// republished Release keeps that Valid-Until, so clients refuse it unless told not to
	// check it.
	AllowExpired bool `yaml:"allow_expired"`
	// AllowFutureDate accepts an upstream Release dated in the future (logged).
	AllowFutureDate bool `yaml:"allow_future_date"`
	// AllowRollback accepts an upstream Release older than the one already published
	// (logged).
	AllowRollback bool `yaml:"allow_rollback"`
	// InsecureSkipSignature trusts the upstream Release without checking its signature
	// (logged at every sync). Checksums are still verified.
	InsecureSkipSignature bool `yaml:"insecure_skip_signature"`

	// Store holds blobs and the published ref. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads; nil: a default client on Store.
	Fetch *fetch.Client `yaml:"-"`
	// Keys, when set, is used instead of loading Keyring.
	Keys *pgp.Keyring `yaml:"-"`
	// Signer re-signs the published suites. Nil: an unsigned Release (logged).
	Signer *pgp.Signer `yaml:"-"`
	// Logger receives progress and warnings. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
	// Now is the clock for Date and Valid-Until checks. Nil: time.Now.
	Now func() time.Time `yaml:"-"`
}

// Upstream is one archive of a Mirror: its root URL, the suites to take from it and the
// keyring that signs them.
type Upstream struct {
	// URL is the archive root, e.g. http://security.debian.org/debian-security.
	URL string `yaml:"url"`
	// Suites are the dists to mirror from it. A suite name may appear in one upstream
	// only: each becomes dists/<suite> of the published tree.
	Suites []string `yaml:"suites"`
	// Components to mirror. Empty: Mirror.Components.
	Components []string `yaml:"components"`
	// Keyring is the path of its public keyring. Empty: Mirror.Keyring (or Mirror.Keys).
	Keyring string `yaml:"keyring"`
	// Keys, when set, is used instead of loading Keyring.
	Keys *pgp.Keyring `yaml:"-"`
}

// SyncStats reports what a sync did.
type SyncStats struct {
	// NotModified: every suite's InRelease answered 304 and nothing was published.
	NotModified bool
	Suites      int
	Indices     int   // upstream indices read
	Packages    int   // binary packages published (counted once per index)
	Sources     int   // source packages published
	Files       int   // pool files in the published tree
	Downloaded  int   // files fetched over the network in this sync
	Bytes       int64 // bytes of the files fetched
	Reused      int   // pool files already in the store
	// Unsatisfied lists dependencies of selected packages that nothing satisfies.
	Unsatisfied []Unsatisfied
	// Generation is what was published (zero when NotModified).
	Generation store.Generation
}

// Ref returns the ref this mirror publishes.
func (m *Mirror) Ref() string { return "apt/" + m.Name }

// Endpoints lists the upstream URLs a sync contacts (each archive root: dists/ and pool/
// below it).
func (m *Mirror) Endpoints() []string {
	var out []string
	for _, u := range m.upstreams() {
		if e := strings.TrimSuffix(u.URL, "/") + "/"; !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// upstreams returns every upstream, with the Mirror's defaults filled in: URL (when set)
// first, then Upstreams in order.
func (m *Mirror) upstreams() []Upstream {
	var ups []Upstream
	if m.URL != "" || len(m.Suites) > 0 {
		ups = append(ups, Upstream{URL: m.URL, Suites: m.Suites, Components: m.Components, Keyring: m.Keyring, Keys: m.Keys})
	}
	for _, u := range m.Upstreams {
		if len(u.Components) == 0 {
			u.Components = m.Components
		}
		if u.Keyring == "" && u.Keys == nil {
			u.Keyring, u.Keys = m.Keyring, m.Keys
		}
		ups = append(ups, u)
	}
	return ups
}

func (m *Mirror) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

func (m *Mirror) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Validate checks the configuration (not the program-set fields): a safe name, at least
// one upstream with an http(s) URL and suites, safe suite, component and architecture
// names, each suite in one upstream only, and known IndexFormats.
func (m *Mirror) Validate() error {
	if err := store.ValidatePath("apt/" + m.Name); err != nil || strings.Contains(m.Name, "/") {
		return fmt.Errorf("apt: mirror name %q: %w", m.Name, store.ErrUnsafePath)
	}
	ups := m.upstreams()
	if len(ups) == 0 {
		return fmt.Errorf("apt: mirror %s: no upstream (set url and suites, or upstreams)", m.Name)
	}
	seen := map[string]bool{}
	for _, up := range ups {
		u, err := url.Parse(up.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("apt: mirror %s: URL %q is not http(s)", m.Name, up.URL)
		}
		if len(up.Suites) == 0 {
			return fmt.Errorf("apt: mirror %s: %s: no suites", m.Name, up.URL)
		}
		for _, s := range append(append(slices.Clone(up.Suites), up.Components...), m.Architectures...) {
			if err := store.ValidatePath(s); err != nil {
				return fmt.Errorf("apt: mirror %s: %w", m.Name, err)
			}
		}
		for _, s := range up.Suites {
			if seen[s] {
				return fmt.Errorf("apt: mirror %s: suite %s is configured twice (each becomes dists/%s)", m.Name, s, s)
			}
			seen[s] = true
		}
	}
	if _, err := indexFormats(m.IndexFormats); err != nil {
		return fmt.Errorf("apt: mirror %s: %w", m.Name, err)
	}
	return nil
}

// upstream is an Upstream ready for a sync: its keyring loaded (nil with
// InsecureSkipSignature).
type upstream struct {
	Upstream
	keys *pgp.Keyring
}

func (u *upstream) base() string { return strings.TrimSuffix(u.URL, "/") + "/" }

// loadUpstreams resolves the upstreams and loads their keyrings.
func (m *Mirror) loadUpstreams() ([]*upstream, error) {
	loaded := map[string]*pgp.Keyring{}
	var out []*upstream
	for _, u := range m.upstreams() {
		up := &upstream{Upstream: u}
		out = append(out, up)
		if m.InsecureSkipSignature {
			continue
		}
		up.keys = u.Keys
		if up.keys != nil {
			continue
		}
		if u.Keyring == "" {
			return nil, fmt.Errorf("apt: mirror %s: %s: no keyring configured (or set InsecureSkipSignature)", m.Name, u.URL)
		}
		if k := loaded[u.Keyring]; k != nil {
			up.keys = k
			continue
		}
		k, err := pgp.LoadKeyring(u.Keyring)
		if err != nil {
			return nil, fmt.Errorf("apt: mirror %s: %w", m.Name, err)
		}
		loaded[u.Keyring], up.keys = k, k
	}
	return out, nil
}

// configHash summarises the configuration that shapes the published tree and what it was
// trusted with: when it changes, a sync rebuilds (and verifies again) even if upstream
// did not change.
func (m *Mirror) configHash(ups []*upstream) string {
	type trustedUpstream struct {
		URL                   string
		Suites, Components    []string
		Keyring               string
		KeyFingerprints       []string
		InsecureSkipSignature bool `json:",omitempty"`
	}
	var tu []trustedUpstream
	for _, u := range ups {
		t := trustedUpstream{URL: u.URL, Suites: u.Suites, Components: u.Components, Keyring: u.Keyring,
			InsecureSkipSignature: m.InsecureSkipSignature}
		if u.keys != nil {
			t.KeyFingerprints = u.keys.Fingerprints()
		}
		tu = append(tu, t)
	}
	b, _ := json.Marshal(struct {
		Upstreams                                    []trustedUpstream
		Architectures, Langs                         []string
		Sources, Installer, Contents, DEP11          bool
		Filter                                       Filter
		ValidFor                                     time.Duration
		KeyName, Signer                              string
		AllowExpired, AllowFutureDate, AllowRollback bool
	}{tu, m.Architectures, m.Translations, m.Sources, m.Installer,
		m.Contents, m.DEP11, m.Filter, m.ValidFor, m.KeyName, signerFP(m.Signer),
		m.AllowExpired, m.AllowFutureDate, m.AllowRollback})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func signerFP(s *pgp.Signer) string {
	if s == nil {
		return ""
	}
	return s.Fingerprint()
}

// Per-suite annotation keys.
func annSuite(suite, what string) string { return "apt.suite." + suite + "." + what }

const annConfig = "apt.config"

// Sync fetches and verifies the configured suites and publishes the result. Nothing is
// published unless every file of the new tree is in the store and verified; any error
// leaves the published mirror as it was. An unchanged upstream (every InRelease answers
// 304) costs one conditional request per suite and publishes nothing.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	var stats SyncStats
	ss, err := m.start(ctx)
	if err != nil {
		return stats, err
	}
	log, fc, prevGen, prev, ups, ref := ss.log, ss.fc, ss.prevGen, ss.prev, ss.ups, m.Ref()
	cfg := m.configHash(ups)
	sameCfg := prev != nil && prev.Annotations[annConfig] == cfg

	// 1. Release files, conditionally when the configuration did not change.
	var cond *store.Snapshot
	if sameCfg {
		cond = prev
	}
	suites, allSame, err := m.fetchSuites(ctx, fc, ups, cond)
	if err != nil {
		return stats, err
	}
	if allSame {
		if !m.resignDue(prev, suites) {
			log.Info("apt: upstream unchanged", "suites", len(suites))
			stats.NotModified, stats.Generation = true, prevGen
			return stats, nil
		}
		log.Info("apt: upstream unchanged but the published Valid-Until is near: re-signing")
		if suites, _, err = m.fetchSuites(ctx, fc, ups, nil); err != nil {
			return stats, err
		}
	}

	// 2-4. Indices, selection, pool files to fetch.
	pl, err := m.plan(ctx, fc, suites, prev, log)
	defer pl.close()
	if err != nil {
		return stats, err
	}
	stats.Suites, stats.Indices, stats.Unsatisfied = len(suites), len(pl.jobs), pl.unsatisfied

	// 5. Pool files.
	snap := store.NewSnapshot()
	var mu sync.Mutex
	var downloaded, reused atomic.Int64
	var bytesFetched atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency())
	for _, f := range pl.pool {
		g.Go(func() error {
			res, err := fc.Fetch(gctx, fetch.Request{URL: f.url, Expect: f.expect})
			if err != nil {
				return fmt.Errorf("apt: %s: %w", f.path, err)
			}
			if res.FinalURL == "" {
				reused.Add(1)
			} else {
				downloaded.Add(1)
				bytesFetched.Add(res.Blob.Size)
			}
			mu.Lock()
			defer mu.Unlock()
			return snap.Add(f.path, store.File{Digest: res.Blob.Digest, Size: res.Blob.Size, MediaType: mediaTypeOf(f.path)})
		})
	}
	if err := g.Wait(); err != nil {
		return stats, err
	}
	stats.Files, stats.Downloaded, stats.Reused, stats.Bytes = len(pl.pool), int(downloaded.Load()), int(reused.Load()), bytesFetched.Load()

	// 6. Regenerate indices and publish.
	var trees []SuiteTree
	for _, st := range suites {
		tree, n, ns := m.suiteTree(st, pl)
		stats.Packages += n
		stats.Sources += ns
		trees = append(trees, tree)
		if vu := tree.Release.ValidUntil; !vu.IsZero() && vu.Before(m.now()) {
			log.Warn("apt: the republished Release is already expired (upstream's Valid-Until)", "suite", st.name, "valid_until", vu)
		}
	}
	pb := &Publisher{Store: m.Store, Signer: m.Signer, ValidFor: m.ValidFor, KeyName: m.KeyName, Now: m.Now, Logger: m.Logger}
	if err := pb.Build(ctx, snap, prev, trees); err != nil {
		return stats, err
	}
	snap.Annotations[annConfig] = cfg
	for _, st := range suites {
		snap.Annotations[annSuite(st.name, "etag")] = st.validators.ETag
		snap.Annotations[annSuite(st.name, "last-modified")] = st.validators.LastModified
		if !st.rel.Date.IsZero() {
			snap.Annotations[annSuite(st.name, "date")] = st.rel.Date.Format(time.RFC3339)
		}
		if !st.rel.ValidUntil.IsZero() {
			snap.Annotations[annSuite(st.name, "valid-until")] = st.rel.ValidUntil.Format(time.RFC3339)
		}
	}
	d, err := store.WriteSnapshot(ctx, m.Store, snap)
	if err != nil {
		return stats, err
	}
	gen, err := store.Publish(ctx, m.Store, ref, prevGen.Record, d)
	if err != nil {
		return stats, err
	}
	stats.Generation = gen
	log.Info("apt: published", "ref", ref, "packages", stats.Packages, "files", stats.Files, "downloaded", stats.Downloaded)
	return stats, nil
}

// session is what Sync and Plan start from.
type session struct {
	log     *slog.Logger
	fc      *fetch.Client
	prevGen store.Generation
	prev    *store.Snapshot // the published snapshot, nil when none
	ups     []*upstream
}

// start checks the configuration, reads what is published and loads the keyrings.
func (m *Mirror) start(ctx context.Context) (*session, error) {
	if m.Store == nil {
		return nil, errors.New("apt: Mirror.Store is nil")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	ss := &session{log: m.logger().With("mirror", m.Name), fc: m.Fetch}
	if ss.fc == nil {
		ss.fc = &fetch.Client{Store: m.Store, Logger: m.Logger}
	}
	var err error
	ss.prevGen, err = store.Current(ctx, m.Store, m.Ref())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if ss.prev, err = store.ReadSnapshot(ctx, m.Store, ss.prevGen.Snapshot); err != nil {
			return nil, err
		}
	}
	if ss.ups, err = m.loadUpstreams(); err != nil {
		return nil, err
	}
	if m.InsecureSkipSignature {
		ss.log.Warn("apt: upstream signatures are NOT checked (InsecureSkipSignature)")
	}
	return ss, nil
}

// resignDue reports whether an unchanged upstream still calls for a new publication:
// when the published Valid-Until is within ValidFor/2 and re-signing now would push it
// later (it cannot pass the upstream's).
func (m *Mirror) resignDue(prev *store.Snapshot, suites []*suiteState) bool {
	pub, _ := time.Parse(time.RFC3339, prev.Annotations[annValidUntil])
	now := m.now()
	if pub.IsZero() || m.ValidFor <= 0 || pub.Sub(now) > m.ValidFor/2 {
		return false
	}
	var next time.Time
	for _, st := range suites {
		up, _ := time.Parse(time.RFC3339, prev.Annotations[annSuite(st.name, "valid-until")])
		next = earliest(next, capValidUntil(now, m.ValidFor, up))
	}
	return next.After(pub)
}

func (m *Mirror) concurrency() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return DefaultConcurrency
}

func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

func mediaTypeOf(p string) string {
	switch {
	case strings.HasSuffix(p, ".deb"), strings.HasSuffix(p, ".udeb"), strings.HasSuffix(p, ".ddeb"):
		return "application/vnd.debian.binary-package"
	case strings.HasSuffix(p, ".dsc"):
		return "text/plain; charset=utf-8"
	}
	return ""
}
