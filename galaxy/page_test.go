package galaxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
)

// writeVersionsPage writes a v3 versions page of n items, as galaxy_ng answers one (an
// upstream that ignores limit= answers a collection's every version in one page).
func writeVersionsPage(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `{"meta": {"count": %d}, "links": {"first": "/api/v3/collections/acme/big/versions/?offset=0", "next": null}, "data": [`, n)
	for i := range n {
		if i > 0 {
			bw.WriteString(",")
		}
		fmt.Fprintf(bw, `{"version": "1.%d.%d", "href": "/api/v3/plugin/ansible/content/published/collections/index/acme/big/versions/1.%d.%d/", "created_at": "2026-03-01T10:00:00.000000Z", "updated_at": "2026-03-01T10:00:00.000000Z", "requires_ansible": ">=2.14.0", "marks": [], "is_highest": false}`, i/100, i%100, i/100, i%100)
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// TestDecodePageMemory reads a 30 MB page (just under the 32 MiB cap of an answer) and
// bounds the heap meanwhile: one item at a time, not the page (before, the page's bytes
// and a copy of every item were held: twice its size).
func TestDecodePageMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and parses 30 MB")
	}
	path := filepath.Join(t.TempDir(), "page")
	f, err := os.Create(path)
	require.NoError(t, err)
	const n = 120000
	require.NoError(t, writeVersionsPage(f, n))
	require.NoError(t, f.Close())
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Less(t, st.Size(), int64(maxJSONSize))
	require.Greater(t, st.Size(), int64(maxJSONSize*3/4))
	f, err = os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := testutil.NewHeapWatch()
	got := 0
	next, items, err := decodePage(f, func(raw json.RawMessage) error {
		if _, err := decodeVersionItem(raw); err != nil {
			return err
		}
		if got++; got%2048 == 0 {
			h.Sample()
		}
		return nil
	})
	h.Sample()
	require.NoError(t, err)
	assert.Equal(t, n, items)
	assert.Equal(t, n, got)
	assert.Empty(t, next)
	t.Logf("%d MB page: peak heap growth %.1f MiB", st.Size()>>20, float64(h.Growth())/(1<<20))
	assert.Less(t, h.Growth(), uint64(8<<20))
}

// BenchmarkDecodePage decodes a page of 10,000 versions (3 MB): B/MiB is what the page
// decoder allocates per MiB.
func BenchmarkDecodePage(b *testing.B) {
	var buf bytes.Buffer
	if err := writeVersionsPage(&buf, 10000); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	testutil.AllocPerMiB(b, int64(len(data)), func() error {
		_, _, err := decodePage(bytes.NewReader(data), func(raw json.RawMessage) error {
			_, err := decodeVersionItem(raw)
			return err
		})
		return err
	})
}

func TestDecodePage(t *testing.T) {
	read := func(doc string) (string, []string, error) {
		var got []string
		next, _, err := decodePage(strings.NewReader(doc), func(raw json.RawMessage) error {
			v, err := decodeVersionItem(raw)
			got = append(got, v)
			return err
		})
		return next, got, err
	}
	next, got, err := read(`{"links": {"next": "/p2"}, "data": [{"version": "1.0.0"}, {"version": "2.0.0"}], "meta": {"count": 3}}`)
	require.NoError(t, err)
	assert.Equal(t, "/p2", next)
	assert.Equal(t, []string{"1.0.0", "2.0.0"}, got)
	next, got, err = read(`{"count": 1, "next_link": "/v1/p2", "next": "/ignored", "data": null, "results": [{"version": "1.0.0"}]}`)
	require.NoError(t, err)
	assert.Equal(t, "/v1/p2", next)
	assert.Equal(t, []string{"1.0.0"}, got)
	_, got, err = read(`{"data": []}`)
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, bad := range []string{`{"data": [], "results": []}`, `{"results": null}`, `{}`, `[]`, `{"data": {}}`,
		`{"data": [{"version": "1.0.0"}]`, `{"data": [], "data": []}`, `{"data": []} x`} {
		_, _, err := read(bad)
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
	// An item over the cap, wherever it is, is store.ErrTooLarge.
	huge := strings.Repeat("x", maxItemSize)
	for _, doc := range []string{`{"data": [{"version": "1.0.0", "x": "` + huge + `"}]}`, `{"other": "` + huge + `", "data": []}`} {
		_, _, err := read(doc)
		assert.ErrorIs(t, err, store.ErrTooLarge)
	}
}
