package fetch

import (
	"sync/atomic"

	"github.com/airgapkit/airgap/store"
)

// Counter counts what a sync's fetches did, for its store.SyncResult: files downloaded
// (and their bytes) and files found already stored; a 304 counts as neither. It is safe
// for concurrent use; the zero value is ready.
type Counter struct {
	downloaded, reused, bytes atomic.Int64
}

// Count adds one fetch's result.
func (c *Counter) Count(res Result) {
	switch {
	case res.NotModified:
	case res.FinalURL == "":
		c.reused.Add(1)
	default:
		c.downloaded.Add(1)
		c.bytes.Add(res.Blob.Size)
	}
}

// Fill writes the counts into r.
func (c *Counter) Fill(r *store.SyncResult) {
	r.Downloaded, r.DownloadedBytes, r.Reused = int(c.downloaded.Load()), c.bytes.Load(), int(c.reused.Load())
}
