package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"golang.org/x/sync/errgroup"
)

// Mirror copies selected images from registries into the store and publishes them as
// the ref "oci/<Name>". The yaml fields are what an operator writes; Store, Client,
// Logger and Progress are set by the program.
type Mirror struct {
	// Name names the mirror; the published ref is "oci/<Name>".
	Name string `yaml:"name"`
	// Images are references by tag or digest ("nginx:1.25", "ghcr.io/x/y@sha256:...").
	Images []string `yaml:"images,omitempty"`
	// Repositories select tags of whole repositories by list, regex, semver range, latest N.
	Repositories []RepositorySelector `yaml:"repositories,omitempty"`
	// ImageLists are text files with one reference per line.
	ImageLists []string `yaml:"image_lists,omitempty"`
	// KubernetesManifests are YAML files (manifests, rendered charts, Helm values) whose
	// image: values are copied.
	KubernetesManifests []string `yaml:"kubernetes_manifests,omitempty"`
	// Platforms, when set, keeps only these entries ("linux/amd64", "linux/arm64/v8") of
	// multi-platform indexes. Unset, indexes are copied whole and every digest is kept.
	//
	// A filtered index is a new manifest made by the mirror: its digest is one the
	// upstream never published or signed. It records the upstream index's digest
	// (AnnotationSourceDigest, and the snapshot annotation oci.upstream/<repo>:<tag>); the
	// kept children keep their digests. Referrers of the upstream index are copied
	// unchanged and stay filed under the upstream digest; the handler lists them for the
	// filtered index too, as does Push in the referrers fallback tag it writes for
	// registries without the referrers API. Signatures among them verify against the
	// upstream digest, not the filtered one (children's signatures verify as they are).
	// Referrers of dropped children are not copied.
	Platforms []string `yaml:"platforms,omitempty"`
	// Referrers copies signatures, attestations and SBOMs: cosign tags
	// (sha256-<hex>.sig/.att/.sbom) and OCI 1.1 referrers (API or fallback tag) of each
	// image, of every child manifest of its indexes (nested ones too), and of every
	// referrer copied (a counter-signature), to any depth, each manifest once.
	Referrers bool `yaml:"referrers,omitempty"`
	// Registries holds per-registry settings: plain http, credentials, endpoints.
	Registries []RegistryConfig `yaml:"registries,omitempty"`
	// Concurrency bounds parallel downloads; 0 means 8.
	Concurrency int `yaml:"concurrency,omitempty"`
	// MaxManifestSize caps manifests; 0 means DefaultMaxManifestSize (4 MiB).
	MaxManifestSize int64 `yaml:"max_manifest_size,omitempty"`
	// MaxDescriptors caps the descriptors (child manifests, configs, layers) that the
	// distinct manifests of one image's tree list together; 0 means
	// DefaultMaxDescriptors (100000). Over it the sync fails with ErrTooManyDescriptors.
	// Each manifest of a tree is walked once however often indexes list it, and trees
	// deeper than MaxManifestDepth fail with ErrTooDeep.
	MaxDescriptors int `yaml:"max_descriptors,omitempty"`

	// Requested are images other mirrors need (a helm mirror's charts), copied with the
	// selection under the same Platforms and Referrers. Inventory names who asked for
	// each (store.Item.RequestedBy). Set by the program at sync time, never in YAML.
	Requested []RequestedImage `yaml:"-"`

	// Store receives the blobs and the published snapshot.
	Store store.Store `yaml:"-"`
	// Client talks to the registries; nil builds one from Registries.
	Client *Client `yaml:"-"`
	// Logger receives progress records; nil discards.
	Logger *slog.Logger `yaml:"-"`
	// Progress, if set, is called (concurrently) as blobs complete.
	Progress func(Event) `yaml:"-"`
	// Fetch, if set, configures the blob downloads (resume after interruption, retries,
	// byte rate limit, progress events). It is never modified: when its HTTP is nil, Sync
	// downloads through a Client derived from it (fetch.Client.WithHTTP, sharing its
	// limits) whose HTTP is RegistryClient().HTTPClient(), which authenticates registry
	// requests, so the same Client can serve other mirrors. When its HTTP is set, it is
	// used as is and must authenticate registry requests itself. Nil: a fetch.Client with
	// the registry's HTTP client and 2 retries of its own (for resuming a body cut off
	// midway; the registry client's transport already retries 429 and 5xx).
	Fetch *fetch.Client `yaml:"-"`
	// Preflight, when set, is handed what Plan lists once every manifest is read, before
	// any config or layer blob is downloaded.
	Preflight store.Preflight `yaml:"-"`

	clientOnce sync.Once
	client     *Client
}

// Event reports one blob or manifest copied (or failed).
type Event struct {
	Repository string
	Digest     store.Digest
	Size       int64
	Cached     bool // already stored, nothing transferred
	Err        error
}

// SyncStats counts what a sync did. Downloaded and DownloadedBytes count the manifests
// and blobs fetched from registries, Reused those found already stored; Changed is false
// when the tree equals the one published before, and nothing was published.
type SyncStats struct {
	store.SyncResult
	Images    int // tags and digests selected
	Unchanged int // images whose upstream digest matched the published one (one HEAD each)
	Manifests int // manifests in the snapshot
	Blobs     int // config and layer entries in the snapshot
}

// Ref returns the published ref, "oci/<Name>".
func (m *Mirror) Ref() string { return "oci/" + m.Name }

func (m *Mirror) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

// RegistryClient returns the mirror's Client (built from Registries when Client is nil).
func (m *Mirror) RegistryClient() *Client {
	m.clientOnce.Do(func() {
		m.client = m.Client
		if m.client == nil {
			m.client = &Client{Registries: m.Registries, MaxManifestSize: m.MaxManifestSize, Logger: m.Logger}
		}
	})
	return m.client
}

func (m *Mirror) selection() Selection {
	return Selection{Images: m.Images, Repositories: m.Repositories, ImageLists: m.ImageLists, YAMLFiles: m.KubernetesManifests}
}

// Endpoints lists the registry base URLs a sync contacts (for dry runs and firewall
// rules). Selections in files are read; nothing is contacted.
func (m *Mirror) Endpoints() []string {
	refs, err := Selection{Images: m.Images, ImageLists: m.ImageLists, YAMLFiles: m.KubernetesManifests}.Resolve(context.Background(), nil)
	if err != nil {
		m.logger().Warn("oci: endpoints: reading selection", "err", err)
	}
	hosts := map[string]bool{}
	for _, r := range refs {
		hosts[r.Registry] = true
	}
	for _, rs := range m.Repositories {
		if r, err := ParseReference(rs.Repository); err == nil {
			hosts[r.Registry] = true
		}
	}
	c := m.RegistryClient()
	var out []string
	for h := range hosts {
		if rc, err := c.conn(h); err == nil {
			out = append(out, rc.base+"/v2/")
		}
	}
	sort.Strings(out)
	return out
}

// Sync copies the selection into the store and publishes it through store.Update.
// Everything is verified against its digest before it is stored; an image whose
// upstream digest equals the published one costs one HEAD, provided the published tree
// was synced under the same trust settings (Trust): otherwise every manifest is fetched
// again. A sync that arrives at the published tree publishes nothing (SyncStats.Changed
// false); on any error nothing is published.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	cp, refs, requestedBy, err := m.start(ctx)
	if err != nil {
		return SyncStats{}, err
	}
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), m.Trust(), func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			m.logger().Info("oci: trust settings changed: every manifest is fetched again", "ref", m.Ref(), "changed", prev.TrustChanged)
		}
		cp.prev = prev.Snapshot
		if err := cp.images(ctx, refs); err != nil {
			return nil, err
		}
		if err := m.Preflight.Check(ctx, cp.plan()); err != nil {
			return nil, err
		}
		if err := cp.fetchBlobs(ctx); err != nil {
			return nil, err
		}
		for key, by := range requestedBy {
			cp.annotate(annRequestedBy+key, strings.Join(by, "\n"))
		}
		return cp.snap, nil
	})
	st := cp.stats()
	st.Ref, st.Images = m.Ref(), len(refs)
	if err != nil {
		return st, err
	}
	st.Generation, st.Changed = gen, changed
	m.logger().Info("oci: synced", "ref", m.Ref(), "changed", changed, "images", st.Images, "unchanged", st.Unchanged,
		"downloaded", st.Downloaded, "bytes", st.DownloadedBytes, "reused", st.Reused)
	return st, nil
}

// Plan reads every manifest as Sync does (the selection resolved, indexes filtered to
// Platforms, referrers followed when Referrers is set; by GET, as when nothing is
// published) and lists the manifests and the config and layer blobs a sync would
// publish, each with the digest and size its descriptor gives, without downloading a
// blob or publishing anything: a dry run. The manifests it read stay in the store,
// unreferenced until a sync publishes them.
func (m *Mirror) Plan(ctx context.Context) (store.Plan, error) {
	cp, refs, _, err := m.start(ctx)
	if err != nil {
		return store.Plan{}, err
	}
	if err := cp.images(ctx, refs); err != nil {
		return store.Plan{}, err
	}
	return cp.plan(), nil
}

// start checks the settings, resolves the selection and makes the copier of a sync.
func (m *Mirror) start(ctx context.Context) (*copier, []Reference, map[string][]string, error) {
	if m.Store == nil || m.Name == "" {
		return nil, nil, nil, fmt.Errorf("%w: mirror needs a Name and a Store", store.ErrConfig)
	}
	var platforms []Platform
	for _, p := range m.Platforms {
		pl, err := ParsePlatform(p)
		if err != nil {
			return nil, nil, nil, err
		}
		platforms = append(platforms, pl)
	}
	c := m.RegistryClient()
	refs, err := m.selection().Resolve(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	refs, requestedBy, err := withRequested(refs, m.Requested)
	if err != nil {
		return nil, nil, nil, err
	}
	conc := m.Concurrency
	if conc <= 0 {
		conc = 8
	}
	cp := &copier{
		c: c, pull: registryPuller{c: c, fetch: m.blobFetcher(c)}, limit: c.maxManifest(), s: m.Store, snap: store.NewSnapshot(), platforms: platforms,
		referrers: m.Referrers, progress: m.Progress, log: m.logger(), maxDescriptors: m.MaxDescriptors,
		sem: make(chan struct{}, conc), inflight: map[store.Digest]*flight{}, tagLists: map[string][]string{}, got: map[store.Digest]bool{},
	}
	return cp, refs, requestedBy, nil
}

// images reads the manifests of every selected reference (cap(cp.sem) at once); their
// blobs are left for fetchBlobs.
func (cp *copier) images(ctx context.Context, refs []Reference) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cap(cp.sem))
	for _, ref := range refs {
		g.Go(func() error { return cp.image(gctx, ref) })
	}
	return g.Wait()
}

// RequestedImage is an image another mirror needs: Ref is a reference as in Images,
// RequestedBy names who asked ("helm/jetstack cert-manager 1.14.5").
type RequestedImage struct {
	Ref         string
	RequestedBy string
}

// withRequested adds the requested images to refs (each reference once) and returns
// who asked for each, by "<local repository>:<tag>" (or "@<digest>"), sorted.
func withRequested(refs []Reference, req []RequestedImage) ([]Reference, map[string][]string, error) {
	if len(req) == 0 {
		return refs, nil, nil
	}
	have := map[string]bool{}
	for _, r := range refs {
		have[r.String()] = true
	}
	by := map[string][]string{}
	for _, ri := range req {
		r, err := ParseReference(ri.Ref)
		if err != nil {
			return nil, nil, fmt.Errorf("oci: image requested by %s: %w", ri.RequestedBy, err)
		}
		if !have[r.String()] {
			have[r.String()] = true
			refs = append(refs, r)
		}
		key := requestKey(LocalName(r), r.Tag, r.Digest)
		if !slices.Contains(by[key], ri.RequestedBy) {
			by[key] = append(by[key], ri.RequestedBy)
			slices.Sort(by[key])
		}
	}
	return refs, by, nil
}

// requestKey names a tag, or an untagged manifest, in the requested-by annotations.
func requestKey(local, tag string, d store.Digest) string {
	if tag != "" {
		return local + ":" + tag
	}
	return local + "@" + string(d)
}

// Trust is what Sync records with each generation (see store.Trust): the mirror's
// switches (RegistryConfig's Host, Endpoint and PlainHTTP for every registry, and any
// Insecure*, Allow* or Skip* setting), and the registry settings of a Client that the
// program set. A published tree is reused (the one-HEAD check of an unchanged image)
// only by a sync under the same Trust.
func (m *Mirror) Trust() store.Trust {
	t := store.TrustOf(m)
	if m.Client != nil {
		t = t.WithRoot("client registries", store.TrustOf(m.Client).Fingerprint())
	}
	return t
}

// blobFetcher returns the fetch.Client blobs are downloaded with, leaving m.Fetch as it
// is (see Mirror.Fetch).
func (m *Mirror) blobFetcher(c *Client) *fetch.Client {
	f := m.Fetch
	if f == nil {
		return &fetch.Client{Store: m.Store, HTTP: c.HTTPClient(), Retries: 2, Logger: m.Logger}
	}
	if f.HTTP != nil {
		return f
	}
	d := f.WithHTTP(c.HTTPClient())
	if d.Store == nil {
		d.Store = m.Store
	}
	return d
}

// copier does the registry -> store copy of one sync.
type copier struct {
	c         *Client
	pull      puller
	limit     int64
	s         store.Store
	prev      *store.Snapshot
	platforms []Platform
	referrers bool
	progress  func(Event)
	log       *slog.Logger
	sem       chan struct{}
	// maxDescriptors caps each tree (treeWalk); 0: DefaultMaxDescriptors.
	maxDescriptors int

	mu        sync.Mutex
	snap      *store.Snapshot
	inflight  map[store.Digest]*flight
	tagLists  map[string][]string
	got       map[store.Digest]bool // manifests and blobs: true downloaded, false found stored
	unchanged atomic.Int64
	fetched   atomic.Int64
	bytes     atomic.Int64
	// blobs are the config and layer blobs the manifests walked list, in walk order,
	// for fetchBlobs.
	blobs []repoBlob
}

// repoBlob is a blob a manifest of repository local lists.
type repoBlob struct {
	ref   Reference
	local string
	desc  Descriptor
}

type flight struct {
	done chan struct{}
	err  error
}

func (cp *copier) stats() SyncStats {
	st := SyncStats{Unchanged: int(cp.unchanged.Load())}
	st.Downloaded, st.DownloadedBytes = int(cp.fetched.Load()), cp.bytes.Load()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, downloaded := range cp.got {
		if !downloaded {
			st.Reused++
		}
	}
	for p := range cp.snap.Files {
		if _, kind, _, ok := parsePath(p); ok {
			switch kind {
			case "manifest":
				st.Manifests++
			case "blob":
				st.Blobs++
			}
		}
	}
	return st
}

// downloaded counts a manifest or blob fetched from upstream (n bytes); reused one found
// stored. Each digest counts once, as downloaded if it was.
func (cp *copier) downloaded(d store.Digest, n int64) {
	cp.fetched.Add(1)
	cp.bytes.Add(n)
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.got[d] = true
}

func (cp *copier) reused(d store.Digest) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if _, ok := cp.got[d]; !ok {
		cp.got[d] = false
	}
}

func (cp *copier) add(path string, f store.File) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.snap.Add(path, f)
}

func (cp *copier) annotate(k, v string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.snap.Annotations[k] = v
}

// forget drops what a sync recorded about the tag key ("<repo>:<tag>").
func (cp *copier) forget(key string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	delete(cp.snap.Annotations, annUpstream+key)
	delete(cp.snap.Annotations, annPlatforms+key)
}

// image copies one selected reference.
func (cp *copier) image(ctx context.Context, ref Reference) error {
	local := LocalName(ref)
	key := local + ":" + ref.Tag
	var desc Descriptor
	var body []byte
	var upstream store.Digest
	switch {
	case ref.Digest != "":
		upstream = ref.Digest
		desc = Descriptor{Digest: ref.Digest}
	default:
		if f, ok := cp.prevTag(local, ref.Tag); ok {
			// Published before: one HEAD tells whether anything changed.
			h, err := cp.c.Head(ctx, ref)
			if err != nil {
				return fmt.Errorf("oci: %s: %w", ref, err)
			}
			upstream = h.Digest
			if cp.prev.Annotations[annUpstream+key] == string(h.Digest) && cp.prev.Annotations[annPlatforms+key] == platformKey(cp.platforms) {
				cp.unchanged.Add(1)
				desc = Descriptor{Digest: f.Digest, MediaType: f.MediaType, Size: f.Size}
				if err := cp.tree(ctx, ref, local, desc, nil); err != nil {
					return err
				}
				return cp.finish(ctx, ref, local, desc, upstream)
			}
			desc = h
		} else {
			d, b, err := cp.c.Manifest(ctx, ref)
			if err != nil {
				return fmt.Errorf("oci: %s: %w", ref, err)
			}
			cp.downloaded(d.Digest, int64(len(b)))
			desc, body, upstream = d, b, d.Digest
		}
	}
	if body == nil {
		var err error
		if body, desc, err = cp.manifestBytes(ctx, ref, desc); err != nil {
			return err
		}
	}
	if len(cp.platforms) > 0 && IsIndex(desc.MediaType) {
		nb, changed, err := filterIndex(body, desc.Digest, cp.platforms)
		if err != nil {
			return fmt.Errorf("oci: %s: %w", ref, err)
		}
		if changed {
			body = nb
			desc = Descriptor{MediaType: desc.MediaType, Digest: store.DigestOf(nb), Size: int64(len(nb))}
		}
	}
	if err := cp.tree(ctx, ref, local, desc, body); err != nil {
		return err
	}
	return cp.finish(ctx, ref, local, desc, upstream)
}

// finish records the tag, the upstream digest and repository and, if asked, the
// referrers.
func (cp *copier) finish(ctx context.Context, ref Reference, local string, desc Descriptor, upstream store.Digest) error {
	cp.annotate(annSource+local, ref.Name())
	if ref.Tag != "" {
		if err := cp.add(tagPath(local, ref.Tag), store.File{Digest: desc.Digest, Size: desc.Size, MediaType: desc.MediaType}); err != nil {
			return err
		}
		key := local + ":" + ref.Tag
		cp.annotate(annUpstream+key, string(upstream))
		if pk := platformKey(cp.platforms); pk != "" {
			cp.annotate(annPlatforms+key, pk)
		}
	}
	if !cp.referrers {
		return nil
	}
	return cp.copyReferrers(ctx, ref, local, desc, upstream)
}

func platformKey(ps []Platform) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

func (cp *copier) prevTag(local, tag string) (store.File, bool) {
	if cp.prev == nil || tag == "" {
		return store.File{}, false
	}
	return cp.prev.Lookup(tagPath(local, tag))
}

// manifestBytes returns a manifest from the store when present, else from upstream.
func (cp *copier) manifestBytes(ctx context.Context, ref Reference, desc Descriptor) ([]byte, Descriptor, error) {
	limit := cp.limit
	if ok, _ := cp.s.Has(ctx, desc.Digest); ok {
		b, err := store.ReadBlob(ctx, cp.s, desc.Digest, limit)
		if err == nil {
			cp.reused(desc.Digest)
			if desc.MediaType == "" {
				desc.MediaType = sniffMediaType(b)
			}
			desc.Size = int64(len(b))
			return b, desc, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, desc, err
		}
	}
	if desc.Size > limit {
		return nil, desc, fmt.Errorf("oci: %s@%s: %w: %d bytes, limit %d", ref.Name(), desc.Digest, store.ErrTooLarge, desc.Size, limit)
	}
	r := Reference{Registry: ref.Registry, Repository: ref.Repository, Digest: desc.Digest}
	d, b, err := cp.pull.manifest(ctx, r)
	if err != nil {
		return nil, desc, fmt.Errorf("oci: %s: %w", r, err)
	}
	cp.downloaded(d.Digest, int64(len(b)))
	if desc.Size > 0 && d.Size != desc.Size {
		return nil, desc, fmt.Errorf("oci: %s: %w: size %d, descriptor says %d", r, store.ErrDigestMismatch, d.Size, desc.Size)
	}
	if desc.MediaType == "" {
		desc.MediaType = d.MediaType
	}
	desc.Size = d.Size
	return b, desc, nil
}

// tree stores a manifest and everything it references under repository local, each
// manifest once, within the limits of a treeWalk. With body nil the manifest comes from
// the store or upstream.
func (cp *copier) tree(ctx context.Context, ref Reference, local string, desc Descriptor, body []byte) error {
	_, err := cp.walk(ctx, newTreeWalk(ref.Name()+"@"+string(desc.Digest), cp.maxDescriptors), ref, local, desc, body, 1)
	return err
}

// walk is tree for the manifest desc at depth of w's tree; it returns the height of the
// tree below desc.
func (cp *copier) walk(ctx context.Context, w *treeWalk, ref Reference, local string, desc Descriptor, body []byte, depth int) (int, error) {
	if height, done, err := w.enter(desc.Digest, depth); done || err != nil {
		return height, err
	}
	if body == nil {
		var err error
		if body, desc, err = cp.manifestBytes(ctx, ref, desc); err != nil {
			return 0, err
		}
	}
	m, err := ParseManifest(desc.MediaType, body)
	if err != nil {
		return 0, fmt.Errorf("oci: %s@%s: %w", ref.Name(), desc.Digest, err)
	}
	if err := w.count(m); err != nil {
		return 0, err
	}
	if _, err := store.PutBytes(ctx, cp.s, store.ExpectDigest(desc.Digest, int64(len(body))), body); err != nil {
		return 0, fmt.Errorf("oci: %s@%s: %w", ref.Name(), desc.Digest, err)
	}
	if err := cp.add(manifestPath(local, desc.Digest), store.File{Digest: desc.Digest, Size: int64(len(body)), MediaType: m.MediaType}); err != nil {
		return 0, err
	}
	height := 1
	if IsIndex(m.MediaType) {
		for _, child := range m.Manifests {
			h, err := cp.walk(ctx, w, ref, local, child, nil, depth+1)
			if err != nil {
				return 0, err
			}
			height = max(height, h+1)
		}
		w.leave(desc.Digest, height)
		return height, nil
	}
	cp.mu.Lock()
	for _, b := range m.Blobs() {
		if !nondistributable(b) {
			cp.blobs = append(cp.blobs, repoBlob{ref: ref, local: local, desc: b})
		}
	}
	cp.mu.Unlock()
	w.leave(desc.Digest, height)
	return height, nil
}

// plan lists the manifests stored so far (from the snapshot being built) and the blobs
// they list, each digest once.
func (cp *copier) plan() store.Plan {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var p store.Plan
	seen := map[store.Digest]bool{}
	for _, path := range cp.snap.Paths() {
		if _, kind, _, ok := parsePath(path); ok && kind == "manifest" {
			if f := cp.snap.Files[path]; !seen[f.Digest] {
				seen[f.Digest] = true
				p.Items = append(p.Items, store.PlannedItem{Name: path, Digest: f.Digest, Size: f.Size})
			}
		}
	}
	for _, b := range cp.blobs {
		if !seen[b.desc.Digest] {
			seen[b.desc.Digest] = true
			p.Items = append(p.Items, store.PlannedItem{Name: layerPath(b.local, b.desc.Digest), Digest: b.desc.Digest, Size: b.desc.Size})
		}
	}
	return p
}

// fetchBlobs makes sure every blob the walked manifests list is stored (downloading
// each at most once, cap(cp.sem) at once) and adds it to the snapshot.
func (cp *copier) fetchBlobs(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cap(cp.sem))
	for _, b := range cp.blobs {
		g.Go(func() error {
			if err := cp.blob(gctx, b.ref, b.desc); err != nil {
				return err
			}
			return cp.add(layerPath(b.local, b.desc.Digest), store.File{Digest: b.desc.Digest, Size: b.desc.Size, MediaType: b.desc.MediaType})
		})
	}
	return g.Wait()
}

// blob makes sure one blob is stored, downloading it at most once per run.
func (cp *copier) blob(ctx context.Context, ref Reference, d Descriptor) error {
	if ok, err := cp.s.Has(ctx, d.Digest); err != nil {
		return err
	} else if ok {
		cp.reused(d.Digest)
		cp.emit(Event{Repository: ref.Name(), Digest: d.Digest, Size: d.Size, Cached: true})
		return nil
	}
	cp.mu.Lock()
	if f, ok := cp.inflight[d.Digest]; ok {
		cp.mu.Unlock()
		select {
		case <-f.done:
			if f.err == nil { // stored by another manifest's copy: nothing transferred here
				cp.emit(Event{Repository: ref.Name(), Digest: d.Digest, Size: d.Size, Cached: true})
			}
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	cp.inflight[d.Digest] = f
	cp.mu.Unlock()
	f.err = cp.download(ctx, ref, d)
	close(f.done)
	cp.emit(Event{Repository: ref.Name(), Digest: d.Digest, Size: d.Size, Err: f.err})
	return f.err
}

func (cp *copier) download(ctx context.Context, ref Reference, d Descriptor) error {
	select {
	case cp.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-cp.sem }()
	if f, ok := cp.pull.(fetcher); ok {
		n, err := f.fetchBlob(ctx, ref, d)
		if err != nil {
			return fmt.Errorf("oci: blob %s of %s: %w", d.Digest, ref.Name(), err)
		}
		cp.downloaded(d.Digest, n)
		return nil
	}
	rc, err := cp.pull.blob(ctx, ref, d.Digest)
	if err != nil {
		return fmt.Errorf("oci: blob %s of %s: %w", d.Digest, ref.Name(), err)
	}
	defer rc.Close()
	info, err := cp.s.Put(ctx, store.ExpectDigest(d.Digest, d.Size), rc)
	if err != nil {
		return fmt.Errorf("oci: blob %s of %s: %w", d.Digest, ref.Name(), err)
	}
	cp.downloaded(d.Digest, info.Size)
	return nil
}

func (cp *copier) emit(e Event) {
	if cp.progress != nil {
		cp.progress(e)
	}
}

// copyReferrers copies the referrers of the tree at desc (see referrerWalk): cosign-style
// tags and OCI 1.1 referrers, found under upstream for the root.
func (cp *copier) copyReferrers(ctx context.Context, ref Reference, local string, desc Descriptor, upstream store.Digest) error {
	src := Reference{Registry: ref.Registry, Repository: ref.Repository}
	w := referrerWalk{
		manifest: func(ctx context.Context, d Descriptor) ([]byte, error) {
			return store.ReadBlob(ctx, cp.s, d.Digest, cp.limit)
		},
		list: func(ctx context.Context, subject store.Digest) ([]referrer, error) {
			tags, err := cp.tags(ctx, ref)
			if err != nil {
				return nil, err
			}
			var out []referrer
			for _, t := range cosignTags(tags, subject) {
				r := Reference{Registry: ref.Registry, Repository: ref.Repository, Tag: t}
				d, b, err := cp.c.Manifest(ctx, r)
				if err != nil {
					return nil, fmt.Errorf("oci: %s: %w", r, err)
				}
				cp.downloaded(d.Digest, int64(len(b)))
				out = append(out, referrer{Descriptor: d, tag: t, body: b})
			}
			api, err := apiReferrers(ctx, cp.c, src, subject)
			return append(out, api...), err
		},
		copy: func(ctx context.Context, r referrer) error {
			at := Reference{Registry: ref.Registry, Repository: ref.Repository, Tag: r.tag, Digest: r.Digest}
			if err := cp.tree(ctx, at, local, r.Descriptor, r.body); err != nil {
				return err
			}
			if r.tag == "" {
				return nil
			}
			if err := cp.add(tagPath(local, r.tag), store.File{Digest: r.Digest, Size: r.Size, MediaType: r.MediaType}); err != nil {
				return err
			}
			cp.annotate(annUpstream+local+":"+r.tag, string(r.Digest))
			return nil
		},
	}
	return w.run(ctx, desc, nil, upstream)
}

// tags lists a repository's tags once per run.
func (cp *copier) tags(ctx context.Context, ref Reference) ([]string, error) {
	key := ref.Name()
	cp.mu.Lock()
	t, ok := cp.tagLists[key]
	cp.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := cp.c.Tags(ctx, ref.Registry, ref.Repository)
	if err != nil {
		return nil, fmt.Errorf("oci: tags of %s: %w", key, err)
	}
	cp.mu.Lock()
	cp.tagLists[key] = t
	cp.mu.Unlock()
	return t, nil
}

// puller is where the copier reads content it does not have yet.
type puller interface {
	manifest(ctx context.Context, ref Reference) (Descriptor, []byte, error)
	blob(ctx context.Context, ref Reference, d store.Digest) (io.ReadCloser, error)
}

// fetcher is a puller that stores blobs itself (through store/fetch).
type fetcher interface {
	fetchBlob(ctx context.Context, ref Reference, d Descriptor) (int64, error)
}

type registryPuller struct {
	c     *Client
	fetch *fetch.Client
}

// fetchBlob downloads a blob into the store with store/fetch (verified while streaming,
// resumable). It returns the bytes transferred.
func (p registryPuller) fetchBlob(ctx context.Context, ref Reference, d Descriptor) (int64, error) {
	u, err := p.c.blobURL(ref.Registry, ref.Repository, d.Digest)
	if err != nil {
		return 0, err
	}
	res, err := p.fetch.Fetch(ctx, fetch.Request{URL: u, Expect: store.ExpectDigest(d.Digest, d.Size)})
	var he *fetch.HTTPError
	if errors.As(err, &he) {
		return 0, &RegistryError{Method: http.MethodGet, URL: he.URL, StatusCode: he.StatusCode, Message: he.Body}
	}
	if err != nil {
		return 0, err
	}
	return res.Blob.Size, nil
}

func (p registryPuller) manifest(ctx context.Context, ref Reference) (Descriptor, []byte, error) {
	return p.c.Manifest(ctx, ref)
}

func (p registryPuller) blob(ctx context.Context, ref Reference, d store.Digest) (io.ReadCloser, error) {
	rc, _, err := p.c.OpenBlob(ctx, ref.Registry, ref.Repository, d)
	return rc, err
}

func nopLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
