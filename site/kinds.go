package site

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/galaxy"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/store"
)

// Each kind embeds its library's Mirror (inlined in YAML) and does three things: fill in
// the run-time fields from the Env, resolve config-relative paths, and summarise the
// stats.

// AptMirror is an `apt:` entry: apt.Mirror.
type AptMirror struct {
	apt.Mirror `yaml:",inline"`
}

func (m *AptMirror) Kind() string    { return "apt" }
func (m *AptMirror) Name() string    { return m.Mirror.Name }
func (m *AptMirror) Validate() error { return m.Mirror.Validate() }

func (m *AptMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	if env.Signer == nil && !m.Pristine {
		return Result{}, errors.New("signing_key is required: apt mirrors are re-signed with the operator key (unless pristine: true)")
	}
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d suites, %d packages, %d files", st.Suites, st.Packages, st.Files))}, nil
}

// runtime is the library mirror with env's run-time fields and resolved paths.
func (m *AptMirror) runtime(env *Env) apt.Mirror {
	mm := m.Mirror
	mm.Keyring = env.resolve(mm.Keyring)
	mm.Upstreams = slices.Clone(mm.Upstreams)
	for i, u := range mm.Upstreams {
		if u.Keyring != "" {
			mm.Upstreams[i].Keyring = env.resolve(u.Keyring)
		}
	}
	mm.Store, mm.Fetch, mm.Signer, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Signer, env.Logger, env.preflight
	return mm
}

func (m *AptMirror) preflights() {}

// Plan reads the indices as Sync does (apt.Mirror.Plan) and lists the pool files.
func (m *AptMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	mm := m.runtime(env)
	p, err := mm.Plan(ctx)
	if err != nil {
		return store.Plan{}, err
	}
	return p.Items(), nil
}

// Inventory is what the published mirror holds (apt.Inventory).
func (m *AptMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return apt.Inventory(ctx, s, Ref(m))
}

// Expires is the earliest Valid-Until of the published suites (the upstream's in
// pristine mode, which cannot be extended); zero when none carries one.
func (m *AptMirror) Expires(ctx context.Context, s store.Store) (time.Time, error) {
	suites, err := apt.Suites(ctx, s, Ref(m))
	if err != nil {
		return time.Time{}, err
	}
	var first time.Time
	for _, ps := range suites {
		if !ps.ValidUntil.IsZero() && (first.IsZero() || ps.ValidUntil.Before(first)) {
			first = ps.ValidUntil
		}
	}
	return first, nil
}

func (m *AptMirror) Handler(env *Env, prefix string) http.Handler {
	return apt.NewHandler(env.Store, Ref(m))
}

// Mounts are the paths of the archive roots (http://deb.debian.org/debian: /debian).
func (m *AptMirror) Mounts() []string { return urlPaths(m.Endpoints()) }

// SimplestreamsMirror is a `simplestreams:` entry: simplestreams.Mirror.
type SimplestreamsMirror struct {
	simplestreams.Mirror `yaml:",inline"`
}

func (m *SimplestreamsMirror) Kind() string { return "simplestreams" }
func (m *SimplestreamsMirror) Name() string { return m.Mirror.Name }
func (m *SimplestreamsMirror) Validate() error {
	if m.URL == "" {
		return errors.New("url is required")
	}
	return nil
}

func (m *SimplestreamsMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	if env.Signer == nil && !m.Pristine {
		return Result{}, errors.New("signing_key is required: simplestreams mirrors are re-signed with the operator key (unless pristine: true)")
	}
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	if !st.Changed {
		return Result{SyncResult: st.SyncResult, Summary: "unchanged upstream"}, nil
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d products, %d versions, %d items, %d pruned", st.Products, st.Versions, st.Items, st.Removed))}, nil
}

// runtime is the library mirror with env's run-time fields and resolved paths.
func (m *SimplestreamsMirror) runtime(env *Env) simplestreams.Mirror {
	mm := m.Mirror
	mm.Keyring = env.resolve(mm.Keyring)
	mm.Store, mm.Fetch, mm.Signer, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Signer, env.Logger, env.preflight
	return mm
}

func (m *SimplestreamsMirror) preflights() {}

// Plan reads the documents as Sync does (simplestreams.Mirror.Plan) and lists the items
// with the sizes and sha256 they give.
func (m *SimplestreamsMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	mm := m.runtime(env)
	return mm.Plan(ctx)
}

func (m *SimplestreamsMirror) Handler(env *Env, prefix string) http.Handler {
	return simplestreams.NewHandler(env.Store, Ref(m))
}

// Mounts is the path of the mirror root (http://images.maas.io/ephemeral-v3/stable/:
// /ephemeral-v3/stable).
func (m *SimplestreamsMirror) Mounts() []string { return urlPaths(m.Endpoints()) }

// OCIMirror is an `oci:` entry: oci.Mirror.
type OCIMirror struct {
	oci.Mirror `yaml:",inline"`
	// TrivyDBGrace is how long past a held Trivy database's NextUpdate status lets pass
	// before it warns (default DefaultTrivyDBGrace). Past NextUpdate trivy pulls the
	// database again at scans (hourly at most; the java DB daily) and finds the same one
	// until a newer one is carried across.
	TrivyDBGrace time.Duration `yaml:"trivy_db_grace"`

	fed bool // an image provider names it (images_to): it may have no selection of its own
}

func (m *OCIMirror) Kind() string { return "oci" }
func (m *OCIMirror) Name() string { return m.Mirror.Name }
func (m *OCIMirror) Validate() error {
	if m.TrivyDBGrace < 0 {
		return errors.New("trivy_db_grace must not be negative")
	}
	if !m.fed && len(m.Images)+len(m.Repositories)+len(m.ImageLists)+len(m.KubernetesManifests) == 0 {
		return errors.New("nothing to mirror: give images, repositories, image_lists or kubernetes_manifests (or name it in a helm mirror's images_to)")
	}
	return nil
}

func (m *OCIMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d images (%d unchanged), %d manifests, %d blobs", st.Images, st.Unchanged, st.Manifests, st.Blobs))}, nil
}

func (m *OCIMirror) preflights() {}

// runtime is the library mirror with env's run-time fields and resolved paths.
// oci.Mirror holds state for its own use (locks): a fresh one, never a copy.
func (m *OCIMirror) runtime(env *Env) *oci.Mirror {
	mm := &oci.Mirror{
		Name: m.Mirror.Name, Images: m.Images, Repositories: m.Repositories, Platforms: m.Platforms,
		Referrers: m.Referrers, Registries: m.Registries, Concurrency: m.Concurrency, MaxManifestSize: m.MaxManifestSize,
		MaxDescriptors: m.MaxDescriptors, Requested: env.requested,
	}
	for _, p := range m.ImageLists {
		mm.ImageLists = append(mm.ImageLists, env.resolve(p))
	}
	for _, p := range m.KubernetesManifests {
		mm.KubernetesManifests = append(mm.KubernetesManifests, env.resolve(p))
	}
	mm.Store, mm.Fetch, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Logger, env.preflight
	return mm
}

// Plan reads every manifest as Sync does (oci.Mirror.Plan) and lists the manifests and
// blobs with the digests and sizes their descriptors give.
func (m *OCIMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	mm := m.runtime(env)
	return mm.Plan(ctx)
}

func (m *OCIMirror) Handler(env *Env, prefix string) http.Handler {
	return oci.NewHandler(env.Store, Ref(m))
}

// PyPIMirror is a `pypi:` entry: pypi.Mirror.
type PyPIMirror struct {
	pypi.Mirror `yaml:",inline"`
}

func (m *PyPIMirror) Kind() string { return "pypi" }
func (m *PyPIMirror) Name() string { return m.Mirror.Name }
func (m *PyPIMirror) Validate() error {
	if len(m.Requirements) == 0 && m.RequirementsFile == "" {
		return errors.New("requirements or requirements_file is required")
	}
	return nil
}

func (m *PyPIMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d projects, %d versions, %d files", st.Projects, st.Versions, st.Files))}, nil
}

// runtime is the library mirror with env's run-time fields and resolved paths.
func (m *PyPIMirror) runtime(env *Env) pypi.Mirror {
	mm := m.Mirror
	mm.RequirementsFile = env.resolve(mm.RequirementsFile)
	mm.Store, mm.Fetch, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Logger, env.preflight
	return mm
}

func (m *PyPIMirror) preflights() {}

// Plan resolves the requirements as Sync does (pypi.Mirror.Plan) and lists the
// distributions with the sha256 and size (where given) the index gives.
func (m *PyPIMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	mm := m.runtime(env)
	return mm.Plan(ctx)
}

func (m *PyPIMirror) Handler(env *Env, prefix string) http.Handler {
	return pypi.NewHandler(env.Store, Ref(m))
}

// GalaxyMirror is a `galaxy:` entry: galaxy.Mirror.
type GalaxyMirror struct {
	galaxy.Mirror `yaml:",inline"`
}

func (m *GalaxyMirror) Kind() string { return "galaxy" }
func (m *GalaxyMirror) Name() string { return m.Mirror.Name }
func (m *GalaxyMirror) Validate() error {
	if len(m.Collections)+len(m.Roles)+len(m.Requirements) == 0 {
		return errors.New("nothing to mirror: give collections, roles or requirements")
	}
	return nil
}

func (m *GalaxyMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d collections, %d versions, %d roles", st.Collections, st.Versions, st.Roles))}, nil
}

// runtime is the library mirror with env's run-time fields and resolved paths.
func (m *GalaxyMirror) runtime(env *Env) galaxy.Mirror {
	mm := m.Mirror
	mm.Requirements = nil
	for _, p := range m.Requirements {
		mm.Requirements = append(mm.Requirements, env.resolve(p))
	}
	mm.Store, mm.Fetch, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Logger, env.preflight
	return mm
}

func (m *GalaxyMirror) preflights() {}

// Plan resolves the collections (galaxy.Mirror.Plan).
func (m *GalaxyMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	mm := m.runtime(env)
	return mm.Plan(ctx)
}

// Handler writes absolute download URLs, so it is told where it is mounted: under
// external_url when configured, else the address the request arrived on (never its Host
// header, which any client can forge).
func (m *GalaxyMirror) Handler(env *Env, prefix string) http.Handler {
	opts := []galaxy.HandlerOption{galaxy.WithBasePath(prefix)}
	if env.ExternalURL != "" {
		opts = append(opts, galaxy.WithExternalURL(strings.TrimSuffix(env.ExternalURL, "/")+prefix))
	}
	return galaxy.NewHandler(env.Store, Ref(m), opts...)
}

// SnapsMirror is a `snaps:` entry: snapproxy.Mirror, whose tree serve answers as a Snap
// Store (see snapproxy.NewHandler) below /snaps/<name>/, and, with connect:, inside
// CONNECT tunnels to the Snap Store's own hosts.
type SnapsMirror struct {
	snapproxy.Mirror `yaml:",inline"`
	// Connect makes serve answer CONNECT for api.snapcraft.io and *.snapcraftcontent.com
	// (`snap set system proxy.https=http://mirror:PORT` on a device), terminating the
	// tunnel's TLS with a certificate of this CA for the host asked for, and serving this
	// mirror's store API inside. Devices trust the CA with
	// `snap set system store-certs.airgap="$(cat ca.pem)"`.
	Connect *SnapsConnect `yaml:"connect"`
}

// SnapsConnect names the local CA (`airgap tls ca`) that signs the certificates of the
// tunnels.
type SnapsConnect struct {
	CACert string `yaml:"ca_cert"`
	CAKey  string `yaml:"ca_key"`
}

func (m *SnapsMirror) Kind() string { return "snaps" }
func (m *SnapsMirror) Name() string { return m.Mirror.Name }
func (m *SnapsMirror) Validate() error {
	if len(m.Snaps) == 0 {
		return errors.New("snaps: at least one snap is required")
	}
	if m.TrustedKeys == "" && !m.InsecureSkipSignature {
		return errors.New("trusted_keys is required: the root account-key the store's assertions chain to")
	}
	if m.Connect != nil && (m.Connect.CACert == "" || m.Connect.CAKey == "") {
		return errors.New("connect needs ca_cert and ca_key: the local CA that signs the tunnels' certificates")
	}
	return nil
}

func (m *SnapsMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d snaps (%d dependencies), %d assertions", st.Snaps, st.Dependencies, st.Assertions))}, nil
}

// runtime is the library mirror with env's run-time fields and resolved paths.
func (m *SnapsMirror) runtime(env *Env) snapproxy.Mirror {
	mm := m.Mirror
	mm.TrustedKeys = env.resolve(mm.TrustedKeys)
	mm.StoreAssertion = env.resolve(mm.StoreAssertion)
	mm.Store, mm.Fetch, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Logger, env.preflight
	return mm
}

func (m *SnapsMirror) preflights() {}

// Plan resolves the snaps (snapproxy.Mirror.Plan).
func (m *SnapsMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	mm := m.runtime(env)
	return mm.Plan(ctx)
}

// DeviceSetup says how devices reach this mirror's store API when serve answers at base
// (scheme://host:port; external_url, when set, instead): as a registered proxy store
// when the published tree holds a store assertion, through the mirror as HTTPS proxy
// with connect:.
func (m *SnapsMirror) DeviceSetup(ctx context.Context, s store.Store, env *Env, base string) (snapproxy.DeviceSetup, error) {
	if env.ExternalURL != "" {
		base = env.ExternalURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return snapproxy.DeviceSetup{}, fmt.Errorf("snaps/%s: %q is not a URL devices can reach", m.Name(), base)
	}
	d := snapproxy.DeviceSetup{StoreURL: strings.TrimSuffix(base, "/") + "/" + Ref(m)}
	if m.Connect != nil {
		d.ProxyURL = u.Scheme + "://" + u.Host
	}
	out, err := snapproxy.ReadOutput(ctx, s, Ref(m))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return d, err
	default:
		d.StoreID = out.Manifest.Store
	}
	return d, nil
}

// Warnings: a snaps mirror without connect: or store_assertion can only be side-loaded.
func (m *SnapsMirror) Warnings() []string {
	if m.Connect == nil && m.StoreAssertion == "" {
		return []string{"snapd cannot refresh from this mirror (no connect: and no store_assertion): devices side-load install.sh"}
	}
	return nil
}

// Handler serves the files and the store API. Below /snaps/<name>/ the API's download
// URLs are made under external_url when configured, else from the address the request
// arrived on; at the root of a transparent host (hosts: api.snapcraft.io: snaps/<name>)
// from that host, which route has matched against the configured names.
func (m *SnapsMirror) Handler(env *Env, prefix string) http.Handler {
	opts := []snapproxy.HandlerOption{snapproxy.WithBasePath(prefix)}
	switch {
	case prefix == "":
		opts = append(opts, snapproxy.WithRequestHost())
	case env.ExternalURL != "":
		opts = append(opts, snapproxy.WithExternalURL(strings.TrimSuffix(env.ExternalURL, "/")+prefix))
	}
	return snapproxy.NewHandler(env.Store, Ref(m), opts...)
}

// summary is what most kinds print: their counts, then what was fetched.
func summary(r store.SyncResult, counts string) string {
	s := fmt.Sprintf("%s (%d fetched, %s; %d reused)", counts, r.Downloaded, HumanBytes(r.DownloadedBytes), r.Reused)
	if !r.Changed {
		s += ", unchanged"
	}
	return s
}

// urlPaths returns the paths of URLs without their trailing slash ("" for a root).
func urlPaths(urls []string) []string {
	var out []string
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if p := strings.TrimSuffix(u.Path, "/"); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// HumanBytes formats n as B, KiB, MiB, GiB or TiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit && exp < 3; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

// Inventory is what the published mirror holds (pypi.Inventory).
func (m *PyPIMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return pypi.Inventory(ctx, s, Ref(m))
}

// Inventory is what the published mirror holds (galaxy.Inventory).
func (m *GalaxyMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return galaxy.Inventory(ctx, s, Ref(m))
}

// Inventory is what the published mirror holds (simplestreams.Inventory).
func (m *SimplestreamsMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return simplestreams.Inventory(ctx, s, Ref(m))
}

// Inventory is what the published mirror holds (oci.Inventory).
func (m *OCIMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return oci.Inventory(ctx, s, Ref(m))
}

// Inventory is what the published mirror holds (snapproxy.Inventory).
func (m *SnapsMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return snapproxy.Inventory(ctx, s, Ref(m))
}
