package site

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// SyncRecordRef is the store ref under which SyncAll records each mirror's last sync
// outcome, so that `airgap serve` and `airgap status` (other processes, later) can show
// it. It is an ordinary ref: its generations are snapshots with no files whose
// annotations map each mirror's ref to its SyncRecord as JSON. Being a ref, it works on
// every backend (directory or S3), GC keeps its newest generations like any mirror's,
// and a failed publish of a mirror never touches it. Status leaves it out of the mirror
// list, and `airgap export` leaves it behind: it says what happened where syncs run, and
// the inside shows its mirrors' publish times instead.
const SyncRecordRef = "airgap/syncs"

// SyncRecord is the outcome of a mirror's last sync, and running totals of its failures.
type SyncRecord struct {
	// Started and Finished bound the last sync attempt.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// OK reports that the last attempt published (or found nothing to change); else
	// Error is what it failed with and ErrorKind its class (see ErrorKind).
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	// LastSuccess is when the last successful sync finished; zero when none did.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Changed, FetchedItems, FetchedBytes and Reused are the last successful sync's
	// store.SyncResult figures: whether it published a new generation, what it
	// downloaded, and what it found already stored.
	Changed      bool  `json:"changed"`
	FetchedItems int   `json:"fetched_items"`
	FetchedBytes int64 `json:"fetched_bytes"`
	Reused       int   `json:"reused"`
	// Errors counts every failed sync of the mirror so far, by ErrorKind.
	Errors map[string]int64 `json:"errors,omitempty"`
}

// Duration is how long the last sync attempt took.
func (r SyncRecord) Duration() time.Duration { return r.Finished.Sub(r.Started) }

// ErrorKind classifies a sync error by the SDK's shared vocabulary (errors.Is against
// store's sentinels), for metrics and scripts: config, signature, unsigned, rollback,
// digest_mismatch, malformed, not_found, too_large, conflict, locked, canceled, http
// (an upstream answered with an error status), network, or other.
func ErrorKind(err error) string {
	var he *fetch.HTTPError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.Is(err, store.ErrConfig):
		return "config"
	case errors.Is(err, store.ErrSignature):
		return "signature"
	case errors.Is(err, store.ErrUnsigned):
		return "unsigned"
	case errors.Is(err, store.ErrRollback):
		return "rollback"
	case errors.Is(err, store.ErrDigestMismatch):
		return "digest_mismatch"
	case errors.Is(err, store.ErrMalformed):
		return "malformed"
	case errors.Is(err, store.ErrTooLarge):
		return "too_large"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrLocked):
		return "locked"
	case errors.As(err, &he):
		return "http"
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.As(err, &ne):
		return "network"
	}
	return "other"
}

// outcome is one mirror's sync as SyncAll saw it.
type outcome struct {
	started, finished time.Time
	res               Result
	err               error
}

// recordSyncs merges the outcomes into the record at SyncRecordRef and publishes it.
func recordSyncs(ctx context.Context, s store.Store, done map[string]outcome) error {
	_, _, err := store.Update(ctx, s, SyncRecordRef, store.TrustOf(struct{}{}), func(prev store.Prev) (*store.Snapshot, error) {
		snap := store.NewSnapshot()
		if prev.Snapshot != nil {
			maps.Copy(snap.Annotations, prev.Snapshot.Annotations)
		}
		for ref, o := range done {
			var r SyncRecord
			if old, ok := snap.Annotations[ref]; ok {
				_ = json.Unmarshal([]byte(old), &r) // a damaged record starts afresh
			}
			r.Started, r.Finished, r.OK = o.started.UTC(), o.finished.UTC(), o.err == nil
			r.Error, r.ErrorKind = "", ErrorKind(o.err)
			if o.err != nil {
				r.Error = o.err.Error()
				if r.Errors == nil {
					r.Errors = map[string]int64{}
				}
				r.Errors[r.ErrorKind]++
			} else {
				sr := o.res.SyncResult
				r.LastSuccess, r.Changed = r.Finished, sr.Changed
				r.FetchedItems, r.FetchedBytes, r.Reused = sr.Downloaded, sr.DownloadedBytes, sr.Reused
			}
			b, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			snap.Annotations[ref] = string(b)
		}
		return snap, nil
	})
	if err != nil {
		return fmt.Errorf("recording the sync outcomes (%s): %w", SyncRecordRef, err)
	}
	return nil
}

// SyncRecords reads the last sync outcome of every mirror recorded in s (by ref); empty
// when no sync ran against s.
func SyncRecords(ctx context.Context, s store.Store) (map[string]SyncRecord, error) {
	snap, _, err := store.OpenPublished(ctx, s, SyncRecordRef)
	if errors.Is(err, store.ErrNotFound) {
		return map[string]SyncRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]SyncRecord, len(snap.Annotations))
	for ref, v := range snap.Annotations {
		var r SyncRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("%s: %s: %w: %v", SyncRecordRef, ref, store.ErrMalformed, err)
		}
		out[ref] = r
	}
	return out, nil
}
