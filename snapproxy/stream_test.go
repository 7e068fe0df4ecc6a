package snapproxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// TestRefreshOverCap: a refresh answer is read whole, so it is capped: one over
// maxJSONSize fails with store.ErrTooLarge naming the URL and the cap, not retried.
func TestRefreshOverCap(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"results": [`)
		_, _ = io.Copy(w, io.LimitReader(strings.NewReader(strings.Repeat(" ", maxJSONSize)), maxJSONSize))
		_, _ = io.WriteString(w, `]}`)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Fetch: &fetch.Client{Store: store.NewMemory(), Backoff: 1, MaxBackoff: 1}}
	_, err := c.Refresh(context.Background(), "amd64", []Action{{Name: "hello"}})
	require.ErrorIs(t, err, store.ErrTooLarge)
	require.ErrorContains(t, err, srv.URL+"/v2/snaps/refresh")
	require.ErrorContains(t, err, strconv.Itoa(maxJSONSize))
	require.Equal(t, 1, calls)
}

// TestDecoderKeepsEachAssertion: the Decoder reuses its buffers from one assertion to the
// next; what it returned before keeps its own bytes.
func TestDecoderKeepsEachAssertion(t *testing.T) {
	k := snapproxytest.NewKey("store", "canonical")
	var want [][]byte
	var stream strings.Builder
	for i := range 3 {
		a := k.Sign("snap-revision", []snapproxytest.Header{{Name: "snap-sha3-384", Value: strconv.Itoa(i)}}, []byte(strings.Repeat("body", i*1000)))
		want = append(want, a)
		stream.Write(a)
		stream.WriteString("\n\n")
	}
	d := NewDecoder(strings.NewReader(stream.String()))
	var got []*Assertion
	for {
		a, err := d.Decode()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, a)
	}
	require.Len(t, got, 3)
	for i, a := range got {
		require.Equal(t, string(want[i]), string(a.Raw()), "assertion %d", i)
		require.Equal(t, strconv.Itoa(i), a.Header("snap-sha3-384"))
		require.Len(t, a.Body(), i*4000)
	}
}
