package site

import (
	"io"
	"net"
	"net/http"
	"sync"
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
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
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

func (w *stallWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
		n, err := io.Copy(w.ResponseWriter, io.LimitReader(r, stallChunk))
		total += n
		if err != nil {
			return total, err
		}
		if n < stallChunk {
			return total, nil
		}
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
