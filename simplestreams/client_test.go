package simplestreams_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store/pgp"
)

// mountPath is where the tests serve a mirror: the upstream mirror root's path on
// images.maas.io, so that the tree is read at the upstream's URL layout.
const mountPath = "/ephemeral-v3/stable"

// serveTree serves the published tree at mountPath and returns the strict simplestreams
// client that reads it from entry point index ("" = streams/v1/index.sjson) with gpgv and
// the keyring of signer.
func serveTree(t *testing.T, e *env, signer *pgp.Signer, index string) *simplestreamstest.Client {
	t.Helper()
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	mux := http.NewServeMux()
	mux.Handle(mountPath+"/", http.StripPrefix(mountPath, simplestreams.NewHandler(e.st, e.m.Ref())))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	kr := filepath.Join(t.TempDir(), "keyring.gpg")
	b, err := signer.PublicKey(false)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(kr, b, 0o644))
	return &simplestreamstest.Client{URL: srv.URL + mountPath + "/", Index: index, GPGV: gpgv, Keyring: kr}
}

// maasWants is what a MAAS with newEnv's boot-source selections downloads of an item:
// the newest version of each product it selects, and every bootloader. It is written
// from MAAS's rules, independently of simplestreams.MAASSelection.
func maasWants(items []simplestreamstest.ClientItem) func(simplestreamstest.ClientItem) bool {
	newest := map[string]string{}
	for _, it := range items {
		k := it.ContentID + " " + it.Flat["product_name"]
		newest[k] = max(newest[k], it.Flat["version_name"])
	}
	return func(it simplestreamstest.ClientItem) bool {
		f := it.Flat
		if f["version_name"] != newest[it.ContentID+" "+f["product_name"]] || f["label"] != "stable" {
			return false
		}
		switch {
		case strings.HasSuffix(it.ContentID, ":bootloader-download"):
			return true
		case f["os"] == "ubuntu" && f["release"] == "noble":
			return f["arch"] == "amd64" || f["arch"] == "arm64"
		case f["os"] == "ubuntu" && f["release"] == "jammy":
			return f["arch"] == "amd64" && f["subarch"] == "ga-22.04"
		}
		return f["os"] == "centos" && f["release"] == "centos70"
	}
}

// readAll reads the tree as the client does and downloads every item MAAS wants, each
// checked against its size and every checksum; items nobody wants must not be served.
// It returns the paths downloaded.
func readAll(t *testing.T, e *env, c *simplestreamstest.Client) []string {
	t.Helper()
	ctx := context.Background()
	items, err := c.Items(ctx)
	require.NoError(t, err)
	want := maasWants(items)
	wanted := map[string]bool{}
	for _, it := range items {
		if it.Path() != "" && want(it) {
			wanted[it.Path()] = true
		}
	}
	for _, it := range items {
		p := it.Path()
		if p == "" {
			continue
		}
		if !wanted[p] {
			_, status, err := c.Get(ctx, p)
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, status, "%s is not held", p)
			continue
		}
		b, err := c.Fetch(ctx, it)
		require.NoError(t, err, p)
		up, _ := e.up.File(p)
		assert.Equal(t, up, b, p)
	}
	return slices.Sorted(func(yield func(string) bool) {
		for p := range wanted {
			if !yield(p) {
				return
			}
		}
	})
}

// TestClientReadsResigned: the re-signed tree, read back the way the simplestreams client
// (MAAS) reads it, with the operator's keyring: every document verifies with gpgv, every
// index entry and every item matches its size and all its checksums, and MAAS finds every
// item it selects. The upstream lists the checksums of its products documents in its index
// (which the re-signed index must not carry over) and md5, sha256 and sha512 for items.
func TestClientReadsResigned(t *testing.T) {
	e := newEnvWith(t, simplestreamstest.Options{IndexChecksums: true, AllChecksums: true}, nil)
	stats := e.sync(t)
	c := serveTree(t, e, operatorKey, "")
	got := readAll(t, e, c)
	assert.Len(t, got, stats.Items)
	assert.Equal(t, checkTree(t, e), got, "MAAS wants exactly what the mirror holds")

	// The .json flavour (MAAS <= 3.7 reads it unverified); its .json.gpg are checked by
	// gpgvAll.
	c.Index = "streams/v1/index.json"
	assert.Equal(t, got, readAll(t, e, c))

	c.Index = ""
	c.Keyring = filepath.Join(t.TempDir(), "upstream.gpg")
	require.NoError(t, os.WriteFile(c.Keyring, e.up.Keyring(), 0o644))
	_, err := c.Items(context.Background())
	assert.ErrorIs(t, err, simplestreamstest.ErrRefused, "the upstream's key does not verify the re-signed tree")
}

// TestPristine: a pristine mirror serves the upstream's signed documents byte for byte and
// only the selected items; the client verifies it with the upstream's keyring.
func TestPristine(t *testing.T) {
	e := newEnvWith(t, simplestreamstest.Options{IndexChecksums: true}, func(m *simplestreams.Mirror) {
		m.Pristine = true
	})
	stats := e.sync(t)
	assert.Equal(t, 20, stats.Items)
	snap := e.published(t)
	docs := []string{"streams/v1/index.sjson", simplestreamstest.ImagesBase + ".sjson", simplestreamstest.BootloadersBase + ".sjson", simplestreamstest.CentOSBase + ".sjson"}
	for _, p := range docs {
		up, _ := e.up.File(p)
		assert.Equal(t, up, readFile(t, e.st, snap, p), "%s is the upstream's, byte for byte", p)
	}
	c := serveTree(t, e, upstreamKey, "")
	got := readAll(t, e, c)
	assert.Len(t, got, stats.Items)
	assert.Equal(t, len(docs)+len(got), len(snap.Files), "the documents and the selected items, nothing else")
	for _, p := range []string{simplestreams.PublicKeyPath, "streams/v1/index.json"} {
		_, status, err := c.Get(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, status, p)
	}

	// The same selection as the re-signed mirror holds.
	resigned := newEnvWith(t, simplestreamstest.Options{Signer: e.up.Signer}, nil)
	resigned.sync(t)
	assert.Equal(t, checkTree(t, resigned), got)

	c.Keyring = filepath.Join(t.TempDir(), "operator.gpg")
	b, err := operatorKey.PublicKey(false)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c.Keyring, b, 0o644))
	_, err = c.Items(context.Background())
	assert.ErrorIs(t, err, simplestreamstest.ErrRefused, "the operator's key does not verify a pristine tree")

	u, ok, err := simplestreams.ReadUpstreamState(snap)
	require.NoError(t, err)
	require.True(t, ok)
	ix, err := e.up.Document(simplestreamstest.IndexBase)
	require.NoError(t, err)
	assert.Equal(t, simplestreams.UpstreamState{URL: e.srv.URL + "/", Index: simplestreams.DefaultIndex, Pristine: true, Updated: ix["updated"].(string), Signed: u.Signed}, u)
	assert.WithinDuration(t, time.Now(), u.Signed, time.Minute)
}

// TestPristineJSON: a pristine mirror of a .json entry point keeps the .json documents and
// their detached signatures, which gpgv verifies with the upstream's keyring.
func TestPristineJSON(t *testing.T) {
	e := newEnv(t, func(m *simplestreams.Mirror) { m.Pristine = true; m.Index = "streams/v1/index.json" })
	stats := e.sync(t)
	c := serveTree(t, e, upstreamKey, "streams/v1/index.json")
	assert.Len(t, readAll(t, e, c), stats.Items)
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	dir := t.TempDir()
	env := []string{"GNUPGHOME=" + dir}
	n := 0
	for _, p := range e.published(t).Paths() {
		if !strings.HasPrefix(p, "streams/") {
			continue
		}
		up, _ := e.up.File(p)
		b, status, err := c.Get(context.Background(), p)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, up, b, "%s is the upstream's", p)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644))
		if strings.HasSuffix(p, ".json.gpg") {
			n++
		}
	}
	assert.Equal(t, 4, n, "index and three products documents, each with its signature")
	for _, p := range e.published(t).Paths() {
		if strings.HasSuffix(p, ".json.gpg") {
			f := filepath.Join(dir, filepath.Base(p))
			testutil.Run(t, time.Minute, env, gpgv, "--keyring", c.Keyring, f, strings.TrimSuffix(f, ".gpg"))
		}
	}
}

// TestPristineKeepsUnselectedDocuments: the verbatim index names every products
// document, so each is served even when nothing of it is selected.
func TestPristineKeepsUnselectedDocuments(t *testing.T) {
	e := newEnv(t, func(m *simplestreams.Mirror) {
		m.Pristine = true
		m.MAAS = nil
		m.Filters = []string{"os=centos"}
	})
	stats := e.sync(t)
	assert.Equal(t, 1, stats.Items)
	c := serveTree(t, e, upstreamKey, "")
	items, err := c.Items(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3*2*2*2*4+3+1, len(items), "every upstream item is advertised: releases x arches x (ga, hwe) x versions x 4, bootloaders, centos")
}

func TestPristineRefusesNestedIndex(t *testing.T) {
	e := newEnv(t, func(m *simplestreams.Mirror) { m.Pristine = true })
	ix, err := e.up.Document(simplestreamstest.IndexBase)
	require.NoError(t, err)
	entries := ix["index"].(map[string]any)
	for _, entry := range entries {
		entry.(map[string]any)["path"] = strings.Replace(entry.(map[string]any)["path"].(string), ".json", ".sjson", 1)
	}
	entries["com.example:nested"] = map[string]any{"path": "streams/v1/nested.sjson", "format": "index:1.0"}
	require.NoError(t, e.up.SetDocument(simplestreamstest.IndexBase, ix))
	_, err = e.m.Sync(context.Background())
	require.ErrorIs(t, err, simplestreams.ErrInvalidDocument)

	e.m.Pristine = false // re-signed, the entry is left out of the new index
	e.sync(t)
}
