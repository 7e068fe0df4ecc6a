package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
)

// Prev is what a sync starts from: the ref's current generation and, when it may be
// reused, its snapshot. See Update.
type Prev struct {
	// Generation is the ref's current generation; zero when the ref was never published.
	Generation Generation
	// Snapshot is the current generation's snapshot when it was published under the same
	// Trust as this update, else nil (never published, published under other trust
	// settings, or before trust was recorded). Only this snapshot may be reused: the
	// validators and state a package keeps in its annotations, the files it vouched for,
	// and the answer "nothing changed".
	Snapshot *Snapshot
	// Published is the current snapshot whatever Trust it was published under; nil when
	// the ref was never published. It is for comparisons that verify nothing (a rollback
	// floor, counting what a sync removed), never for skipping a check.
	Published *Snapshot
	// TrustChanged says how this update's Trust differs from the one recorded with
	// Generation (see Trust.Diff), for the log; nil when Snapshot is usable or the ref
	// was never published.
	TrustChanged []string
}

// Update is the one way a sync publishes: a transaction over ref that reads the current
// generation, lets build make the next snapshot from it, and publishes that only when it
// differs, in files or annotations, from what is published, or when trust differs from
// the Trust recorded with the current generation. It returns the generation the ref
// shows afterwards and whether it is a new one.
//
// build receives prev (see Prev). It returns the next snapshot, or nil to keep the
// published one ("not modified"); nil is refused when prev.Snapshot is nil, so a sync
// cannot keep a tree that was verified under other trust settings, or none. The files
// the snapshot names must be stored. An error from build is returned as it is and
// nothing is published.
//
// When another writer moved ref while build ran, Update publishes nothing and fails with
// ErrConflict (even when build's result equals what was read): the caller may sync
// again. Update does not take the store's writer lock; hold it if GC may run.
func Update(ctx context.Context, s Store, ref string, trust Trust, build func(prev Prev) (*Snapshot, error)) (Generation, bool, error) {
	if err := ValidatePath(ref); err != nil {
		return Generation{}, false, err
	}
	if err := trust.check(); err != nil {
		return Generation{}, false, fmt.Errorf("store: update %s: %w", ref, err)
	}
	var prev Prev
	cur, err := Current(ctx, s, ref)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Generation{}, false, fmt.Errorf("store: update %s: %w", ref, err)
	default:
		snap, err := ReadSnapshot(ctx, s, cur.Snapshot)
		if err != nil {
			return Generation{}, false, fmt.Errorf("store: update %s: %w", ref, err)
		}
		prev.Generation, prev.Published = cur, snap
		if cur.Trust.IsZero() || cur.Trust.Fingerprint() != trust.Fingerprint() {
			prev.TrustChanged = trust.Diff(cur.Trust)
		} else {
			prev.Snapshot = snap
		}
	}
	next, err := build(prev)
	if err != nil {
		return Generation{}, false, err
	}
	if next == nil {
		if prev.Snapshot == nil {
			return Generation{}, false, fmt.Errorf("store: update %s: nothing to keep: the published tree was not verified under these trust settings (or does not exist), so build must return a snapshot", ref)
		}
		next = prev.Snapshot
	}
	if prev.Snapshot != nil && next.Equal(prev.Snapshot) {
		// Nothing to publish, provided nobody else published meanwhile.
		d, err := s.Ref(ctx, ref)
		if err != nil {
			return Generation{}, false, fmt.Errorf("store: update %s: %w", ref, err)
		}
		if d != cur.Record {
			return Generation{}, false, fmt.Errorf("store: update %s: %w: published by another writer during the sync", ref, ErrConflict)
		}
		return cur, false, nil
	}
	d := cur.Snapshot
	if prev.Published == nil || !next.Equal(prev.Published) {
		if d, err = WriteSnapshot(ctx, s, next); err != nil {
			return Generation{}, false, fmt.Errorf("store: update %s: %w", ref, err)
		}
	} // else only the trust changed: the new generation shows the same manifest
	g, err := publish(ctx, s, ref, cur.Record, d, trust)
	if err != nil {
		return Generation{}, false, err
	}
	return g, true, nil
}

// Equal reports whether s and t hold the same files and annotations (Created aside):
// whether publishing t after s would change anything.
func (s *Snapshot) Equal(t *Snapshot) bool {
	return maps.Equal(s.Files, t.Files) && maps.Equal(s.Annotations, t.Annotations)
}

// SyncResult is what every package's SyncStats embeds: what was published and what it
// cost.
type SyncResult struct {
	// Ref is the store ref the mirror publishes.
	Ref string
	// Generation is the generation the ref shows after the sync: the new one when Changed,
	// else the one that was already published.
	Generation Generation
	// Changed reports that the sync published a new generation.
	Changed bool
	// Downloaded and DownloadedBytes count the files fetched from upstream by this sync;
	// Reused counts those found already stored (no download).
	Downloaded      int
	DownloadedBytes int64
	Reused          int
}
