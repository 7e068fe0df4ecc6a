package simplestreamstest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/simplestreamstest"
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
