package oci

import (
	"strings"

	"github.com/airgapkit/airgap/store"
)

// The snapshot layout. A published OCI mirror is a store snapshot whose files are the
// manifests and blobs themselves (so GC, bundles and history treat them like any other
// mirror's files), arranged like distribution's own storage:
//
//	repositories/<repo>/_manifests/tags/<tag>                 the manifest the tag names
//	repositories/<repo>/_manifests/revisions/sha256/<hex>     every manifest of the repository
//	repositories/<repo>/_layers/sha256/<hex>                  every config and layer blob
//
// Each entry's digest is the content's own digest and its media type is recorded, so a
// tag entry answers "which manifest" and "what type" at once. <repo> is the local
// repository name: the source registry host (":" written "-") followed by the upstream
// path, e.g. "docker.io/library/alpine" or "127.0.0.1-5000/tools/db". Snapshot
// annotations "oci.upstream/<repo>:<tag>" hold the upstream digest a tag was copied from
// (which differs from the tag entry when a platform filter rewrote an index),
// "oci.platforms/<repo>:<tag>" the filter used, and "oci.source/<repo>" the upstream
// repository ("127.0.0.1:5000/tools/db"). A tag imported from an OCI layout has none of
// the first two.
const (
	repositoriesDir = "repositories/"
	tagsDir         = "/_manifests/tags/"
	revisionsDir    = "/_manifests/revisions/sha256/"
	layersDir       = "/_layers/sha256/"

	annUpstream  = "oci.upstream/"
	annPlatforms = "oci.platforms/"
	annSource    = "oci.source/"
	// annRequestedBy + "<repo>:<tag>" (or "<repo>@<digest>"): who asked for a requested
	// image (Mirror.Requested), one per line.
	annRequestedBy = "oci.requested-by/"
)

// LocalName is the repository name a source reference gets in the mirror:
// "registry/path" with a port's ":" written "-".
func LocalName(ref Reference) string {
	return strings.ReplaceAll(ref.Registry, ":", "-") + "/" + ref.Repository
}

func tagPath(repo, tag string) string { return repositoriesDir + repo + tagsDir + tag }
func manifestPath(repo string, d store.Digest) string {
	return repositoriesDir + repo + revisionsDir + d.Hex()
}
func layerPath(repo string, d store.Digest) string {
	return repositoriesDir + repo + layersDir + d.Hex()
}

// Image is one tag or untagged manifest of a published mirror.
type Image struct {
	Repository string // local name
	Tag        string // "" for manifests kept by digest only
	Descriptor
}

// parsePath splits a snapshot path into repository, kind ("tag", "manifest", "blob")
// and the tag or hex. ok is false for paths outside the layout.
func parsePath(p string) (repo, kind, name string, ok bool) {
	if !strings.HasPrefix(p, repositoriesDir) {
		return "", "", "", false
	}
	rest := p[len(repositoriesDir):]
	for _, k := range []struct{ sep, kind string }{{tagsDir, "tag"}, {revisionsDir, "manifest"}, {layersDir, "blob"}} {
		if i := strings.LastIndex(rest, k.sep); i > 0 {
			n := rest[i+len(k.sep):]
			if n == "" || strings.Contains(n, "/") {
				return "", "", "", false
			}
			return rest[:i], k.kind, n, true
		}
	}
	return "", "", "", false
}

// Tags lists the tagged images of a snapshot, sorted by repository and tag.
func Tags(snap *store.Snapshot) []Image {
	var out []Image
	for _, p := range snap.Paths() {
		repo, kind, n, ok := parsePath(p)
		if !ok || kind != "tag" {
			continue
		}
		f := snap.Files[p]
		out = append(out, Image{Repository: repo, Tag: n, Descriptor: Descriptor{MediaType: f.MediaType, Digest: f.Digest, Size: f.Size}})
	}
	return out
}

// Repositories lists the repositories of a snapshot, sorted.
func Repositories(snap *store.Snapshot) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range snap.Paths() {
		repo, _, _, ok := parsePath(p)
		if ok && !seen[repo] {
			seen[repo] = true
			out = append(out, repo)
		}
	}
	return out
}
