package apt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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

// Mirror mirrors suites of one upstream Debian or Ubuntu archive into a store and
// publishes them, filtered and re-signed with the operator's key, under the ref
// "apt/<Name>". The yaml-tagged fields are the operator's configuration; the others are
// set by the program.
type Mirror struct {
	// Name names the mirror; the published ref is "apt/<Name>".
	Name string `yaml:"name"`
	// URL is the archive root (the directory holding dists/ and pool/), e.g.
	// http://deb.debian.org/debian.
	URL string `yaml:"url"`
	// Suites are the dists to mirror (bookworm, bookworm-updates, jammy-security, ...).
	Suites []string `yaml:"suites"`
	// Components to mirror. Empty: every component the Release lists.
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
	// Keyring is the path of the upstream's public keyring (armored or binary).
	Keyring string `yaml:"keyring"`
	// ValidFor sets Valid-Until of the republished Release to Date + ValidFor. Zero: none.
	ValidFor time.Duration `yaml:"valid_for"`
	// KeyName is the base name of the exported public key files (see Publisher.KeyName).
	KeyName string `yaml:"key_name"`
	// Concurrency caps parallel downloads. Zero: DefaultConcurrency.
	Concurrency int `yaml:"concurrency"`
	// AllowExpired accepts an upstream Release past its Valid-Until (logged).
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

// Endpoints lists the upstream URLs a sync contacts (the archive root: dists/ and pool/
// below it).
func (m *Mirror) Endpoints() []string {
	return []string{strings.TrimSuffix(m.URL, "/") + "/"}
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

func (m *Mirror) check() error {
	if m.Store == nil {
		return errors.New("apt: Mirror.Store is nil")
	}
	if err := store.ValidatePath("apt/" + m.Name); err != nil || strings.Contains(m.Name, "/") {
		return fmt.Errorf("apt: mirror name %q: %w", m.Name, store.ErrUnsafePath)
	}
	u, err := url.Parse(m.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("apt: mirror %s: URL %q is not http(s)", m.Name, m.URL)
	}
	if len(m.Suites) == 0 {
		return fmt.Errorf("apt: mirror %s: no suites", m.Name)
	}
	for _, s := range append(append(append([]string(nil), m.Suites...), m.Components...), m.Architectures...) {
		if err := store.ValidatePath(s); err != nil {
			return fmt.Errorf("apt: mirror %s: %w", m.Name, err)
		}
	}
	return nil
}

// configHash summarises the configuration that shapes the published tree: when it
// changes, a sync rebuilds even if upstream did not change.
func (m *Mirror) configHash() string {
	b, _ := json.Marshal(struct {
		URL                                         string
		Suites, Components, Architectures, Langs    []string
		Sources, Installer, Contents, DEP11         bool
		Filter                                      Filter
		ValidFor                                    time.Duration
		KeyName, Signer                             string
		AllowExpired, AllowFutureDate, AllowRollbck bool
	}{m.URL, m.Suites, m.Components, m.Architectures, m.Translations, m.Sources, m.Installer,
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

// suiteState is one suite during a sync.
type suiteState struct {
	name       string
	rel        *Release
	validators fetch.Validators
	jobs       []*indexJob
	extra      []IndexFile // carried verbatim
	verbatim   []VerbatimFile
}

type indexKind int

const (
	kindPackages indexKind = iota
	kindInstaller
	kindSources
	kindTranslation
)

// indexJob is one upstream index: fetched, verified, parsed, and regenerated.
type indexJob struct {
	suite  *suiteState
	kind   indexKind
	path   string    // base path relative to the suite directory, no compression suffix
	file   IndexFile // the variant fetched
	plain  IndexFile // the uncompressed entry, when the Release lists it
	blob   store.BlobInfo
	pkgs   []*Package
	srcs   []*SourcePackage
	suffix string
}

// Sync fetches and verifies the configured suites and publishes the result. Nothing is
// published unless every file of the new tree is in the store and verified; any error
// leaves the published mirror as it was. An unchanged upstream (every InRelease answers
// 304) costs one conditional request per suite and publishes nothing.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	var stats SyncStats
	if err := m.check(); err != nil {
		return stats, err
	}
	log := m.logger().With("mirror", m.Name)
	fc := m.Fetch
	if fc == nil {
		fc = &fetch.Client{Store: m.Store, Logger: m.Logger}
	}
	ref := m.Ref()
	prevGen, err := store.Current(ctx, m.Store, ref)
	var prev *store.Snapshot
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return stats, err
	default:
		if prev, err = store.ReadSnapshot(ctx, m.Store, prevGen.Snapshot); err != nil {
			return stats, err
		}
	}
	cfg := m.configHash()
	sameCfg := prev != nil && prev.Annotations[annConfig] == cfg

	var keys *pgp.Keyring
	if !m.InsecureSkipSignature {
		keys = m.Keys
		if keys == nil {
			if m.Keyring == "" {
				return stats, fmt.Errorf("apt: mirror %s: no keyring configured (or set InsecureSkipSignature)", m.Name)
			}
			if keys, err = pgp.LoadKeyring(m.Keyring); err != nil {
				return stats, fmt.Errorf("apt: mirror %s: %w", m.Name, err)
			}
		}
	} else {
		log.Warn("apt: upstream signatures are NOT checked (InsecureSkipSignature)")
	}

	// 1. Release files, conditionally when the configuration did not change.
	suites := make([]*suiteState, len(m.Suites))
	allSame := sameCfg
	for i, name := range m.Suites {
		var v fetch.Validators
		if sameCfg {
			v = fetch.Validators{ETag: prev.Annotations[annSuite(name, "etag")], LastModified: prev.Annotations[annSuite(name, "last-modified")]}
		}
		st, notModified, err := m.fetchRelease(ctx, fc, keys, name, v)
		if err != nil {
			return stats, err
		}
		if !notModified {
			allSame = false
		}
		suites[i] = st
	}
	if allSame {
		vu, _ := time.Parse(time.RFC3339, prev.Annotations[annValidUntil])
		if vu.IsZero() || vu.Sub(m.now()) > m.ValidFor/2 {
			log.Info("apt: upstream unchanged", "suites", len(suites))
			stats.NotModified, stats.Generation = true, prevGen
			return stats, nil
		}
		log.Info("apt: upstream unchanged but the published Valid-Until is near: re-signing")
	}
	for i, st := range suites {
		if st.rel == nil { // 304 for this suite while another changed: read it again
			if suites[i], _, err = m.fetchRelease(ctx, fc, keys, st.name, fetch.Validators{}); err != nil {
				return stats, err
			}
		}
	}
	for _, st := range suites {
		if err := m.checkRelease(st, prev, log); err != nil {
			return stats, err
		}
	}
	stats.Suites = len(suites)

	// 2. Indices: fetch, verify, parse.
	var jobs []*indexJob
	for _, st := range suites {
		js, err := m.planIndices(st)
		if err != nil {
			return stats, err
		}
		st.jobs = js
		jobs = append(jobs, js...)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency())
	for _, j := range jobs {
		g.Go(func() error { return m.fetchIndex(gctx, fc, j) })
	}
	var vmu sync.Mutex
	for _, st := range suites {
		for _, f := range st.extra {
			g.Go(func() error {
				info, err := m.fetchListed(gctx, fc, st, f)
				if err != nil {
					return err
				}
				vmu.Lock()
				defer vmu.Unlock()
				st.verbatim = append(st.verbatim, VerbatimFile{Path: f.Path, SHA512: f.SHA512,
					File: store.File{Digest: info.Digest, Size: info.Size}})
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return stats, err
	}
	stats.Indices = len(jobs)
	uni := NewUniverse()
	for _, j := range jobs {
		if err := m.parseIndex(ctx, j, uni); err != nil {
			return stats, err
		}
	}

	// 3. Selection.
	selected, unsatisfied, err := m.selectPackages(uni, jobs, log)
	if err != nil {
		return stats, err
	}
	stats.Unsatisfied = unsatisfied
	srcSel := map[string]bool{}
	for p := range selected {
		srcSel[p.Source+"\x00"+p.SourceVersion] = true
	}

	// 4. Pool files.
	snap := store.NewSnapshot()
	pool := map[string]store.Expect{}
	addPool := func(p string, e store.Expect) error {
		if old, ok := pool[p]; ok {
			if old.Sums[store.SHA256] != e.Sums[store.SHA256] || old.Size != e.Size {
				return fmt.Errorf("%w: %s is listed with two different contents", ErrMalformed, p)
			}
			return nil
		}
		pool[p] = e
		return nil
	}
	for _, j := range jobs {
		for _, p := range j.pkgs {
			if j.kind == kindPackages && !selected[p] {
				continue
			}
			e, err := p.Expect()
			if err != nil {
				return stats, err
			}
			if err := addPool(p.Filename, e); err != nil {
				return stats, err
			}
		}
		for _, s := range j.srcs {
			if !m.Filter.All() && !srcSel[s.Name+"\x00"+s.Version] {
				continue
			}
			for _, f := range s.Files {
				e, err := f.Expect()
				if err != nil {
					return stats, err
				}
				if err := addPool(s.Directory+"/"+f.Path, e); err != nil {
					return stats, err
				}
			}
		}
	}
	base := strings.TrimSuffix(m.URL, "/") + "/"
	var mu sync.Mutex
	var downloaded, reused atomic.Int64
	var bytesFetched atomic.Int64
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency())
	for _, p := range sortedKeys(pool) {
		e := pool[p]
		g.Go(func() error {
			res, err := fc.Fetch(gctx, fetch.Request{URL: base + escapePath(p), Expect: e})
			if err != nil {
				return fmt.Errorf("apt: %s: %w", p, err)
			}
			if res.FinalURL == "" {
				reused.Add(1)
			} else {
				downloaded.Add(1)
				bytesFetched.Add(res.Blob.Size)
			}
			mu.Lock()
			defer mu.Unlock()
			return snap.Add(p, store.File{Digest: res.Blob.Digest, Size: res.Blob.Size, MediaType: mediaTypeOf(p)})
		})
	}
	if err := g.Wait(); err != nil {
		return stats, err
	}
	stats.Files, stats.Downloaded, stats.Reused, stats.Bytes = len(pool), int(downloaded.Load()), int(reused.Load()), bytesFetched.Load()

	// 5. Regenerate indices and publish.
	var trees []SuiteTree
	for _, st := range suites {
		tree, n, ns := m.suiteTree(st, selected, srcSel)
		stats.Packages += n
		stats.Sources += ns
		trees = append(trees, tree)
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

func isStatus(err error, code int) bool {
	var he *fetch.HTTPError
	return errors.As(err, &he) && he.StatusCode == code
}

// fetchRelease gets and verifies a suite's InRelease (or Release + Release.gpg). With
// validators, a 304 returns a suiteState without rel and notModified set.
func (m *Mirror) fetchRelease(ctx context.Context, fc *fetch.Client, keys *pgp.Keyring, suite string, v fetch.Validators) (*suiteState, bool, error) {
	dist := strings.TrimSuffix(m.URL, "/") + "/dists/" + escapePath(suite) + "/"
	st := &suiteState{name: suite}
	body, res, err := fc.FetchBytes(ctx, fetch.Request{URL: dist + "InRelease", MaxSize: maxReleaseSize, Validators: v})
	var text []byte
	switch {
	case err == nil && res.NotModified:
		st.validators = res.Validators
		return st, true, nil
	case err == nil:
		st.validators = res.Validators
		if keys == nil {
			c, err := pgp.ClearsignedContent(body) // unverified (InsecureSkipSignature), but strictly framed
			if err != nil {
				return nil, false, fmt.Errorf("apt: %s InRelease: %w", suite, err)
			}
			text = c
		} else {
			c, ver, err := keys.VerifyClearsigned(body)
			if err != nil {
				return nil, false, fmt.Errorf("apt: %s InRelease: %w", suite, err)
			}
			m.logger().Debug("apt: InRelease verified", "suite", suite, "key", ver.Fingerprint)
			text = c
		}
	case isStatus(err, http.StatusNotFound):
		rb, _, err := fc.FetchBytes(ctx, fetch.Request{URL: dist + "Release", MaxSize: maxReleaseSize})
		if err != nil {
			return nil, false, fmt.Errorf("apt: %s Release: %w", suite, err)
		}
		if keys != nil {
			sig, _, err := fc.FetchBytes(ctx, fetch.Request{URL: dist + "Release.gpg", MaxSize: pgp.MaxSignatureSize})
			if err != nil {
				return nil, false, fmt.Errorf("apt: %s Release.gpg: %w", suite, err)
			}
			if _, err := keys.VerifyDetached(bytes.NewReader(rb), sig); err != nil {
				return nil, false, fmt.Errorf("apt: %s Release.gpg: %w", suite, err)
			}
		}
		text = rb
	default:
		return nil, false, fmt.Errorf("apt: %s InRelease: %w", suite, err)
	}
	rel, err := ParseRelease(bytes.NewReader(text))
	if err != nil {
		return nil, false, fmt.Errorf("apt: suite %s: %w", suite, err)
	}
	st.rel = rel
	return st, false, nil
}

// checkRelease applies the freshness and rollback rules.
func (m *Mirror) checkRelease(st *suiteState, prev *store.Snapshot, log *slog.Logger) error {
	rel, now := st.rel, m.now()
	if !rel.ValidUntil.IsZero() && now.After(rel.ValidUntil) {
		if !m.AllowExpired {
			return fmt.Errorf("apt: suite %s: %w: Valid-Until %s", st.name, ErrExpired, FormatDate(rel.ValidUntil))
		}
		log.Warn("apt: accepting an expired Release (AllowExpired)", "suite", st.name, "valid_until", rel.ValidUntil)
	}
	if rel.Date.After(now.Add(maxClockSkew)) {
		if !m.AllowFutureDate {
			return fmt.Errorf("apt: suite %s: %w: Date %s", st.name, ErrFutureDate, FormatDate(rel.Date))
		}
		log.Warn("apt: accepting a Release dated in the future (AllowFutureDate)", "suite", st.name, "date", rel.Date)
	}
	if rel.Date.IsZero() {
		log.Warn("apt: Release has no Date: rollback cannot be detected", "suite", st.name)
	}
	if prev != nil && !rel.Date.IsZero() {
		if was, err := time.Parse(time.RFC3339, prev.Annotations[annSuite(st.name, "date")]); err == nil && rel.Date.Before(was) {
			if !m.AllowRollback {
				return fmt.Errorf("apt: suite %s: %w: Date %s, already published %s", st.name, ErrRollback, FormatDate(rel.Date), FormatDate(was))
			}
			log.Warn("apt: accepting an older Release (AllowRollback)", "suite", st.name, "date", rel.Date, "published", was)
		}
	}
	return nil
}

// pick returns the preferred listed variant of an index and its plain entry.
func pick(rel *Release, base string) (IndexFile, IndexFile, bool) {
	plain := rel.Files[base]
	for _, c := range compressions {
		if f, ok := rel.Files[base+c]; ok {
			return f, plain, true
		}
	}
	return IndexFile{}, IndexFile{}, false
}

func (m *Mirror) selectedList(conf, listed []string) []string {
	if len(conf) == 0 {
		return listed
	}
	return conf
}

func (st *suiteState) addExtra(f IndexFile) {
	for _, e := range st.extra {
		if e.Path == f.Path {
			return
		}
	}
	st.extra = append(st.extra, f)
}

// planIndices lists the indices of a suite that the configuration asks for.
func (m *Mirror) planIndices(st *suiteState) ([]*indexJob, error) {
	rel := st.rel
	comps := m.selectedList(m.Components, rel.Components)
	archs := m.selectedList(m.Architectures, rel.Architectures)
	var jobs []*indexJob
	add := func(kind indexKind, base string, required bool) error {
		f, plain, ok := pick(rel, base)
		if !ok {
			if required {
				return fmt.Errorf("apt: suite %s: %w: %s", st.name, ErrMissingIndex, base)
			}
			return nil
		}
		jobs = append(jobs, &indexJob{suite: st, kind: kind, path: base, file: f, plain: plain})
		return nil
	}
	for _, c := range comps {
		for _, a := range archs {
			required := a != "all" || slices.Contains(rel.Architectures, "all")
			if err := add(kindPackages, c+"/binary-"+a+"/Packages", required); err != nil {
				return nil, err
			}
			if m.Installer && a != "all" {
				if err := add(kindInstaller, c+"/debian-installer/binary-"+a+"/Packages", false); err != nil {
					return nil, err
				}
			}
			if m.Contents {
				for _, p := range []string{c + "/Contents-" + a, "Contents-" + a, c + "/Contents-udeb-" + a} {
					if f, _, ok := pick(rel, p); ok {
						st.addExtra(f)
					}
				}
			}
			if m.DEP11 {
				for _, p := range []string{c + "/dep11/Components-" + a + ".yml"} {
					if f, _, ok := pick(rel, p); ok {
						st.addExtra(f)
					}
				}
			}
		}
		if m.Sources {
			if err := add(kindSources, c+"/source/Sources", true); err != nil {
				return nil, err
			}
		}
		for _, lang := range m.Translations {
			if err := add(kindTranslation, c+"/i18n/Translation-"+lang, false); err != nil {
				return nil, err
			}
		}
		if m.DEP11 {
			for p, f := range rel.Files {
				if strings.HasPrefix(p, c+"/dep11/icons-") {
					st.addExtra(f)
				}
			}
		}
	}
	return jobs, nil
}

// fetchIndex downloads one index (by hash when the Release offers it) into the store,
// verified against the Release; verbatim files of the suite come along in parseIndex.
func (m *Mirror) fetchIndex(ctx context.Context, fc *fetch.Client, j *indexJob) error {
	info, err := m.fetchListed(ctx, fc, j.suite, j.file)
	if err != nil {
		return err
	}
	j.blob = info
	return nil
}

func (m *Mirror) fetchListed(ctx context.Context, fc *fetch.Client, st *suiteState, f IndexFile) (store.BlobInfo, error) {
	e, err := f.Expect()
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("apt: suite %s: %w", st.name, err)
	}
	dist := strings.TrimSuffix(m.URL, "/") + "/dists/" + escapePath(st.name) + "/"
	url := dist + escapePath(f.Path)
	if st.rel.AcquireByHash {
		dir := ""
		if i := strings.LastIndexByte(f.Path, '/'); i >= 0 {
			dir = f.Path[:i+1]
		}
		alg, sum := "SHA256", f.SHA256
		if sum == "" {
			alg, sum = "SHA512", f.SHA512
		}
		res, err := fc.Fetch(ctx, fetch.Request{URL: dist + escapePath(dir+"by-hash/"+alg+"/"+sum), Expect: e})
		if err == nil {
			return res.Blob, nil
		}
		if !isStatus(err, http.StatusNotFound) {
			return store.BlobInfo{}, indexErr(st, f, err)
		}
		m.logger().Debug("apt: by-hash file missing, using the plain path", "suite", st.name, "path", f.Path)
	}
	res, err := fc.Fetch(ctx, fetch.Request{URL: url, Expect: e})
	if err != nil {
		return store.BlobInfo{}, indexErr(st, f, err)
	}
	return res.Blob, nil
}

func indexErr(st *suiteState, f IndexFile, err error) error {
	if errors.Is(err, store.ErrDigestMismatch) {
		return fmt.Errorf("apt: suite %s %s: %w: %w", st.name, f.Path, ErrIndexChecksum, err)
	}
	return fmt.Errorf("apt: suite %s %s: %w", st.name, f.Path, err)
}

// openIndex opens the decompressed content of a fetched index; when the Release lists
// the plain file too, the returned check func verifies the decompressed bytes against it.
func (m *Mirror) openIndex(ctx context.Context, j *indexJob) (io.Reader, func() error, func(), error) {
	b, err := m.Store.Open(ctx, j.blob.Digest)
	if err != nil {
		return nil, nil, nil, err
	}
	dr, err := Decompress(j.file.Path, b, 0)
	if err != nil {
		b.Close()
		return nil, nil, nil, fmt.Errorf("apt: suite %s: %w", j.suite.name, err)
	}
	closeAll := func() { dr.Close(); b.Close() }
	check := func() error { return nil }
	var r io.Reader = dr
	if j.plain.Path != "" && j.plain.Path != j.file.Path && j.plain.Strong() {
		e, err := j.plain.Expect()
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		v, err := store.NewVerifier(e)
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		r = io.TeeReader(dr, v)
		check = func() error {
			if _, err := v.Check(); err != nil {
				return fmt.Errorf("apt: suite %s %s (decompressed): %w: %w", j.suite.name, j.plain.Path, ErrIndexChecksum, err)
			}
			return nil
		}
	}
	return r, check, closeAll, nil
}

// drain reads the rest of r, so that a verifier sees every byte.
func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func (m *Mirror) parseIndex(ctx context.Context, j *indexJob, uni *Universe) error {
	if j.kind == kindTranslation {
		return nil
	}
	r, check, closeAll, err := m.openIndex(ctx, j)
	if err != nil {
		return err
	}
	defer closeAll()
	switch j.kind {
	case kindPackages, kindInstaller:
		err = ReadPackages(ctx, r, func(p Package, _ Paragraph) error {
			if err := p.CheckDownloadable(); err != nil {
				return err
			}
			p = p.Clone()
			pp := &p
			j.pkgs = append(j.pkgs, pp)
			if j.kind == kindPackages {
				return uni.Add(pp)
			}
			return nil
		})
	case kindSources:
		err = ReadSources(ctx, r, func(s SourcePackage, _ Paragraph) error {
			s = s.detach()
			j.srcs = append(j.srcs, &s)
			return nil
		})
	}
	if err == nil {
		err = drain(r)
	}
	if err == nil {
		err = check()
	}
	if err != nil {
		return fmt.Errorf("apt: suite %s %s: %w", j.suite.name, j.file.Path, err)
	}
	return nil
}

// Clone copies the strings of p, so that a Package kept after parsing does not pin its
// whole stanza in memory.
func (p Package) Clone() Package {
	c := strings.Clone
	return Package{Name: c(p.Name), Version: c(p.Version), Architecture: c(p.Architecture),
		Source: c(p.Source), SourceVersion: c(p.SourceVersion), Section: c(p.Section),
		Priority: c(p.Priority), MultiArch: c(p.MultiArch), Filename: c(p.Filename), Size: p.Size,
		SHA256: c(p.SHA256), SHA512: c(p.SHA512), MD5: c(p.MD5), Depends: c(p.Depends),
		PreDepends: c(p.PreDepends), Recommends: c(p.Recommends), Provides: c(p.Provides)}
}

func (s SourcePackage) detach() SourcePackage {
	c := strings.Clone
	out := SourcePackage{Name: c(s.Name), Version: c(s.Version), Directory: c(s.Directory), Section: c(s.Section), Priority: c(s.Priority)}
	for _, f := range s.Files {
		f.Path = c(f.Path)
		out.Files = append(out.Files, f)
	}
	return out
}

// selectPackages applies the filter and the dependency closure over every binary index.
func (m *Mirror) selectPackages(uni *Universe, jobs []*indexJob, log *slog.Logger) (map[*Package]bool, []Unsatisfied, error) {
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
	// the same package listed by several indices (binary-all and binary-<arch>, or
	// several suites) is selected everywhere
	keys := map[string]bool{}
	for p := range sel {
		keys[p.Key()+"\x00"+p.Filename] = true
	}
	for _, p := range uni.Packages() {
		if keys[p.Key()+"\x00"+p.Filename] {
			sel[p] = true
		}
	}
	return sel, unsatisfied, nil
}

// suiteTree describes the suite to publish: regenerated indices holding the selected
// stanzas, and the Release metadata kept from upstream.
func (m *Mirror) suiteTree(st *suiteState, selected map[*Package]bool, srcSel map[string]bool) (SuiteTree, int, int) {
	rel := *st.rel
	rel.Para = Paragraph{Fields: append([]Field(nil), st.rel.Para.Fields...)}
	comps := m.selectedList(m.Components, rel.Components)
	archs := m.selectedList(m.Architectures, rel.Architectures)
	rel.Components = comps
	var relArchs []string
	for _, a := range archs {
		if a != "all" || slices.Contains(st.rel.Architectures, "all") {
			relArchs = append(relArchs, a)
		}
	}
	rel.Architectures = relArchs
	if !slices.Contains(archs, "all") {
		rel.Para.Delete("No-Support-for-Architecture-all")
	}
	tree := SuiteTree{Dir: st.name, Release: rel, Verbatim: st.verbatim}
	slices.SortFunc(tree.Verbatim, func(a, b VerbatimFile) int { return strings.Compare(a.Path, b.Path) })
	npkgs, nsrcs := 0, 0
	names := map[string]bool{}
	for p := range selected {
		names[p.Name] = true
	}
	for _, j := range st.jobs {
		j := j
		switch j.kind {
		case kindPackages, kindInstaller:
			keep := map[string]bool{}
			for _, p := range j.pkgs {
				if j.kind == kindInstaller || selected[p] {
					keep[p.Key()+"\x00"+p.Filename] = true
				}
			}
			npkgs += len(keep)
			tree.Indices = append(tree.Indices, GeneratedIndex{Path: j.path, Write: func(ctx context.Context, w io.Writer) error {
				return m.rewrite(ctx, j, w, func(p Paragraph) bool {
					pkg, err := ParsePackage(p)
					return err == nil && keep[pkg.Key()+"\x00"+pkg.Filename]
				})
			}})
		case kindSources:
			keep := map[string]bool{}
			for _, s := range j.srcs {
				if m.Filter.All() || srcSel[s.Name+"\x00"+s.Version] {
					keep[s.Name+"\x00"+s.Version] = true
				}
			}
			nsrcs += len(keep)
			tree.Indices = append(tree.Indices, GeneratedIndex{Path: j.path, Write: func(ctx context.Context, w io.Writer) error {
				return m.rewrite(ctx, j, w, func(p Paragraph) bool {
					return keep[strings.TrimSpace(p.Get("Package"))+"\x00"+strings.TrimSpace(p.Get("Version"))]
				})
			}})
		case kindTranslation:
			all := m.Filter.All()
			tree.Indices = append(tree.Indices, GeneratedIndex{Path: j.path, Write: func(ctx context.Context, w io.Writer) error {
				return m.rewrite(ctx, j, w, func(p Paragraph) bool {
					return all || names[strings.TrimSpace(p.Get("Package"))]
				})
			}})
		}
	}
	return tree, npkgs, nsrcs
}

// rewrite streams the stanzas of a fetched index that keep accepts, separated by blank
// lines, verifying the decompressed content again on the way.
func (m *Mirror) rewrite(ctx context.Context, j *indexJob, w io.Writer, keep func(Paragraph) bool) error {
	r, check, closeAll, err := m.openIndex(ctx, j)
	if err != nil {
		return err
	}
	defer closeAll()
	dr := NewReader(r)
	first := true
	for {
		p, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if !keep(p) {
			continue
		}
		if !first {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		first = false
		if _, err := io.WriteString(w, p.Raw); err != nil {
			return err
		}
	}
	if err := drain(r); err != nil {
		return err
	}
	return check()
}
