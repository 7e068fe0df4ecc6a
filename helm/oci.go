package helm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/airgapkit/airgap/internal/charttag"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/retry"
	"github.com/airgapkit/airgap/store/pgp"
)

// The media types of a chart pushed to an OCI registry (helm push, helm v3.8+).
const (
	MediaTypeChartConfig = "application/vnd.cncf.helm.config.v1+json"
	MediaTypeChart       = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	MediaTypeProvenance  = "application/vnd.cncf.helm.chart.provenance.v1.prov"
	// mediaTypeLegacyChart is the chart layer of helm before v3.7; helm still pulls it.
	mediaTypeLegacyChart = "application/tar+gzip"
	annCreated           = "org.opencontainers.image.created"
)

// ociRepo is an oci:// chart repository: charts are the repositories below it, each
// version a tag.
type ociRepo struct {
	base  string // "host/path", as in the URL
	opts  []name.Option
	plain bool
	kc    authn.Keychain
	fc    *fetch.Client

	mu    sync.Mutex
	conns map[string]*ociConn // by chart
}

// ociConn is one chart repository's authorised client (pull scope): the same transport
// lists tags, reads manifests (go-containerregistry) and downloads blobs (store/fetch:
// its retries, resumption and dedup by digest).
type ociConn struct {
	repo name.Repository
	tr   http.RoundTripper
	fc   *fetch.Client
}

func (m *Mirror) isOCI() bool { return strings.HasPrefix(m.URL, "oci://") }

func (m *Mirror) ociRepo(fc *fetch.Client) *ociRepo {
	r := &ociRepo{base: strings.Trim(strings.TrimPrefix(m.URL, "oci://"), "/"), plain: m.PlainHTTP, kc: m.Keychain, fc: fc, conns: map[string]*ociConn{}}
	if m.PlainHTTP {
		r.opts = append(r.opts, name.Insecure)
	}
	if r.kc == nil {
		r.kc = authn.DefaultKeychain
	}
	return r
}

// conn authorises a client for chart's repository: credentials from the Keychain
// (docker config.json and credential helpers by default), sent to the registry's
// origin only (go-containerregistry's rule), https unless PlainHTTP.
func (r *ociRepo) conn(ctx context.Context, chart string) (*ociConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.conns[chart]; ok {
		return c, nil
	}
	repo, err := name.NewRepository(r.base+"/"+chart, r.opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: oci://%s/%s: %v", store.ErrConfig, r.base, chart, err)
	}
	auth, err := authn.Resolve(ctx, r.kc, repo)
	if err != nil {
		return nil, fmt.Errorf("helm: credentials for %s: %w", repo.RegistryStr(), err)
	}
	inner := r.fc.HTTPClient().Transport
	if !r.plain {
		inner = httpsOnly{inner, repo.RegistryStr()}
	}
	var tr http.RoundTripper
	err = r.api(ctx, func(ctx context.Context) (err error) { // the ping, a token
		tr, err = transport.NewWithContext(ctx, repo.Registry, auth, inner, []string{repo.Scope(transport.PullScope)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("helm: oci://%s: %w", repo, err)
	}
	c := &ociConn{repo: repo, tr: tr, fc: r.fc.WithHTTP(&http.Client{Transport: tr})}
	r.conns[chart] = c
	return c, nil
}

func (c *ociConn) remote(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(c.tr)}
}

// api runs one registry API call (a tag listing, a manifest) under the fetch client's
// retry policy, as its downloads are: network failures, 429 and 5xx answers again.
func (r *ociRepo) api(ctx context.Context, call func(ctx context.Context) error) error {
	return r.fc.RetryPolicy().Do(ctx, func(ctx context.Context) error {
		err := call(ctx)
		var te *transport.Error
		if errors.As(err, &te) {
			return retry.Mark(err, retry.ClassifyStatus(te.StatusCode))
		}
		return err
	})
}

// httpsOnly sends a registry's requests over https: go-containerregistry picks http by
// itself for loopback and private addresses, and plain http is the operator's choice
// (PlainHTTP), never inferred from an address.
type httpsOnly struct {
	inner http.RoundTripper
	host  string
}

func (t httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && req.URL.Host == t.host {
		req = req.Clone(req.Context())
		req.URL.Scheme = "https"
	}
	return t.inner.RoundTrip(req)
}

func (r *ociRepo) versions(ctx context.Context, chart string) ([]*Version, error) {
	c, err := r.conn(ctx, chart)
	if err != nil {
		return nil, err
	}
	repo := c.repo
	var tags []string
	err = r.api(ctx, func(ctx context.Context) (err error) {
		tags, err = remote.List(repo, c.remote(ctx)...)
		return err
	})
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w: oci://%s is not in the registry: %v", ErrNoChart, repo, err)
		}
		return nil, fmt.Errorf("helm: tags of oci://%s: %w", repo, err)
	}
	type tv struct {
		v  *Version
		sv *semver.Version
	}
	var out []tv
	for _, t := range tags {
		ver := charttag.Version(t)
		sv, err := semver.NewVersion(ver)
		if err != nil {
			continue // "latest", cosign's sha256-<hex>.sig: not chart versions
		}
		out = append(out, tv{&Version{Name: chart, Version: ver, URLs: []string{"oci://" + repo.String() + ":" + t}, fields: map[string]any{}}, sv})
	}
	slices.SortStableFunc(out, func(a, b tv) int { return b.sv.Compare(a.sv) })
	vs := make([]*Version, len(out))
	for i, x := range out {
		vs[i] = x.v
	}
	return vs, nil
}

// ociManifest is what a chart's manifest says.
type ociManifest struct {
	MediaType   string            `json:"mediaType"`
	Config      v1.Descriptor     `json:"config"`
	Layers      []v1.Descriptor   `json:"layers"`
	Annotations map[string]string `json:"annotations"`
}

// manifest reads a version's manifest (from its tag).
func (ss *session) manifest(ctx context.Context, v *Version) (*ociConn, *remote.Descriptor, *ociManifest, error) {
	c, err := ss.reg.conn(ctx, v.Name)
	if err != nil {
		return nil, nil, nil, err
	}
	ref, err := name.ParseReference(strings.TrimPrefix(v.URLs[0], "oci://"), ss.reg.opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %s: %v", ErrMalformed, v.URLs[0], err)
	}
	ss.mu.Lock()
	got, ok := ss.manifests[v.URLs[0]]
	ss.mu.Unlock()
	if ok { // read by the sync's preflight plan already
		return c, got.desc, got.man, nil
	}
	var desc *remote.Descriptor
	err = ss.reg.api(ctx, func(ctx context.Context) (err error) {
		desc, err = remote.Get(ref, c.remote(ctx)...)
		return err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("manifest: %w", err)
	}
	var man ociManifest
	if err := json.Unmarshal(desc.Manifest, &man); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	ss.mu.Lock()
	ss.manifests[v.URLs[0]] = readManifest{desc, &man}
	ss.mu.Unlock()
	return c, desc, &man, nil
}

// readManifest is a tag's manifest as a session read it.
type readManifest struct {
	desc *remote.Descriptor
	man  *ociManifest
}

// fetchOCI fetches a version from its tag: the manifest, whose config must be a helm
// chart's, the chart layer and, when present, the provenance layer, each verified
// against its descriptor on the way into the store. The config (the chart's Chart.yaml
// as JSON, what helm writes into an index entry) becomes the served index's entry.
func (ss *session) fetchOCI(ctx context.Context, v *Version) (*Held, error) {
	c, desc, man, err := ss.manifest(ctx, v)
	if err != nil {
		return nil, err
	}
	if man.Config.MediaType != MediaTypeChartConfig {
		return nil, fmt.Errorf("%w: %s is not a helm chart (config %q, want %s)", ErrMalformed, v.URLs[0], man.Config.MediaType, MediaTypeChartConfig)
	}
	var chart, prov *v1.Descriptor
	for i, l := range man.Layers {
		switch l.MediaType {
		case MediaTypeChart, mediaTypeLegacyChart:
			if chart != nil {
				return nil, fmt.Errorf("%w: manifest has more than one chart layer", ErrMalformed)
			}
			chart = &man.Layers[i]
		case MediaTypeProvenance:
			if prov != nil {
				return nil, fmt.Errorf("%w: manifest has more than one provenance layer", ErrMalformed)
			}
			prov = &man.Layers[i]
		}
	}
	if chart == nil {
		return nil, fmt.Errorf("%w: manifest has no chart layer (%s)", ErrMalformed, MediaTypeChart)
	}
	cfg, err := ss.ociBlob(ctx, c, man.Config, maxMetaSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	meta, err := store.ReadBlob(ctx, ss.m.Store, cfg.Digest, maxMetaSize)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	if err := json.Unmarshal(meta, &fields); err != nil {
		return nil, fmt.Errorf("%w: chart config: %v", ErrMalformed, err)
	}
	if c := man.Annotations[annCreated]; c != "" {
		fields["created"] = c
	}
	v.fields = fields
	tgz, err := ss.ociBlob(ctx, c, *chart, MaxChartSize)
	if err != nil {
		return nil, fmt.Errorf("chart layer: %w", err)
	}
	h := &Held{Name: v.Name, Version: v.Version, File: chartFile(v), Digest: tgz.Digest, Size: tgz.Size, Upstream: v.URLs[0] + "@" + desc.Digest.String()}
	if prov == nil {
		if ss.m.Required {
			return nil, fmt.Errorf("%w: the manifest has no provenance layer (required: true)", ErrUnsigned)
		}
		ss.log.Warn("helm: chart version has no provenance layer: only the manifest digest vouches for it", "chart", v.Name, "version", v.Version)
		return h, nil
	}
	pf, err := ss.ociBlob(ctx, c, *prov, pgp.MaxSignatureSize+maxMetaSize)
	if err != nil {
		return nil, fmt.Errorf("provenance layer: %w", err)
	}
	b, err := store.ReadBlob(ctx, ss.m.Store, pf.Digest, pf.Size)
	if err != nil {
		return nil, err
	}
	return h, ss.checkProv(v, h, b, store.File{Digest: pf.Digest, Size: pf.Size, MediaType: mediaProv}, "")
}

// ociBlob stores one blob a manifest names, verified against its descriptor (digest and
// size, at most limit bytes); one already stored is not fetched again.
func (ss *session) ociBlob(ctx context.Context, c *ociConn, d v1.Descriptor, limit int64) (store.BlobInfo, error) {
	if d.Digest.Algorithm != "sha256" {
		return store.BlobInfo{}, fmt.Errorf("%w: blob digest %s is not sha256", ErrMalformed, d.Digest)
	}
	if d.Size <= 0 || d.Size > limit {
		return store.BlobInfo{}, fmt.Errorf("%w: blob %s of %d bytes (limit %d)", store.ErrTooLarge, d.Digest, d.Size, limit)
	}
	u := url.URL{Scheme: c.repo.Scheme(), Host: c.repo.RegistryStr(), Path: "/v2/" + c.repo.RepositoryStr() + "/blobs/" + d.Digest.String()}
	want := store.Digest(d.Digest.String())
	res, err := c.fc.Fetch(ctx, fetch.Request{URL: u.String(), Expect: store.ExpectDigest(want, d.Size), MaxSize: limit})
	if err != nil {
		if errors.Is(err, store.ErrDigestMismatch) {
			err = fmt.Errorf("%w: %w", ErrDigest, err)
		}
		return store.BlobInfo{}, err
	}
	ss.counts.Count(res)
	return res.Blob, nil
}
