package ocitest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// Media types used by the generated content.
const (
	OCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	OCIIndex       = "application/vnd.oci.image.index.v1+json"
	OCIConfig      = "application/vnd.oci.image.config.v1+json"
	OCILayerGzip   = "application/vnd.oci.image.layer.v1.tar+gzip"
	OCIEmpty       = "application/vnd.oci.empty.v1+json"
	DockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	DockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	DockerConfig   = "application/vnd.docker.container.image.v1+json"
	DockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	CosignSimple   = "application/vnd.dev.cosign.simplesigning.v1+json"
	// OCINondistributable and DockerForeign are layers that registries do not carry:
	// clients fetch them from the descriptor's urls.
	OCINondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
	DockerForeign       = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	// HelmConfig, HelmChart and HelmProvenance are a chart's, as helm push writes it.
	HelmConfig     = "application/vnd.cncf.helm.config.v1+json"
	HelmChart      = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	HelmProvenance = "application/vnd.cncf.helm.chart.provenance.v1.prov"
)

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
}

// Platform is the platform of an index entry.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// Blob is generated content with its digest.
type Blob struct {
	MediaType string
	Digest    string
	Data      []byte
}

func newBlob(mt string, b []byte) Blob {
	sum := sha256.Sum256(b)
	return Blob{MediaType: mt, Digest: "sha256:" + hex.EncodeToString(sum[:]), Data: b}
}

// Descriptor returns the blob's descriptor.
func (b Blob) Descriptor() Descriptor {
	return Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: int64(len(b.Data))}
}

// Manifest is a generated image (or artifact, or index): the manifest bytes plus every
// blob and child manifest it needs.
type Manifest struct {
	Blob
	Blobs    []Blob     // configs and layers
	Children []Manifest // for an index
}

// ImageSpec describes an image to generate.
type ImageSpec struct {
	Seed      uint64 // same seed, same bytes
	Layers    int    // number of layers (at least 1)
	LayerSize int    // uncompressed payload bytes per layer
	OS, Arch  string // default linux/amd64
	Variant   string
	Docker    bool // Docker schema 2 media types instead of OCI
	// Annotations go into the manifest.
	Annotations map[string]string
	// Files, when set, are the first layer's content (path -> bytes) instead of random
	// payload: an image with files a scanner reads.
	Files map[string][]byte
	// Nondistributable adds a last layer of the non-distributable (OCI) or foreign
	// (Docker) kind with urls on an unreachable host. It is not among the Blobs: Push
	// does not upload it, as registries do not hold such layers.
	Nondistributable bool
}

// Image generates a runnable-shaped image: gzip tar layers, a config with their diff_ids.
// Layer payloads are random but seeded, so they do not compress away.
func Image(spec ImageSpec) Manifest {
	if spec.Layers < 1 {
		spec.Layers = 1
	}
	if spec.OS == "" {
		spec.OS = "linux"
	}
	if spec.Arch == "" {
		spec.Arch = "amd64"
	}
	layerMT, configMT, manifestMT := OCILayerGzip, OCIConfig, OCIManifest
	if spec.Docker {
		layerMT, configMT, manifestMT = DockerLayer, DockerConfig, DockerManifest
	}
	rng := rand.New(rand.NewChaCha8(seed32(spec.Seed)))
	var layers []Blob
	var diffIDs []string
	for i := range spec.Layers {
		payload := make([]byte, spec.LayerSize)
		for j := 0; j+8 <= len(payload); j += 8 {
			binary.LittleEndian.PutUint64(payload[j:], rng.Uint64())
		}
		files := map[string][]byte{fmt.Sprintf("layer%d/data-%d.bin", i, spec.Seed): payload}
		if i == 0 && spec.Files != nil {
			files = spec.Files
		}
		tarball := tarOf(files)
		d := sha256.Sum256(tarball)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(d[:]))
		layers = append(layers, newBlob(layerMT, gzipOf(tarball)))
	}
	layerDescs := descriptors(layers)
	if spec.Nondistributable {
		mt := OCINondistributable
		if spec.Docker {
			mt = DockerForeign
		}
		tarball := tarOf(map[string][]byte{fmt.Sprintf("foreign-%d.bin", spec.Seed): []byte("licensed content that stays where it is")})
		d := sha256.Sum256(tarball)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(d[:]))
		fd := newBlob(mt, gzipOf(tarball)).Descriptor()
		fd.URLs = []string{"https://foreign.invalid/layers/" + strings.TrimPrefix(fd.Digest, "sha256:")}
		layerDescs = append(layerDescs, fd)
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": spec.Arch,
		"os":           spec.OS,
		"variant":      spec.Variant,
		"created":      "2024-01-01T00:00:00Z",
		"config":       map[string]any{"Cmd": []string{"/bin/true"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	config := newBlob(configMT, cfg)
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     manifestMT,
		"config":        config.Descriptor(),
		"layers":        layerDescs,
	}
	if len(spec.Annotations) > 0 {
		m["annotations"] = spec.Annotations
	}
	b, _ := json.MarshalIndent(m, "", "   ")
	return Manifest{Blob: newBlob(manifestMT, b), Blobs: append([]Blob{config}, layers...)}
}

// Index generates an index (OCI, or a Docker manifest list) over images, taking each
// entry's platform from the image's config.
func Index(docker bool, images ...Manifest) Manifest {
	mt := OCIIndex
	if docker {
		mt = DockerList
	}
	var entries []Descriptor
	for _, im := range images {
		d := im.Descriptor()
		if len(im.Blobs) > 0 { // an image: its config says the platform; a nested index has none
			var cfg struct {
				OS      string `json:"os"`
				Arch    string `json:"architecture"`
				Variant string `json:"variant"`
			}
			_ = json.Unmarshal(im.Blobs[0].Data, &cfg)
			d.Platform = &Platform{OS: cfg.OS, Architecture: cfg.Arch, Variant: cfg.Variant}
		}
		entries = append(entries, d)
	}
	b, _ := json.MarshalIndent(map[string]any{"schemaVersion": 2, "mediaType": mt, "manifests": entries}, "", "   ")
	return Manifest{Blob: newBlob(mt, b), Children: images}
}

// ArtifactIndex generates an OCI index with an artifactType over manifests, optionally
// referring to a subject (an index referrer, as some SBOM tools write).
func ArtifactIndex(artifactType string, subject *Descriptor, manifests ...Manifest) Manifest {
	entries := make([]Descriptor, len(manifests))
	for i, m := range manifests {
		entries[i] = m.Descriptor()
	}
	idx := map[string]any{"schemaVersion": 2, "mediaType": OCIIndex, "artifactType": artifactType, "manifests": entries}
	if subject != nil {
		idx["subject"] = subject
	}
	b, _ := json.Marshal(idx)
	return Manifest{Blob: newBlob(OCIIndex, b), Children: manifests}
}

// Signature generates a cosign-style simple-signing signature manifest for the image
// with the given digest (to be pushed at tag sha256-<hex>.sig).
func Signature(repo, digest string) Manifest {
	payload, _ := json.Marshal(map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": repo},
			"image":    map[string]string{"docker-manifest-digest": digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	})
	layer := newBlob(CosignSimple, payload)
	config := newBlob(OCIConfig, []byte(`{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":["`+layer.Digest+`"]}}`))
	ld := layer.Descriptor()
	ld.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQDtestsignaturenotreal"}
	b, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": OCIManifest,
		"config": config.Descriptor(), "layers": []Descriptor{ld},
	})
	return Manifest{Blob: newBlob(OCIManifest, b), Blobs: []Blob{config, layer}}
}

// Artifact generates an OCI 1.1 artifact manifest (empty config, artifactType set) with
// one layer of the given media type, optionally referring to a subject.
func Artifact(artifactType, layerType string, data []byte, subject *Descriptor) Manifest {
	empty := newBlob(OCIEmpty, []byte("{}"))
	layer := newBlob(layerType, data)
	m := map[string]any{
		"schemaVersion": 2, "mediaType": OCIManifest, "artifactType": artifactType,
		"config": empty.Descriptor(), "layers": []Descriptor{layer.Descriptor()},
		"annotations": map[string]string{"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
	}
	if subject != nil {
		m["subject"] = subject
	}
	b, _ := json.Marshal(m)
	return Manifest{Blob: newBlob(OCIManifest, b), Blobs: []Blob{empty, layer}}
}

// Chart generates a chart's manifest as helm push writes it: config (its Chart.yaml as
// JSON), the chart archive layer and, when prov is not nil, the provenance layer.
func Chart(config, tgz, prov []byte) Manifest {
	blobs := []Blob{newBlob(HelmConfig, config), newBlob(HelmChart, tgz)}
	if prov != nil {
		blobs = append(blobs, newBlob(HelmProvenance, prov))
	}
	var meta struct{ Name, Version, Description string }
	_ = json.Unmarshal(config, &meta)
	b, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": OCIManifest,
		"config": blobs[0].Descriptor(), "layers": descriptors(blobs[1:]),
		"annotations": map[string]string{
			"org.opencontainers.image.created": "2024-01-01T00:00:00Z", "org.opencontainers.image.title": meta.Name,
			"org.opencontainers.image.version": meta.Version, "org.opencontainers.image.description": meta.Description,
		},
	})
	return Manifest{Blob: newBlob(OCIManifest, b), Blobs: blobs}
}

func descriptors(bs []Blob) []Descriptor {
	out := make([]Descriptor, len(bs))
	for i, b := range bs {
		out[i] = b.Descriptor()
	}
	return out
}

// tarOf returns a tar of regular files, in name order.
func tarOf(files map[string][]byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		data := files[name]
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX})
		_, _ = tw.Write(data)
	}
	_ = tw.Close()
	return buf.Bytes()
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func seed32(s uint64) [32]byte {
	var k [32]byte
	binary.LittleEndian.PutUint64(k[:], s)
	copy(k[8:], "airgap-ocitest-seed-0123")
	return k
}

// FanOut generates an adversarial index: the root lists width child indexes, each listing
// the same width images (which share one config and one layer). With distinct the child
// indexes are width different manifests (width x width descriptors in all); without,
// the root lists one child index width times and it lists one image width times, a few
// hundred KiB that a walker without a visited set expands to width x width visits.
// Children holds each manifest once (Push uploads each once).
func FanOut(width int, distinct bool) Manifest {
	base := Image(ImageSpec{Seed: 900, Layers: 1, LayerSize: 64})
	images := []Manifest{base}
	if distinct {
		images = images[:0]
		for i := range width {
			images = append(images, annotated(base, i))
		}
	}
	leaf := make([]Descriptor, width)
	for i := range leaf {
		leaf[i] = images[i%len(images)].Descriptor()
	}
	var children []Manifest
	for i := range width {
		if i > 0 && !distinct {
			break
		}
		children = append(children, listing(map[string]string{"org.example.fanout": fmt.Sprint(i)}, leaf, images))
	}
	root := make([]Descriptor, width)
	for i := range root {
		root[i] = children[i%len(children)].Descriptor()
	}
	return listing(nil, root, children)
}

// Nested generates a chain of depth manifests: depth-1 indexes, each listing the next,
// and an image at the bottom (Nested(2) is an index of one image).
func Nested(depth int) Manifest {
	m := Image(ImageSpec{Seed: 901, Layers: 1, LayerSize: 64})
	for range depth - 1 {
		m = listing(nil, []Descriptor{m.Descriptor()}, []Manifest{m})
	}
	return m
}

// annotated returns image with an annotation that makes it a manifest of its own
// (config and layers unchanged).
func annotated(image Manifest, i int) Manifest {
	var m map[string]any
	_ = json.Unmarshal(image.Data, &m)
	m["annotations"] = map[string]string{"org.example.copy": fmt.Sprint(i)}
	b, _ := json.Marshal(m)
	return Manifest{Blob: newBlob(image.MediaType, b), Blobs: image.Blobs}
}

// listing returns an OCI index of entries; children are the distinct manifests they name.
func listing(annotations map[string]string, entries []Descriptor, children []Manifest) Manifest {
	idx := map[string]any{"schemaVersion": 2, "mediaType": OCIIndex, "manifests": entries}
	if annotations != nil {
		idx["annotations"] = annotations
	}
	b, _ := json.Marshal(idx)
	return Manifest{Blob: newBlob(OCIIndex, b), Children: children}
}
