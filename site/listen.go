package site

import (
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ServeOptions bound what clients may hold of a server: time and connections (`serve:` in
// airgap.yaml). Zero values take the defaults named on each field.
type ServeOptions struct {
	// ReadHeaderTimeout is how long a client may take to send a request's headers
	// (slowloris). Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request; the mirror takes no bodies. Default 30s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes a keep-alive connection with no request for this long.
	// Default 90s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// WriteStallTimeout fails a response when the client takes nothing for this long.
	// It is a deadline per write, not per response, so a 10 GiB image still downloads
	// over a slow link as long as it moves. Default 60s.
	WriteStallTimeout time.Duration `yaml:"write_stall_timeout"`
	// MaxConns caps the open connections; more wait in the kernel's backlog. Default:
	// half the process's file descriptor limit (the store needs the other half), at
	// least 64.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerClient caps the open connections of one client IP address; more are
	// closed at once. Default 64.
	MaxConnsPerClient int `yaml:"max_conns_per_client"`
}

func (o ServeOptions) withDefaults() ServeOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 10*time.Second)
	def(&o.ReadTimeout, 30*time.Second)
	def(&o.IdleTimeout, 90*time.Second)
	def(&o.WriteStallTimeout, time.Minute)
	if o.MaxConns <= 0 {
		o.MaxConns = 64
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur/2 > 64 {
			o.MaxConns = int(min(lim.Cur/2, 1<<20))
		}
	}
	if o.MaxConnsPerClient <= 0 {
		o.MaxConnsPerClient = 64
	}
	return o
}

// NewHTTPServer is the http.Server for h with o's timeouts; serve it on Listen's listener
// so that the connection caps apply too.
func NewHTTPServer(h http.Handler, o ServeOptions) *http.Server {
	o = o.withDefaults()
	return &http.Server{
		Handler:           stallGuard(h, o.WriteStallTimeout),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		IdleTimeout:       o.IdleTimeout,
	}
}

// Listen wraps ln so that at most o.MaxConns connections are open at once (Accept waits
// for one to close) and at most o.MaxConnsPerClient per client address.
func Listen(ln net.Listener, o ServeOptions) net.Listener {
	o = o.withDefaults()
	return &limitListener{Listener: ln, slots: make(chan struct{}, o.MaxConns), perClient: o.MaxConnsPerClient,
		clients: map[string]int{}, closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	perClient int
	mu        sync.Mutex
	clients   map[string]int
	closed    chan struct{}
	closeOnce sync.Once
}

// Close also ends an Accept that waits for a free slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		case <-l.closed:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		ip := clientIP(c.RemoteAddr())
		l.mu.Lock()
		over := l.clients[ip] >= l.perClient
		if !over {
			l.clients[ip]++
		}
		l.mu.Unlock()
		if over {
			c.Close()
			<-l.slots
			continue
		}
		return &limitConn{Conn: c, release: func() {
			l.mu.Lock()
			if l.clients[ip]--; l.clients[ip] == 0 {
				delete(l.clients, ip)
			}
			l.mu.Unlock()
			<-l.slots
		}}, nil
	}
}

func clientIP(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
	wdl     atomic.Int64 // the write deadline the socket has, in Unix nanoseconds; 0: none
	clear   atomic.Bool  // a clear of it asked for, applied before the next write
}

// SetWriteDeadline skips a move of the deadline that is small against the time left
// until it: the stall guard pushes it on every write and every request, net/http clears
// it after every response, and each change costs a timer update. The socket's deadline
// is at least 15/16 of the one asked for away; a clear waits for the next write (or
// deadline), so that one request after another on a connection costs no timer update.
func (c *limitConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		c.clear.Store(c.wdl.Load() != 0)
		return nil
	}
	if cur := c.wdl.Load(); cur != 0 {
		now, want := time.Now().UnixNano(), t.UnixNano()
		if want >= cur && want-cur < (want-now)/16 {
			c.clear.Store(false)
			return nil
		}
	}
	return c.setWriteDeadline(t)
}

func (c *limitConn) setWriteDeadline(t time.Time) error {
	c.clear.Store(false)
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	if t.IsZero() {
		c.wdl.Store(0)
	} else {
		c.wdl.Store(t.UnixNano())
	}
	return nil
}

// SetDeadline sets both deadlines at once, exactly (a hijacked tunnel clears them so).
func (c *limitConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.setWriteDeadline(t)
}

// applyClear clears the write deadline before a write if a clear is pending.
func (c *limitConn) applyClear() {
	if c.clear.Load() {
		_ = c.setWriteDeadline(time.Time{})
	}
}

func (c *limitConn) Write(p []byte) (int, error) {
	c.applyClear()
	return c.Conn.Write(p)
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// ReadFrom hands a copy to the TCP connection's own ReadFrom: net/http's response looks
// for it on the connection to send files with sendfile(2).
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	c.applyClear()
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// CloseWrite lets net/http half-close before closing (so that a client still sending
// gets the answer, not a reset).
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// stallGuard gives every write of a response its own deadline.
func stallGuard(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &stallWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: d}
		// The last deadline also covers the flush after the handler returns.
		defer func() { _ = sw.rc.SetWriteDeadline(time.Now().Add(d)) }()
		h.ServeHTTP(sw, r)
	})
}

// stallWriter sets a write deadline before each write; large copies go in chunks so that
// sendfile still serves them.
type stallWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

// stallChunk is how much one deadline covers in ReadFrom: a client must take 64 KiB per
// WriteStallTimeout (about 1 KiB/s at the default), little enough for a slow link.
const stallChunk = 64 << 10

func (w *stallWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	return w.ResponseWriter.Write(p)
}

// ReadFrom copies r in chunks of stallChunk, each with its own deadline. sendfile takes
// a file behind at most one io.LimitedReader: a limited r is narrowed per chunk rather
// than wrapped again.
func (w *stallWriter) ReadFrom(r io.Reader) (int64, error) {
	lr, ok := r.(*io.LimitedReader)
	if !ok {
		lr = &io.LimitedReader{R: r, N: math.MaxInt64}
	}
	var total int64
	for lr.N > 0 {
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
		chunk := &io.LimitedReader{R: lr.R, N: min(lr.N, stallChunk)}
		want := chunk.N
		n, err := io.Copy(w.ResponseWriter, chunk)
		total += n
		lr.N -= n
		if err != nil || n < want {
			return total, err
		}
	}
	return total, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
