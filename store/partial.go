package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// PartialFile is a resumable upload kept in a local file, the part every backend's Begin
// shares: the filesystem store renames it into place, object stores stream it up. The file
// is named by the key's hash and held with flock(2), so two processes never write one
// partial; a crash leaves it for the next Begin with the same key.
type PartialFile struct {
	file   *os.File
	off    int64
	done   bool
	commit func(ctx context.Context, e Expect, f *os.File) (BlobInfo, error)
}

var _ Upload = (*PartialFile)(nil)

// OpenPartial opens (or resumes) the partial upload for key under dir. Commit seeks the
// file to its start and hands it to commit, which stores it; a commit that fails with
// ErrDigestMismatch discards the partial, any other failure keeps it for a retry.
// ErrLocked when another upload holds the same key.
func OpenPartial(dir, key string, commit func(ctx context.Context, e Expect, f *os.File) (BlobInfo, error)) (*PartialFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: partial upload: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	f, err := os.OpenFile(filepath.Join(dir, hex.EncodeToString(sum[:])), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: partial upload: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, errUploadInUse(key)
	}
	// Trust only what is on disk: continue from its end.
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: partial upload: %w", err)
	}
	return &PartialFile{file: f, off: off, commit: commit}, nil
}

// Write appends to the partial.
func (u *PartialFile) Write(p []byte) (int, error) {
	n, err := u.file.Write(p)
	u.off += int64(n)
	return n, err
}

// Offset is how many bytes the partial holds.
func (u *PartialFile) Offset() int64 { return u.off }

// Commit verifies and stores the whole content (see OpenPartial).
func (u *PartialFile) Commit(ctx context.Context, e Expect) (BlobInfo, error) {
	if u.done {
		return BlobInfo{}, errors.New("store: upload already finished")
	}
	u.done = true
	if _, err := u.file.Seek(0, io.SeekStart); err != nil {
		u.discard()
		return BlobInfo{}, fmt.Errorf("store: commit upload: %w", err)
	}
	info, err := u.commit(ctx, e, u.file)
	if err != nil && !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrInvalidDigest) {
		u.file.Close() // keep the partial: the failure was storing it, not its content
		return BlobInfo{}, err
	}
	u.discard()
	return info, err
}

func (u *PartialFile) discard() {
	u.file.Close()
	os.Remove(u.file.Name()) // gone already when commit renamed it into place
}

// Abort discards the partial.
func (u *PartialFile) Abort() error {
	if !u.done {
		u.done = true
		u.discard()
	}
	return nil
}

// Close keeps the partial for a later OpenPartial with the same key.
func (u *PartialFile) Close() error {
	if u.done {
		return nil
	}
	u.done = true
	return u.file.Close()
}

// PurgeFiles removes the files directly under dir not modified since olderThan (stale
// partials and temporary files) and returns how many went. A missing dir is empty.
func PurgeFiles(dir string, olderThan time.Time) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !info.IsDir() && info.ModTime().Before(olderThan) {
			if os.Remove(filepath.Join(dir, e.Name())) == nil {
				n++
			}
		}
	}
	return n, nil
}

// errUploadInUse is Begin's refusal of a key another open upload holds (ErrLocked; a
// fetch waits for it as for a 503).
func errUploadInUse(key string) error {
	return fmt.Errorf("store: upload %q is in use: %w", key, ErrLocked)
}
