package store_test

import (
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/storetest"
	"github.com/stretchr/testify/require"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
}

func TestFSConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.TempDir())
		require.NoError(t, err)
		return s
	})
}
