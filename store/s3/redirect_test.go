package s3

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/miniotest"
	"github.com/airgapkit/airgap/store"
)

// TestCredentialsStayOnTheEndpoint: in front of the real MinIO, an endpoint that
// redirects object reads to a second origin on 127.0.0.1: the client does not follow
// (minio-go never follows a redirect), so that origin is never contacted, let alone sent
// the signed Authorization; the read fails instead.
func TestCredentialsStayOnTheEndpoint(t *testing.T) {
	miniotest.Require(t)
	var elsewhere atomic.Int64
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		http.NotFound(w, r)
	}))
	defer second.Close()
	backend, err := url.Parse("http://" + server.Endpoint)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(backend)
	var redirected atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			redirected.Add(1)
			http.Redirect(w, r, second.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	s, err := Open(context.Background(), Config{
		Endpoint: strings.TrimPrefix(front.URL, "http://"), Bucket: bucket, Insecure: true,
		Prefix:     fmt.Sprintf("p%d", prefixes.Add(1)),
		Creds:      credentials.NewStaticV4(miniotest.AccessKey, miniotest.SecretKey, ""),
		StagingDir: t.TempDir(), LeaseTTL: 2 * time.Second,
	})
	require.NoError(t, err)
	ctx := context.Background()
	content := []byte("a blob read through a redirecting endpoint")
	info, err := s.Put(ctx, store.ExpectDigest(store.DigestOf(content), int64(len(content))), bytes.NewReader(content))
	require.NoError(t, err)
	r, err := s.Open(ctx, info.Digest)
	if err == nil {
		_, err = r.Read(make([]byte, 1))
		r.Close()
	}
	require.Error(t, err)
	assert.Positive(t, redirected.Load(), "the read was redirected")
	assert.Zero(t, elsewhere.Load(), "the second origin was never contacted")
}
