package site

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/store"
)

// ImageProvider is a kind whose content needs container images (the helm kind: the
// images its charts render). SyncAll syncs it before the oci mirror ImagesTo names, and
// that mirror copies the images with its own selection, platforms and referrers.
type ImageProvider interface {
	Mirror
	// ImagesTo names the oci mirror the images go to ("k8s" or "oci/k8s"); "" sends
	// them nowhere.
	ImagesTo() string
	// RequestedImages lists the images the published mirror needs, each naming what
	// asked for it; store.ErrNotFound when the mirror was never published.
	RequestedImages(ctx context.Context, s store.Store) ([]oci.RequestedImage, error)
}

// imagesTarget is the ref of the oci mirror p sends images to, "" for none.
func imagesTarget(p ImageProvider) string {
	to := p.ImagesTo()
	if to == "" || strings.Contains(to, "/") {
		return to
	}
	return "oci/" + to
}

// feeds maps each oci mirror's ref to the providers among ms that send it images.
func feeds(ms []Mirror) map[string][]ImageProvider {
	out := map[string][]ImageProvider{}
	for _, m := range ms {
		if p, ok := m.(ImageProvider); ok && imagesTarget(p) != "" {
			out[imagesTarget(p)] = append(out[imagesTarget(p)], p)
		}
	}
	return out
}

// checkImagesTo says what is wrong with p's images_to among the configured mirrors
// ("" when nothing is).
func checkImagesTo(p ImageProvider, all []Mirror) string {
	to := imagesTarget(p)
	if to == "" {
		return ""
	}
	if kind, _, _ := strings.Cut(to, "/"); kind != "oci" {
		return fmt.Sprintf("%q: images go to an oci mirror, not to %s mirrors", p.ImagesTo(), kind)
	}
	var other []string
	for _, m := range all {
		if Ref(m) == to {
			return ""
		}
		if m.Name() == strings.TrimPrefix(to, "oci/") {
			other = append(other, Ref(m))
		}
	}
	if len(other) > 0 {
		return fmt.Sprintf("%q names %s, not an oci mirror", p.ImagesTo(), strings.Join(other, ", "))
	}
	return fmt.Sprintf("%q names no configured oci mirror", p.ImagesTo())
}

// requestedImages collects what the providers' published trees need.
func requestedImages(ctx context.Context, s store.Store, ps []ImageProvider) ([]oci.RequestedImage, error) {
	var out []oci.RequestedImage
	for _, p := range ps {
		imgs, err := p.RequestedImages(ctx, s)
		if errors.Is(err, store.ErrNotFound) {
			continue // never published: nothing to ask for yet
		}
		if err != nil {
			return nil, fmt.Errorf("images requested by %s: %w", Ref(p), err)
		}
		out = append(out, imgs...)
	}
	return out, nil
}
