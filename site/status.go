package site

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/store"
)

// ExpiryWarning is how long before what vouches for a published tree expires (a Release's
// Valid-Until, an upstream signature) status starts to warn.
const ExpiryWarning = 7 * 24 * time.Hour

// FreshnessAlarm is how close to expiry a published tree counts as about to expire
// (MirrorStatus.ExpiresSoon; the status page shows it red).
const FreshnessAlarm = 24 * time.Hour

// MirrorStatus is what a store holds for one ref. The JSON field names are stable
// (/status.json and `airgap status --json` print them; README "Status"): fields may be
// added, none renamed or removed.
type MirrorStatus struct {
	Ref string `json:"ref"`
	// Kind and Name split Ref ("apt", "ubuntu").
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Configured is false for refs in the store that the config no longer names.
	Configured bool `json:"configured"`
	// Upstreams are the URLs a sync contacts (Mirror.Endpoints); empty when not
	// configured.
	Upstreams []string `json:"upstreams,omitempty"`
	// Published is zero when the ref was never published.
	Published time.Time `json:"published,omitzero"`
	// Generation is the digest of the published generation's record (what bundles and
	// GC name); Generations counts the generations kept in the store.
	Generation  string `json:"generation,omitempty"`
	Generations int    `json:"generations"`
	// Items is how many things the kind's Inventory lists (packages, images, wheels,
	// ...); Files and Bytes are the published tree's files and their total size.
	Items int   `json:"items"`
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// SignedBy is what signs the metadata clients verify.
	SignedBy Signature `json:"signed_by"`
	// Expires is when what vouches for the published tree stops doing so (the earliest
	// Valid-Until or signature expiry); zero when nothing expires. Past it, clients refuse
	// the tree and a sync refuses the upstream, so serve keeps the last verified one.
	// ExpiresInSeconds is the time left then (negative once past), Expired and
	// ExpiresSoon (less than FreshnessAlarm left) flag it.
	Expires          time.Time `json:"expires,omitzero"`
	ExpiresInSeconds *int64    `json:"expires_in_seconds,omitempty"`
	Expired          bool      `json:"expired"`
	ExpiresSoon      bool      `json:"expires_soon"`
	// LastSync is the outcome of the last sync of this ref run against this store (see
	// SyncRecordRef); nil when none was recorded (a store filled by import).
	LastSync *SyncRecord `json:"last_sync,omitempty"`
	// Repositories are, for an oci mirror, the repositories serve's /v2/ answers from it
	// (a repository that an oci mirror earlier in the config holds too is that one's).
	Repositories []string `json:"repositories,omitempty"`
	// Warnings are things an operator should act on: expiry soon or past, unverified
	// content, a failed last sync, a repository /v2/ serves from another mirror.
	Warnings []string `json:"warnings,omitempty"`
	// Error is why the published tree could not be read (the figures after it are
	// missing).
	Error string `json:"error,omitempty"`
	// URL and Snippets are filled by Config.Report: where the mirror is served, and the
	// client configuration that uses it.
	URL      string    `json:"url,omitempty"`
	Snippets []Snippet `json:"snippets,omitempty"`
}

// Signature says what signs a published tree's metadata.
type Signature struct {
	// By is "upstream" (pristine: clients verify the upstream's own signatures, or snap
	// assertions), "operator" (re-signed with the operator key), or "" for kinds without
	// signed metadata (OCI, PyPI, Galaxy, files: every item is checked against the digest
	// its upstream index gave).
	By string `json:"by,omitempty"`
	// Fingerprints are the OpenPGP fingerprints of the keys, when the tree records them.
	Fingerprints []string `json:"fingerprints,omitempty"`
	// Keyring is the keyring file clients verify with, as the config names it (pristine
	// trees), or the path of the operator's public key in the tree (re-signed).
	Keyring string `json:"keyring,omitempty"`
}

// signed is implemented by kinds whose published metadata carries signatures.
type signed interface {
	Signature(ctx context.Context, s store.Store, snap *store.Snapshot) (Signature, error)
}

// expirer is implemented by kinds whose published tree carries an expiry.
type expirer interface {
	Expires(ctx context.Context, s store.Store) (time.Time, error)
}

// DefaultTrivyDBGrace is how long past its NextUpdate a Trivy database may be before
// status warns (OCIMirror.TrivyDBGrace).
const DefaultTrivyDBGrace = 7 * 24 * time.Hour

// checker is implemented by kinds that find reasons to warn in their published tree.
type checker interface {
	Check(ctx context.Context, s store.Store, now time.Time) []string
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
// now. It reads each kind's Inventory, the published tree and the recorded sync outcomes.
func (c *Config) Status(ctx context.Context, s store.Store, now time.Time) ([]MirrorStatus, error) {
	return c.status(ctx, s, now, nil)
}

// itemCounts remembers Inventory's count per generation record, so that a server asked
// for its status often reads each published tree's inventory once.
type itemCounts struct {
	mu sync.Mutex
	n  map[store.Digest]int
}

func (c *Config) status(ctx context.Context, s store.Store, now time.Time, cache *itemCounts) ([]MirrorStatus, error) {
	refs, err := s.Refs(ctx)
	if err != nil {
		return nil, err
	}
	refs = slices.DeleteFunc(refs, func(r string) bool { return r == SyncRecordRef })
	byRef := map[string]Mirror{}
	for _, m := range c.Mirrors.All() {
		byRef[Ref(m)] = m
		if !slices.Contains(refs, Ref(m)) {
			refs = append(refs, Ref(m))
		}
	}
	sort.Strings(refs)
	syncs, err := SyncRecords(ctx, s)
	if err != nil {
		return nil, err
	}
	served, shadowed, err := c.registryHolders(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]MirrorStatus, 0, len(refs))
	for _, r := range refs {
		st, err := mirrorStatus(ctx, s, r, byRef[r], now, cache)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil { // one unreadable tree does not hide the others
			st.Error = err.Error()
		}
		if rec, ok := syncs[r]; ok {
			st.LastSync = &rec
			if !rec.OK {
				st.Warnings = append(st.Warnings, fmt.Sprintf("last sync %s failed (%s): %s", rec.Finished.Format(time.RFC3339), rec.ErrorKind, rec.Error))
			}
		}
		st.Repositories = served[r]
		st.Warnings = append(st.Warnings, shadowed[r]...)
		out = append(out, st)
	}
	return out, nil
}

func mirrorStatus(ctx context.Context, s store.Store, r string, m Mirror, now time.Time, cache *itemCounts) (MirrorStatus, error) {
	st := MirrorStatus{Ref: r, Configured: m != nil}
	st.Kind, st.Name, _ = strings.Cut(r, "/")
	if m != nil {
		st.Upstreams = m.Endpoints()
	}
	if w, ok := m.(warner); ok {
		st.Warnings = append(st.Warnings, w.Warnings()...)
	}
	snap, g, err := store.OpenPublished(ctx, s, r)
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	hist, err := store.History(ctx, s, r, 0)
	if err != nil {
		return st, err
	}
	st.Published, st.Generation, st.Generations = g.Published, string(g.Record), len(hist)
	st.Files, st.Bytes = len(snap.Files), snap.Size()
	if m == nil {
		return st, nil
	}
	if st.Items, err = countItems(ctx, s, m, g.Record, cache); err != nil {
		return st, err
	}
	if sg, ok := m.(signed); ok {
		if st.SignedBy, err = sg.Signature(ctx, s, snap); err != nil {
			return st, err
		}
	}
	if w, ok := m.(storeWarner); ok {
		ws, err := w.StoreWarnings(ctx, s)
		if err != nil {
			return st, err
		}
		st.Warnings = append(st.Warnings, ws...)
	}
	if e, ok := m.(expirer); ok {
		if st.Expires, err = e.Expires(ctx, s); err != nil {
			return st, err
		}
	}
	if c, ok := m.(checker); ok {
		st.Warnings = append(st.Warnings, c.Check(ctx, s, now)...)
	}
	if st.Expires.IsZero() {
		return st, nil
	}
	left := st.Expires.Sub(now)
	secs := int64(left / time.Second)
	st.ExpiresInSeconds, st.Expired, st.ExpiresSoon = &secs, left <= 0, left > 0 && left < FreshnessAlarm
	switch {
	case left <= 0:
		st.Warnings = append(st.Warnings, fmt.Sprintf("expired %s: clients refuse it; sync from the upstream to renew", st.Expires.UTC().Format(time.RFC3339)))
	case left < ExpiryWarning:
		st.Warnings = append(st.Warnings, fmt.Sprintf("expires in %s (%s): sync and carry it across before then", left.Round(time.Hour), st.Expires.UTC().Format(time.RFC3339)))
	}
	return st, nil
}

func countItems(ctx context.Context, s store.Store, m Mirror, record store.Digest, cache *itemCounts) (int, error) {
	if cache != nil {
		cache.mu.Lock()
		n, ok := cache.n[record]
		cache.mu.Unlock()
		if ok {
			return n, nil
		}
	}
	items, err := m.Inventory(ctx, s)
	if err != nil {
		return 0, err
	}
	if cache != nil {
		cache.mu.Lock()
		if cache.n == nil || len(cache.n) > 1024 { // records of long-gone generations
			cache.n = map[store.Digest]int{}
		}
		cache.n[record] = len(items)
		cache.mu.Unlock()
	}
	return len(items), nil
}

// registryHolders says which repositories /v2/ serves from each oci mirror, and warns
// the later mirrors of a repository that several hold (oci.NewRegistryHandler's rule:
// the first in the config).
func (c *Config) registryHolders(ctx context.Context, s store.Store) (served, shadowed map[string][]string, err error) {
	served, shadowed = map[string][]string{}, map[string][]string{}
	first := map[string]string{} // repository -> the ref serving it
	for _, ref := range c.ociRefs() {
		snap, _, err := store.OpenPublished(ctx, s, ref)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		for _, repo := range oci.Repositories(snap) {
			if by, taken := first[repo]; taken {
				shadowed[ref] = append(shadowed[ref], fmt.Sprintf("repository %s is served at /v2/ from %s (configured first), not from this mirror", repo, by))
				continue
			}
			first[repo] = ref
			served[ref] = append(served[ref], repo)
		}
	}
	return served, shadowed, nil
}

// Check warns of held Trivy databases past their NextUpdate by more than TrivyDBGrace,
// and of ones whose metadata cannot be read.
func (m *OCIMirror) Check(ctx context.Context, s store.Store, now time.Time) []string {
	dbs, err := oci.TrivyDBs(ctx, s, Ref(m))
	if err != nil {
		return []string{fmt.Sprintf("cannot check the trivy databases: %v", err)}
	}
	grace := m.TrivyDBGrace
	if grace == 0 {
		grace = DefaultTrivyDBGrace
	}
	var out []string
	for _, db := range dbs {
		if late := now.Sub(db.NextUpdate); late > grace {
			out = append(out, fmt.Sprintf("trivy database %s:%s is %s past its NextUpdate (%s): trivy downloads it again at scans (hourly at most, "+
				"the java DB daily) and finds no newer one; sync it from upstream and carry it across", db.Repository, db.Tag, late.Round(time.Hour),
				db.NextUpdate.UTC().Format(time.RFC3339)))
		}
	}
	return out
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
