package rpm

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

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// DefaultConcurrency is how many files a sync downloads at once.
const DefaultConcurrency = 8

// Where a published tree holds its keys: the operator's (what repomd.xml.asc of a
// filtered mirror is signed with) and the upstream's (what signs the packages, and a
// pristine repomd.xml), each armored and binary.
const (
	MirrorKeyPath             = "keys/mirror.asc"
	MirrorKeyringPath         = "keys/mirror.gpg"
	UpstreamKeyPath           = "keys/upstream.asc"
	UpstreamKeyringPath       = "keys/upstream.gpg"
	mediaXML                  = "application/xml"
	mediaSignature            = "application/pgp-signature"
	mediaKeys                 = "application/pgp-keys"
	mediaRPM                  = "application/x-rpm"
	annState                  = "rpm.state"
	annRepos                  = "rpm.repos"
	annVendor                 = "rpm.vendor"
	stateFormat               = 1
	maxSignatureSize    int64 = pgp.MaxSignatureSize
)

// Mirror mirrors repositories of one upstream RPM tree (a Rocky, RHEL or CentOS mirror
// root holding BaseOS/x86_64/os, AppStream/x86_64/os, ...) into a store and publishes
// them as one tree under the ref "rpm/<Name>", each repository at its upstream path:
// pristine (the upstream's repodata byte for byte, signed with the vendor's key) or
// filtered (a dependency closure over all repositories, with regenerated metadata and
// repomd.xml.asc signed with the operator's key). Packages are always the upstream's
// files, byte for byte, so their header signatures stay valid. The yaml-tagged fields
// are the operator's configuration; the others are set by the program.
type Mirror struct {
	// Name names the mirror; the published ref is "rpm/<Name>".
	Name string `yaml:"name"`
	// URL is the upstream root the repositories are under, e.g.
	// http://dl.rockylinux.org/pub/rocky/9/.
	URL string `yaml:"url"`
	// Repos are the repository paths under URL, each holding repodata/repomd.xml
	// (BaseOS/x86_64/os). Empty: URL itself is the one repository.
	Repos []string `yaml:"repos"`
	// Keyring is the path of the vendor's public key (RPM-GPG-KEY-*, armored or
	// binary): what repomd.xml.asc must verify with.
	Keyring string `yaml:"keyring"`
	// Pristine publishes the upstream's repodata byte for byte (repomd.xml, its .asc and
	// every file it lists: primary, filelists, other, sqlite databases, comps,
	// updateinfo, modules, zchunk and unknown types), each verified against the signed
	// repomd.xml. Clients keep verifying with the vendor's key; no Signer is needed.
	// Filter still decides which packages are held: the metadata lists every package,
	// and dnf gets 404 for one that is not held (Inventory lists what is).
	Pristine bool `yaml:"pristine"`
	// Filter selects packages (by default every package).
	Filter Filter `yaml:"filter"`
	// Vendor is the namespace of the packages' PURLs in Inventory (rocky, redhat,
	// centos, fedora). Empty: none.
	Vendor string `yaml:"vendor"`
	// Concurrency caps parallel downloads. Zero: DefaultConcurrency.
	Concurrency int `yaml:"concurrency"`
	// AllowRollback accepts a repomd.xml whose revision is older than the published
	// one's (logged).
	AllowRollback bool `yaml:"allow_rollback"`
	// InsecureSkipSignature trusts repomd.xml without repomd.xml.asc (logged at every
	// sync). Checksums are still verified.
	InsecureSkipSignature bool `yaml:"insecure_skip_signature"`

	// Store holds blobs and the published ref. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads; nil: a default client on Store.
	Fetch *fetch.Client `yaml:"-"`
	// Keys, when set, is used instead of loading Keyring.
	Keys *pgp.Keyring `yaml:"-"`
	// Signer signs the regenerated repomd.xml of a filtered mirror. Nil: an unsigned
	// repomd.xml (logged; clients need repo_gpgcheck=0). Not used with Pristine.
	Signer *pgp.Signer `yaml:"-"`
	// Logger receives progress and warnings. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
	// Preflight, when set, is handed what Plan lists once the metadata is read and the
	// packages selected, before any package is downloaded.
	Preflight store.Preflight `yaml:"-"`
}

// Filter selects the packages a mirror holds.
type Filter struct {
	// Packages are package names or path.Match patterns (httpd, python3-*). Empty: every
	// package.
	Packages []string `yaml:"packages"`
	// Dependencies adds everything the selected packages need, over all repositories of
	// the mirror: Requires (and Requires(pre,post)), by package name, virtual provide or
	// file path; for a rich dependency every package any branch may need.
	Dependencies bool `yaml:"dependencies"`
	// Weak, with Dependencies, also follows Recommends and takes the packages that
	// Supplement a selected one, as dnf installs them by default (install_weak_deps).
	// Nil: true.
	Weak *bool `yaml:"weak"`
	// Strict fails the sync (ErrUnsatisfied) when a named package or a dependency has no
	// provider; otherwise it is logged and listed in SyncStats.Unsatisfied.
	Strict bool `yaml:"strict"`
}

// All reports whether the filter selects every package.
func (f Filter) All() bool { return len(f.Packages) == 0 }

func (f Filter) weak() bool { return f.Weak == nil || *f.Weak }

// SyncStats reports what a sync did. The embedded SyncResult says what was published
// (Changed is false when every repomd.xml answered 304, or the tree came out the same).
type SyncStats struct {
	store.SyncResult
	Repos    int
	Packages int // packages held
	Bytes    int64
	// Unsatisfied lists dependencies of selected packages that nothing provides.
	Unsatisfied []Unsatisfied
}

// Unsatisfied is a dependency nothing in the mirror's repositories provides.
type Unsatisfied struct {
	Package  string // name-version-release.arch
	Requires string
}

// Ref returns the ref this mirror publishes.
func (m *Mirror) Ref() string { return "rpm/" + m.Name }

// Endpoints lists the upstream URLs a sync contacts: each repository's root.
func (m *Mirror) Endpoints() []string {
	var out []string
	for _, r := range m.repos() {
		out = append(out, m.repoURL(r))
	}
	return out
}

func (m *Mirror) repos() []string {
	if len(m.Repos) == 0 {
		return []string{""}
	}
	out := make([]string, len(m.Repos))
	for i, r := range m.Repos {
		out[i] = strings.Trim(r, "/")
	}
	return out
}

func (m *Mirror) base() string { return strings.TrimSuffix(m.URL, "/") + "/" }

// repoURL is the URL of a repository's directory, with a trailing slash.
func (m *Mirror) repoURL(repo string) string {
	if repo == "" {
		return m.base()
	}
	return m.base() + escapePath(repo) + "/"
}

func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

func (m *Mirror) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

func (m *Mirror) concurrency() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return DefaultConcurrency
}

// Validate checks the configuration: a safe name, an http(s) URL, safe and distinct
// repository paths that do not nest or take the key directory, and filter patterns that
// parse.
func (m *Mirror) Validate() error {
	if m.Name == "" || strings.Contains(m.Name, "/") || store.ValidatePath(m.Ref()) != nil {
		return fmt.Errorf("%w: rpm: mirror name %q", store.ErrConfig, m.Name)
	}
	u, err := url.Parse(m.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: rpm: mirror %s: URL %q is not http(s)", store.ErrConfig, m.Name, m.URL)
	}
	repos := m.repos()
	for i, r := range repos {
		if r != "" {
			if err := store.ValidatePath(r); err != nil {
				return fmt.Errorf("%w: rpm: mirror %s: repo %q: %w", store.ErrConfig, m.Name, r, err)
			}
		}
		if r == "keys" || strings.HasPrefix(r, "keys/") {
			return fmt.Errorf("%w: rpm: mirror %s: repo %q takes the key directory", store.ErrConfig, m.Name, r)
		}
		for _, o := range repos[:i] {
			if o == r || strings.HasPrefix(r+"/", o+"/") || strings.HasPrefix(o+"/", r+"/") || o == "" || r == "" {
				return fmt.Errorf("%w: rpm: mirror %s: repos %q and %q overlap", store.ErrConfig, m.Name, o, r)
			}
		}
	}
	for _, p := range m.Filter.Packages {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%w: rpm: mirror %s: filter package %q: %w", store.ErrConfig, m.Name, p, err)
		}
	}
	return nil
}

// configHash fingerprints what shapes the published tree apart from trust: a change
// rebuilds even when upstream did not change.
func (m *Mirror) configHash() string {
	signer := ""
	if m.Signer != nil && !m.Pristine {
		signer = m.Signer.Fingerprint()
	}
	b, _ := json.Marshal(struct {
		Format   int
		URL      string
		Repos    []string
		Pristine bool
		Filter   Filter
		Weak     bool
		Signer   string
		Vendor   string
	}{stateFormat, m.base(), m.repos(), m.Pristine, m.Filter, m.Filter.weak(), signer, m.Vendor})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// state is what a published tree records for the next sync (annotation rpm.state).
type state struct {
	Config string `json:"config"`
	// Repos: per repository path, the validators and revision of its repomd.xml.
	Repos map[string]repoRecord `json:"repos"`
	// Sums maps "type:hex" of package checksums the store does not verify itself (sha1,
	// sha224, sha384) to the digest of the content verified against them.
	Sums map[string]store.Digest `json:"sums,omitempty"`
}

type repoRecord struct {
	ETag, LastModified       string `json:",omitempty"`
	SigETag, SigLastModified string `json:",omitempty"`
	Revision                 string `json:",omitempty"`
}

// session is one Sync's run-time state.
type session struct {
	m    *Mirror
	log  *slog.Logger
	fc   *fetch.Client
	keys *pgp.Keyring
	prev state // of the reusable previous tree
	next state

	mu     sync.Mutex
	counts fetch.Counter // for the SyncResult
}

func (ss *session) fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	res, err := ss.fc.Fetch(ctx, req)
	if err == nil {
		ss.counts.Count(res)
	}
	return res, err
}

func (m *Mirror) start(ctx context.Context) (*session, error) {
	if m.Store == nil {
		return nil, fmt.Errorf("%w: rpm: Mirror.Store is nil", store.ErrConfig)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	ss := &session{m: m, log: m.logger().With("mirror", m.Name), fc: m.Fetch, keys: m.Keys}
	if ss.fc == nil {
		ss.fc = &fetch.Client{Store: m.Store, Logger: m.Logger}
	}
	if m.InsecureSkipSignature {
		ss.log.Warn("rpm: repomd.xml signatures are NOT checked (InsecureSkipSignature)")
	} else if ss.keys == nil {
		if m.Keyring == "" {
			return nil, fmt.Errorf("%w: rpm: mirror %s: no keyring configured (or set InsecureSkipSignature)", store.ErrConfig, m.Name)
		}
		k, err := pgp.LoadKeyring(m.Keyring)
		if err != nil {
			return nil, fmt.Errorf("%w: rpm: mirror %s: %w", store.ErrConfig, m.Name, err)
		}
		ss.keys = k
	}
	if !m.Pristine && m.Signer == nil {
		ss.log.Warn("rpm: no signer: the regenerated repomd.xml is published unsigned (clients need repo_gpgcheck=0)")
	}
	ss.next = state{Config: m.configHash(), Repos: map[string]repoRecord{}, Sums: map[string]store.Digest{}}
	return ss, ctx.Err()
}

func (m *Mirror) trust(ss *session) (store.Trust, error) {
	id := "none"
	if ss.keys != nil {
		d, err := ss.keys.Digest()
		if err != nil {
			return store.Trust{}, fmt.Errorf("rpm: mirror %s: keyring: %w", m.Name, err)
		}
		id = d.String()
	}
	return store.TrustOf(m).WithRoot("keyring", id), nil
}

// Sync fetches and verifies the configured repositories and publishes the result through
// store.Update. Every repomd.xml is verified against its repomd.xml.asc, every metadata
// file against repomd.xml (checksum and size, and open-checksum and open-size of its
// decompressed content), every package against primary; nothing is published unless all
// of it is stored and verified, so a bad signature, checksum or missing file leaves the
// published mirror as it was. An unchanged upstream costs one conditional GET of
// repomd.xml and of repomd.xml.asc per repository, and publishes nothing.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	stats := SyncStats{SyncResult: store.SyncResult{Ref: m.Ref()}}
	ss, err := m.start(ctx)
	if err != nil {
		return stats, err
	}
	trust, err := m.trust(ss)
	if err != nil {
		return stats, err
	}
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), trust, func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			ss.log.Info("rpm: trust settings changed: verifying everything again", "changed", prev.TrustChanged)
		}
		return ss.build(ctx, prev, &stats)
	})
	ss.counts.Fill(&stats.SyncResult)
	if err != nil {
		return stats, err
	}
	stats.Generation, stats.Changed = gen, changed
	if changed {
		ss.log.Info("rpm: published", "ref", m.Ref(), "pristine", m.Pristine, "packages", stats.Packages, "downloaded", stats.Downloaded)
	} else {
		ss.log.Info("rpm: nothing changed", "ref", m.Ref(), "repos", stats.Repos)
	}
	return stats, nil
}

// build makes the next tree (store.Update's build func): nil when every repomd.xml
// answered 304 and the configuration is the same.
func (ss *session) build(ctx context.Context, prev store.Prev, stats *SyncStats) (*store.Snapshot, error) {
	m := ss.m
	states, sel, err := ss.resolve(ctx, prev, stats)
	if err != nil || states == nil {
		return nil, err
	}
	if err := m.Preflight.Check(ctx, ss.plan(sel)); err != nil {
		return nil, err
	}
	snap := store.NewSnapshot()
	if err := ss.fetchPackages(ctx, snap, sel, stats); err != nil {
		return nil, err
	}
	return ss.assemble(ctx, snap, states, sel)
}

// resolve is the metadata round of a sync: every repomd.xml (conditionally when prev
// may be reused), the rollback check, the metadata files and primary, and the
// selection. states is nil when every repomd.xml is unchanged under the same
// configuration (nothing to do).
func (ss *session) resolve(ctx context.Context, prev store.Prev, stats *SyncStats) ([]*repoState, []*candidate, error) {
	m := ss.m
	var floor state
	if prev.Published != nil {
		_ = json.Unmarshal([]byte(prev.Published.Annotations[annState]), &floor) // no floor when absent
	}
	conditional := false
	if prev.Snapshot != nil && json.Unmarshal([]byte(prev.Snapshot.Annotations[annState]), &ss.prev) == nil {
		conditional = ss.prev.Config == ss.next.Config
	}
	repos := m.repos()
	stats.Repos = len(repos)
	states := make([]*repoState, len(repos))
	allSame := conditional
	for i, r := range repos {
		rs := &repoState{path: r, url: m.repoURL(r)}
		var rec repoRecord
		if conditional {
			rec = ss.prev.Repos[r]
		}
		same, err := ss.fetchRepomd(ctx, rs, rec)
		if err != nil {
			return nil, nil, err
		}
		allSame = allSame && same
		states[i] = rs
	}
	if allSame {
		stats.Packages = countPackages(prev.Snapshot)
		return nil, nil, nil
	}
	for _, rs := range states {
		if rs.md == nil {
			if _, err := ss.fetchRepomd(ctx, rs, repoRecord{}); err != nil {
				return nil, nil, err
			}
		}
		if was := floor.Repos[rs.path].Revision; was != "" && RevisionBefore(rs.md.Revision, was) {
			if !m.AllowRollback {
				return nil, nil, fmt.Errorf("rpm: %s: %w: revision %s, published %s", rs.path, ErrRollback, rs.md.Revision, was)
			}
			ss.log.Warn("rpm: accepting an older repomd.xml (AllowRollback)", "repo", rs.path, "revision", rs.md.Revision, "published", was)
		}
		ss.next.Repos[rs.path] = rs.record
	}
	// Metadata, then the selection.
	for _, rs := range states {
		if err := ss.fetchMetadata(ctx, rs); err != nil {
			return nil, nil, err
		}
	}
	for _, rs := range states {
		if err := ss.readPrimary(ctx, rs); err != nil {
			return nil, nil, err
		}
	}
	sel, err := ss.selectPackages(ctx, states, stats)
	if err != nil {
		return nil, nil, err
	}
	return states, sel, nil
}

// plan lists the selected packages as the store sees them (see Mirror.Plan).
func (ss *session) plan(sel []*candidate) store.Plan {
	p := store.Plan{Items: make([]store.PlannedItem, 0, len(sel))}
	for _, c := range sel {
		it := store.PlannedItem{Name: c.path, Size: store.UnknownSize}
		if c.pkg.Checksum.Type == "sha256" {
			it.Digest, _ = store.DigestFromHex(c.pkg.Checksum.Value)
		} else {
			it.Digest = ss.prev.Sums[c.pkg.Checksum.Type+":"+c.pkg.Checksum.Value]
		}
		if c.pkg.Size > 0 {
			it.Size = c.pkg.Size
		}
		p.Items = append(p.Items, it)
	}
	return p
}

// Plan reads and verifies every repository's metadata as Sync does (repomd.xml in full,
// not conditionally) and selects the packages, then lists them with the size and
// checksum primary gives (named by it when it is a sha256), without downloading a
// package or publishing anything: a dry run. The metadata it read stays in the store,
// unreferenced until a sync publishes it.
func (m *Mirror) Plan(ctx context.Context) (store.Plan, error) {
	ss, err := m.start(ctx)
	if err != nil {
		return store.Plan{}, err
	}
	published, _, err := store.OpenPublished(ctx, m.Store, m.Ref())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, err
	}
	_, sel, err := ss.resolve(ctx, store.Prev{Published: published}, &SyncStats{})
	if err != nil {
		return store.Plan{}, err
	}
	return ss.plan(sel), nil
}

// assemble adds the metadata of the repositories to a tree holding the packages.
func (ss *session) assemble(ctx context.Context, snap *store.Snapshot, states []*repoState, sel []*candidate) (*store.Snapshot, error) {
	m := ss.m
	var err error
	if m.Pristine {
		err = ss.addPristine(snap, states)
	} else {
		err = ss.addFiltered(ctx, snap, states, sel)
	}
	if err != nil {
		return nil, err
	}
	if err := ss.addKeys(ctx, snap); err != nil {
		return nil, err
	}
	b, err := json.Marshal(ss.next)
	if err != nil {
		return nil, err
	}
	snap.Annotations[annState] = string(b)
	recs := make([]PublishedRepo, len(states))
	for i, rs := range states {
		recs[i] = PublishedRepo{Path: rs.path, Upstream: rs.url, Revision: rs.md.Revision, Pristine: m.Pristine, Signers: rs.signers}
	}
	if b, err = json.Marshal(recs); err != nil {
		return nil, err
	}
	snap.Annotations[annRepos] = string(b)
	if m.Vendor != "" {
		snap.Annotations[annVendor] = strings.ToLower(m.Vendor)
	}
	return snap, nil
}

// countPackages counts the packages of an unchanged tree.
func countPackages(snap *store.Snapshot) int {
	n := 0
	for _, f := range snap.Files {
		if f.MediaType == mediaRPM {
			n++
		}
	}
	return n
}

// fetchPackages downloads every selected package, verified against primary.
func (ss *session) fetchPackages(ctx context.Context, snap *store.Snapshot, sel []*candidate, stats *SyncStats) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ss.m.concurrency())
	var mu sync.Mutex
	for _, c := range sel {
		g.Go(func() error {
			u := c.repo.url + escapePath(c.pkg.Href)
			if c.pkg.Base != "" {
				b := c.pkg.Base
				if !strings.HasSuffix(b, "/") {
					b += "/"
				}
				u = b + escapePath(c.pkg.Href)
			}
			info, err := ss.fetchVerified(gctx, u, c.pkg.Checksum, c.pkg.Size)
			if err != nil {
				return fmt.Errorf("rpm: %s %s: %w", c.repo.path, c.pkg, notFound(err))
			}
			mu.Lock()
			defer mu.Unlock()
			stats.Bytes += info.Size
			return snap.Add(c.path, store.File{Digest: info.Digest, Size: info.Size, MediaType: mediaRPM})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	stats.Packages = len(sel)
	return nil
}

// fetchVerified stores the file at u, verified against a repodata checksum and size:
// by the store while it streams for sha256, sha512 and md5; for the other types by
// hashing the stored blob, and remembered (state.Sums) so that the next sync reuses it.
func (ss *session) fetchVerified(ctx context.Context, u string, c Checksum, size int64) (store.BlobInfo, error) {
	e, err := c.expect(size)
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	key := c.Type + ":" + c.Value
	if !c.checkedByStore() {
		if d, ok := ss.prev.Sums[key]; ok {
			e = e.With(store.SHA256, d.Hex())
		}
	}
	res, err := ss.fetch(ctx, fetch.Request{URL: u, Expect: e, MaxSize: size + 1})
	if err != nil {
		if errors.Is(err, store.ErrDigestMismatch) {
			err = fmt.Errorf("%w: %w", ErrChecksum, err)
		}
		return store.BlobInfo{}, err
	}
	if !c.checkedByStore() {
		if _, ok := ss.prev.Sums[key]; !ok || res.FinalURL != "" {
			b, err := ss.m.Store.Open(ctx, res.Blob.Digest)
			if err != nil {
				return store.BlobInfo{}, err
			}
			_, err = c.verifyReader(store.ContextReader(ctx, b))
			b.Close()
			if err != nil {
				return store.BlobInfo{}, err
			}
		}
		ss.mu.Lock()
		ss.next.Sums[key] = res.Blob.Digest
		ss.mu.Unlock()
	}
	return res.Blob, nil
}

// held lists the repository paths of a sorted set.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
