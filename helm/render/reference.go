package render

import (
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/google/go-containerregistry/pkg/name"
)

// Normalize writes an image reference as the oci package does (oci.ParseReference then
// String): Docker Hub is docker.io, its official images are under library/, a
// reference with neither tag nor digest gets :latest, and one with both keeps both.
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	base, dig, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		if _, err := store.ParseDigest(dig); err != nil {
			return "", fmt.Errorf("image %q: %w", s, err)
		}
	}
	tag, err := name.NewTag(base, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", s, err)
	}
	registry, repo := tag.RegistryStr(), tag.RepositoryStr()
	switch registry {
	case name.DefaultRegistry, "registry-1.docker.io", "registry.hub.docker.com":
		registry = "docker.io"
		if !strings.Contains(repo, "/") {
			repo = "library/" + repo // registry-1.docker.io/nginx is an official image too
		}
	}
	out := registry + "/" + repo
	if !hasDigest || hasTag(base) {
		out += ":" + tag.TagStr()
	}
	if hasDigest {
		out += "@" + dig
	}
	return out, nil
}

// hasTag reports whether the last path element of s carries ":tag".
func hasTag(s string) bool {
	i := strings.LastIndex(s, "/")
	return strings.Contains(s[i+1:], ":")
}

func hasTagOrDigest(s string) bool { return strings.Contains(s, "@") || hasTag(s) }

// repository is a normalised reference without its tag and digest.
func repository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if hasTag(ref) {
		ref = ref[:strings.LastIndex(ref, ":")]
	}
	return ref
}
