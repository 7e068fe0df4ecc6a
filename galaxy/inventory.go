package galaxy

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Inventory lists the collection artifacts and role archives the tree published at ref (a
// Mirror's Ref) holds, read from the records the mirror keeps in it. A collection is named
// "namespace.name", with PURL pkg:ansible/<namespace>/<name>@<version> (the purl type for
// Ansible collections; repository_url names the upstream unless it is galaxy.ansible.com).
// A role is named "owner.name" and has no PURL (no purl type covers Galaxy roles) and no
// VouchedBy: Galaxy gives no checksum for role archives. Upstream is the URL the file was
// downloaded from.
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	snap, gen, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	ix, err := loadIndex(ctx, s, snap)
	if err != nil {
		return nil, err
	}
	upstream := snap.Annotations[annUpstream]
	var repo string // the purl qualifier: empty for the default repository
	if u, err := url.Parse(upstream); err != nil || !strings.EqualFold(u.Hostname(), "galaxy.ansible.com") {
		repo = upstream
	}
	// The content check is claimed only when the generation records it was on.
	checked := gen.Trust.Switches()["SkipArtifactCheck"] == "false"
	var out []store.Item
	for _, rec := range ix.collections {
		for _, cv := range rec.Versions {
			p := artifactsDir + cv.Filename
			f, ok := snap.Lookup(p)
			if !ok {
				return nil, fmt.Errorf("galaxy: %s lists %s: %w", collectionRecordPath(rec.Namespace, rec.Name), p, store.ErrNotFound)
			}
			out = append(out, store.Item{
				Type: "library", Name: cv.Namespace + "." + cv.Name, Version: cv.Version,
				PURL: store.PURL("ansible", strings.ToLower(cv.Namespace), strings.ToLower(cv.Name), cv.Version,
					map[string]string{"repository_url": repo}),
				Path: p, Digest: f.Digest, Size: f.Size, Upstream: cv.DownloadURL,
				VouchedBy: collectionVouch(upstream, cv.SHA256Computed, checked),
			})
		}
	}
	for _, rec := range ix.roles {
		for _, v := range rec.Versions {
			f, ok := snap.Lookup(v.Path)
			if !ok {
				return nil, fmt.Errorf("galaxy: %s lists %s: %w", roleRecordPath(rec.Owner, rec.Name), v.Path, store.ErrNotFound)
			}
			out = append(out, store.Item{Type: "library", Name: rec.Owner + "." + rec.Name, Version: v.Name,
				Path: v.Path, Digest: f.Digest, Size: f.Size, Upstream: v.Source})
		}
	}
	slices.SortFunc(out, func(a, b store.Item) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// collectionVouch says what vouched for an artifact: the upstream's sha256 unless it gave
// none, and the content check (MANIFEST.json and FILES.json) when it ran.
func collectionVouch(upstream string, computed, checked bool) string {
	switch {
	case !computed && checked:
		return "artifact sha256 from " + upstream + " and the artifact's FILES.json"
	case !computed:
		return "artifact sha256 from " + upstream
	case checked:
		return "the artifact's own MANIFEST.json and FILES.json only (" + upstream + " gave no sha256)"
	}
	return ""
}
