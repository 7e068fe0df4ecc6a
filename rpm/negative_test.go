package rpm_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/rpm/rpmtest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// publishedOrNot returns the digest of the published snapshot ("" when never published).
func snapshotOf(t *testing.T, e *env, m *rpm.Mirror) store.Digest {
	t.Helper()
	g, err := store.Current(context.Background(), e.store, m.Ref())
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	require.NoError(t, err)
	return g.Snapshot
}

// TestRefused: every way the upstream can be wrong fails the sync with a typed error and
// leaves the published mirror as it was (first sync: nothing published; later: the
// previous tree), in both modes.
func TestRefused(t *testing.T) {
	pkg := rpmtest.AppStream + "/Packages/h/httpd-2.4.57-5.el9.x86_64.rpm"
	other, err := pgp.GenerateKey("Someone Else", "else@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	repomd := rpmtest.BaseOS + "/repodata/repomd.xml"
	cases := []struct {
		name   string
		change func(tr *rpmtest.Tree)
		want   []error
		// content: a file repomd.xml or primary names by checksum; once a sync has
		// stored the good one, a later sync takes it from the store and never asks
		// the upstream again
		content bool
	}{
		{"tampered rpm", func(tr *rpmtest.Tree) {
			b := bytes.Clone(tr.Files[pkg])
			b[len(b)-1] ^= 1
			tr.Files[pkg] = b
		}, []error{rpm.ErrChecksum, store.ErrDigestMismatch}, true},
		{"missing rpm", func(tr *rpmtest.Tree) { delete(tr.Files, pkg) }, []error{rpm.ErrMissing, store.ErrNotFound}, true},
		{"repomd signed by another key", func(tr *rpmtest.Tree) { tr.Sign(rpmtest.BaseOS, other) }, []error{rpm.ErrSignature, store.ErrSignature}, false},
		{"repomd unsigned", func(tr *rpmtest.Tree) { delete(tr.Files, repomd+".asc") }, []error{rpm.ErrUnsigned, store.ErrUnsigned}, false},
		{"repomd changed after signing", func(tr *rpmtest.Tree) {
			tr.Files[repomd] = bytes.Replace(tr.Files[repomd], []byte("<revision>"), []byte("<revision>1"), 1)
		}, []error{rpm.ErrSignature}, false},
		{"metadata file tampered", func(tr *rpmtest.Tree) {
			for p, b := range tr.Files {
				if strings.HasPrefix(p, rpmtest.BaseOS+"/repodata/") && strings.HasSuffix(p, "-other.xml.gz") {
					b = bytes.Clone(b)
					b[len(b)/2] ^= 1
					tr.Files[p] = b
				}
			}
		}, []error{rpm.ErrChecksum, store.ErrDigestMismatch}, true},
		{"metadata file missing", func(tr *rpmtest.Tree) {
			for p := range tr.Files {
				if strings.HasPrefix(p, rpmtest.AppStream+"/repodata/") && strings.HasSuffix(p, "-updateinfo.xml.gz") {
					delete(tr.Files, p)
				}
			}
		}, []error{rpm.ErrMissing}, true},
		{"repomd not XML", func(tr *rpmtest.Tree) {
			tr.Files[repomd] = []byte("<repomd><data type=")
			tr.Sign(rpmtest.BaseOS, tr.Signer)
		}, []error{rpm.ErrMalformed, store.ErrMalformed}, false},
		{"href climbs out", func(tr *rpmtest.Tree) {
			tr.Files[repomd] = bytes.Replace(tr.Files[repomd], []byte(`href="repodata/`), []byte(`href="../../repodata/`), 1)
			tr.Sign(rpmtest.BaseOS, tr.Signer)
		}, []error{rpm.ErrMalformed}, false},
	}
	for _, pristine := range []bool{true, false} {
		for _, tc := range cases {
			t.Run(map[bool]string{true: "pristine", false: "filtered"}[pristine]+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				e := newEnv(t)
				m := e.mirror(pristine)
				if !pristine {
					m.Filter = httpdFilter
				}
				// first sync of a bad upstream: nothing published
				good := e.tree.Clone()
				tc.change(e.tree)
				e.serve()
				_, err := m.Sync(ctx)
				for _, w := range tc.want {
					require.ErrorIs(t, err, w)
				}
				require.Empty(t, snapshotOf(t, e, m))
				// after a good sync, a bad one keeps the published tree
				e.tree = good
				e.serve()
				_, err = m.Sync(ctx)
				require.NoError(t, err)
				before := snapshotOf(t, e, m)
				bad := good.Clone()
				tc.change(bad)
				bumpRevision(bad)
				e.tree = bad
				e.serve()
				_, err = m.Sync(ctx)
				if tc.content {
					require.NoError(t, err)
					got, ok := e.published(t, m, pkg)
					require.True(t, ok)
					require.Equal(t, good.Files[pkg], got)
					return
				}
				for _, w := range tc.want {
					require.ErrorIs(t, err, w)
				}
				require.Equal(t, before, snapshotOf(t, e, m))
			})
		}
	}
}

// bumpRevision makes AppStream's repomd.xml new (a later revision, re-signed), so that
// a sync reads everything again, unless the case already replaced it.
func bumpRevision(tr *rpmtest.Tree) {
	p := rpmtest.AppStream + "/repodata/repomd.xml"
	tr.Files[p] = bytes.Replace(tr.Files[p], []byte("<revision>1700000000<"), []byte("<revision>1700000001<"), 1)
	tr.Sign(rpmtest.AppStream, tr.Signer)
}

// TestRollback: a repomd.xml with an older revision than the published one is refused
// (ErrRollback) unless AllowRollback.
func TestRollback(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.mirror(true)
	bumpRevision(e.tree)
	e.serve()
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	before := snapshotOf(t, e, m)
	e.tree = rpmtest.Default(t).Clone()
	e.serve()
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, rpm.ErrRollback)
	require.ErrorIs(t, err, store.ErrRollback)
	require.Equal(t, before, snapshotOf(t, e, m))
	m.AllowRollback = true
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
}

// TestXMLBase: a package whose location carries xml:base (another server) is fetched
// from there; a filtered mirror serves it at its href with the xml:base dropped from
// primary, a pristine one refuses it (ErrXMLBase): its primary cannot be rewritten.
func TestXMLBase(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	// Move httpd to /elsewhere/ and rewrite AppStream's primary to say so.
	href := "Packages/h/httpd-2.4.57-5.el9.x86_64.rpm"
	e.tree.Files["elsewhere/"+href] = e.tree.Files[rpmtest.AppStream+"/"+href]
	delete(e.tree.Files, rpmtest.AppStream+"/"+href)
	rewritePrimary(t, e.tree, rpmtest.AppStream, func(b []byte) []byte {
		return bytes.Replace(b, []byte(`<location href="`+href+`"/>`),
			[]byte(`<location xml:base="`+e.srv.URL+`/elsewhere/" href="`+href+`"/>`), 1)
	})
	e.serve()
	m := e.mirror(true)
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, rpm.ErrXMLBase)

	m = e.mirror(false)
	m.Filter = httpdFilter
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	got, ok := e.published(t, m, rpmtest.AppStream+"/"+href)
	require.True(t, ok)
	require.Equal(t, e.tree.Files["elsewhere/"+href], got)
	items, err := rpm.Inventory(ctx, e.store, m.Ref())
	require.NoError(t, err)
	found := false
	for _, it := range items {
		found = found || it.Path == rpmtest.AppStream+"/"+href
	}
	require.True(t, found, "the regenerated primary lists httpd at its href")
}
