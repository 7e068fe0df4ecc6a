package pypi

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/pypi/simple"
	"github.com/airgapkit/airgap/store"
)

// Inventory lists the distribution files (wheels and source distributions) the index
// published at ref (a Mirror's Ref) holds, read from the project pages it publishes: one
// store.Item per file, named by the normalized project name, with the version its file name
// gives, PURL pkg:pypi/<name>@<version>, the upstream URL it was downloaded from (from the
// upstream page the mirror keeps) and the project page whose sha256 vouched for it.
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	var out []store.Item
	for _, p := range snap.Paths() {
		rest, ok := strings.CutPrefix(p, "simple/")
		name, ok2 := strings.CutSuffix(rest, "/index.json")
		if !ok || !ok2 || strings.Contains(name, "/") {
			continue
		}
		items, err := projectInventory(ctx, s, snap, name, p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	slices.SortFunc(out, func(a, b store.Item) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// projectInventory lists the files of one published project page (at pagePath).
func projectInventory(ctx context.Context, s store.Store, snap *store.Snapshot, name, pagePath string) ([]store.Item, error) {
	var files []simple.File
	err := scanPage(ctx, s, snap, pagePath, simple.MediaTypeJSON, &url.URL{Path: "/" + pagePath}, func(f simple.File) error {
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Where each file came from, and the page that listed it: the upstream page as kept,
	// of which only the entries of published files are kept here.
	pageURL := snap.Annotations[annUpstream]
	origin := map[string]string{}
	for _, f := range files {
		origin[f.Filename] = ""
	}
	if meta, ok := decodePageMeta(snap.Annotations[annPagePrefix+name]); ok {
		pageURL = meta.URL
		if ub, err := url.Parse(meta.URL); err == nil {
			err := scanPage(ctx, s, snap, upstreamDir+name, meta.ContentType, ub, func(f simple.File) error {
				if u, published := origin[f.Filename]; published && u == "" { // the first entry wins, as at sync
					origin[f.Filename] = f.URL
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	var out []store.Item
	for _, f := range files {
		n, why := parseDistName(name, f.Filename)
		if n == nil {
			return nil, fmt.Errorf("pypi: %s: %s: %w: %s", pagePath, f.Filename, store.ErrMalformed, why)
		}
		u, err := url.Parse(f.URL)
		if err != nil {
			return nil, fmt.Errorf("pypi: %s: %w: %w", pagePath, store.ErrMalformed, err)
		}
		p := strings.TrimPrefix(u.Path, "/") // the page links into the tree: ../../packages/<name>/<file>
		file, ok := snap.Lookup(p)
		if !ok {
			return nil, fmt.Errorf("pypi: %s lists %s: %w", pagePath, p, store.ErrNotFound)
		}
		v := n.version.String()
		out = append(out, store.Item{
			Type: "library", Name: name, Version: v,
			PURL:      store.PURL("pypi", "", name, v, nil),
			Path:      p,
			Digest:    file.Digest,
			Size:      file.Size,
			Upstream:  origin[f.Filename],
			VouchedBy: "sha256 in the simple index of " + pageURL,
		})
	}
	return out, nil
}

// scanPage reads the project page held at p of snap, handing each file to fn.
func scanPage(ctx context.Context, s store.Store, snap *store.Snapshot, p, contentType string, base *url.URL, fn func(simple.File) error) error {
	f, ok := snap.Lookup(p)
	if !ok {
		return fmt.Errorf("pypi: %s: %w", p, store.ErrNotFound)
	}
	if err := scanBlob(ctx, s, f.Digest, contentType, base, fn); err != nil {
		return fmt.Errorf("pypi: %s: %w", p, err)
	}
	return nil
}
