package store

import (
	"context"
	"errors"
)

// UnknownSize is the Size of a PlannedItem whose upstream metadata gives none.
const UnknownSize = -1

// PlannedItem is one blob a sync would publish, as the upstream's metadata describes it.
type PlannedItem struct {
	// Name is the item's path in the published tree (or its upstream URL).
	Name string
	// Digest is the blob's sha256 when the metadata names it, else "" (the item then
	// cannot be matched against what the store holds).
	Digest Digest
	// Size in bytes, UnknownSize when the metadata gives none.
	Size int64
}

// Plan is what a sync would publish, read from metadata only: a dry run's input.
type Plan struct {
	Items []PlannedItem
}

// PlanFigures sums a set of plans against a store: a blob named by the same digest in
// several plans (or twice in one) counts once, as the store holds it once.
type PlanFigures struct {
	// Items counts the distinct blobs planned (items without a digest each count).
	Items int
	// Fetch counts the planned blobs the store lacks; FetchBytes is their known size.
	Fetch      int
	FetchBytes int64
	// Held counts the planned blobs the store already holds; HeldBytes is their size.
	Held      int
	HeldBytes int64
	// Unknown counts the blobs to fetch whose size the metadata does not give.
	Unknown int
}

// Tally is the running sum of PlanFigures over several plans; the zero value is not
// usable, make one with NewTally.
type Tally struct {
	seen map[Digest]bool
}

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{seen: map[Digest]bool{}} }

// Add counts p against s. Digests already counted by an earlier Add are skipped, so the
// figures of successive calls add up to the distinct blobs of all plans.
func (t *Tally) Add(ctx context.Context, s Store, p Plan) (PlanFigures, error) {
	var f PlanFigures
	for _, it := range p.Items {
		if it.Digest != "" {
			if t.seen[it.Digest] {
				continue
			}
			t.seen[it.Digest] = true
			if b, err := s.Stat(ctx, it.Digest); err == nil {
				f.Items++
				f.Held++
				f.HeldBytes += b.Size
				continue
			} else if !errors.Is(err, ErrNotFound) {
				return f, err
			}
		}
		f.Items++
		f.Fetch++
		if it.Size < 0 {
			f.Unknown++
		} else {
			f.FetchBytes += it.Size
		}
	}
	return f, nil
}

// Plus returns the sum of f and g.
func (f PlanFigures) Plus(g PlanFigures) PlanFigures {
	return PlanFigures{Items: f.Items + g.Items, Fetch: f.Fetch + g.Fetch, FetchBytes: f.FetchBytes + g.FetchBytes,
		Held: f.Held + g.Held, HeldBytes: f.HeldBytes + g.HeldBytes, Unknown: f.Unknown + g.Unknown}
}

// Others returns the size of the files that the published snapshots of refs hold and no
// plan counted so far (each blob once): what those refs keep after a GC that keeps one
// generation. A ref with nothing published adds nothing.
func (t *Tally) Others(ctx context.Context, s Store, refs []string) (int64, error) {
	var n int64
	for _, ref := range refs {
		snap, _, err := OpenPublished(ctx, s, ref)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		for _, f := range snap.Files {
			if !t.seen[f.Digest] {
				t.seen[f.Digest] = true
				n += f.Size
			}
		}
	}
	return n, nil
}

// Preflight is a sync's hook between its metadata and its payload: the sync calls it
// with its Plan once it has read the upstream's metadata and before it downloads any
// payload. An error stops the sync there, publishing nothing (a disk check refusing a
// sync that would not fit, say). A sync with nothing to download may not call it.
type Preflight func(ctx context.Context, p Plan) error

// Check calls f with p; a nil Preflight accepts every plan.
func (f Preflight) Check(ctx context.Context, p Plan) error {
	if f == nil {
		return nil
	}
	return f(ctx, p)
}
