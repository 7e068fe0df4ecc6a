package store

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJudgeRange(t *testing.T) {
	for _, tc := range []struct {
		header string
		size   int64
		want   rangeVerdict
	}{
		{"bytes=0-99", 100, rangeServe},
		{"bytes=10-", 100, rangeServe},
		{"bytes=-10", 100, rangeServe},
		{"bytes=-200", 100, rangeServe},
		{"bytes=0-9,20-29", 100, rangeServe},
		{"bytes=0-9, 90-", 100, rangeServe},
		{"bytes=0-500", 100, rangeServe},
		{"bytes=-0", 100, rangeUnsatisfiable},
		{"bytes=100-", 100, rangeUnsatisfiable},
		{"bytes=200-300", 100, rangeUnsatisfiable},
		{"bytes=0-0", 0, rangeUnsatisfiable},
		{"bytes=-5", 0, rangeUnsatisfiable},
		{"bytes=-0,200-", 100, rangeUnsatisfiable},
		{"bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8", 100, rangeIgnore}, // > MaxRanges
		{"bytes=0-50,25-75", 100, rangeIgnore},                          // overlap
		{"bytes=0-,0-", 100, rangeIgnore},
		{"bytes=-60,0-50", 100, rangeIgnore}, // overlap by suffix
		{"bytes=9-5", 100, rangeUnsatisfiable},
		{"bytes=a-b", 100, rangeUnsatisfiable},
		{"bytes=+1-2", 100, rangeUnsatisfiable},
		{"bytes=1", 100, rangeUnsatisfiable},
		{"bytes=", 100, rangeUnsatisfiable},
		{"items=0-1", 100, rangeIgnore},
	} {
		assert.Equal(t, tc.want, judgeRange(tc.header, tc.size), "%s of %d", tc.header, tc.size)
	}
}

// Issue #19: multi-range requests cost many times the file, and bytes=-0 answered an
// invalid Content-Range.
func TestServeFileRanges(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	content := bytes.Repeat([]byte("0123456789"), 1000)
	info, err := PutBytes(ctx, s, Expect{}, content)
	require.NoError(t, err)
	f := File{Digest: info.Digest, Size: info.Size}
	serve := func(header map[string]string, method string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/f.bin", nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		ServeFile(w, r, s, "f.bin", f)
		return w
	}

	w := serve(map[string]string{"Range": "bytes=-0"}, "GET")
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, w.Code)
	assert.Equal(t, "bytes */10000", w.Header().Get("Content-Range"))

	many := make([]string, 200)
	for i := range many {
		many[i] = itoa(i) + "-" + itoa(i)
	}
	w = serve(map[string]string{"Range": "bytes=" + strings.Join(many, ",")}, "GET")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, len(content), w.Body.Len(), "the whole file once, not 200 multipart parts")

	w = serve(map[string]string{"Range": "bytes=0-99,50-149"}, "GET")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, len(content), w.Body.Len())

	w = serve(map[string]string{"Range": "bytes=10-19"}, "GET")
	assert.Equal(t, http.StatusPartialContent, w.Code)
	assert.Equal(t, "0123456789", w.Body.String())
	assert.Equal(t, "bytes 10-19/10000", w.Header().Get("Content-Range"))

	w = serve(map[string]string{"Range": "bytes=0-1,5-6"}, "GET")
	assert.Equal(t, http.StatusPartialContent, w.Code)
	assert.Contains(t, w.Header().Get("Content-Type"), "multipart/byteranges")

	// HEAD answers as GET without the Range would: range handling is GET's (RFC 9110).
	for _, rg := range []string{"bytes=10-19", "bytes=-0", "0"} {
		w = serve(map[string]string{"Range": rg}, "HEAD")
		assert.Equal(t, http.StatusOK, w.Code, "HEAD, Range %q", rg)
		assert.Equal(t, "10000", w.Header().Get("Content-Length"), "HEAD, Range %q", rg)
		assert.Empty(t, w.Header().Get("Content-Range"), "HEAD, Range %q", rg)
	}

	// A stale If-Range: the whole (new) file, whatever the Range says.
	w = serve(map[string]string{"Range": "bytes=-0", "If-Range": `"old"`}, "GET")
	assert.Equal(t, http.StatusOK, w.Code)
	body, _ := io.ReadAll(w.Body)
	assert.Len(t, body, len(content))
}

func itoa(i int) string { return strconv.Itoa(i) }

// FuzzJudgeRange: any Range header gets a verdict; one that is served asks for ranges that
// do not overlap and together fit the file.
func FuzzJudgeRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-0", "bytes=0-0,1-1,2-2", "bytes=0-50,25-75", "bytes=-5", "bytes=9-", "items=1-2", "bytes= 1-2 , 4-5", "bytes=99999999999999999999-"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -size
		}
		v := judgeRange(header, size)
		if v != rangeServe && v != rangeIgnore && v != rangeUnsatisfiable {
			t.Fatalf("verdict %d", v)
		}
		if v == rangeServe && (size == 0 || strings.Count(header, ",") >= MaxRanges) {
			t.Fatalf("%q of %d served", header, size)
		}
	})
}
