package snapproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
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

	// Store receives the content. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads (its Store must be Store). Nil: a default client on Store.
	Fetch *fetch.Client `yaml:"-"`
	// Trust, when set, replaces TrustedKeys.
	Trust *Trust `yaml:"-"`
	// Logger receives progress records. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
}

// SnapSpec selects a snap: by Revision when set (pinning), else by Channel (default: the
// stable risk of the snap's default track, as `snap install` without --channel; a bare
// risk such as "edge" also takes the default track), for Architectures (default the
// mirror's).
type SnapSpec struct {
	Name          string   `yaml:"name"`
	Channel       string   `yaml:"channel"`
	Revision      int      `yaml:"revision"`
	Architectures []string `yaml:"architectures"`
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
	arch       string
	details    SnapDetails
	yaml       *SnapYAML
	channel    string
	requested  bool
	requiredBy []string
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
	for _, s := range m.Snaps {
		if !validName(s.Name) {
			return st, fmt.Errorf("%w: invalid snap name %q", ErrConfig, s.Name)
		}
	}
	c := m.client()
	entries, err := m.resolve(ctx, c)
	if err != nil {
		return st, err
	}
	r := &syncRun{m: m, c: c, trust: trust, assertions: map[string]*assertCall{}, known: map[string]store.Digest{}}
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), m.storeTrust(trust, c), func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			m.logger().Info("snapproxy: trust settings changed", "ref", m.Ref(), "changed", prev.TrustChanged)
		}
		// Which sha256 each sha3-384 has is a fact about bytes, whatever trust they were
		// published under: the published files need not be fetched again (their
		// assertions are, and verified).
		if prev.Published != nil {
			if out, err := outputOf(ctx, m.Store, prev.Published); err == nil {
				for _, ms := range out.Manifest.Snaps {
					if f, ok := prev.Published.Lookup(ms.File); ok && f.Size == ms.Size {
						r.known[strings.ToLower(ms.SHA3_384)] = f.Digest
					}
				}
			}
		}
		files, err := r.fetchAll(ctx, entries)
		if err != nil {
			return nil, err
		}
		return r.snapshot(ctx, entries, files)
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

// resolve runs refreshes per architecture until the dependency closure is complete.
func (m *Mirror) resolve(ctx context.Context, c *Client) ([]*entry, error) {
	byArch := map[string][]Action{}
	var archOrder []string
	for _, s := range m.Snaps {
		for _, a := range m.archs(s) {
			if _, ok := byArch[a]; !ok {
				archOrder = append(archOrder, a)
			}
			byArch[a] = append(byArch[a], Action{Name: s.Name, Channel: s.Channel, Revision: s.Revision})
		}
	}
	var out []*entry
	for _, arch := range archOrder {
		got := map[string]*entry{}
		queue := byArch[arch]
		requested := true
		wantedBy := map[string][]string{}
		for len(queue) > 0 {
			// One action per name: the first wish wins.
			var batch []Action
			for _, a := range queue {
				if got[a.Name] == nil && !containsAction(batch, a.Name) {
					batch = append(batch, a)
				}
			}
			queue = nil
			var res []RefreshResult
			for start := 0; start < len(batch); start += maxActions {
				part, err := c.Refresh(ctx, arch, batch[start:min(start+maxActions, len(batch))])
				if err != nil {
					return nil, err
				}
				res = append(res, part...)
			}
			for _, rr := range res {
				if rr.Err != nil {
					if !requested {
						return nil, fmt.Errorf("snapproxy: dependency %s of %s: %w", rr.Action.Name, strings.Join(wantedBy[rr.Action.Name], ", "), rr.Err)
					}
					return nil, rr.Err
				}
				y, err := ParseSnapYAML([]byte(rr.Snap.SnapYAML))
				if err != nil {
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
				e := &entry{arch: arch, details: rr.Snap, yaml: y, channel: rr.EffectiveChannel, requested: requested,
					requiredBy: wantedBy[rr.Snap.Name]}
				got[rr.Snap.Name] = e
				out = append(out, e)
				if m.NoDependencies {
					continue
				}
				for _, d := range y.Dependencies() {
					wantedBy[d] = append(wantedBy[d], rr.Snap.Name)
					if got[d] == nil {
						queue = append(queue, Action{Name: d})
					}
				}
			}
			// Later rounds are dependencies (a requested snap already got its own wish).
			requested = false
			var q2 []Action
			for _, a := range queue {
				if got[a.Name] == nil {
					q2 = append(q2, a)
				}
			}
			queue = q2
		}
		for _, e := range got {
			sort.Strings(e.requiredBy)
			e.requiredBy = uniq(e.requiredBy)
		}
	}
	return out, nil
}

func containsAction(as []Action, name string) bool {
	for _, a := range as {
		if a.Name == name {
			return true
		}
	}
	return false
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
	snap   store.BlobInfo
	assert []byte
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
	set, err := r.assertionsFor(ctx, d)
	if err != nil {
		return err
	}
	f := SnapFile{Name: d.Name, SnapID: d.SnapID, Revision: d.Revision, Size: res.Blob.Size, SHA3_384: d.Download.SHA3_384}
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
func (r *syncRun) snapshot(ctx context.Context, entries []*entry, files map[string]*pair) (*store.Snapshot, error) {
	snap := store.NewSnapshot()
	man := buildManifest(r.m, entries, files)
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
