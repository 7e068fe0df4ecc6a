package simplestreams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/store"
)

// TestMaxDocumentSize: a document is read whole (it is verified whole), so it is capped:
// one over Mirror.MaxDocumentSize fails the sync with store.ErrTooLarge, naming the
// document's URL and the cap, and nothing is published.
func TestMaxDocumentSize(t *testing.T) {
	e := newEnv(t, func(m *simplestreams.Mirror) { m.MaxDocumentSize = 100 })
	_, err := e.m.Sync(context.Background())
	require.ErrorIs(t, err, store.ErrTooLarge)
	require.ErrorContains(t, err, e.m.URL+"streams/v1/index.sjson")
	require.ErrorContains(t, err, "limit of 100 bytes")
	_, _, err = store.OpenPublished(context.Background(), e.st, e.m.Ref())
	require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)
}
