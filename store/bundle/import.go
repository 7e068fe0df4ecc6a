package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// ImportOptions says whom to trust.
type ImportOptions struct {
	// Keyring holds the operator keys a manifest must be signed by.
	Keyring *pgp.Keyring
	// InsecureSkipSignature imports an unsigned bundle, or one whose signature does not
	// verify. Logged at warning level.
	InsecureSkipSignature bool
	// AllowRollback lets a bundle move a ref to a generation older than the published one.
	AllowRollback bool
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

const maxSignatureSize = 1 << 16

// Import reads a bundle from r into s and then moves its refs. The caller should hold the
// store's writer lock. On an error before the refs move, none has, and the blobs this
// import added (verified, but referenced by nothing) are removed again; the error says
// how many.
func Import(ctx context.Context, s store.Store, r io.Reader, opt ImportOptions) (m *Manifest, err error) {
	var added []store.Digest // blobs the store did not hold before this import
	defer func() {
		if err != nil && len(added) > 0 {
			err = removeAdded(s, added, err)
		}
	}()
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := tar.NewReader(r)
	manifest, err := readSmall(tr, manifestName, maxManifestSize)
	if err != nil {
		return nil, err
	}
	hdr, err := next(tr)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	signed := err == nil && hdr.Name == signatureName
	if signed {
		sig, err := readBody(tr, hdr, maxSignatureSize)
		if err != nil {
			return nil, err
		}
		if err := verify(manifest, sig, opt, log); err != nil {
			return nil, err
		}
		if hdr, err = next(tr); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	} else if !opt.InsecureSkipSignature {
		return nil, ErrUnsigned
	} else {
		log.Warn("bundle: importing an unsigned bundle (InsecureSkipSignature)")
	}
	m, err = DecodeManifest(manifest)
	if err != nil {
		return nil, err
	}
	if err := checkRollback(ctx, s, m, opt.AllowRollback); err != nil {
		return nil, err
	}
	for i, b := range m.Blobs {
		if i > 0 {
			if hdr, err = next(tr); err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
		}
		if hdr == nil {
			return nil, fmt.Errorf("%w: truncated: %d of %d blobs", ErrFormat, i, len(m.Blobs))
		}
		if err := expectEntry(hdr, blobDir+b.Digest.Hex(), b.Size); err != nil {
			return nil, err
		}
		_, statErr := s.Stat(ctx, b.Digest)
		if _, err := s.Put(ctx, store.ExpectDigest(b.Digest, b.Size), tr); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: truncated in blob %s", ErrFormat, b.Digest)
			}
			return nil, fmt.Errorf("bundle: blob %s: %w", b.Digest, err)
		}
		if errors.Is(statErr, store.ErrNotFound) {
			added = append(added, b.Digest)
		}
		hdr = nil
	}
	if len(m.Blobs) > 0 {
		hdr, err = next(tr)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	if hdr != nil {
		return nil, fmt.Errorf("%w: unexpected entry %q after the last blob", ErrFormat, hdr.Name)
	}
	if err := checkComplete(ctx, s, m); err != nil {
		return nil, err
	}
	if err := moveRefs(ctx, s, m); err != nil {
		added = nil // refs may have moved onto them: keep the blobs
		return nil, err
	}
	return m, nil
}

// removeAdded deletes the blobs a refused import stored, so that a refusal leaves the
// store as it was; it runs even when the import's ctx has ended.
func removeAdded(s store.Store, added []store.Digest, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var failed int
	for _, d := range added {
		if err := s.Delete(ctx, d); err != nil {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w (of the %d blobs this import stored, %d could not be removed: gc removes them)", cause, len(added), failed)
	}
	return fmt.Errorf("%w (the %d blobs this import stored were removed)", cause, len(added))
}

// next returns the next tar header, nil and io.EOF at a clean end.
func next(tr *tar.Reader) (*tar.Header, error) {
	hdr, err := tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return hdr, nil
}

func expectEntry(hdr *tar.Header, name string, size int64) error {
	if hdr.Name != name {
		return fmt.Errorf("%w: entry %q where %q was expected", ErrFormat, hdr.Name, name)
	}
	if hdr.Typeflag != tar.TypeReg {
		return fmt.Errorf("%w: entry %q is not a regular file", ErrFormat, hdr.Name)
	}
	if size >= 0 && hdr.Size != size {
		return fmt.Errorf("%w: entry %q is %d bytes, manifest says %d", ErrFormat, hdr.Name, hdr.Size, size)
	}
	return nil
}

func readSmall(tr *tar.Reader, name string, limit int64) ([]byte, error) {
	hdr, err := next(tr)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty bundle", ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	if err := expectEntry(hdr, name, -1); err != nil {
		return nil, err
	}
	return readBody(tr, hdr, limit)
}

func readBody(tr *tar.Reader, hdr *tar.Header, limit int64) ([]byte, error) {
	if hdr.Typeflag != tar.TypeReg || hdr.Size > limit {
		return nil, fmt.Errorf("%w: entry %q too large or not a file", ErrFormat, hdr.Name)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, hdr.Name, err)
	}
	return b, nil
}

func verify(manifest, sig []byte, opt ImportOptions, log *slog.Logger) error {
	if opt.Keyring == nil {
		if opt.InsecureSkipSignature {
			log.Warn("bundle: manifest signature not checked (InsecureSkipSignature)")
			return nil
		}
		return fmt.Errorf("bundle: no keyring to verify the manifest: %w", pgp.ErrUnknownKey)
	}
	v, err := opt.Keyring.VerifyDetached(bytes.NewReader(manifest), sig)
	if err != nil {
		if opt.InsecureSkipSignature {
			log.Warn("bundle: manifest signature does not verify; importing anyway (InsecureSkipSignature)", "err", err)
			return nil
		}
		return fmt.Errorf("bundle: manifest signature: %w", err)
	}
	log.Info("bundle: manifest signed", "fingerprint", v.Fingerprint)
	return nil
}

func checkRollback(ctx context.Context, s store.Store, m *Manifest, allow bool) error {
	for name, r := range m.Refs {
		cur, err := store.Current(ctx, s, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if cur.Record != r.Record && cur.Published.After(r.Published) && !allow {
			return fmt.Errorf("%w: ref %s published %s here, bundle has %s", ErrRollback, name, cur.Published, r.Published)
		}
	}
	return nil
}

// checkComplete verifies, from what is now in the store, that every ref's generation,
// snapshot and files are present: an incremental bundle without its predecessor fails here.
func checkComplete(ctx context.Context, s store.Store, m *Manifest) error {
	for name, r := range m.Refs {
		g, err := store.ReadGeneration(ctx, s, r.Record)
		if err != nil {
			return fmt.Errorf("%w: ref %s: %w", ErrMissingBlob, name, err)
		}
		if g.Snapshot != r.Snapshot {
			return fmt.Errorf("%w: ref %s: record names snapshot %s, manifest %s", ErrFormat, name, g.Snapshot, r.Snapshot)
		}
		snap, err := store.ReadSnapshot(ctx, s, g.Snapshot)
		if err != nil {
			return fmt.Errorf("%w: ref %s: %w", ErrMissingBlob, name, err)
		}
		for p, f := range snap.Files {
			info, err := s.Stat(ctx, f.Digest)
			if err != nil {
				return fmt.Errorf("%w: ref %s: %s (%s): %w", ErrMissingBlob, name, p, f.Digest, err)
			}
			if info.Size != f.Size {
				return fmt.Errorf("%w: ref %s: %s: size %d, stored %d", store.ErrDigestMismatch, name, p, f.Size, info.Size)
			}
		}
	}
	return nil
}

func moveRefs(ctx context.Context, s store.Store, m *Manifest) error {
	names := make([]string, 0, len(m.Refs))
	for n := range m.Refs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cur, err := store.Current(ctx, s, name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if cur.Record == m.Refs[name].Record {
			continue
		}
		if err := s.SwapRef(ctx, name, cur.Record, m.Refs[name].Record); err != nil {
			return fmt.Errorf("bundle: publish %s: %w", name, err)
		}
	}
	return nil
}
