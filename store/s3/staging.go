package s3

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

	"github.com/airgapkit/airgap/store"
)

// Begin implements store.Store. Object storage cannot append, so the partial upload is
// kept in a local staging file named by the key's hash; Commit streams it into Put.
func (s *Store) Begin(ctx context.Context, key string) (store.Upload, error) {
	if err := os.MkdirAll(s.cfg.StagingDir, 0o755); err != nil {
		return nil, fmt.Errorf("store/s3: staging: %w", err)
	}
	sum := sha256.Sum256([]byte(s.cfg.Endpoint + "/" + s.cfg.Bucket + "/" + s.cfg.Prefix + "\x00" + key))
	f, err := os.OpenFile(filepath.Join(s.cfg.StagingDir, hex.EncodeToString(sum[:])), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store/s3: staging: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("store/s3: upload %q is in use: %w", key, store.ErrLocked)
	}
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &upload{s: s, f: f, off: off}, nil
}

type upload struct {
	s    *Store
	f    *os.File
	off  int64
	done bool
}

func (u *upload) Write(p []byte) (int, error) {
	n, err := u.f.Write(p)
	u.off += int64(n)
	return n, err
}

func (u *upload) Offset() int64 { return u.off }

func (u *upload) Commit(ctx context.Context, e store.Expect) (store.BlobInfo, error) {
	if u.done {
		return store.BlobInfo{}, errors.New("store/s3: upload already finished")
	}
	u.done = true
	if _, err := u.f.Seek(0, io.SeekStart); err != nil {
		u.discard()
		return store.BlobInfo{}, err
	}
	info, err := u.s.Put(ctx, e, u.f)
	if err != nil && !errors.Is(err, store.ErrDigestMismatch) {
		u.f.Close() // keep the partial: the failure was the upload, not the content
		return store.BlobInfo{}, err
	}
	u.discard()
	return info, err
}

func (u *upload) discard() {
	u.f.Close()
	os.Remove(u.f.Name())
}

func (u *upload) Abort() error {
	if !u.done {
		u.done = true
		u.discard()
	}
	return nil
}

func (u *upload) Close() error {
	if u.done {
		return nil
	}
	u.done = true
	return u.f.Close()
}

// PurgePartials implements store.PartialLister: stale local staging files.
func (s *Store) PurgePartials(ctx context.Context, olderThan time.Time) (int, error) {
	entries, err := os.ReadDir(s.cfg.StagingDir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().Before(olderThan) {
			if os.Remove(filepath.Join(s.cfg.StagingDir, e.Name())) == nil {
				n++
			}
		}
	}
	return n, nil
}
