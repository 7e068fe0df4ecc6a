package reqcount

import (
	"net/http"
	"net/http/httptest"
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
