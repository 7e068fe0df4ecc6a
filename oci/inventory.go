package oci

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// cosignTag matches the tags cosign files signatures, attestations and SBOMs under.
var cosignTag = regexp.MustCompile(`^sha256-[0-9a-f]{64}\.[a-z]+$`)

// Inventory lists what the mirror published under ref holds, from its published tree
// and what Sync recorded with it (the annotations described in layout.go), not from
// its paths alone: one store.Item per tag and per untagged top-level manifest, sorted
// by repository, then tag or digest.
//
// A tag is a "container" item, or "data" when it is a cosign-style signature,
// attestation or SBOM tag (sha256-<hex>.sig); an untagged manifest is a "data" item
// when it is an OCI 1.1 referrer (it names a subject), else a "container" kept by
// digest. Name is the mirror's repository (LocalName), Version the tag or the digest.
// PURL is pkg:oci/<last path element>@<manifest digest> with repository_url (the
// upstream repository) and tag qualifiers. Upstream is the docker:// reference that was
// pulled. VouchedBy names the registry whose manifest digest every byte was verified
// against and, for a platform-filtered index, the upstream index it was made from;
// it is empty for images imported from an OCI layout (ImportLayout), whose index.json
// only names digests.
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	ann := snap.Annotations
	var out []store.Item
	for _, im := range Tags(snap) {
		key := im.Repository + ":" + im.Tag
		it := store.Item{Type: "container", Name: im.Repository, Version: im.Tag, Path: tagPath(im.Repository, im.Tag),
			Digest: im.Digest, Size: im.Size}
		if cosignTag.MatchString(im.Tag) {
			it.Type = "data"
		}
		upstream, synced := ann[annUpstream+key]
		source := ann[annSource+im.Repository]
		if !synced {
			source = "" // imported from a layout: nothing says where it came from
		}
		it.PURL = ociPURL(im.Repository, source, im.Tag, im.Digest)
		if synced {
			it.VouchedBy = vouchedBy(source, im.Repository)
			if upstream != string(im.Digest) {
				it.VouchedBy = fmt.Sprintf("platform filter (%s) of the index %s; %s", ann[annPlatforms+key], upstream, it.VouchedBy)
			}
		}
		if source != "" {
			it.Upstream = "docker://" + source + ":" + im.Tag
		}
		it.RequestedBy = requestedBy(ann, requestKey(im.Repository, im.Tag, ""))
		out = append(out, it)
	}
	roots, err := snapshotRoots(ctx, s, snap)
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		if len(r.Tags) > 0 {
			continue
		}
		body, err := store.ReadBlob(ctx, s, r.Digest, DefaultMaxManifestSize*16)
		if err != nil {
			return nil, fmt.Errorf("oci: inventory %s@%s: %w", r.Repository, r.Digest, err)
		}
		m, err := ParseManifest(r.MediaType, body)
		if err != nil {
			return nil, fmt.Errorf("oci: inventory %s@%s: %w", r.Repository, r.Digest, err)
		}
		source := ann[annSource+r.Repository]
		it := store.Item{Type: "container", Name: r.Repository, Version: string(r.Digest), Path: manifestPath(r.Repository, r.Digest),
			Digest: r.Digest, Size: r.Size, PURL: ociPURL(r.Repository, source, "", r.Digest)}
		if source != "" {
			it.Upstream = "docker://" + source + "@" + string(r.Digest)
			it.VouchedBy = vouchedBy(source, r.Repository)
		}
		it.RequestedBy = requestedBy(ann, requestKey(r.Repository, "", r.Digest))
		if m.Subject != nil {
			it.Type = "data"
			if it.VouchedBy != "" {
				it.VouchedBy = "referrer of " + string(m.Subject.Digest) + "; " + it.VouchedBy
			}
		}
		out = append(out, it)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

func requestedBy(ann map[string]string, key string) []string {
	if v := ann[annRequestedBy+key]; v != "" {
		return strings.Split(v, "\n")
	}
	return nil
}

func vouchedBy(source, local string) string {
	registry, _, _ := strings.Cut(source, "/")
	if registry == "" {
		registry, _, _ = strings.Cut(local, "/") // a tree synced before sources were recorded
	}
	return "manifest digest from " + registry
}

// ociPURL writes pkg:oci/<name>@<digest>?repository_url=<source>&tag=<tag> (the
// qualifiers when known), as purl-spec's oci type defines it.
func ociPURL(local, source, tag string, d store.Digest) string {
	return store.PURL("oci", "", strings.ToLower(path.Base(local)), string(d), map[string]string{"repository_url": source, "tag": tag})
}
