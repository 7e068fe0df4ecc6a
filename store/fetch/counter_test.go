package fetch

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/airgapkit/airgap/store"
)

// A 304 is neither a download nor a reuse; a result with no FinalURL was found stored.
func TestCounter(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			c.Count(Result{FinalURL: "http://u/a", Blob: store.BlobInfo{Size: 100}})
			c.Count(Result{Blob: store.BlobInfo{Size: 7}})
			c.Count(Result{NotModified: true, FinalURL: "http://u/b"})
		})
	}
	wg.Wait()
	var r store.SyncResult
	c.Fill(&r)
	assert.Equal(t, store.SyncResult{Downloaded: 10, DownloadedBytes: 1000, Reused: 10}, r)
}
