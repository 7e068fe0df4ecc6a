package site

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// A dry run counts, from Content-Length and the stores' contents, what to fetch and what
// is held; a blob planned by two mirrors counts once, and a size the upstream does not
// give is unknown, not guessed.
func TestPlanAllFiles(t *testing.T) {
	ctx := context.Background()
	body := map[string][]byte{"/a.bin": bytes.Repeat([]byte("a"), 1000), "/b.bin": bytes.Repeat([]byte("b"), 3000),
		"/held.bin": []byte("already here"), "/nolen.bin": []byte("size not told")}
	var gets int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := body[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodHead {
			gets++
		} else if r.URL.Path != "/nolen.bin" {
			w.Header().Set("Content-Length", itoa(len(b)))
		}
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	}))
	defer srv.Close()
	url := func(p string) string {
		return srv.URL + p + "?checksum=" + string(store.DigestOf(body[p]))
	}
	s := store.NewMemory()
	held, err := s.Put(ctx, store.Expect{}, bytes.NewReader(body["/held.bin"]))
	require.NoError(t, err)
	env := (&Config{}).Env(s, nil, nil)
	one := &FilesMirror{FileSet{Name: "one", URLs: []string{url("/a.bin"), url("/held.bin"), url("/nolen.bin")}}}
	two := &FilesMirror{FileSet{Name: "two", URLs: []string{url("/a.bin"), url("/b.bin")}}}

	// a kind that cannot plan (only the Mirror methods of a files mirror)
	opaque := struct{ Mirror }{&FilesMirror{FileSet{Name: "opaque"}}}
	r, err := env.PlanAll(ctx, []Mirror{one, two, opaque})
	require.NoError(t, err)
	assert.Zero(t, gets, "a plan downloads nothing")
	require.Len(t, r.Mirrors, 3)
	a, b := int64(len(body["/a.bin"])), int64(len(body["/b.bin"]))
	assert.Equal(t, store.PlanFigures{Items: 3, Fetch: 2, FetchBytes: a, Held: 1, HeldBytes: held.Size, Unknown: 1}, r.Mirrors[0].PlanFigures)
	assert.Equal(t, store.PlanFigures{Items: 1, Fetch: 1, FetchBytes: b}, r.Mirrors[1].PlanFigures, "a.bin counted once")
	assert.True(t, r.Mirrors[2].Unplanned)
	assert.Equal(t, store.PlanFigures{Items: 4, Fetch: 3, FetchBytes: a + b, Held: 1, HeldBytes: held.Size, Unknown: 1}, r.Total)
	assert.Equal(t, a+b+held.Size, r.AfterGC)
	assert.True(t, r.Partial)

	var out strings.Builder
	WritePlan(&out, r)
	assert.Contains(t, out.String(), "files/one: 3 items: fetch 2 (1000 B + 1 of unknown size), held 1 (12 B)")
	assert.Contains(t, out.String(), "files/opaque: sizes unknown")
	assert.Contains(t, out.String(), "store after gc (keep 1): at least "+HumanBytes(a+b+held.Size)+" (some sizes unknown)")

	// a missing file is the upstream's answer, named
	bad := &FilesMirror{FileSet{Name: "bad", URLs: []string{srv.URL + "/gone.bin?checksum=" + string(store.DigestOf(nil))}}}
	r, err = env.PlanAll(ctx, []Mirror{bad})
	require.NoError(t, err)
	require.Error(t, r.Mirrors[0].Err)
	assert.Contains(t, r.Mirrors[0].Err.Error(), "404")
}

func itoa(n int) string { return strconv.Itoa(n) }
