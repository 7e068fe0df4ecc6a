package snapproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/airgapkit/airgap/store"
)

// catalog is what the store API answers from: the snaps and assertions of the published
// trees of its refs, merged.
type catalog struct {
	snaps map[string]*heldSnap // by name
	byID  map[string]*heldSnap
	// downloads maps the download file name (SNAPID_REV.snap) to the revision.
	downloads  map[string]*heldRev
	assertions map[string]*Assertion // "type/key/..." as in /v2/assertions
	// store is the store assertion stream of a registered proxy store (StoreFile).
	store []byte
}

// heldSnap is one snap with every revision the mirrors hold.
type heldSnap struct {
	name, id     string
	defaultTrack string
	revs         []*heldRev // newest first
}

// heldRev is one revision of a snap, for the architectures it was mirrored for.
type heldRev struct {
	ManifestSnap
	yaml yamlInfo
	file store.File
}

// forArch reports whether a device of arch may install the revision: it was mirrored for
// arch, or its snap.yaml says it runs anywhere.
func (r *heldRev) forArch(arch string) bool {
	return slices.Contains(r.Architectures, arch) || slices.Contains(r.yaml.Architectures, "all") || slices.Contains(r.yaml.Architectures, arch)
}

// downloadName is the file name of the revision's download URL, as the store names it.
func (r *heldRev) downloadName() string {
	return r.SnapID + "_" + strconv.Itoa(r.Revision) + ".snap"
}

// released returns the revision a device of arch tracking ch gets: the one released
// there (of several mirrors, the highest), or nil.
func (s *heldSnap) released(ch Channel, arch string) *heldRev {
	for _, r := range s.revs { // newest first
		for _, rel := range r.Releases {
			if rel.Architecture == arch && rel.Channel == ch.String() {
				return r
			}
		}
	}
	return nil
}

// revision returns the held revision n for arch, or nil.
func (s *heldSnap) revision(n int, arch string) *heldRev {
	for _, r := range s.revs {
		if r.Revision == n && r.forArch(arch) {
			return r
		}
	}
	return nil
}

// releases lists every channel and architecture the snap is released in, sorted.
func (s *heldSnap) releases() []Release {
	var out []Release
	for _, r := range s.revs {
		for _, rel := range r.Releases {
			if !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Channel < out[j].Channel || out[i].Channel == out[j].Channel && out[i].Architecture < out[j].Architecture
	})
	return out
}

// sameRevisions tells whether two revisions held by different mirrors are one file.
func sameRevision(a, b *heldRev) bool {
	return a.Revision == b.Revision && a.SHA3_384 == b.SHA3_384
}

// catalogs builds and caches the catalog of a set of refs, again when one of them
// publishes.
type catalogs struct {
	s    store.Store
	refs []*store.Live

	mu      sync.Mutex
	records string
	cat     *catalog
}

// current returns the catalog of what the refs publish now. A ref never published
// contributes nothing; other store errors are returned.
func (c *catalogs) current(ctx context.Context) (*catalog, error) {
	var snaps []*store.Snapshot
	var records []string
	for _, l := range c.refs {
		snap, gen, err := l.Snapshot(ctx)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, snap)
		records = append(records, string(gen.Record))
	}
	key := strings.Join(records, " ")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cat != nil && c.records == key {
		return c.cat, nil
	}
	cat, err := buildCatalog(ctx, c.s, snaps)
	if err != nil {
		return nil, err
	}
	c.cat, c.records = cat, key
	return cat, nil
}

// buildCatalog reads the manifests and assertion files of the snapshots.
func buildCatalog(ctx context.Context, s store.Store, snaps []*store.Snapshot) (*catalog, error) {
	cat := &catalog{snaps: map[string]*heldSnap{}, byID: map[string]*heldSnap{}, downloads: map[string]*heldRev{},
		assertions: map[string]*Assertion{}}
	for _, snap := range snaps {
		out, err := outputOf(ctx, s, snap)
		if err != nil {
			return nil, err
		}
		for _, ms := range out.Manifest.Snaps {
			if err := cat.addRevision(ctx, out, ms); err != nil {
				return nil, err
			}
		}
		for _, path := range []string{AssertionsFile, StoreFile, RootsFile} {
			b, err := readFile(ctx, s, snap, path)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if path == StoreFile {
				cat.store = b
			}
			if err := cat.addAssertions(b); err != nil {
				return nil, fmt.Errorf("snapproxy: %s: %w", path, err)
			}
		}
		for name, track := range out.Manifest.DefaultTracks {
			if h := cat.snaps[name]; h != nil && h.defaultTrack == "" {
				h.defaultTrack = track
			}
		}
	}
	for _, h := range cat.snaps {
		sort.SliceStable(h.revs, func(i, j int) bool { return h.revs[i].Revision > h.revs[j].Revision })
	}
	return cat, nil
}

func (cat *catalog) addRevision(ctx context.Context, out *Output, ms ManifestSnap) error {
	f, ok := out.Snapshot.Lookup(ms.File)
	if !ok {
		return fmt.Errorf("%w: %s in %s but not in the snapshot", ErrMalformed, ms.File, ManifestFile)
	}
	y, err := parseYAMLInfo(ms.SnapYAML)
	if err != nil {
		return fmt.Errorf("snapproxy: %s: %w", ms.File, err)
	}
	rev := &heldRev{ManifestSnap: ms, yaml: y, file: f}
	h := cat.snaps[ms.Name]
	if h == nil {
		h = &heldSnap{name: ms.Name, id: ms.SnapID}
		cat.snaps[ms.Name], cat.byID[ms.SnapID] = h, h
	}
	if h.id != ms.SnapID {
		return fmt.Errorf("%w: two snap-ids for %s (%s, %s)", ErrMalformed, ms.Name, h.id, ms.SnapID)
	}
	if i := slices.IndexFunc(h.revs, func(r *heldRev) bool { return sameRevision(r, rev) }); i >= 0 {
		// The same file in two mirrors: one revision, the union of its releases.
		old := h.revs[i]
		for _, a := range ms.Architectures {
			if !slices.Contains(old.Architectures, a) {
				old.Architectures = append(old.Architectures, a)
			}
		}
		old.Releases = append(old.Releases, ms.Releases...)
	} else {
		h.revs = append(h.revs, rev)
		cat.downloads[rev.downloadName()] = rev
	}
	set, err := out.Assertions(ctx, ms)
	if err != nil {
		return fmt.Errorf("snapproxy: %s: %w", ms.Assert, err)
	}
	for _, a := range set {
		cat.addAssertion(a)
	}
	return nil
}

func (cat *catalog) addAssertions(b []byte) error {
	set, err := DecodeAll(bytes.NewReader(b), 0)
	if err != nil {
		return err
	}
	for _, a := range set {
		cat.addAssertion(a)
	}
	return nil
}

// addAssertion indexes a by its path key, keeping the newest revision.
func (cat *catalog) addAssertion(a *Assertion) {
	key := a.PrimaryKey()
	if key == nil {
		return
	}
	k := a.Type() + "/" + strings.Join(key, "/")
	if old := cat.assertions[k]; old == nil || a.Revision() > old.Revision() {
		cat.assertions[k] = a
	}
}

// readFile reads a small file of the snapshot (ErrNotFound when absent).
func readFile(ctx context.Context, s store.Store, snap *store.Snapshot, path string) ([]byte, error) {
	f, ok := snap.Lookup(path)
	if !ok {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, path)
	}
	r, err := s.Open(ctx, f.Digest)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, maxAssertionSize*8))
}
