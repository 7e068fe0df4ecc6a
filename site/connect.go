package site

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/tlsutil"
)

// SnapStoreAPI is the host snapd reaches the Snap Store at, and where the download URLs
// of the tunnels' answers point.
const SnapStoreAPI = "api.snapcraft.io"

// isSnapStoreHost reports whether a CONNECT may open a tunnel to host: the store API or
// its download CDN (snapd follows download redirects there). Anything else snapd may ask
// for through a proxy (login.ubuntu.com, dashboard.snapcraft.io: logging in, buying) does
// not work inside an air gap and is refused.
func isSnapStoreHost(host string) bool {
	return host == SnapStoreAPI || strings.HasSuffix(host, ".snapcraftcontent.com") && len(host) > len(".snapcraftcontent.com")
}

// tunnels is what the CONNECT tunnels share: the leaf issuer and the store API over the
// snaps mirrors that have connect: configured.
type tunnels struct {
	issuer *tlsutil.HostIssuer
	api    http.Handler
}

// setupTunnels loads the CA of the snaps mirrors with connect:; nil (and no error) when
// none has it. Mirrors must name one CA.
func (s *Server) setupTunnels() (*tunnels, error) {
	var refs []string
	var conn *SnapsConnect
	for _, m := range s.cfg.Mirrors.Snaps {
		if m.Connect == nil {
			continue
		}
		if conn != nil && *conn != *m.Connect {
			return nil, fmt.Errorf("snaps mirrors name two CAs for connect: (%s, %s); one serves all tunnels", conn.CACert, m.Connect.CACert)
		}
		conn = m.Connect
		refs = append(refs, Ref(m))
	}
	if conn == nil {
		return nil, nil
	}
	ca, err := tlsutil.LoadCA(s.env.resolve(conn.CACert), s.env.resolve(conn.CAKey), "")
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	api := snapproxy.NewStoreHandler(s.env.Store, refs, snapproxy.WithExternalURL("https://"+SnapStoreAPI))
	return &tunnels{issuer: &tlsutil.HostIssuer{CA: ca, KeyType: tlsutil.ECDSAP256}, api: s.metrics.count("snaps/connect", api)}, nil
}

// connect answers a CONNECT request: a TLS tunnel to a Snap Store host, terminated here
// with a certificate of the local CA for that host and answered by the store API of the
// snaps mirrors; 403 (and the connection closed) for any other host, 405 when no snaps
// mirror offers tunnels.
func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	s.tunnelOnce.Do(func() { s.tunnels, s.tunnelErr = s.setupTunnels() })
	switch {
	case s.tunnelErr != nil:
		s.env.Logger.Error("site: CONNECT tunnels unavailable", "err", s.tunnelErr)
		refuse(w, http.StatusInternalServerError, "CONNECT tunnels are misconfigured; see the server log")
		return
	case s.tunnels == nil:
		refuse(w, http.StatusMethodNotAllowed, "CONNECT is not offered: ask for http:// URLs of a mirrored host")
		return
	}
	host, port, err := net.SplitHostPort(r.Host)
	host = strings.ToLower(host)
	if err != nil || port != "443" || !isSnapStoreHost(host) {
		w.Header().Set("Connection", "close")
		refuse(w, http.StatusForbidden, fmt.Sprintf("CONNECT to %s is refused: tunnels go to the Snap Store (%s:443, *.snapcraftcontent.com:443) only", r.Host, SnapStoreAPI))
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		refuse(w, http.StatusInternalServerError, "cannot open a tunnel here")
		return
	}
	// The tunnel's own server sets the deadlines from here on.
	_ = conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	if brw != nil && brw.Reader.Buffered() > 0 {
		conn = &prefixConn{Conn: conn, r: io.MultiReader(io.LimitReader(brw.Reader, int64(brw.Reader.Buffered())), conn)}
	}
	tc := tls.Server(conn, &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		// The certificate is for the host of the CONNECT, whatever name the client
		// sends: a tunnel to api.snapcraft.io never gets a certificate for another name.
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName != "" && !strings.EqualFold(hello.ServerName, host) {
				return nil, fmt.Errorf("TLS for %q in a tunnel to %s", hello.ServerName, host)
			}
			return s.tunnels.issuer.Certificate(host)
		},
	})
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logged(w, r, func(w http.ResponseWriter, r *http.Request) {
			if hostOnly(r.Host) != host {
				refuse(w, http.StatusMisdirectedRequest, fmt.Sprintf("this tunnel is to %s, not %s", host, r.Host))
				return
			}
			s.tunnels.api.ServeHTTP(w, r)
		})
	})
	srv := NewHTTPServer(inner, s.cfg.Serve)
	srv.ErrorLog = slog.NewLogLogger(s.env.Logger.Handler(), slog.LevelDebug)
	ln := &oneConnListener{conn: tc, done: make(chan struct{})}
	srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed || st == http.StateHijacked {
			ln.close()
		}
	}
	_ = srv.Serve(ln) // returns when the tunnel's connection has closed
}

// oneConnListener hands out one connection, then blocks until it is closed.
type oneConnListener struct {
	mu     sync.Mutex
	conn   net.Conn
	done   chan struct{}
	closer sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) close() { l.closer.Do(func() { close(l.done) }) }

func (l *oneConnListener) Close() error { return nil }

func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{} }

// prefixConn reads what the client sent after the CONNECT before the rest.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }
