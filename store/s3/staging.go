package s3

import (
	"context"
	"os"
	"time"

	"github.com/airgapkit/airgap/store"
)

// Begin implements store.Store. Object storage cannot append, so the partial upload is
// kept in a local staging file (store.OpenPartial); Commit streams it into Put.
func (s *Store) Begin(ctx context.Context, key string) (store.Upload, error) {
	scoped := s.cfg.Endpoint + "/" + s.cfg.Bucket + "/" + s.cfg.Prefix + "\x00" + key
	return store.OpenPartial(s.cfg.StagingDir, scoped, func(ctx context.Context, e store.Expect, f *os.File) (store.BlobInfo, error) {
		return s.Put(ctx, e, f)
	})
}

// PurgePartials implements store.PartialLister: stale local staging files.
func (s *Store) PurgePartials(ctx context.Context, olderThan time.Time) (int, error) {
	return store.PurgeFiles(s.cfg.StagingDir, olderThan)
}
