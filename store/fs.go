package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FS is the filesystem Store, the embedded default. Layout under its directory:
//
//	blobs/sha256/<2 hex>/<64 hex>   verified blobs, read-only once renamed into place
//	refs/<name>                      one digest per ref, replaced by rename
//	tmp/                             temporary files of Puts in progress
//	uploads/<sha256 of key>          partial resumable uploads
//	lock, refs.lock                  the writer lock and the ref compare-and-swap lock
type FS struct {
	dir    string
	noSync bool
	refMu  sync.Mutex // serialises SwapRef within this process; refs.lock across processes
	refs   sync.Map   // ref name -> *refFile: the ref file last read, held open
	open   openCache  // open files of small blobs
}

// refFile is a ref file held open and the digest it held when read.
type refFile struct {
	file   *os.File
	fd     int
	stamp  refStamp
	digest Digest
}

// refStamp is what an fstat of a ref file tells of its identity and content.
type refStamp struct {
	ino, nlink, size uint64
	ctime, mtime     int64
}

func stampOf(st *syscall.Stat_t) refStamp {
	return refStamp{ino: st.Ino, nlink: uint64(st.Nlink), size: uint64(st.Size), ctime: st.Ctim.Nano(), mtime: st.Mtim.Nano()}
}

// current reports whether the file is as it was when read. A closed one (replaced
// meanwhile by another reader) fails the fstat, or names another file, and is not.
func (rf *refFile) current() bool {
	var st syscall.Stat_t
	return syscall.Fstat(rf.fd, &st) == nil && stampOf(&st) == rf.stamp
}

var (
	_ Store         = (*FS)(nil)
	_ PartialLister = (*FS)(nil)
)

// Option configures a filesystem store.
type Option func(*FS)

// WithoutSync skips fsync of blobs and refs. Only for throwaway stores and benchmarks: a
// crash may then leave a published ref pointing at content that never reached the disk.
func WithoutSync() Option { return func(f *FS) { f.noSync = true } }

// Open opens (creating if needed) a filesystem store rooted at dir.
func Open(dir string, opts ...Option) (*FS, error) {
	f := &FS{dir: dir}
	for _, o := range opts {
		o(f)
	}
	for _, sub := range []string{"blobs/sha256", "refs", "tmp", "uploads"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", dir, err)
		}
	}
	return f, nil
}

// Dir returns the store's root directory.
func (f *FS) Dir() string { return f.dir }

func (f *FS) blobPath(d Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	h := d.Hex()
	return filepath.Join(f.dir, "blobs", "sha256", h[:2], h), nil
}

// Put implements Store.
func (f *FS) Put(ctx context.Context, e Expect, r io.Reader) (BlobInfo, error) {
	v, err := NewVerifier(e)
	if err != nil {
		return BlobInfo{}, err
	}
	if d := e.Digest(); d != "" {
		if info, err := f.Stat(ctx, d); err == nil && (e.Size <= 0 || e.Size == info.Size) {
			return info, nil
		}
	}
	tmp, err := os.CreateTemp(filepath.Join(f.dir, "tmp"), "put-*")
	if err != nil {
		return BlobInfo{}, fmt.Errorf("store: put: %w", err)
	}
	info, err := f.finish(ctx, tmp, v, ContextReader(ctx, r))
	if err != nil {
		return BlobInfo{}, err
	}
	return info, nil
}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// finish copies r (if any) into tmp while v hashes it, verifies, syncs and renames the file
// into place. tmp is closed and, on any failure, removed.
func (f *FS) finish(ctx context.Context, tmp *os.File, v *Verifier, r io.Reader) (info BlobInfo, err error) {
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if r != nil {
		bufp := copyBufPool.Get().(*[]byte)
		_, err = io.CopyBuffer(io.MultiWriter(tmp, v), r, *bufp)
		copyBufPool.Put(bufp)
		if err != nil {
			return BlobInfo{}, fmt.Errorf("store: put: %w", err)
		}
	}
	d, err := v.Check()
	if err != nil {
		return BlobInfo{}, err
	}
	if !f.noSync {
		if err = tmp.Sync(); err != nil {
			return BlobInfo{}, fmt.Errorf("store: put: %w", err)
		}
	}
	if err = tmp.Close(); err != nil {
		return BlobInfo{}, fmt.Errorf("store: put: %w", err)
	}
	dst, _ := f.blobPath(d)
	if err = os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return BlobInfo{}, fmt.Errorf("store: put: %w", err)
	}
	if err = os.Chmod(tmp.Name(), 0o444); err != nil {
		return BlobInfo{}, fmt.Errorf("store: put: %w", err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return BlobInfo{}, fmt.Errorf("store: put: %w", err)
	}
	return BlobInfo{Digest: d, Size: v.Written()}, nil
}

// Begin implements Store. The partial file lives under uploads/ named by the key's hash;
// Commit hashes it from its start (resumed bytes were not hashed by this process),
// verifies and renames it into place.
func (f *FS) Begin(ctx context.Context, key string) (Upload, error) {
	return OpenPartial(filepath.Join(f.dir, "uploads"), key, func(ctx context.Context, e Expect, file *os.File) (BlobInfo, error) {
		v, err := NewVerifier(e)
		if err != nil {
			return BlobInfo{}, err
		}
		bufp := copyBufPool.Get().(*[]byte)
		_, err = io.CopyBuffer(v, ContextReader(ctx, file), *bufp)
		copyBufPool.Put(bufp)
		if err != nil {
			return BlobInfo{}, fmt.Errorf("store: commit upload: %w", err)
		}
		// finish renames the file into place (the flock goes with the descriptor).
		return f.finish(ctx, file, v, nil)
	})
}

// PurgePartials removes partial uploads not written since olderThan, and stale temp files.
func (f *FS) PurgePartials(ctx context.Context, olderThan time.Time) (int, error) {
	n := 0
	for _, sub := range []string{"uploads", "tmp"} {
		k, err := PurgeFiles(filepath.Join(f.dir, sub), olderThan)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Open implements Store.
func (f *FS) Open(ctx context.Context, d Digest) (Blob, error) {
	if b := f.open.get(d); b != nil { // d was valid when it was cached
		return b, nil
	}
	p, err := f.blobPath(d)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: blob %s", ErrNotFound, d)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", d, err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	if st.Size() <= openCacheMaxSize {
		return f.open.put(d, file, st.Size()), nil
	}
	return &fileBlob{File: file, size: st.Size()}, nil
}

type fileBlob struct {
	*os.File
	size int64
}

func (b *fileBlob) Size() int64 { return b.size }

// Stat implements Store.
func (f *FS) Stat(ctx context.Context, d Digest) (BlobInfo, error) {
	p, err := f.blobPath(d)
	if err != nil {
		return BlobInfo{}, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return BlobInfo{}, fmt.Errorf("%w: blob %s", ErrNotFound, d)
	}
	if err != nil {
		return BlobInfo{}, err
	}
	return BlobInfo{Digest: d, Size: st.Size()}, nil
}

// Has implements Store.
func (f *FS) Has(ctx context.Context, d Digest) (bool, error) {
	_, err := f.Stat(ctx, d)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Delete implements Store.
func (f *FS) Delete(ctx context.Context, d Digest) error {
	p, err := f.blobPath(d)
	if err != nil {
		return err
	}
	f.open.drop(d)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Walk implements Store.
func (f *FS) Walk(ctx context.Context, fn func(BlobInfo) error) error {
	root := filepath.Join(f.dir, "blobs", "sha256")
	shards, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, shard := range shards {
		entries, err := os.ReadDir(filepath.Join(root, shard.Name()))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, err := DigestFromHex(e.Name())
			if err != nil {
				continue // not ours
			}
			info, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if err := fn(BlobInfo{Digest: d, Size: info.Size()}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *FS) refPath(name string) (string, error) {
	if err := ValidatePath(name); err != nil {
		return "", err
	}
	return filepath.Join(f.dir, "refs", filepath.FromSlash(name)), nil
}

// Ref implements Store. The ref file read last is kept open: while its inode keeps its
// links, size and times (one fstat, no path lookup), the ref answers from memory, so
// serving does not read it on every request. Every change renames a new file into
// place, which unlinks the old one, or writes it in place, which moves its times: by
// this process or another, it is seen at once.
func (f *FS) Ref(ctx context.Context, name string) (Digest, error) {
	if v, ok := f.refs.Load(name); ok {
		if rf := v.(*refFile); rf.current() {
			return rf.digest, nil
		}
	}
	p, err := f.refPath(name)
	if err != nil {
		return "", err
	}
	file, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		if old, loaded := f.refs.LoadAndDelete(name); loaded {
			old.(*refFile).file.Close()
		}
		return "", fmt.Errorf("%w: ref %s", ErrNotFound, name)
	}
	if err != nil {
		return "", err
	}
	rf := &refFile{file: file, fd: int(file.Fd())}
	var st syscall.Stat_t
	err = syscall.Fstat(rf.fd, &st)
	if err != nil {
		file.Close()
		return "", fmt.Errorf("store: ref %s: %w", name, err)
	}
	rf.stamp = stampOf(&st)
	b, err := io.ReadAll(io.LimitReader(file, 1<<10))
	if err != nil {
		file.Close()
		return "", err
	}
	if rf.digest, err = ParseDigest(strings.TrimSpace(string(b))); err != nil {
		file.Close()
		return "", err
	}
	// Written in place during the read: answer what was read, keep nothing.
	if !rf.current() {
		file.Close()
		return rf.digest, nil
	}
	if old, loaded := f.refs.Swap(name, rf); loaded {
		old.(*refFile).file.Close()
	}
	return rf.digest, nil
}

// SwapRef implements Store: compare and replace under refs.lock, write by rename.
func (f *FS) SwapRef(ctx context.Context, name string, old, new Digest) error {
	p, err := f.refPath(name)
	if err != nil {
		return err
	}
	if new != "" {
		if err := new.Validate(); err != nil {
			return err
		}
	}
	f.refMu.Lock()
	defer f.refMu.Unlock()
	unlock, err := flockFile(ctx, filepath.Join(f.dir, "refs.lock"), true)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := f.Ref(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if cur != old {
		return fmt.Errorf("%w: ref %s is %q, expected %q", ErrConflict, name, cur, old)
	}
	if new == "" {
		return os.Remove(p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(f.dir, "tmp"), "ref-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(string(new) + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if !f.noSync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return err
	}
	if !f.noSync {
		syncDir(filepath.Dir(p))
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Refs implements Store.
func (f *FS) Refs(ctx context.Context) ([]string, error) {
	root := filepath.Join(f.dir, "refs")
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(names)
	return names, err
}

// Lock implements Store with flock(2) on <dir>/lock: held by one process at a time, and
// released by the kernel if the process dies, so a crashed writer never wedges the store.
func (f *FS) Lock(ctx context.Context) (func() error, error) {
	return flockFile(ctx, filepath.Join(f.dir, "lock"), true)
}

// TryLock implements Store.
func (f *FS) TryLock(ctx context.Context) (func() error, error) {
	return flockFile(ctx, filepath.Join(f.dir, "lock"), false)
}

// flockFile takes an exclusive flock on path, polling until ctx is done when wait is set.
func flockFile(ctx context.Context, path string, wait bool) (func() error, error) {
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: lock: %w", err)
	}
	for {
		err = syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			var once sync.Once
			return func() error {
				var cerr error
				once.Do(func() { cerr = file.Close() })
				return cerr
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			file.Close()
			return nil, fmt.Errorf("store: lock: %w", err)
		}
		if !wait {
			file.Close()
			return nil, ErrLocked
		}
		select {
		case <-ctx.Done():
			file.Close()
			return nil, fmt.Errorf("store: waiting for lock: %w: %w", ErrLocked, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
