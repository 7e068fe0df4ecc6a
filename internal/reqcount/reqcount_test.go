package reqcount

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPathsCountsByPathAndStartsOver(t *testing.T) {
	var p Paths
	srv := httptest.NewServer(p.Wrap(http.NotFoundHandler()))
	defer srv.Close()
	for _, path := range []string{"/b", "/a", "/b", "/b?x=1"} {
		resp, err := http.Head(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Equal(t, []Count{{"/a", 1}, {"/b", 3}}, p.Take(), "by path, sorted, the query ignored")
	assert.Empty(t, p.Take(), "Take starts over")
}

func TestClientCounts(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c, n := Client()
	for range 2 {
		resp, err := c.Get(srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Equal(t, int64(2), n.Load())
}

func TestColdThenNoop(t *testing.T) {
	var n atomic.Int64
	runs := 0
	var out strings.Builder
	require.NoError(t, ColdThenNoop(&out, &n, func() (int, bool, error) {
		runs++
		n.Add(int64(4 - runs*2)) // 2 requests cold, none in the no-op
		return 7, runs == 1, nil
	}))
	assert.Regexp(t, `^cold [0-9.]+ 7\nnoop [0-9.]+ 0\n$`, out.String())

	err := ColdThenNoop(io.Discard, &n, func() (int, bool, error) { return 1, true, nil })
	assert.ErrorContains(t, err, "no-op sync published")
	err = ColdThenNoop(io.Discard, &n, func() (int, bool, error) { return 0, false, errors.New("upstream down") })
	assert.ErrorContains(t, err, "upstream down")
}
