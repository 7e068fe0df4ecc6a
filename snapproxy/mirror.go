package snapproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// DefaultConcurrency is how many downloads and assertion requests a sync runs at once when
// Mirror.Concurrency is 0.
const DefaultConcurrency = 8

// maxActions caps the actions of one refresh request.
const maxActions = 100

// SnapMediaType is the media type the snapshot records for .snap files.
const SnapMediaType = "application/vnd.snap"

// Mirror mirrors snaps, with their assertions and dependencies, from a Snap Store into a
// store and publishes them as the ref "snaps/<Name>". The exported fields with yaml tags
// are what an operator configures; Store, Fetch, Trust and Logger are set by the program.
type Mirror struct {
	// Name names the mirror; the ref is "snaps/<Name>".
	Name string `yaml:"name"`
	// URL is the Store API root (DefaultStoreURL when empty): the public store, a Snap
	// Store Proxy, a test store.
	URL string `yaml:"url"`
	// StoreURL is the old name of URL, still accepted (with a warning at Sync).
	//
	// Deprecated: use URL.
	StoreURL string `yaml:"store_url"`
	// Snaps to mirror.
	Snaps []SnapSpec `yaml:"snaps"`
	// Architectures are the dpkg architectures to mirror for (default amd64), unless a
	// SnapSpec names its own.
	Architectures []string `yaml:"architectures"`
	// TrustedKeys is a file holding the trusted root account-key assertion(s). For the
	// public store that is Canonical's root account-key: the account-key named by the
	// sign-key-sha3-384 of the store's own account-key, as
	// `snap known --remote account-key public-key-sha3-384=<id>` prints it; check its id
	// against a snapd installation you trust before relying on it.
	TrustedKeys string `yaml:"trusted_keys"`
	// Authorization, when set, is sent as the Authorization header to the store API (a
	// brand store or an authenticated proxy); never to the CDN.
	Authorization string `yaml:"authorization"`
	// NoDependencies turns off dependency following (bases, content providers, snapd).
	NoDependencies bool `yaml:"no_dependencies"`
	// InsecureSkipSignature accepts assertions without verifying their signatures (the
	// snap-revision must still match each file). Logged.
	InsecureSkipSignature bool `yaml:"insecure_skip_signature"`
	// Concurrency caps simultaneous downloads and assertion requests (0:
	// DefaultConcurrency).
	Concurrency int `yaml:"concurrency"`
	// Assertions are more assertions to carry, named as in the store's /v2/assertions
	// ("validation-set/16/<account-id>/<name>/<sequence>", "account-key/<id>",
	// "model/16/<brand-id>/<model>"), each with the account-keys and accounts it needs,
	// verified up to the trusted root keys like the snaps' chains. They are published in
	// assertions.assert (complete chains, root keys included) and answered by the store API.
	Assertions []string `yaml:"assertions"`
	// StoreAssertion is a file holding the store assertion of a proxy store registered
	// with Canonical (its url naming this mirror), optionally with the account-keys and
	// accounts it needs: devices `snap ack` it before `snap set system proxy.store=<id>`.
	// Only Canonical can sign one: the mirror verifies it against the trusted root keys,
	// fetches what its chain lacks, publishes it (store.assert) and serves it; it cannot
	// make one.
	StoreAssertion string `yaml:"store_assertion"`

	// Store receives the content. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads (its Store must be Store). Nil: a default client on Store.
	Fetch *fetch.Client `yaml:"-"`
	// Trust, when set, replaces TrustedKeys.
	Trust *Trust `yaml:"-"`
	// Logger receives progress records. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
	// Preflight, when set, is handed what Plan lists once the snaps are resolved, before
	// any .snap is downloaded.
	Preflight store.Preflight `yaml:"-"`
}

// SnapSpec selects a snap: by Revision when set (pinning), else by Channel (default: the
// stable risk of the snap's default track, as `snap install` without --channel; a bare
// risk such as "edge" also takes the default track), for Architectures (default the
// mirror's). Several specs may name one snap (two channels, a channel and a pinned
// revision): all are held, and install.sh installs the first.
//
// Keep, for a channel, holds the last Keep revisions the channel had at this and earlier
// syncs (the newest revisions first, the current one included; 0 and 1: the current
// one), taken from the published tree, so that devices on an older revision refresh to
// the newest held one and `snap refresh --revision` can go back.
type SnapSpec struct {
	Name          string   `yaml:"name"`
	Channel       string   `yaml:"channel"`
	Revision      int      `yaml:"revision"`
	Architectures []string `yaml:"architectures"`
	Keep          int      `yaml:"keep"`
}

// SyncStats describes what a sync did. Downloaded and DownloadedBytes count the snap
// files fetched, Reused those already stored; Changed is false when the sync arrived at
// the published tree under the same trust, and nothing was published.
type SyncStats struct {
	store.SyncResult
	// Snaps counts the snap files the published snapshot holds (over all architectures),
	// Dependencies those among them that were not asked for.
	Snaps        int
	Dependencies int
	// Assertions counts assertions fetched.
	Assertions int
}

// Ref returns the store ref the mirror publishes: "snaps/<Name>".
func (m *Mirror) Ref() string { return "snaps/" + m.Name }

// Endpoints lists the URLs a sync contacts: the store API and, for the public store, the
// content hosts its downloads redirect to (a wildcard: the CDN host names vary). Another
// store may redirect downloads to hosts of its own choosing.
func (m *Mirror) Endpoints() []string {
	u := strings.TrimRight(m.storeURL(), "/")
	if u == "" || u == DefaultStoreURL {
		return []string{DefaultStoreURL, "https://*.snapcraftcontent.com"}
	}
	return []string{u}
}

func (m *Mirror) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// storeURL is URL, or its deprecated name StoreURL ("" for the default).
func (m *Mirror) storeURL() string {
	if m.URL != "" {
		return m.URL
	}
	return m.StoreURL
}

func (m *Mirror) client() *Client {
	fc := m.Fetch
	if fc == nil {
		fc = &fetch.Client{Store: m.Store, Logger: m.Logger}
	}
	c := &Client{BaseURL: m.storeURL(), Fetch: fc}
	if m.Authorization != "" {
		c.Header = http.Header{"Authorization": {m.Authorization}}
	}
	return c
}

func (m *Mirror) archs(s SnapSpec) []string {
	if len(s.Architectures) > 0 {
		return s.Architectures
	}
	if len(m.Architectures) > 0 {
		return m.Architectures
	}
	return []string{"amd64"}
}

// entry is one resolved snap revision for one architecture.
type entry struct {
	arch    string
	details SnapDetails
	yaml    *SnapYAML
	// channel is the first channel the revision was resolved in (normalized; "" for a
	// pinned revision), releases all of them: the channel map the store API serves.
	channel  string
	releases []string
	// keep is, per release channel, how many of the channel's revisions to hold.
	keep       map[string]int
	requested  bool
	requiredBy []string
	// install: install.sh installs it (the first revision resolved for its name).
	install bool
	// held is the file of an older revision taken from the published tree (Keep).
	held *store.File
	// created is the snap-revision's timestamp.
	created string
}

func (e *entry) addRelease(ch string, keep int) {
	if ch == "" {
		return
	}
	if !slices.Contains(e.releases, ch) {
		e.releases = append(e.releases, ch)
	}
	if keep > e.keep[ch] {
		if e.keep == nil {
			e.keep = map[string]int{}
		}
		e.keep[ch] = keep
	}
}

func (e *entry) file() string { return e.details.Name + "_" + strconv.Itoa(e.details.Revision) }

// Sync asks the store for every configured snap and architecture, follows dependencies,
// downloads each distinct revision (verified by SHA3-384 and size; files of the published
// generation are not fetched again), fetches and verifies its assertions, and publishes
// the pairs, manifest.json and install.sh as the ref "snaps/<Name>" through store.Update:
// nothing when the result equals what is published under the same trust (the trusted
// root keys and InsecureSkipSignature; SyncStats.Changed false). A failed sync publishes
// nothing.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	st := SyncStats{SyncResult: store.SyncResult{Ref: m.Ref()}}
	if m.Store == nil {
		return st, fmt.Errorf("%w: Mirror.Store is nil", ErrConfig)
	}
	if m.Name == "" || store.ValidatePath(m.Ref()) != nil || strings.Contains(m.Name, "/") {
		return st, fmt.Errorf("%w: invalid mirror name %q", ErrConfig, m.Name)
	}
	if m.URL != "" && m.StoreURL != "" && m.URL != m.StoreURL {
		return st, fmt.Errorf("%w: url %q and its deprecated name store_url %q disagree", ErrConfig, m.URL, m.StoreURL)
	}
	if m.StoreURL != "" {
		m.logger().Warn("snapproxy: the setting store_url is deprecated; call it url", "mirror", m.Name)
	}
	trust := m.Trust
	if trust == nil && m.TrustedKeys != "" {
		t, err := LoadTrust(m.TrustedKeys)
		if err != nil {
			return st, err
		}
		trust = t
	}
	if trust == nil && !m.InsecureSkipSignature {
		return st, ErrNoTrustedKeys
	}
	if m.InsecureSkipSignature {
		m.logger().Warn("snapproxy: assertion signatures are NOT verified (insecure_skip_signature)", "mirror", m.Name)
	}
	if err := m.validate(); err != nil {
		return st, err
	}
	c := m.client()
	res, err := m.resolve(ctx, c)
	if err != nil {
		return st, err
	}
	m.learnDefaultTracks(ctx, c, res.tracks)
	r := &syncRun{m: m, c: c, trust: trust, assertions: map[string]*assertCall{}, known: map[string]store.Digest{}}
	var entries []*entry
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), m.storeTrust(trust, c), func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			m.logger().Info("snapproxy: trust settings changed", "ref", m.Ref(), "changed", prev.TrustChanged)
		}
		// Which sha256 each sha3-384 has is a fact about bytes, whatever trust they were
		// published under: the published files need not be fetched again (their
		// assertions are, and verified). The revisions a channel had before come from
		// there too (Keep).
		prevOut := knownFiles(ctx, m.Store, prev.Published, r.known)
		if err := m.holdOlder(ctx, c, res, prevOut); err != nil {
			return nil, err
		}
		entries = res.entries()
		if err := m.Preflight.Check(ctx, planOf(entries, r.known)); err != nil {
			return nil, err
		}
		files, err := r.fetchAll(ctx, entries)
		if err != nil {
			return nil, err
		}
		extra, err := r.extraAssertions(ctx)
		if err != nil {
			return nil, err
		}
		return r.snapshot(ctx, entries, files, res.tracks, extra)
	})
	st.Downloaded, st.DownloadedBytes, st.Reused, st.Assertions = r.downloaded, r.downloadedBytes, r.reused, r.fetchedAssertions
	if err != nil {
		return st, err
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !seen[e.file()] {
			seen[e.file()] = true
			st.Snaps++
			if !e.requested {
				st.Dependencies++
			}
		}
	}
	st.Generation, st.Changed = gen, changed
	if changed {
		m.logger().Info("snapproxy: published", "ref", m.Ref(), "snaps", st.Snaps, "downloaded", st.Downloaded)
	} else {
		m.logger().Info("snapproxy: nothing changed", "ref", m.Ref(), "snaps", st.Snaps)
	}
	return st, nil
}

// validate checks the snaps and assertions named; Sync calls it.
func (m *Mirror) validate() error {
	for _, s := range m.Snaps {
		if !validName(s.Name) {
			return fmt.Errorf("%w: invalid snap name %q", ErrConfig, s.Name)
		}
		if s.Keep < 0 || s.Keep > 0 && s.Revision > 0 {
			return fmt.Errorf("%w: %s: keep is a number of revisions of a channel (not with revision)", ErrConfig, s.Name)
		}
		if s.Channel != "" {
			if _, err := ParseChannel(s.Channel, "latest"); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrConfig, s.Name, err)
			}
		}
	}
	for _, ref := range m.Assertions {
		if _, _, err := parseAssertionRef(ref); err != nil {
			return err
		}
	}
	return nil
}

// learnDefaultTracks asks the store's info endpoint for the default track of every
// configured snap whose track the refreshes did not reveal, so that the store API can
// answer a request without a track as the store would.
func (m *Mirror) learnDefaultTracks(ctx context.Context, c *Client, tracks map[string]string) {
	for _, s := range m.Snaps {
		if _, ok := tracks[s.Name]; ok {
			continue
		}
		info, err := c.Info(ctx, s.Name, "")
		if err != nil {
			m.logger().Warn("snapproxy: cannot learn the default track; the store API will take latest", "snap", s.Name, "err", err)
			continue
		}
		tracks[s.Name] = info.DefaultTrack
		if tracks[s.Name] == "" {
			tracks[s.Name] = "latest"
		}
	}
}

// storeTrust is the store.Trust a sync publishes under: the mirror's switches
// (InsecureSkipSignature), the trusted root keys (Trust.Digest) and, when signatures
// are not checked, the store whose answers are then believed.
func (m *Mirror) storeTrust(trust *Trust, c *Client) store.Trust {
	t := store.TrustOf(m)
	if trust != nil {
		t = t.WithRoot("trusted_keys", string(trust.Digest()))
	} else {
		t = t.WithRoot("trusted_keys", "none")
	}
	if m.InsecureSkipSignature {
		t = t.WithRoot("store", c.base())
	}
	return t
}

// want is one action a resolution asks for, with the Keep of the spec it comes from.
type want struct {
	Action
	keep int
}

// archSet is what one architecture resolved: entries in order, by name and by file.
type archSet struct {
	arch     string
	entries  []*entry
	byName   map[string][]*entry
	byFile   map[string]*entry
	wantedBy map[string][]string
}

// resolution is what resolve found: per architecture, and the default tracks the store
// revealed (the track of a request that named none).
type resolution struct {
	archs  []*archSet
	tracks map[string]string
}

func (r *resolution) entries() []*entry {
	var out []*entry
	for _, a := range r.archs {
		out = append(out, a.entries...)
	}
	return out
}

// knownFiles records in known the sha256 of each .snap a published tree holds, by its
// sha3-384, and returns the tree's output (nil when there is none or it does not read).
func knownFiles(ctx context.Context, s store.Store, published *store.Snapshot, known map[string]store.Digest) *Output {
	if published == nil {
		return nil
	}
	out, err := outputOf(ctx, s, published)
	if err != nil {
		return nil
	}
	for _, ms := range out.Manifest.Snaps {
		if f, ok := published.Lookup(ms.File); ok && f.Size == ms.Size {
			known[strings.ToLower(ms.SHA3_384)] = f.Digest
		}
	}
	return out
}

// Plan resolves the snaps as Sync does (refresh requests: metadata only, no download
// and no assertion) and lists the .snap files with the sizes the store gives. The Snap
// Store names files by sha3-384: one the published tree already holds is named by its
// sha256, so that it counts as held; the others cannot be matched against the store.
func (m *Mirror) Plan(ctx context.Context) (store.Plan, error) {
	if m.Store == nil {
		return store.Plan{}, fmt.Errorf("%w: Mirror.Store is nil", ErrConfig)
	}
	if err := m.validate(); err != nil {
		return store.Plan{}, err
	}
	c := m.client()
	res, err := m.resolve(ctx, c)
	if err != nil {
		return store.Plan{}, err
	}
	published, _, err := store.OpenPublished(ctx, m.Store, m.Ref())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, err
	}
	known := map[string]store.Digest{}
	if err := m.holdOlder(ctx, c, res, knownFiles(ctx, m.Store, published, known)); err != nil {
		return store.Plan{}, err
	}
	return planOf(res.entries(), known), nil
}

// planOf lists the .snap files of entries as Plan does; known maps sha3-384 to the
// sha256 of the files already held.
func planOf(entries []*entry, known map[string]store.Digest) store.Plan {
	var p store.Plan
	seen := map[string]bool{} // an architecture-independent revision is in each set
	for _, e := range entries {
		if seen[e.file()] {
			continue
		}
		seen[e.file()] = true
		d := e.details.Download
		size := d.Size
		if size <= 0 { // not given
			size = store.UnknownSize
		}
		p.Items = append(p.Items, store.PlannedItem{Name: e.file() + ".snap", Digest: known[strings.ToLower(d.SHA3_384)], Size: size})
	}
	return p
}

// resolve runs refreshes per architecture until the dependency closure is complete.
func (m *Mirror) resolve(ctx context.Context, c *Client) (*resolution, error) {
	byArch := map[string][]want{}
	res := &resolution{tracks: map[string]string{}}
	for _, s := range m.Snaps {
		for _, a := range m.archs(s) {
			if _, ok := byArch[a]; !ok {
				res.archs = append(res.archs, &archSet{arch: a, byName: map[string][]*entry{}, byFile: map[string]*entry{}, wantedBy: map[string][]string{}})
			}
			byArch[a] = append(byArch[a], want{Action{Name: s.Name, Channel: s.Channel, Revision: s.Revision}, s.Keep})
		}
	}
	for _, set := range res.archs {
		if err := m.resolveArch(ctx, c, set, byArch[set.arch], true, res.tracks); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// resolveArch resolves wants for one architecture into set, then (unless NoDependencies)
// what they need that set lacks. requested says whether wants are configured snaps or
// dependencies.
func (m *Mirror) resolveArch(ctx context.Context, c *Client, set *archSet, queue []want, requested bool, tracks map[string]string) error {
	for len(queue) > 0 {
		// Configured wishes as given (identical ones once); dependencies once per name,
		// when nothing of that name is there yet.
		var batch []want
		for _, w := range queue {
			if !slices.ContainsFunc(batch, func(b want) bool {
				return b.Action == w.Action || !requested && b.Name == w.Name
			}) && (requested || len(set.byName[w.Name]) == 0) {
				batch = append(batch, w)
			}
		}
		queue = nil
		actions := make([]Action, len(batch))
		for i, w := range batch {
			actions[i] = w.Action
		}
		var results []RefreshResult
		for start := 0; start < len(actions); start += maxActions {
			part, err := c.Refresh(ctx, set.arch, actions[start:min(start+maxActions, len(actions))])
			if err != nil {
				return err
			}
			results = append(results, part...)
		}
		for i, rr := range results {
			if rr.Err != nil {
				if !requested {
					return fmt.Errorf("snapproxy: dependency %s of %s: %w", rr.Action.Name, strings.Join(set.wantedBy[rr.Action.Name], ", "), rr.Err)
				}
				return rr.Err
			}
			e, err := newEntry(set.arch, rr, requested, set.wantedBy[rr.Snap.Name])
			if err != nil {
				return err
			}
			if rr.Action.Revision == 0 && e.channel != "" && !hasTrack(rr.Action.Channel) {
				tracks[e.details.Name], _, _ = strings.Cut(e.channel, "/")
			}
			if have := set.byFile[e.file()]; have != nil {
				have.addRelease(e.channel, batch[i].keep)
				have.requested = have.requested || requested
				continue
			}
			e.addRelease(e.channel, batch[i].keep)
			set.add(e)
			if m.NoDependencies {
				continue
			}
			for _, d := range e.yaml.Dependencies() {
				set.wantedBy[d] = append(set.wantedBy[d], e.details.Name)
				queue = append(queue, want{Action: Action{Name: d}})
			}
		}
		// Later rounds are dependencies (a requested snap already got its own wish).
		requested = false
	}
	for _, e := range set.entries {
		sort.Strings(e.requiredBy)
		e.requiredBy = uniq(e.requiredBy)
	}
	return nil
}

// add records e; the first revision of a name is the one install.sh installs.
func (a *archSet) add(e *entry) {
	e.install = len(a.byName[e.details.Name]) == 0
	a.entries = append(a.entries, e)
	a.byName[e.details.Name] = append(a.byName[e.details.Name], e)
	a.byFile[e.file()] = e
}

// newEntry makes the entry of a refresh result, with its snap.yaml read and completed
// from the result's fields.
func newEntry(arch string, rr RefreshResult, requested bool, wantedBy []string) (*entry, error) {
	y, err := ParseSnapYAML([]byte(rr.Snap.SnapYAML))
	if err != nil {
		return nil, fmt.Errorf("snapproxy: %s: %w", rr.Snap.Name, err)
	}
	if _, err := parseYAMLInfo(rr.Snap.SnapYAML); err != nil {
		return nil, fmt.Errorf("snapproxy: %s: %w", rr.Snap.Name, err)
	}
	if y.Name == "" {
		y.Name = rr.Snap.Name
	}
	if y.Base == "" && rr.Snap.Base != "" && validName(rr.Snap.Base) {
		y.Base = rr.Snap.Base
	}
	if rr.Snap.Type != "" && y.Type == "app" {
		y.Type = rr.Snap.Type
	}
	if y.Confinement == "" {
		y.Confinement = rr.Snap.Confinement
	}
	e := &entry{arch: arch, details: rr.Snap, yaml: y, requested: requested, requiredBy: wantedBy}
	if rr.Action.Revision == 0 && rr.EffectiveChannel != "" {
		ch, err := ParseChannel(rr.EffectiveChannel, "latest")
		if err != nil {
			return nil, fmt.Errorf("snapproxy: %s: effective-channel: %w", rr.Snap.Name, err)
		}
		e.channel = ch.String()
	}
	return e, nil
}

// holdOlder adds, for every release channel with a Keep above one, the channel's
// previous revisions held in the published manifest (newest first, up to Keep with the
// current one), then resolves what they need that the set lacks.
func (m *Mirror) holdOlder(ctx context.Context, c *Client, res *resolution, prev *Output) error {
	if prev == nil {
		return nil
	}
	for _, set := range res.archs {
		var deps []want
		for _, cur := range slices.Clone(set.entries) {
			for _, ch := range slices.Sorted(maps.Keys(cur.keep)) {
				keep := cur.keep[ch]
				var older []ManifestSnap
				for _, ms := range prev.Manifest.Snaps {
					if ms.Name == cur.details.Name && ms.Channel == ch && slices.Contains(ms.Architectures, set.arch) && set.byFile[strings.TrimSuffix(ms.File, ".snap")] == nil {
						older = append(older, ms)
					}
				}
				sort.Slice(older, func(i, j int) bool { return older[i].Revision > older[j].Revision })
				for _, ms := range older[:min(len(older), keep-1)] {
					e, err := heldEntry(set.arch, ms, prev)
					if err != nil {
						return err
					}
					set.add(e)
					if !m.NoDependencies {
						for _, d := range e.yaml.Dependencies() {
							set.wantedBy[d] = append(set.wantedBy[d], e.details.Name)
							deps = append(deps, want{Action: Action{Name: d}})
						}
					}
				}
			}
		}
		if err := m.resolveArch(ctx, c, set, deps, false, res.tracks); err != nil {
			return err
		}
	}
	return nil
}

// heldEntry is an older revision taken over from the published tree.
func heldEntry(arch string, ms ManifestSnap, prev *Output) (*entry, error) {
	f, ok := prev.Snapshot.Lookup(ms.File)
	if !ok || f.Size != ms.Size {
		return nil, fmt.Errorf("%w: %s is in %s but not in the published tree", ErrMalformed, ms.File, ManifestFile)
	}
	y, err := ParseSnapYAML([]byte(ms.SnapYAML))
	if err != nil {
		return nil, fmt.Errorf("snapproxy: held %s: %w", ms.File, err)
	}
	if y.Name == "" {
		y.Name, y.Base, y.Confinement = ms.Name, ms.Base, ms.Confinement
	}
	if ms.Type != "" {
		y.Type = ms.Type
	}
	d := SnapDetails{
		SnapID: ms.SnapID, Name: ms.Name, Revision: ms.Revision, Version: ms.Version, Type: ms.Type, Base: ms.Base,
		Confinement: ms.Confinement, SnapYAML: ms.SnapYAML,
		Publisher: Publisher{ID: ms.Publisher, Username: ms.PublisherUsername, DisplayName: ms.PublisherDisplayName},
		Download:  Download{SHA3_384: ms.SHA3_384, Size: ms.Size},
	}
	return &entry{arch: arch, details: d, yaml: y, channel: ms.Channel, requested: true, held: &f}, nil
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// assertCall is one assertion fetch shared by everyone who needs it.
type assertCall struct {
	once sync.Once
	a    *Assertion
	err  error
}

type syncRun struct {
	m     *Mirror
	c     *Client
	trust *Trust

	known map[string]store.Digest // sha3-384 hex -> sha256 digest of files mirrored before

	mu                sync.Mutex
	assertions        map[string]*assertCall
	downloaded        int
	downloadedBytes   int64
	reused            int
	fetchedAssertions int
}

func (r *syncRun) assertion(ctx context.Context, typ string, keys ...string) (*Assertion, error) {
	k := typ + "/" + strings.Join(keys, "/")
	r.mu.Lock()
	call := r.assertions[k]
	if call == nil {
		call = &assertCall{}
		r.assertions[k] = call
	}
	r.mu.Unlock()
	call.once.Do(func() {
		call.a, call.err = r.c.Assertion(ctx, typ, keys...)
		if call.err == nil {
			r.mu.Lock()
			r.fetchedAssertions++
			r.mu.Unlock()
		}
	})
	return call.a, call.err
}

// pair is what a sync produced for one snap revision.
type pair struct {
	snap    store.BlobInfo
	assert  []byte
	created string // the snap-revision's timestamp
}

// fetchAll downloads every distinct snap revision with its assertions and verifies them.
func (r *syncRun) fetchAll(ctx context.Context, entries []*entry) (map[string]*pair, error) {
	files := map[string]*pair{}
	var todo []*entry
	for _, e := range entries {
		if _, ok := files[e.file()]; !ok {
			files[e.file()] = &pair{}
			todo = append(todo, e)
		}
	}
	conc := r.m.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, e := range todo {
		p := files[e.file()]
		g.Go(func() error { return r.fetchOne(gctx, e, p) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return files, nil
}

func (r *syncRun) fetchOne(ctx context.Context, e *entry, p *pair) error {
	d := e.details
	if e.held != nil {
		// An older revision of the published tree: stored, vouched for by its sha3-384
		// when it was downloaded; its assertions are checked again below.
		p.snap = store.BlobInfo{Digest: e.held.Digest, Size: e.held.Size}
		r.mu.Lock()
		r.reused++
		r.mu.Unlock()
	} else {
		res, err := r.c.Download(ctx, d.Download, r.known[strings.ToLower(d.Download.SHA3_384)])
		if err != nil {
			return fmt.Errorf("snapproxy: download %s revision %d (%s): %w", d.Name, d.Revision, e.arch, err)
		}
		r.mu.Lock()
		if res.FinalURL == "" {
			r.reused++
		} else {
			r.downloaded++
			r.downloadedBytes += res.Blob.Size
		}
		r.mu.Unlock()
		p.snap = res.Blob
	}
	set, err := r.assertionsFor(ctx, d)
	if err != nil {
		return err
	}
	p.created = set[len(set)-1].Header("timestamp")
	f := SnapFile{Name: d.Name, SnapID: d.SnapID, Revision: d.Revision, Size: p.snap.Size, SHA3_384: d.Download.SHA3_384}
	if r.trust != nil && !r.m.InsecureSkipSignature {
		err = r.trust.VerifySnap(set, f)
	} else {
		err = matchSnap(set, f)
	}
	if err != nil {
		return fmt.Errorf("snapproxy: %s revision %d: %w", d.Name, d.Revision, err)
	}
	p.assert = EncodeAssertions(set)
	r.m.logger().Debug("snapproxy: verified", "snap", d.Name, "revision", d.Revision, "arch", e.arch, "assertions", len(set))
	return nil
}

// assertionsFor fetches what `snap ack` needs for a snap revision, in that order:
// account-keys (signer first), accounts, snap-declaration, snap-revision.
func (r *syncRun) assertionsFor(ctx context.Context, d SnapDetails) ([]*Assertion, error) {
	sha, err := HexToSnapSHA3(d.Download.SHA3_384)
	if err != nil {
		return nil, err
	}
	rev, err := r.assertion(ctx, "snap-revision", sha)
	if err != nil {
		return nil, fmt.Errorf("snapproxy: %s revision %d: %w", d.Name, d.Revision, err)
	}
	decl, err := r.assertion(ctx, "snap-declaration", series, d.SnapID)
	if err != nil {
		return nil, fmt.Errorf("snapproxy: %s: %w", d.Name, err)
	}
	var accounts []*Assertion
	accIDs := uniq(sortedStrings(decl.Header("publisher-id"), rev.Header("developer-id")))
	for _, id := range accIDs {
		if id == "" {
			continue
		}
		a, err := r.assertion(ctx, "account", id)
		if err != nil {
			return nil, fmt.Errorf("snapproxy: %s: %w", d.Name, err)
		}
		accounts = append(accounts, a)
	}
	// Account-keys of every signer, up to a trusted key, signers first.
	var keys []*Assertion
	have := map[string]bool{}
	var need []string
	for _, a := range append(append([]*Assertion{}, accounts...), decl, rev) {
		need = append(need, a.SignKeyID())
	}
	for depth := 0; len(need) > 0 && depth < 4; depth++ {
		var next []string
		for _, id := range need {
			if have[id] || r.isRoot(id) {
				continue
			}
			have[id] = true
			k, err := r.assertion(ctx, "account-key", id)
			if err != nil {
				return nil, fmt.Errorf("snapproxy: %s: signing key: %w", d.Name, err)
			}
			keys = append([]*Assertion{k}, keys...)
			next = append(next, k.SignKeyID())
		}
		need = next
	}
	set := append(keys, accounts...)
	return append(set, decl, rev), nil
}

func (r *syncRun) isRoot(id string) bool {
	if r.trust == nil {
		return false
	}
	_, ok := r.trust.roots[id]
	return ok
}

func sortedStrings(s ...string) []string {
	sort.Strings(s)
	return s
}

// matchSnap checks the snap-revision and snap-declaration without signatures.
func matchSnap(set []*Assertion, f SnapFile) error {
	return (&Trust{}).matchSnap(set, f)
}

// EncodeAssertions writes assertions as a .assert stream: each followed by a blank line.
func EncodeAssertions(set []*Assertion) []byte {
	var b bytes.Buffer
	for i, a := range set {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(a.Raw())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// snapshot builds the published tree.
func (r *syncRun) snapshot(ctx context.Context, entries []*entry, files map[string]*pair, tracks map[string]string, extra *extraSet) (*store.Snapshot, error) {
	snap := store.NewSnapshot()
	man := buildManifest(r.m, entries, files, tracks)
	for path, set := range map[string][]*Assertion{AssertionsFile: extra.assertions, StoreFile: extra.store, RootsFile: extra.roots} {
		if len(set) == 0 {
			continue
		}
		info, err := store.PutBytes(ctx, r.m.Store, store.Expect{}, EncodeAssertions(set))
		if err != nil {
			return nil, err
		}
		if err := snap.Add(path, store.File{Digest: info.Digest, Size: info.Size, MediaType: AssertionMediaType}); err != nil {
			return nil, err
		}
		switch path {
		case AssertionsFile:
			man.Assertions = path
		case StoreFile:
			man.Store = extra.storeID
		}
	}
	for name, p := range files {
		if err := snap.Add(name+".snap", store.File{Digest: p.snap.Digest, Size: p.snap.Size, MediaType: SnapMediaType}); err != nil {
			return nil, err
		}
		info, err := store.PutBytes(ctx, r.m.Store, store.Expect{}, p.assert)
		if err != nil {
			return nil, err
		}
		if err := snap.Add(name+".assert", store.File{Digest: info.Digest, Size: info.Size, MediaType: AssertionMediaType}); err != nil {
			return nil, err
		}
	}
	mb, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	for path, content := range map[string][]byte{ManifestFile: append(mb, '\n'), InstallScript: installScript(man)} {
		info, err := store.PutBytes(ctx, r.m.Store, store.Expect{}, content)
		if err != nil {
			return nil, err
		}
		mt := "application/json"
		if path == InstallScript {
			mt = "text/x-shellscript"
		}
		if err := snap.Add(path, store.File{Digest: info.Digest, Size: info.Size, MediaType: mt}); err != nil {
			return nil, err
		}
	}
	snap.Annotations["snapproxy.store"] = r.c.base()
	return snap, nil
}
