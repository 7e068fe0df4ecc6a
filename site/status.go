package site

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/store"
)

// ExpiryWarning is how long before what vouches for a published tree expires (a Release's
// Valid-Until, an upstream signature) status starts to warn.
const ExpiryWarning = 7 * 24 * time.Hour

// MirrorStatus is what a store holds for one ref.
type MirrorStatus struct {
	Ref string `json:"ref"`
	// Configured is false for refs in the store that the config no longer names.
	Configured bool `json:"configured"`
	// Published is zero when the ref was never published.
	Published   time.Time `json:"published,omitzero"`
	Generations int       `json:"generations"`
	Files       int       `json:"files"`
	Bytes       int64     `json:"bytes"`
	// Expires is when what vouches for the published tree stops doing so (the earliest
	// Valid-Until or signature expiry); zero when nothing expires. Past it, clients refuse
	// the tree and a sync refuses the upstream, so serve keeps the last verified one.
	Expires time.Time `json:"expires,omitzero"`
	// Warnings are things an operator should act on: expiry soon or past, unverified
	// content.
	Warnings []string `json:"warnings,omitempty"`
}

// expirer is implemented by kinds whose published tree carries an expiry.
type expirer interface {
	Expires(ctx context.Context, s store.Store) (time.Time, error)
}

// warner is implemented by kinds that know of their own reasons to warn.
type warner interface {
	Warnings() []string
}

// storeWarner is implemented by kinds whose reasons to warn are in what they published.
type storeWarner interface {
	StoreWarnings(ctx context.Context, s store.Store) ([]string, error)
}

// Status reports every ref of the store and every configured mirror, sorted by ref, as of
// now.
func (c *Config) Status(ctx context.Context, s store.Store, now time.Time) ([]MirrorStatus, error) {
	refs, err := s.Refs(ctx)
	if err != nil {
		return nil, err
	}
	byRef := map[string]Mirror{}
	for _, m := range c.Mirrors.All() {
		byRef[Ref(m)] = m
		if !slices.Contains(refs, Ref(m)) {
			refs = append(refs, Ref(m))
		}
	}
	sort.Strings(refs)
	out := make([]MirrorStatus, 0, len(refs))
	for _, r := range refs {
		m := byRef[r]
		st := MirrorStatus{Ref: r, Configured: m != nil}
		if w, ok := m.(warner); ok {
			st.Warnings = append(st.Warnings, w.Warnings()...)
		}
		snap, g, err := store.OpenPublished(ctx, s, r)
		if errors.Is(err, store.ErrNotFound) {
			out = append(out, st)
			continue
		}
		if err != nil {
			return nil, err
		}
		hist, err := store.History(ctx, s, r, 0)
		if err != nil {
			return nil, err
		}
		st.Published, st.Generations, st.Files, st.Bytes = g.Published, len(hist), len(snap.Files), snap.Size()
		if w, ok := m.(storeWarner); ok {
			ws, err := w.StoreWarnings(ctx, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r, err)
			}
			st.Warnings = append(st.Warnings, ws...)
		}
		if e, ok := m.(expirer); ok {
			if st.Expires, err = e.Expires(ctx, s); err != nil {
				return nil, fmt.Errorf("%s: %w", r, err)
			}
		}
		switch left := st.Expires.Sub(now); {
		case st.Expires.IsZero():
		case left <= 0:
			st.Warnings = append(st.Warnings, fmt.Sprintf("expired %s: clients refuse it; sync from the upstream to renew", st.Expires.UTC().Format(time.RFC3339)))
		case left < ExpiryWarning:
			st.Warnings = append(st.Warnings, fmt.Sprintf("expires in %s (%s): sync and carry it across before then", left.Round(time.Hour), st.Expires.UTC().Format(time.RFC3339)))
		}
		out = append(out, st)
	}
	return out, nil
}

// Expires is the earliest expiry of the upstream signatures a pristine tree serves; zero
// for a re-signed tree (the operator's signatures do not expire).
func (m *SimplestreamsMirror) Expires(ctx context.Context, s store.Store) (time.Time, error) {
	snap, _, err := store.OpenPublished(ctx, s, Ref(m))
	if err != nil {
		return time.Time{}, err
	}
	u, ok, err := simplestreams.ReadUpstreamState(snap)
	if err != nil || !ok || !u.Pristine {
		return time.Time{}, err
	}
	return u.Expires, nil
}

// Warnings says when a files mirror publishes bytes nothing vouched for.
func (m *FilesMirror) Warnings() []string {
	if m.Insecure {
		return []string{"insecure: true: files without ?checksum= are published unverified"}
	}
	return nil
}
