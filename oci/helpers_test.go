package oci

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/oci/ocitest"
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

func startUpstreamB() (*ocitest.Registry, error) { return ocitest.Start() }

// serveStore serves ref of s with NewHandler on 127.0.0.1 until the test ends and returns
// its host and a Client for it.
func serveStore(t *testing.T, s store.Store, ref string) (string, *Client) {
	t.Helper()
	srv := httptest.NewServer(NewHandler(s, ref))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	return host, &Client{Registries: []RegistryConfig{{Host: host, PlainHTTP: true}}}
}
