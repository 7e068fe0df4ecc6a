package simplestreams_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
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
	for name, tc := range map[string]struct {
		opt       simplestreamstest.Options
		configure func(*simplestreams.Mirror)
		breakIt   func(t *testing.T, up *simplestreamstest.Upstream)
		is        []error
	}{
		"products document its signed index entry does not match": {
			// Validly signed, but not the document the signed index lists.
			opt: simplestreamstest.Options{IndexChecksums: true},
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.BootloadersBase)
				require.NoError(t, err)
				doc["note"] = "changed after the index was signed"
				require.NoError(t, up.SetDocument(simplestreamstest.BootloadersBase, doc))
			},
			is: []error{store.ErrDigestMismatch},
		},
		"one byte of a signed products document changed": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				raw, _ := up.File(simplestreamstest.ImagesBase + ".sjson")
				i := bytes.Index(raw, []byte(`"amd64"`))
				require.Positive(t, i)
				evil := slices.Clone(raw)
				evil[i+5] = '5' // "amd65"
				up.Set(simplestreamstest.ImagesBase+".sjson", evil)
			},
			is: []error{pgp.ErrSignature},
		},
		"index entry with a malformed checksum": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				ix, err := up.Document(simplestreamstest.IndexBase)
				require.NoError(t, err)
				for _, entry := range ix["index"].(map[string]any) {
					entry.(map[string]any)["path"] = strings.Replace(entry.(map[string]any)["path"].(string), ".json", ".sjson", 1)
					entry.(map[string]any)["sha256"] = "not hex"
				}
				require.NoError(t, up.SetDocument(simplestreamstest.IndexBase, ix))
			},
			is: []error{simplestreams.ErrInvalidDocument},
		},
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
		"right sha256, wrong sha512": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				require.NoError(t, up.AddVersion("20261201"))
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				firstImageItem(t, doc, "20261201")["sha512"] = strings.Repeat("ab", 64)
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
			},
			is: []error{store.ErrDigestMismatch},
		},
		"right sha256, wrong md5": {
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				require.NoError(t, up.AddVersion("20261201"))
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				firstImageItem(t, doc, "20261201")["md5"] = strings.Repeat("ab", 16)
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
			},
			is: []error{store.ErrDigestMismatch},
		},
		"wrong sha512 on an item already in the store": {
			// The content is stored (by its right sha256) from the first sync: it must
			// still be checked against the sha512 the stream now lists.
			breakIt: func(t *testing.T, up *simplestreamstest.Upstream) {
				doc, err := up.Document(simplestreamstest.ImagesBase)
				require.NoError(t, err)
				firstImageItem(t, doc, "20261115")["sha512"] = strings.Repeat("ab", 64)
				require.NoError(t, up.SetDocument(simplestreamstest.ImagesBase, doc))
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
		for _, pristine := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/pristine=%v", name, pristine), func(t *testing.T) {
				testNegative(t, tc.opt, pristine, tc.configure, tc.breakIt, tc.is)
			})
		}
	}
}

// testNegative syncs a good upstream, breaks it, and checks that the next sync fails with
// the errors is and publishes nothing: the last verified tree stays published.
func testNegative(t *testing.T, opt simplestreamstest.Options, pristine bool, configure func(*simplestreams.Mirror), breakIt func(*testing.T, *simplestreamstest.Upstream), is []error) {
	ctx := context.Background()
	e := newEnvWith(t, opt, func(m *simplestreams.Mirror) { m.Pristine = pristine })
	e.sync(t)
	before, err := e.st.Ref(ctx, e.m.Ref())
	require.NoError(t, err)
	if configure != nil {
		configure(e.m)
	}
	if breakIt != nil {
		breakIt(t, e.up)
	}
	_, err = e.m.Sync(ctx)
	require.Error(t, err)
	for _, target := range is {
		assert.ErrorIs(t, err, target)
	}
	var de *simplestreams.DocumentError
	assert.True(t, errors.As(err, &de), "the error names the document: %v", err)
	after, err := e.st.Ref(ctx, e.m.Ref())
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing published")
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
