package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Generation is one publication of a ref: which snapshot it showed, when, and the
// generation before it. Generations are small JSON blobs chained by Parent, so a ref's
// history survives in the store like commits in git, and GC can keep N of them.
type Generation struct {
	// Record is the digest of this generation's own record blob; "" for "never published".
	Record    Digest    `json:"-"`
	Snapshot  Digest    `json:"snapshot"`
	Parent    Digest    `json:"parent,omitempty"`
	Published time.Time `json:"published"`
	// Trust is what the sync that published this generation accepted as verified (see
	// Update); zero for generations published with Publish.
	Trust Trust `json:"trust,omitzero"`
}

// maxRecordSize caps a generation record blob.
const maxRecordSize = 1 << 16

// Current returns the generation ref points at. A ref that was never published gives the
// zero Generation and ErrNotFound.
func Current(ctx context.Context, s Store, ref string) (Generation, error) {
	if err := ValidatePath(ref); err != nil {
		return Generation{}, err
	}
	d, err := s.Ref(ctx, ref)
	if err != nil {
		return Generation{}, err
	}
	return ReadGeneration(ctx, s, d)
}

// ReadGeneration loads the generation record stored under d.
func ReadGeneration(ctx context.Context, s Store, d Digest) (Generation, error) {
	b, err := ReadBlob(ctx, s, d, maxRecordSize)
	if err != nil {
		return Generation{}, fmt.Errorf("store: generation %s: %w", d, err)
	}
	var g Generation
	if err := json.Unmarshal(b, &g); err != nil {
		return Generation{}, fmt.Errorf("store: generation %s: %w", d, err)
	}
	if err := g.Snapshot.Validate(); err != nil {
		return Generation{}, fmt.Errorf("store: generation %s: %w", d, err)
	}
	if g.Parent != "" {
		if err := g.Parent.Validate(); err != nil {
			return Generation{}, fmt.Errorf("store: generation %s: %w", d, err)
		}
	}
	g.Record = d
	return g, nil
}

// Publish points ref at snap in one atomic step, provided ref still points at prev (the
// Record of the Generation read when the sync began; "" when the ref did not exist).
// Otherwise it fails with ErrConflict and nothing changes. The snapshot must be stored.
//
// Publish is the bare step: it records no Trust and publishes even an unchanged tree. A
// sync uses Update.
func Publish(ctx context.Context, s Store, ref string, prev Digest, snap Digest) (Generation, error) {
	return publish(ctx, s, ref, prev, snap, Trust{})
}

func publish(ctx context.Context, s Store, ref string, prev Digest, snap Digest, trust Trust) (Generation, error) {
	if err := ValidatePath(ref); err != nil {
		return Generation{}, err
	}
	if _, err := ReadSnapshot(ctx, s, snap); err != nil {
		return Generation{}, fmt.Errorf("store: publish %s: %w", ref, err)
	}
	g := Generation{Snapshot: snap, Parent: prev, Published: time.Now().UTC(), Trust: trust}
	b, err := json.Marshal(g)
	if err != nil {
		return Generation{}, err
	}
	info, err := PutBytes(ctx, s, Expect{}, b)
	if err != nil {
		return Generation{}, fmt.Errorf("store: publish %s: %w", ref, err)
	}
	if err := s.SwapRef(ctx, ref, prev, info.Digest); err != nil {
		return Generation{}, fmt.Errorf("store: publish %s: %w", ref, err)
	}
	g.Record = info.Digest
	return g, nil
}

// History returns up to n generations of ref, newest first (n <= 0: all that are still
// stored). It stops quietly where GC has cut the chain.
func History(ctx context.Context, s Store, ref string, n int) ([]Generation, error) {
	g, err := Current(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	out := []Generation{g}
	seen := map[Digest]bool{g.Record: true}
	for g.Parent != "" && (n <= 0 || len(out) < n) {
		if seen[g.Parent] {
			return nil, fmt.Errorf("store: history of %s loops at %s", ref, g.Parent)
		}
		g, err = ReadGeneration(ctx, s, g.Parent)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		seen[g.Record] = true
		out = append(out, g)
	}
	return out, nil
}

// OpenPublished returns the snapshot ref currently shows, with its generation.
func OpenPublished(ctx context.Context, s Store, ref string) (*Snapshot, Generation, error) {
	g, err := Current(ctx, s, ref)
	if err != nil {
		return nil, Generation{}, err
	}
	snap, err := ReadSnapshot(ctx, s, g.Snapshot)
	if err != nil {
		return nil, Generation{}, err
	}
	return snap, g, nil
}
