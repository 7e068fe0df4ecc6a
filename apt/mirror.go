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
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
	"golang.org/x/sync/errgroup"
)

// DefaultConcurrency is how many files a sync downloads at once.
const DefaultConcurrency = 8

// MaxReleaseSize caps an InRelease, Release or Release.gpg-signed Release as a sync reads
// it, upstream or published: a signed document is verified whole, in memory, so it is
// capped rather than streamed. 64 MiB is over 200 times the largest known (Ubuntu's
// InRelease, 270 kB; Debian's is 151 kB). Over it: an error wrapping store.ErrTooLarge
// that names the URL and the cap. Packages and Sources indices are read as streams, one
// stanza at a time, capped by DefaultMaxIndexSize.
const MaxReleaseSize = 64 << 20

// maxClockSkew is how far in the future an upstream Date may lie before ErrFutureDate.
const maxClockSkew = 5 * time.Minute

// Mirror mirrors suites of one or more upstream Debian or Ubuntu archives into a store
// and publishes them as one tree under the ref "apt/<Name>": filtered and re-signed with
// the operator's key, or (Pristine) with the upstream's metadata byte for byte. The
// yaml-tagged fields are the operator's configuration; the others are set by the program.
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
	// filtered to the selected packages. Pristine: verbatim, and every language the
	// Release lists when empty.
	Translations []string `yaml:"translations"`
	// Contents carries Contents-<arch> indices verbatim.
	Contents bool `yaml:"contents"`
	// DEP11 carries dep11 (AppStream) metadata verbatim. Pristine: always (with cnf).
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
	// xz first: it is the smallest). Pristine: every listed variant served is held; this
	// orders the one read.
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
	// Pristine publishes the upstream's metadata byte for byte instead of re-signing it:
	// InRelease, Release and Release.gpg as the upstream signed them, and every index they
	// list for the chosen components and architectures that the upstream serves (each
	// variant of Packages, and of Sources with Sources, at its path and by hash;
	// Translation-* of every language unless Translations names some; dep11; cnf;
	// i18n/Index; Contents-* with Contents; debian-installer with Installer), each
	// verified against the signed Release. Clients keep trusting the upstream's key (the
	// stock keyring, no signed-by). Filter still decides which pool files are held: the
	// indices list every package, and apt gets 404 for one that is not held (Inventory
	// lists what is). No Signer is needed, ValidFor cannot apply (the upstream's
	// Valid-Until stays), and two upstreams that carry different files at one pool path
	// are refused (ErrPoolConflict): a pristine index cannot be rewritten to move one.
	Pristine bool `yaml:"pristine"`

	// Store holds blobs and the published ref. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads; nil: a default client on Store.
	Fetch *fetch.Client `yaml:"-"`
	// Keys, when set, is used instead of loading Keyring.
	Keys *pgp.Keyring `yaml:"-"`
	// Signer re-signs the published suites. Nil: an unsigned Release (logged). Not used
	// with Pristine.
	Signer *pgp.Signer `yaml:"-"`
	// Logger receives progress and warnings. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
	// Now is the clock for Date and Valid-Until checks. Nil: time.Now.
	Now func() time.Time `yaml:"-"`
	// Preflight, when set, is handed the pool files to publish (as Plan.Items lists
	// them) once the indices are read, before any is downloaded.
	Preflight store.Preflight `yaml:"-"`
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

// SyncStats reports what a sync did. The embedded SyncResult says what was published
// (Changed is false when nothing was: every InRelease answered 304, or the tree came out
// the same) and counts every file fetched (Release files, indices, pool files).
type SyncStats struct {
	store.SyncResult
	Suites   int
	Indices  int // upstream indices read
	Packages int // binary packages published (counted once per index; pristine: held)
	Sources  int // source packages published
	Files    int // pool files in the published tree
	// Unsatisfied lists dependencies of selected packages that nothing satisfies.
	Unsatisfied []Unsatisfied
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
// names, each suite in one upstream only, known IndexFormats, and no ValidFor with
// Pristine.
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
	if m.Pristine && m.ValidFor != 0 {
		return fmt.Errorf("apt: mirror %s: valid_for cannot apply to a pristine mirror: it serves the upstream's Valid-Until", m.Name)
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

// configHash summarises the configuration that shapes the published tree: when it
// changes, a sync rebuilds even if upstream did not change. What the tree was trusted
// with (keyrings, InsecureSkipSignature, the Allow switches) is the store's Trust (see
// trust), not part of it.
func (m *Mirror) configHash(ups []*upstream) string {
	type shape struct {
		URL                string
		Suites, Components []string
	}
	var us []shape
	for _, u := range ups {
		us = append(us, shape{URL: u.URL, Suites: u.Suites, Components: u.Components})
	}
	signer, validFor, keyName := signerFP(m.Signer), m.ValidFor, m.KeyName
	if m.Pristine { // none of them shapes a pristine tree
		signer, validFor, keyName = "", 0, ""
	}
	b, _ := json.Marshal(struct {
		Upstreams                           []shape
		Architectures, Langs                []string
		Sources, Installer, Contents, DEP11 bool
		Pristine                            bool `json:",omitempty"`
		Filter                              Filter
		ValidFor                            time.Duration
		KeyName, Signer                     string
	}{us, m.Architectures, m.Translations, m.Sources, m.Installer,
		m.Contents, m.DEP11, m.Pristine, m.Filter, validFor, keyName, signer})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// trust is what a sync of m accepts as verified (store.Update records it): the Allow and
// Insecure switches, and one root per upstream, its keyring's digest ("none" with
// InsecureSkipSignature).
func (m *Mirror) trust(ups []*upstream) (store.Trust, error) {
	t := store.TrustOf(m)
	for _, u := range ups {
		id := "none"
		if u.keys != nil {
			d, err := u.keys.Digest()
			if err != nil {
				return store.Trust{}, fmt.Errorf("apt: mirror %s: %s keyring: %w", m.Name, u.URL, err)
			}
			id = d.String()
		}
		t = t.WithRoot("keyring "+u.URL+" "+strings.Join(u.Suites, " "), id)
	}
	return t, nil
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

// Sync fetches and verifies the configured suites and publishes the result through
// store.Update. Nothing is published unless every file of the new tree is in the store
// and verified; any error leaves the published mirror as it was. An unchanged upstream
// (every InRelease answers 304) costs one conditional request per suite and publishes
// nothing (SyncStats.Changed false); so does a sync that arrives at the published tree.
// A change of trust (a keyring, InsecureSkipSignature, an Allow switch) reuses nothing:
// every Release is read and verified again. The caller should hold the store's writer
// lock if GC may run concurrently.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	stats := SyncStats{SyncResult: store.SyncResult{Ref: m.Ref()}}
	ss, err := m.start(ctx)
	if err != nil {
		return stats, err
	}
	trust, err := m.trust(ss.ups)
	if err != nil {
		return stats, err
	}
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), trust, func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			ss.log.Info("apt: trust settings changed: verifying everything again", "changed", prev.TrustChanged)
		}
		return m.build(ctx, ss, prev, &stats)
	})
	ss.counts.Fill(&stats.SyncResult)
	if err != nil {
		return stats, err
	}
	stats.Generation, stats.Changed = gen, changed
	if changed {
		ss.log.Info("apt: published", "ref", m.Ref(), "pristine", m.Pristine, "packages", stats.Packages, "files", stats.Files, "downloaded", stats.Downloaded)
	} else {
		ss.log.Info("apt: nothing changed", "ref", m.Ref(), "suites", stats.Suites)
	}
	return stats, nil
}

// build makes the next tree from what is published (Update's build func): nil when
// every suite answered 304 and nothing is due.
func (m *Mirror) build(ctx context.Context, ss *session, prev store.Prev, stats *SyncStats) (*store.Snapshot, error) {
	log, cfg := ss.log, m.configHash(ss.ups)
	// 1. Release files, conditionally when the tree may be reused as it is.
	var cond *store.Snapshot
	if prev.Snapshot != nil && prev.Snapshot.Annotations[annConfig] == cfg {
		cond = prev.Snapshot
	}
	suites, allSame, err := m.fetchSuites(ctx, ss, cond)
	if err != nil {
		return nil, err
	}
	stats.Suites = len(suites)
	if allSame {
		if !m.resignDue(cond, suites) {
			log.Info("apt: upstream unchanged", "suites", len(suites))
			return nil, nil
		}
		log.Info("apt: upstream unchanged but the published Valid-Until is near: re-signing")
		if suites, _, err = m.fetchSuites(ctx, ss, nil); err != nil {
			return nil, err
		}
	}

	// 2-4. Indices, selection, pool files to fetch.
	pl, err := m.plan(ctx, ss, suites, prev.Published)
	defer pl.close()
	if err != nil {
		return nil, err
	}
	stats.Indices, stats.Unsatisfied = len(pl.jobs), pl.unsatisfied
	if err := m.Preflight.Check(ctx, (&Plan{Files: pl.files()}).Items()); err != nil {
		return nil, err
	}

	// 5. Pool files.
	snap := store.NewSnapshot()
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency())
	for _, f := range pl.pool {
		g.Go(func() error {
			res, err := ss.fetch(gctx, fetch.Request{URL: f.url, Expect: f.expect})
			if err != nil {
				return fmt.Errorf("apt: %s: %w", f.path, err)
			}
			mu.Lock()
			defer mu.Unlock()
			return snap.Add(f.path, store.File{Digest: res.Blob.Digest, Size: res.Blob.Size, MediaType: mediaTypeOf(f.path)})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	stats.Files = len(pl.pool)

	// 6. The suites: verbatim, or regenerated and re-signed.
	if m.Pristine {
		stats.Packages, stats.Sources = pl.held()
		if err := m.buildPristine(snap, prev.Snapshot, suites); err != nil {
			return nil, err
		}
	} else if err := m.buildResigned(ctx, snap, prev.Snapshot, suites, pl, stats); err != nil {
		return nil, err
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
	if len(pl.moved) > 0 {
		b, err := json.Marshal(pl.moved)
		if err != nil {
			return nil, err
		}
		snap.Annotations[annMoved] = string(b)
	}
	return snap, nil
}

// buildResigned regenerates the suites' indices from the selection and signs them with
// m.Signer.
func (m *Mirror) buildResigned(ctx context.Context, snap, prev *store.Snapshot, suites []*suiteState, pl *syncPlan, stats *SyncStats) error {
	var trees []SuiteTree
	for _, st := range suites {
		tree, n, ns := m.suiteTree(st, pl)
		stats.Packages += n
		stats.Sources += ns
		trees = append(trees, tree)
		if vu := tree.Release.ValidUntil; !vu.IsZero() && vu.Before(m.now()) {
			m.logger().Warn("apt: the republished Release is already expired (upstream's Valid-Until)", "suite", st.name, "valid_until", vu)
		}
	}
	pb := &Publisher{Store: m.Store, Signer: m.Signer, ValidFor: m.ValidFor, KeyName: m.KeyName, Now: m.Now, Logger: m.Logger}
	recs, err := pb.build(ctx, snap, prev, trees)
	if err != nil {
		return err
	}
	for i, st := range suites {
		recs[i].fromUpstream(st)
	}
	return putRecords(snap, recs)
}

// session is what Sync and Plan start from: the configuration checked, the keyrings
// loaded, and the counts of what was fetched.
type session struct {
	log *slog.Logger
	fc  *fetch.Client
	ups []*upstream

	counts fetch.Counter // for the SyncResult
}

// fetch is fc.Fetch, counted.
func (ss *session) fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	res, err := ss.fc.Fetch(ctx, req)
	if err == nil {
		ss.counts.Count(res)
	}
	return res, err
}

// fetchBytes is fc.FetchBytes, counted.
func (ss *session) fetchBytes(ctx context.Context, req fetch.Request) ([]byte, fetch.Result, error) {
	b, res, err := ss.fc.FetchBytes(ctx, req)
	if err == nil {
		ss.counts.Count(res)
	}
	return b, res, err
}

// start checks the configuration and loads the keyrings.
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
	if ss.ups, err = m.loadUpstreams(); err != nil {
		return nil, err
	}
	if m.InsecureSkipSignature {
		ss.log.Warn("apt: upstream signatures are NOT checked (InsecureSkipSignature)")
	}
	if m.Pristine && m.Signer != nil {
		ss.log.Debug("apt: pristine mirror: the signer is not used")
	}
	return ss, ctx.Err()
}

// resignDue reports whether an unchanged upstream still calls for a new publication:
// when the published Valid-Until is within ValidFor/2 and re-signing now would push it
// later (it cannot pass the upstream's). A pristine tree is never re-signed.
func (m *Mirror) resignDue(prev *store.Snapshot, suites []*suiteState) bool {
	if m.Pristine {
		return false
	}
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
	case strings.HasSuffix(p, ".dsc"), path.Base(p) == "InRelease", path.Base(p) == "Release":
		return "text/plain; charset=utf-8"
	case path.Base(p) == "Release.gpg":
		return "application/pgp-signature"
	}
	return ""
}
