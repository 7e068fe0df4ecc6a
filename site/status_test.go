package site

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// /status.json keeps its documented field names (README "Status") and says what each
// mirror holds, who signed it, how fresh it is and how its last sync went.
func TestStatusJSON(t *testing.T) {
	cfg, s, syncErr := statusSite(t)
	require.Error(t, syncErr)
	srv := httptest.NewServer(NewServer(cfg, cfg.Env(s, nil, nil)))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/status.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	var raw struct {
		Generated string                       `json:"generated"`
		URL       string                       `json:"url"`
		Mirrors   []map[string]json.RawMessage `json:"mirrors"`
		DNS       map[string]json.RawMessage   `json:"dns"`
	}
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.Equal(t, srv.URL, raw.URL, "the address the request arrived on")
	require.Len(t, raw.Mirrors, 7, "the configured mirrors; the sync record is no mirror")
	for _, k := range []string{"ref", "kind", "name", "configured", "upstreams", "published", "generation", "generations",
		"items", "files", "bytes", "signed_by", "expires", "expires_in_seconds", "expired", "expires_soon", "last_sync", "url", "snippets"} {
		assert.Contains(t, raw.Mirrors[0], k, "apt/debian has %q", k)
	}
	assert.Contains(t, string(raw.DNS["lines"]), `127.0.0.1\tdeb.debian.org`)

	var rep StatusReport
	require.NoError(t, json.Unmarshal(body, &rep))
	byRef := map[string]MirrorStatus{}
	for _, m := range rep.Mirrors {
		byRef[m.Ref] = m
	}
	deb := byRef["apt/debian"]
	assert.Equal(t, "apt", deb.Kind)
	assert.Equal(t, "debian", deb.Name)
	assert.Equal(t, 2, deb.Items, "hello and libhello, not unwanted")
	assert.Equal(t, "operator", deb.SignedBy.By)
	require.Len(t, deb.SignedBy.Fingerprints, 1)
	require.NotNil(t, deb.ExpiresInSeconds)
	assert.InDelta(t, (10*24*time.Hour - time.Hour).Seconds(), float64(*deb.ExpiresInSeconds), 3600, "the default ValidFor")
	assert.False(t, deb.Expired || deb.ExpiresSoon)
	require.NotNil(t, deb.LastSync)
	assert.True(t, deb.LastSync.OK)
	// apt/short carries the same two .debs and syncs alongside, so either may store them first.
	assert.Equal(t, 4, deb.LastSync.FetchedItems+deb.LastSync.Reused, "InRelease, Packages and two .debs")
	assert.GreaterOrEqual(t, deb.LastSync.FetchedItems, 2, "its own indexes at least")
	assert.True(t, strings.HasPrefix(deb.Generation, "sha256:"))

	short := byRef["apt/short"]
	assert.True(t, short.ExpiresSoon)
	assert.False(t, short.Expired)
	assert.Equal(t, "upstream", short.SignedBy.By)
	assert.NotEmpty(t, short.SignedBy.Fingerprints, "the upstream key the InRelease verified with")

	dead := byRef["files/dead"]
	assert.True(t, dead.Published.IsZero())
	require.NotNil(t, dead.LastSync)
	assert.False(t, dead.LastSync.OK)
	assert.Equal(t, "network", dead.LastSync.ErrorKind)
	assert.Contains(t, dead.LastSync.Error, "connection refused")
	assert.Equal(t, map[string]int64{"network": 1}, dead.LastSync.Errors)
	assert.True(t, dead.LastSync.LastSuccess.IsZero())
	assert.Empty(t, dead.Snippets)

	// /metrics tells the same freshness.
	fams := scrape(t, srv.URL)
	left, ok := value(fams, "airgap_mirror_freshness_seconds", map[string]string{"mirror": "apt/short"})
	require.True(t, ok)
	assert.InDelta(t, float64(*short.ExpiresInSeconds), left, 60)
	_, ok = value(fams, "airgap_mirror_freshness_seconds", map[string]string{"mirror": "files/tools"})
	assert.False(t, ok, "nothing expires")

	// Offline (airgap status --json): the same figures, snippets for the URL given.
	off, err := cfg.Report(context.Background(), s, ReportOptions{URL: "https://mirror.internal"})
	require.NoError(t, err)
	require.Len(t, off.Mirrors, 7)
	assert.Nil(t, off.DNS, "no address to point the names at")
	for i, m := range off.Mirrors {
		assert.Equal(t, rep.Mirrors[i].Ref, m.Ref)
		assert.Equal(t, rep.Mirrors[i].Items, m.Items)
		if m.URL != "" {
			assert.True(t, strings.HasPrefix(m.URL, "https://mirror.internal/"+m.Ref+"/"), m.URL)
		}
	}
	_, err = cfg.Report(context.Background(), s, ReportOptions{URL: "mirror.internal"})
	assert.ErrorIs(t, err, store.ErrConfig)
}

// The status page answers / of the mirror's own name only: / of a transparent host is the
// upstream's root, and the mirrors' paths stay theirs.
func TestStatusPageShadowsNothing(t *testing.T) {
	srv, _ := transparentSite(t)
	get := func(host, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", path, nil)
		r.Host = host
		srv.ServeHTTP(rec, r)
		return rec
	}
	rec := get("mirror.internal", "/")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	for _, ref := range []string{"apt/debian", "apt/security", "simplestreams/maas", "files/tools"} {
		assert.Contains(t, rec.Body.String(), fmt.Sprintf(`data-ref="%s"`, ref))
	}
	// These trees are not real apt or simplestreams trees: their sections say so, and
	// the page still lists the others.
	assert.Contains(t, rec.Body.String(), "cannot read the published tree")
	assert.NotContains(t, rec.Body.String(), "<script")

	for _, host := range []string{"deb.debian.org", "images.maas.io"} {
		assert.Equal(t, http.StatusNotFound, get(host, "/").Code, host)
		assert.Equal(t, http.StatusNotFound, get(host, "/status.json").Code, host)
	}
	assert.Equal(t, "main archive", get("deb.debian.org", "/debian/dists/bookworm/InRelease").Body.String())
	assert.Equal(t, "main archive", get("mirror.internal", "/apt/debian/dists/bookworm/InRelease").Body.String())
	assert.Equal(t, http.StatusNotFound, get("mirror.internal", "/nothing").Code)
}

func TestErrorKind(t *testing.T) {
	for want, err := range map[string]error{
		"":                nil,
		"signature":       fmt.Errorf("apt: InRelease: %w", store.ErrSignature),
		"rollback":        fmt.Errorf("x: %w", store.ErrRollback),
		"digest_mismatch": fmt.Errorf("x: %w", store.ErrDigestMismatch),
		"canceled":        fmt.Errorf("x: %w", context.Canceled),
		"http":            fmt.Errorf("x: %w", &fetch.HTTPError{StatusCode: 404}),
		"not_found":       fmt.Errorf("x: %w", store.ErrNotFound),
		"config":          fmt.Errorf("x: %w", store.ErrConfig),
		"other":           errors.New("something else"),
	} {
		assert.Equal(t, want, ErrorKind(err), "%v", err)
	}
}
