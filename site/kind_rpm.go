package site

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/store"
)

// RPMMirror is an `rpm:` entry: rpm.Mirror (url, repos, keyring, pristine, filter,
// vendor, ...).
type RPMMirror struct {
	rpm.Mirror `yaml:",inline"`
}

func (m *RPMMirror) Kind() string    { return "rpm" }
func (m *RPMMirror) Name() string    { return m.Mirror.Name }
func (m *RPMMirror) Validate() error { return m.Mirror.Validate() }

// Sync mirrors the repositories; a filtered (not pristine) mirror re-signs repomd.xml
// with the operator key, so it needs signing_key.
func (m *RPMMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	if env.Signer == nil && !m.Pristine {
		return Result{}, errors.New("signing_key is required: filtered rpm mirrors re-sign repomd.xml with the operator key (unless pristine: true)")
	}
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d repos, %d packages, %s", st.Repos, st.Packages, HumanBytes(st.Bytes)))}, nil
}

// runtime is the library mirror with env's run-time fields and resolved paths.
func (m *RPMMirror) runtime(env *Env) rpm.Mirror {
	mm := m.Mirror
	mm.Keyring = env.resolve(mm.Keyring)
	mm.Store, mm.Fetch, mm.Signer, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Signer, env.Logger, env.preflight
	return mm
}

func (m *RPMMirror) preflights() {}

// Plan reads the metadata as Sync does (rpm.Mirror.Plan) and lists the packages with
// the sizes and checksums primary gives.
func (m *RPMMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	mm := m.runtime(env)
	return mm.Plan(ctx)
}

// Inventory is what the published mirror holds (rpm.Inventory).
func (m *RPMMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return rpm.Inventory(ctx, s, Ref(m))
}

// Handler serves the tree and its .repo file, whose URLs are built from external_url
// when configured.
func (m *RPMMirror) Handler(env *Env, prefix string) http.Handler {
	opts := []rpm.HandlerOption{rpm.WithBasePath(prefix)}
	if env.ExternalURL != "" {
		opts = append(opts, rpm.WithExternalURL(strings.TrimSuffix(env.ExternalURL, "/")+prefix))
	}
	return rpm.NewHandler(env.Store, Ref(m), opts...)
}

// Mounts is the path of the upstream root (http://dl.rockylinux.org/pub/rocky/9/:
// /pub/rocky/9).
func (m *RPMMirror) Mounts() []string { return urlPaths([]string{m.URL}) }
