package helm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// NewHandler serves the tree ref ("helm/<name>") publishes as a chart repository:
// index.yaml (every URL relative, so it works under any prefix and host),
// <chart>-<version>.tgz and its .tgz.prov, with Range, ETag and If-None-Match, every
// answer from one complete published snapshot.
func NewHandler(s store.Store, ref string) http.Handler {
	live := &store.Live{Store: s, Ref: ref}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		snap, _, err := live.Snapshot(r.Context())
		if err != nil {
			http.NotFound(w, r)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			name = IndexPath
		}
		f, ok := snap.Lookup(name)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == IndexPath {
			w.Header().Set("Cache-Control", "no-cache")
		}
		store.ServeFile(w, r, s, name, f)
	})
}

// Charts lists the chart versions the published tree of ref holds, sorted by name and
// version.
func Charts(ctx context.Context, s store.Store, ref string) ([]*Held, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal([]byte(snap.Annotations[annState]), &st); err != nil {
		return nil, fmt.Errorf("%w: %s: state: %v", ErrMalformed, ref, err)
	}
	out := make([]*Held, 0, len(st.Charts))
	for _, h := range st.Charts {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *Held) int { return strings.Compare(a.File, b.File) })
	return out, nil
}

// Inventory lists the held chart versions as items (pkg:helm/<name>@<version>).
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	hs, err := Charts(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	items := make([]store.Item, 0, len(hs))
	for _, h := range hs {
		vouched := "index digest"
		if h.Signer != "" {
			vouched = "provenance signed by " + h.Signer
		}
		items = append(items, store.Item{
			Type: "application", Name: h.Name, Version: h.Version,
			PURL: store.PURL("helm", "", strings.ToLower(h.Name), h.Version, nil),
			Path: h.File, Digest: h.Digest, Size: h.Size, Upstream: h.Upstream, VouchedBy: vouched,
		})
	}
	return items, nil
}

// Unresolved lists the dependencies of ref's held charts that another helm mirror must
// hold and, as published now, does not ("app 1.0.0 needs helm/libs:lib@^2: ..."):
// that mirror's selection changed after this one synced.
func Unresolved(ctx context.Context, s store.Store, ref string) ([]string, error) {
	hs, err := Charts(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, h := range hs {
		for _, n := range h.Needs {
			other, rest, ok := strings.Cut(n, ":")
			if !ok || !strings.HasPrefix(other, "helm/") {
				continue // oci dependencies are the oci mirror's
			}
			chart, constraint, _ := strings.Cut(rest, "@")
			if err := holds(ctx, s, other, chart, constraint); err != nil {
				out = append(out, fmt.Sprintf("%s %s needs %s: %v", h.Name, h.Version, n, err))
			}
		}
	}
	return out, nil
}
