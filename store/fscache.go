package store

import (
	"container/list"
	"io"
	"os"
	"sync"
	"syscall"
)

// Open files kept for small blobs: serving a small file is then a read, not an open, a
// stat and a close. Only small blobs are kept: a larger one is cheaper to open for each
// reader, who then owns the file offset that sendfile(2) needs (a shared file is read
// through a buffer, a copy that costs more than the open from a few tens of KiB on);
// and a blob deleted by GC in another process holds little disk space until it leaves
// the cache.
const openCacheMaxSize = 32 << 10

// openCacheMemSize is the size up to which a cached blob's bytes are kept too (at most
// openCacheEntries x 4 KiB = 16 MiB): serving it is then no system call at all, where a
// read costs as much as the rest of answering a tiny file.
const openCacheMemSize = 4 << 10

// openCacheEntries is how many files the cache keeps open: a quarter of the process's
// file descriptor limit (Go raises it to the hard limit at start), at most 4096.
var openCacheEntries = func() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 64
	}
	return int(max(64, min(lim.Cur/4, 4096)))
}()

// openCache keeps open files of small blobs, least recently opened first out, shared by
// concurrent readers (each reads with ReadAt through its own offset). An evicted entry
// still in use closes when its last reader does.
type openCache struct {
	mu      sync.Mutex
	entries map[Digest]*list.Element // of *openFile
	lru     list.List                // front: most recently opened
}

type openFile struct {
	digest  Digest
	file    *os.File
	at      io.ReaderAt // file, or its bytes in memory (bytesAt)
	size    int64
	readers int
	evicted bool
}

// bytesAt reads a blob's bytes from memory.
type bytesAt []byte

func (b bytesAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// get returns a reader over the cached file of d, or nil.
func (c *openCache) get(d Digest) Blob {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[d]
	if el == nil {
		return nil
	}
	c.lru.MoveToFront(el)
	return c.reader(el.Value.(*openFile))
}

// put caches file (of size bytes) for d and returns a reader over it; the caller no longer
// owns file. A file already cached for d wins and file is closed.
func (c *openCache) put(d Digest, file *os.File, size int64) Blob {
	var at io.ReaderAt = file
	if size <= openCacheMemSize {
		data := make([]byte, size)
		if n, err := file.ReadAt(data, 0); int64(n) == size && (err == nil || err == io.EOF) {
			at = bytesAt(data)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[Digest]*list.Element{}
	}
	if el := c.entries[d]; el != nil {
		file.Close()
		c.lru.MoveToFront(el)
		return c.reader(el.Value.(*openFile))
	}
	for c.lru.Len() >= openCacheEntries {
		c.remove(c.lru.Back())
	}
	e := &openFile{digest: d, file: file, at: at, size: size}
	c.entries[d] = c.lru.PushFront(e)
	return c.reader(e)
}

// drop forgets d (a deleted blob).
func (c *openCache) drop(d Digest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[d]; el != nil {
		c.remove(el)
	}
}

func (c *openCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*openFile)
	delete(c.entries, e.digest)
	e.evicted = true
	if e.readers == 0 {
		e.file.Close()
	}
}

// reader counts a new reader of e (c.mu held).
func (c *openCache) reader(e *openFile) Blob {
	e.readers++
	b := &sharedBlob{c: c, e: e}
	b.SectionReader = *io.NewSectionReader(e.at, 0, e.size)
	return b
}

// sharedBlob reads a cached file at its own offset; Close releases it.
type sharedBlob struct {
	io.SectionReader
	c      *openCache
	e      *openFile
	closed bool
}

func (b *sharedBlob) Close() error {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.e.readers--
	if b.e.evicted && b.e.readers == 0 {
		return b.e.file.Close()
	}
	return nil
}
