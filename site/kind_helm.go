package site

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/render"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/store"
)

// HelmMirror is a `helm:` entry: helm.Mirror (url, keyring, required, charts,
// dependencies, images_to, values, kube_version), served at /helm/<name>/.
type HelmMirror struct {
	helm.Mirror `yaml:",inline"`

	// Set by Config.validate from the other mirrors: where dependencies are found, and
	// the helm mirrors configured before this one (synced first).
	repos, ociRepos map[string]string
	before          []string
	registries      []oci.RegistryConfig // every oci mirror's registries: (an oci:// url's credentials, plain_http)
	values          []string             // Values, resolved against the config's directory
}

func (m *HelmMirror) Kind() string    { return "helm" }
func (m *HelmMirror) Name() string    { return m.Mirror.Name }
func (m *HelmMirror) Validate() error { return m.Mirror.Validate() }

// After lists the helm mirrors configured before this one: a chart's dependency in
// another repository must already be held by that repository's mirror, so helm mirrors
// sync in config order (list a repository's mirror before those that depend on it).
func (m *HelmMirror) After() []string { return m.before }

// runtime is the helm.Mirror a sync or a plan runs: paths resolved, the other mirrors
// wired in, the environment's store and fetch client.
func (m *HelmMirror) runtime(env *Env) *helm.Mirror {
	mm := m.Mirror
	mm.Keyring = env.resolve(mm.Keyring) // values: read by RequestedImages, not by helm.Mirror
	mm.Repositories, mm.OCIRepositories = m.repos, m.ociRepos
	if host, ok := ociHost(mm.URL); ok {
		// An oci:// url's registry as the oci mirrors know it: their credentials, and
		// plain http where one of them says so for this host.
		mm.Keychain = oci.Keychain(m.registries, nil)
		for _, r := range m.registries {
			if r.Host == host && r.PlainHTTP {
				mm.PlainHTTP = true
			}
		}
	}
	mm.Store, mm.Fetch, mm.Logger, mm.Preflight = env.Store, env.Fetch, env.Logger, env.preflight
	return &mm
}

// Plan reads the index (or, for an oci:// url, the tags and manifests) as Sync does
// (helm.Mirror.Plan): an index gives each archive's digest but no size, so a size is
// known only for what the store already holds.
func (m *HelmMirror) Plan(ctx context.Context, env *Env) (store.Plan, error) {
	return m.runtime(env).Plan(ctx)
}

func (m *HelmMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	mm := m.runtime(env)
	st, err := mm.Sync(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{SyncResult: st.SyncResult, Summary: summary(st.SyncResult,
		fmt.Sprintf("%d charts, %d versions (%d signed), %s", st.Charts, st.Versions, st.Signed, HumanBytes(st.Bytes)))}, nil
}

func (m *HelmMirror) preflights() {}

// Inventory is what the published mirror holds (helm.Inventory).
func (m *HelmMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	return helm.Inventory(ctx, s, Ref(m))
}

// Handler serves the chart repository; its index's URLs are relative, so any prefix
// works.
func (m *HelmMirror) Handler(env *Env, prefix string) http.Handler {
	return helm.NewHandler(env.Store, Ref(m))
}

// wireHelm tells each helm mirror where its charts' dependencies are: the other helm
// mirrors by upstream URL, the oci mirrors by the repositories they name (images_to is
// checked with every ImageProvider's).
func (mc *Mirrors) wireHelm() error {
	repos := map[string]string{}
	for _, h := range mc.Helm {
		repos[helm.NormalizeURL(h.URL)] = h.Mirror.Name
	}
	ociRepos := map[string]string{}
	var regs []oci.RegistryConfig
	for _, o := range mc.OCI {
		regs = append(regs, o.Registries...)
		var names []string
		for _, r := range o.Repositories {
			names = append(names, r.Repository)
		}
		for _, i := range o.Images {
			names = append(names, i)
		}
		for _, n := range names {
			if r, err := oci.ParseReference(n); err == nil {
				ociRepos[r.Registry+"/"+r.Repository] = o.Mirror.Name
			}
		}
	}
	var before []string
	for _, h := range mc.Helm {
		h.repos, h.ociRepos, h.registries, h.before = repos, ociRepos, regs, append([]string(nil), before...)
		before = append(before, Ref(h))
	}
	return nil
}

// ociHost is an oci:// url's registry host.
func ociHost(u string) (string, bool) {
	rest, ok := strings.CutPrefix(u, "oci://")
	host, _, _ := strings.Cut(rest, "/")
	return host, ok && host != ""
}

// StoreWarnings says when held chart versions have no verified provenance, and when a
// dependency another helm mirror must hold is no longer held there.
func (m *HelmMirror) StoreWarnings(ctx context.Context, s store.Store) ([]string, error) {
	hs, err := helm.Charts(ctx, s, Ref(m))
	if err != nil {
		return nil, err
	}
	var out []string
	unsigned := 0
	for _, h := range hs {
		if h.Signer == "" {
			unsigned++
		}
	}
	if unsigned > 0 {
		out = append(out, fmt.Sprintf("%d of %d chart versions have no verified provenance: only the index digest vouches for them", unsigned, len(hs)))
	}
	ws, err := helm.Unresolved(ctx, s, Ref(m))
	if err != nil {
		return nil, err
	}
	return append(out, ws...), nil
}

// Signature: the vendor's keys that signed the held versions' .prov files (helm verifies
// them itself with --verify).
func (m *HelmMirror) Signature(ctx context.Context, s store.Store, snap *store.Snapshot) (Signature, error) {
	hs, err := helm.Charts(ctx, s, Ref(m))
	if err != nil {
		return Signature{}, err
	}
	sig := Signature{Keyring: m.Keyring}
	for _, h := range hs {
		if h.Signer != "" && !slices.Contains(sig.Fingerprints, h.Signer) {
			sig.By = "upstream"
			sig.Fingerprints = append(sig.Fingerprints, h.Signer)
		}
	}
	return sig, nil
}

// Snippets: helm repo add, and a verified pull of a held chart.
func (m *HelmMirror) Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error) {
	text := fmt.Sprintf("helm repo add %s %s\n", m.Name(), strings.TrimSuffix(base, "/"))
	hs, err := helm.Charts(ctx, s, Ref(m))
	if err != nil {
		return nil, err
	}
	if len(hs) > 0 {
		verify := ""
		if hs[0].Signer != "" {
			verify = " --verify --keyring " + path.Base(m.Keyring) // as configured; helm v3 wants it binary
		}
		text += fmt.Sprintf("helm pull %s/%s --version %s%s\n", m.Name(), hs[0].Name, hs[0].Version, verify)
	}
	return []Snippet{{Title: "helm", Text: text}}, nil
}

// ImagesTo names the oci mirror the held charts' images join (images_to).
func (m *HelmMirror) ImagesTo() string { return m.Mirror.ImagesTo }

// RequestedImages renders every configured chart version the published mirror holds as
// `helm template` does (helm/render: values, kube_version, the chart's images: and
// exclude_images:) and lists the images it deploys, each requested by
// "helm/<name> <chart> <version>". A chart that does not render fails with its name and
// version: the oci mirror would otherwise miss images without a word.
func (m *HelmMirror) RequestedImages(ctx context.Context, s store.Store) ([]oci.RequestedImage, error) {
	if m.Mirror.ImagesTo == "" {
		return nil, nil
	}
	held, err := helm.Charts(ctx, s, Ref(m))
	if err != nil {
		return nil, err
	}
	values := make([][]byte, len(m.values))
	for i, v := range m.values {
		if values[i], err = os.ReadFile(v); err != nil {
			return nil, fmt.Errorf("%s: values: %w", Ref(m), err)
		}
	}
	specs := map[string]helm.ChartSpec{}
	for _, c := range m.Charts {
		specs[c.Name] = c
	}
	var out []oci.RequestedImage
	for _, h := range held {
		spec, ok := specs[h.Name]
		if !ok || !h.Selected {
			continue // a dependency: rendered as part of the chart that needs it
		}
		archive, err := store.ReadBlob(ctx, s, h.Digest, maxChartArchive)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", Ref(m), h.Name, h.Version, err)
		}
		imgs, err := render.Images(ctx, archive, render.Options{
			Values: values, KubeVersion: m.KubeVersion,
			Include: spec.Images, Exclude: spec.ExcludeImages,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Ref(m), err)
		}
		by := Ref(m) + " " + h.Name + " " + h.Version
		for _, img := range imgs {
			out = append(out, oci.RequestedImage{Ref: img.Ref, RequestedBy: by})
		}
	}
	return out, nil
}

// maxChartArchive bounds a chart archive read back for rendering (helm's own limit for
// a chart archive is far below it).
const maxChartArchive = 256 << 20
