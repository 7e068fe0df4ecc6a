package apttest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Server serves a Repo over HTTP: GET and HEAD, Range, ETag (sha256 of the content),
// Last-Modified, If-None-Match and If-Modified-Since. It counts requests per path and can
// be told to fail.
type Server struct {
	mu       sync.Mutex
	files    map[string][]byte
	modTime  time.Time
	counts   map[string]int
	total    int
	notModif int
	// Fault, when set, is asked first for every request: a non-zero status is answered
	// instead of the file (with Retry-After: 0 for 429 and 503).
	Fault func(r *http.Request) int
}

// NewServer returns a Server for repo.
func NewServer(repo *Repo) *Server {
	s := &Server{counts: map[string]int{}}
	s.Replace(repo)
	return s
}

// Replace swaps the served repository (as an upstream that published a new version).
func (s *Server) Replace(repo *Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = map[string][]byte{}
	for k, v := range repo.Files {
		s.files[k] = v
	}
	s.modTime = time.Now().UTC().Truncate(time.Second)
}

// Set replaces or adds one file; nil removes it.
func (s *Server) Set(p string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b == nil {
		delete(s.files, p)
		return
	}
	s.files[p] = b
}

// File returns the content served at p.
func (s *Server) File(p string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[p]
}

// Count returns how many requests reached path p ("" = all paths).
func (s *Server) Count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == "" {
		return s.total
	}
	return s.counts[p]
}

// NotModified returns how many requests were answered 304.
func (s *Server) NotModified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notModif
}

// ResetCounts sets every counter to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts, s.total, s.notModif = map[string]int{}, 0, 0
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	s.mu.Lock()
	s.counts[p]++
	s.total++
	b, ok := s.files[p]
	mod := s.modTime
	fault := s.Fault
	s.mu.Unlock()
	if fault != nil {
		if code := fault(r); code != 0 {
			if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "0")
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(b)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	rec := &statusRecorder{ResponseWriter: w}
	http.ServeContent(rec, r, path.Base(p), mod, bytes.NewReader(b))
	if rec.status == http.StatusNotModified {
		s.mu.Lock()
		s.notModif++
		s.mu.Unlock()
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
