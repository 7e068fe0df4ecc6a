package oci

import (
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/google/go-containerregistry/pkg/name"
)

// DockerHub is how references to Docker Hub are written after normalisation.
const DockerHub = "docker.io"

// Reference names an image: registry host, repository path, and a tag and/or digest.
// When both are set the digest wins for pulling and the tag is kept for naming.
type Reference struct {
	Registry   string // "docker.io", "ghcr.io", "127.0.0.1:5000"
	Repository string // "library/nginx"
	Tag        string
	Digest     store.Digest
}

// ParseReference parses a reference the way docker does: "nginx" is
// docker.io/library/nginx:latest, "repo:tag@sha256:..." keeps both.
func ParseReference(s string) (Reference, error) {
	s = strings.TrimSpace(s)
	rest, dig, hasDigest := strings.Cut(s, "@")
	var ref Reference
	if hasDigest {
		d, err := store.ParseDigest(dig)
		if err != nil {
			return Reference{}, fmt.Errorf("%w: %q: %w", ErrInvalidReference, s, err)
		}
		ref.Digest = d
	}
	var repo name.Repository
	if t, err := name.NewTag(rest, name.WeakValidation); err == nil && (!hasDigest || hasTag(rest)) {
		repo = t.Repository
		if hasTag(rest) || !hasDigest {
			ref.Tag = t.TagStr()
		}
	} else {
		r, err2 := name.NewRepository(rest, name.WeakValidation)
		if err2 != nil {
			if err == nil {
				err = err2
			}
			return Reference{}, fmt.Errorf("%w: %q: %w", ErrInvalidReference, s, err)
		}
		repo = r
	}
	ref.Registry = normalizeRegistry(repo.RegistryStr())
	ref.Repository = repo.RepositoryStr()
	if ref.Registry == DockerHub && !strings.Contains(ref.Repository, "/") {
		// registry-1.docker.io/nginx is the official image, as docker.io/nginx is.
		ref.Repository = "library/" + ref.Repository
	}
	return ref, nil
}

// hasTag reports whether the last path element of s carries ":tag".
func hasTag(s string) bool {
	i := strings.LastIndex(s, "/")
	return strings.Contains(s[i+1:], ":")
}

func normalizeRegistry(h string) string {
	switch h {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return DockerHub
	}
	return h
}

// Name returns "registry/repository".
func (r Reference) Name() string { return r.Registry + "/" + r.Repository }

// Identifier returns the digest if set, else the tag.
func (r Reference) Identifier() string {
	if r.Digest != "" {
		return string(r.Digest)
	}
	return r.Tag
}

// String writes the reference back: registry/repository[:tag][@digest].
func (r Reference) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + string(r.Digest)
	}
	return s
}

// validTag reports whether t is a valid tag.
func validTag(t string) bool {
	if t == "" || len(t) > 128 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || (i > 0 && (c == '.' || c == '-'))
		if !ok {
			return false
		}
	}
	return true
}

// validRepository reports whether p is a valid repository path.
func validRepository(p string) bool {
	if p == "" || len(p) > 255 {
		return false
	}
	for _, comp := range strings.Split(p, "/") {
		if comp == "" {
			return false
		}
		for i := 0; i < len(comp); i++ {
			c := comp[i]
			alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
			sep := c == '.' || c == '_' || c == '-'
			if !alnum && !sep {
				return false
			}
			if sep && (i == 0 || i == len(comp)-1) {
				return false
			}
		}
	}
	return true
}
