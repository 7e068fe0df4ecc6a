package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// mirror is one configured mirror of any kind, as the commands see it. Each kind's adapter
// is a thin wrapper over its library package.
type mirror interface {
	Kind() string
	Name() string
	// Validate reports bad settings (the caller adds the key and line).
	Validate() error
	// Endpoints lists the upstream URLs a sync contacts (sync --dry-run).
	Endpoints() []string
	// Sync fetches, verifies and publishes the mirror's ref; it returns a one-line summary.
	Sync(ctx context.Context, rt *runtime) (string, error)
	// Handler serves the published mirror at its upstream's own paths. prefix is the path
	// it is mounted under with http.StripPrefix ("/galaxy/ansible"), "" when it answers
	// at the root for a Host (for protocols that write links back to themselves).
	Handler(rt *runtime, prefix string) http.Handler
}

// ref is the store ref a mirror publishes.
func ref(m mirror) string { return m.Kind() + "/" + m.Name() }

// runtime is what adapters need from the command line.
type runtime struct {
	store       store.Store
	fetch       *fetch.Client
	signer      *pgp.Signer // nil when no signing key is configured
	log         *slog.Logger
	externalURL string              // what clients are told, when configured
	path        func(string) string // resolves config-relative paths
}

// mirrorConfigs holds every kind's list, inlined at the top level of airgap.yaml.
type mirrorConfigs struct {
	Apt           []*aptMirror           `yaml:"apt"`
	Simplestreams []*simplestreamsMirror `yaml:"simplestreams"`
	OCI           []*ociMirror           `yaml:"oci"`
	PyPI          []*pypiMirror          `yaml:"pypi"`
	Galaxy        []*galaxyMirror        `yaml:"galaxy"`
	Snaps         []*snapsMirror         `yaml:"snaps"`
	Files         []*filesMirror         `yaml:"files"`
}

type configured struct {
	mirror
	key string // "files.0": where in the config it came from
}

// all lists every configured mirror in config order, kind by kind.
func (mc *mirrorConfigs) all() []configured {
	var out []configured
	add := func(kind string, n int, get func(int) mirror) {
		for i := 0; i < n; i++ {
			out = append(out, configured{get(i), fmt.Sprintf("%s.%d", kind, i)})
		}
	}
	add("apt", len(mc.Apt), func(i int) mirror { return mc.Apt[i] })
	add("simplestreams", len(mc.Simplestreams), func(i int) mirror { return mc.Simplestreams[i] })
	add("oci", len(mc.OCI), func(i int) mirror { return mc.OCI[i] })
	add("pypi", len(mc.PyPI), func(i int) mirror { return mc.PyPI[i] })
	add("galaxy", len(mc.Galaxy), func(i int) mirror { return mc.Galaxy[i] })
	add("snaps", len(mc.Snaps), func(i int) mirror { return mc.Snaps[i] })
	add("files", len(mc.Files), func(i int) mirror { return mc.Files[i] })
	return out
}

// selectMirrors returns the mirrors named by args ("name" or "kind/name"); all when empty.
func (mc *mirrorConfigs) selectMirrors(args []string) ([]mirror, error) {
	all := mc.all()
	if len(args) == 0 {
		out := make([]mirror, len(all))
		for i, c := range all {
			out[i] = c.mirror
		}
		return out, nil
	}
	var out []mirror
	for _, a := range args {
		var hit []mirror
		for _, c := range all {
			if a == c.Name() || a == ref(c) {
				hit = append(hit, c.mirror)
			}
		}
		switch len(hit) {
		case 0:
			return nil, fmt.Errorf("no mirror named %q in the config", a)
		case 1:
			out = append(out, hit[0])
		default:
			return nil, fmt.Errorf("%q is ambiguous: say kind/name", a)
		}
	}
	return out, nil
}

// runtime returns what adapters need, for a config and an open store.
func (a *app) runtime(cfg *Config, s store.Store, signer *pgp.Signer) *runtime {
	return &runtime{store: s, signer: signer, log: a.log, externalURL: cfg.ExternalURL, path: cfg.path}
}
