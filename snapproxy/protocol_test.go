package snapproxy

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// A snap asked for without a channel comes from its default track, as `snap download`
// and `snap install` get it: the client sends what snapd sends.
func TestSyncDefaultTrack(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{})
	m := newMirror(t, srv, store.NewMemory())
	m.Snaps = []SnapSpec{{Name: "maas"}}
	m.Architectures = []string{"amd64"}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	out, err := ReadOutput(ctx, m.Store, m.Ref())
	require.NoError(t, err)
	ms, ok := pick(out.Manifest, "maas", "amd64")
	require.True(t, ok)
	assert.Equal(t, 100, ms.Revision)
	assert.Equal(t, "3.5/stable", ms.Channel)

	for _, ep := range []string{"refresh", "assertions", "download"} {
		h := srv.LastHeader(ep)
		require.NotNil(t, h, ep)
		assert.Equal(t, "default-tracks", h.Get("Snap-Device-Capabilities"), ep)
		assert.Equal(t, "true", h.Get("Snap-Classic"), ep)
		assert.Equal(t, "16", h.Get("Snap-Device-Series"), ep)
		assert.Equal(t, "airgap-snapproxy", h.Get("User-Agent"), ep)
	}
	assert.Equal(t, "amd64", srv.LastHeader("refresh").Get("Snap-Device-Architecture"))
}

// Assertions are asked for with snapd's max-format: a snap-declaration of format 6 is
// served, one of a format snapd does not know is not.
func TestSyncMaxFormat(t *testing.T) {
	for format, want := range map[int]error{6: nil, 7: ErrAssertionNotFound} {
		srv := snapproxytest.New(snapproxytest.Options{})
		t.Cleanup(srv.Close)
		srv.Add(snapproxytest.Snap{Name: "hello", Revision: 1, Base: "core22", DeclarationFormat: format})
		srv.Add(snapproxytest.Snap{Name: "core22", Revision: 2, Type: "base"})
		srv.Add(snapproxytest.Snap{Name: "snapd", Revision: 3, Type: "snapd"})
		m := newMirror(t, srv, store.NewMemory())
		m.Snaps = []SnapSpec{{Name: "hello"}}
		m.Architectures = []string{"amd64"}
		if want != nil {
			publishesNothing(t, m, want)
			continue
		}
		_, err := m.Sync(context.Background())
		require.NoError(t, err, "format %d", format)
	}
}

// A sync against a store that serves Canonical's real account-keys and publisher account
// verifies them to the real root. The store cannot serve real snap-declarations and
// snap-revisions (they would need Canonical's private store key), so those are signed by
// the test store key: the sync succeeds when both roots are trusted, and fails with only
// either one — with only the real root on the test-signed leaves, with only the test root
// on the real publisher account, which nothing but the real root certifies.
func TestSyncCanonicalChain(t *testing.T) {
	ctx := context.Background()
	srv := snapproxytest.New(snapproxytest.Options{Canonical: true})
	t.Cleanup(srv.Close)
	srv.Add(snapproxytest.Snap{Name: "test-snapd-tools", Revision: 9, Base: "core22", Publisher: snapproxytest.CanonicalPublisher})
	srv.Add(snapproxytest.Snap{Name: "core22", Revision: 2, Type: "base", Publisher: "canonical"})
	srv.Add(snapproxytest.Snap{Name: "snapd", Revision: 3, Type: "snapd", Publisher: "canonical"})
	roots := map[string][]byte{"real": snapproxytest.CanonicalRoot(), "test": srv.TrustedKeys()}
	trust := func(names ...string) *Trust {
		var b bytes.Buffer
		for _, n := range names {
			b.Write(roots[n])
			b.WriteString("\n\n")
		}
		tr, err := ParseTrust(b.Bytes())
		require.NoError(t, err)
		return tr
	}
	sync := func(tr *Trust) (*Mirror, error) {
		s := store.NewMemory()
		m := &Mirror{Name: "t", URL: srv.URL(), Store: s, Trust: tr, Fetch: &fetch.Client{Store: s},
			Snaps: []SnapSpec{{Name: "test-snapd-tools"}}}
		_, err := m.Sync(ctx)
		return m, err
	}

	m, err := sync(trust("real", "test"))
	require.NoError(t, err)
	out, err := ReadOutput(ctx, m.Store, m.Ref())
	require.NoError(t, err)
	require.NoError(t, out.Verify(ctx, trust("real", "test")))
	ms, ok := pick(out.Manifest, "test-snapd-tools", "amd64")
	require.True(t, ok)
	set, err := out.Assertions(ctx, ms)
	require.NoError(t, err)
	real := snapproxytest.CanonicalChain()
	var raws []string
	for _, a := range set {
		raws = append(raws, string(a.Raw()))
	}
	assert.Contains(t, raws, string(real[2]), "the real store account-key, byte for byte")
	assert.Contains(t, raws, string(real[3]), "the real publisher account, byte for byte")
	require.ErrorIs(t, out.Verify(ctx, trust("real")), ErrUntrustedKey)

	_, err = sync(trust("real"))
	require.ErrorIs(t, err, ErrUntrustedKey)
	assert.Contains(t, err.Error(), "account-key/"+srv.Root.ID+" is self-signed and not a trusted root", "the test chain is named")
	_, err = sync(trust("test"))
	require.ErrorIs(t, err, ErrUntrustedKey)
	assert.Contains(t, err.Error(), "account-key/"+snapproxytest.CanonicalRootKeyID+" is self-signed and not a trusted root")
}
