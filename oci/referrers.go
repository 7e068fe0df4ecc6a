package oci

import (
	"context"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// maxReferrerWalk bounds the manifests one image's referrer walk visits: content
// addressing rules out real cycles, but a registry may list without end.
const maxReferrerWalk = 10000

// referrer is a manifest that refers to a subject: an OCI 1.1 referrer (no tag), or a
// cosign-style one tagged sha256-<subject hex>.<suffix> (then body may hold its bytes).
type referrer struct {
	Descriptor
	tag  string
	body []byte
}

// referrerWalk copies the referrers of a manifest tree to any depth: those of the root,
// of every child manifest of an index (nested indexes too) and of every referrer copied,
// breadth first, each manifest once. Sync, Copy and their tests share it; Push and
// ExportLayout carry whatever a snapshot holds.
type referrerWalk struct {
	// manifest returns the bytes of a manifest of the tree (already copied).
	manifest func(ctx context.Context, d Descriptor) ([]byte, error)
	// list returns the referrers of subject at the source.
	list func(ctx context.Context, subject store.Digest) ([]referrer, error)
	// copy copies one referrer with everything below it, and its tag if it has one.
	copy func(ctx context.Context, r referrer) error
}

// run walks from root (whose bytes are rootBody, or nil to ask manifest). upstream is
// the digest the source knows the root by: its referrers are filed under it, which
// differs from root.Digest when a platform filter rewrote the index.
func (w referrerWalk) run(ctx context.Context, root Descriptor, rootBody []byte, upstream store.Digest) error {
	type node struct {
		desc    Descriptor
		body    []byte
		subject store.Digest
	}
	seen := map[store.Digest]bool{root.Digest: true, upstream: true}
	queue := []node{{root, rootBody, upstream}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		refs, err := w.list(ctx, n.subject)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if err := w.copy(ctx, r); err != nil {
				return err
			}
			if !seen[r.Digest] {
				seen[r.Digest] = true
				queue = append(queue, node{r.Descriptor, r.body, r.Digest})
			}
		}
		body := n.body
		if body == nil {
			if body, err = w.manifest(ctx, n.desc); err != nil {
				return err
			}
		}
		m, err := ParseManifest(n.desc.MediaType, body)
		if err != nil {
			return fmt.Errorf("oci: manifest %s: %w", n.desc.Digest, err)
		}
		for _, c := range m.Manifests {
			if !seen[c.Digest] {
				seen[c.Digest] = true
				queue = append(queue, node{desc: c, subject: c.Digest})
			}
		}
		if len(seen) > maxReferrerWalk {
			return fmt.Errorf("oci: referrers of %s: more than %d manifests", upstream, maxReferrerWalk)
		}
	}
	return nil
}

// cosignTags picks the tags that name referrers of subject: sha256-<hex>.sig, .att,
// .sbom and the like (not the bare sha256-<hex> referrers fallback index).
func cosignTags(tags []string, subject store.Digest) []string {
	prefix := "sha256-" + subject.Hex() + "."
	var out []string
	for _, t := range tags {
		if strings.HasPrefix(t, prefix) {
			out = append(out, t)
		}
	}
	return out
}

// apiReferrers lists the OCI 1.1 referrers of subject in a source repository.
func apiReferrers(ctx context.Context, c *Client, src Reference, subject store.Digest) ([]referrer, error) {
	ds, err := c.Referrers(ctx, src.Registry, src.Repository, subject)
	if err != nil {
		return nil, fmt.Errorf("oci: referrers of %s@%s: %w", src.Name(), subject, err)
	}
	out := make([]referrer, len(ds))
	for i, d := range ds {
		out[i] = referrer{Descriptor: Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}}
	}
	return out, nil
}
