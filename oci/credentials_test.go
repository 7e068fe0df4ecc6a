package oci

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCredentialsStayOnTheRegistryOrigin: a registry that demands credentials (basic, or
// a bearer token) and sends blob downloads to a second origin on 127.0.0.1 (object
// storage, a CDN): neither Sync (blobs through store/fetch) nor Copy (blobs streamed
// registry to registry) nor a direct request to that origin sends it the credentials or
// the token.
func TestCredentialsStayOnTheRegistryOrigin(t *testing.T) {
	for _, mode := range []string{"basic", "bearer"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("DOCKER_CONFIG", t.TempDir())
			ctx := context.Background()
			up := startUpstream(t)
			up.Faults.User.Store("bob")
			up.Faults.Password.Store("pw")
			if mode == "bearer" {
				up.Faults.Token.Store("tok-123")
			}
			blobs := up.StartBlobs()
			defer blobs.Close()
			up.Faults.RedirectBlobs.Store(blobs.Server.URL)
			blobHost := strings.TrimPrefix(blobs.Server.URL, "http://")
			regs := []RegistryConfig{{Host: up.Host, PlainHTTP: true, Username: "bob", Password: "pw"}, {Host: blobHost, PlainHTTP: true}}
			images := []string{up.Ref("library/alpine:3.19"), up.Ref("library/multi:1.0")}

			m := &Mirror{Name: "t", Store: store.NewMemory(), Registries: regs, Images: images}
			_, err := m.Sync(ctx)
			require.NoError(t, err)
			sync := blobs.Hits()
			assert.Positive(t, sync, "the blobs came from the second origin")

			target, err := ocitest.StartEmpty()
			require.NoError(t, err)
			defer target.Close()
			c := &Client{Registries: append(regs, RegistryConfig{Host: target.Host, PlainHTTP: true})}
			_, err = Copy(ctx, Selection{Images: images}, Mapping{Registry: target.Host, StripRegistry: true}, PushOptions{Client: c})
			require.NoError(t, err)
			assert.Greater(t, blobs.Hits(), sync, "Copy read the blobs there too")

			alpine := up.Content["library/alpine:3.19"].Blobs[1]
			resp, err := c.HTTPClient().Get(blobs.Server.URL + "/v2/library/alpine/blobs/" + alpine.Digest)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)

			assert.Empty(t, blobs.Leaked())
		})
	}
}

// TestRedirectToAnotherRegistryGoesWithoutItsCredentials: a registry that redirects a
// blob download to another registry the client has credentials for does not make the
// client send those there: credentials go with requests to their own registry, not with
// wherever another one points (the second registry refuses the anonymous request).
func TestRedirectToAnotherRegistryGoesWithoutItsCredentials(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	a, b := startUpstream(t), startUpstream(t)
	a.Faults.User.Store("bob")
	a.Faults.Password.Store("pw")
	b.Faults.User.Store("eve")
	b.Faults.Password.Store("pw-b")
	a.Faults.RedirectBlobs.Store(b.Server.URL)
	m := &Mirror{Name: "t", Store: store.NewMemory(), Concurrency: 1,
		Registries: []RegistryConfig{{Host: a.Host, PlainHTTP: true, Username: "bob", Password: "pw"}, {Host: b.Host, PlainHTTP: true, Username: "eve", Password: "pw-b"}},
		Images:     []string{b.Ref("library/app:1.0.0"), a.Ref("library/alpine:3.19")}}
	b.Requests()
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, strings.Join(b.Requests(), "\n"), "GET /v2/library/alpine/blobs/", "the redirect was followed, without eve's credentials")
}

// TestRedirectToARegistryWithItsOwnToken: a bearer registry that sends blob downloads to
// another registry whose own Bearer challenge hands out an anonymous token: the client
// gets that token (never the first registry's) and the copy succeeds, through store/fetch
// (Sync) as through the registry client (Copy).
func TestRedirectToARegistryWithItsOwnToken(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	a, b := startUpstream(t), startUpstream(t)
	a.Faults.Token.Store("tok-a")
	a.Faults.User.Store("bob")
	a.Faults.Password.Store("pw")
	b.Faults.Token.Store("tok-b") // handed to anyone who asks b's realm
	a.Faults.RedirectBlobs.Store(b.Server.URL)
	regs := []RegistryConfig{{Host: a.Host, PlainHTTP: true, Username: "bob", Password: "pw"}, {Host: b.Host, PlainHTTP: true}}
	images := []string{a.Ref("library/alpine:3.19")}
	_, err := (&Mirror{Name: "t", Store: store.NewMemory(), Registries: regs, Images: images}).Sync(ctx)
	require.NoError(t, err)

	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: append(regs, RegistryConfig{Host: target.Host, PlainHTTP: true})}
	_, err = Copy(ctx, Selection{Images: images}, Mapping{Registry: target.Host, StripRegistry: true}, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(b.Requests(), "\n"), "GET /token")
}
