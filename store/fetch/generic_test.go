package fetch

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

func TestGenericWithoutGetter(t *testing.T) {
	c := &Client{Store: store.NewMemory()}
	_, err := c.FetchGeneric(t.Context(), Request{URL: "/etc/hostname"})
	require.ErrorIs(t, err, ErrUnsupportedURL)
}

func TestChecksumParam(t *testing.T) {
	h := hex.EncodeToString(make([]byte, 32))
	e, err := checksumParam(store.Expect{}, "https://x/y?checksum=sha256:"+h)
	require.NoError(t, err)
	assert.Equal(t, h, e.Sums[store.SHA256])
	e, err = checksumParam(store.Expect{}, "https://x/y?checksum="+h)
	require.NoError(t, err)
	assert.Equal(t, h, e.Sums[store.SHA256])
	e, err = checksumParam(store.Expect{}, "https://x/y?checksum=sha1:0000000000000000000000000000000000000000")
	require.NoError(t, err)
	assert.Empty(t, e.Sums)
	_, err = checksumParam(store.Expect{}, "https://x/y?checksum=sha256:zz")
	require.ErrorIs(t, err, store.ErrInvalidDigest)
	_, err = checksumParam(store.Expect{}, "https://x/y?checksum=md5:00")
	require.ErrorIs(t, err, store.ErrInvalidDigest)
	e, err = checksumParam(store.Expect{}, "/plain/path")
	require.NoError(t, err)
	assert.Empty(t, e.Sums)
}
