package simplestreams_test

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

var (
	keysOnce                 sync.Once
	upstreamKey, operatorKey *pgp.Signer
	strangerKey              *pgp.Signer
	errKeys                  error
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		gen := func(name string) *pgp.Signer {
			s, err := pgp.GenerateKey(name, strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@example.invalid", pgp.KeyOptions{})
			if err != nil {
				errKeys = err
			}
			return s
		}
		upstreamKey, operatorKey, strangerKey = gen("Upstream"), gen("Operator"), gen("Stranger")
	})
	require.NoError(t, errKeys)
}

// env is an upstream on 127.0.0.1 and a mirror of it into a memory store.
type env struct {
	up  *simplestreamstest.Upstream
	srv *httptest.Server
	st  store.Store
	m   *simplestreams.Mirror
}

func newEnv(t testing.TB, configure func(*simplestreams.Mirror)) *env {
	t.Helper()
	return newEnvWith(t, simplestreamstest.Options{}, configure)
}

// newEnvWith is newEnv with an upstream made with opt (signed by upstreamKey unless opt
// names a signer).
func newEnvWith(t testing.TB, opt simplestreamstest.Options, configure func(*simplestreams.Mirror)) *env {
	t.Helper()
	keys(t)
	if opt.Signer == nil {
		opt.Signer = upstreamKey
	}
	up, err := simplestreamstest.New(opt)
	require.NoError(t, err)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	st := store.NewMemory()
	m := &simplestreams.Mirror{
		Name:            "maas",
		URL:             srv.URL + "/",
		Store:           st,
		Fetch:           &fetch.Client{Store: st, Retries: -1},
		Signer:          operatorKey,
		UpstreamKeyring: up.Signer.Keyring(),
		Max:             1,
		MAAS: []simplestreams.MAASSelection{
			{OS: "ubuntu", Release: "noble", Arches: []string{"amd64", "arm64"}},
			{OS: "ubuntu", Release: "jammy", Arches: []string{"amd64"}, Subarches: []string{"ga-22.04"}},
			{OS: "centos", Release: "centos70"},
		},
		Filters: []string{"label=stable"},
	}
	if configure != nil {
		configure(m)
	}
	return &env{up: up, srv: srv, st: st, m: m}
}

func (e *env) sync(t testing.TB) simplestreams.SyncStats {
	t.Helper()
	stats, err := e.m.Sync(context.Background())
	require.NoError(t, err)
	return stats
}

// published returns the published snapshot.
func (e *env) published(t testing.TB) *store.Snapshot {
	t.Helper()
	snap, _, err := store.OpenPublished(context.Background(), e.st, e.m.Ref())
	require.NoError(t, err)
	return snap
}

func readFile(t testing.TB, st store.Store, snap *store.Snapshot, p string) []byte {
	t.Helper()
	f, ok := snap.Lookup(p)
	require.True(t, ok, "%s is published", p)
	b, err := store.ReadBlob(context.Background(), st, f.Digest, 1<<30)
	require.NoError(t, err)
	return b
}

// checkTree verifies the published tree against its own signed documents: every listed
// item exists with the listed size and sha256, nothing unlisted is in the tree, and every
// document verifies with the operator's key. It returns the listed item paths.
func checkTree(t *testing.T, e *env) []string {
	t.Helper()
	snap := e.published(t)
	kr := operatorKey.Keyring()
	allowed := map[string]bool{simplestreams.PublicKeyPath: true, simplestreams.ArmoredPublicKeyPath: true}
	var listed []string
	for _, flavour := range []string{".sjson", ".json"} {
		ixPath := "streams/v1/index" + flavour
		var ixText []byte
		var err error
		raw := readFile(t, e.st, snap, ixPath)
		if flavour == ".sjson" {
			ixText, err = simplestreams.ReadClearsigned(kr, raw)
		} else {
			ixText, err = simplestreams.ReadDetached(kr, raw, readFile(t, e.st, snap, ixPath+".gpg"))
			allowed[ixPath+".gpg"] = true
		}
		require.NoError(t, err)
		allowed[ixPath] = true
		ix, err := simplestreams.ParseIndex(ixText)
		require.NoError(t, err)
		for id, entry := range ix.Entries {
			require.True(t, strings.HasSuffix(entry.Path, flavour), "%s lists %s", ixPath, entry.Path)
			raw := readFile(t, e.st, snap, entry.Path)
			allowed[entry.Path] = true
			var text []byte
			if flavour == ".sjson" {
				text, err = simplestreams.ReadClearsigned(kr, raw)
			} else {
				text, err = simplestreams.ReadDetached(kr, raw, readFile(t, e.st, snap, entry.Path+".gpg"))
				allowed[entry.Path+".gpg"] = true
			}
			require.NoError(t, err)
			p, err := simplestreams.ParseProducts(text)
			require.NoError(t, err)
			assert.Equal(t, id, p.ContentID)
			names := []string{}
			for n := range p.Products {
				names = append(names, n)
			}
			slices.Sort(names)
			assert.Equal(t, names, entry.Products, "the index lists exactly the document's products")
			for _, it := range p.Items() {
				if it.Path() == "" {
					continue // a record without a file (image-ids)
				}
				f, ok := snap.Lookup(it.Path())
				require.True(t, ok, "listed item %s is in the tree", it.Path())
				assert.Equal(t, it.Size(), f.Size, it.Path())
				sha, _ := it.Get("sha256")
				assert.Equal(t, f.Digest.Hex(), sha, it.Path())
				if flavour == ".sjson" {
					listed = append(listed, it.Path())
				}
				allowed[it.Path()] = true
			}
		}
	}
	for _, p := range snap.Paths() {
		assert.True(t, allowed[p], "unlisted file %s in the tree", p)
	}
	slices.Sort(listed)
	return slices.Compact(listed)
}

func TestMirrorRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	stats := e.sync(t)
	// noble: 2 arches x (ga, hwe); jammy: amd64 ga; centos: 1; bootloaders: 3.
	assert.Equal(t, 5+1+3, stats.Products)
	assert.Equal(t, stats.Products, stats.Versions, "max=1")
	// noble per arch: 2 kernels, 2 initrds, shared squashfs + manifest = 6; jammy ga: 4;
	// centos 1; bootloaders 3.
	assert.Equal(t, 12+4+1+3, stats.Items)
	assert.Equal(t, stats.Items, stats.Downloaded)
	assert.Zero(t, stats.Reused)
	assert.Equal(t, 4, stats.Documents)
	assert.True(t, stats.Changed)

	listed := checkTree(t, e)
	require.Len(t, listed, stats.Items)
	for _, p := range listed {
		if strings.HasPrefix(p, "noble/") || strings.HasPrefix(p, "jammy/") {
			assert.Contains(t, p, "/20261115/", "only the newest version")
		}
		assert.False(t, strings.HasPrefix(p, "focal/"), p)
		assert.NotContains(t, p, "jammy/arm64", p)
		assert.NotContains(t, p, "hwe-22.04", p)
		// Content is the upstream's.
		want, ok := e.up.File(p)
		require.True(t, ok)
		assert.Equal(t, want, readFile(t, e.st, e.published(t), p))
	}
	for _, bl := range []string{"bootloaders/uefi/amd64/20210819.0/grub2-signed.tar.xz", "bootloaders/uefi/arm64/20210819.0/grub2.tar.xz", "bootloaders/pxe/i386/20210819.0/syslinux.tar.xz"} {
		assert.Contains(t, listed, bl, "bootloaders are always mirrored")
	}
	assert.Contains(t, listed, "centos/centos70/amd64/20200109_01/root-tgz")

	// The exported keys are the operator's.
	snap := e.published(t)
	bin := readFile(t, e.st, snap, simplestreams.PublicKeyPath)
	kr, err := pgp.ReadKeyring(strings.NewReader(string(bin)))
	require.NoError(t, err)
	assert.Equal(t, []string{operatorKey.Fingerprint()}, kr.Fingerprints())
	assert.Contains(t, string(readFile(t, e.st, snap, simplestreams.ArmoredPublicKeyPath)), "BEGIN PGP PUBLIC KEY BLOCK")

	// gpgv, as MAAS runs it, with the binary keyring accepts every document.
	gpgvAll(t, e)

	// Upstream adds a version: only its items are fetched, the old one is pruned.
	e.up.ResetRequests()
	require.NoError(t, e.up.AddVersion("20261201"))
	stats = e.sync(t)
	reqs := e.up.Requests()
	fetchedItems := 0
	for p, n := range reqs {
		if !strings.HasPrefix(p, "streams/") {
			fetchedItems++
			assert.Equal(t, 1, n, p)
			assert.Contains(t, p, "/20261201/", "only new items are fetched")
		}
	}
	assert.Equal(t, 12+4, fetchedItems)
	assert.Equal(t, 12+4, stats.Downloaded)
	assert.Equal(t, 4, stats.Reused, "centos and bootloaders")
	assert.Equal(t, 2, stats.NotModified, "bootloader and centos documents are unchanged")
	assert.Equal(t, 16, stats.Removed, "the previous version's items are pruned")
	listed = checkTree(t, e)
	for _, p := range listed {
		if strings.HasPrefix(p, "noble/") || strings.HasPrefix(p, "jammy/") {
			assert.Contains(t, p, "/20261201/")
		}
	}
	gpgvAll(t, e)

	// A no-op resync: one conditional request per signed document, nothing else.
	e.up.ResetRequests()
	before, err := e.st.Ref(ctx, e.m.Ref())
	require.NoError(t, err)
	stats = e.sync(t)
	assert.False(t, stats.Changed)
	assert.Equal(t, 4, stats.NotModified)
	assert.Equal(t, map[string]int{
		"streams/v1/index.sjson":                                   1,
		"streams/v1/" + simplestreamstest.ImagesID + ".sjson":      1,
		"streams/v1/" + simplestreamstest.BootloadersID + ".sjson": 1,
		"streams/v1/" + simplestreamstest.CentOSID + ".sjson":      1,
	}, e.up.Requests())
	after, err := e.st.Ref(ctx, e.m.Ref())
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing is published")

	// A changed configuration is not up to date even though upstream is.
	e.m.Max = 2
	stats = e.sync(t)
	assert.True(t, stats.Changed)
	assert.Equal(t, 2*5+3+1, stats.Versions, "%+v", stats)
	checkTree(t, e)
}

// gpgvAll runs gpgv with the exported binary keyring on every .sjson and .json.gpg.
func gpgvAll(t *testing.T, e *env) {
	t.Helper()
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	dir := t.TempDir()
	snap := e.published(t)
	require.NoError(t, os.CopyFS(filepath.Join(dir, "tree"), snap.FS(context.Background(), e.st)))
	keyring := filepath.Join(dir, "tree", simplestreams.PublicKeyPath)
	home := filepath.Join(dir, "gnupg")
	require.NoError(t, os.Mkdir(home, 0o700))
	env := []string{"GNUPGHOME=" + home}
	n := 0
	for _, p := range snap.Paths() {
		f := filepath.Join(dir, "tree", p)
		switch {
		case strings.HasSuffix(p, ".sjson"):
			testutil.Run(t, time.Minute, env, gpgv, "--keyring", keyring, f)
			n++
		case strings.HasSuffix(p, ".json.gpg"):
			testutil.Run(t, time.Minute, env, gpgv, "--keyring", keyring, f, strings.TrimSuffix(f, ".gpg"))
			n++
		}
	}
	assert.Equal(t, 8, n, "index and three products documents, two forms each")
	// sqv (apt's verifier since trixie) reads the same binary keyring.
	t.Run("sqv", func(t *testing.T) {
		sqv := testutil.RequireBinary(t, "sqv", "sqv")
		for _, p := range snap.Paths() {
			if f := filepath.Join(dir, "tree", p); strings.HasSuffix(p, ".json.gpg") {
				testutil.Run(t, time.Minute, nil, sqv, "--keyring", keyring, f, strings.TrimSuffix(f, ".gpg"))
			}
		}
	})
	// And gpgv refuses them with another key.
	other := filepath.Join(dir, "other.gpg")
	b, err := strangerKey.PublicKey(false)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(other, b, 0o644))
	_, err = testutil.RunErr(t, time.Minute, env, gpgv, "--keyring", other, filepath.Join(dir, "tree", "streams/v1/index.sjson"))
	assert.Error(t, err)
}

func TestHandler(t *testing.T) {
	e := newEnv(t, nil)
	assert.Equal(t, []string{e.srv.URL + "/"}, e.m.Endpoints())
	assert.Equal(t, "simplestreams/maas", e.m.Ref())
	e.sync(t)
	srv := httptest.NewServer(http.StripPrefix("/maas", simplestreams.NewHandler(e.st, e.m.Ref())))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/maas/streams/v1/index.sjson")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = simplestreams.ReadClearsigned(operatorKey.Keyring(), body)
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/maas/streams/v1/index.sjson", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	resp, err = http.Get(srv.URL + "/maas/focal/amd64/20261115/squashfs")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "not mirrored, not served")
}

func TestJSONEntryPoint(t *testing.T) {
	// index.json with index.json.gpg, products .json with .json.gpg.
	e := newEnv(t, func(m *simplestreams.Mirror) { m.Index = "streams/v1/index.json" })
	stats := e.sync(t)
	assert.Equal(t, 20, stats.Items)
	for p := range e.up.Requests() {
		assert.False(t, strings.HasSuffix(p, ".sjson"), "only the .json flavour is read: %s", p)
	}
	checkTree(t, e)
	e.up.ResetRequests()
	stats = e.sync(t)
	assert.False(t, stats.Changed)
	assert.Len(t, e.up.Requests(), 4, "one conditional request per .json; the .gpg is not asked again")
}

func TestInsecureAndUnsigned(t *testing.T) {
	// No upstream keyring: only with InsecureSkipSignature. No Signer: unsigned .json only.
	e := newEnv(t, func(m *simplestreams.Mirror) {
		m.UpstreamKeyring = nil
		m.InsecureSkipSignature = true
		m.Signer = nil
	})
	stats := e.sync(t)
	assert.Equal(t, 20, stats.Items)
	snap := e.published(t)
	for _, p := range snap.Paths() {
		assert.False(t, strings.HasSuffix(p, ".sjson") || strings.HasSuffix(p, ".gpg") || strings.HasSuffix(p, ".asc"), p)
	}
	ix, err := simplestreams.ParseIndex(readFile(t, e.st, snap, "streams/v1/index.json"))
	require.NoError(t, err)
	assert.Len(t, ix.Entries, 3)
}

// swapRootTgzChecksum makes the upstream list the CentOS root-tgz item with the checksum
// field (sha512, md5) that h computes instead of its sha256, and returns the item's path.
func swapRootTgzChecksum(t *testing.T, e *env, field string, h hash.Hash) string {
	t.Helper()
	doc, err := e.up.Document(simplestreamstest.CentOSBase)
	require.NoError(t, err)
	prod := doc["products"].(map[string]any)["com.ubuntu.maas.stable:centos-bases:7.0:amd64"].(map[string]any)
	it := prod["versions"].(map[string]any)["20200109_01"].(map[string]any)["items"].(map[string]any)["root-tgz"].(map[string]any)
	content, _ := e.up.File(it["path"].(string))
	h.Write(content)
	delete(it, "sha256")
	it[field] = hex.EncodeToString(h.Sum(nil))
	require.NoError(t, e.up.SetDocument(simplestreamstest.CentOSBase, doc))
	return it["path"].(string)
}

func TestSHA512OnlyItemsAreNotFetchedAgain(t *testing.T) {
	e := newEnv(t, nil)
	path := swapRootTgzChecksum(t, e, "sha512", sha512.New())
	e.sync(t)
	checkTree(t, e) // the published document gives the sha256 too

	e.up.ResetRequests()
	e.m.Max = 2 // a new configuration: every document is read and every item checked again
	stats := e.sync(t)
	assert.True(t, stats.Changed)
	assert.Equal(t, 1, e.up.Requests()[simplestreamstest.CentOSBase+".sjson"])
	assert.Zero(t, e.up.Requests()[path], "known by its sha512: not fetched again")
}

func TestImageIDsStream(t *testing.T) {
	// An image-ids stream has records without files: they are kept (filtered) in the
	// published document, and nothing is downloaded for them.
	e := newEnv(t, func(m *simplestreams.Mirror) { m.MAAS = nil; m.Filters = []string{"region!=us-west-1"} })
	require.NoError(t, e.up.SetDocument("streams/v1/com.example:ids", map[string]any{
		"content_id": "com.example:ids", "datatype": "image-ids", "format": "products:1.0",
		"updated": "Sun, 01 Nov 2026 00:00:00 +0000",
		"products": map[string]any{"img": map[string]any{"versions": map[string]any{"1": map[string]any{
			"items": map[string]any{
				"east": map[string]any{"region": "us-east-1", "id": "ami-1"},
				"west": map[string]any{"region": "us-west-1", "id": "ami-2"},
			}}}}},
	}))
	ix, err := e.up.Document(simplestreamstest.IndexBase)
	require.NoError(t, err)
	for _, entry := range ix["index"].(map[string]any) {
		entry.(map[string]any)["path"] = strings.Replace(entry.(map[string]any)["path"].(string), ".json", ".sjson", 1)
	}
	ix["index"].(map[string]any)["com.example:ids"] = map[string]any{"path": "streams/v1/com.example:ids.sjson", "datatype": "image-ids", "format": "products:1.0"}
	require.NoError(t, e.up.SetDocument(simplestreamstest.IndexBase, ix))
	stats := e.sync(t)
	assert.Equal(t, 0, e.up.Requests()["streams/v1/com.example:ids.json.gpg"])
	checkTree(t, e)
	snap := e.published(t)
	text, err := simplestreams.ReadClearsigned(operatorKey.Keyring(), readFile(t, e.st, snap, "streams/v1/com.example:ids.sjson"))
	require.NoError(t, err)
	p, err := simplestreams.ParseProducts(text)
	require.NoError(t, err)
	require.Len(t, p.Items(), 1)
	assert.Equal(t, "ami-1", p.Items()[0].Flat()["id"])
	assert.Equal(t, simplestreams.DatatypeImageIDs, p.Datatype)
	assert.Positive(t, stats.Items)
}

func TestFilesystemStore(t *testing.T) {
	st, err := store.Open(t.TempDir())
	require.NoError(t, err)
	e := newEnv(t, func(m *simplestreams.Mirror) { m.Store = st; m.Fetch = &fetch.Client{Store: st} })
	e.st = st
	stats := e.sync(t)
	assert.Equal(t, 20, stats.Downloaded)
	checkTree(t, e)
	stats = e.sync(t)
	assert.False(t, stats.Changed)
	assert.Equal(t, 20, stats.Items)
}

func TestCancelledSyncPublishesNothing(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.m.Sync(ctx)
	require.ErrorIs(t, err, context.Canceled)
	_, err = e.st.Ref(context.Background(), e.m.Ref())
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestResyncAfterGC(t *testing.T) {
	// GC removes the raw upstream documents (no snapshot references them): the next sync
	// fetches them again in full and still finds nothing changed.
	e := newEnv(t, nil)
	ctx := context.Background()
	e.sync(t)
	gcStats, err := store.GC(ctx, e.st, store.GCOptions{})
	require.NoError(t, err)
	assert.Positive(t, gcStats.Removed)
	e.up.ResetRequests()
	stats := e.sync(t)
	assert.False(t, stats.Changed)
	assert.Equal(t, 2, e.up.Requests()["streams/v1/index.sjson"], "a conditional request, then the full document")
	checkTree(t, e)
	require.NoError(t, e.up.AddVersion("20261201"))
	stats = e.sync(t)
	assert.Equal(t, 16, stats.Downloaded)
	checkTree(t, e)
}

func TestStoredItemCheckedAgainstNewChecksums(t *testing.T) {
	// The stream starts listing a (right) sha512 and md5 for an item already stored: the
	// stored bytes are checked against them once, not downloaded again.
	e := newEnv(t, nil)
	e.sync(t)
	doc, err := e.up.Document(simplestreamstest.ImagesBase)
	require.NoError(t, err)
	it := firstImageItem(t, doc, "20261115")
	content, _ := e.up.File(it["path"].(string))
	s512 := sha512.Sum512(content)
	s5 := md5.Sum(content)
	it["sha512"], it["md5"] = hex.EncodeToString(s512[:]), hex.EncodeToString(s5[:])
	require.NoError(t, e.up.SetDocument(simplestreamstest.ImagesBase, doc))
	digest := store.Digest("sha256:" + it["sha256"].(string))
	cs := &openCounter{Store: e.st, digest: digest}
	e.m.Store, e.m.Fetch = cs, &fetch.Client{Store: cs, Retries: -1}
	e.up.ResetRequests()
	stats := e.sync(t)
	assert.Zero(t, stats.Downloaded)
	assert.Zero(t, e.up.Requests()[it["path"].(string)])
	assert.Equal(t, int64(1), cs.opens.Load(), "the stored bytes are hashed once")
	checkTree(t, e)

	e.m.Max = 2 // a new configuration: every item is looked at again
	stats = e.sync(t)
	assert.Positive(t, stats.Reused)
	assert.Equal(t, int64(1), cs.opens.Load(), "checksums verified before are not hashed again")
}

// openCounter counts the opens of one blob.
type openCounter struct {
	store.Store
	digest store.Digest
	opens  atomic.Int64
}

func (c *openCounter) Open(ctx context.Context, d store.Digest) (store.Blob, error) {
	if d == c.digest {
		c.opens.Add(1)
	}
	return c.Store.Open(ctx, d)
}
