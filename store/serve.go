package store

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ServeFile answers r with the stored file f named name: Range and If-Range (on GET; a
// HEAD answers as for the whole file), a strong ETag (the blob's sha256, so it never
// changes for the same bytes), If-None-Match (304), HEAD, and a Content-Type from the
// file's media type or else its extension.
func ServeFile(w http.ResponseWriter, r *http.Request, s Store, name string, f File) {
	b, err := s.Open(r.Context(), f.Digest)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrNotFound) {
			status = http.StatusNotFound
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	defer b.Close()
	h := w.Header()
	// The values of the headers set here share one allocation; the keys are canonical.
	v := make([]string, 4)
	v[0] = `"` + f.Digest.Hex() + `"`
	h["Etag"] = v[0:1:1]
	if h.Get("Content-Type") == "" {
		v[1] = ContentType(name, f.MediaType)
		h["Content-Type"] = v[1:2:2]
	}
	if plainRequest(r) {
		// What nearly every client sends: no validators, no range. The size is known, so
		// the answer needs no seeks to find it (http.ServeContent's way).
		v[2], v[3] = "bytes", strconv.FormatInt(f.Size, 10)
		h["Accept-Ranges"], h["Content-Length"] = v[2:3:3], v[3:4:4]
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			copyBody(w, b, f.Size)
		}
		return
	}
	if rg := r.Header.Get("Range"); rg != "" {
		verdict := rangeIgnore
		if rangeApplies(r, h.Get("ETag")) {
			verdict = judgeRange(rg, f.Size)
		}
		switch verdict {
		case rangeUnsatisfiable:
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(f.Size, 10))
			http.Error(w, http.StatusText(http.StatusRequestedRangeNotSatisfiable), http.StatusRequestedRangeNotSatisfiable)
			return
		case rangeIgnore:
			r = r.Clone(r.Context())
			r.Header.Del("Range")
		}
	}
	http.ServeContent(w, r, path.Base(name), noModTime, b)
}

// copyBody sends size bytes of b. A blob that is a file of its own goes through the
// writers' ReadFrom, which ends in sendfile(2) on the connection; a small one held in
// memory is written as it is; any other (a shared open file, a remote object) through a
// pooled buffer by Write, not ReadFrom, which would flush the headers in a write of
// their own before a small body.
func copyBody(w io.Writer, b Blob, size int64) {
	if _, ok := b.(syscall.Conn); ok {
		_, _ = io.CopyN(w, b, size)
		return
	}
	if sb, ok := b.(*sharedBlob); ok {
		if data, ok := sb.e.at.(bytesAt); ok && int64(len(data)) == size {
			_, _ = w.Write(data) // a small blob held in memory: one copy, into the response
			return
		}
	}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	_, _ = io.CopyBuffer(writerOnly{w}, io.LimitReader(b, size), *buf)
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// writerOnly hides a writer's ReadFrom from io.CopyBuffer.
type writerOnly struct{ io.Writer }

// plainRequest reports whether r is a GET or HEAD without any header that makes the
// answer conditional or partial.
func plainRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, k := range [...]string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
}

// rangeApplies reports whether a Range header is to be honoured: GET (RFC 9110 defines
// range handling for GET only; a HEAD answers as its GET without a Range would), and no
// If-Range, or one that names the current ETag (else the whole file goes).
func rangeApplies(r *http.Request, etag string) bool {
	if r.Method != http.MethodGet {
		return false
	}
	ir := r.Header.Get("If-Range")
	return ir == "" || ir == etag
}

// noModTime keeps http.ServeContent from sending Last-Modified: blobs are addressed by
// digest and validated by ETag.
var noModTime time.Time

// ContentType is the media type to serve a file with: mediaType when set, else one guessed
// from the name's extension, else application/octet-stream.
func ContentType(name, mediaType string) string {
	if mediaType != "" {
		return mediaType
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Live follows a ref and caches the snapshot it publishes, reloading only when the ref
// moves. Handlers use it to answer every request from one complete snapshot.
type Live struct {
	Store Store
	Ref   string

	mu   sync.Mutex // one reload at a time
	last atomic.Pointer[liveSnap]
}

type liveSnap struct {
	gen  Generation
	snap *Snapshot
}

// Snapshot returns the snapshot the ref publishes now (ErrNotFound before the first
// publish).
func (l *Live) Snapshot(ctx context.Context) (*Snapshot, Generation, error) {
	rec, err := l.Store.Ref(ctx, l.Ref)
	if err != nil {
		return nil, Generation{}, err
	}
	if c := l.last.Load(); c != nil && c.gen.Record == rec {
		return c.snap, c.gen, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.last.Load(); c != nil && c.gen.Record == rec {
		return c.snap, c.gen, nil
	}
	snap, gen, err := OpenPublished(ctx, l.Store, l.Ref)
	if err != nil {
		return nil, Generation{}, err
	}
	l.last.Store(&liveSnap{gen: gen, snap: snap})
	return snap, gen, nil
}

// NewHandler serves the tree that ref publishes as static files (GET and HEAD). A request
// for a directory path answers 404: the trees this SDK publishes are complete without
// listings, and listing them would expose names for nothing.
func NewHandler(s Store, ref string) http.Handler {
	return &treeHandler{live: &Live{Store: s, Ref: ref}}
}

type treeHandler struct{ live *Live }

func (h *treeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	snap, _, err := h.live.Snapshot(r.Context())
	if errors.Is(err, ErrNotFound) {
		http.Error(w, "nothing published yet", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "store unavailable", http.StatusInternalServerError)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	f, ok := snap.Lookup(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	ServeFile(w, r, h.live.Store, name, f)
}
