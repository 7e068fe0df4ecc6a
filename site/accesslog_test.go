package site

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// lockedBuffer is an io.Writer safe for the server's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// combined is nginx's combined format plus the Host and the seconds taken, as log tools
// split it: every field quoted or free of spaces.
var combined = regexp.MustCompile(`^(\S+) - - \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" "([^"]*)" (\d+\.\d{6})$`)

// Each request, over a real connection, logs one combined-format line with its status and
// the bytes of the body; what a client sends cannot break the line or a field.
func TestAccessLog(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	publishTree(t, s, "files/small", map[string]string{"a.txt": "hello"})
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte("files:\n  - {name: small, insecure: true, urls: [\"http://x/a.txt\"]}\n"))
	require.NoError(t, err)
	srv := NewServer(cfg, cfg.Env(s, nil, nil))
	log := &lockedBuffer{}
	srv.AccessLog = log
	ts := httptest.NewServer(srv)
	defer ts.Close()

	req, err := http.NewRequest("GET", ts.URL+"/files/small/a.txt", nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "Debian APT-HTTP/1.3 (2.6.1)")
	req.Header.Set("Referer", `http://x/"quoted"`)
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	// Raw requests with bytes net/http accepts but a log must not keep as they are.
	raw := func(request string) {
		c, err := net.Dial("tcp", ts.Listener.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte(request))
		require.NoError(t, err)
		_, _ = bufio.NewReader(c).ReadString(0)
	}
	raw("GET /files/small/missing HTTP/1.1\r\nHost: h\r\nUser-Agent: agent\" \"forged\xc3\xa9\r\nConnection: close\r\n\r\n")
	raw("GET /files/small/a\"b\\c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")

	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	require.Len(t, lines, 3, log.String())
	var fields [][]string
	for _, l := range lines {
		m := combined.FindStringSubmatch(l)
		require.NotNil(t, m, "not in combined format: %q", l)
		fields = append(fields, m)
	}
	assert.Equal(t, "127.0.0.1", fields[0][1])
	assert.Equal(t, "GET /files/small/a.txt HTTP/1.1", fields[0][3])
	assert.Equal(t, []string{"200", "5", `http://x/\x22quoted\x22`, "Debian APT-HTTP/1.3 (2.6.1)", ts.Listener.Addr().String()}, fields[0][4:9])
	assert.Equal(t, []string{"404", `agent\x22 \x22forged\xC3\xA9`}, []string{fields[1][4], fields[1][7]})
	assert.NotEqual(t, "0", fields[1][5], "the 404's body is counted")
	assert.Equal(t, `GET /files/small/a\x22b\x5Cc HTTP/1.1`, fields[2][3])
	assert.Equal(t, "h", fields[2][8])
}

// FuzzAccessLogLine: whatever a client sends, its log entry is one line of the combined
// format, so that no request can forge another entry or shift the fields.
func FuzzAccessLogLine(f *testing.F) {
	f.Add("GET", "/a?b=c", "Mozilla/5.0", "mirror:8080", "")
	f.Add("GET", "/\"x\" 200 1 \"-\" \"-\"\n1.2.3.4 - - [", "\x1b[31m", "", "http://r/")
	f.Fuzz(func(t *testing.T, method, uri, agent, host, referer string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Method, r.RequestURI, r.Host = method, uri, host
		r.Header.Set("User-Agent", agent)
		r.Header.Set("Referer", referer)
		var b bytes.Buffer
		writeAccessLog(&b, r, 200, 1, time.Now())
		line, ok := strings.CutSuffix(b.String(), "\n")
		if !ok || strings.ContainsAny(line, "\n\r") || !combined.MatchString(line) {
			t.Fatalf("not one combined-format line: %q", b.String())
		}
	})
}

// Requests for a mirror's files take the short way past the mux; the mux still cleans
// and redirects every other path as before.
func TestMirrorPaths(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	publishTree(t, s, "files/small", map[string]string{"a.txt": "hello", "d/b.txt": "b"})
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte("files:\n  - {name: small, insecure: true, urls: [\"http://x/a.txt\"]}\n"))
	require.NoError(t, err)
	srv := NewServer(cfg, cfg.Env(s, nil, nil))
	for path, want := range map[string]struct {
		code     int
		location string
	}{
		"/files/small/a.txt":          {200, ""},
		"/files/small/d/b.txt":        {200, ""},
		"/files/small/./a.txt":        {307, "/files/small/a.txt"},
		"/files/small/d/../a.txt":     {307, "/files/small/a.txt"},
		"/files/small//a.txt":         {307, "/files/small/a.txt"},
		"/files/small":                {307, "/files/small/"},
		"/files/small/":               {404, ""},
		"/files/other/a.txt":          {404, ""},
		"/files/small/../other/x":     {307, "/files/other/x"},
		"/healthz":                    {200, ""},
		"/files":                      {404, ""},
		"/files/small/a.txt/../a.txt": {307, "/files/small/a.txt"},
	} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		assert.Equal(t, want.code, rec.Code, path)
		assert.Equal(t, want.location, rec.Header().Get("Location"), path)
	}
}
