package simplestreams

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// Defaults of a Mirror.
const (
	// DefaultIndex is the entry point MAAS reads under a boot source URL.
	DefaultIndex = "streams/v1/index.sjson"
	// DefaultConcurrency is how many items download at once.
	DefaultConcurrency = 4
	// DefaultMaxDocumentSize caps one index or products document. A document is signed
	// and verified whole, and its tree is modelled in memory (about five times the JSON:
	// 45 MB for a 9 MB document of 40,000 items), so it is capped rather than streamed.
	DefaultMaxDocumentSize = 128 << 20
	// DefaultMaxItemSize caps an item whose size the stream does not state.
	DefaultMaxItemSize = 64 << 30
)

// Where the mirror publishes the operator's public key: binary (MAAS keyring_data,
// gpgv --keyring) and armored.
const (
	PublicKeyPath        = "keys/mirror.gpg"
	ArmoredPublicKeyPath = "keys/mirror.asc"
)

// Media types of the published metadata.
const (
	mediaJSON      = "application/json"
	mediaClearsign = "text/plain; charset=utf-8"
	mediaSignature = "application/pgp-signature"
	mediaKeys      = "application/pgp-keys"
)

// stateAnnotation is the snapshot annotation holding what the next sync needs.
const stateAnnotation = "simplestreams/state"

// Mirror mirrors one simplestreams tree. Set the yaml fields (or their Go names) and the
// runtime fields, then call Sync. A Mirror is not safe for concurrent Syncs; the store's
// writer lock (store.Store.Lock), held by the caller, keeps GC away from a running sync.
type Mirror struct {
	// Name names the published ref: "simplestreams/<name>".
	Name string `yaml:"name"`
	// URL is the upstream mirror root, e.g. https://images.maas.io/ephemeral-v3/stable/.
	URL string `yaml:"url"`
	// Index is the entry point under URL. Empty: DefaultIndex (streams/v1/index.sjson).
	// An .sjson entry point is clearsigned; a .json one is verified with its .json.gpg.
	Index string `yaml:"index"`
	// Keyring is a file holding the upstream's public keys (binary or armored), e.g.
	// /usr/share/keyrings/ubuntu-cloudimage-keyring.gpg. UpstreamKeyring overrides it.
	Keyring string `yaml:"keyring"`
	// Filters are sstream-mirror filter expressions, ANDed (see ParseFilter).
	Filters []string `yaml:"filters"`
	// MAAS, when set, keeps only items that match one of these selections, plus the
	// bootloaders (see MAASSelector). Filters apply as well.
	MAAS []MAASSelection `yaml:"maas"`
	// Max keeps at most this many newest versions of each product; 0 keeps all.
	Max int `yaml:"max"`
	// Concurrency is how many items download at once. Zero: DefaultConcurrency.
	Concurrency int `yaml:"concurrency"`
	// MaxDocumentSize caps one index or products document: a larger one fails the sync
	// with an error matching store.ErrTooLarge that names its URL and the cap. Zero:
	// DefaultMaxDocumentSize.
	MaxDocumentSize int64 `yaml:"max_document_size"`
	// MaxItemSize caps an item whose size the stream does not give. Zero: DefaultMaxItemSize.
	MaxItemSize int64 `yaml:"max_item_size"`
	// InsecureSkipSignature reads the upstream without verifying any signature. It is
	// logged at every sync. Items are still checked against the documents' checksums.
	InsecureSkipSignature bool `yaml:"insecure_skip_signature"`
	// AllowRollback accepts an upstream index older than the one the published mirror was
	// built from (otherwise ErrRollback).
	AllowRollback bool `yaml:"allow_rollback"`
	// Pristine publishes the upstream's documents as they were read and verified (the
	// index and every products document it names: .sjson, or .json with its .json.gpg)
	// byte for byte instead of re-signing them, and holds only the selected items.
	// Clients then verify the tree with the upstream's keyring (MAAS: its stock
	// ubuntu-cloudimage-keyring), and the documents advertise items the mirror does not
	// hold: a client must select no more than the mirror (MAAS boot-source selections
	// within Mirror.MAAS; MAAS downloads every bootloader advertised, which MAASSelector
	// keeps). Signer is not used. The upstream's signatures cannot be renewed: see
	// UpstreamState.Expires.
	Pristine bool `yaml:"pristine"`
	// Custom are boot images built elsewhere (CentOS, RHEL, Rocky) published beside the
	// upstream's products in the re-signed tree (see CustomImage); not with Pristine.
	Custom []CustomImage `yaml:"custom"`

	// Store receives the blobs and the published ref. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads into Store (its Store field must be the same store). Nil: a default
	// client.
	Fetch *fetch.Client `yaml:"-"`
	// Logger receives progress records. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
	// Signer re-signs the published documents. Nil: the mirror publishes unsigned .json
	// documents only (MAAS then needs a boot source without a keyring). Unused when
	// Pristine.
	Signer *pgp.Signer `yaml:"-"`
	// UpstreamKeyring verifies the upstream documents; when nil, Keyring is loaded.
	UpstreamKeyring *pgp.Keyring `yaml:"-"`
	// Preflight, when set, is handed what Plan lists once the documents are read and the
	// items selected, before any item is downloaded (not called when nothing changed).
	Preflight store.Preflight `yaml:"-"`
}

// SyncStats reports what a sync did.
type SyncStats struct {
	// SyncResult says what was published: Changed is false when every upstream document
	// and the configuration were unchanged (or the tree built equals the published one),
	// and Generation is then the one already published. Downloaded and DownloadedBytes
	// count the items fetched now, Reused those found in the store.
	store.SyncResult
	// Documents is how many upstream documents (index and products) were read;
	// NotModified how many of them answered a conditional request with 304.
	Documents, NotModified int
	// Products, Versions and Items are what the published mirror holds (when nothing
	// changed, nothing is parsed and only Items is counted).
	Products, Versions, Items int
	// Removed counts files of the previous tree that the new one no longer holds (pruned
	// versions, deselected products).
	Removed int
}

// Ref returns the store ref the mirror publishes: "simplestreams/<name>".
func (m *Mirror) Ref() string { return "simplestreams/" + m.Name }

// Endpoints lists the upstream URLs a sync contacts (every document and item lives under
// the mirror root).
func (m *Mirror) Endpoints() []string {
	if m.URL == "" {
		return nil
	}
	return []string{m.baseURL()}
}

func (m *Mirror) baseURL() string {
	if strings.HasSuffix(m.URL, "/") {
		return m.URL
	}
	return m.URL + "/"
}

func (m *Mirror) url(p string) string { return joinURL(m.baseURL(), p) }

// joinURL returns the URL of the tree path p under base, a mirror root ending in "/";
// "" when base is.
func joinURL(base, p string) string {
	if base == "" {
		return ""
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return base + strings.Join(segs, "/")
}

func (m *Mirror) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// syncState is what a published snapshot remembers for the next sync. A sync reads it
// from the previous tree only when that tree was published under the same trust settings
// (store.Prev.Snapshot); the rollback floor, which verifies nothing, from any.
type syncState struct {
	// Config fingerprints everything else that shapes the output; when it changes, the
	// next sync does not trust conditional requests.
	Config string `json:"config"`
	// IndexUpdated is the upstream index's `updated`, for the rollback check.
	IndexUpdated string `json:"index_updated,omitempty"`
	// Docs: per upstream document path, its validators and raw blobs.
	Docs map[string]docState `json:"docs,omitempty"`
	// Sums maps "alg:hex" of every sha512 and md5 an item listed to the sha256 digest of
	// the content it was verified against, so that the content is neither downloaded nor
	// hashed again.
	Sums map[string]store.Digest `json:"sums,omitempty"`
	// Vouched names every item held (itemKey) with the strongest checksum the upstream
	// listed for it (a re-signed document also lists the sha256 computed here), for
	// Inventory.
	Vouched map[string]store.Algorithm `json:"vouched,omitempty"`
}

// itemKey names an item of products document id in syncState.Vouched.
func itemKey(id string, it ItemRef) string { return id + " " + it.String() }

// docState is one upstream document as read: its validators, and the raw file and
// detached signature (a .json's .json.gpg) as stored.
type docState struct {
	ETag         string       `json:"etag,omitempty"`
	LastModified string       `json:"last_modified,omitempty"`
	Blob         store.Digest `json:"blob"`
	Size         int64        `json:"size"`
	Sig          store.Digest `json:"sig,omitempty"`
	SigSize      int64        `json:"sig_size,omitempty"`
	// Signer is the fingerprint of the primary key whose signature on the document
	// verified; empty when signatures were not checked.
	Signer string `json:"signer,omitempty"`
}

// run is the state of one Sync.
type run struct {
	m        *Mirror
	index    string // the entry point
	fc       *fetch.Client
	keyring  *pgp.Keyring
	signed   bool // signatures are required
	filters  Filters
	keep     func(ItemRef) bool
	prev     syncState       // of the reusable previous tree (store.Prev.Snapshot)
	prevSnap *store.Snapshot // that tree; nil when nothing may be reused
	trust    bool            // prev validators may be used
	floor    string          // the published tree's index `updated`, for the rollback check
	oldFiles map[string]store.File
	next     syncState
	stats    SyncStats
	mu       sync.Mutex
	modified bool           // some document changed (or could not be revalidated)
	sigs     []pgp.Verified // the upstream signatures that verified
	upstream UpstreamState
	custom   []customFile
}

func (m *Mirror) prepare() (*run, error) {
	if m.Name == "" || m.URL == "" || m.Store == nil {
		return nil, fmt.Errorf("%w: Name, URL and Store are required", ErrConfig)
	}
	if err := store.ValidatePath(m.Ref()); err != nil {
		return nil, fmt.Errorf("%w: name %q: %w", ErrConfig, m.Name, err)
	}
	u, err := url.Parse(m.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: URL %q is not http(s)", ErrConfig, m.URL)
	}
	r := &run{m: m, fc: m.Fetch, index: m.indexPath()}
	if err := store.ValidatePath(r.index); err != nil {
		return nil, fmt.Errorf("%w: index: %w", ErrConfig, err)
	}
	if r.fc == nil {
		r.fc = &fetch.Client{Store: m.Store, Logger: m.Logger}
	}
	if r.fc.Store == nil {
		return nil, fmt.Errorf("%w: Fetch.Store is nil", ErrConfig)
	}
	if r.filters, err = ParseFilters(m.Filters); err != nil {
		return nil, err
	}
	sel := MAASSelector(m.MAAS)
	r.keep = func(it ItemRef) bool { return r.filters.Match(it) && (sel == nil || sel(it)) }
	if m.InsecureSkipSignature {
		m.log().Warn("simplestreams: signature verification is OFF (InsecureSkipSignature)", "mirror", m.Name)
	} else {
		r.signed = true
		r.keyring = m.UpstreamKeyring
		if r.keyring == nil {
			if m.Keyring == "" {
				return nil, fmt.Errorf("%w: no upstream keyring (Keyring or UpstreamKeyring), and InsecureSkipSignature is not set", ErrConfig)
			}
			if r.keyring, err = pgp.LoadKeyring(m.Keyring); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
		}
	}
	r.upstream = UpstreamState{URL: m.baseURL(), Index: r.index, Pristine: m.Pristine}
	r.next = syncState{Config: m.configHash(), Docs: map[string]docState{}, Sums: map[string]store.Digest{}, Vouched: map[string]store.Algorithm{}}
	return r, nil
}

func (m *Mirror) indexPath() string {
	if m.Index == "" {
		return DefaultIndex
	}
	return m.Index
}

// configHash fingerprints the settings that shape the output. Those that decide what is
// trusted (InsecureSkipSignature, the keyring, ...) are the sync's store.Trust instead.
func (m *Mirror) configHash() string {
	cfg := struct {
		URL, Index string
		Filters    []string
		MAAS       []MAASSelection
		Max        int
		Pristine   bool
		Signer     string
		Format     int
	}{URL: m.baseURL(), Index: m.indexPath(), Filters: m.Filters, MAAS: m.MAAS, Max: m.Max, Pristine: m.Pristine, Format: 3}
	if m.Signer != nil && !m.Pristine {
		cfg.Signer = m.Signer.Fingerprint()
	}
	b, _ := json.Marshal(cfg)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Sync mirrors the upstream: it reads the index and the products documents (conditional
// requests when a previous sync left validators), verifies their signatures, selects
// items, downloads the new ones verified against their checksums, writes and signs the
// documents of the new tree and publishes it atomically through store.Update. When nothing
// changed upstream it publishes nothing (SyncStats.Changed is false). A tree published
// under other trust settings (InsecureSkipSignature, AllowRollback, another keyring) lends
// nothing to the next sync: every document is read whole and verified again. On any error
// nothing is published.
func (m *Mirror) Sync(ctx context.Context) (SyncStats, error) {
	r, err := m.prepare()
	if err != nil {
		return SyncStats{}, err
	}
	kd, err := r.keyring.Digest()
	if err != nil {
		return SyncStats{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	r.stats.Ref = m.Ref()
	if err := r.loadCustom(ctx); err != nil {
		return r.stats, err
	}
	trust := store.TrustOf(m).WithRoot("keyring", kd.String())
	gen, changed, err := store.Update(ctx, m.Store, m.Ref(), trust, func(prev store.Prev) (*store.Snapshot, error) {
		if prev.TrustChanged != nil {
			m.log().Info("simplestreams: verifying everything again", "mirror", m.Name, "changed", prev.TrustChanged)
		}
		r.start(prev)
		return r.build(ctx)
	})
	if err != nil {
		return r.stats, err
	}
	r.stats.Generation, r.stats.Changed = gen, changed
	if changed {
		m.log().Info("simplestreams: published", "mirror", m.Name, "snapshot", gen.Snapshot, "pristine", m.Pristine, "items", r.stats.Items,
			"downloaded", r.stats.Downloaded, "bytes", r.stats.DownloadedBytes, "removed", r.stats.Removed)
	} else {
		m.log().Info("simplestreams: up to date", "mirror", m.Name, "documents", r.stats.Documents)
	}
	return r.stats, nil
}

// start takes what the sync may use of the published tree: all of its state when it was
// published under the same trust settings, else only the rollback floor and the file list
// (to count what is removed).
func (r *run) start(prev store.Prev) {
	if prev.Published != nil {
		r.oldFiles = prev.Published.Files
		var st syncState
		if s, ok := prev.Published.Annotations[stateAnnotation]; ok && json.Unmarshal([]byte(s), &st) == nil {
			r.floor = st.IndexUpdated
		}
	}
	if prev.Snapshot != nil {
		r.prevSnap = prev.Snapshot
		if s, ok := prev.Snapshot.Annotations[stateAnnotation]; ok && json.Unmarshal([]byte(s), &r.prev) == nil {
			r.trust = r.prev.Config == r.next.Config
		}
	}
	r.modified = !r.trust
}

// build reads the upstream and returns the next tree, or nil when the published one is
// still right.
func (r *run) build(ctx context.Context) (*store.Snapshot, error) {
	m := r.m
	rs, err := r.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		// Every document answered 304 (or came back the same) and the configuration is
		// the same: the published tree is still right.
		countTree(r.prevSnap, &r.stats)
		return nil, nil
	}
	ix, entries, streams, wants := rs.ix, rs.entries, rs.streams, rs.wants
	if err := m.Preflight.Check(ctx, r.plan(rs)); err != nil {
		return nil, err
	}
	snap := store.NewSnapshot()

	// Download what is missing.
	g, gctx := errgroup.WithContext(ctx)
	conc := m.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	g.SetLimit(conc)
	files := map[string]store.File{}
	for _, p := range slices.Sorted(maps.Keys(wants)) {
		w := wants[p]
		g.Go(func() error {
			info, err := r.item(gctx, p, w.expect)
			if err != nil {
				return err
			}
			r.mu.Lock()
			files[p] = store.File{Digest: info.Digest, Size: info.Size}
			r.mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for p, w := range wants {
		f := files[p]
		for _, it := range w.items {
			// What the re-signed documents list: every checksum verified, lower-cased
			// (the client compares them as it hashes), and the sha256.
			for alg, h := range w.expect.Sums {
				it.Set(string(alg), h)
			}
			it.Set(fieldPath, p)
			it.Set(fieldSize, f.Size)
			it.Set(string(store.SHA256), f.Digest.Hex())
		}
		if err := snap.Add(p, f); err != nil {
			return nil, err
		}
	}

	if streams, err = r.addCustom(snap, streams); err != nil {
		return nil, err
	}

	// The documents.
	if m.Pristine {
		err = r.addPristine(snap, append([]string{r.index}, entryPaths(entries)...))
	} else {
		err = r.addResigned(ctx, snap, ix, streams)
	}
	if err != nil {
		return nil, err
	}

	// The state for the next sync.
	state, err := json.Marshal(r.next)
	if err != nil {
		return nil, err
	}
	r.upstream.noteSignatures(r.sigs)
	up, err := json.Marshal(r.upstream)
	if err != nil {
		return nil, err
	}
	snap.Annotations[stateAnnotation] = string(state)
	snap.Annotations[upstreamAnnotation] = string(up)
	for p := range r.oldFiles {
		if _, ok := snap.Files[p]; !ok {
			r.stats.Removed++
		}
	}
	return snap, nil
}

// resolve is the metadata round of a sync: it reads and verifies the index and the products
// documents, selects the items and lists them by path. It returns nil when nothing changed
// (every document unmodified under the same configuration).
func (r *run) resolve(ctx context.Context) (*resolved, error) {
	m := r.m

	// The index.
	raw, err := r.document(ctx, r.index, store.Expect{})
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(raw)
	if err != nil {
		return nil, &DocumentError{Path: r.index, Err: err}
	}
	if err := r.checkRollback(ix); err != nil {
		return nil, &DocumentError{Path: r.index, Err: err}
	}
	r.next.IndexUpdated, r.upstream.Updated = ix.Updated, ix.Updated

	// The products documents, in a fixed order, each checked against what its index entry
	// says of it.
	var entries []*IndexEntry
	var docs [][]byte
	for _, id := range slices.Sorted(maps.Keys(ix.Entries)) {
		e := ix.Entries[id]
		if e.Format != FormatProducts {
			if m.Pristine && e.Format == FormatIndex {
				// Clients follow the verbatim index into it; this mirror does not.
				return nil, &DocumentError{Path: r.index, Err: invalidf("entry %s: a nested %s cannot be mirrored pristine", id, e.Format)}
			}
			m.log().Info("simplestreams: skipping index entry", "content_id", id, "format", e.Format)
			continue
		}
		b, err := r.document(ctx, e.Path, e.Expect())
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
		docs = append(docs, b)
	}
	if !r.modified {
		return nil, nil
	}
	var streams []stream
	for i, e := range entries {
		p, err := ParseProducts(docs[i])
		if err != nil {
			return nil, &DocumentError{Path: e.Path, Err: err}
		}
		if p.ContentID != "" && p.ContentID != e.ContentID {
			return nil, &DocumentError{Path: e.Path, Err: invalidf("content_id %q, but the index lists it as %q", p.ContentID, e.ContentID)}
		}
		if p.ContentID == "" {
			p.ContentID = e.ContentID
		}
		if sel := p.Select(r.keep, m.Max); len(sel.Products) > 0 {
			streams = append(streams, stream{entry: e, sel: sel})
		}
	}

	// Plan the tree: the metadata paths first, so that no item can take one.
	meta := map[string]bool{PublicKeyPath: true, ArmoredPublicKeyPath: true}
	for _, p := range append([]string{r.index}, entryPaths(entries)...) {
		for _, ext := range [...]string{".json", ".json.gpg", ".sjson"} {
			meta[docBase(p)+ext] = true
		}
	}
	wants := map[string]*want{}
	for _, s := range streams {
		for _, it := range s.sel.Items() {
			p := it.Path()
			if p == "" {
				continue // a record without a file (image-ids)
			}
			if meta[p] {
				return nil, &DocumentError{Path: s.entry.Path, Err: fmt.Errorf("%w: item %s: path %q is taken by the mirror's metadata", ErrInvalidDocument, it, p)}
			}
			e := it.Expect()
			if len(e.Sums) == 0 {
				return nil, &DocumentError{Path: s.entry.Path, Err: invalidf("item %s: no sha256, sha512 or md5", it)}
			}
			r.next.Vouched[itemKey(s.entry.ContentID, it)] = strongest(e)
			if _, md5 := e.Sums[store.MD5]; md5 && len(e.Sums) == 1 {
				m.log().Warn("simplestreams: item has only an md5 checksum", "item", it.String(), "path", p)
			}
			if w, ok := wants[p]; ok {
				if !sameExpect(w.expect, e) {
					return nil, &DocumentError{Path: s.entry.Path, Err: invalidf("item %s: path %q is also %s with other checksums", it, p, w.first)}
				}
				w.items = append(w.items, it.Item)
				continue
			}
			wants[p] = &want{expect: e, items: []*Item{it.Item}, first: it.String()}
			r.stats.Items++
		}
		r.stats.Products += len(s.sel.Products)
		for _, prod := range s.sel.Products {
			r.stats.Versions += len(prod.Versions)
		}
	}
	return &resolved{ix: ix, entries: entries, streams: streams, wants: wants}, nil
}

// resolved is what the metadata round of a sync read and selected.
type resolved struct {
	ix      *Index
	entries []*IndexEntry
	streams []stream
	wants   map[string]*want // by published path
}

// want is one file to publish and the items that list it.
type want struct {
	expect store.Expect
	items  []*Item
	first  string
}

// plan lists the files of rs as the store sees them: named by the sha256 the documents
// list (or that a previous sync verified against another of their checksums), with their
// listed size, unknown when none is listed.
func (r *run) plan(rs *resolved) store.Plan {
	p := store.Plan{Items: make([]store.PlannedItem, 0, len(rs.wants))}
	for _, path := range slices.Sorted(maps.Keys(rs.wants)) {
		e := rs.wants[path].expect
		it := store.PlannedItem{Name: path, Digest: e.Digest(), Size: store.UnknownSize}
		if it.Digest == "" {
			it.Digest = r.knownDigest(e)
		}
		if e.Size > 0 {
			it.Size = e.Size
		}
		p.Items = append(p.Items, it)
	}
	return p
}

// Plan reads and verifies the index and the products documents as Sync does (in full,
// not conditionally), selects the items and lists what a sync would publish, without
// downloading an item or publishing anything: a dry run. The documents it read stay in
// the store, unreferenced until a sync publishes them.
func (m *Mirror) Plan(ctx context.Context) (store.Plan, error) {
	r, err := m.prepare()
	if err != nil {
		return store.Plan{}, err
	}
	published, _, err := store.OpenPublished(ctx, m.Store, m.Ref())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, err
	}
	r.start(store.Prev{Published: published})
	rs, err := r.resolve(ctx)
	if err != nil {
		return store.Plan{}, err
	}
	return r.plan(rs), nil
}

// stream is one products document and what was selected of it.
type stream struct {
	entry *IndexEntry
	sel   *Products
}

func entryPaths(entries []*IndexEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Path
	}
	return out
}

// addPristine adds the upstream documents read, byte for byte: each at its path, with
// the detached signature it was verified with next to a .json.
func (r *run) addPristine(snap *store.Snapshot, paths []string) error {
	for _, p := range paths {
		st := r.next.Docs[p]
		media := mediaJSON
		if strings.HasSuffix(p, ".sjson") {
			media = mediaClearsign
		}
		if err := snap.Add(p, store.File{Digest: st.Blob, Size: st.Size, MediaType: media}); err != nil {
			return err
		}
		if st.Sig != "" {
			if err := snap.Add(p+".gpg", store.File{Digest: st.Sig, Size: st.SigSize, MediaType: mediaSignature}); err != nil {
				return err
			}
		}
	}
	return nil
}

// addResigned writes the selected products documents and a new index, signed with the
// operator's key, and the operator's public key.
func (r *run) addResigned(ctx context.Context, snap *store.Snapshot, ix *Index, streams []stream) error {
	m := r.m
	now := time.Now()
	jsonIx, sjsonIx := NewIndex(now), NewIndex(now)
	for k, v := range ix.fields {
		if k != fieldUpdated && k != "format" {
			jsonIx.fields[k], sjsonIx.fields[k] = v, v
		}
	}
	for _, s := range streams {
		s.sel.SetUpdated(now)
		body, err := EncodeProducts(s.sel)
		if err != nil {
			return err
		}
		base := docBase(s.entry.Path)
		if err := r.addSigned(ctx, snap, base, body, body); err != nil {
			return err
		}
		jsonIx.Entries[s.entry.ContentID] = IndexEntryFor(s.sel, base+".json", s.entry)
		sjsonIx.Entries[s.entry.ContentID] = IndexEntryFor(s.sel, base+".sjson", s.entry)
	}
	jb, err := EncodeIndex(jsonIx)
	if err != nil {
		return err
	}
	sb, err := EncodeIndex(sjsonIx)
	if err != nil {
		return err
	}
	if err := r.addSigned(ctx, snap, docBase(r.index), jb, sb); err != nil {
		return err
	}
	if m.Signer == nil {
		return nil
	}
	for p, armored := range map[string]bool{PublicKeyPath: false, ArmoredPublicKeyPath: true} {
		k, err := m.Signer.PublicKey(armored)
		if err != nil {
			return err
		}
		if err := addBytes(ctx, m.Store, snap, p, k, mediaKeys); err != nil {
			return err
		}
	}
	return nil
}

func sameExpect(a, b store.Expect) bool {
	if a.Size > 0 && b.Size > 0 && a.Size != b.Size {
		return false
	}
	for alg, h := range a.Sums {
		if o, ok := b.Sums[alg]; ok && o != h {
			return false
		}
	}
	return true
}

// countTree fills in Items for an unchanged mirror without parsing anything: the files
// without a media type are the items (metadata and keys carry one).
func countTree(snap *store.Snapshot, st *SyncStats) {
	for _, f := range snap.Files {
		if f.MediaType == "" {
			st.Items++
		}
	}
}

func (r *run) checkRollback(ix *Index) error {
	if r.m.AllowRollback || r.floor == "" || ix.Updated == "" {
		return nil
	}
	old, err1 := mail.ParseDate(r.floor)
	cur, err2 := mail.ParseDate(ix.Updated)
	if err1 != nil || err2 != nil {
		return nil
	}
	if cur.Before(old) {
		return fmt.Errorf("%w: updated %s, published mirror built from %s", ErrRollback, ix.Updated, r.floor)
	}
	return nil
}

// document fetches and verifies one upstream document and returns its JSON text. want
// is what its index entry says of the file (size, checksums), if anything.
func (r *run) document(ctx context.Context, p string, want store.Expect) ([]byte, error) {
	b, err := r.fetchDocument(ctx, p, want)
	if err != nil {
		return nil, &DocumentError{Path: p, Err: err}
	}
	return b, nil
}

func (r *run) fetchDocument(ctx context.Context, p string, want store.Expect) ([]byte, error) {
	m := r.m
	limit := m.MaxDocumentSize
	if limit <= 0 {
		limit = DefaultMaxDocumentSize
	}
	prev, hadPrev := r.prev.Docs[p]
	req := fetch.Request{URL: m.url(p), MaxSize: limit}
	if r.trust && hadPrev {
		req.Validators = fetch.Validators{ETag: prev.ETag, LastModified: prev.LastModified}
	}
	res, err := r.fc.Fetch(ctx, req)
	if err != nil {
		return nil, err
	}
	r.stats.Documents++
	st := docStateOf(res)
	reused := false
	if res.NotModified {
		r.stats.NotModified++
		st.Blob, st.Size, st.Sig, st.SigSize = prev.Blob, prev.Size, prev.Sig, prev.SigSize
		if ok, _ := m.Store.Has(ctx, prev.Blob); ok && (prev.Sig == "" || r.has(ctx, prev.Sig)) {
			reused = true
		} else {
			// The raw document is gone from the store (GC): fetch it again in full.
			req.Validators = fetch.Validators{}
			if res, err = r.fc.Fetch(ctx, req); err != nil {
				return nil, err
			}
			st = docStateOf(res)
		}
	}
	// A document that came back whole but with the same bytes (a server without
	// validators) changes nothing either.
	if !reused && !(r.trust && hadPrev && st.Blob == prev.Blob) {
		r.modified = true
	}
	data, err := store.ReadBlob(ctx, m.Store, st.Blob, limit)
	if err != nil {
		return nil, err
	}
	// The index entry's size and checksums cover the file as served (the clearsigned
	// .sjson, or the .json), as the simplestreams client checks them.
	if err := checkBytes(data, want); err != nil {
		return nil, err
	}
	var content []byte
	var v pgp.Verified
	switch {
	case !r.signed:
		content, err = unwrapUnverified(data)
	case strings.HasSuffix(p, ".sjson"):
		content, v, err = readClearsigned(r.keyring, data)
	default:
		var sig []byte
		if reused && st.Sig != "" {
			sig, err = store.ReadBlob(ctx, m.Store, st.Sig, pgp.MaxSignatureSize)
		} else {
			var sres fetch.Result
			sig, sres, err = r.fc.FetchBytes(ctx, fetch.Request{URL: m.url(p + ".gpg"), MaxSize: pgp.MaxSignatureSize})
			var herr *fetch.HTTPError
			if errors.As(err, &herr) && (herr.StatusCode == http.StatusNotFound || herr.StatusCode == http.StatusForbidden) {
				err = fmt.Errorf("%w: no detached signature %s.gpg: %w", ErrUnsigned, p, err)
			}
			st.Sig, st.SigSize = sres.Blob.Digest, sres.Blob.Size
		}
		if err == nil {
			content, v, err = readDetached(r.keyring, data, sig)
		}
	}
	if err != nil {
		return nil, err
	}
	if r.signed {
		r.sigs = append(r.sigs, v)
		st.Signer = v.Fingerprint
	}
	r.next.Docs[p] = st
	return content, nil
}

func docStateOf(res fetch.Result) docState {
	return docState{ETag: res.Validators.ETag, LastModified: res.Validators.LastModified, Blob: res.Blob.Digest, Size: res.Blob.Size}
}

// checkBytes compares b with e, when e says anything (store.ErrDigestMismatch when it
// differs).
func checkBytes(b []byte, e store.Expect) error {
	if e.Size <= 0 && len(e.Sums) == 0 {
		return nil
	}
	_, err := verify(bytes.NewReader(b), e)
	return err
}

func (r *run) has(ctx context.Context, d store.Digest) bool {
	ok, _ := r.m.Store.Has(ctx, d)
	return ok
}

// item makes sure the item's content is in the store, matching every checksum the stream
// lists for it, and returns it. Content already stored (named by the listed sha256, or by a
// sha512 or md5 that a previous sync verified) is not downloaded again; a listed checksum
// not yet verified against it is checked on the stored bytes.
func (r *run) item(ctx context.Context, p string, e store.Expect) (store.BlobInfo, error) {
	m := r.m
	d := e.Digest()
	if d == "" {
		d = r.knownDigest(e)
	}
	if d != "" {
		if info, err := m.Store.Stat(ctx, d); err == nil && (e.Size <= 0 || info.Size == e.Size) {
			if !r.verified(e, d) {
				if err := verifyStored(ctx, m.Store, d, e); err != nil {
					return store.BlobInfo{}, &DocumentError{Path: p, Err: err}
				}
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.stats.Reused++
			r.record(e, d)
			return info, nil
		}
	}
	maxSize := m.MaxItemSize
	if maxSize <= 0 {
		maxSize = DefaultMaxItemSize
	}
	res, err := r.fc.Fetch(ctx, fetch.Request{URL: m.url(p), Expect: e, MaxSize: maxSize})
	if err != nil {
		return store.BlobInfo{}, &DocumentError{Path: p, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Downloaded++
	r.stats.DownloadedBytes += res.Blob.Size
	r.record(e, res.Blob.Digest)
	return res.Blob, nil
}

// sumKey names a checksum in syncState.Sums.
func sumKey(alg store.Algorithm, hex string) string { return string(alg) + ":" + hex }

// knownDigest returns the content a previous sync verified against one of e's checksums.
func (r *run) knownDigest(e store.Expect) store.Digest {
	for _, alg := range checksumFields {
		if h, listed := e.Sums[alg]; listed && alg != store.SHA256 {
			if d, ok := r.prev.Sums[sumKey(alg, h)]; ok {
				return d
			}
		}
	}
	return ""
}

// verified reports whether every checksum of e other than sha256 was verified against d
// by a previous sync.
func (r *run) verified(e store.Expect, d store.Digest) bool {
	for alg, h := range e.Sums {
		if alg != store.SHA256 && r.prev.Sums[sumKey(alg, h)] != d {
			return false
		}
	}
	return true
}

// record remembers that d matched e's checksums. r.mu must be held.
func (r *run) record(e store.Expect, d store.Digest) {
	for alg, h := range e.Sums {
		if alg != store.SHA256 {
			r.next.Sums[sumKey(alg, h)] = d
		}
	}
}

// verifyStored hashes the stored blob d against e (store.ErrDigestMismatch when it differs).
func verifyStored(ctx context.Context, s store.Store, d store.Digest, e store.Expect) error {
	b, err := s.Open(ctx, d)
	if err != nil {
		return err
	}
	defer b.Close()
	got, err := verify(store.ContextReader(ctx, b), e)
	if err == nil && got != d {
		err = fmt.Errorf("%w: stored blob %s hashes to %s", store.ErrDigestMismatch, d, got)
	}
	return err
}

// verify hashes r against e and returns its digest.
func verify(r io.Reader, e store.Expect) (store.Digest, error) {
	v, err := store.NewVerifier(e)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(v, r); err != nil {
		return "", err
	}
	return v.Check()
}

// addSigned stores base.json (plain), and with a Signer base.json.gpg and base.sjson
// (forSjson clearsigned), and adds them to the snapshot.
func (r *run) addSigned(ctx context.Context, snap *store.Snapshot, base string, plain, forSjson []byte) error {
	sd, err := signDocument(r.m.Signer, plain, forSjson)
	if err != nil {
		return fmt.Errorf("simplestreams: signing %s: %w", base, err)
	}
	if err := addBytes(ctx, r.m.Store, snap, base+".json", sd.json, mediaJSON); err != nil {
		return err
	}
	if sd.gpg == nil {
		return nil
	}
	if err := addBytes(ctx, r.m.Store, snap, base+".json.gpg", sd.gpg, mediaSignature); err != nil {
		return err
	}
	return addBytes(ctx, r.m.Store, snap, base+".sjson", sd.sjson, mediaClearsign)
}

func addBytes(ctx context.Context, s store.Store, snap *store.Snapshot, p string, b []byte, mediaType string) error {
	info, err := store.PutBytes(ctx, s, store.Expect{}, b)
	if err != nil {
		return err
	}
	return snap.Add(p, store.File{Digest: info.Digest, Size: info.Size, MediaType: mediaType})
}
