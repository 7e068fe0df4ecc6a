package oci

import (
	"context"
	"os/exec"
	"testing"

	"github.com/airgapkit/airgap/internal/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/require"
)

func startUpstream(t *testing.T) *ocitest.Registry {
	t.Helper()
	up, err := ocitest.Start()
	require.NoError(t, err)
	t.Cleanup(up.Close)
	return up
}

func newMirror(up *ocitest.Registry, s store.Store, images ...string) *Mirror {
	m := &Mirror{
		Name:       "test",
		Store:      s,
		Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}},
	}
	for _, im := range images {
		m.Images = append(m.Images, up.Ref(im))
	}
	return m
}

func published(t *testing.T, s store.Store, ref string) *store.Snapshot {
	t.Helper()
	snap, _, err := store.OpenPublished(context.Background(), s, ref)
	require.NoError(t, err)
	return snap
}

func testutilLookPath(name string) (string, error) { return exec.LookPath(name) }

func startUpstreamB() (*ocitest.Registry, error) { return ocitest.Start() }
