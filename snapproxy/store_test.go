package snapproxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
)

// A registered proxy store: the operator's store assertion (signed by the store's key)
// is verified at sync, completed with its chain, published, served for `snap ack` and
// named in the device commands; a device with proxy.store set installs from the mirror.
func TestSyncStoreAssertion(t *testing.T) {
	ctx := context.Background()
	w := newAPIWorld(t, SnapSpec{Name: "maas"})
	file := filepath.Join(t.TempDir(), "store.assert")
	signed := w.up.StoreKey.Sign("store", []snapproxytest.Header{{Name: "store", Value: "mystore"},
		{Name: "operator-id", Value: "publisher-maas"}, {Name: "url", Value: w.base}, {Name: "timestamp", Value: "2024-01-01T00:00:00Z"}}, nil)
	require.NoError(t, os.WriteFile(file, signed, 0o644))
	w.m.StoreAssertion = file
	w.sync(t)

	out, err := ReadOutput(ctx, w.m.Store, w.m.Ref())
	require.NoError(t, err)
	assert.Equal(t, "mystore", out.Manifest.Store)
	resp, err := http.Get(w.base + "/v2/auth/store/assertions")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	chain, err := DecodeAll(bytes.NewReader(b), 0)
	require.NoError(t, err)
	var names []string
	for _, a := range chain {
		names = append(names, a.String())
	}
	assert.Equal(t, []string{"account/canonical", "account-key/" + w.up.StoreKey.ID, "account/publisher-maas", "store/mystore"}, names,
		"what snap ack needs, in order")
	require.NoError(t, w.trust.Verify(chain))

	d := w.newDevice("amd64")
	d.StoreID = "mystore"
	_, err = d.Install(ctx, "maas", "", 0)
	require.NoError(t, err)

	registered, proxy := DeviceSetup{StoreURL: w.base, StoreID: out.Manifest.Store}.Commands()
	assert.Equal(t, []string{"curl -sSf " + w.base + "/v2/auth/store/assertions | snap ack /dev/stdin", "snap set system proxy.store=mystore"}, registered)
	assert.Nil(t, proxy)

	// One signed by a key the roots do not certify publishes nothing new.
	rogue := snapproxytest.NewKey("rogue", snapproxytest.Authority)
	require.NoError(t, os.WriteFile(file, rogue.Sign("store", []snapproxytest.Header{{Name: "store", Value: "evil"}}, nil), 0o644))
	before, err := store.Current(ctx, w.m.Store, w.m.Ref())
	require.NoError(t, err)
	_, err = w.m.Sync(ctx)
	require.ErrorIs(t, err, ErrUntrustedKey)
	after, err := store.Current(ctx, w.m.Store, w.m.Ref())
	require.NoError(t, err)
	assert.Equal(t, before.Record, after.Record)
	// A file without a store assertion is a config error.
	require.NoError(t, os.WriteFile(file, w.up.TrustedKeys(), 0o644))
	_, err = w.m.Sync(ctx)
	require.ErrorIs(t, err, ErrConfig)
}
