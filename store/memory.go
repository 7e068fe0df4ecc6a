package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
)

// Memory is an in-memory Store for tests and short-lived tools. It verifies exactly like
// the filesystem store.
type Memory struct {
	mu       sync.Mutex
	blobs    map[Digest][]byte
	refs     map[string]Digest
	partials map[string]*bytes.Buffer
	uploads  map[string]*memUpload // the open upload of each key
	lock     chan struct{}
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		blobs:    map[Digest][]byte{},
		refs:     map[string]Digest{},
		partials: map[string]*bytes.Buffer{},
		uploads:  map[string]*memUpload{},
		lock:     make(chan struct{}, 1),
	}
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, e Expect, r io.Reader) (BlobInfo, error) {
	v, err := NewVerifier(e)
	if err != nil {
		return BlobInfo{}, err
	}
	var buf bytes.Buffer
	if _, err := io.Copy(io.MultiWriter(v, &buf), ContextReader(ctx, r)); err != nil {
		return BlobInfo{}, fmt.Errorf("store: put: %w", err)
	}
	return m.commit(v, buf.Bytes())
}

func (m *Memory) commit(v *Verifier, b []byte) (BlobInfo, error) {
	d, err := v.Check()
	if err != nil {
		return BlobInfo{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[d]; !ok {
		m.blobs[d] = bytes.Clone(b)
	}
	return BlobInfo{Digest: d, Size: int64(len(b))}, nil
}

// Begin implements Store.
func (m *Memory) Begin(ctx context.Context, key string) (Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.uploads[key] != nil {
		return nil, errUploadInUse(key)
	}
	buf, ok := m.partials[key]
	if !ok {
		buf = &bytes.Buffer{}
		m.partials[key] = buf
	}
	u := &memUpload{m: m, key: key, buf: buf}
	m.uploads[key] = u
	return u, nil
}

type memUpload struct {
	m   *Memory
	key string
	buf *bytes.Buffer
}

// release lets the next Begin of u's key go on (m.mu held); an upload that has already
// ended leaves the key to whoever holds it now.
func (u *memUpload) release() {
	if u.m.uploads[u.key] == u {
		delete(u.m.uploads, u.key)
	}
}

func (u *memUpload) Write(p []byte) (int, error) {
	u.m.mu.Lock()
	defer u.m.mu.Unlock()
	return u.buf.Write(p)
}

func (u *memUpload) Offset() int64 {
	u.m.mu.Lock()
	defer u.m.mu.Unlock()
	return int64(u.buf.Len())
}

func (u *memUpload) Commit(ctx context.Context, e Expect) (BlobInfo, error) {
	v, err := NewVerifier(e)
	if err != nil {
		return BlobInfo{}, err
	}
	u.m.mu.Lock()
	b := bytes.Clone(u.buf.Bytes())
	delete(u.m.partials, u.key)
	u.release()
	u.m.mu.Unlock()
	if _, err := v.Write(b); err != nil {
		return BlobInfo{}, err
	}
	return u.m.commit(v, b)
}

func (u *memUpload) Abort() error {
	u.m.mu.Lock()
	defer u.m.mu.Unlock()
	if u.m.uploads[u.key] == u {
		delete(u.m.partials, u.key)
	}
	u.release()
	return nil
}

func (u *memUpload) Close() error {
	u.m.mu.Lock()
	defer u.m.mu.Unlock()
	u.release()
	return nil
}

// Open implements Store.
func (m *Memory) Open(ctx context.Context, d Digest) (Blob, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[d]
	if !ok {
		return nil, fmt.Errorf("%w: blob %s", ErrNotFound, d)
	}
	return memBlob{bytes.NewReader(b)}, nil
}

type memBlob struct{ *bytes.Reader }

func (memBlob) Close() error  { return nil }
func (b memBlob) Size() int64 { return b.Reader.Size() }

// Stat implements Store.
func (m *Memory) Stat(ctx context.Context, d Digest) (BlobInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[d]
	if !ok {
		return BlobInfo{}, fmt.Errorf("%w: blob %s", ErrNotFound, d)
	}
	return BlobInfo{Digest: d, Size: int64(len(b))}, nil
}

// Has implements Store.
func (m *Memory) Has(ctx context.Context, d Digest) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.blobs[d]
	return ok, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, d Digest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, d)
	return nil
}

// Walk implements Store.
func (m *Memory) Walk(ctx context.Context, fn func(BlobInfo) error) error {
	m.mu.Lock()
	infos := make([]BlobInfo, 0, len(m.blobs))
	for d, b := range m.blobs {
		infos = append(infos, BlobInfo{Digest: d, Size: int64(len(b))})
	}
	m.mu.Unlock()
	for _, i := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(i); err != nil {
			return err
		}
	}
	return nil
}

// Ref implements Store.
func (m *Memory) Ref(ctx context.Context, name string) (Digest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.refs[name]
	if !ok {
		return "", fmt.Errorf("%w: ref %s", ErrNotFound, name)
	}
	return d, nil
}

// SwapRef implements Store.
func (m *Memory) SwapRef(ctx context.Context, name string, old, new Digest) error {
	if err := ValidatePath(name); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.refs[name]; cur != old {
		return fmt.Errorf("%w: ref %s is %q, expected %q", ErrConflict, name, cur, old)
	}
	if new == "" {
		delete(m.refs, name)
	} else {
		m.refs[name] = new
	}
	return nil
}

// Refs implements Store.
func (m *Memory) Refs(ctx context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.refs))
	for n := range m.refs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Lock implements Store.
func (m *Memory) Lock(ctx context.Context) (func() error, error) {
	select {
	case m.lock <- struct{}{}:
		return m.unlocker(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("store: waiting for writer lock: %w", ctx.Err())
	}
}

// TryLock implements Store.
func (m *Memory) TryLock(ctx context.Context) (func() error, error) {
	select {
	case m.lock <- struct{}{}:
		return m.unlocker(), nil
	default:
		return nil, ErrLocked
	}
}

func (m *Memory) unlocker() func() error {
	var once sync.Once
	return func() error {
		once.Do(func() { <-m.lock })
		return nil
	}
}
