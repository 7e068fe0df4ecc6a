package oci

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/airgapkit/airgap/store"
)

// The media types of Trivy's databases (ghcr.io/aquasecurity/trivy-db:2,
// trivy-java-db:1): an image manifest with this config and exactly one layer, a gzipped
// tar of the database and its metadata.json.
const (
	MediaTypeTrivyConfig      = "application/vnd.aquasec.trivy.config.v1+json"
	MediaTypeTrivyDBLayer     = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
	MediaTypeTrivyJavaDBLayer = "application/vnd.aquasec.trivy.javadb.layer.v1.tar+gzip"
)

// maxTrivyMetadata caps metadata.json (a few hundred bytes in practice).
const maxTrivyMetadata = 1 << 20

// TrivyMetadata is a Trivy database's metadata.json. Trivy downloads the database again
// once NextUpdate has passed (from the mirror, offline: where the same one waits until
// a newer one is carried across).
type TrivyMetadata struct {
	Version    int       `json:"Version"`
	NextUpdate time.Time `json:"NextUpdate"`
	UpdatedAt  time.Time `json:"UpdatedAt"`
}

// TrivyDB is a Trivy database a mirror holds under Repository:Tag.
type TrivyDB struct {
	Repository, Tag string
	TrivyMetadata
}

// TrivyDBs lists the Trivy databases among the tags ref publishes, with their metadata,
// reading each database layer as far as its metadata.json. A tag that looks like a
// database but whose layer carries no readable metadata is ErrInvalidManifest.
func TrivyDBs(ctx context.Context, s store.Store, ref string) ([]TrivyDB, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	var out []TrivyDB
	for _, im := range Tags(snap) {
		if im.MediaType != MediaTypeOCIManifest {
			continue
		}
		b, err := store.ReadBlob(ctx, s, im.Digest, DefaultMaxManifestSize)
		if err != nil {
			return nil, err
		}
		m, err := ParseManifest(im.MediaType, b)
		if err != nil || m.Config == nil || m.Config.MediaType != MediaTypeTrivyConfig || len(m.Layers) != 1 {
			continue
		}
		if lt := m.Layers[0].MediaType; lt != MediaTypeTrivyDBLayer && lt != MediaTypeTrivyJavaDBLayer {
			continue
		}
		md, err := trivyLayerMetadata(ctx, s, m.Layers[0].Digest)
		if err != nil {
			return nil, fmt.Errorf("oci: trivy database %s:%s: %w", im.Repository, im.Tag, err)
		}
		out = append(out, TrivyDB{Repository: im.Repository, Tag: im.Tag, TrivyMetadata: md})
	}
	return out, nil
}

func trivyLayerMetadata(ctx context.Context, s store.Store, d store.Digest) (TrivyMetadata, error) {
	b, err := s.Open(ctx, d)
	if err != nil {
		return TrivyMetadata{}, err
	}
	defer b.Close()
	return ReadTrivyMetadata(b)
}

// ReadTrivyMetadata reads metadata.json out of a Trivy database layer (a gzipped tar),
// reading no further than that entry.
func ReadTrivyMetadata(r io.Reader) (TrivyMetadata, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return TrivyMetadata{}, fmt.Errorf("%w: trivy database layer: %w", ErrInvalidManifest, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return TrivyMetadata{}, fmt.Errorf("%w: trivy database layer has no metadata.json", ErrInvalidManifest)
		}
		if err != nil {
			return TrivyMetadata{}, fmt.Errorf("%w: trivy database layer: %w", ErrInvalidManifest, err)
		}
		if h.Typeflag != tar.TypeReg || path.Clean(h.Name) != "metadata.json" {
			continue
		}
		var md TrivyMetadata
		if err := json.NewDecoder(io.LimitReader(tr, maxTrivyMetadata)).Decode(&md); err != nil {
			return TrivyMetadata{}, fmt.Errorf("%w: trivy metadata.json: %w", ErrInvalidManifest, err)
		}
		if md.NextUpdate.IsZero() {
			return TrivyMetadata{}, fmt.Errorf("%w: trivy metadata.json has no NextUpdate", ErrInvalidManifest)
		}
		return md, nil
	}
}
