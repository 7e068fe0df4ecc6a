package rpm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// PublishedRepo is what a published tree records about one of its repositories.
type PublishedRepo struct {
	// Path is the repository's path in the tree (and upstream): BaseOS/x86_64/os.
	Path string `json:"path"`
	// Upstream is the repository's upstream URL, with a trailing slash.
	Upstream string `json:"upstream"`
	// Revision is the upstream repomd.xml's revision.
	Revision string `json:"revision,omitempty"`
	// Pristine: the repodata is the upstream's, signed with the vendor's key; else it
	// was regenerated and signed with the operator's.
	Pristine bool `json:"pristine,omitempty"`
	// Signers are the fingerprints of the keys whose signature on the upstream
	// repomd.xml verified; empty with InsecureSkipSignature.
	Signers []string `json:"signers,omitempty"`
}

// Repos lists the repositories of the tree that ref ("rpm/<name>") publishes, in
// configuration order. store.ErrNotFound when ref was never published.
func Repos(ctx context.Context, s store.Store, ref string) ([]PublishedRepo, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, fmt.Errorf("rpm: %s: %w", ref, err)
	}
	return reposOf(snap, ref)
}

func reposOf(snap *store.Snapshot, ref string) ([]PublishedRepo, error) {
	var out []PublishedRepo
	if err := json.Unmarshal([]byte(snap.Annotations[annRepos]), &out); err != nil {
		return nil, fmt.Errorf("rpm: %s: annotation %s: %w: %v", ref, annRepos, ErrMalformed, err)
	}
	return out, nil
}

// Inventory lists every package the tree that ref publishes holds, read from the
// primary it serves (a pristine primary lists more than is held: only held files are
// listed), sorted by path. Each Item carries the package's name, EVR ("epoch:version-
// release"), PURL (pkg:rpm/<vendor>/<name>@<version-release>?arch=<arch>[&epoch=<n>], the
// vendor being Mirror.Vendor; none when empty, and an epoch qualifier when the epoch is not
// 0, as the purl specification writes rpm versions), path, digest and size, the URL it
// came from and what vouched for it.
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, fmt.Errorf("rpm: %s: %w", ref, err)
	}
	repos, err := reposOf(snap, ref)
	if err != nil {
		return nil, err
	}
	vendor := snap.Annotations[annVendor]
	ss := &session{m: &Mirror{Store: s}}
	var items []store.Item
	for _, r := range repos {
		f, ok := snap.Lookup(joinPath(r.Path, "repodata/repomd.xml"))
		if !ok {
			return nil, fmt.Errorf("rpm: %s: %w: %s/repodata/repomd.xml", ref, store.ErrNotFound, r.Path)
		}
		b, err := store.ReadBlob(ctx, s, f.Digest, maxRepomdSize)
		if err != nil {
			return nil, err
		}
		md, err := ParseRepomd(b)
		if err != nil {
			return nil, fmt.Errorf("rpm: %s: %s: %w", ref, r.Path, err)
		}
		d, _ := md.Find("primary")
		pf, ok := snap.Lookup(joinPath(r.Path, d.Href))
		if !ok {
			return nil, fmt.Errorf("rpm: %s: %w: %s", ref, store.ErrNotFound, joinPath(r.Path, d.Href))
		}
		rc, err := ss.openData(ctx, d, store.BlobInfo{Digest: pf.Digest, Size: pf.Size})
		if err != nil {
			return nil, err
		}
		vouched := d.Checksum.Type + " in " + r.Path + " primary, listed by repomd.xml"
		switch {
		case len(r.Signers) > 0:
			vouched += " signed by " + strings.Join(r.Signers, ", ")
		default:
			vouched += " (signature not checked: InsecureSkipSignature)"
		}
		err = ReadPrimary(ctx, rc, func(p *Package, _ []byte) error {
			pp := joinPath(r.Path, p.Href)
			hf, ok := snap.Lookup(pp)
			if !ok {
				return nil
			}
			q := map[string]string{"arch": p.Arch}
			if p.EVR.Epoch != 0 {
				q["epoch"] = fmt.Sprint(p.EVR.Epoch)
			}
			items = append(items, store.Item{Type: "library", Name: p.Name, Version: p.EVR.String(),
				PURL: store.PURL("rpm", strings.ToLower(vendor), p.Name, p.EVR.Version+"-"+p.EVR.Release, q),
				Path: pp, Digest: hf.Digest, Size: hf.Size, Upstream: r.Upstream + escapePath(p.Href),
				VouchedBy: strings.Replace(vouched, d.Checksum.Type, p.Checksum.Type, 1)})
			return nil
		})
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("rpm: %s: %s: %w", ref, r.Path, err)
		}
	}
	slices.SortFunc(items, func(a, b store.Item) int { return strings.Compare(a.Path, b.Path) })
	return items, nil
}
