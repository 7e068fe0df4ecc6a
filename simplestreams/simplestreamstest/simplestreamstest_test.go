package simplestreamstest_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store/pgp"
)

func TestUpstream(t *testing.T) {
	up, err := simplestreamstest.New(simplestreamstest.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(up)
	defer srv.Close()

	// 3 releases x 2 arches x 2 versions x (2 kernels + 2 initrds + squashfs + manifest),
	// 3 bootloaders, 1 centos root-tgz.
	assert.Len(t, up.ItemPaths(), 3*2*2*6+3+1)
	b, ok := up.File("noble/amd64/20261115/squashfs")
	require.True(t, ok)
	assert.Equal(t, simplestreamstest.Content("noble/amd64/20261115/squashfs", 200), b)

	resp, err := http.Get(srv.URL + "/streams/v1/index.sjson")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/streams/v1/index.sjson", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Equal(t, 2, up.Requests()["streams/v1/index.sjson"])

	// A new version changes the images document and the index, not the others.
	boot, _ := up.File(simplestreamstest.BootloadersBase + ".sjson")
	img, _ := up.File(simplestreamstest.ImagesBase + ".sjson")
	require.NoError(t, up.AddVersion("20261201"))
	boot2, _ := up.File(simplestreamstest.BootloadersBase + ".sjson")
	img2, _ := up.File(simplestreamstest.ImagesBase + ".sjson")
	assert.Equal(t, boot, boot2)
	assert.NotEqual(t, img, img2)
	assert.Len(t, up.ItemPaths(), 3*2*3*6+3+1)
}

// TestClient: the strict client reads the generated tree, and refuses it in each of the
// ways the simplestreams client would.
func TestClient(t *testing.T) {
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	ctx := context.Background()
	item := func(doc map[string]any) map[string]any {
		p := doc["products"].(map[string]any)["com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04"].(map[string]any)
		return p["versions"].(map[string]any)["20261115"].(map[string]any)["items"].(map[string]any)["boot-kernel"].(map[string]any)
	}
	const kernel = "noble/amd64/20261115/ga-24.04/generic/boot-kernel"
	for name, tc := range map[string]struct {
		opt     simplestreamstest.Options
		breakIt func(t *testing.T, up *simplestreamstest.Upstream)
		fetch   bool // the tree reads; fetching the kernel is refused
	}{
		"good": {opt: simplestreamstest.Options{IndexChecksums: true, AllChecksums: true}},
		"wrong sha512, right sha256": {fetch: true, breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			doc, err := up.Document(simplestreamstest.ImagesBase)
			require.NoError(t, err)
			item(doc)["sha512"] = strings.Repeat("ab", 64)
			require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
		}},
		"upper-case sha256": {fetch: true, breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			doc, err := up.Document(simplestreamstest.ImagesBase)
			require.NoError(t, err)
			item(doc)["sha256"] = strings.ToUpper(item(doc)["sha256"].(string))
			require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
		}},
		"content changed, same size": {fetch: true, breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			b, _ := up.File(kernel)
			up.Set(kernel, bytes.ToUpper(b))
		}},
		"wrong size": {fetch: true, breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			doc, err := up.Document(simplestreamstest.ImagesBase)
			require.NoError(t, err)
			item(doc)["size"] = 199
			require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
		}},
		"unsigned sjson": {breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			b, _ := up.File(simplestreamstest.CentOSBase + ".json")
			up.Set(simplestreamstest.CentOSBase+".sjson", b)
		}},
		"signed by another key": {breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			other, err := pgp.GenerateKey("Other", "other@example.invalid", pgp.KeyOptions{})
			require.NoError(t, err)
			b, _ := up.File(simplestreamstest.CentOSBase + ".json")
			cs, err := other.Clearsign(b)
			require.NoError(t, err)
			up.Set(simplestreamstest.CentOSBase+".sjson", cs)
		}},
		"products document its index entry does not match": {opt: simplestreamstest.Options{IndexChecksums: true}, breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			doc, err := up.Document(simplestreamstest.CentOSBase)
			require.NoError(t, err)
			doc["note"] = "x"
			require.NoError(t, up.SetDocument(simplestreamstest.CentOSBase, doc))
		}},
		"item path climbing out": {breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
			doc, err := up.Document(simplestreamstest.ImagesBase)
			require.NoError(t, err)
			item(doc)["path"] = "../../etc/passwd"
			require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
		}},
	} {
		t.Run(name, func(t *testing.T) {
			up, err := simplestreamstest.New(tc.opt)
			require.NoError(t, err)
			srv := httptest.NewServer(up)
			defer srv.Close()
			kr := filepath.Join(t.TempDir(), "keyring.gpg")
			require.NoError(t, os.WriteFile(kr, up.Keyring(), 0o644))
			c := &simplestreamstest.Client{URL: srv.URL, GPGV: gpgv, Keyring: kr}
			if tc.breakIt != nil {
				tc.breakIt(t, up)
			}
			items, err := c.Items(ctx)
			if tc.breakIt != nil && !tc.fetch {
				require.ErrorIs(t, err, simplestreamstest.ErrRefused)
				return
			}
			require.NoError(t, err)
			require.Len(t, items, 3*2*2*2*4+3+1)
			for _, it := range items {
				_, err := c.Fetch(ctx, it)
				if tc.fetch && it.Path() == kernel {
					assert.ErrorIs(t, err, simplestreamstest.ErrRefused, it.Path())
				} else {
					assert.NoError(t, err, it.Path())
				}
			}
		})
	}
}
