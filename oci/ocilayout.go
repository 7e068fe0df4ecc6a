package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/airgapkit/airgap/store"
)

// OCI image layout annotations naming an index.json entry.
const (
	AnnotationRefName       = "org.opencontainers.image.ref.name"
	AnnotationContainerdRef = "io.containerd.image.name"
	// AnnotationRepository names the repository of an untagged index.json entry
	// (a referrer or an image kept by digest) that ExportLayout writes.
	AnnotationRepository = "dev.airgapkit.oci.repository"
)

const (
	layoutFile    = "oci-layout"
	layoutIndex   = "index.json"
	layoutLock    = ".index.json.lock"
	maxLayoutJSON = 16 << 20
)

// ErrLayoutLocked: another LayoutWriter holds the layout directory (or a crashed one
// left its lock file; remove ".index.json.lock" after checking).
var ErrLayoutLocked = errors.New("oci: layout directory is locked by another writer")

// LayoutWriter writes an OCI image layout directory. It is the single writer of
// index.json: entries are replaced by name, never duplicated, and index.json is written
// once, by Commit, to a temporary file renamed into place. Blobs are written to
// temporary files, verified, and renamed, so a reader never sees a partial blob. A lock
// file keeps a second LayoutWriter out of the same directory.
type LayoutWriter struct {
	dir string

	mu        sync.Mutex
	manifests []Descriptor
	closed    bool
}

// CreateLayout opens (creating if needed) the layout at dir for writing. Existing
// index.json entries are kept unless replaced. Close (or Commit then Close) releases it.
func CreateLayout(dir string) (*LayoutWriter, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("oci: layout: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, layoutLock), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%w: %s", ErrLayoutLocked, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("oci: layout: %w", err)
	}
	lf.Close()
	w := &LayoutWriter{dir: dir}
	fail := func(err error) (*LayoutWriter, error) {
		os.Remove(filepath.Join(dir, layoutLock))
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, layoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return fail(err)
	}
	idx, err := readLayoutIndex(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(err)
	}
	if idx != nil {
		w.manifests = idx.Manifests
	}
	return w, nil
}

type layoutIndexJSON struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Manifests     []Descriptor `json:"manifests"`
}

func readLayoutIndex(dir string) (*layoutIndexJSON, error) {
	f, err := os.Open(filepath.Join(dir, layoutIndex))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLayoutJSON+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxLayoutJSON {
		return nil, fmt.Errorf("oci: layout index.json: %w", store.ErrTooLarge)
	}
	return parseLayoutIndex(b)
}

func parseLayoutIndex(b []byte) (*layoutIndexJSON, error) {
	var idx layoutIndexJSON
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%w: layout index.json: %w", ErrInvalidManifest, err)
	}
	for _, d := range idx.Manifests {
		if err := d.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%w: layout index.json: %w", ErrInvalidManifest, err)
		}
	}
	return &idx, nil
}

// WriteBlob stores content under blobs/sha256/<hex>, verifying it against d and size
// first. A blob already present with the right size is kept.
func (w *LayoutWriter) WriteBlob(d store.Digest, size int64, r io.Reader) error {
	if err := d.Validate(); err != nil {
		return err
	}
	final := filepath.Join(w.dir, "blobs", "sha256", d.Hex())
	if fi, err := os.Stat(final); err == nil && (size <= 0 || fi.Size() == size) {
		return nil
	}
	v, err := store.NewVerifier(store.ExpectDigest(d, size))
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".tmp-"+d.Hex()[:12]+"-*")
	if err != nil {
		return fmt.Errorf("oci: layout: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(io.MultiWriter(tmp, v), r); err != nil {
		tmp.Close()
		return fmt.Errorf("oci: layout blob %s: %w", d, err)
	}
	if _, err := v.Check(); err != nil {
		tmp.Close()
		return fmt.Errorf("oci: layout blob %s: %w", d, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), final)
}

// SetRef names desc in index.json under name (both the OCI ref.name and containerd's
// image name annotations), replacing any entry of the same name.
func (w *LayoutWriter) SetRef(name string, desc Descriptor) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, ArtifactType: desc.ArtifactType,
		Annotations: map[string]string{AnnotationRefName: name, AnnotationContainerdRef: name}}
	out := w.manifests[:0]
	for _, m := range w.manifests {
		if m.Annotations[AnnotationRefName] != name {
			out = append(out, m)
		}
	}
	w.manifests = append(out, d)
}

// AddUntagged lists desc in index.json without a name, marked as belonging to repo, so
// that ImportLayout can put it back; an entry with the same repository and digest is
// not repeated.
func (w *LayoutWriter) AddUntagged(repo string, desc Descriptor) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.manifests {
		if m.Digest == desc.Digest && m.Annotations[AnnotationRepository] == repo && m.Annotations[AnnotationRefName] == "" {
			return
		}
	}
	w.manifests = append(w.manifests, Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, ArtifactType: desc.ArtifactType,
		Annotations: map[string]string{AnnotationRepository: repo}})
}

// Commit writes index.json atomically (temporary file, fsync, rename).
func (w *LayoutWriter) Commit() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	ms := append([]Descriptor(nil), w.manifests...)
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i].Annotations, ms[j].Annotations
		if a[AnnotationRefName] != b[AnnotationRefName] {
			return a[AnnotationRefName] < b[AnnotationRefName]
		}
		if a[AnnotationRepository] != b[AnnotationRepository] {
			return a[AnnotationRepository] < b[AnnotationRepository]
		}
		return ms[i].Digest < ms[j].Digest
	})
	b, err := json.MarshalIndent(layoutIndexJSON{SchemaVersion: 2, MediaType: MediaTypeOCIIndex, Manifests: ms}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(w.dir, layoutIndex), b)
}

// Close releases the directory lock without writing index.json.
func (w *LayoutWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return os.Remove(filepath.Join(w.dir, layoutLock))
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ExportLayout writes the images that ref publishes in s into the OCI image layout at
// dir, each tag named "<repository>:<tag>"; untagged top-level manifests (referrers,
// images kept by digest) are listed without a name, marked with AnnotationRepository.
// repos limits the export to those local repositories (none: all). Digests are
// unchanged. It returns the number of tags written.
func ExportLayout(ctx context.Context, s store.Store, ref, dir string, repos ...string) (int, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return 0, err
	}
	w, err := CreateLayout(dir)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	want := map[string]bool{}
	for _, r := range repos {
		want[r] = true
	}
	done := map[store.Digest]bool{}
	n := 0
	for _, im := range Tags(snap) {
		if len(want) > 0 && !want[im.Repository] {
			continue
		}
		if err := exportTree(ctx, s, w, im.Descriptor, done); err != nil {
			return n, fmt.Errorf("oci: export %s:%s: %w", im.Repository, im.Tag, err)
		}
		w.SetRef(im.Repository+":"+im.Tag, im.Descriptor)
		n++
	}
	roots, err := snapshotRoots(ctx, s, snap)
	if err != nil {
		return n, err
	}
	for _, r := range roots {
		if len(r.Tags) > 0 || len(want) > 0 && !want[r.Repository] {
			continue
		}
		if err := exportTree(ctx, s, w, r.Descriptor, done); err != nil {
			return n, fmt.Errorf("oci: export %s@%s: %w", r.Repository, r.Digest, err)
		}
		w.AddUntagged(r.Repository, r.Descriptor)
	}
	return n, w.Commit()
}

func exportTree(ctx context.Context, s store.Store, w *LayoutWriter, desc Descriptor, done map[store.Digest]bool) error {
	if done[desc.Digest] {
		return nil
	}
	body, err := store.ReadBlob(ctx, s, desc.Digest, DefaultMaxManifestSize*16)
	if err != nil {
		return err
	}
	m, err := ParseManifest(desc.MediaType, body)
	if err != nil {
		return err
	}
	for _, child := range m.Manifests {
		if err := exportTree(ctx, s, w, child, done); err != nil {
			return err
		}
	}
	for _, b := range m.Blobs() {
		if done[b.Digest] || nondistributable(b) {
			continue
		}
		blob, err := s.Open(ctx, b.Digest)
		if err != nil {
			return err
		}
		err = w.WriteBlob(b.Digest, b.Size, blob)
		blob.Close()
		if err != nil {
			return err
		}
		done[b.Digest] = true
	}
	if err := w.WriteBlob(desc.Digest, int64(len(body)), bytes.NewReader(body)); err != nil {
		return err
	}
	done[desc.Digest] = true
	return nil
}

// layoutTrust is what ImportLayout records with the generations it publishes: the
// layout's index.json names the images, and only their digests are verified. A Sync
// after an import therefore reuses nothing of the imported tree, and the reverse.
var layoutTrust = store.TrustOf(struct{}{}).WithRoot("source", "OCI image layout (index.json names, content digests)")

// ImportLayout copies the named images of the OCI image layout at dir into s, verifying
// every blob, and publishes them under ref ("oci/<name>") together with what ref already
// published (a name present in both takes the layout's image). Entries are named by
// containerd's image name or the OCI ref.name annotation; a bare tag is placed in
// defaultRepo. Unnamed entries are kept (untagged) when AnnotationRepository says where,
// else skipped. It publishes through store.Update: nothing on error, nor when the result
// equals what ref published already under the same trust (SyncStats.Changed false).
func ImportLayout(ctx context.Context, s store.Store, ref, dir, defaultRepo string) (SyncStats, error) {
	idx, err := readLayoutIndex(dir)
	if err != nil {
		return SyncStats{}, fmt.Errorf("oci: import layout: %w", err)
	}
	cp := &copier{pull: layoutPuller{dir: dir}, limit: DefaultMaxManifestSize, s: s, snap: store.NewSnapshot(), log: nopLogger(),
		sem: make(chan struct{}, 4), inflight: map[store.Digest]*flight{}, got: map[store.Digest]bool{}}
	n := 0
	gen, changed, err := store.Update(ctx, s, ref, layoutTrust, func(prev store.Prev) (*store.Snapshot, error) {
		if old := prev.Published; old != nil { // merged into, nothing of it reused unverified
			maps.Copy(cp.snap.Files, old.Files)
			maps.Copy(cp.snap.Annotations, old.Annotations)
		}
		for _, d := range idx.Manifests {
			tagged, err := cp.importEntry(ctx, d, defaultRepo)
			if err != nil {
				return nil, err
			}
			if tagged {
				n++
			}
		}
		if err := cp.fetchBlobs(ctx); err != nil {
			return nil, err
		}
		return cp.snap, nil
	})
	st := cp.stats()
	st.Ref, st.Images = ref, n
	if err != nil {
		return st, err
	}
	st.Generation, st.Changed = gen, changed
	return st, nil
}

// importEntry copies one index.json entry of a layout; tagged reports a named one.
func (cp *copier) importEntry(ctx context.Context, d Descriptor, defaultRepo string) (tagged bool, err error) {
	name := d.Annotations[AnnotationContainerdRef]
	if name == "" {
		name = d.Annotations[AnnotationRefName]
	}
	if name == "" {
		repo := d.Annotations[AnnotationRepository]
		if repo == "" {
			return false, nil
		}
		if store.ValidatePath(repo) != nil || !validLocalRepo(repo) {
			return false, fmt.Errorf("%w: layout entry repository %q", ErrInvalidReference, repo)
		}
		return false, cp.tree(ctx, Reference{Registry: "layout", Repository: repo}, repo, d, nil)
	}
	repo, tag, err := splitLayoutName(name, defaultRepo)
	if err != nil {
		return false, err
	}
	if err := cp.tree(ctx, Reference{Registry: "layout", Repository: repo}, repo, d, nil); err != nil {
		return false, err
	}
	cp.forget(repo + ":" + tag) // what a sync recorded for the tag no longer describes it
	return true, cp.add(tagPath(repo, tag), store.File{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType})
}

// splitLayoutName reads "<repo>:<tag>" (a full reference's registry is kept as part of
// the local repository name, ":" in a port written "-"), or a bare tag.
func splitLayoutName(name, defaultRepo string) (string, string, error) {
	i := strings.LastIndex(name, ":")
	if i < 0 || strings.Contains(name[i:], "/") {
		if defaultRepo == "" || !validTag(name) {
			return "", "", fmt.Errorf("%w: layout entry %q has no repository", ErrInvalidReference, name)
		}
		return defaultRepo, name, nil
	}
	repo, tag := name[:i], name[i+1:]
	if first, rest, ok := strings.Cut(repo, "/"); ok && strings.Contains(first, ":") {
		repo = strings.ReplaceAll(first, ":", "-") + "/" + rest
	}
	if !validTag(tag) || store.ValidatePath(repo) != nil || !validLocalRepo(repo) {
		return "", "", fmt.Errorf("%w: layout entry %q", ErrInvalidReference, name)
	}
	return repo, tag, nil
}

// validLocalRepo accepts a repository path whose first component may be a host name.
func validLocalRepo(repo string) bool {
	first, rest, ok := strings.Cut(repo, "/")
	if !ok {
		return validRepository(repo)
	}
	return validRepository(strings.ToLower(first)) && validRepository(rest)
}

type layoutPuller struct{ dir string }

func (p layoutPuller) path(d store.Digest) string {
	return filepath.Join(p.dir, "blobs", "sha256", d.Hex())
}

func (p layoutPuller) manifest(_ context.Context, ref Reference) (Descriptor, []byte, error) {
	f, err := os.Open(p.path(ref.Digest))
	if err != nil {
		return Descriptor{}, nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, DefaultMaxManifestSize+1))
	if err != nil {
		return Descriptor{}, nil, err
	}
	if len(b) > DefaultMaxManifestSize {
		return Descriptor{}, nil, fmt.Errorf("oci: %s: %w", ref.Digest, store.ErrTooLarge)
	}
	if got := store.DigestOf(b); got != ref.Digest {
		return Descriptor{}, nil, fmt.Errorf("oci: layout manifest %s: %w: got %s", ref.Digest, store.ErrDigestMismatch, got)
	}
	return Descriptor{MediaType: sniffMediaType(b), Digest: ref.Digest, Size: int64(len(b))}, b, nil
}

func (p layoutPuller) blob(_ context.Context, _ Reference, d store.Digest) (io.ReadCloser, error) {
	f, err := os.Open(p.path(d))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return f, nil
}
