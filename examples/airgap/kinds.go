package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/galaxy"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/snapproxy"
)

// Each adapter embeds its library's Mirror (inlined in YAML) and does three things: fill
// in the runtime fields, resolve config-relative paths, and summarise the stats.

type aptMirror struct {
	apt.Mirror `yaml:",inline"`
}

func (m *aptMirror) Kind() string    { return "apt" }
func (m *aptMirror) Name() string    { return m.Mirror.Name }
func (m *aptMirror) Validate() error { return m.Mirror.Validate() }

func (m *aptMirror) Sync(ctx context.Context, rt *runtime) (string, error) {
	if rt.signer == nil {
		return "", errors.New("signing_key is required: apt mirrors are re-signed with the operator key")
	}
	mm := m.Mirror
	mm.Keyring = rt.path(mm.Keyring)
	mm.Upstreams = slices.Clone(mm.Upstreams)
	for i, u := range mm.Upstreams {
		if u.Keyring != "" {
			mm.Upstreams[i].Keyring = rt.path(u.Keyring)
		}
	}
	mm.Store, mm.Fetch, mm.Signer, mm.Logger = rt.store, rt.fetch, rt.signer, rt.log
	st, err := mm.Sync(ctx)
	if err != nil {
		return "", err
	}
	if st.NotModified {
		return "unchanged upstream (304)", nil
	}
	return fmt.Sprintf("%d suites, %d packages, %d files (%d fetched, %s; %d reused)", st.Suites, st.Packages, st.Files, st.Downloaded, humanBytes(st.Bytes), st.Reused), nil
}

func (m *aptMirror) Handler(rt *runtime, prefix string) http.Handler {
	return apt.NewHandler(rt.store, ref(m))
}

type simplestreamsMirror struct {
	simplestreams.Mirror `yaml:",inline"`
}

func (m *simplestreamsMirror) Kind() string { return "simplestreams" }
func (m *simplestreamsMirror) Name() string { return m.Mirror.Name }
func (m *simplestreamsMirror) Validate() error {
	if m.URL == "" {
		return errors.New("url is required")
	}
	return nil
}

func (m *simplestreamsMirror) Sync(ctx context.Context, rt *runtime) (string, error) {
	if rt.signer == nil && !m.Pristine {
		return "", errors.New("signing_key is required: simplestreams mirrors are re-signed with the operator key (unless pristine: true)")
	}
	mm := m.Mirror
	mm.Keyring = rt.path(mm.Keyring)
	mm.Store, mm.Fetch, mm.Signer, mm.Logger = rt.store, rt.fetch, rt.signer, rt.log
	st, err := mm.Sync(ctx)
	if err != nil {
		return "", err
	}
	if st.UpToDate {
		return "unchanged upstream", nil
	}
	return fmt.Sprintf("%d products, %d versions, %d items (%d fetched, %s; %d reused; %d pruned)", st.Products, st.Versions, st.Items, st.Fetched, humanBytes(st.FetchedBytes), st.Reused, st.Removed), nil
}

func (m *simplestreamsMirror) Handler(rt *runtime, prefix string) http.Handler {
	return simplestreams.NewHandler(rt.store, ref(m))
}

type ociMirror struct {
	oci.Mirror `yaml:",inline"`
}

func (m *ociMirror) Kind() string { return "oci" }
func (m *ociMirror) Name() string { return m.Mirror.Name }
func (m *ociMirror) Validate() error {
	if len(m.Images)+len(m.Repositories)+len(m.ImageLists)+len(m.KubernetesManifests) == 0 {
		return errors.New("nothing to mirror: give images, repositories, image_lists or kubernetes_manifests")
	}
	return nil
}

func (m *ociMirror) Sync(ctx context.Context, rt *runtime) (string, error) {
	mm := oci.Mirror{
		Name: m.Mirror.Name, Images: m.Images, Repositories: m.Repositories, Platforms: m.Platforms,
		Referrers: m.Referrers, Registries: m.Registries, Concurrency: m.Concurrency, MaxManifestSize: m.MaxManifestSize,
		Store: rt.store, Fetch: rt.fetch, Logger: rt.log, // fetch gets the registry's authenticating HTTP client
	}
	for _, p := range m.ImageLists {
		mm.ImageLists = append(mm.ImageLists, rt.path(p))
	}
	for _, p := range m.KubernetesManifests {
		mm.KubernetesManifests = append(mm.KubernetesManifests, rt.path(p))
	}
	st, err := mm.Sync(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d images (%d unchanged), %d manifests, %d blobs (%d fetched, %s)", st.Images, st.Unchanged, st.Manifests, st.Blobs, st.Downloaded, humanBytes(st.DownloadedBytes)), nil
}

func (m *ociMirror) Handler(rt *runtime, prefix string) http.Handler {
	return oci.NewHandler(rt.store, ref(m))
}

type pypiMirror struct {
	pypi.Mirror `yaml:",inline"`
}

func (m *pypiMirror) Kind() string { return "pypi" }
func (m *pypiMirror) Name() string { return m.Mirror.Name }
func (m *pypiMirror) Validate() error {
	if len(m.Requirements) == 0 && m.RequirementsFile == "" {
		return errors.New("requirements or requirements_file is required")
	}
	return nil
}

func (m *pypiMirror) Sync(ctx context.Context, rt *runtime) (string, error) {
	mm := m.Mirror
	mm.RequirementsFile = rt.path(mm.RequirementsFile)
	mm.Store, mm.Fetch, mm.Logger = rt.store, rt.fetch, rt.log
	st, err := mm.Sync(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d projects, %d versions, %d files (%d fetched, %s; %d reused)", st.Projects, st.Versions, st.Files, st.Downloaded, humanBytes(st.DownloadedBytes), st.Reused), nil
}

func (m *pypiMirror) Handler(rt *runtime, prefix string) http.Handler {
	return pypi.NewHandler(rt.store, ref(m))
}

type galaxyMirror struct {
	galaxy.Mirror `yaml:",inline"`
}

func (m *galaxyMirror) Kind() string { return "galaxy" }
func (m *galaxyMirror) Name() string { return m.Mirror.Name }
func (m *galaxyMirror) Validate() error {
	if len(m.Collections)+len(m.Roles)+len(m.Requirements) == 0 {
		return errors.New("nothing to mirror: give collections, roles or requirements")
	}
	return nil
}

func (m *galaxyMirror) Sync(ctx context.Context, rt *runtime) (string, error) {
	mm := m.Mirror
	mm.Requirements = nil
	for _, p := range m.Requirements {
		mm.Requirements = append(mm.Requirements, rt.path(p))
	}
	mm.Store, mm.Fetch, mm.Logger = rt.store, rt.fetch, rt.log
	st, err := mm.Sync(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d collections, %d versions, %d roles (%d fetched, %s; %d reused)", st.Collections, st.Versions, st.Roles, st.Downloaded, humanBytes(st.DownloadedBytes), st.Reused), nil
}

// Handler writes absolute download URLs, so it is told where it is mounted: under
// external_url when configured, else the request's Host plus the prefix.
func (m *galaxyMirror) Handler(rt *runtime, prefix string) http.Handler {
	opts := []galaxy.HandlerOption{galaxy.WithBasePath(prefix)}
	if rt.externalURL != "" {
		opts = append(opts, galaxy.WithExternalURL(strings.TrimSuffix(rt.externalURL, "/")+prefix))
	}
	return galaxy.NewHandler(rt.store, ref(m), opts...)
}

type snapsMirror struct {
	snapproxy.Mirror `yaml:",inline"`
}

func (m *snapsMirror) Kind() string { return "snaps" }
func (m *snapsMirror) Name() string { return m.Mirror.Name }
func (m *snapsMirror) Validate() error {
	if len(m.Snaps) == 0 {
		return errors.New("snaps: at least one snap is required")
	}
	if m.TrustedKeys == "" && !m.InsecureSkipSignature {
		return errors.New("trusted_keys is required: the root account-key the store's assertions chain to")
	}
	return nil
}

func (m *snapsMirror) Sync(ctx context.Context, rt *runtime) (string, error) {
	mm := m.Mirror
	mm.TrustedKeys = rt.path(mm.TrustedKeys)
	mm.Store, mm.Fetch, mm.Logger = rt.store, rt.fetch, rt.log
	st, err := mm.Sync(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d snaps (%d dependencies), %d assertions (%d fetched, %s; %d reused)", st.Snaps, st.Dependencies, st.Assertions, st.Downloaded, humanBytes(st.DownloadedBytes), st.Reused), nil
}

func (m *snapsMirror) Handler(rt *runtime, prefix string) http.Handler {
	return snapproxy.NewHandler(rt.store, ref(m))
}
