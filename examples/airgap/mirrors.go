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
	// Handler serves the published mirror at its upstream's own paths. base is the
	// external URL prefix it is reachable under (for protocols that write absolute URLs).
	Handler(rt *runtime, base string) http.Handler
}

// ref is the store ref a mirror publishes.
func ref(m mirror) string { return m.Kind() + "/" + m.Name() }

// runtime is what adapters need from the command line.
type runtime struct {
	store  store.Store
	fetch  *fetch.Client
	signer *pgp.Signer // nil when no signing key is configured
	log    *slog.Logger
}

// mirrorConfigs holds every kind's list, inlined at the top level of airgap.yaml.
type mirrorConfigs struct {
	Files []*filesMirror `yaml:"files"`
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
