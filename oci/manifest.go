package oci

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Manifest media types this package copies.
const (
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// Descriptor points at content: media type, digest, size, and for index entries the
// platform.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       store.Digest      `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
}

// Platform is an index entry's platform.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
	OSVersion    string `json:"os.version,omitempty"`
}

// String writes "os/arch[/variant]".
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// ParsePlatform reads "os/arch[/variant]".
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Platform{}, fmt.Errorf("oci: platform %q: want os/arch[/variant]", s)
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// Matches reports whether an index entry's platform q satisfies the filter p. A filter
// without a variant matches every variant; arm64 entries without a variant match v8.
func (p Platform) Matches(q *Platform) bool {
	if q == nil || p.OS != q.OS || p.Architecture != q.Architecture {
		return false
	}
	if p.Variant == "" {
		return true
	}
	qv := q.Variant
	if qv == "" && q.Architecture == "arm64" {
		qv = "v8"
	}
	return p.Variant == qv
}

// Manifest is the part of an image manifest or index that copying needs.
type Manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *Descriptor       `json:"config,omitempty"`
	Layers        []Descriptor      `json:"layers,omitempty"`
	Manifests     []Descriptor      `json:"manifests,omitempty"`
	Subject       *Descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// IsIndex reports whether mediaType is an OCI index or a Docker manifest list.
func IsIndex(mediaType string) bool {
	return mediaType == MediaTypeOCIIndex || mediaType == MediaTypeDockerList
}

// ParseManifest decodes manifest bytes of the given media type and checks every
// descriptor: digests well formed, sizes not negative, child manifests of a known kind.
func ParseManifest(mediaType string, b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	if m.MediaType != "" && mediaType != "" && m.MediaType != mediaType {
		return nil, fmt.Errorf("%w: body says %s, served as %s", ErrInvalidManifest, m.MediaType, mediaType)
	}
	if mediaType == "" {
		mediaType = sniffMediaType(b)
	}
	switch mediaType {
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		if m.Config == nil {
			return nil, fmt.Errorf("%w: image manifest without config", ErrInvalidManifest)
		}
		if len(m.Manifests) > 0 {
			return nil, fmt.Errorf("%w: image manifest with manifests", ErrInvalidManifest)
		}
	case MediaTypeOCIIndex, MediaTypeDockerList:
		if m.Config != nil || len(m.Layers) > 0 {
			return nil, fmt.Errorf("%w: index with config or layers", ErrInvalidManifest)
		}
		for _, d := range m.Manifests {
			if !IsIndex(d.MediaType) && d.MediaType != MediaTypeOCIManifest && d.MediaType != MediaTypeDockerManifest {
				return nil, fmt.Errorf("%w: index entry %s of type %q", ErrUnsupportedMediaType, d.Digest, d.MediaType)
			}
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, mediaType)
	}
	m.MediaType = mediaType
	for _, d := range m.descriptors() {
		if err := d.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
		}
		if d.Size < 0 {
			return nil, fmt.Errorf("%w: descriptor %s has negative size", ErrInvalidManifest, d.Digest)
		}
	}
	if m.Subject != nil {
		if err := m.Subject.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%w: subject: %w", ErrInvalidManifest, err)
		}
	}
	return &m, nil
}

// descriptors returns the config, layers and child manifests.
func (m *Manifest) descriptors() []Descriptor {
	var out []Descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
	}
	out = append(out, m.Layers...)
	return append(out, m.Manifests...)
}

// referrerDescriptor is how a referrers list names the manifest m stored as desc: its
// artifactType (else its config's media type) and annotations.
func referrerDescriptor(m *Manifest, desc Descriptor) Descriptor {
	at := m.ArtifactType
	if at == "" && m.Config != nil {
		at = m.Config.MediaType
	}
	return Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, ArtifactType: at, Annotations: m.Annotations}
}

// nondistributable reports whether a layer is one registries do not carry, which
// clients fetch from its urls: a Docker foreign layer or an OCI non-distributable layer
// with urls. Such layers are not copied, pushed or exported; the manifest keeps them.
func nondistributable(d Descriptor) bool {
	return len(d.URLs) > 0 && (strings.Contains(d.MediaType, ".foreign.") || strings.Contains(d.MediaType, ".nondistributable."))
}

// Blobs returns the config and layer descriptors (not child manifests).
func (m *Manifest) Blobs() []Descriptor {
	var out []Descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
	}
	return append(out, m.Layers...)
}

// sniffMediaType guesses a manifest's type from its body when the registry did not say.
func sniffMediaType(b []byte) string {
	var probe struct {
		MediaType string            `json:"mediaType"`
		Config    json.RawMessage   `json:"config"`
		Manifests []json.RawMessage `json:"manifests"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.Manifests != nil:
		return MediaTypeOCIIndex
	case probe.Config != nil:
		return MediaTypeOCIManifest
	}
	return ""
}

// filterIndex keeps the entries of an index that match one of platforms. It returns the
// original bytes when everything matches, otherwise a new index (same fields, fewer
// entries, the upstream digest recorded as the annotation AnnotationSourceDigest).
func filterIndex(b []byte, src store.Digest, platforms []Platform) ([]byte, bool, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw["manifests"], &entries); err != nil {
		return nil, false, fmt.Errorf("%w: manifests: %w", ErrInvalidManifest, err)
	}
	var kept []json.RawMessage
	for _, e := range entries {
		var d Descriptor
		if err := json.Unmarshal(e, &d); err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
		}
		for _, p := range platforms {
			if p.Matches(d.Platform) {
				kept = append(kept, e)
				break
			}
		}
	}
	if len(kept) == 0 {
		return nil, false, ErrNoPlatform
	}
	if len(kept) == len(entries) {
		return b, false, nil
	}
	raw["manifests"], _ = json.Marshal(kept)
	ann := map[string]string{}
	if a, ok := raw["annotations"]; ok {
		_ = json.Unmarshal(a, &ann)
	}
	ann[AnnotationSourceDigest] = string(src)
	raw["annotations"], _ = json.Marshal(ann)
	out, err := json.Marshal(raw)
	return out, true, err
}

// AnnotationSourceDigest is set on an index that a platform filter derived from an
// upstream index: its value is the upstream index's digest.
const AnnotationSourceDigest = "dev.airgapkit.oci.source.digest"
