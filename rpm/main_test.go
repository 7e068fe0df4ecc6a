package rpm_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/rpm/rpmtest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// env is an upstream built from real rpms, served on 127.0.0.1, and a store to mirror
// it into.
type env struct {
	tree     *rpmtest.Tree
	upstream *apttest.Server
	srv      *httptest.Server
	store    store.Store
	op       *pgp.Signer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	tree := rpmtest.Default(t).Clone()
	up := apttest.NewServer(&apttest.Repo{Files: tree.Files})
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	op, err := pgp.GenerateKey("Mirror Operator", "op@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	return &env{tree: tree, upstream: up, srv: srv, store: store.NewMemory(), op: op}
}

// serve replaces the upstream's files with e.tree's.
func (e *env) serve() { e.upstream.Replace(&apttest.Repo{Files: e.tree.Files}) }

func (e *env) mirror(pristine bool) *rpm.Mirror {
	return &rpm.Mirror{
		Name:     "rocky9",
		URL:      e.srv.URL + "/",
		Repos:    []string{rpmtest.BaseOS, rpmtest.AppStream},
		Vendor:   "rocky",
		Pristine: pristine,
		Store:    e.store,
		Fetch:    &fetch.Client{Store: e.store, Backoff: time.Millisecond, MaxBackoff: time.Millisecond, Retries: -1},
		Keys:     e.tree.Signer.Keyring(),
		Signer:   e.op,
	}
}

// published returns the bytes at p in the published tree of m.
func (e *env) published(t testing.TB, m *rpm.Mirror, p string) ([]byte, bool) {
	t.Helper()
	snap, _, err := store.OpenPublished(context.Background(), e.store, m.Ref())
	require.NoError(t, err)
	f, ok := snap.Lookup(p)
	if !ok {
		return nil, false
	}
	b, err := store.ReadBlob(context.Background(), e.store, f.Digest, 1<<30)
	require.NoError(t, err)
	return b, true
}

func weak(b bool) *bool { return &b }

// httpdFilter is the filtered mirror of the issue: httpd and webapp with dependencies
// and weak dependencies.
var httpdFilter = rpm.Filter{Packages: []string{"httpd", "webapp"}, Dependencies: true, Weak: weak(true)}
