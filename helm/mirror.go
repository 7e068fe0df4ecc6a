package helm

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

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/authn"
	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// Defaults and caps of a sync.
const (
	DefaultConcurrency       = 4
	MaxChartSize       int64 = 64 << 20
	IndexPath                = "index.yaml"
	annState                 = "helm.state"
	stateFormat              = 1
	mediaChart               = "application/gzip"
	mediaProv                = "application/pgp-signature"
	mediaIndex               = "application/yaml"
)

// Mirror mirrors chosen charts of one classic chart repository (an index.yaml
// repository: chartmuseum, GitHub pages, chart-releaser on GitHub releases) into a store
// and publishes them under the ref "helm/<Name>" as a chart repository of its own. The
// yaml-tagged fields are the operator's configuration; the others are set by the
// program.
type Mirror struct {
	Name string `yaml:"name"`
	// URL is the repository URL (what `helm repo add` takes); its index is
	// URL/index.yaml. An oci://host/path URL is an OCI registry: chart <c> is the
	// repository host/path/<c>, each version a tag (see the package documentation).
	URL string `yaml:"url"`
	// PlainHTTP talks http:// to an oci:// URL's registry instead of https://; it is
	// never inferred from the address, not even for 127.0.0.1.
	PlainHTTP bool `yaml:"plain_http" trust:""`
	// Keyring is the path of the public keys (armored or binary) the charts' .prov files
	// must verify with. Empty: provenance is not checked (logged).
	Keyring string `yaml:"keyring"`
	// Required refuses any chart version without a valid .prov (ErrUnsigned).
	Required bool `yaml:"required" trust:""`
	// Charts are the charts and versions to hold.
	Charts []ChartSpec `yaml:"charts"`
	// Dependencies adds the charts the held charts depend on and do not vendor (see the
	// package documentation). Nil: true.
	Dependencies *bool `yaml:"dependencies"`
	// ImagesTo names the oci mirror that the images the held charts need join; Values
	// and KubeVersion are for rendering them. Recorded here; rendering is not this
	// package's.
	ImagesTo    string   `yaml:"images_to"`
	Values      []string `yaml:"values"`
	KubeVersion string   `yaml:"kube_version"`
	// Concurrency caps parallel downloads. Zero: DefaultConcurrency.
	Concurrency int `yaml:"concurrency"`

	// Repositories maps the NormalizeURL form of other helm mirrors' upstream URLs to
	// their names: where a dependency on another repository is looked for. Set by the
	// program (site sets every configured helm mirror).
	Repositories map[string]string `yaml:"-"`
	// OCIRepositories maps "host/path" prefixes of OCI repositories to the oci mirror
	// that holds them: where an oci:// dependency is looked for.
	OCIRepositories map[string]string `yaml:"-"`
	Store           store.Store       `yaml:"-"`
	Fetch           *fetch.Client     `yaml:"-"`
	// Keys, when set, is used instead of loading Keyring.
	Keys *pgp.Keyring `yaml:"-"`
	// Keychain resolves an oci:// URL's registry credentials. Nil:
	// authn.DefaultKeychain (docker config.json, credential helpers); site sets the
	// oci mirrors' registries: entries for the host first.
	Keychain authn.Keychain `yaml:"-"`
	// Preflight, when set, is handed what Plan would list once the index (or the tags)
	// is read, before any archive is fetched; its error ends the sync, publishing
	// nothing.
	Preflight store.Preflight `yaml:"-"`
	Logger    *slog.Logger    `yaml:"-"`
}

// ChartSpec selects versions of one chart.
type ChartSpec struct {
	Name string `yaml:"name"`
	// Version is a Masterminds/semver constraint (">=1.14.0 <1.15.0", "~1.2", "1.2.3")
	// as helm's --version takes it; prereleases only when it names one.
	Version string `yaml:"version"`
	// Latest keeps the newest N versions that satisfy Version. Zero: every version
	// satisfying Version, or the newest one when Version is empty.
	Latest int `yaml:"latest"`
	// Images and ExcludeImages adjust the images found for the chart (for rendering).
	Images        []string `yaml:"images"`
	ExcludeImages []string `yaml:"exclude_images"`
}

// SyncStats reports what a sync did.
type SyncStats struct {
	store.SyncResult
	Charts   int // distinct charts held
	Versions int // chart versions held
	Signed   int // of them, with a verified .prov
	Bytes    int64
}

// Ref returns the ref this mirror publishes.
func (m *Mirror) Ref() string { return "helm/" + m.Name }

// Endpoints lists the upstream URL a sync starts from (chart archives may be on other
// hosts: the index names them); for an oci:// URL the registry API it talks to.
func (m *Mirror) Endpoints() []string {
	if rest, ok := strings.CutPrefix(m.URL, "oci://"); ok {
		scheme := "https"
		if m.PlainHTTP {
			scheme = "http"
		}
		host, path, _ := strings.Cut(strings.Trim(rest, "/"), "/")
		return []string{scheme + "://" + host + "/v2/" + path}
	}
	return []string{m.URL}
}

func (m *Mirror) concurrency() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return DefaultConcurrency
}

func (m *Mirror) deps() bool { return m.Dependencies == nil || *m.Dependencies }

func (m *Mirror) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

// Validate checks the configuration: a plain name, an http(s) or oci URL, charts with names and
// constraints that parse.
func (m *Mirror) Validate() error {
	if m.Name == "" || strings.Contains(m.Name, "/") || store.ValidatePath(m.Ref()) != nil {
		return fmt.Errorf("%w: helm: mirror name %q", store.ErrConfig, m.Name)
	}
	u, err := url.Parse(m.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "oci") || u.Host == "" || u.Scheme == "oci" && (u.RawQuery != "" || u.User != nil) {
		return fmt.Errorf("%w: helm: mirror %s: url %q is not http(s)://host/path or oci://host/path", store.ErrConfig, m.Name, m.URL)
	}
	if m.PlainHTTP && u.Scheme != "oci" {
		return fmt.Errorf("%w: helm: mirror %s: plain_http is for oci:// urls (write http:// in the url)", store.ErrConfig, m.Name)
	}
	if len(m.Charts) == 0 {
		return fmt.Errorf("%w: helm: mirror %s: no charts", store.ErrConfig, m.Name)
	}
	for i, c := range m.Charts {
		if c.Name == "" || strings.ContainsAny(c.Name, "/\\") {
			return fmt.Errorf("%w: helm: mirror %s: charts[%d]: name %q", store.ErrConfig, m.Name, i, c.Name)
		}
		if c.Version != "" {
			if _, err := semver.NewConstraint(c.Version); err != nil {
				return fmt.Errorf("%w: helm: mirror %s: chart %s: version %q: %v", store.ErrConfig, m.Name, c.Name, c.Version, err)
			}
		}
		if c.Latest < 0 {
			return fmt.Errorf("%w: helm: mirror %s: chart %s: latest must not be negative", store.ErrConfig, m.Name, c.Name)
		}
	}
	if m.KubeVersion != "" {
		if _, err := semver.NewVersion(m.KubeVersion); err != nil {
			return fmt.Errorf("%w: helm: mirror %s: kube_version %q: %v", store.ErrConfig, m.Name, m.KubeVersion, err)
		}
	}
	if (len(m.Values) > 0 || m.KubeVersion != "") && m.ImagesTo == "" {
		return fmt.Errorf("%w: helm: mirror %s: values and kube_version are for rendering images: set images_to", store.ErrConfig, m.Name)
	}
	return nil
}

// State is what a published tree records (annotation helm.state): for the next sync,
// and for Inventory and rendering.
type State struct {
	Config string `json:"config"`
	// Index are the validators of the upstream index.yaml.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// IndexDigest is the upstream index's digest: the same bytes again (a server without
	// validators) are not modified either.
	IndexDigest store.Digest `json:"index_digest,omitempty"`
	// Charts are the held versions, by file name in the tree.
	Charts map[string]*Held `json:"charts"`
}

// Held is one chart version a published tree holds.
type Held struct {
	Name    string       `json:"name"`
	Version string       `json:"version"`
	File    string       `json:"file"`
	Digest  store.Digest `json:"digest"`
	Size    int64        `json:"size"`
	// Upstream is the URL the archive came from.
	Upstream string `json:"upstream"`
	// Signer is the fingerprint of the key whose .prov vouched for the archive; "" when
	// unsigned.
	Signer string `json:"signer,omitempty"`
	// Needs are the dependencies served by other mirrors (helm or oci), as
	// "kind/name:chart@version-constraint".
	Needs []string `json:"needs,omitempty"`
	// Selected says the chart was configured, not pulled in as a dependency.
	Selected bool `json:"selected,omitempty"`
}

// heldVersion is a held chart version with its index entry, for the served index.
type heldVersion struct {
	*Held
	v *Version
}

func (m *Mirror) configHash() string {
	b, _ := json.Marshal(struct {
		Format  int
		URL     string
		Charts  []ChartSpec
		Deps    bool
		Repos   map[string]string
		OCI     map[string]string
		Require bool
	}{stateFormat, m.URL, m.Charts, m.deps(), m.Repositories, m.OCIRepositories, m.Required})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type session struct {
	m    *Mirror
	log  *slog.Logger
	fc   *fetch.Client
	keys *pgp.Keyring
	idx  *Index
	repo string
	reg  *ociRepo // an oci:// repository; nil for an index repository
	// index is the upstream index in the store, read again for a dependency's chart.
	index  store.Digest
	listed map[string]bool // the charts whose entries idx holds (or has none of)

	mu        sync.Mutex
	held      map[string]*heldVersion // by file name
	manifests map[string]readManifest // by oci:// reference
	provList  []provFile
	counts    fetch.Counter // for the SyncResult
}

func (ss *session) fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	res, err := ss.fc.Fetch(ctx, req)
	if err == nil {
		ss.counts.Count(res)
	}
	return res, err
}

// loadIndex fetches the upstream index into the store (conditionally when validators
// are given) and reads the configured charts' entries from it, unless it is not
// modified or is the same bytes as before (same).
func (ss *session) loadIndex(ctx context.Context, validators fetch.Validators, same store.Digest) (fetch.Result, error) {
	m := ss.m
	iu, err := IndexURL(m.URL)
	if err != nil {
		return fetch.Result{}, err
	}
	res, err := ss.fc.Fetch(ctx, fetch.Request{URL: iu, MaxSize: MaxIndexSize, Validators: validators})
	if err != nil {
		return res, fmt.Errorf("helm: mirror %s: index: %w", m.Name, err)
	}
	if res.NotModified {
		return res, nil
	}
	ss.counts.Count(res)
	if same != "" && res.Blob.Digest == same {
		return res, nil
	}
	ss.index = res.Blob.Digest
	configured := map[string]bool{}
	for _, c := range m.Charts {
		configured[c.Name] = true
	}
	if ss.idx, err = ss.readIndex(ctx, func(n string) bool { return configured[n] }); err != nil {
		return res, fmt.Errorf("helm: mirror %s: %w", m.Name, err)
	}
	for n := range configured {
		ss.listed[n] = true
	}
	return res, nil
}

// readIndex reads the charts want accepts from the upstream index in the store: memory
// follows those charts' entries, not the index (ReadIndex).
func (ss *session) readIndex(ctx context.Context, want func(string) bool) (*Index, error) {
	b, err := ss.m.Store.Open(ctx, ss.index)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return ReadIndex(b, want)
}

// entries are a chart's versions: for an index repository as the index lists them (a
// chart first needed as a dependency is read from the stored index then), for an
// oci:// one its tags (ociRepo.versions). Each chart is read once per sync.
func (ss *session) entries(ctx context.Context, chart string) ([]*Version, error) {
	ss.mu.Lock()
	vs, known := ss.idx.Entries[chart], ss.listed[chart]
	ss.mu.Unlock()
	if known {
		return vs, nil
	}
	var err error
	if ss.reg != nil {
		vs, err = ss.reg.versions(ctx, chart)
	} else {
		var idx *Index
		if idx, err = ss.readIndex(ctx, func(n string) bool { return n == chart }); err == nil {
			vs = idx.Entries[chart]
		}
	}
	if err != nil {
		return nil, err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.listed[chart] {
		return ss.idx.Entries[chart], nil // read concurrently: one set of versions per sync
	}
	ss.listed[chart] = true
	if len(vs) > 0 {
		ss.idx.Entries[chart] = vs
	}
	return vs, nil
}

// newSession is a sync's (or a plan's) state.
func (m *Mirror) newSession() *session {
	ss := &session{m: m, log: m.logger().With("mirror", m.Name), fc: m.Fetch, keys: m.Keys, repo: m.URL, held: map[string]*heldVersion{}, manifests: map[string]readManifest{}, listed: map[string]bool{}}
	if ss.fc == nil {
		ss.fc = &fetch.Client{Store: m.Store, Logger: m.Logger}
	}
	if m.isOCI() {
		ss.reg = m.ociRepo(ss.fc)
	}
	return ss
}

// Sync fetches the index, selects the configured versions and their dependency closure,
// verifies every archive (index digest, .prov signature and sums, Chart.yaml name and
// version) and publishes the tree through store.Update. Any failure publishes nothing.
// An unchanged index (304) with the same configuration publishes nothing and downloads
// nothing else.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	stats := SyncStats{SyncResult: store.SyncResult{Ref: m.Ref()}}
	if m.Store == nil {
		return stats, fmt.Errorf("%w: helm: Mirror.Store is nil", store.ErrConfig)
	}
	if err := m.Validate(); err != nil {
		return stats, err
	}
	ss := m.newSession()
	if ss.keys == nil && m.Keyring != "" {
		k, err := pgp.LoadKeyring(m.Keyring)
		if err != nil {
			return stats, fmt.Errorf("%w: helm: mirror %s: %w", store.ErrConfig, m.Name, err)
		}
		ss.keys = k
	}
	if ss.keys == nil {
		if m.Required {
			return stats, fmt.Errorf("%w: helm: mirror %s: required needs a keyring", store.ErrConfig, m.Name)
		}
		ss.log.Warn("helm: no keyring: .prov files are not verified")
	}
	trust := store.TrustOf(m).WithRoot("upstream", NormalizeURL(m.URL))
	if ss.keys != nil {
		d, err := ss.keys.Digest()
		if err != nil {
			return stats, fmt.Errorf("helm: mirror %s: keyring: %w", m.Name, err)
		}
		trust = trust.WithRoot("keyring", d.String())
	}
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), trust, func(prev store.Prev) (*store.Snapshot, error) {
		return ss.build(ctx, prev, &stats)
	})
	ss.counts.Fill(&stats.SyncResult)
	if err != nil {
		return stats, err
	}
	stats.Generation, stats.Changed = gen, changed
	ss.log.Info("helm: synced", "ref", m.Ref(), "changed", changed, "versions", stats.Versions, "downloaded", stats.Downloaded)
	return stats, nil
}

func (ss *session) build(ctx context.Context, prev store.Prev, stats *SyncStats) (*store.Snapshot, error) {
	m := ss.m
	var old State
	conditional := false
	if prev.Snapshot != nil && json.Unmarshal([]byte(prev.Snapshot.Annotations[annState]), &old) == nil {
		conditional = old.Config == m.configHash()
	}
	next := State{Config: m.configHash(), Charts: map[string]*Held{}}
	if ss.reg != nil {
		// No index: each chart's tags are listed (ss.entries) and every manifest read.
		ss.idx = &Index{Entries: map[string][]*Version{}, fields: map[string]any{}}
	} else {
		var validators fetch.Validators
		var same store.Digest
		if conditional {
			validators, same = fetch.Validators{ETag: old.ETag, LastModified: old.LastModified}, old.IndexDigest
		}
		res, err := ss.loadIndex(ctx, validators, same)
		if err != nil {
			return nil, err
		}
		if res.NotModified || same != "" && res.Blob.Digest == same {
			stats.fill(old.Charts)
			return nil, nil
		}
		next.ETag, next.LastModified, next.IndexDigest = res.Validators.ETag, res.Validators.LastModified, res.Blob.Digest
	}
	todo, err := ss.selected(ctx)
	if err != nil {
		return nil, err
	}
	if m.Preflight != nil {
		p, err := ss.plan(ctx, todo, prev.Snapshot)
		if err != nil {
			return nil, err
		}
		if err := m.Preflight.Check(ctx, p); err != nil {
			return nil, err
		}
	}
	selected := map[*Version]bool{}
	for _, v := range todo {
		selected[v] = true
	}
	for len(todo) > 0 {
		var more []*Version
		var mu sync.Mutex
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(m.concurrency())
		for _, v := range todo {
			file := chartFile(v)
			ss.mu.Lock()
			_, dup := ss.held[file]
			if !dup {
				ss.held[file] = &heldVersion{v: v}
			}
			ss.mu.Unlock()
			if dup {
				continue
			}
			g.Go(func() error {
				h, deps, err := ss.mirrorVersion(gctx, v, selected[v])
				if err != nil {
					return err
				}
				ss.mu.Lock()
				ss.held[file].Held = h
				ss.mu.Unlock()
				mu.Lock()
				more = append(more, deps...)
				mu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		todo = more
	}
	snap := store.NewSnapshot()
	byChart := map[string][]heldVersion{}
	for file, h := range ss.held {
		next.Charts[file] = h.Held
		if err := snap.Add(file, store.File{Digest: h.Digest, Size: h.Size, MediaType: mediaChart}); err != nil {
			return nil, err
		}
		byChart[h.Name] = append(byChart[h.Name], *h)
	}
	for _, f := range ss.provs() {
		if err := snap.Add(f.path, f.file); err != nil {
			return nil, err
		}
	}
	for name, hs := range byChart {
		// The upstream's order within a chart (newest first, as helm writes it).
		order := ss.idx.Entries[name]
		slices.SortFunc(hs, func(a, b heldVersion) int { return slices.Index(order, a.v) - slices.Index(order, b.v) })
	}
	ib, err := servedIndex(ss.idx, byChart)
	if err != nil {
		return nil, err
	}
	info, err := store.PutBytes(ctx, m.Store, store.Expect{}, ib)
	if err != nil {
		return nil, err
	}
	if err := snap.Add(IndexPath, store.File{Digest: info.Digest, Size: info.Size, MediaType: mediaIndex}); err != nil {
		return nil, err
	}
	sb, err := json.Marshal(next)
	if err != nil {
		return nil, err
	}
	snap.Annotations[annState] = string(sb)
	stats.fill(next.Charts)
	return snap, nil
}

func (st *SyncStats) fill(charts map[string]*Held) {
	names := map[string]bool{}
	for _, h := range charts {
		names[h.Name] = true
		st.Versions++
		st.Bytes += h.Size
		if h.Signer != "" {
			st.Signed++
		}
	}
	st.Charts = len(names)
}

// chartFile is where the mirror serves a version's archive: <name>-<version>.tgz, the
// name `helm package` gives it and its .prov's files entry names.
func chartFile(v *Version) string { return v.Name + "-" + v.Version + ".tgz" }

type provFile struct {
	path string
	file store.File
}

// provs are the .prov files of the held versions, kept while verifying.
func (ss *session) provs() []provFile {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return slices.Clone(ss.provList)
}

// mirrorVersion fetches and verifies one version (from its index URL, or its oci://
// manifest), and returns the versions of this same repository it depends on.
func (ss *session) mirrorVersion(ctx context.Context, v *Version, selected bool) (*Held, []*Version, error) {
	m := ss.m
	what := fmt.Sprintf("helm: mirror %s: chart %s %s", m.Name, v.Name, v.Version)
	fetchVersion := ss.fetchIndexed
	if ss.reg != nil {
		fetchVersion = ss.fetchOCI
	}
	h, err := fetchVersion(ctx, v)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	h.Selected = selected
	blob, err := m.Store.Open(ctx, h.Digest)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	c, err := ReadChart(store.ContextReader(ctx, blob))
	blob.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if c.Name != v.Name || c.Version != v.Version {
		return nil, nil, fmt.Errorf("%s: %w: its Chart.yaml says %s %s", what, ErrMetadata, c.Name, c.Version)
	}
	if !m.deps() {
		return h, nil, nil
	}
	var more []*Version
	for _, d := range c.Dependencies {
		same, need, err := ss.resolveDep(ctx, c, d)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: dependency %s (%s): %w", what, d.Name, d.Repository, err)
		}
		if same != nil {
			more = append(more, same)
		}
		if need != "" {
			h.Needs = append(h.Needs, need)
		}
	}
	return h, more, nil
}

// fetchIndexed fetches a version an index lists: its archive (checked against the
// index's digest) and its .prov.
func (ss *session) fetchIndexed(ctx context.Context, v *Version) (*Held, error) {
	u, err := ResolveURL(ss.repo, v.URLs[0])
	if err != nil {
		return nil, err
	}
	req := fetch.Request{URL: u, MaxSize: MaxChartSize}
	if v.Digest != "" {
		req.Expect = store.Expect{}.With(store.SHA256, v.Digest)
	}
	res, err := ss.fetch(ctx, req)
	if err != nil {
		if errors.Is(err, store.ErrDigestMismatch) {
			err = fmt.Errorf("%w: the archive is not the index's digest %s: %w", ErrDigest, v.Digest, err)
		}
		return nil, err
	}
	h := &Held{Name: v.Name, Version: v.Version, File: chartFile(v), Digest: res.Blob.Digest, Size: res.Blob.Size, Upstream: u}
	return h, ss.verifyProv(ctx, v, u, h)
}

// verifyProv fetches <archive URL>.prov and checks it: signature, the archive's sha256,
// name and version. A missing .prov warns, or fails under Required.
func (ss *session) verifyProv(ctx context.Context, v *Version, u string, h *Held) error {
	m := ss.m
	b, res, err := ss.fc.FetchBytes(ctx, fetch.Request{URL: u + ".prov", MaxSize: pgp.MaxSignatureSize + maxMetaSize})
	var he *fetch.HTTPError
	if errors.As(err, &he) && (he.StatusCode == 404 || he.StatusCode == 403) {
		if m.Required {
			return fmt.Errorf("%w (required: true)", ErrUnsigned)
		}
		ss.log.Warn("helm: chart version has no .prov: only the index digest vouches for it", "chart", v.Name, "version", v.Version)
		return nil
	}
	if err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	ss.counts.Count(res)
	return ss.checkProv(v, h, b, store.File{Digest: res.Blob.Digest, Size: res.Blob.Size, MediaType: mediaProv}, path.Base(u))
}

// checkProv verifies a version's .prov (b, stored as f): the signature with the keyring,
// the name and version, the sha256 it lists for the archive (by the mirror's file name,
// else by the upstream's, alt) against the archive's. A valid one is served beside it.
func (ss *session) checkProv(v *Version, h *Held, b []byte, f store.File, alt string) error {
	if ss.keys == nil {
		ss.log.Warn("helm: .prov present but no keyring to verify it: not served", "chart", v.Name, "version", v.Version)
		return nil
	}
	body, ver, err := ss.keys.VerifyClearsigned(b)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	p, err := ParseProvenance(body)
	if err != nil {
		return err
	}
	if p.Name != v.Name || p.Version != v.Version {
		return fmt.Errorf("%w: its .prov says %s %s", ErrMetadata, p.Name, p.Version)
	}
	sum := p.Sum(h.File)
	if sum == "" && alt != "" {
		sum = p.Sum(alt)
	}
	if sum == "" {
		return fmt.Errorf("%w: .prov lists no sha256 for %s", ErrMalformed, h.File)
	}
	if sum != h.Digest.Hex() {
		return fmt.Errorf("%w: .prov says sha256:%s, the archive is %s", ErrDigest, sum, h.Digest)
	}
	h.Signer = ver.Fingerprint
	ss.mu.Lock()
	ss.provList = append(ss.provList, provFile{path: h.File + ".prov", file: f})
	ss.mu.Unlock()
	return nil
}
