package site

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// Mirror is one configured mirror of any kind. Each kind is a thin adapter over its
// library package: it fills in the runtime fields from an Env, resolves config-relative
// paths and summarises the library's stats.
type Mirror interface {
	// Kind is the config section ("apt", "oci", ...), also the first element of Ref.
	Kind() string
	Name() string
	// Validate reports bad settings (Parse adds the key and line).
	Validate() error
	// Endpoints lists the upstream URLs a sync contacts (sync --dry-run).
	Endpoints() []string
	// Sync fetches, verifies and publishes the mirror's ref.
	Sync(ctx context.Context, env *Env) (Result, error)
	// Handler serves the published mirror at its upstream's own paths. prefix is the path
	// it is mounted under with http.StripPrefix ("/galaxy/ansible"), "" when it answers
	// at the root of a host (for protocols that write links back to themselves).
	Handler(env *Env, prefix string) http.Handler
	// Inventory lists what the published mirror holds.
	Inventory(ctx context.Context, s store.Store) ([]store.Item, error)
}

// Ref is the store ref a mirror publishes: kind/name.
func Ref(m Mirror) string { return m.Kind() + "/" + m.Name() }

// Result is what one mirror's sync did.
type Result struct {
	store.SyncResult
	// Summary is one line for people: counts and sizes in the kind's own words.
	Summary string
}

// Env is what mirrors need at run time: the store, a fetch client, the operator's key and
// a logger. Build one with Config.Env.
type Env struct {
	Store store.Store
	// Fetch downloads into Store. Mirrors may derive clients from it, never modify it.
	Fetch *fetch.Client
	// Signer is the operator key that re-signed kinds sign with; nil when none is
	// configured (pristine kinds need none).
	Signer *pgp.Signer
	Logger *slog.Logger
	// ExternalURL is where clients reach the mirror, when configured.
	ExternalURL string

	path func(string) string // resolves config-relative paths
	// all lists every configured mirror (for the image providers of a mirror that
	// syncs alone); nil: the mirrors SyncAll is given.
	all func() []Mirror
	// requested are the images providers hand the oci mirror being synced.
	requested []oci.RequestedImage
	// preflight checks the plan of the mirror being synced before its downloads (set
	// by SyncAll for preflighted kinds); nil accepts every plan.
	preflight store.Preflight
}

// Env returns the run-time environment for cfg over an open store. The fetch client is
// made with fetch's defaults and the given logger; replace it per mirror (SyncOptions)
// for progress.
func (c *Config) Env(s store.Store, signer *pgp.Signer, log *slog.Logger) *Env {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Env{
		Store: s, Signer: signer, Logger: log, ExternalURL: c.ExternalURL,
		Fetch: NewFetchClient(s, nil, log),
		path:  c.Path,
		all:   c.Mirrors.All,
	}
}

// resolve turns a config-relative path into one the process can open.
func (e *Env) resolve(p string) string {
	if e.path == nil {
		return p
	}
	return e.path(p)
}

// Mirrors holds every kind's list, inlined at the top level of airgap.yaml.
type Mirrors struct {
	Apt           []*AptMirror           `yaml:"apt"`
	Simplestreams []*SimplestreamsMirror `yaml:"simplestreams"`
	OCI           []*OCIMirror           `yaml:"oci"`
	PyPI          []*PyPIMirror          `yaml:"pypi"`
	Galaxy        []*GalaxyMirror        `yaml:"galaxy"`
	Snaps         []*SnapsMirror         `yaml:"snaps"`
	Files         []*FilesMirror         `yaml:"files"`
	RPM           []*RPMMirror           `yaml:"rpm"`
	Helm          []*HelmMirror          `yaml:"helm"`
}

// configured is a mirror with where in the config it came from ("files.0").
type configured struct {
	Mirror
	key string
}

// configured lists every mirror in config order, kind by kind.
func (mc *Mirrors) configured() []configured {
	var out []configured
	add := func(kind string, n int, get func(int) Mirror) {
		for i := 0; i < n; i++ {
			out = append(out, configured{get(i), fmt.Sprintf("%s.%d", kind, i)})
		}
	}
	add("apt", len(mc.Apt), func(i int) Mirror { return mc.Apt[i] })
	add("simplestreams", len(mc.Simplestreams), func(i int) Mirror { return mc.Simplestreams[i] })
	add("oci", len(mc.OCI), func(i int) Mirror { return mc.OCI[i] })
	add("pypi", len(mc.PyPI), func(i int) Mirror { return mc.PyPI[i] })
	add("galaxy", len(mc.Galaxy), func(i int) Mirror { return mc.Galaxy[i] })
	add("snaps", len(mc.Snaps), func(i int) Mirror { return mc.Snaps[i] })
	add("files", len(mc.Files), func(i int) Mirror { return mc.Files[i] })
	add("rpm", len(mc.RPM), func(i int) Mirror { return mc.RPM[i] })
	add("helm", len(mc.Helm), func(i int) Mirror { return mc.Helm[i] })
	return out
}

// All lists every configured mirror in config order, kind by kind.
func (mc *Mirrors) All() []Mirror {
	cs := mc.configured()
	out := make([]Mirror, len(cs))
	for i, c := range cs {
		out[i] = c.Mirror
	}
	return out
}

// Select returns the mirrors named by names ("name" or "kind/name"); all when empty.
func (mc *Mirrors) Select(names []string) ([]Mirror, error) {
	all := mc.All()
	if len(names) == 0 {
		return all, nil
	}
	var out []Mirror
	for _, a := range names {
		var hit []Mirror
		for _, m := range all {
			if a == m.Name() || a == Ref(m) {
				hit = append(hit, m)
			}
		}
		switch len(hit) {
		case 0:
			return nil, fmt.Errorf("%w: no mirror named %q in the config", store.ErrConfig, a)
		case 1:
			out = append(out, hit[0])
		default:
			return nil, fmt.Errorf("%w: %q is ambiguous: say kind/name", store.ErrConfig, a)
		}
	}
	return out, nil
}

// Find returns the mirror with the given ref (kind/name), or nil.
func (mc *Mirrors) Find(ref string) Mirror {
	for _, m := range mc.All() {
		if Ref(m) == ref {
			return m
		}
	}
	return nil
}
