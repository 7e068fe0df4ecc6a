package simplestreams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/simplestreamstest"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// firstItem returns the products -> versions -> items map of the first item of the
// images document's given version, for a test to edit.
func firstImageItem(t *testing.T, doc map[string]any, version string) map[string]any {
	t.Helper()
	prods := doc["products"].(map[string]any)
	p := prods["com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04"].(map[string]any)
	v := p["versions"].(map[string]any)[version].(map[string]any)
	return v["items"].(map[string]any)["boot-kernel"].(map[string]any)
}

// TestNegative breaks the upstream in one way after a good first sync: each sync must fail
// with a typed error and leave the published ref where it was.
func TestNegative(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		configure func(*simplestreams.Mirror)
		breakIt   func(t *testing.T, up *simplestreamstest.Upstream)
		is        []error
	}{
		"wrong key": {
			configure: func(m *simplestreams.Mirror) { m.UpstreamKeyring = strangerKey.Keyring() },
			is:        []error{pgp.ErrUnknownKey, pgp.ErrSignature},
		},
		"upstream re-signed by another key": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				raw, _ := up.File(simplestreamstest.CentOSBase + ".json")
				cs, err := strangerKey.Clearsign(raw)
				require.NoError(t, err)
				up.Set(simplestreamstest.CentOSBase+".sjson", cs)
			},
			is: []error{pgp.ErrUnknownKey},
		},
		"unsigned sjson under a signed index": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				raw, _ := up.File(simplestreamstest.ImagesBase + ".json")
				up.Set(simplestreamstest.ImagesBase+".sjson", raw)
			},
			is: []error{simplestreams.ErrUnsigned},
		},
		"json without its gpg under a signed index": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				// index.sjson now names the .json documents; one has lost its signature.
				ix, err := up.Document(simplestreamstest.IndexBase)
				require.NoError(t, err)
				require.NoError(t, up.SetDocument(simplestreamstest.IndexBase, ix))
				up.Remove(simplestreamstest.BootloadersBase + ".json.gpg")
			},
			is: []error{simplestreams.ErrUnsigned},
		},
		"detached signature over other content": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				ix, err := up.Document(simplestreamstest.IndexBase)
				require.NoError(t, err)
				require.NoError(t, up.SetDocument(simplestreamstest.IndexBase, ix))
				other, _ := up.File(simplestreamstest.CentOSBase + ".json.gpg")
				up.Set(simplestreamstest.BootloadersBase+".json.gpg", other)
			},
			is: []error{pgp.ErrSignature},
		},
		"tampered item": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				require.NoError(t, up.AddVersion("20261201"))
				up.Set("noble/amd64/20261201/squashfs", []byte("evil squashfs"))
			},
			is: []error{store.ErrDigestMismatch},
		},
		"tampered item of the same size": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				require.NoError(t, up.AddVersion("20261201"))
				p := "noble/arm64/20261201/ga-24.04/generic/boot-kernel"
				b, _ := up.File(p)
				evil := append([]byte{}, b...)
				evil[0] ^= 1
				up.Set(p, evil)
			},
			is: []error{store.ErrDigestMismatch},
		},
		"item path outside the mirror": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				firstImageItem(t, doc, "20261115")["path"] = "../../etc/passwd"
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
			},
			is: []error{store.ErrUnsafePath, simplestreams.ErrInvalidDocument},
		},
		"absolute item path": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				firstImageItem(t, doc, "20261115")["path"] = "/etc/passwd"
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
			},
			is: []error{store.ErrUnsafePath},
		},
		"item path taking the mirror's index": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				firstImageItem(t, doc, "20261115")["path"] = "streams/v1/index.sjson"
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
			},
			is: []error{simplestreams.ErrInvalidDocument},
		},
		"two items at one path with different checksums": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				firstImageItem(t, doc, "20261115")["path"] = "noble/amd64/20261115/squashfs"
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
			},
			is: []error{simplestreams.ErrInvalidDocument},
		},
		"item without checksum": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				delete(firstImageItem(t, doc, "20261115"), "sha256")
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
			},
			is: []error{simplestreams.ErrInvalidDocument},
		},
		"truncated products document": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				raw, _ := up.File(simplestreamstest.ImagesBase + ".json")
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, raw[:len(raw)/2]))
			},
			is: []error{simplestreams.ErrInvalidDocument},
		},
		"truncated index": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				raw, _ := up.File(simplestreamstest.IndexBase + ".sjson")
				up.Set(simplestreamstest.IndexBase+".sjson", raw[:len(raw)-40])
			},
			is: []error{pgp.ErrSignature},
		},
		"products document under another content id": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.CentOSBase)
				require.NoError(t, err)
				doc["content_id"] = simplestreamstest.ImagesID
				require.NoError(t, up.SetDocument(simplestreamstest.CentOSBase, doc))
			},
			is: []error{simplestreams.ErrInvalidDocument},
		},
		"rollback to an older index": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				ix, err := up.Document(simplestreamstest.IndexBase)
				require.NoError(t, err)
				ix["updated"] = "Mon, 01 Jan 2024 00:00:00 +0000"
				require.NoError(t, up.SetDocument(simplestreamstest.IndexBase, ix))
			},
			is: []error{simplestreams.ErrRollback},
		},
		"missing products document": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				up.Remove(simplestreamstest.CentOSBase + ".sjson")
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.sync(t)
			before, err := e.st.Ref(ctx, e.m.Ref())
			require.NoError(t, err)
			if tc.configure != nil {
				tc.configure(e.m)
			}
			if tc.breakIt != nil {
				tc.breakIt(t, e.up)
			}
			_, err = e.m.Sync(ctx)
			require.Error(t, err)
			for _, target := range tc.is {
				assert.ErrorIs(t, err, target)
			}
			var de *simplestreams.DocumentError
			assert.True(t, errors.As(err, &de), "the error names the document: %v", err)
			after, err := e.st.Ref(ctx, e.m.Ref())
			require.NoError(t, err)
			assert.Equal(t, before, after, "nothing published")
		})
	}
}

// TestFirstSyncFailure: a failing first sync leaves no ref at all.
func TestFirstSyncFailure(t *testing.T) {
	e := newEnv(t, func(m *simplestreams.Mirror) { m.UpstreamKeyring = strangerKey.Keyring() })
	_, err := e.m.Sync(context.Background())
	require.ErrorIs(t, err, pgp.ErrUnknownKey)
	_, err = e.st.Ref(context.Background(), e.m.Ref())
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestConfigErrors(t *testing.T) {
	e := newEnv(t, nil)
	for name, change := range map[string]func(m *simplestreams.Mirror){
		"no name":     func(m *simplestreams.Mirror) { m.Name = "" },
		"bad url":     func(m *simplestreams.Mirror) { m.URL = "file:///etc" },
		"no keyring":  func(m *simplestreams.Mirror) { m.UpstreamKeyring = nil },
		"bad index":   func(m *simplestreams.Mirror) { m.Index = "../index.sjson" },
		"no store":    func(m *simplestreams.Mirror) { m.Store = nil },
		"bad keyring": func(m *simplestreams.Mirror) { m.UpstreamKeyring = nil; m.Keyring = "/nonexistent" },
	} {
		m := *e.m
		change(&m)
		_, err := m.Sync(context.Background())
		assert.ErrorIs(t, err, simplestreams.ErrConfig, name)
	}
	m := *e.m
	m.Filters = []string{"arch"}
	_, err := m.Sync(context.Background())
	assert.ErrorIs(t, err, simplestreams.ErrFilter)
}
