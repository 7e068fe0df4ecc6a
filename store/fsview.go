package store

import (
	"context"
	"io"
	"io/fs"
	"path"
	"sort"
	"sync"
	"time"
)

// FS returns a read-only io/fs view of the snapshot whose files are read from s, so that
// http.FileServer, fs.WalkDir and tests can use it. Directories are implied by the paths.
// Files are seekable (HTTP Range works). ctx bounds every blob open.
func (snap *Snapshot) FS(ctx context.Context, s Store) fs.FS {
	return &snapFS{ctx: ctx, store: s, snap: snap}
}

type snapFS struct {
	ctx   context.Context
	store Store
	snap  *Snapshot
	once  sync.Once
	dirs  map[string][]string // dir -> sorted child names
}

var (
	_ fs.ReadDirFS = (*snapFS)(nil)
	_ fs.StatFS    = (*snapFS)(nil)
)

func (f *snapFS) index() {
	f.once.Do(func() {
		children := map[string]map[string]bool{".": {}}
		for p := range f.snap.Files {
			for {
				dir, name := path.Dir(p), path.Base(p)
				if children[dir] == nil {
					children[dir] = map[string]bool{}
				}
				children[dir][name] = true
				if dir == "." {
					break
				}
				p = dir
			}
		}
		f.dirs = make(map[string][]string, len(children))
		for d, set := range children {
			names := make([]string, 0, len(set))
			for n := range set {
				names = append(names, n)
			}
			sort.Strings(names)
			f.dirs[d] = names
		}
	})
}

func (f *snapFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if file, ok := f.snap.Files[name]; ok {
		return fileInfo{name: path.Base(name), size: file.Size, mod: f.snap.Created}, nil
	}
	f.index()
	if _, ok := f.dirs[name]; ok {
		return fileInfo{name: path.Base(name), dir: true, mod: f.snap.Created}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (f *snapFS) Open(name string) (fs.File, error) {
	info, err := f.Stat(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err.(*fs.PathError).Err}
	}
	if info.IsDir() {
		return &dirFile{fsys: f, name: name, info: info}, nil
	}
	b, err := f.store.Open(f.ctx, f.snap.Files[name].Digest)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &blobFile{Blob: b, info: info}, nil
}

func (f *snapFS) ReadDir(name string) ([]fs.DirEntry, error) {
	info, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	names := f.dirs[name]
	out := make([]fs.DirEntry, 0, len(names))
	for _, n := range names {
		child := n
		if name != "." {
			child = name + "/" + n
		}
		ci, err := f.Stat(child)
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(ci))
	}
	return out, nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
	mod  time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return i.mod }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

type blobFile struct {
	Blob
	info fs.FileInfo
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.info, nil }

type dirFile struct {
	fsys    *snapFS
	name    string
	info    fs.FileInfo
	entries []fs.DirEntry
	read    bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: fs.ErrInvalid}
}
func (d *dirFile) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		es, err := d.fsys.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = es, true
	}
	if n <= 0 {
		es := d.entries
		d.entries = nil
		return es, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	es := d.entries[:n]
	d.entries = d.entries[n:]
	return es, nil
}
