package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// SnapshotMediaType is the media type of a snapshot manifest blob.
const SnapshotMediaType = "application/vnd.airgap.snapshot.v1+json"

// maxManifestSize caps how much of a manifest blob ReadSnapshot will decode.
const maxManifestSize = 1 << 30

// File is one entry of a snapshot tree.
type File struct {
	Digest    Digest `json:"digest"`
	Size      int64  `json:"size"`
	MediaType string `json:"type,omitempty"`
}

// Snapshot is an immutable tree of paths to blobs, plus free-form annotations that a
// protocol package keeps with it (e.g. the upstream Release date used for rollback checks).
// Build one with NewSnapshot and Add, store it with WriteSnapshot; once written it never
// changes.
type Snapshot struct {
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Files       map[string]File   `json:"files"`
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	return &Snapshot{Files: map[string]File{}, Annotations: map[string]string{}}
}

// Add puts a file at path, replacing any earlier one. The path must pass ValidatePath and
// the digest must be valid.
func (s *Snapshot) Add(path string, f File) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	if err := f.Digest.Validate(); err != nil {
		return fmt.Errorf("store: snapshot entry %q: %w", path, err)
	}
	if s.Files == nil {
		s.Files = map[string]File{}
	}
	s.Files[path] = f
	return nil
}

// Lookup returns the file at path.
func (s *Snapshot) Lookup(path string) (File, bool) {
	f, ok := s.Files[path]
	return f, ok
}

// Paths returns every path, sorted.
func (s *Snapshot) Paths() []string {
	ps := make([]string, 0, len(s.Files))
	for p := range s.Files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Size returns the sum of the files' sizes.
func (s *Snapshot) Size() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Size
	}
	return n
}

// validate checks every path and digest of a decoded snapshot.
func (s *Snapshot) validate() error {
	for p, f := range s.Files {
		if err := ValidatePath(p); err != nil {
			return err
		}
		if err := f.Digest.Validate(); err != nil {
			return fmt.Errorf("entry %q: %w", p, err)
		}
		if f.Size < 0 {
			return fmt.Errorf("entry %q: negative size", p)
		}
	}
	return nil
}

// WriteSnapshot stores snap as a manifest blob and returns its digest. Created is set to
// now when zero. Every file the snapshot names must already be in the store: a snapshot
// never points at missing content.
func WriteSnapshot(ctx context.Context, s Store, snap *Snapshot) (Digest, error) {
	if err := snap.validate(); err != nil {
		return "", fmt.Errorf("store: write snapshot: %w", err)
	}
	for _, p := range snap.Paths() {
		f := snap.Files[p]
		info, err := s.Stat(ctx, f.Digest)
		if err != nil {
			return "", fmt.Errorf("store: write snapshot: %s: %w", p, err)
		}
		if info.Size != f.Size {
			return "", fmt.Errorf("store: write snapshot: %s: %w: size %d recorded, %d stored", p, ErrDigestMismatch, f.Size, info.Size)
		}
	}
	if snap.Created.IsZero() {
		snap.Created = time.Now().UTC()
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return "", err
	}
	info, err := s.Put(ctx, Expect{}, bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("store: write snapshot: %w", err)
	}
	return info.Digest, nil
}

// ReadSnapshot loads the snapshot manifest stored under d.
func ReadSnapshot(ctx context.Context, s Store, d Digest) (*Snapshot, error) {
	b, err := ReadBlob(ctx, s, d, maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("store: read snapshot %s: %w", d, err)
	}
	return DecodeSnapshot(b)
}

// DecodeSnapshot parses and validates a snapshot manifest.
func DecodeSnapshot(b []byte) (*Snapshot, error) {
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("store: decode snapshot: %w", err)
	}
	if err := snap.validate(); err != nil {
		return nil, fmt.Errorf("store: decode snapshot: %w", err)
	}
	if snap.Files == nil {
		snap.Files = map[string]File{}
	}
	return &snap, nil
}

// ReadBlob reads a whole blob of at most limit bytes (ErrTooLarge beyond).
func ReadBlob(ctx context.Context, s Store, d Digest, limit int64) ([]byte, error) {
	b, err := s.Open(ctx, d)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if b.Size() > limit {
		return nil, fmt.Errorf("%w: blob %s is %d bytes, limit %d", ErrTooLarge, d, b.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(b, limit))
}

// PutBytes stores b (verified against e) and returns its info.
func PutBytes(ctx context.Context, s Store, e Expect, b []byte) (BlobInfo, error) {
	return s.Put(ctx, e, bytes.NewReader(b))
}
