package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/airgapkit/airgap/store"
	"golang.org/x/sync/errgroup"
)

// Mapping names target repositories for a mirror's local repositories
// ("docker.io/library/nginx"):
//
//	nested (default)      registry.internal/<prefix>/docker.io/library/nginx
//	StripRegistry         registry.internal/<prefix>/library/nginx
//	Flatten               registry.internal/<prefix>/docker.io-library-nginx
//
// Flatten suits registries whose projects cannot nest deeper (Harbor with a single
// project level); Separator joins the parts ("-" by default; "_" and "." also form
// valid names).
type Mapping struct {
	// Registry is the target host[:port].
	Registry string `yaml:"registry"`
	// Prefix is put in front of every repository ("" for none), e.g. "mirror".
	Prefix string `yaml:"prefix,omitempty"`
	// StripRegistry drops the source registry host from the name.
	StripRegistry bool `yaml:"strip_registry,omitempty"`
	// Flatten joins the source path into one component after Prefix.
	Flatten bool `yaml:"flatten,omitempty"`
	// Separator joins flattened components; "" means "-".
	Separator string `yaml:"separator,omitempty"`
}

// Target returns the target repository path for a local repository name.
func (mp Mapping) Target(local string) (string, error) {
	name := local
	if mp.StripRegistry {
		if _, rest, ok := strings.Cut(local, "/"); ok {
			name = rest
		}
	}
	if mp.Flatten {
		sep := mp.Separator
		if sep == "" {
			sep = "-"
		}
		name = strings.ReplaceAll(name, "/", sep)
	}
	name = strings.ToLower(name)
	if p := strings.Trim(mp.Prefix, "/"); p != "" {
		name = p + "/" + name
	}
	if !validRepository(name) {
		return "", fmt.Errorf("%w: %q maps to invalid repository %q", ErrInvalidReference, local, name)
	}
	return name, nil
}

// PushOptions tune Push and Copy.
type PushOptions struct {
	// Client talks to the registries; nil makes a default one (https only).
	Client *Client
	// Concurrency bounds parallel uploads; 0 means 8.
	Concurrency int
	// Logger receives progress records; nil discards.
	Logger *slog.Logger
	// Progress, if set, is called (concurrently) per blob handled.
	Progress func(Event)
	// Referrers (Copy only; Push sends whatever the mirror holds) also copies cosign tags
	// and OCI 1.1 referrers to any depth, as Mirror.Referrers does.
	Referrers bool
	// Platforms (Copy only) keeps these entries of multi-platform indexes, as
	// Mirror.Platforms does (see there what the filtered index's digest means).
	Platforms []string
	// MaxDescriptors caps one image's tree as Mirror.MaxDescriptors does (0:
	// DefaultMaxDescriptors); Push of a mirror synced with a higher limit needs the same.
	MaxDescriptors int
}

// PushStats counts what a push or copy did.
type PushStats struct {
	Images        int   // tags and untagged manifests considered
	Unchanged     int   // already at the target with the same digest (one HEAD each)
	Manifests     int   // manifests written
	BlobsUploaded int   // blobs sent
	BlobsMounted  int   // blobs linked from another repository of the target
	BlobsExisting int   // blobs the target already had
	BytesUploaded int64 // bytes sent
}

// source is where a push reads manifests and blobs.
type source interface {
	manifest(ctx context.Context, repo string, d store.Digest) ([]byte, error)
	// blob returns an opener; each call starts the content again (retries replay it).
	blob(ctx context.Context, repo string, d Descriptor) func() (io.ReadCloser, error)
}

type storeSource struct{ s store.Store }

func (ss storeSource) manifest(ctx context.Context, _ string, d store.Digest) ([]byte, error) {
	return store.ReadBlob(ctx, ss.s, d, 64<<20)
}

func (ss storeSource) blob(ctx context.Context, _ string, d Descriptor) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return ss.s.Open(ctx, d.Digest) }
}

type registrySource struct {
	c    *Client
	host string
}

func (rs registrySource) manifest(ctx context.Context, repo string, d store.Digest) ([]byte, error) {
	_, b, err := rs.c.Manifest(ctx, Reference{Registry: rs.host, Repository: repo, Digest: d})
	return b, err
}

func (rs registrySource) blob(ctx context.Context, repo string, d Descriptor) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		rc, _, err := rs.c.OpenBlob(ctx, rs.host, repo, d.Digest)
		if err != nil {
			return nil, err
		}
		v, err := store.NewVerifier(store.ExpectDigest(d.Digest, d.Size))
		if err != nil {
			rc.Close()
			return nil, err
		}
		return &verifyingReader{rc: rc, v: v}, nil
	}
}

// verifyingReader passes a blob through while hashing it and fails at the end, before
// EOF is reported, when it does not match: the upload never completes with wrong bytes.
type verifyingReader struct {
	rc io.ReadCloser
	v  *store.Verifier
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if n > 0 {
		if _, werr := r.v.Write(p[:n]); werr != nil {
			return 0, werr
		}
	}
	if errors.Is(err, io.EOF) {
		if _, cerr := r.v.Check(); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

func (r *verifyingReader) Close() error { return r.rc.Close() }

// pusher is one push or copy run: the target, and which target repository holds which
// blob, so that each blob is sent once per run and mounted elsewhere.
type pusher struct {
	c        *Client
	to       Mapping
	log      *slog.Logger
	progress func(Event)
	sem      chan struct{}
	// maxDescriptors caps each tree (treeWalk); 0: DefaultMaxDescriptors.
	maxDescriptors int

	mu         sync.Mutex
	fallbackMu sync.Mutex
	holders    map[store.Digest]map[string]bool
	inflight   map[store.Digest]*flight
	// filteredIdx: "<dst>@<upstream index>" -> platform-filtered indexes made from it.
	filteredIdx map[string][]store.Digest

	unchanged, manifests, uploaded, mounted, existing atomic.Int64
	bytes                                             atomic.Int64
}

func newPusher(opt PushOptions, to Mapping) *pusher {
	c := opt.Client
	if c == nil {
		c = &Client{Logger: opt.Logger}
	}
	n := opt.Concurrency
	if n <= 0 {
		n = 8
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &pusher{c: c, to: to, log: log, progress: opt.Progress, sem: make(chan struct{}, n), maxDescriptors: opt.MaxDescriptors,
		holders: map[store.Digest]map[string]bool{}, inflight: map[store.Digest]*flight{}, filteredIdx: map[string][]store.Digest{}}
}

func (p *pusher) stats(images int) PushStats {
	return PushStats{Images: images, Unchanged: int(p.unchanged.Load()), Manifests: int(p.manifests.Load()),
		BlobsUploaded: int(p.uploaded.Load()), BlobsMounted: int(p.mounted.Load()), BlobsExisting: int(p.existing.Load()),
		BytesUploaded: p.bytes.Load()}
}

// pushTree writes a manifest and everything below it to dst, the manifest last, under
// ref (a tag or its digest), each manifest once, within the limits of a treeWalk.
func (p *pusher) pushTree(ctx context.Context, src source, srcRepo, dst string, desc Descriptor, body []byte, ref string) error {
	_, err := p.walk(ctx, newTreeWalk(srcRepo+"@"+string(desc.Digest), p.maxDescriptors), src, srcRepo, dst, desc, body, ref, 1)
	return err
}

// walk is pushTree for the manifest desc at depth of w's tree; it returns the height of
// the tree below desc. An index entry (depth > 1) that the target has already costs one
// HEAD and is not walked.
func (p *pusher) walk(ctx context.Context, w *treeWalk, src source, srcRepo, dst string, desc Descriptor, body []byte, ref string, depth int) (int, error) {
	if height, done, err := w.enter(desc.Digest, depth); done || err != nil {
		return height, err
	}
	if depth > 1 {
		if h, err := p.c.headPush(ctx, p.to.Registry, dst, string(desc.Digest)); err == nil && h.Digest == desc.Digest {
			w.leave(desc.Digest, 1)
			return 1, nil
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return 0, err
		}
	}
	if body == nil {
		var err error
		if body, err = src.manifest(ctx, srcRepo, desc.Digest); err != nil {
			return 0, err
		}
		if got := store.DigestOf(body); got != desc.Digest {
			return 0, fmt.Errorf("oci: manifest %s: %w: got %s", desc.Digest, store.ErrDigestMismatch, got)
		}
	}
	m, err := ParseManifest(desc.MediaType, body)
	if err != nil {
		return 0, fmt.Errorf("oci: manifest %s: %w", desc.Digest, err)
	}
	if err := w.count(m); err != nil {
		return 0, err
	}
	height := 1
	if IsIndex(m.MediaType) {
		for _, child := range m.Manifests {
			h, err := p.walk(ctx, w, src, srcRepo, dst, child, nil, string(child.Digest), depth+1)
			if err != nil {
				return 0, err
			}
			height = max(height, h+1)
		}
	} else {
		g, gctx := errgroup.WithContext(ctx)
		for _, b := range m.Blobs() {
			if nondistributable(b) {
				continue
			}
			g.Go(func() error { return p.ensureBlob(gctx, src, srcRepo, dst, b) })
		}
		if err := g.Wait(); err != nil {
			return 0, err
		}
	}
	w.leave(desc.Digest, height)
	hdr, err := p.c.putManifest(ctx, p.to.Registry, dst, ref, m.MediaType, body)
	if err != nil {
		return 0, fmt.Errorf("oci: push %s/%s:%s: %w", p.to.Registry, dst, ref, err)
	}
	p.manifests.Add(1)
	if m.Subject == nil || hdr.Get("OCI-Subject") != "" {
		return height, nil
	}
	// The filtered indexes made from the subject list the referrer in their fallback tag
	// too. (A registry with the referrers API files it under the subject only.)
	for _, sub := range append([]store.Digest{m.Subject.Digest}, p.filteredFrom(dst, m.Subject.Digest)...) {
		if err := p.addFallbackReferrer(ctx, dst, sub, m, desc, len(body)); err != nil {
			return 0, err
		}
	}
	return height, nil
}

// filtered records that dst holds index filtered, a platform-filtered copy of source.
func (p *pusher) filtered(dst string, source, filtered store.Digest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := dst + "@" + string(source)
	if !slices.Contains(p.filteredIdx[k], filtered) {
		p.filteredIdx[k] = append(p.filteredIdx[k], filtered)
	}
}

func (p *pusher) filteredFrom(dst string, source store.Digest) []store.Digest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.filteredIdx[dst+"@"+string(source)])
}

// addFallbackReferrer records a pushed referrer in the "sha256-<hex>" tag index of its
// subject, as OCI 1.1 asks of clients when a registry does not index subjects itself
// (distribution 2.8). Updates are serialised within the run.
func (p *pusher) addFallbackReferrer(ctx context.Context, dst string, subject store.Digest, m *Manifest, desc Descriptor, size int) error {
	p.fallbackMu.Lock()
	defer p.fallbackMu.Unlock()
	tag := "sha256-" + subject.Hex()
	entry := referrerDescriptor(m, Descriptor{MediaType: m.MediaType, Digest: desc.Digest, Size: int64(size)})
	idx := &Manifest{SchemaVersion: 2, MediaType: MediaTypeOCIIndex}
	_, b, err := p.c.Manifest(ctx, Reference{Registry: p.to.Registry, Repository: dst, Tag: tag})
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return fmt.Errorf("oci: referrers tag %s/%s:%s: %w", p.to.Registry, dst, tag, err)
	default:
		if idx, err = ParseManifest(MediaTypeOCIIndex, b); err != nil {
			return fmt.Errorf("oci: referrers tag %s/%s:%s: %w", p.to.Registry, dst, tag, err)
		}
		for _, d := range idx.Manifests {
			if d.Digest == desc.Digest {
				return nil
			}
		}
	}
	idx.Manifests = append(idx.Manifests, entry)
	nb, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return p.c.PutManifest(ctx, p.to.Registry, dst, tag, MediaTypeOCIIndex, nb)
}

func (p *pusher) holds(d store.Digest, repo string) (home string, here bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for r := range p.holders[d] {
		if r == repo {
			return r, true
		}
		home = r
	}
	return home, false
}

func (p *pusher) record(d store.Digest, repo string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holders[d] == nil {
		p.holders[d] = map[string]bool{}
	}
	p.holders[d][repo] = true
}

// ensureBlob makes dst hold blob b: known from this run, mounted from a repository that
// holds it, found by HEAD, or uploaded. A blob being uploaded elsewhere is waited for and
// then mounted.
func (p *pusher) ensureBlob(ctx context.Context, src source, srcRepo, dst string, b Descriptor) error {
	for {
		if _, here := p.holds(b.Digest, dst); here {
			return nil
		}
		p.mu.Lock()
		f, busy := p.inflight[b.Digest]
		if !busy {
			f = &flight{done: make(chan struct{})}
			p.inflight[b.Digest] = f
		}
		p.mu.Unlock()
		if busy {
			select {
			case <-f.done:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		f.err = p.placeBlob(ctx, src, srcRepo, dst, b)
		p.mu.Lock()
		delete(p.inflight, b.Digest)
		p.mu.Unlock()
		close(f.done)
		p.emit(Event{Repository: dst, Digest: b.Digest, Size: b.Size, Err: f.err})
		return f.err
	}
}

func (p *pusher) placeBlob(ctx context.Context, src source, srcRepo, dst string, b Descriptor) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.sem }()
	location := ""
	if home, _ := p.holds(b.Digest, dst); home != "" {
		mounted, loc, err := p.c.Mount(ctx, p.to.Registry, dst, home, b.Digest)
		if err != nil {
			return fmt.Errorf("oci: mount %s into %s: %w", b.Digest, dst, err)
		}
		if mounted {
			p.mounted.Add(1)
			p.record(b.Digest, dst)
			return nil
		}
		location = loc
	} else {
		ok, err := p.c.BlobExists(ctx, p.to.Registry, dst, b.Digest, true)
		if err != nil {
			return err
		}
		if ok {
			p.existing.Add(1)
			p.record(b.Digest, dst)
			return nil
		}
	}
	open := src.blob(ctx, srcRepo, b)
	if err := p.c.upload(ctx, p.to.Registry, dst, location, b.Digest, b.Size, open); err != nil {
		return fmt.Errorf("oci: upload %s into %s: %w", b.Digest, dst, err)
	}
	p.uploaded.Add(1)
	p.bytes.Add(b.Size)
	p.record(b.Digest, dst)
	return nil
}

func (p *pusher) emit(e Event) {
	if p.progress != nil {
		p.progress(e)
	}
}

// Push copies the snapshot that ref publishes in s to the registry to.Registry, naming
// repositories with to. Manifests go byte for byte (digests unchanged). A tag whose
// target digest already matches costs one HEAD; blobs the target has are not sent;
// blobs already placed in another repository during the run are mounted.
func Push(ctx context.Context, s store.Store, ref string, to Mapping, opt PushOptions) (PushStats, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return PushStats{}, err
	}
	p := newPusher(opt, to)
	type root struct {
		local, dst string
		desc       Descriptor
		tags       []string
	}
	all, err := snapshotRoots(ctx, s, snap)
	if err != nil {
		return PushStats{}, err
	}
	targets := map[string]string{}
	var roots []root
	for _, r := range all {
		dst, err := to.Target(r.Repository)
		if err != nil {
			return PushStats{}, err
		}
		if other, dup := targets[dst]; dup && other != r.Repository {
			return PushStats{}, fmt.Errorf("%w: %s and %s -> %s", ErrMappingCollision, other, r.Repository, dst)
		}
		targets[dst] = r.Repository
		roots = append(roots, root{local: r.Repository, dst: dst, desc: r.Descriptor, tags: r.Tags})
		if r.Source != "" {
			p.filtered(dst, r.Source, r.Digest)
		}
	}
	sort.Slice(roots, func(i, j int) bool {
		if roots[i].local != roots[j].local {
			return roots[i].local < roots[j].local
		}
		return roots[i].desc.Digest < roots[j].desc.Digest
	})
	src := storeSource{s}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cap(p.sem))
	for _, r := range roots {
		g.Go(func() error {
			return p.pushRoot(gctx, src, r.local, r.dst, r.desc, nil, r.tags)
		})
	}
	err = g.Wait()
	return p.stats(len(roots)), err
}

// pushRoot pushes one top-level manifest under its tags (or its digest when untagged),
// unless the target already has it.
func (p *pusher) pushRoot(ctx context.Context, src source, srcRepo, dst string, desc Descriptor, body []byte, tags []string) error {
	idents := tags
	if len(idents) == 0 {
		idents = []string{string(desc.Digest)}
	}
	var missing []string
	for _, id := range idents {
		h, err := p.c.headPush(ctx, p.to.Registry, dst, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("oci: %s/%s:%s: %w", p.to.Registry, dst, id, err)
		}
		if err != nil || h.Digest != desc.Digest {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		p.unchanged.Add(1)
		return nil
	}
	if err := p.pushTree(ctx, src, srcRepo, dst, desc, body, missing[0]); err != nil {
		return err
	}
	for _, id := range missing[1:] {
		if body == nil {
			var err error
			if body, err = src.manifest(ctx, srcRepo, desc.Digest); err != nil {
				return err
			}
		}
		if err := p.c.PutManifest(ctx, p.to.Registry, dst, id, desc.MediaType, body); err != nil {
			return err
		}
	}
	return nil
}

// Copy copies the selected images from their registries straight to to.Registry (no
// store), manifests byte for byte. An image already at the target with the same digest
// costs one HEAD on each side.
func Copy(ctx context.Context, sel Selection, to Mapping, opt PushOptions) (PushStats, error) {
	var platforms []Platform
	for _, s := range opt.Platforms {
		pl, err := ParsePlatform(s)
		if err != nil {
			return PushStats{}, err
		}
		platforms = append(platforms, pl)
	}
	p := newPusher(opt, to)
	refs, err := sel.Resolve(ctx, p.c)
	if err != nil {
		return PushStats{}, err
	}
	targets := map[string]string{}
	for _, r := range refs {
		dst, err := to.Target(LocalName(r))
		if err != nil {
			return PushStats{}, err
		}
		if other, dup := targets[dst]; dup && other != r.Name() {
			return PushStats{}, fmt.Errorf("%w: %s and %s -> %s", ErrMappingCollision, other, r.Name(), dst)
		}
		targets[dst] = r.Name()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cap(p.sem))
	for _, r := range refs {
		g.Go(func() error {
			dst, _ := to.Target(LocalName(r))
			desc, err := p.c.Head(gctx, r)
			if err != nil {
				return fmt.Errorf("oci: %s: %w", r, err)
			}
			var tags []string
			if r.Tag != "" {
				tags = []string{r.Tag}
			}
			src := registrySource{c: p.c, host: r.Registry}
			var body []byte
			upstream := desc.Digest
			if len(platforms) > 0 && IsIndex(desc.MediaType) {
				d, b, err := p.c.Manifest(gctx, Reference{Registry: r.Registry, Repository: r.Repository, Digest: desc.Digest})
				if err != nil {
					return fmt.Errorf("oci: %s: %w", r, err)
				}
				nb, changed, err := filterIndex(b, d.Digest, platforms)
				if err != nil {
					return fmt.Errorf("oci: %s: %w", r, err)
				}
				body = nb
				if changed {
					desc = Descriptor{MediaType: d.MediaType, Digest: store.DigestOf(nb), Size: int64(len(nb))}
					p.filtered(dst, upstream, desc.Digest)
				}
			}
			if err := p.pushRoot(gctx, src, r.Repository, dst, desc, body, tags); err != nil {
				return err
			}
			if !opt.Referrers {
				return nil
			}
			return p.copyReferrers(gctx, src, r, dst, desc, body, upstream)
		})
	}
	err = g.Wait()
	return p.stats(len(refs)), err
}

// copyReferrers copies the referrers of the tree at desc (body: its bytes when the source
// does not hold it, a filtered index) from a registry, found under upstream for the root
// (see referrerWalk).
func (p *pusher) copyReferrers(ctx context.Context, src registrySource, r Reference, dst string, desc Descriptor, body []byte, upstream store.Digest) error {
	var tags []string
	listed := false
	w := referrerWalk{
		manifest: func(ctx context.Context, d Descriptor) ([]byte, error) {
			return src.manifest(ctx, r.Repository, d.Digest)
		},
		list: func(ctx context.Context, subject store.Digest) ([]referrer, error) {
			if !listed {
				var err error
				if tags, err = p.c.Tags(ctx, r.Registry, r.Repository); err != nil {
					return nil, fmt.Errorf("oci: tags of %s: %w", r.Name(), err)
				}
				listed = true
			}
			var out []referrer
			for _, t := range cosignTags(tags, subject) {
				tr := Reference{Registry: r.Registry, Repository: r.Repository, Tag: t}
				d, err := p.c.Head(ctx, tr)
				if err != nil {
					return nil, fmt.Errorf("oci: %s: %w", tr, err)
				}
				out = append(out, referrer{Descriptor: d, tag: t})
			}
			api, err := apiReferrers(ctx, p.c, r, subject)
			return append(out, api...), err
		},
		copy: func(ctx context.Context, ref referrer) error {
			var tags []string
			if ref.tag != "" {
				tags = []string{ref.tag}
			}
			return p.pushRoot(ctx, src, r.Repository, dst, ref.Descriptor, nil, tags)
		},
	}
	return w.run(ctx, desc, body, upstream)
}

// rootManifest is a top-level manifest of a snapshot repository: tagged, or untagged and
// not listed by an index of the same repository (referrers, images kept by digest).
type rootManifest struct {
	Repository string
	Descriptor
	Tags   []string     // sorted; empty when untagged
	Source store.Digest // for a platform-filtered index: the upstream index (AnnotationSourceDigest)
}

// snapshotRoots lists the top-level manifests of every repository of snap.
func snapshotRoots(ctx context.Context, s store.Store, snap *store.Snapshot) ([]rootManifest, error) {
	manifests := map[string]map[store.Digest]store.File{}
	tags := map[string]map[store.Digest][]string{}
	for path, f := range snap.Files {
		repo, kind, n, ok := parsePath(path)
		if !ok {
			continue
		}
		switch kind {
		case "manifest":
			if manifests[repo] == nil {
				manifests[repo] = map[store.Digest]store.File{}
			}
			manifests[repo][f.Digest] = f
		case "tag":
			if tags[repo] == nil {
				tags[repo] = map[store.Digest][]string{}
			}
			tags[repo][f.Digest] = append(tags[repo][f.Digest], n)
		}
	}
	var out []rootManifest
	for repo, ms := range manifests {
		children := map[store.Digest]bool{}
		sources := map[store.Digest]store.Digest{}
		for d, f := range ms {
			if !IsIndex(f.MediaType) {
				continue
			}
			b, err := store.ReadBlob(ctx, s, d, 64<<20)
			if err != nil {
				return nil, err
			}
			m, err := ParseManifest(f.MediaType, b)
			if err != nil {
				return nil, fmt.Errorf("oci: %s@%s: %w", repo, d, err)
			}
			for _, c := range m.Manifests {
				children[c.Digest] = true
			}
			if src, err := store.ParseDigest(m.Annotations[AnnotationSourceDigest]); err == nil {
				sources[d] = src
			}
		}
		for d, f := range ms {
			t := tags[repo][d]
			if children[d] && len(t) == 0 {
				continue
			}
			sort.Strings(t)
			out = append(out, rootManifest{Repository: repo, Descriptor: Descriptor{MediaType: f.MediaType, Digest: d, Size: f.Size}, Tags: t, Source: sources[d]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Repository != out[j].Repository {
			return out[i].Repository < out[j].Repository
		}
		return out[i].Digest < out[j].Digest
	})
	return out, nil
}
