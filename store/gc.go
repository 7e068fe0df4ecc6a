package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// GCOptions tunes GC. The zero value keeps every generation and deletes for real.
type GCOptions struct {
	// Keep is how many generations of each ref stay (current included); <= 0 keeps all.
	Keep int
	// DryRun counts what would be removed without removing it.
	DryRun bool
	// PartialsOlderThan, when positive, also purges partial uploads untouched for that long.
	PartialsOlderThan time.Duration
}

// GCStats reports what GC found and removed.
type GCStats struct {
	Kept, Removed           int
	KeptBytes, RemovedBytes int64
	Partials                int
}

// GC removes every blob that no kept generation references: generation records, snapshot
// manifests and the files they list. The caller must hold the writer lock, so that no sync
// is adding blobs that are not yet published.
func GC(ctx context.Context, s Store, opt GCOptions) (GCStats, error) {
	live := map[Digest]bool{}
	refs, err := s.Refs(ctx)
	if err != nil {
		return GCStats{}, err
	}
	for _, ref := range refs {
		gens, err := History(ctx, s, ref, opt.Keep)
		if err != nil {
			return GCStats{}, fmt.Errorf("store: gc: %w", err)
		}
		for _, g := range gens {
			live[g.Record] = true
			live[g.Snapshot] = true
			snap, err := ReadSnapshot(ctx, s, g.Snapshot)
			if err != nil {
				return GCStats{}, fmt.Errorf("store: gc: ref %s: %w", ref, err)
			}
			for _, f := range snap.Files {
				live[f.Digest] = true
			}
		}
	}
	var st GCStats
	var dead []BlobInfo
	err = s.Walk(ctx, func(b BlobInfo) error {
		if live[b.Digest] {
			st.Kept++
			st.KeptBytes += b.Size
			return nil
		}
		dead = append(dead, b)
		return nil
	})
	if err != nil {
		return st, err
	}
	for _, b := range dead {
		if !opt.DryRun {
			if err := s.Delete(ctx, b.Digest); err != nil && !errors.Is(err, ErrNotFound) {
				return st, err
			}
		}
		st.Removed++
		st.RemovedBytes += b.Size
	}
	if p, ok := s.(PartialLister); ok && opt.PartialsOlderThan > 0 && !opt.DryRun {
		n, err := p.PurgePartials(ctx, time.Now().Add(-opt.PartialsOlderThan))
		st.Partials = n
		if err != nil {
			return st, err
		}
	}
	return st, nil
}
