package oci

import (
	"fmt"

	"github.com/airgapkit/airgap/store"
)

// Limits on one manifest tree: an image, or an index with everything below it. Content
// addressing rules out cycles, but not an index that lists the same child a thousand
// times, nor a thousand children that each list the same thousand images: walked naively
// that is a million visits. Every walk (Sync, ImportLayout, Push, Copy) expands each
// manifest of a tree once and stops at these limits.
const (
	// MaxManifestDepth is how many manifests a chain from the top of a tree down to an
	// image may hold: 1 for an image, 2 for an index of images, 3 with one nested index.
	MaxManifestDepth = 8
	// DefaultMaxDescriptors is the default cap on the descriptors (child manifests,
	// configs, layers) that the distinct manifests of one tree list together
	// (Mirror.MaxDescriptors, PushOptions.MaxDescriptors). A multi-platform image with
	// attestations lists a few hundred.
	DefaultMaxDescriptors = 100_000
)

var (
	// ErrTooDeep: a manifest tree nests more than MaxManifestDepth manifests.
	ErrTooDeep = fmt.Errorf("oci: manifest tree too deep%.0w", store.ErrTooLarge)
	// ErrTooManyDescriptors: the manifests of one tree list more descriptors than the
	// limit (Mirror.MaxDescriptors).
	ErrTooManyDescriptors = fmt.Errorf("oci: too many descriptors in one manifest tree%.0w", store.ErrTooLarge)
)

// treeWalk is the state of one walk over a manifest tree: the manifests expanded so far,
// each with the height of the tree below it, and the descriptors they list. A walk is
// used by one goroutine (index children are walked in order).
type treeWalk struct {
	name        string // the tree, for messages
	max         int
	heights     map[store.Digest]int
	descriptors int
}

func newTreeWalk(name string, maxDescriptors int) *treeWalk {
	if maxDescriptors <= 0 {
		maxDescriptors = DefaultMaxDescriptors
	}
	return &treeWalk{name: name, max: maxDescriptors, heights: map[store.Digest]int{}}
}

// enter is called before the manifest d is expanded at depth (1: the top). done reports
// that the walk expanded it already (height is then the height of the tree below it); it
// fails with ErrTooDeep when a chain through d is longer than MaxManifestDepth.
func (w *treeWalk) enter(d store.Digest, depth int) (height int, done bool, err error) {
	height, done = w.heights[d]
	if deepest := depth + max(height, 1) - 1; deepest > MaxManifestDepth {
		return 0, false, fmt.Errorf("%w: %s: %s is %d manifests deep (limit %d)", ErrTooDeep, w.name, d, deepest, MaxManifestDepth)
	}
	return height, done, nil
}

// count adds the descriptors of one manifest expanded; it fails with
// ErrTooManyDescriptors over the limit.
func (w *treeWalk) count(m *Manifest) error {
	w.descriptors += len(m.Manifests) + len(m.Layers)
	if m.Config != nil {
		w.descriptors++
	}
	if w.descriptors > w.max {
		return fmt.Errorf("%w: %s lists more than %d (raise MaxDescriptors if this is intended)", ErrTooManyDescriptors, w.name, w.max)
	}
	return nil
}

// leave records that d was expanded, with a tree below it of height manifests.
func (w *treeWalk) leave(d store.Digest, height int) { w.heights[d] = height }
