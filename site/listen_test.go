package site

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/airgapkit/airgap/store"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveWith runs h on 127.0.0.1 with o and returns its address.
func serveWith(t *testing.T, h http.Handler, o ServeOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewHTTPServer(h, o)
	go srv.Serve(Listen(ln, o))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes c (a read ends) within d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(d)))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })

// Issue #19: idle and slow-read connections were held forever.
func TestSlowlorisIsCut(t *testing.T) {
	addr := serveWith(t, hello, ServeOptions{ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: mirror\r\nX-Slow: ") // and never the rest
	require.NoError(t, err)
	assert.True(t, closedWithin(t, c, 5*time.Second), "a client that never finishes its headers is closed")
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	addr := serveWith(t, hello, ServeOptions{IdleTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: mirror\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.True(t, closedWithin(t, c, 5*time.Second), "an idle keep-alive connection is closed")
}

// A client that stops reading frees its connection after WriteStallTimeout, while one that
// reads slowly but steadily is not cut (the deadline is per write, not per response).
func TestStalledReaderFreesItsSlot(t *testing.T) {
	endless := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/endless", endless)
	mux.Handle("/hello", hello)
	addr := serveWith(t, mux, ServeOptions{WriteStallTimeout: 300 * time.Millisecond, MaxConns: 1})

	stalled, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer stalled.Close()
	_, err = io.WriteString(stalled, "GET /endless HTTP/1.1\r\nHost: mirror\r\n\r\n") // and never reads
	require.NoError(t, err)

	// The only slot is taken until the stalled write fails; then this request is served.
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/hello")
	require.NoError(t, err, "served once the stalled connection was cut")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello", string(b))
}

func TestPerClientCap(t *testing.T) {
	addr := serveWith(t, hello, ServeOptions{MaxConnsPerClient: 2})
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: mirror\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		resp.Body.Close()
		held = append(held, c)
	}
	third, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer third.Close()
	assert.True(t, closedWithin(t, third, 5*time.Second), "a third connection from the same address is closed")
	held[0].Close()
	time.Sleep(50 * time.Millisecond) // the server notices the close on its next read
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/")
	require.NoError(t, err, "a slot is free again")
	resp.Body.Close()
}

// sendfileSpy is a TCP connection that counts the bytes copied into it from a file
// descriptor (what net.TCPConn's ReadFrom sends with sendfile).
type sendfileSpy struct {
	*net.TCPConn
	fromFile *atomic.Int64
}

func (c sendfileSpy) ReadFrom(r io.Reader) (int64, error) {
	src := r
	if lr, ok := r.(*io.LimitedReader); ok {
		src = lr.R
	}
	n, err := c.TCPConn.ReadFrom(r)
	if _, ok := src.(syscall.Conn); ok {
		c.fromFile.Add(n)
	}
	return n, err
}

type spyListener struct {
	net.Listener
	fromFile *atomic.Int64
}

func (l spyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return sendfileSpy{TCPConn: c.(*net.TCPConn), fromFile: l.fromFile}, nil
}

// fileServer serves a published file of size bytes (a blob with a file of its own, as
// large ones have) through the whole serve path: NewHTTPServer, Listen, Server.
func fileServer(t *testing.T, size int, o ServeOptions) (addr string, body []byte, fromFile *atomic.Int64) {
	t.Helper()
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "store"), store.WithoutSync())
	require.NoError(t, err)
	body = bytes.Repeat([]byte("0123456789abcdef"), size/16)
	publishTree(t, s, "files/big", map[string]string{"big.iso": string(body)})
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte("files:\n  - {name: big, insecure: true, urls: [\"http://x/big.iso\"]}\n"))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fromFile = &atomic.Int64{}
	srv := NewHTTPServer(NewServer(cfg, cfg.Env(s, nil, slog.New(slog.DiscardHandler))), o)
	go srv.Serve(Listen(spyListener{Listener: ln, fromFile: fromFile}, o))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), body, fromFile
}

// The access log's and the metrics' recorders and the stall guard pass copies on with
// ReadFrom, down to the connection's: a large file goes by sendfile, not through a
// buffer in user space.
func TestLargeFileReachesSendfile(t *testing.T) {
	addr, body, fromFile := fileServer(t, 4<<20, ServeOptions{})
	resp, err := http.Get("http://" + addr + "/files/big/big.iso")
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, bytes.Equal(body, got), "the whole file")
	// http's response writes the first 512 bytes itself, before it hands over.
	assert.GreaterOrEqual(t, fromFile.Load(), int64(len(body)-512), "copied from the file descriptor")
}

// The stall guard still cuts a client that stops reading a file sent by sendfile.
func TestStalledSendfileFreesItsSlot(t *testing.T) {
	addr, _, _ := fileServer(t, 64<<20, ServeOptions{WriteStallTimeout: 300 * time.Millisecond, MaxConns: 1})
	stalled, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer stalled.Close()
	require.NoError(t, stalled.(*net.TCPConn).SetReadBuffer(4<<10))
	_, err = io.WriteString(stalled, "GET /files/big/big.iso HTTP/1.1\r\nHost: mirror\r\n\r\n") // and never reads
	require.NoError(t, err)

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	require.NoError(t, err, "served once the stalled connection was cut")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// The connection's write deadline may lag a little behind the one asked for, but a
// write always runs under the latest: a clear is applied before it, a new deadline
// after a clear still cuts it.
func TestLimitConnWriteDeadline(t *testing.T) {
	a, b := net.Pipe() // a write blocks until the other end reads
	defer b.Close()
	c := &limitConn{Conn: a, release: func() {}}
	defer c.Close()

	require.NoError(t, c.SetWriteDeadline(time.Now().Add(-time.Second)))
	_, err := c.Write([]byte("x"))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "a past deadline holds")

	require.NoError(t, c.SetWriteDeadline(time.Time{}))
	go io.ReadFull(b, make([]byte, 1))
	_, err = c.Write([]byte("x"))
	assert.NoError(t, err, "the clear is applied before the write")

	require.NoError(t, c.SetWriteDeadline(time.Now().Add(time.Hour)))
	require.NoError(t, c.SetWriteDeadline(time.Time{}))
	require.NoError(t, c.SetWriteDeadline(time.Now().Add(100*time.Millisecond)))
	start := time.Now()
	_, err = c.Write([]byte("x")) // nobody reads
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "a deadline after a clear cuts the write")
	assert.Less(t, time.Since(start), 5*time.Second)
}
