package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// ExportOptions chooses what a bundle carries.
type ExportOptions struct {
	// Refs to carry; nil carries every ref in the store.
	Refs []string
	// Since is the manifest of the previous bundle: blobs it required are omitted.
	Since *Manifest
	// SinceDigest is the digest of Since's bytes, recorded in the new manifest.
	SinceDigest store.Digest
	// Signer signs the manifest. Nil writes an unsigned bundle, which Import refuses
	// unless told otherwise.
	Signer *pgp.Signer
	// Progress, when set, is called after each blob with the bytes written so far and in all.
	Progress func(written, total int64)
}

// Export writes a bundle of the chosen refs' current generations to w and returns its
// manifest and the manifest's exact bytes (keep them for the next incremental export).
// The caller should hold the store's writer lock so that GC cannot remove blobs meanwhile.
func Export(ctx context.Context, s store.Store, w io.Writer, opt ExportOptions) (*Manifest, []byte, error) {
	m, manifest, total, err := head(ctx, s, opt)
	if err != nil {
		return nil, nil, err
	}
	tw := tar.NewWriter(w)
	if err := writeHead(tw, m, manifest, opt.Signer); err != nil {
		return nil, nil, err
	}
	var written int64
	for _, b := range m.Blobs {
		if err := copyBlob(ctx, s, tw, b, m.Created); err != nil {
			return nil, nil, err
		}
		written += b.Size
		if opt.Progress != nil {
			opt.Progress(written, total)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, nil, err
	}
	return m, manifest, nil
}

// head lists what the bundle carries: its manifest, the manifest's bytes and the size
// of the blobs.
func head(ctx context.Context, s store.Store, opt ExportOptions) (*Manifest, []byte, int64, error) {
	refs := opt.Refs
	if refs == nil {
		var err error
		if refs, err = s.Refs(ctx); err != nil {
			return nil, nil, 0, err
		}
	}
	m := &Manifest{Version: FormatVersion, Created: time.Now().UTC(), Refs: map[string]RefState{}, Since: opt.SinceDigest}
	sizes := map[store.Digest]int64{}
	for _, ref := range refs {
		g, err := store.Current(ctx, s, ref)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("bundle: ref %s: %w", ref, err)
		}
		m.Refs[ref] = RefState{Record: g.Record, Snapshot: g.Snapshot, Published: g.Published}
		if err := closure(ctx, s, g, sizes); err != nil {
			return nil, nil, 0, fmt.Errorf("bundle: ref %s: %w", ref, err)
		}
	}
	have := map[store.Digest]bool{}
	if opt.Since != nil {
		for _, d := range opt.Since.Requires {
			have[d] = true
		}
	}
	var total int64
	for d, size := range sizes {
		m.Requires = append(m.Requires, d)
		if !have[d] {
			m.Blobs = append(m.Blobs, store.BlobInfo{Digest: d, Size: size})
			total += size
		}
	}
	sort.Slice(m.Requires, func(i, j int) bool { return m.Requires[i] < m.Requires[j] })
	sort.Slice(m.Blobs, func(i, j int) bool { return m.Blobs[i].Digest < m.Blobs[j].Digest })

	manifest, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, nil, 0, err
	}
	return m, manifest, total, nil
}

// writeHead writes the manifest and its signature, the first entries of a bundle.
func writeHead(tw *tar.Writer, m *Manifest, manifest []byte, signer *pgp.Signer) error {
	if err := writeEntry(tw, manifestName, manifest, m.Created); err != nil {
		return err
	}
	if signer != nil {
		sig, err := signer.DetachSign(bytes.NewReader(manifest), true)
		if err != nil {
			return fmt.Errorf("bundle: sign manifest: %w", err)
		}
		if err := writeEntry(tw, signatureName, sig, m.Created); err != nil {
			return err
		}
	}
	return nil
}

// Size is the length of the bundle Export would write with opt, and its manifest: the
// manifest is built and signed as Export does (a signature of one key has one length),
// no blob is read.
func Size(ctx context.Context, s store.Store, opt ExportOptions) (int64, *Manifest, error) {
	m, manifest, _, err := head(ctx, s, opt)
	if err != nil {
		return 0, nil, err
	}
	var cw counter
	tw := tar.NewWriter(&cw)
	if err := writeHead(tw, m, manifest, opt.Signer); err != nil {
		return 0, nil, err
	}
	if err := tw.Flush(); err != nil {
		return 0, nil, err
	}
	for _, b := range m.Blobs {
		// the header as Export writes it (with its PAX record), then the padded body
		if err := tar.NewWriter(&cw).WriteHeader(blobHeader(b, m.Created)); err != nil {
			return 0, nil, err
		}
		cw += counter((b.Size + blockSize - 1) / blockSize * blockSize)
	}
	return int64(cw) + 2*blockSize, m, nil // two zero blocks end the archive
}

// blockSize is tar's block.
const blockSize = 512

// blobHeader is the tar header of a blob's entry.
func blobHeader(b store.BlobInfo, mod time.Time) *tar.Header {
	return &tar.Header{Name: blobDir + b.Digest.Hex(), Mode: 0o644, Size: b.Size, ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
}

// counter counts the bytes written to it.
type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// closure adds to sizes every blob generation g needs: its record, its snapshot manifest
// and the snapshot's files.
func closure(ctx context.Context, s store.Store, g store.Generation, sizes map[store.Digest]int64) error {
	for _, d := range []store.Digest{g.Record, g.Snapshot} {
		info, err := s.Stat(ctx, d)
		if err != nil {
			return err
		}
		sizes[d] = info.Size
	}
	snap, err := store.ReadSnapshot(ctx, s, g.Snapshot)
	if err != nil {
		return err
	}
	for _, f := range snap.Files {
		sizes[f.Digest] = f.Size
	}
	return nil
}

func writeEntry(tw *tar.Writer, name string, b []byte, mod time.Time) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle: write %s: %w", name, err)
	}
	_, err := tw.Write(b)
	return err
}

func copyBlob(ctx context.Context, s store.Store, tw *tar.Writer, b store.BlobInfo, mod time.Time) error {
	r, err := s.Open(ctx, b.Digest)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer r.Close()
	hdr := blobHeader(b, mod)
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle: write %s: %w", b.Digest, err)
	}
	if _, err := io.Copy(tw, store.ContextReader(ctx, r)); err != nil {
		return fmt.Errorf("bundle: write %s: %w", b.Digest, err)
	}
	return nil
}
