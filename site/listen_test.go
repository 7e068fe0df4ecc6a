package site

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

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
