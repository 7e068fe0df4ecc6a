package site

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// Planner is a Mirror that can say, from its upstream's metadata only, what a sync would
// publish (sync --dry-run). Kinds that are not Planners are reported as of unknown size.
type Planner interface {
	Plan(ctx context.Context, env *Env) (store.Plan, error)
}

// MirrorPlan is one mirror's share of a PlanReport. Figures count each blob once over
// the whole report: a blob that an earlier mirror already planned is not counted again.
type MirrorPlan struct {
	Ref string
	store.PlanFigures
	// Unplanned is set when the kind cannot plan: its sizes are unknown.
	Unplanned bool
	Err       error
}

// PlanReport is what a sync of a set of mirrors would fetch and hold.
type PlanReport struct {
	Mirrors []MirrorPlan
	Total   store.PlanFigures
	// AfterGC is the size of the files the store holds after the sync and a GC that
	// keeps one generation: the planned blobs plus what the other refs publish. Unknown
	// sizes and unplanned mirrors are not in it (Partial says so).
	AfterGC int64
	Partial bool
}

// PlanAll plans each mirror in turn against the store (see Planner). A mirror whose plan
// fails is reported with its error and the others still plan.
func (e *Env) PlanAll(ctx context.Context, ms []Mirror) (*PlanReport, error) {
	t := store.NewTally()
	r := &PlanReport{}
	planned := map[string]bool{}
	for _, m := range ms {
		mp := MirrorPlan{Ref: Ref(m)}
		planned[mp.Ref] = true
		pl, ok := m.(Planner)
		if !ok {
			mp.Unplanned, r.Partial = true, true
			r.Mirrors = append(r.Mirrors, mp)
			continue
		}
		p, err := pl.Plan(ctx, e)
		if err == nil {
			mp.PlanFigures, err = t.Add(ctx, e.Store, p)
		}
		if err != nil {
			mp.Err, r.Partial = err, true
		}
		r.Total = r.Total.Plus(mp.PlanFigures)
		if mp.Unknown > 0 {
			r.Partial = true
		}
		r.Mirrors = append(r.Mirrors, mp)
	}
	refs, err := e.Store.Refs(ctx)
	if err != nil {
		return nil, err
	}
	var others []string
	for _, ref := range refs {
		if !planned[ref] {
			others = append(others, ref)
		}
	}
	kept, err := t.Others(ctx, e.Store, others)
	if err != nil {
		return nil, err
	}
	r.AfterGC = kept + r.Total.HeldBytes + r.Total.FetchBytes
	return r, nil
}

// WritePlan prints a PlanReport for people: per mirror and in total, what to fetch, what
// is held, and the store after GC; unknown sizes are said to be unknown.
func WritePlan(w io.Writer, r *PlanReport) {
	line := func(f store.PlanFigures) string {
		fetchB := HumanBytes(f.FetchBytes)
		if f.Unknown > 0 {
			fetchB += fmt.Sprintf(" + %d of unknown size", f.Unknown)
		}
		return fmt.Sprintf("%d items: fetch %d (%s), held %d (%s)", f.Items, f.Fetch, fetchB, f.Held, HumanBytes(f.HeldBytes))
	}
	for _, m := range r.Mirrors {
		switch {
		case m.Unplanned:
			fmt.Fprintf(w, "%s: sizes unknown (this kind cannot plan without downloading)\n", m.Ref)
		case m.Err != nil:
			fmt.Fprintf(w, "%s: plan failed: %v\n", m.Ref, m.Err)
		default:
			fmt.Fprintf(w, "%s: %s\n", m.Ref, line(m.PlanFigures))
		}
	}
	fmt.Fprintf(w, "total: %s\n", line(r.Total))
	after := HumanBytes(r.AfterGC)
	if r.Partial {
		after = "at least " + after + " (some sizes unknown)"
	}
	fmt.Fprintf(w, "store after gc (keep 1): %s\n", after)
}

// Plan lists each URL: its ?checksum= names the blob when it is a sha256; the size is
// the store's when it holds the blob, else the upstream's Content-Length (HEAD) or a
// local file's size (fetch.Client.Size), unknown otherwise.
func (m *FilesMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	var p store.Plan
	for _, u := range m.URLs {
		it := store.PlannedItem{Name: baseName(u), Size: store.UnknownSize}
		if d, err := store.ParseDigest(checksumOf(u)); err == nil {
			it.Digest = d
			if b, err := env.Store.Stat(ctx, d); err == nil {
				it.Size = b.Size
				p.Items = append(p.Items, it)
				continue
			}
		}
		n, err := env.Fetch.Size(ctx, fetch.Request{URL: withoutChecksum(u), Generic: true})
		if err != nil {
			return p, fmt.Errorf("%s: %w", u, err)
		}
		it.Size = n
		p.Items = append(p.Items, it)
	}
	return p, nil
}

// withoutChecksum drops go-getter's ?checksum= (the upstream never sees it).
func withoutChecksum(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return raw
	}
	q := u.Query()
	q.Del("checksum")
	u.RawQuery = q.Encode()
	return u.String()
}
